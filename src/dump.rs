//! `dump` and `restore`: the whole store as an article batch (contract §1) and back, so a
//! store can move between versions and machines and its data can always be got out.
//!
//! A dump is JSON Lines in the input format, in four parts:
//!
//! 1. *entities* records: every entity, declared by kind, canonical name and title only, so
//!    each is created under exactly its stored name and id (aliases could otherwise make a
//!    new name resolve to an older entity);
//! 2. *aliases* records: every entity again with its aliases, in stored order;
//! 3. *affiliations* records: one declaration per REPRESENTS / LOCATED_IN edge, with the
//!    country's canonical name and the edge's own `title` (an entity with two countries
//!    appears in two records, as a record holds one country per entity);
//! 4. one record per Article node, in store order: its metadata, the entities its facts use
//!    (`ref` = the entity's stable id, so facts never rely on name resolution; with aliases,
//!    title and first country, which change nothing on restore but keep each record
//!    self-describing) and one fact per REPORTED_IN edge, rebuilt from the event and the
//!    report's evidence.
//!
//! Parts 1–3 are scaffolding records whose article id starts with `RESERVED_ID_PREFIX`;
//! `restore` ingests the whole file into an empty store with the normal `Ingester` and then
//! removes those scaffolding articles, which leaves the entities they declared.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::{BufRead, Write};

use serde::Serialize;
use serde_json::Value as Json;

use crate::ingest::resolve::entity_key;
use crate::ingest::{self, Diagnostic, IngestError, IngestSummary, Ingester};
use crate::model::{normalize_name, EdgeRecord, NodeId, NodeRecord, Properties, Value, ENTITY_KINDS};
use crate::ontology::Ontology;
use crate::store::{Direction, Store, StoreError};

/// Article ids of the scaffolding records start with this; no stored article may.
pub const RESERVED_ID_PREFIX: &str = "diplograph-dump:";
/// The `published` date of scaffolding records (the contract requires one).
const SCAFFOLDING_PUBLISHED: &str = "1970-01-01";
/// Entity declarations per scaffolding record, far below the 16 MiB record limit.
const ENTITIES_PER_RECORD: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the dump: {0}")]
    Io(#[from] std::io::Error),
    /// The store holds something the article-batch format cannot say exactly.
    #[error("cannot dump {0}")]
    Unrepresentable(String),
}

/// What a dump wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DumpSummary {
    /// Lines written: scaffolding records plus article records.
    pub records: u64,
    pub articles: u64,
    pub entities: u64,
    /// Distinct events written (as facts of the articles that report them).
    pub events: u64,
    /// Facts written: one per REPORTED_IN edge.
    pub reports: u64,
    /// Events in the store that no article reports: they cannot be dumped (`check` reports them).
    pub unreported_events: u64,
}

impl fmt::Display for DumpSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "dumped {} articles, {} events ({} reports), {} entities in {} records",
            self.articles, self.events, self.reports, self.entities, self.records
        )
    }
}

/// Writes the whole store to `out` as an article batch.
pub fn dump_store(store: &Store, ontology: &Ontology, out: &mut dyn Write) -> Result<DumpSummary, DumpError> {
    let mut dumper =
        Dumper { store, ontology, out, summary: DumpSummary::default(), scaffolding: 0, countries: HashMap::new() };
    dumper.entities()?;
    dumper.aliases()?;
    dumper.affiliations()?;
    dumper.articles()?;
    let stored_events = store.stats()?.labels.get("Event").copied().unwrap_or(0);
    dumper.summary.unreported_events = stored_events.saturating_sub(dumper.summary.events);
    dumper.out.flush()?;
    Ok(dumper.summary)
}

/// An entity as stored, read for the dump.
struct Entity {
    id: NodeId,
    kind: String,
    key: String,
    name: String,
    aliases: Vec<String>,
    title: Option<String>,
}

/// One entry of a record's `entities`.
#[derive(Serialize)]
struct Declaration<'a> {
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    local_ref: Option<&'a str>,
    kind: &'a str,
    name: &'a str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    aliases: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    country: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
}

