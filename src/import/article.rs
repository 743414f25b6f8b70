//! Article records as the readers build them: entities, facts made by a mapping rule from
//! one row's actors and place, reciprocal and duplicate rows folded into one fact, and the
//! contract's article-batch JSON. Shared by every reader; it never touches the store.

use serde_json::{json, Map, Value as Json};

use super::mapping::{RoleSource, Rule};
use crate::model::normalize_name;
use crate::ontology::Ontology;

/// An entity a row names.
#[derive(Clone, Debug, PartialEq)]
pub struct Entity {
    pub kind: &'static str,
    pub name: String,
    pub aliases: Vec<String>,
    /// The Country a Person represents or a Place lies in.
    pub country: Option<Box<Entity>>,
    pub title: Option<String>,
}

impl Entity {
    pub fn new(kind: &'static str, name: impl Into<String>) -> Entity {
        Entity { kind, name: name.into(), aliases: Vec::new(), country: None, title: None }
    }

    /// A country of the code tables, with the aliases the tables give it.
    pub fn country(country: &super::mapping::Country) -> Entity {
        Entity { aliases: country.aliases.clone(), ..Entity::new("Country", country.name.clone()) }
    }

    fn identity(&self) -> (&'static str, String) {
        (self.kind, normalize_name(&self.name))
    }
}

/// What one row offers a rule: its two actors, their countries, and its place.
#[derive(Clone, Debug, Default)]
pub struct RowActors {
    /// The source side: one actor, or several for a compound actor (POLECAT `A; B`).
    pub source: Vec<Entity>,
    pub target: Vec<Entity>,
    pub source_country: Option<Entity>,
    pub target_country: Option<Entity>,
    pub place: Option<Entity>,
}

impl RowActors {
    fn take(&self, source: &RoleSource) -> Vec<Entity> {
        match source {
            RoleSource::Source => self.source.clone(),
            RoleSource::Target => self.target.clone(),
            RoleSource::SourceCountry => self.source_country.clone().into_iter().collect(),
            RoleSource::TargetCountry => self.target_country.clone().into_iter().collect(),
            RoleSource::Place => self.place.clone().into_iter().collect(),
            RoleSource::Item(item) => vec![Entity::new("Item", item.clone())],
        }
    }
}

/// One fact of an article, before it is written out as JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct Fact {
    pub event_type: String,
    pub status: String,
    /// Per role field, in ontology order: the entities filling it.
    pub roles: Vec<(String, Vec<Entity>)>,
    pub date: Option<String>,
    pub confidence: Option<f64>,
    pub evidence: Vec<String>,
    pub according_to: String,
    /// The dataset ids of the rows this fact came from (`gdelt:1256322925`).
    pub source_ids: Vec<String>,
}

impl Fact {
    /// A hash of `identity`, to fold equal facts across rows without keeping them.
    pub fn fold_key(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut hasher = rustc_hash::FxHasher::default();
        self.identity().hash(&mut hasher);
        hasher.finish()
    }

    /// The same event for diplograph's merge: type, status, date and role fillers as sets.
    fn identity(&self) -> FactIdentity {
        let roles = self
            .roles
            .iter()
            .map(|(field, entities)| {
                let mut ids: Vec<_> = entities.iter().map(Entity::identity).collect();
                ids.sort();
                ids.dedup();
                (field.clone(), ids)
            })
            .collect();
        (self.event_type.clone(), self.status.clone(), self.date.clone(), roles)
    }
}

