//! `entities` and `show`: looking at individual entities and nodes, with their edges
//! and provenance, straight from the indexes.

use std::collections::BTreeSet;

use serde_json::json;

use super::output::new_table;
use super::{Console, Failure, Format};
use crate::model::{NodeId, NodeRecord, Value, ENTITY_KINDS};
use crate::store::{Direction, Store, StoreError};

/// One entity as `entities` reports it.
pub(crate) struct EntityRow {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub aliases: Vec<String>,
    pub events: usize,
}

/// The entities a name (or all names) resolves to, of one kind or all; `Err` names a bad kind.
pub(crate) fn find_entities(store: &Store, kind: Option<&str>, name: Option<&str>) -> Result<Vec<EntityRow>, Failure> {
    if let Some(kind) = kind {
        if !ENTITY_KINDS.contains(&kind) {
            return Err(Failure::Message(format!(
                "unknown kind '{kind}'; expected one of {}",
                ENTITY_KINDS.join(", ")
            )));
        }
    }
    let kinds: Vec<&str> = match kind {
        Some(kind) => vec![kind],
        None => ENTITY_KINDS.to_vec(),
    };
    let ids: Vec<NodeId> = match name {
        Some(name) => store
            .entities_named(name)?
            .into_iter()
            .filter(|(_, k)| kinds.contains(&k.as_str()))
            .map(|(id, _)| id)
            .collect(),
        None => {
            let mut ids = Vec::new();
            for kind in &kinds {
                for id in store.nodes_with_label(kind) {
                    ids.push(id?);
                }
            }
            ids
        }
    };
    let mut rows = Vec::new();
    for id in ids {
        if let Some(record) = store.node(id)? {
            rows.push(entity_row(store, id, &record)?);
        }
    }
    Ok(rows)
}

pub fn entities(
    console: &mut Console,
    store: &Store,
    kind: Option<&str>,
    name: Option<&str>,
    format: Format,
) -> Result<u8, Failure> {
    let rows = find_entities(store, kind, name)?;
    if let Some(name) = name {
        if rows.is_empty() {
            console.eprint_line(&format!(
                "no entity is named '{name}'{}",
                kind.map(|k| format!(" among {k} entities")).unwrap_or_default()
            ));
            return Ok(1);
        }
        if rows.len() > 1 {
            console.eprint_line(&format!("'{name}' is ambiguous: it names {} entities", rows.len()));
        }
    }
    let text = match format {
        Format::Json => {
            let items: Vec<_> = rows
                .iter()
                .map(|r| json!({"id": r.id, "kind": r.kind, "name": r.name, "aliases": r.aliases, "events": r.events}))
                .collect();
            format!("{}\n", serde_json::Value::Array(items))
        }
        Format::Table => {
            let mut table = new_table(&["name", "kind", "id", "aliases", "events"]);
            for r in &rows {
                table.add_row(vec![
                    r.name.clone(),
                    r.kind.clone(),
                    r.id.clone(),
                    r.aliases.join("; "),
                    r.events.to_string(),
                ]);
            }
            format!("{table}\n")
        }
    };
    console.print(&text)?;
    Ok(0)
}

fn entity_row(store: &Store, id: NodeId, record: &NodeRecord) -> Result<EntityRow, StoreError> {
    let text = |key: &str| record.props.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
    let aliases = match record.props.get("aliases") {
        Some(Value::List(list)) => list.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => Vec::new(),
    };
    // Events are the nodes with a role edge into this entity.
    let mut events = BTreeSet::new();
    for adjacent in store.adjacent(id, Direction::In, None) {
        let adjacent = adjacent?;
        if !matches!(adjacent.edge_type.as_str(), "REPRESENTS" | "LOCATED_IN") {
            events.insert(adjacent.other);
        }
    }
    Ok(EntityRow {
        id: text("id"),
        kind: record.labels.first().cloned().unwrap_or_default(),
        name: text("name"),
        aliases,
        events: events.len(),
    })
}

pub fn show(console: &mut Console, store: &Store, key: &str, format: Format) -> Result<u8, Failure> {
    let ids = store.nodes_with_key(key)?;
    if ids.is_empty() {
        console.eprint_line(&format!("error: no node has id '{key}'; `diplograph entities NAME` finds an entity's id"));
        return Ok(1);
    }
    let mut shown = Vec::new();
    for id in ids {
        if let Some(record) = store.node(id)? {
            shown.push(describe_node(store, id, &record)?);
        }
    }
    let text = match format {
        Format::Json => format!("{}\n", serde_json::Value::Array(shown.iter().map(|s| s.json.clone()).collect())),
        Format::Table => shown.iter().map(|s| s.text.clone()).collect::<Vec<_>>().join("\n"),
    };
    console.print(&text)?;
    Ok(0)
}

struct Shown {
    text: String,
    json: serde_json::Value,
}

fn describe_node(store: &Store, id: NodeId, record: &NodeRecord) -> Result<Shown, StoreError> {
    let mut text = format!("({}) {}\n", record.labels.join(":"), record.key().unwrap_or_default());
    for (key, value) in &record.props {
        text.push_str(&format!("  {key}: {}\n", plain(value)));
    }
    let mut edges_json = Vec::new();
    let mut table = new_table(&["direction", "edge", "node", "name", "properties"]);
    for direction in [Direction::Out, Direction::In] {
        for adjacent in store.adjacent(id, direction, None) {
            let adjacent = adjacent?;
            let other = store.node(adjacent.other)?;
            let other_key = other.as_ref().and_then(|n| n.key()).unwrap_or_default().to_string();
            let other_name = other.as_ref().map(display_name).unwrap_or_default();
            let props = store.edge(adjacent.edge)?.map(|e| e.props).unwrap_or_default();
            let arrow = match direction {
                Direction::Out => format!("-[:{}]->", adjacent.edge_type),
                Direction::In => format!("<-[:{}]-", adjacent.edge_type),
            };
            let props_text: Vec<String> = props.iter().map(|(k, v)| format!("{k}: {}", plain(v))).collect();
            table.add_row(vec![
                if direction == Direction::Out { "out" } else { "in" }.to_string(),
                arrow,
                other_key.clone(),
                other_name,
                props_text.join("\n"),
            ]);
            edges_json.push(json!({
                "direction": if direction == Direction::Out { "out" } else { "in" },
                "type": adjacent.edge_type,
                "node": other_key,
                "properties": Value::Map(props).to_json(),
            }));
        }
    }
    text.push_str(&format!("{table}\n"));
    let json = json!({
        "id": record.key(),
        "labels": record.labels,
        "properties": Value::Map(record.props.clone()).to_json(),
        "edges": edges_json,
    });
    Ok(Shown { text, json })
}

/// What to call a node in a listing: an entity's name, an article's title, or for an event
/// its type, date and status (`meeting 2023-09-13 occurred`).
fn display_name(node: &NodeRecord) -> String {
    if let Some(name) = node.props.get("name").or(node.props.get("title")) {
        return plain(name);
    }
    ["type", "date", "status"].iter().filter_map(|key| node.props.get(*key)).map(plain).collect::<Vec<_>>().join(" ")
}

/// A value for people: strings without quotes, lists joined.
fn plain(value: &Value) -> String {
    match value {
        Value::Str(s) => s.clone(),
        Value::List(items) => items.iter().map(plain).collect::<Vec<_>>().join("; "),
        other => other.to_string(),
    }
}