impl<'a> Declaration<'a> {
    fn bare(entity: &'a Entity) -> Self {
        Declaration {
            local_ref: None,
            kind: &entity.kind,
            name: &entity.name,
            aliases: &[],
            country: None,
            title: None,
        }
    }
}

/// One line of the dump. Written by hand rather than derived, so a confidence can be
/// written with the exact digits `exact_number` chose.
struct Record<'a> {
    article: Fields,
    entities: Vec<Declaration<'a>>,
    facts: Vec<Fields>,
}

impl Record<'_> {
    fn to_json_line(&self) -> Result<String, serde_json::Error> {
        let mut line = String::from("{\"article\":");
        self.article.write_json(&mut line)?;
        line.push_str(",\"entities\":");
        line.push_str(&serde_json::to_string(&self.entities)?);
        if !self.facts.is_empty() {
            line.push_str(",\"facts\":[");
            for (i, fact) in self.facts.iter().enumerate() {
                if i > 0 {
                    line.push(',');
                }
                fact.write_json(&mut line)?;
            }
            line.push(']');
        }
        line.push_str("}\n");
        Ok(line)
    }
}

/// A JSON object whose fields keep the order they were pushed in.
#[derive(Default)]
struct Fields(Vec<(String, FieldValue)>);

enum FieldValue {
    Json(Json),
    /// A number as JSON text, written verbatim.
    Number(String),
}

impl Fields {
    fn push(&mut self, name: &str, value: impl Into<Json>) {
        self.0.push((name.to_string(), FieldValue::Json(value.into())));
    }

    fn push_number(&mut self, name: &str, text: String) {
        self.0.push((name.to_string(), FieldValue::Number(text)));
    }

    fn write_json(&self, out: &mut String) -> Result<(), serde_json::Error> {
        out.push('{');
        for (i, (name, value)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&serde_json::to_string(name)?);
            out.push(':');
            match value {
                FieldValue::Json(json) => out.push_str(&serde_json::to_string(json)?),
                FieldValue::Number(text) => out.push_str(text),
            }
        }
        out.push('}');
        Ok(())
    }
}

struct Dumper<'a> {
    store: &'a Store,
    ontology: &'a Ontology,
    out: &'a mut dyn Write,
    summary: DumpSummary,
    /// Scaffolding records written so far (numbers their ids).
    scaffolding: u64,
    /// Each entity's first country (by REPRESENTS or LOCATED_IN), once looked up.
    countries: HashMap<NodeId, Option<Entity>>,
}

