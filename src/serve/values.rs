//! Result values as JSON shaped like Neo4j's: nodes `{elementId, labels, properties}`,
//! relationships `{elementId, type, startNodeElementId, endNodeElementId, properties}`,
//! paths `{nodes, relationships}`; and the deduplicated graph of the elements in rows.

use std::collections::HashSet;

use serde_json::{json, Map, Value as Json};

use crate::model::{EdgeId, NodeId, NodeRecord, Properties};
use crate::query::value::{NodeValue, QValue, RelValue};

/// A node's element id: `n:` and its internal number (stable for the store's life).
pub fn node_element_id(id: NodeId) -> String {
    format!("n:{id}")
}

pub fn rel_element_id(id: EdgeId) -> String {
    format!("r:{id}")
}

fn props_json(props: &Properties) -> Json {
    Json::Object(props.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
}

/// A stored node as the API shows it.
pub fn node_json(id: NodeId, record: &NodeRecord) -> Json {
    json!({"elementId": node_element_id(id), "labels": record.labels, "properties": props_json(&record.props)})
}

/// A stored relationship as the API shows it.
pub fn rel_json(id: EdgeId, record: &crate::model::EdgeRecord) -> Json {
    json!({
        "elementId": rel_element_id(id),
        "type": record.edge_type,
        "startNodeElementId": node_element_id(record.src),
        "endNodeElementId": node_element_id(record.dst),
        "properties": props_json(&record.props),
    })
}

fn node_value_json(node: &NodeValue) -> Json {
    node_json(node.id, &node.record)
}

fn rel_value_json(rel: &RelValue) -> Json {
    rel_json(rel.id, &rel.record)
}

/// One result value.
pub fn value_json(value: &QValue) -> Json {
    match value {
        QValue::Node(node) => node_value_json(node),
        QValue::Relationship(rel) => rel_value_json(rel),
        QValue::Path(path) => json!({
            "nodes": path.nodes.iter().map(node_value_json).collect::<Vec<_>>(),
            "relationships": path.rels.iter().map(rel_value_json).collect::<Vec<_>>(),
        }),
        QValue::List(items) => Json::Array(items.iter().map(value_json).collect()),
        QValue::Map(map) => Json::Object(map.iter().map(|(k, v)| (k.clone(), value_json(v))).collect()),
        scalar => scalar.to_json(),
    }
}

/// The nodes and relationships met in rows, each once, in order of first appearance.
#[derive(Default)]
pub struct GraphCollector {
    seen_nodes: HashSet<NodeId>,
    seen_rels: HashSet<EdgeId>,
    nodes: Vec<Json>,
    relationships: Vec<Json>,
}

impl GraphCollector {
    pub fn add(&mut self, value: &QValue) {
        match value {
            QValue::Node(node) => self.add_node(node),
            QValue::Relationship(rel) => self.add_rel(rel),
            QValue::Path(path) => {
                path.nodes.iter().for_each(|n| self.add_node(n));
                path.rels.iter().for_each(|r| self.add_rel(r));
            }
            QValue::List(items) => items.iter().for_each(|v| self.add(v)),
            QValue::Map(map) => map.values().for_each(|v| self.add(v)),
            _ => {}
        }
    }

    fn add_node(&mut self, node: &NodeValue) {
        if self.seen_nodes.insert(node.id) {
            self.nodes.push(node_value_json(node));
        }
    }

    fn add_rel(&mut self, rel: &RelValue) {
        if self.seen_rels.insert(rel.id) {
            self.relationships.push(rel_value_json(rel));
        }
    }

    /// Adds a stored node, unless it is already there.
    pub fn add_stored_node(&mut self, id: NodeId, record: &NodeRecord) {
        if self.seen_nodes.insert(id) {
            self.nodes.push(node_json(id, record));
        }
    }

    pub fn add_stored_rel(&mut self, id: EdgeId, record: &crate::model::EdgeRecord) {
        if self.seen_rels.insert(id) {
            self.relationships.push(rel_json(id, record));
        }
    }

    pub fn into_json(self) -> Json {
        let mut graph = Map::new();
        graph.insert("nodes".into(), Json::Array(self.nodes));
        graph.insert("relationships".into(), Json::Array(self.relationships));
        Json::Object(graph)
    }
}
