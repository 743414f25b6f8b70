//! PLOVER JSON records (the PLOVER manual's fields, and the v0.5b1 gold-standard file's
//! variants): `actor`|`source`, `recipient`|`target`, `event_loc`|`eventLoc`, each a string,
//! an entity object or a list of them; one JSON array or JSON Lines. Each record is one
//! article. Builds article drafts only: it never touches the store.

use std::io::BufRead;

use serde_json::Value as Json;

use super::article::{make_fact, ArticleDraft, Entity, RowActors};
use super::mapping::Mapping;
use super::source::Line;
use super::{ImportError, ImportOptions, Rows};
use crate::ingest::read::BatchReader;
use crate::ingest::validate::check_date;
use crate::ontology::Ontology;

pub struct PloverJsonImport<'m> {
    mapping: &'m Mapping,
    ontology: &'m Ontology,
    opt_ins: Vec<&'static str>,
    drafts: Vec<ArticleDraft>,
    seen: rustc_hash::FxHashSet<String>,
}

impl<'m> PloverJsonImport<'m> {
    pub fn new(mapping: &'m Mapping, ontology: &'m Ontology, options: &ImportOptions<'_>) -> Self {
        PloverJsonImport {
            mapping,
            ontology,
            opt_ins: options.opt_ins(),
            drafts: Vec::new(),
            seen: rustc_hash::FxHashSet::default(),
        }
    }

    fn read_stream_impl(
        &mut self,
        source: &str,
        input: &mut dyn BufRead,
        rows: &mut Rows<'_>,
    ) -> Result<(), ImportError> {
        let mut reader = BatchReader::new(input);
        loop {
            let raw = reader
                .next_record()
                .map_err(|e| ImportError::Input { source_name: source.to_string(), reason: e.to_string() })?;
            let Some(raw) = raw else { return Ok(()) };
            rows.progress();
            rows.counts.read += 1;
            let line = Line { number: raw.line, bytes: raw.bytes, unterminated: false, too_long: false };
            if let Some(defect) = raw.defect {
                rows.reject(source, &line, "record", &defect)?;
                continue;
            }
            let record: Json = match serde_json::from_slice(&line.bytes) {
                Ok(Json::Object(map)) => Json::Object(map),
                Ok(_) => {
                    rows.reject(source, &line, "record", "expected a JSON object (one PLOVER event record)")?;
                    continue;
                }
                Err(e) => {
                    rows.reject(source, &line, "record", &format!("not valid JSON ({e})"))?;
                    continue;
                }
            };
            self.record(source, &line, &record, rows)?;
        }
    }

    fn record(&mut self, source: &str, line: &Line, record: &Json, rows: &mut Rows<'_>) -> Result<(), ImportError> {
        let event = strings(record.get("event")).into_iter().next();
        let mode = strings(record.get("mode")).into_iter().next();
        let Some(event) = event else {
            return rows.reject(source, line, "event", "missing; a PLOVER record names its event type");
        };
        let Some(rule) = self.mapping.plover_rule(&event, mode.as_deref(), &self.opt_ins) else {
            rows.counts.dropped += 1;
            return Ok(());
        };
        let rule = rule.clone();
        let Some(id) = record.get("id").and_then(Json::as_str).filter(|id| !id.trim().is_empty()) else {
            return rows.reject(source, line, "id", "missing; every PLOVER record has an id");
        };
        let Some(date) = record.get("date").and_then(Json::as_str) else {
            return rows.reject(source, line, "date", "missing; PLOVER requires the event date");
        };
        if let Err(reason) = check_date(date) {
            return rows.reject(source, line, "date", &reason);
        }
        if !self.seen.insert(id.to_string()) {
            rows.counts.folded += 1;
            return Ok(());
        }
        let side = |names: [&str; 2]| names.iter().find_map(|n| record.get(*n)).cloned().unwrap_or(Json::Null);
        let (sources, source_country) = self.actors(&side(["actor", "source"]));
        let (targets, target_country) = self.actors(&side(["recipient", "target"]));
        let actors = RowActors {
            source: sources,
            target: targets,
            source_country,
            target_country,
            place: self.place(&side(["event_loc", "eventLoc"])),
        };
        let mut fact = match make_fact(&rule, &actors, Some(date.to_string()), "PLOVER", self.ontology) {
            Ok(fact) => fact,
            Err(_) => {
                rows.counts.incomplete += 1;
                return Ok(());
            }
        };
        let text = record.get("text").and_then(Json::as_str).map(str::to_string);
        fact.evidence = text.into_iter().collect();
        fact.source_ids = vec![format!("plover:{id}")];
        let cite = record.get("cite_info");
        let cited = |key: &str| cite.and_then(|c| c.get(key)).and_then(Json::as_str).map(str::to_string);
        let mut draft = ArticleDraft {
            id: format!("plover:{id}"),
            url: cited("url").or_else(|| record.get("link").and_then(Json::as_str).map(str::to_string)),
            outlet: cited("publication")
                .or_else(|| record.get("publication").and_then(Json::as_str).map(str::to_string)),
            published: date.to_string(),
            language: cited("language").or_else(|| record.get("language").and_then(Json::as_str).map(str::to_string)),
            title: cited("title"),
            facts: Vec::new(),
            origin: (source.to_string(), line.number),
        };
        draft.add_fact(fact);
        rows.counts.kept += 1;
        self.drafts.push(draft);
        Ok(())
    }