/// Type, status, date and per role the (kind, normalised name) of its fillers, sorted.
type FactIdentity = (String, String, Option<String>, Vec<(String, Vec<(&'static str, String)>)>);

/// Why a kept row makes no fact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incomplete(pub String);

/// Fills a rule's roles from a row. A required role left empty (or a meeting with fewer
/// than two distinct participants) makes the row incomplete.
pub fn make_fact(
    rule: &Rule,
    actors: &RowActors,
    date: Option<String>,
    according_to: &str,
    ontology: &Ontology,
) -> Result<Fact, Incomplete> {
    let event_type = ontology
        .event_type(&rule.event_type)
        .ok_or_else(|| Incomplete(format!("the mapping names the unknown type '{}'", rule.event_type)))?;
    let mut roles = Vec::new();
    for ((field, sources), role) in rule.roles.iter().zip(&event_type.roles) {
        let mut fillers: Vec<Entity> = Vec::new();
        'sources: for source in sources {
            for entity in actors.take(source) {
                if !role.kinds.iter().any(|k| k == entity.kind) {
                    continue;
                }
                if fillers.iter().all(|f| f.identity() != entity.identity()) {
                    fillers.push(entity);
                }
                if role.max == Some(1) {
                    break 'sources;
                }
            }
        }
        if fillers.len() < role.min {
            return Err(Incomplete(format!(
                "CAMEO/PLOVER {} needs {} {} for a {}, the row names {}",
                rule.code,
                role.min,
                role.field,
                event_type.name,
                fillers.len()
            )));
        }
        roles.push((field.clone(), fillers));
    }
    // One actor in two actor roles of one event (a country hosting itself) says nothing;
    // a host that is also the destination is fine.
    let actor_roles = roles.iter().zip(&event_type.roles).filter(|(_, role)| !role.kinds.iter().any(|k| k == "Place"));
    let mut all: Vec<_> = actor_roles.flat_map(|((f, es), _)| es.iter().map(move |e| (f, e.identity()))).collect();
    all.sort_by(|a, b| a.1.cmp(&b.1));
    if all.windows(2).any(|w| w[0].1 == w[1].1 && w[0].0 != w[1].0) {
        return Err(Incomplete(format!("CAMEO/PLOVER {}: one entity fills two roles", rule.code)));
    }
    let confidence = (rule.confidence < 1.0).then_some(rule.confidence);
    Ok(Fact {
        event_type: rule.event_type.clone(),
        status: rule.status.clone(),
        roles,
        date,
        confidence,
        evidence: Vec::new(),
        according_to: according_to.to_string(),
        source_ids: Vec::new(),
    })
}

/// The article a group of rows reports, with its facts folded.
#[derive(Clone, Debug)]
pub struct ArticleDraft {
    pub id: String,
    pub url: Option<String>,
    pub outlet: Option<String>,
    pub published: String,
    pub language: Option<String>,
    pub title: Option<String>,
    pub facts: Vec<Fact>,
    /// Where the article's first row is, for messages: source name and line.
    pub origin: (String, usize),
}

impl ArticleDraft {
    /// Adds a fact, folding it into an equal one (a 042 row and its mirrored 043, the two
    /// rows of a meeting). Returns true when it was folded.
    pub fn add_fact(&mut self, fact: Fact) -> bool {
        let identity = fact.identity();
        if let Some(existing) = self.facts.iter_mut().find(|f| f.identity() == identity) {
            for line in fact.evidence {
                if !existing.evidence.contains(&line) {
                    existing.evidence.push(line);
                }
            }
            for id in fact.source_ids {
                if !existing.source_ids.contains(&id) {
                    existing.source_ids.push(id);
                }
            }
            existing.confidence = match (existing.confidence, fact.confidence) {
                (Some(a), Some(b)) => Some(a.max(b)),
                _ => None,
            };
            return true;
        }
        self.facts.push(fact);
        false
    }

    /// The contract's article record.
    pub fn to_json(&self) -> Json {
        let mut article = Map::new();
        article.insert("id".into(), json!(self.id));
        let optional = [("url", &self.url), ("outlet", &self.outlet)];
        for (key, value) in optional {
            if let Some(value) = value {
                article.insert(key.into(), json!(value));
            }
        }
        article.insert("published".into(), json!(self.published));
        for (key, value) in [("language", &self.language), ("title", &self.title)] {
            if let Some(value) = value {
                article.insert(key.into(), json!(value));
            }
        }
        let mut entities = Declared::default();
        let mut facts = Vec::new();
        for fact in &self.facts {
            let mut object = Map::new();
            object.insert("type".into(), json!(fact.event_type));
            for (field, fillers) in &fact.roles {
                let refs: Vec<Json> = fillers.iter().map(|e| json!(entities.declare(e))).collect();
                match refs.len() {
                    0 => {}
                    1 if field != "participants" && field != "items" => {
                        object.insert(field.clone(), refs[0].clone());
                    }
                    _ => {
                        object.insert(field.clone(), Json::Array(refs));
                    }
                }
            }
            if let Some(date) = &fact.date {
                object.insert("date".into(), json!(date));
            }
            object.insert("status".into(), json!(fact.status));
            if !fact.evidence.is_empty() {
                object.insert("evidence".into(), json!(fact.evidence.join("; ")));
            }
            object.insert("according_to".into(), json!(fact.according_to));
            if let Some(confidence) = fact.confidence {
                object.insert("confidence".into(), json!(round_confidence(confidence)));
            }
            if !fact.source_ids.is_empty() {
                object.insert("source_ids".into(), json!(fact.source_ids));
            }
            facts.push(Json::Object(object));
        }
        json!({"article": article, "entities": entities.list, "facts": facts})
    }
}

/// Confidences print with at most four decimals (a product like 0.7 × 0.4 would otherwise
/// print as 0.27999999999999997).
fn round_confidence(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}

/// The record's entity list: each distinct (kind, name) declared once, with a local ref.
#[derive(Default)]
struct Declared {
    list: Vec<Json>,
    refs: Vec<((&'static str, String), String)>,
}

impl Declared {
    fn declare(&mut self, entity: &Entity) -> String {
        let identity = entity.identity();
        if let Some((_, local)) = self.refs.iter().find(|(id, _)| *id == identity) {
            return local.clone();
        }
        let country = entity.country.as_deref().map(|country| {
            self.declare(country);
            country.name.clone()
        });
        let local = format!("e{}", self.refs.len() + 1);
        let mut object = Map::new();
        object.insert("ref".into(), json!(local));
        object.insert("kind".into(), json!(entity.kind));
        object.insert("name".into(), json!(entity.name));
        if !entity.aliases.is_empty() {
            object.insert("aliases".into(), json!(entity.aliases));
        }
        if let Some(country) = country {
            object.insert("country".into(), json!(country));
        }
        if let Some(title) = &entity.title {
            object.insert("title".into(), json!(title));
        }
        self.list.push(Json::Object(object));
        self.refs.push((identity, local.clone()));
        local
    }
}

/// An organisation's name from GDELT's upper case: a one-word name of up to five letters
/// is an acronym and stays (`NATO`, `THE EU` → `EU`); others are title-cased.
pub fn organization_name(name: &str) -> String {
    let name = name.trim();
    let name = match name.get(..4) {
        Some(the) if the.eq_ignore_ascii_case("the ") => name[4..].trim_start(),
        _ => name,
    };
    if name.chars().count() <= 5 && name.chars().all(|c| c.is_alphabetic()) {
        return name.to_uppercase();
    }
    title_case(name)
}

/// `SHINZO ABE` → `Shinzo Abe`: GDELT writes names in upper case.
pub fn title_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut start = true;
    for ch in name.chars() {
        if ch.is_alphabetic() {
            if start {
                out.extend(ch.to_uppercase());
            } else {
                out.extend(ch.to_lowercase());
            }
            start = false;
        } else {
            out.push(ch);
            start = ch.is_whitespace() || ch == '-';
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visit(visitor: &str, host: &str) -> Fact {
        Fact {
            event_type: "visit".into(),
            status: "occurred".into(),
            roles: vec![
                ("visitor".into(), vec![Entity::new("Country", visitor)]),
                ("destination".into(), vec![Entity::new("Place", "Ankara, Ankara, Turkey")]),
                ("host".into(), vec![Entity::new("Country", host)]),
                ("place".into(), vec![]),
            ],
            date: Some("2019-10-24".into()),
            confidence: Some(0.5),
            evidence: vec!["row 1".into()],
            according_to: "GDELT".into(),
            source_ids: vec!["gdelt:1".into()],
        }
    }

    fn draft() -> ArticleDraft {
        ArticleDraft {
            id: "a".into(),
            url: None,
            outlet: None,
            published: "2019-10-24".into(),
            language: None,
            title: None,
            facts: Vec::new(),
            origin: ("test".into(), 1),
        }
    }

    #[test]
    fn a_visit_and_its_mirrored_host_row_fold_into_one_fact() {
        let mut article = draft();
        assert!(!article.add_fact(visit("Russia", "Turkey")));
        let mut mirrored = visit("russia", "TURKEY");
        mirrored.evidence = vec!["row 2".into()];
        mirrored.confidence = Some(0.9);
        mirrored.source_ids = vec!["gdelt:2".into()];
        assert!(article.add_fact(mirrored));
        assert!(!article.add_fact(visit("Turkey", "Russia")));
        assert_eq!(article.facts.len(), 2);
        assert_eq!(article.facts[0].evidence, ["row 1", "row 2"]);
        assert_eq!(article.facts[0].confidence, Some(0.9));
        assert_eq!(article.facts[0].source_ids, ["gdelt:1", "gdelt:2"]);
    }

    #[test]
    fn entities_are_declared_once_with_their_country_first() {
        let mut article = draft();
        let mut abe = Entity::new("Person", "Shinzo Abe");
        abe.country = Some(Box::new(Entity::new("Country", "Japan")));
        let mut fact = visit("Russia", "Japan");
        fact.roles[0].1 = vec![abe];
        article.add_fact(fact);
        let record = article.to_json();
        let names: Vec<&str> =
            record["entities"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["Japan", "Shinzo Abe", "Ankara, Ankara, Turkey"]);
        assert_eq!(record["facts"][0]["host"], "e1");
        assert_eq!(record["entities"][1]["country"], "Japan");
    }

    #[test]
    fn upper_case_names_become_title_case() {
        assert_eq!(title_case("SHINZO ABE"), "Shinzo Abe");
        assert_eq!(title_case("GUINEA-BISSAU"), "Guinea-Bissau");
        assert_eq!(organization_name("THE EU"), "EU");
        assert_eq!(title_case("OBAMA"), "Obama");
    }
}