impl Dumper<'_> {
    /// Part 1: every entity by kind, canonical name and title.
    fn entities(&mut self) -> Result<(), DumpError> {
        self.summary.entities = self.entity_part(
            "entities",
            |_| true,
            |e| Declaration { title: e.title.as_deref(), ..Declaration::bare(e) },
        )?;
        Ok(())
    }

    /// Part 2: every entity with aliases, by canonical name, with its aliases in stored order.
    fn aliases(&mut self) -> Result<(), DumpError> {
        self.entity_part(
            "aliases",
            |e| !e.aliases.is_empty(),
            |e| Declaration { aliases: &e.aliases, ..Declaration::bare(e) },
        )?;
        Ok(())
    }

    /// Writes the entities `include` picks, kind by kind in node order, as scaffolding
    /// records of `part`, each entity declared as `declare` says. Returns the number of
    /// entities in the store.
    fn entity_part<F>(&mut self, part: &str, include: fn(&Entity) -> bool, declare: F) -> Result<u64, DumpError>
    where
        F: for<'e> Fn(&'e Entity) -> Declaration<'e> + Copy,
    {
        let (mut chunk, mut seen) = (Vec::new(), 0);
        for kind in ENTITY_KINDS {
            for id in self.store.nodes_with_label(kind) {
                let entity = self.entity(id?)?;
                seen += 1;
                if include(&entity) {
                    chunk.push(entity);
                }
                if chunk.len() == ENTITIES_PER_RECORD {
                    self.write_scaffolding(part, &std::mem::take(&mut chunk), declare)?;
                }
            }
        }
        self.write_scaffolding(part, &chunk, declare)?;
        Ok(seen)
    }

    /// Part 3: round `r` declares the `r`-th affiliation edge of every entity that has one.
    fn affiliations(&mut self) -> Result<(), DumpError> {
        for round in 0.. {
            let mut chunk: Vec<(Entity, String, Option<String>)> = Vec::new();
            let mut more = false;
            for kind in ["Person", "Organization", "Place"] {
                for id in self.store.nodes_with_label(kind) {
                    let id = id?;
                    let edges = self.affiliation_edges(id)?;
                    let Some(edge) = edges.get(round) else {
                        continue;
                    };
                    more |= edges.len() > round + 1;
                    let country = self.entity(edge.dst)?.name;
                    let title = self.affiliation_title(edge)?;
                    chunk.push((self.entity(id)?, country, title));
                    if chunk.len() == ENTITIES_PER_RECORD {
                        self.write_affiliations(&std::mem::take(&mut chunk))?;
                    }
                }
            }
            self.write_affiliations(&chunk)?;
            if !more {
                break;
            }
        }
        Ok(())
    }

    fn write_affiliations(&mut self, chunk: &[(Entity, String, Option<String>)]) -> Result<(), DumpError> {
        let declarations = chunk
            .iter()
            .map(|(e, country, title)| Declaration {
                country: Some(country),
                title: title.as_deref(),
                ..Declaration::bare(e)
            })
            .collect();
        self.write_scaffolding_declarations("affiliations", declarations)
    }

    /// An entity's REPRESENTS and LOCATED_IN edges, in creation order.
    fn affiliation_edges(&self, id: NodeId) -> Result<Vec<EdgeRecord>, DumpError> {
        let mut edges = Vec::new();
        for edge_type in ["REPRESENTS", "LOCATED_IN"] {
            for adjacent in self.store.adjacent(id, Direction::Out, Some(edge_type)) {
                let adjacent = adjacent?;
                edges.push((adjacent.edge, self.edge(adjacent.edge)?));
            }
        }
        edges.sort_by_key(|(edge, _)| *edge);
        Ok(edges.into_iter().map(|(_, record)| record).collect())
    }

    fn affiliation_title(&self, edge: &EdgeRecord) -> Result<Option<String>, DumpError> {
        let allowed: &[&str] = if edge.edge_type == "REPRESENTS" { &["title"] } else { &[] };
        only_properties(&edge.props, allowed, || format!("a {} edge from node {}", edge.edge_type, edge.src))?;
        string_property(&edge.props, "title", || format!("a {} edge from node {}", edge.edge_type, edge.src))
    }

    fn write_scaffolding<F>(&mut self, part: &str, chunk: &[Entity], declare: F) -> Result<(), DumpError>
    where
        F: for<'e> Fn(&'e Entity) -> Declaration<'e>,
    {
        let declarations = chunk.iter().map(declare).collect();
        self.write_scaffolding_declarations(part, declarations)
    }

    fn write_scaffolding_declarations(&mut self, part: &str, entities: Vec<Declaration<'_>>) -> Result<(), DumpError> {
        if entities.is_empty() {
            return Ok(());
        }
        self.scaffolding += 1;
        let mut article = Fields::default();
        article.push("id", format!("{RESERVED_ID_PREFIX}{part}:{}", self.scaffolding));
        article.push("published", SCAFFOLDING_PUBLISHED);
        article.push(
            "title",
            format!("diplograph dump scaffolding ({part}), not an article: `diplograph restore` removes it"),
        );
        self.write_record(&Record { article, entities, facts: Vec::new() })
    }

    /// Part 4: one record per article, with one fact per report.
    fn articles(&mut self) -> Result<(), DumpError> {
        let mut events_seen = HashSet::new();
        for id in self.store.nodes_with_label("Article") {
            let id = id?;
            let record = self.node(id)?;
            let article = article_fields(id, &record)?;
            let mut used: Vec<Entity> = Vec::new();
            let mut facts = Vec::new();
            for report in self.store.adjacent(id, Direction::In, Some("REPORTED_IN")) {
                let report = report?;
                let edge = self.edge(report.edge)?;
                facts.push(self.fact(report.other, &edge, &mut used)?);
                events_seen.insert(report.other);
                self.summary.reports += 1;
            }
            let mut countries = Vec::with_capacity(used.len());
            for entity in &used {
                countries.push(self.safe_country(entity, &used)?);
            }
            let entities = used
                .iter()
                .zip(&countries)
                .map(|(e, country)| Declaration {
                    local_ref: Some(&e.key),
                    aliases: &e.aliases,
                    country: country.as_deref(),
                    title: e.title.as_deref(),
                    ..Declaration::bare(e)
                })
                .collect();
            self.write_record(&Record { article, entities, facts })?;
            self.summary.articles += 1;
        }
        self.summary.events = u64::try_from(events_seen.len()).unwrap_or(u64::MAX);
        Ok(())
    }

    /// The name of `entity`'s first country, for its declaration in an article record: it
    /// names an affiliation the entities part already made, so re-declaring it changes
    /// nothing, and it keeps article records self-describing. Left out when another Country
    /// declared in the same record also answers to that name (the name would then resolve
    /// to the wrong country, or be ambiguous).
    fn safe_country(&mut self, entity: &Entity, declared: &[Entity]) -> Result<Option<String>, DumpError> {
        if !self.countries.contains_key(&entity.id) {
            let country = match self.affiliation_edges(entity.id)?.first() {
                Some(edge) => Some(self.entity(edge.dst)?),
                None => None,
            };
            self.countries.insert(entity.id, country);
        }
        let Some(Some(country)) = self.countries.get(&entity.id) else {
            return Ok(None);
        };
        let name = normalize_name(&country.name);
        let clash = declared.iter().any(|other| {
            other.kind == "Country"
                && other.key != country.key
                && std::iter::once(&other.name).chain(&other.aliases).any(|n| normalize_name(n) == name)
        });
        Ok((!clash).then(|| country.name.clone()))
    }

    /// The fact that reports `event` with the evidence of one REPORTED_IN edge; the role
    /// fillers it names are added to `used` (declared by the record, used by `ref`).
    fn fact(&self, event: NodeId, report: &EdgeRecord, used: &mut Vec<Entity>) -> Result<Fields, DumpError> {
        let record = self.node(event)?;
        let what = || format!("event node {event} ({})", record.key().unwrap_or("no id"));
        only_properties(&record.props, &["id", "type", "date", "status", "source_ids"], what)?;
        let type_name = string_property(&record.props, "type", what)?
            .ok_or_else(|| DumpError::Unrepresentable(format!("{}: no `type`", what())))?;
        let Some(event_type) = self.ontology.event_type(&type_name) else {
            return Err(DumpError::Unrepresentable(format!(
                "{}: this build's ontology has no event type '{type_name}'",
                what()
            )));
        };
        let mut fillers: Vec<Vec<String>> = vec![Vec::new(); event_type.roles.len()];
        for adjacent in self.store.adjacent(event, Direction::Out, None) {
            let adjacent = adjacent?;
            // Provenance is the fact's own report; FULFILLED_BY is derived again on restore.
            if adjacent.edge_type == "REPORTED_IN" || adjacent.edge_type == crate::ingest::fulfil::FULFILLED_BY {
                continue;
            }
            let Some(role) = event_type.roles.iter().position(|r| r.edge == adjacent.edge_type) else {
                return Err(DumpError::Unrepresentable(format!(
                    "{}: a {type_name} has no role with {} edges",
                    what(),
                    adjacent.edge_type
                )));
            };
            let entity = self.entity(adjacent.other)?;
            fillers[role].push(entity.key.clone());
            if !used.iter().any(|e| e.key == entity.key) {
                used.push(entity);
            }
        }
        let mut fact = Fields::default();
        fact.push("type", type_name.clone());
        for (role, values) in event_type.roles.iter().zip(fillers) {
            match values.as_slice() {
                [] => {}
                [only] if role.max == Some(1) => fact.push(&role.field, only.clone()),
                _ => fact.push(&role.field, values),
            }
        }
        if let Some(date) = string_property(&record.props, "date", what)? {
            fact.push("date", date);
        }
        if let Some(status) = string_property(&record.props, "status", what)? {
            fact.push("status", status);
        }
        // Every report carries the event's source ids; restore unions them (idempotent).
        let source_ids = crate::store::source_ids_of(&record);
        if !source_ids.is_empty() {
            fact.push("source_ids", source_ids);
        }
        let report_what = || format!("the REPORTED_IN edge from {}", what());
        only_properties(&report.props, &["evidence", "according_to", "confidence"], report_what)?;
        for field in ["evidence", "according_to"] {
            if let Some(text) = string_property(&report.props, field, report_what)? {
                fact.push(field, text);
            }
        }
        match report.props.get("confidence") {
            None => {}
            Some(Value::Float(confidence)) => fact.push_number("confidence", exact_number(*confidence)?),
            Some(other) => {
                return Err(DumpError::Unrepresentable(format!("{}: confidence {other} is not a float", report_what())))
            }
        }
        Ok(fact)
    }

    fn entity(&self, id: NodeId) -> Result<Entity, DumpError> {
        let record = self.node(id)?;
        let what = || format!("entity node {id} ({})", record.key().unwrap_or("no id"));
        only_properties(&record.props, &["id", "name", "aliases", "title"], what)?;
        let Some(kind) = ENTITY_KINDS.iter().find(|k| record.has_label(k)) else {
            return Err(DumpError::Unrepresentable(format!(
                "{}: not an entity (labels {})",
                what(),
                record.labels.join(":")
            )));
        };
        let name = string_property(&record.props, "name", what)?
            .ok_or_else(|| DumpError::Unrepresentable(format!("{}: no `name`", what())))?;
        let key = record.key().unwrap_or_default().to_string();
        if key != entity_key(kind, &name) {
            return Err(DumpError::Unrepresentable(format!(
                "{}: its id is not derived from its kind and name",
                what()
            )));
        }
        let aliases = match record.props.get("aliases") {
            None => Vec::new(),
            Some(Value::List(items)) => items
                .iter()
                .map(|item| item.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| DumpError::Unrepresentable(format!("{}: an alias is not a string", what())))?,
            Some(_) => return Err(DumpError::Unrepresentable(format!("{}: `aliases` is not a list", what()))),
        };
        let title = string_property(&record.props, "title", what)?;
        Ok(Entity { id, kind: kind.to_string(), key, name, aliases, title })
    }

    fn node(&self, id: NodeId) -> Result<NodeRecord, DumpError> {
        self.store
            .node(id)?
            .ok_or_else(|| StoreError::Corrupt(format!("an index names node {id}, which does not exist")).into())
    }

    fn edge(&self, id: u64) -> Result<EdgeRecord, DumpError> {
        self.store.edge(id)?.ok_or_else(|| {
            StoreError::Corrupt(format!("an adjacency entry names edge {id}, which does not exist")).into()
        })
    }

    fn write_record(&mut self, record: &Record<'_>) -> Result<(), DumpError> {
        let line = record.to_json_line().map_err(|e| DumpError::Io(e.into()))?;
        self.out.write_all(line.as_bytes())?;
        self.summary.records += 1;
        Ok(())
    }
}

