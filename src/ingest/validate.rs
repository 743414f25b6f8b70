//! Validation: one raw record's JSON against the contract and the ontology, into a
//! typed `ArticleRecord`, or the list of field errors that reject it.

use std::collections::HashSet;

use serde_json::{Map, Value as Json};

use crate::model::ENTITY_KINDS;
use crate::ontology::{EventType, Ontology};

#[derive(Clone, Debug, PartialEq)]
pub struct ArticleRecord {
    pub article: ArticleMeta,
    pub entities: Vec<EntityDecl>,
    pub facts: Vec<Fact>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ArticleMeta {
    pub id: String,
    pub url: Option<String>,
    pub outlet: Option<String>,
    pub published: String,
    pub language: Option<String>,
    pub title: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EntityDecl {
    /// The record-local handle facts use; an entity without one only declares names.
    pub local_ref: Option<String>,
    pub kind: String,
    pub name: String,
    pub aliases: Vec<String>,
    pub country: Option<String>,
    pub title: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Fact {
    /// Position in the record's `facts`, for error paths.
    pub index: usize,
    pub event_type: String,
    /// Per ontology role, in ontology order: the values given (refs or plain names).
    pub roles: Vec<Vec<String>>,
    pub date: Option<String>,
    /// After defaulting.
    pub status: String,
    pub evidence: Option<String>,
    pub according_to: Option<String>,
    pub confidence: Option<f64>,
    /// Ids of the event in the datasets it was imported from (`gdelt:1256322925`): a later
    /// import finds the event by them.
    pub source_ids: Vec<String>,
}

/// A reason a record is rejected: the field path and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        FieldError { field: field.into(), reason: reason.into() }
    }
}

const COMMON_FACT_FIELDS: [&str; 8] =
    ["type", "date", "status", "evidence", "according_to", "confidence", "place", "source_ids"];

/// Parses and validates one record. All field errors are collected, not just the first.
pub fn validate_record(text: &[u8], ontology: &Ontology) -> Result<ArticleRecord, Vec<FieldError>> {
    let json: Json = serde_json::from_slice(text).map_err(|e| {
        vec![FieldError::new("record", format!("not valid JSON ({e}); each line must hold one JSON object"))]
    })?;
    let Json::Object(root) = json else {
        return Err(vec![FieldError::new("record", "expected a JSON object with `article`, `entities` and `facts`")]);
    };
    let mut errors = Vec::new();
    reject_unknown(&root, "", &["article", "entities", "facts"], &mut errors);
    let article = read_article(&root, &mut errors);
    let entities = read_entities(&root, &mut errors);
    let facts = read_facts(&root, ontology, &mut errors);
    match article {
        Some(article) if errors.is_empty() => Ok(ArticleRecord { article, entities, facts }),
        _ => Err(errors),
    }
}

fn read_article(root: &Map<String, Json>, errors: &mut Vec<FieldError>) -> Option<ArticleMeta> {
    let Some(value) = root.get("article") else {
        errors.push(FieldError::new(
            "article",
            "missing; every record needs an `article` object with `id` and `published`",
        ));
        return None;
    };
    let Json::Object(article) = value else {
        errors.push(FieldError::new("article", "expected an object"));
        return None;
    };
    reject_unknown(article, "article.", &["id", "url", "outlet", "published", "language", "title"], errors);
    let id = required_string(article, "article.id", "id", errors);
    let published = required_string(article, "article.published", "published", errors);
    if let Some(date) = &published {
        if let Err(reason) = check_date(date) {
            errors.push(FieldError::new("article.published", reason));
        }
    }
    let url = optional_string(article, "article.url", "url", errors);
    let outlet = optional_string(article, "article.outlet", "outlet", errors);
    let language = optional_string(article, "article.language", "language", errors);
    let title = optional_string(article, "article.title", "title", errors);
    Some(ArticleMeta { id: id?, url, outlet, published: published?, language, title })
}

fn read_entities(root: &Map<String, Json>, errors: &mut Vec<FieldError>) -> Vec<EntityDecl> {
    let mut entities = Vec::new();
    let items = match root.get("entities") {
        None | Some(Json::Null) => return entities,
        Some(Json::Array(items)) => items,
        Some(_) => {
            errors.push(FieldError::new("entities", "expected an array of entity objects"));
            return entities;
        }
    };
    let mut seen_refs = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("entities[{i}]");
        let Json::Object(entity) = item else {
            errors.push(FieldError::new(path, "expected an object with `ref`, `kind` and `name`"));
            continue;
        };
        reject_unknown(entity, &format!("{path}."), &["ref", "kind", "name", "aliases", "country", "title"], errors);
        let local_ref = optional_string(entity, &format!("{path}.ref"), "ref", errors);
        let kind = required_string(entity, &format!("{path}.kind"), "kind", errors);
        let name = required_string(entity, &format!("{path}.name"), "name", errors);
        if let Some(kind) = &kind {
            if !ENTITY_KINDS.contains(&kind.as_str()) {
                errors.push(FieldError::new(
                    format!("{path}.kind"),
                    format!("unknown kind '{kind}'; expected one of {}", ENTITY_KINDS.join(", ")),
                ));
            }
        }
        if let Some(local_ref) = &local_ref {
            if !seen_refs.insert(local_ref.clone()) {
                errors.push(FieldError::new(
                    format!("{path}.ref"),
                    format!("'{local_ref}' is declared twice in this record"),
                ));
            }
        }
        if name.as_deref().is_some_and(|n| n.trim().is_empty()) {
            errors.push(FieldError::new(format!("{path}.name"), "must not be blank"));
        }
        let aliases = string_list(entity, &format!("{path}.aliases"), "aliases", errors);
        let country = optional_string(entity, &format!("{path}.country"), "country", errors);
        let title = optional_string(entity, &format!("{path}.title"), "title", errors);
        if let (Some(kind), Some(name)) = (kind, name) {
            entities.push(EntityDecl { local_ref, kind, name, aliases, country, title });
        }
    }
    entities
}

