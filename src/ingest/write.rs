//! Writing: turns a resolved article into nodes and edges inside the open transaction —
//! entities (new or enriched), affiliations, the article, events and their provenance.

use std::collections::{BTreeMap, HashSet};

use super::fulfil;
use super::resolve::{ResolvedArticle, ResolvedEntity, Target};
use crate::model::{NodeId, NodeRecord, Properties, Value};
use crate::ontology::Ontology;
use crate::store::{Direction, StoreError, WriteTxn};

/// What one article changed, for the summary line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteCounts {
    pub articles_added: u64,
    pub articles_replaced: u64,
    pub events_added: u64,
    pub events_merged: u64,
    pub events_removed: u64,
    pub entities_added: u64,
    pub entities_merged: u64,
}

impl std::ops::AddAssign for WriteCounts {
    fn add_assign(&mut self, other: Self) {
        self.articles_added += other.articles_added;
        self.articles_replaced += other.articles_replaced;
        self.events_added += other.events_added;
        self.events_merged += other.events_merged;
        self.events_removed += other.events_removed;
        self.entities_added += other.entities_added;
        self.entities_merged += other.entities_merged;
    }
}

/// Writes one resolved article. A stored article with the same id is replaced first. The
/// derived FULFILLED_BY links of every plan it may change are brought up to date.
pub fn write_article(
    resolved: &ResolvedArticle,
    ontology: &Ontology,
    txn: &mut WriteTxn<'_>,
    plans: &mut fulfil::PlanIndex,
) -> Result<WriteCounts, StoreError> {
    let mut pending = fulfil::Pending::default();
    let counts = write_article_noting(resolved, ontology, txn, &mut pending)?;
    fulfil::refresh(txn, &pending, plans)?;
    Ok(counts)
}

fn write_article_noting(
    resolved: &ResolvedArticle,
    ontology: &Ontology,
    txn: &mut WriteTxn<'_>,
    pending: &mut fulfil::Pending,
) -> Result<WriteCounts, StoreError> {
    let mut counts = WriteCounts::default();
    let meta = &resolved.record.article;
    let removed = remove_article_noting(txn, &meta.id, pending)?;
    if let Some(events_removed) = removed {
        counts.articles_replaced = 1;
        counts.events_removed = events_removed;
    } else {
        counts.articles_added = 1;
    }
    let mut node_of = Vec::with_capacity(resolved.entities.len());
    for entity in &resolved.entities {
        let id = write_entity(txn, entity, &mut counts)?;
        node_of.push(id);
    }
    for (entity, &node) in resolved.entities.iter().zip(&node_of) {
        if let Some(country) = entity.country {
            let edge_type = if entity.kind == "Place" { "LOCATED_IN" } else { "REPRESENTS" };
            let mut props = Properties::new();
            if edge_type == "REPRESENTS" {
                if let Some(title) = &entity.title {
                    props.insert("title".into(), Value::Str(title.clone()));
                }
            }
            ensure_edge(txn, edge_type, node, node_of[country], props)?;
        }
    }
    let article =
        txn.create_node(NodeRecord { labels: vec!["Article".into()], props: article_props(resolved) }, None)?;
    let mut reported = HashSet::new();
    let (mut new_events, mut merged_events) = (Vec::new(), Vec::new());
    for fact in &resolved.facts {
        let event = match find_node(txn, &fact.event_key, "Event")? {
            Some(event) => {
                counts.events_merged += 1;
                add_source_ids(txn, event, &fact.source_ids)?;
                merged_events.push(event);
                event
            }
            None => {
                counts.events_added += 1;
                let label = ontology.event_type(&fact.event_type).map(|t| t.label.clone()).unwrap_or_default();
                let mut props = Properties::new();
                props.insert("id".into(), Value::Str(fact.event_key.clone()));
                props.insert("type".into(), Value::Str(fact.event_type.clone()));
                if let Some(date) = &fact.date {
                    props.insert("date".into(), Value::Str(date.clone()));
                }
                props.insert("status".into(), Value::Str(fact.status.clone()));
                let mut source_ids = fact.source_ids.clone();
                source_ids.sort();
                source_ids.dedup();
                if !source_ids.is_empty() {
                    props
                        .insert("source_ids".into(), Value::List(source_ids.iter().cloned().map(Value::Str).collect()));
                }
                let event = txn.create_node(NodeRecord { labels: vec!["Event".into(), label], props }, None)?;
                for source_id in &source_ids {
                    txn.set_source_id(source_id, event);
                }
                for (edge_type, fillers) in &fact.roles {
                    for &filler in fillers {
                        txn.create_edge(edge_type, event, node_of[filler], Properties::new())?;
                    }
                }
                new_events.push(event);
                event
            }
        };
        if reported.insert(event) {
            let mut props = Properties::new();
            if let Some(evidence) = &fact.evidence {
                props.insert("evidence".into(), Value::Str(evidence.clone()));
            }
            if let Some(according_to) = &fact.according_to {
                props.insert("according_to".into(), Value::Str(according_to.clone()));
            }
            if let Some(confidence) = fact.confidence {
                props.insert("confidence".into(), Value::Float(confidence));
            }
            txn.create_edge("REPORTED_IN", event, article, props)?;
        }
    }
    // After the reports: an undated plan counts from its earliest report.
    for event in new_events {
        pending.new_event(txn, event)?;
    }
    for event in merged_events {
        pending.reports_changed(txn, event)?;
    }
    Ok(counts)
}