fn article_fields(id: NodeId, record: &NodeRecord) -> Result<Fields, DumpError> {
    const FIELDS: [&str; 6] = ["id", "url", "outlet", "published", "language", "title"];
    let what = || format!("article node {id} ({})", record.key().unwrap_or("no id"));
    only_properties(&record.props, &FIELDS, what)?;
    if record.key().is_some_and(|key| key.starts_with(RESERVED_ID_PREFIX)) {
        return Err(DumpError::Unrepresentable(format!(
            "{}: ids starting with '{RESERVED_ID_PREFIX}' are reserved for dumps",
            what()
        )));
    }
    let mut fields = Fields::default();
    for field in FIELDS {
        if let Some(text) = string_property(&record.props, field, what)? {
            fields.push(field, text);
        }
    }
    Ok(fields)
}

/// Refuses properties the input format has no field for: a dump is exact or it fails.
fn only_properties(props: &Properties, allowed: &[&str], what: impl Fn() -> String) -> Result<(), DumpError> {
    match props.keys().find(|key| !allowed.contains(&key.as_str())) {
        Some(key) => {
            Err(DumpError::Unrepresentable(format!("{}: property `{key}` has no field in the article format", what())))
        }
        None => Ok(()),
    }
}

fn string_property(props: &Properties, key: &str, what: impl Fn() -> String) -> Result<Option<String>, DumpError> {
    match props.get(key) {
        None => Ok(None),
        Some(Value::Str(text)) => Ok(Some(text.clone())),
        Some(other) => Err(DumpError::Unrepresentable(format!("{}: `{key}` is {other}, not a string", what()))),
    }
}