fn read_facts(root: &Map<String, Json>, ontology: &Ontology, errors: &mut Vec<FieldError>) -> Vec<Fact> {
    let mut facts = Vec::new();
    let items = match root.get("facts") {
        None | Some(Json::Null) => return facts,
        Some(Json::Array(items)) => items,
        Some(_) => {
            errors.push(FieldError::new("facts", "expected an array of fact objects"));
            return facts;
        }
    };
    for (index, item) in items.iter().enumerate() {
        let path = format!("facts[{index}]");
        let Json::Object(fact) = item else {
            errors.push(FieldError::new(path, "expected an object with a `type`"));
            continue;
        };
        let Some(type_name) = required_string(fact, &format!("{path}.type"), "type", errors) else { continue };
        let Some(event_type) = ontology.event_type(&type_name) else {
            errors.push(FieldError::new(
                format!("{path}.type"),
                format!("unknown event type '{type_name}'; expected one of {}", ontology.type_names().join(", ")),
            ));
            continue;
        };
        if let Some(fact) = read_fact(fact, index, &path, event_type, errors) {
            facts.push(fact);
        }
    }
    facts
}

fn read_fact(
    fact: &Map<String, Json>,
    index: usize,
    path: &str,
    event_type: &EventType,
    errors: &mut Vec<FieldError>,
) -> Option<Fact> {
    let before = errors.len();
    for field in fact.keys() {
        if !COMMON_FACT_FIELDS.contains(&field.as_str()) && event_type.role(field).is_none() {
            let roles: Vec<&str> = event_type.roles.iter().map(|r| r.field.as_str()).collect();
            errors.push(FieldError::new(
                format!("{path}.{}", key_in_path(field)),
                format!("not a field of a {} fact; its roles are {}", event_type.name, roles.join(", ")),
            ));
        }
    }
    let mut roles = Vec::with_capacity(event_type.roles.len());
    for role in &event_type.roles {
        let field_path = format!("{path}.{}", role.field);
        let values = role_values(fact.get(&role.field), &field_path, errors);
        let mut distinct = values.clone();
        distinct.sort();
        distinct.dedup();
        if distinct.len() < role.min {
            let reason = if values.is_empty() {
                format!("required: a {} needs {} {}", event_type.name, at_least(role.min, role.max), role.field)
            } else {
                format!("needs {} distinct entities, got {}", at_least(role.min, role.max), distinct.len())
            };
            errors.push(FieldError::new(field_path.clone(), reason));
        }
        if let Some(max) = role.max {
            if values.len() > max {
                errors.push(FieldError::new(
                    field_path.clone(),
                    format!("takes at most {max} value(s), got {}", values.len()),
                ));
            }
        }
        roles.push(values);
    }
    let date = optional_string(fact, &format!("{path}.date"), "date", errors);
    if let Some(date) = &date {
        if let Err(reason) = check_date(date) {
            errors.push(FieldError::new(format!("{path}.date"), reason));
        }
    }
    let status = match optional_string(fact, &format!("{path}.status"), "status", errors) {
        None => event_type.default_status().to_string(),
        Some(status) => {
            if !event_type.statuses.contains(&status) {
                errors.push(FieldError::new(
                    format!("{path}.status"),
                    format!(
                        "'{status}' is not a status of a {}; expected one of {}",
                        event_type.name,
                        event_type.statuses.join(", ")
                    ),
                ));
            }
            status
        }
    };
    let evidence = optional_string(fact, &format!("{path}.evidence"), "evidence", errors);
    let according_to = optional_string(fact, &format!("{path}.according_to"), "according_to", errors);
    let confidence = match fact.get("confidence") {
        None | Some(Json::Null) => None,
        Some(Json::Number(n)) => match n.as_f64() {
            Some(c) if (0.0..=1.0).contains(&c) => Some(c),
            _ => {
                errors.push(FieldError::new(format!("{path}.confidence"), "must be a number from 0 to 1"));
                None
            }
        },
        Some(_) => {
            errors.push(FieldError::new(format!("{path}.confidence"), "must be a number from 0 to 1"));
            None
        }
    };
    let source_ids = string_list(fact, &format!("{path}.source_ids"), "source_ids", errors);
    for (i, id) in source_ids.iter().enumerate() {
        if !id.split_once(':').is_some_and(|(dataset, rest)| !dataset.is_empty() && !rest.is_empty()) {
            errors.push(FieldError::new(
                format!("{path}.source_ids[{i}]"),
                format!("'{id}' is not DATASET:ID (e.g. gdelt:1256322925)"),
            ));
        }
    }
    (errors.len() == before).then(|| Fact {
        index,
        event_type: event_type.name.clone(),
        roles,
        date,
        status,
        evidence,
        according_to,
        confidence,
        source_ids,
    })
}

