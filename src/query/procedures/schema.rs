//! Schema procedures, the first things users call on an unknown store: labels,
//! relationship types, property keys, the label-to-label schema, the components and the
//! procedures themselves. Counts come from the maintained statistics; property keys and the
//! schema picture need one pass over the records (there is no token table to read).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::{CallContext, CallError, CallRows, FieldType, Procedure, Registry, Signature};
use crate::model::{NodeId, NodeRecord};
use crate::query::value::QValue;
use crate::store::{LabelBits, Store};

pub fn register(registry: &mut Registry) {
    let list = |item| FieldType::List(Box::new(item));
    let schema = |name: &str, description: &str, run: SchemaFn, outputs: &[(&str, FieldType)]| {
        let mut signature = Signature::new(name, description);
        for (field, ty) in outputs {
            signature = signature.output(field, ty.clone());
        }
        Arc::new(SchemaProcedure { signature, run })
    };
    registry.register(schema(
        "db.labels",
        "The node labels in use, with how many nodes carry each.",
        labels,
        &[("label", FieldType::String), ("nodeCount", FieldType::Integer)],
    ));
    registry.register(schema(
        "db.relationshipTypes",
        "The relationship types in use, with how many relationships have each.",
        relationship_types,
        &[("relationshipType", FieldType::String), ("relationshipCount", FieldType::Integer)],
    ));
    registry.register(schema(
        "db.propertyKeys",
        "The property keys of nodes and relationships (one pass over the records).",
        property_keys,
        &[("propertyKey", FieldType::String)],
    ));
    registry.register(schema(
        "db.schema.visualization",
        "The schema as maps: one per label {label, count}, one per (label, type, label) found in the store {start, type, end, count}.",
        visualization,
        &[("nodes", list(FieldType::Map)), ("relationships", list(FieldType::Map))],
    ));
    registry.register(schema(
        "dbms.components",
        "The database's name, version and edition.",
        components,
        &[("name", FieldType::String), ("versions", list(FieldType::String)), ("edition", FieldType::String)],
    ));
    registry.register(schema(
        "dbms.procedures",
        "Every procedure CALL can run, with its signature.",
        procedures,
        &[
            ("name", FieldType::String),
            ("signature", FieldType::String),
            ("description", FieldType::String),
            ("mode", FieldType::String),
        ],
    ));
}

type SchemaFn = fn(&CallContext<'_>) -> Result<CallRows, CallError>;

/// A procedure without arguments.
struct SchemaProcedure {
    signature: Signature,
    run: SchemaFn,
}

impl Procedure for SchemaProcedure {
    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn call(&self, cx: &CallContext<'_>, _args: &[QValue]) -> Result<CallRows, CallError> {
        (self.run)(cx)
    }
}

fn count(n: u64) -> QValue {
    QValue::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

fn labels(cx: &CallContext<'_>) -> Result<CallRows, CallError> {
    let stats = cx.store.stats()?;
    Ok(stats
        .labels
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(label, n)| vec![QValue::str(label.as_str()), count(*n)])
        .collect())
}

fn relationship_types(cx: &CallContext<'_>) -> Result<CallRows, CallError> {
    let stats = cx.store.stats()?;
    Ok(stats
        .edge_types
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(edge_type, n)| vec![QValue::str(edge_type.as_str()), count(*n)])
        .collect())
}

fn property_keys(cx: &CallContext<'_>) -> Result<CallRows, CallError> {
    let mut keys = BTreeSet::new();
    for item in cx.store.all_node_bytes() {
        let (_, bytes) = item?;
        let record: NodeRecord = crate::store::codec::decode(&bytes, "a node")?;
        keys.extend(record.props.into_keys());
    }
    for item in cx.store.all_edges() {
        let (_, record) = item?;
        keys.extend(record.props.into_keys());
    }
    Ok(keys.into_iter().map(|k| vec![QValue::str(k)]).collect())
}

/// The labels of a node, from the label chunks (read once per chunk and label).
struct LabelLookup<'s> {
    store: &'s Store,
    labels: Vec<String>,
    chunks: FxHashMap<(usize, u64), LabelBits>,
}

impl LabelLookup<'_> {
    fn labels_of(&mut self, id: NodeId) -> Result<Vec<usize>, CallError> {
        let chunk = id / crate::store::page::LABEL_SPAN;
        let mut found = Vec::new();
        for (i, label) in self.labels.iter().enumerate() {
            let bits = match self.chunks.get(&(i, chunk)) {
                Some(bits) => bits,
                None => {
                    let bits = self.store.label_bits(label, chunk)?;
                    self.chunks.entry((i, chunk)).or_insert(bits)
                }
            };
            if bits.contains(id) {
                found.push(i);
            }
        }
        Ok(found)
    }
}

fn visualization(cx: &CallContext<'_>) -> Result<CallRows, CallError> {
    let stats = cx.store.stats()?;
    let labels: Vec<String> = stats.labels.iter().filter(|(_, n)| **n > 0).map(|(l, _)| l.clone()).collect();
    let mut lookup = LabelLookup { store: cx.store, labels: labels.clone(), chunks: FxHashMap::default() };
    let mut triples: BTreeMap<(usize, String, usize), u64> = BTreeMap::new();
    for item in cx.store.all_edges() {
        let (_, edge) = item?;
        let from = lookup.labels_of(edge.src)?;
        let to = lookup.labels_of(edge.dst)?;
        for &a in &from {
            for &b in &to {
                *triples.entry((a, edge.edge_type.clone(), b)).or_default() += 1;
            }
        }
    }
    // Maps, not virtual nodes and relationships: the engine reads a node or an endpoint
    // it is given from the store, where these have no record.
    let nodes: Vec<QValue> = labels
        .iter()
        .map(|label| {
            QValue::Map(BTreeMap::from([
                ("label".to_string(), QValue::str(label.as_str())),
                ("count".to_string(), count(stats.labels[label])),
            ]))
        })
        .collect();
    let rels: Vec<QValue> = triples
        .into_iter()
        .map(|((a, edge_type, b), n)| {
            QValue::Map(BTreeMap::from([
                ("start".to_string(), QValue::str(labels[a].as_str())),
                ("type".to_string(), QValue::str(edge_type)),
                ("end".to_string(), QValue::str(labels[b].as_str())),
                ("count".to_string(), count(n)),
            ]))
        })
        .collect();
    Ok(vec![vec![QValue::List(nodes), QValue::List(rels)]])
}

fn components(_cx: &CallContext<'_>) -> Result<CallRows, CallError> {
    Ok(vec![vec![
        QValue::str("diplograph"),
        QValue::List(vec![QValue::str(env!("CARGO_PKG_VERSION"))]),
        QValue::str("community"),
    ]])
}

fn procedures(cx: &CallContext<'_>) -> Result<CallRows, CallError> {
    Ok(cx
        .registry
        .iter()
        .map(|p| {
            let signature = p.signature();
            vec![
                QValue::str(signature.name.as_str()),
                QValue::str(signature.to_string()),
                QValue::str(signature.description.as_str()),
                QValue::str("READ"),
            ]
        })
        .collect())
}