/// JSON text for a number that this build's JSON reader parses back to exactly `value`.
///
/// serde_json (without its `float_roundtrip` feature) reads some 17-digit decimals one unit
/// in the last place off, so the shortest form is not always enough; a longer form is.
fn exact_number(value: f64) -> Result<String, DumpError> {
    let reads_back = |text: &str| serde_json::from_str::<f64>(text).ok() == Some(value);
    let shortest = serde_json::Number::from_f64(value)
        .map(|n| n.to_string())
        .ok_or_else(|| DumpError::Unrepresentable(format!("the confidence {value} (not a finite number)")))?;
    std::iter::once(shortest)
        .chain((15..=25).map(|digits| format!("{value:.digits$}")))
        .chain((15..=20).map(|digits| format!("{value:.digits$e}")))
        .find(|text| reads_back(text))
        .ok_or_else(|| {
            DumpError::Unrepresentable(format!("the confidence {value}: no decimal form reads back exactly"))
        })
}

#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("the store at {path} is not empty ({nodes} nodes, {edges} edges); restore loads a dump into a new store only: pass --db with a path that does not exist yet")]
    NotEmpty { path: String, nodes: u64, edges: u64 },
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What `restore` loaded: the ingest summary without the scaffolding records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RestoreSummary {
    pub ingest: IngestSummary,
    pub scaffolding_records: u64,
}