fn at_least(min: usize, max: Option<usize>) -> String {
    match max {
        Some(max) if max == min => format!("exactly {min}"),
        Some(max) => format!("{min} to {max}"),
        None => format!("at least {min}"),
    }
}

/// A role's values: a string, or an array of strings. Blank strings are errors.
fn role_values(value: Option<&Json>, path: &str, errors: &mut Vec<FieldError>) -> Vec<String> {
    let mut values = Vec::new();
    let mut push = |s: &str, at: String, errors: &mut Vec<FieldError>| {
        if s.trim().is_empty() {
            errors.push(FieldError::new(at, "must not be blank"));
        } else {
            values.push(s.to_string());
        }
    };
    match value {
        None | Some(Json::Null) => {}
        Some(Json::String(s)) => push(s, path.to_string(), errors),
        Some(Json::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                match item {
                    Json::String(s) => push(s, format!("{path}[{i}]"), errors),
                    _ => errors
                        .push(FieldError::new(format!("{path}[{i}]"), "expected a string: an entity ref or a name")),
                }
            }
        }
        Some(_) => {
            errors.push(FieldError::new(path, "expected a string (an entity ref or a name) or an array of them"))
        }
    }
    values
}

/// Refuses fields the contract does not define, so a misspelt field is caught.
fn reject_unknown(map: &Map<String, Json>, path: &str, allowed: &[&str], errors: &mut Vec<FieldError>) {
    for key in map.keys().filter(|k| !allowed.contains(&k.as_str())) {
        errors.push(FieldError::new(
            format!("{path}{}", key_in_path(key)),
            format!("unknown field; expected one of {}", allowed.join(", ")),
        ));
    }
}

/// A key as a field path shows it: an empty key is written `""`, so the path still names it.
fn key_in_path(key: &str) -> &str {
    if key.is_empty() {
        "\"\""
    } else {
        key
    }
}

