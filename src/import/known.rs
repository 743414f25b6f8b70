//! Events imported in an earlier run, read back as facts: a later file's mention of
//! `gdelt:1256322925` finds its event through the store's source-id index and reports it
//! again. Reads the store (nodes, adjacency, the source-id index) and never writes it.

use super::article::{Entity, Fact};
use crate::model::{NodeId, NodeRecord, Value};
use crate::ontology::Ontology;
use crate::store::{Direction, Store, StoreError};

/// The fact of the stored event a source id points at, or `None` when no event has it.
pub fn stored_fact(store: &Store, ontology: &Ontology, source_id: &str) -> Result<Option<Fact>, StoreError> {
    let Some(event) = store.source_id_node(source_id)? else { return Ok(None) };
    let Some(record) = store.node(event)? else { return Ok(None) };
    let text = |key: &str| record.props.get(key).and_then(Value::as_str).map(str::to_string);
    let (Some(type_name), Some(status)) = (text("type"), text("status")) else { return Ok(None) };
    let Some(event_type) = ontology.event_type(&type_name) else { return Ok(None) };
    let mut roles: Vec<(String, Vec<Entity>)> =
        event_type.roles.iter().map(|r| (r.field.clone(), Vec::new())).collect();
    for adjacent in store.adjacent(event, Direction::Out, None) {
        let adjacent = adjacent?;
        let Some(at) = event_type.roles.iter().position(|r| r.edge == adjacent.edge_type) else { continue };
        if let Some(entity) = stored_entity(store, adjacent.other)? {
            roles[at].1.push(entity);
        }
    }
    Ok(Some(Fact {
        event_type: type_name,
        status,
        roles,
        date: text("date"),
        confidence: None,
        evidence: Vec::new(),
        according_to: String::new(),
        source_ids: vec![source_id.to_string()],
    }))
}

/// An entity node as the fact names it: kind, name and (for a person or place) its country.
fn stored_entity(store: &Store, id: NodeId) -> Result<Option<Entity>, StoreError> {
    let Some(record) = store.node(id)? else { return Ok(None) };
    let Some((kind, name)) = kind_and_name(&record) else { return Ok(None) };
    let mut entity = Entity::new(kind, name);
    let affiliation = if kind == "Place" { "LOCATED_IN" } else { "REPRESENTS" };
    if let Some(edge) = store.adjacent(id, Direction::Out, Some(affiliation)).next() {
        let country = store.node(edge?.other)?;
        if let Some((_, name)) = country.as_ref().and_then(kind_and_name) {
            entity.country = Some(Box::new(Entity::new("Country", name)));
        }
    }
    Ok(Some(entity))
}

fn kind_and_name(record: &NodeRecord) -> Option<(&'static str, String)> {
    let kind = crate::model::ENTITY_KINDS.iter().find(|k| record.has_label(k))?;
    let name = record.props.get("name").and_then(Value::as_str)?;
    Some((*kind, name.to_string()))
}