/// Ingests a dump (or any article batch) into an empty store, then removes the dump's
/// scaffolding articles. Rejected records are reported and counted, as in `ingest`.
pub fn restore<R: BufRead + Send>(
    store: &Store,
    ontology: &Ontology,
    source_name: &str,
    input: R,
    report: &mut dyn FnMut(&Diagnostic),
) -> Result<RestoreSummary, RestoreError> {
    let stats = store.stats()?;
    if stats.nodes > 0 || stats.edges > 0 || store.all_nodes().next().is_some() {
        return Err(RestoreError::NotEmpty {
            path: store.path().display().to_string(),
            nodes: stats.nodes,
            edges: stats.edges,
        });
    }
    let mut ingester = Ingester::new(store, ontology, None)?;
    ingester.ingest(source_name, input, &|_| {}, report)?;
    let mut ingest = ingester.finish()?;
    let mut scaffolding = Vec::new();
    for id in store.nodes_with_label("Article") {
        if let Some(key) = store.node(id?)?.as_ref().and_then(NodeRecord::key) {
            if key.starts_with(RESERVED_ID_PREFIX) {
                scaffolding.push(key.to_string());
            }
        }
    }
    ingest::remove_articles(store, &scaffolding)?;
    let removed = u64::try_from(scaffolding.len()).unwrap_or(u64::MAX);
    ingest.counts.articles_added = ingest.counts.articles_added.saturating_sub(removed);
    Ok(RestoreSummary { ingest, scaffolding_records: removed })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidences_read_back_exactly() {
        // Values the default serde_json reader gets one ulp wrong from their shortest form.
        for text in ["0.41015236758081597", "0.9268864328605199", "0.9336275819785695", "0.11987895776841007", "0.7"] {
            let value: f64 = serde_json::from_str(text).expect("number");
            let written = exact_number(value).expect("representable");
            assert_eq!(serde_json::from_str::<f64>(&written).expect("number"), value, "{text} written as {written}");
        }
    }

    #[test]
    fn fields_keep_their_order() {
        let mut fields = Fields::default();
        fields.push("type", "visit");
        fields.push("date", "2023");
        fields.push_number("confidence", "0.5".into());
        let mut text = String::new();
        fields.write_json(&mut text).expect("json");
        assert_eq!(text, r#"{"type":"visit","date":"2023","confidence":0.5}"#);
    }
}