    /// One side's entities (a string, an entity object or a list of either) and the
    /// country code of its first entity.
    fn actors(&self, side: &Json) -> (Vec<Entity>, Option<Entity>) {
        let items: Vec<&Json> = match side {
            Json::Array(items) => items.iter().collect(),
            Json::Null => Vec::new(),
            other => vec![other],
        };
        let mut entities = Vec::new();
        let mut side_country = None;
        for item in items {
            let (name, code, sector) = match item {
                Json::String(name) => (name.clone(), None, String::new()),
                Json::Object(object) => {
                    let text = |keys: &[&str]| {
                        keys.iter().find_map(|k| object.get(*k).and_then(Json::as_str)).map(str::to_string)
                    };
                    let name =
                        text(&["identifier_text", "entity_text", "actorText", "text", "name"]).unwrap_or_default();
                    let sector = strings(object.get("sector")).into_iter().next().unwrap_or_default();
                    (name, text(&["code", "country"]), sector)
                }
                _ => continue,
            };
            let country = code.and_then(|c| self.mapping.country_by_cameo(&c.to_uppercase())).map(Entity::country);
            if side_country.is_none() {
                side_country = country.clone();
            }
            if let Some(entity) = self.entity(name.trim(), country, &sector) {
                entities.push(entity);
            }
        }
        (entities, side_country)
    }

    /// A country's name is the Country; "President Obama" is the Person "Obama" titled
    /// "President"; a name of generic words only ("Moroccan diplomats") stands for its
    /// country; an IGO/NGO sector makes an Organization; else a Person of its country.
    fn entity(&self, name: &str, country: Option<Entity>, sector: &str) -> Option<Entity> {
        if name.is_empty() {
            return country;
        }
        if let Some(known) = self.mapping.country_by_name(name) {
            return Some(Entity::country(known));
        }
        // Gold-standard actor texts are phrases ("Russian Foreign Minister Andrei Kozyrev"):
        // role words become the title; demonyms, lower-case words and punctuation go.
        let mut titles = Vec::new();
        let mut rest = Vec::new();
        for word in name.split_whitespace() {
            let bare = word.trim_end_matches("'s").trim_matches(|c: char| !c.is_alphanumeric() && c != '.');
            if self.mapping.is_generic_word(bare) {
                titles.push(bare);
            } else if !bare.is_empty()
                && bare.chars().next().is_some_and(char::is_uppercase)
                && !self.mapping.names_a_country(bare)
            {
                rest.push(bare);
            }
        }
        let rest = rest.join(" ");
        if rest.is_empty() || self.mapping.names_a_country(&rest) {
            return country;
        }
        if self.mapping.actors.organization_types.iter().any(|t| t.eq_ignore_ascii_case(sector)) {
            return Some(Entity::new("Organization", name));
        }
        let mut person = Entity::new("Person", rest);
        person.title = (!titles.is_empty()).then(|| titles.join(" "));
        person.country = country.map(Box::new);
        Some(person)
    }

    fn place(&self, location: &Json) -> Option<Entity> {
        let Json::Object(location) = location else { return None };
        let text =
            |keys: &[&str]| keys.iter().find_map(|k| location.get(*k).and_then(Json::as_str)).map(str::to_string);
        let code = text(&["country code", "country_code", "country_code3", "country"]);
        let country = code.and_then(|c| self.mapping.country_by_cameo(&c.to_uppercase())).map(Entity::country);
        let Some(name) = text(&["name", "placename"]).filter(|n| !n.trim().is_empty()) else { return country };
        if let Some(known) = self.mapping.country_by_name(&name) {
            return Some(Entity::country(known));
        }
        let full = match &country {
            Some(country) => format!("{name}, {}", country.name),
            None => name,
        };
        let mut place = Entity::new("Place", full);
        place.country = country.map(Box::new);
        Some(place)
    }

    fn finish_impl(self) -> Vec<ArticleDraft> {
        self.drafts
    }
}

/// A string or a list of strings (blank ones and `""` skipped).
fn strings(value: Option<&Json>) -> Vec<String> {
    match value {
        Some(Json::String(s)) if !s.trim().is_empty() => vec![s.trim().to_string()],
        Some(Json::Array(items)) => {
            items.iter().filter_map(Json::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
        }
        _ => Vec::new(),
    }
}

impl super::DatasetReader for PloverJsonImport<'_> {
    fn read_stream(&mut self, source: &str, input: &mut dyn BufRead, rows: &mut Rows<'_>) -> Result<(), ImportError> {
        self.read_stream_impl(source, input, rows)
    }

    fn finish(self: Box<Self>) -> Vec<ArticleDraft> {
        self.finish_impl()
    }
}