/// Adds source ids an existing event does not list yet, and points them at it.
fn add_source_ids(txn: &mut WriteTxn<'_>, event: NodeId, ids: &[String]) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    let Some(mut record) = txn.node(event)? else {
        return Err(StoreError::Corrupt(format!("the id index points at missing event {event}")));
    };
    let mut known = crate::store::source_ids_of(&record);
    let before = known.len();
    for id in ids {
        if !known.contains(id) {
            known.push(id.clone());
        }
        if txn.source_id_node(id)? != Some(event) {
            txn.set_source_id(id, event);
        }
    }
    if known.len() > before {
        known.sort();
        record.props.insert("source_ids".into(), Value::List(known.into_iter().map(Value::Str).collect()));
        txn.update_event(event, record)?;
    }
    Ok(())
}

/// Removes a stored article: its REPORTED_IN edges, every event left with no report,
/// and the article node; then the FULFILLED_BY links that change with them. Returns the
/// number of events removed, `None` if absent.
pub fn remove_article(txn: &mut WriteTxn<'_>, article_id: &str) -> Result<Option<u64>, StoreError> {
    let mut pending = fulfil::Pending::default();
    let removed = remove_article_noting(txn, article_id, &mut pending)?;
    fulfil::refresh(txn, &pending, &mut fulfil::PlanIndex::default())?;
    Ok(removed)
}

/// `remove_article` without the refresh: what may change links goes to `pending`.
fn remove_article_noting(
    txn: &mut WriteTxn<'_>,
    article_id: &str,
    pending: &mut fulfil::Pending,
) -> Result<Option<u64>, StoreError> {
    let Some(article) = find_node(txn, article_id, "Article")? else { return Ok(None) };
    let mut removed = 0;
    for report in txn.adjacent(article, Direction::In, Some("REPORTED_IN"))? {
        txn.delete_edge(report.edge)?;
        if txn.adjacent(report.other, Direction::Out, Some("REPORTED_IN"))?.is_empty() {
            pending.removing_event(txn, report.other)?;
            txn.delete_node(report.other)?;
            removed += 1;
        } else {
            pending.reports_changed(txn, report.other)?;
        }
    }
    txn.delete_node(article)?;
    Ok(Some(removed))
}

fn find_node(txn: &WriteTxn<'_>, key: &str, label: &str) -> Result<Option<NodeId>, StoreError> {
    for id in txn.nodes_with_key(key)? {
        if txn.with_node(id, |n| n.is_some_and(|n| n.has_label(label)))? {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

fn write_entity(
    txn: &mut WriteTxn<'_>,
    entity: &ResolvedEntity,
    counts: &mut WriteCounts,
) -> Result<NodeId, StoreError> {
    match entity.target {
        Target::New => {
            counts.entities_added += 1;
            let mut props = Properties::new();
            props.insert("id".into(), Value::Str(entity.key.clone()));
            props.insert("name".into(), Value::Str(entity.name.clone()));
            props.insert("aliases".into(), Value::List(entity.aliases.iter().cloned().map(Value::Str).collect()));
            if let Some(title) = &entity.title {
                props.insert("title".into(), Value::Str(title.clone()));
            }
            txn.create_node(NodeRecord { labels: vec![entity.kind.clone()], props }, Some(&entity.kind))
        }
        Target::Existing(id) => {
            counts.entities_merged += 1;
            let unchanged = txn.with_node(id, |record| {
                record.map(|record| {
                    let known = |alias: &String| {
                        let value = Value::Str(alias.clone());
                        record.props.get("name") == Some(&value)
                            || matches!(record.props.get("aliases"), Some(Value::List(list)) if list.contains(&value))
                    };
                    entity.aliases.iter().all(known) && (entity.title.is_none() || record.props.contains_key("title"))
                })
            })?;
            match unchanged {
                None => return Err(StoreError::Corrupt(format!("the name index points at missing node {id}"))),
                Some(true) => return Ok(id),
                Some(false) => {}
            }
            let Some(mut record) = txn.node(id)? else {
                return Err(StoreError::Corrupt(format!("the name index points at missing node {id}")));
            };
            let mut changed = false;
            let mut aliases = match record.props.get("aliases") {
                Some(Value::List(list)) => list.clone(),
                _ => Vec::new(),
            };
            for alias in &entity.aliases {
                let value = Value::Str(alias.clone());
                if !aliases.contains(&value) && record.props.get("name") != Some(&value) {
                    aliases.push(value);
                    changed = true;
                }
            }
            if let (None, Some(title)) = (record.props.get("title"), &entity.title) {
                record.props.insert("title".into(), Value::Str(title.clone()));
                changed = true;
            }
            if changed {
                record.props.insert("aliases".into(), Value::List(aliases));
                txn.update_entity(id, record, &entity.kind)?;
            }
            Ok(id)
        }
    }
}

/// One edge of `edge_type` from `src` to `dst`, however often it is declared.
fn ensure_edge(
    txn: &mut WriteTxn<'_>,
    edge_type: &str,
    src: NodeId,
    dst: NodeId,
    props: Properties,
) -> Result<(), StoreError> {
    if txn.adjacent(src, Direction::Out, Some(edge_type))?.iter().all(|a| a.other != dst) {
        txn.create_edge(edge_type, src, dst, props)?;
    }
    Ok(())
}

fn article_props(resolved: &ResolvedArticle) -> Properties {
    let meta = &resolved.record.article;
    let fields = [
        ("id", Some(&meta.id)),
        ("url", meta.url.as_ref()),
        ("outlet", meta.outlet.as_ref()),
        ("published", Some(&meta.published)),
        ("language", meta.language.as_ref()),
        ("title", meta.title.as_ref()),
    ];
    // An absent field is no property at all: Cypher reads a missing property as null.
    fields
        .into_iter()
        .filter_map(|(key, value)| value.map(|v| (key.to_string(), Value::Str(v.clone()))))
        .collect::<BTreeMap<_, _>>()
}