fn required_string(map: &Map<String, Json>, path: &str, key: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    match map.get(key) {
        Some(Json::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        Some(Json::String(_)) => {
            errors.push(FieldError::new(path, "must not be blank"));
            None
        }
        None | Some(Json::Null) => {
            errors.push(FieldError::new(path, "required"));
            None
        }
        Some(_) => {
            errors.push(FieldError::new(path, "expected a string"));
            None
        }
    }
}

fn optional_string(map: &Map<String, Json>, path: &str, key: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    match map.get(key) {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) => Some(s.clone()),
        Some(_) => {
            errors.push(FieldError::new(path, "expected a string"));
            None
        }
    }
}

fn string_list(map: &Map<String, Json>, path: &str, key: &str, errors: &mut Vec<FieldError>) -> Vec<String> {
    match map.get(key) {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| match item {
                Json::String(s) if !s.trim().is_empty() => Some(s.clone()),
                _ => {
                    errors.push(FieldError::new(format!("{path}[{i}]"), "expected a non-blank string"));
                    None
                }
            })
            .collect(),
        Some(_) => {
            errors.push(FieldError::new(path, "expected an array of strings"));
            Vec::new()
        }
    }
}

/// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, with real months and days.
pub fn check_date(date: &str) -> Result<(), String> {
    let bad = || format!("'{date}' is not a date; use YYYY, YYYY-MM or YYYY-MM-DD");
    let parts: Vec<&str> = date.split('-').collect();
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if parts.is_empty() || parts.len() > 3 || !digits(parts[0], 4) {
        return Err(bad());
    }
    let year: u32 = parts[0].parse().map_err(|_| bad())?;
    if let Some(month) = parts.get(1) {
        if !digits(month, 2) {
            return Err(bad());
        }
        let month: u32 = month.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) {
            return Err(format!("'{date}': month {month} does not exist"));
        }
        if let Some(day) = parts.get(2) {
            if !digits(day, 2) {
                return Err(bad());
            }
            let day: u32 = day.parse().map_err(|_| bad())?;
            if day == 0 || day > days_in_month(year, month) {
                return Err(format!("'{date}': day {day} does not exist in that month"));
            }
        }
    }
    Ok(())
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validate(text: &str) -> Result<ArticleRecord, Vec<FieldError>> {
        validate_record(text.as_bytes(), Ontology::embedded())
    }

    #[test]
    fn dates_keep_three_precisions_and_refuse_impossible_days() {
        assert!(check_date("2023").is_ok());
        assert!(check_date("2023-09").is_ok());
        assert!(check_date("2024-02-29").is_ok());
        assert!(check_date("2023-02-29").is_err());
        assert!(check_date("2023-13").is_err());
        assert!(check_date("13 Sept 2023").is_err());
    }

    #[test]
    fn status_defaults_to_the_first_of_the_type() {
        let record = validate(
            r#"{"article":{"id":"a","published":"2023"},"facts":[{"type":"invitation","inviter":"A","invitee":"B"}]}"#,
        )
        .unwrap();
        assert_eq!(record.facts[0].status, "extended");
    }

    #[test]
    fn every_field_error_names_its_path() {
        let errors = validate(r#"{"article":{"id":"a"},"facts":[{"type":"meeting","participants":["A"],"status":"maybe"},{"type":"dinner"}]}"#).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["article.published", "facts[0].participants", "facts[0].status", "facts[1].type"]);
    }

    #[test]
    fn an_empty_key_is_named_in_the_field_path() {
        let errors = validate(r#"{"":1,"article":{"id":"a","published":"2024","":2},"facts":[{"type":"visit","visitor":"A","destination":"B","":3}]}"#).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["\"\"", "article.\"\"", "facts[0].\"\""]);
    }

    #[test]
    fn an_unknown_fact_field_is_refused_with_the_roles_listed() {
        let errors = validate(r#"{"article":{"id":"a","published":"2023"},"facts":[{"type":"gift","giver":"A","recipient":"B","item":["x"]}]}"#).unwrap_err();
        assert!(errors
            .iter()
            .any(|e| e.field == "facts[0].item" && e.reason.contains("giver, recipient, items, place")));
    }
}
