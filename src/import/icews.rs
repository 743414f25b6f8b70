//! ICEWS coded event data (Dataverse `.tab` files): a header row of 20 tab-separated
//! columns read by name, quotes off (the files carry literal quotes), `NA` or empty as
//! null, `YYYY-MM-DD` or (the 2017 file) `m/d/yyyy` dates, rows keyed by (Event ID, Event
//! Date). Each Story ID becomes one article with its Publisher as outlet. Builds article
//! drafts only: it never touches the store.

use std::io::BufRead;

use rustc_hash::{FxHashMap, FxHashSet};

use super::article::{make_fact, ArticleDraft, Entity, RowActors};
use super::mapping::Mapping;
use super::source::{Line, LineReader};
use super::{ImportError, ImportOptions, Rows};
use crate::ingest::validate::check_date;
use crate::ontology::Ontology;

/// The columns read, by their header names.
const COLUMNS: [&str; 16] = [
    "Event ID",
    "Event Date",
    "Source Name",
    "Source Sectors",
    "Source Country",
    "Event Text",
    "CAMEO Code",
    "Target Name",
    "Target Sectors",
    "Target Country",
    "Story ID",
    "Sentence Number",
    "Publisher",
    "City",
    "Province",
    "Country",
];
const EVENT_ID: usize = 0;
const EVENT_DATE: usize = 1;
const SOURCE_NAME: usize = 2;
const EVENT_TEXT: usize = 5;
const CAMEO_CODE: usize = 6;
const TARGET_NAME: usize = 7;
const STORY_ID: usize = 10;
const SENTENCE: usize = 11;
const PUBLISHER: usize = 12;
const CITY: usize = 13;

pub struct IcewsImport<'m> {
    mapping: &'m Mapping,
    ontology: &'m Ontology,
    opt_ins: Vec<&'static str>,
    /// (Event ID, Event Date) keys and whole-row hashes seen.
    seen: FxHashSet<u64>,
    drafts: Vec<ArticleDraft>,
    by_story: FxHashMap<String, usize>,
}

impl<'m> IcewsImport<'m> {
    pub fn new(mapping: &'m Mapping, ontology: &'m Ontology, options: &ImportOptions<'_>) -> Self {
        IcewsImport {
            mapping,
            ontology,
            opt_ins: options.opt_ins(),
            seen: FxHashSet::default(),
            drafts: Vec::new(),
            by_story: FxHashMap::default(),
        }
    }

    fn read_stream_impl(
        &mut self,
        source: &str,
        input: &mut dyn BufRead,
        rows: &mut Rows<'_>,
    ) -> Result<(), ImportError> {
        let mut lines = LineReader::new(input);
        let input_error =
            |e: std::io::Error| ImportError::Input { source_name: source.to_string(), reason: e.to_string() };
        let Some(header) = lines.next_line().map_err(input_error)? else { return Ok(()) };
        let positions = header_positions(source, &header)?;
        while let Some(line) = lines.next_line().map_err(input_error)? {
            if line.bytes.is_empty() && !line.too_long {
                continue;
            }
            rows.progress();
            self.row(source, &line, &positions, rows)?;
        }
        Ok(())
    }

    fn row(&mut self, source: &str, line: &Line, positions: &[usize], rows: &mut Rows<'_>) -> Result<(), ImportError> {
        rows.counts.read += 1;
        if line.too_long {
            return rows.reject(source, line, "row", &super::too_long_reason());
        }
        let text = match std::str::from_utf8(&line.bytes) {
            Ok(text) => text,
            Err(e) => return rows.reject(source, line, "row", &super::utf8_reason(&e)),
        };
        let all: Vec<&str> = text.split('\t').collect();
        let width = positions.iter().max().map_or(0, |m| m + 1);
        if all.len() < width {
            let reason = format!("{} columns; the header names at least {width}", all.len());
            return rows.reject(source, line, "row", &reason);
        }
        let cols: Vec<Option<&str>> = positions.iter().map(|&at| null_if_na(all[at])).collect();
        let code = cols[CAMEO_CODE].unwrap_or("");
        if !(2..=4).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_digit()) {
            let reason = if code.is_empty() {
                "missing; every ICEWS event carries its CAMEO code".to_string()
            } else {
                format!("'{}' is not a CAMEO code (2 to 4 digits)", super::shorten(code))
            };
            return rows.reject(source, line, "CAMEO Code", &reason);
        }
        let Some(rule) = self.mapping.cameo_rule(code, &self.opt_ins) else {
            rows.counts.dropped += 1;
            return Ok(());
        };
        let rule = rule.clone();
        if line.unterminated {
            return rows.reject(source, line, "row", super::UNTERMINATED);
        }
        let Some(event_id) = cols[EVENT_ID].filter(|id| id.bytes().all(|b| b.is_ascii_digit())) else {
            let reason = format!("'{}' is not a number", super::shorten(cols[EVENT_ID].unwrap_or("")));
            return rows.reject(source, line, "Event ID", &reason);
        };
        let date = match icews_date(cols[EVENT_DATE].unwrap_or("")) {
            Ok(date) => date,
            Err(reason) => return rows.reject(source, line, "Event Date", &reason),
        };
        let Some(story) = cols[STORY_ID].filter(|id| id.bytes().all(|b| b.is_ascii_digit())) else {
            let reason = format!("'{}' is not a story number", super::shorten(cols[STORY_ID].unwrap_or("")));
            return rows.reject(source, line, "Story ID", &reason);
        };
        let key = xxhash_rust::xxh3::xxh3_64(format!("{event_id}\t{date}").as_bytes());
        let row_hash = xxhash_rust::xxh3::xxh3_64(&line.bytes);
        if !self.seen.insert(key) | !self.seen.insert(row_hash) {
            rows.counts.folded += 1;
            return Ok(());
        }
        let actors = RowActors {
            source: self.actor(&cols, SOURCE_NAME).into_iter().collect(),
            target: self.actor(&cols, TARGET_NAME).into_iter().collect(),
            source_country: self.country(cols[SOURCE_NAME + 2]),
            target_country: self.country(cols[TARGET_NAME + 2]),
            place: self.place(&cols),
        };
        let mut fact = match make_fact(&rule, &actors, Some(date.clone()), "ICEWS", self.ontology) {
            Ok(fact) => fact,
            Err(_) => {
                rows.counts.incomplete += 1;
                return Ok(());
            }
        };
        let sentence = cols[SENTENCE].unwrap_or("?");
        let event_text = cols[EVENT_TEXT].unwrap_or(&rule.name);
        fact.evidence = vec![format!("ICEWS event {event_id}, CAMEO {code} ({event_text}), sentence {sentence}")];
        fact.source_ids = vec![format!("icews:{event_id}:{date}")];
        let id = format!("icews:story:{story}");
        let at = match self.by_story.get(&id) {
            Some(&at) => at,
            None => {
                self.drafts.push(ArticleDraft {
                    id: id.clone(),
                    url: None,
                    outlet: cols[PUBLISHER].map(str::to_string),
                    published: date.clone(),
                    language: None,
                    title: None,
                    facts: Vec::new(),
                    origin: (source.to_string(), line.number),
                });
                self.by_story.insert(id, self.drafts.len() - 1);
                self.drafts.len() - 1
            }
        };
        let draft = &mut self.drafts[at];
        // ICEWS ships no publication date: the story's latest event date stands in.
        if date > draft.published {
            draft.published = date;
        }
        if draft.add_fact(fact) {
            rows.counts.folded += 1;
        } else {
            rows.counts.kept += 1;
        }
        Ok(())
    }

    /// An actor by the rule of README "Loading GDELT, ICEWS and POLECAT": a country's name is
    /// the Country; a generic agent "Role (Country)" is its Country when its sectors are a
    /// state organ's, else an Organization of that name; a name with an international
    /// organisation sector is an Organization; any other name with a sector or a country is
    /// a Person; a name with neither (a region such as "Africa") is nobody.
    fn actor(&self, cols: &[Option<&str>], name_at: usize) -> Option<Entity> {
        let name = cols[name_at]?;
        let sectors: Vec<&str> =
            cols[name_at + 1].unwrap_or("").split(',').map(|s| s.trim().trim_matches('"')).collect();
        let country = self.country(cols[name_at + 2]);
        if let Some(known) = self.mapping.country_by_name(name) {
            return Some(Entity::country(known));
        }
        let rules = &self.mapping.actors;
        let has = |list: &[String]| sectors.iter().any(|s| list.iter().any(|l| l.eq_ignore_ascii_case(s)));
        if let Some((role, inside)) = name.strip_suffix(')').and_then(|n| n.rsplit_once(" (")) {
            let agent_country = self.country(Some(inside)).or(country);
            if has(&rules.state_sectors) && agent_country.is_some() {
                return agent_country;
            }
            let mut organization = Entity::new("Organization", format!("{role} ({inside})"));
            organization.country = agent_country.map(Box::new);
            return Some(organization);
        }
        // An organisation's own row carries its sector; so does its leader's ("Jens
        // Stoltenberg" is NATO's): the name tells them apart.
        let organization_sector =
            sectors.iter().any(|s| (s.contains("Organization") && !s.contains("Ministry")) || s.contains("IGO"));
        let organization_name = !name.chars().any(char::is_lowercase)
            || name
                .split_whitespace()
                .any(|word| rules.organization_words.iter().any(|w| w.eq_ignore_ascii_case(word)));
        if organization_sector && organization_name {
            return Some(Entity::new("Organization", name));
        }
        if sectors.iter().all(|s| s.is_empty()) && country.is_none() {
            return None;
        }
        let mut person = Entity::new("Person", name);
        person.country = country.map(Box::new);
        Some(person)
    }

    fn country(&self, name: Option<&str>) -> Option<Entity> {
        let name = name?;
        Some(match self.mapping.country_by_name(name) {
            Some(known) => Entity::country(known),
            None => Entity::new("Country", name),
        })
    }

    /// The event's place: "City, Province, Country" when a city is given, else the Country.
    fn place(&self, cols: &[Option<&str>]) -> Option<Entity> {
        let country = self.country(cols[CITY + 2]);
        let Some(city) = cols[CITY] else { return country };
        let parts: Vec<String> = [Some(city), cols[CITY + 1]]
            .into_iter()
            .flatten()
            .map(str::to_string)
            .chain(country.as_ref().map(|c| c.name.clone()))
            .collect();
        let mut place = Entity::new("Place", parts.join(", "));
        place.country = country.map(Box::new);
        Some(place)
    }

    fn finish_impl(self) -> Vec<ArticleDraft> {
        self.drafts
    }
}

fn null_if_na(value: &str) -> Option<&str> {
    let value = value.trim();
    (!value.is_empty() && value != "NA").then_some(value)
}

fn header_positions(source: &str, header: &Line) -> Result<Vec<usize>, ImportError> {
    let text = String::from_utf8_lossy(&header.bytes);
    let names: Vec<&str> = text.split('\t').map(str::trim).collect();
    let mut positions = Vec::with_capacity(COLUMNS.len());
    for column in COLUMNS {
        match names.iter().position(|n| n.eq_ignore_ascii_case(column)) {
            Some(at) => positions.push(at),
            None => {
                let hint = if column == "CAMEO Code" {
                    " (the Events.2017 file ships without it; its rows cannot be mapped)"
                } else {
                    ""
                };
                return Err(ImportError::Input {
                    source_name: source.to_string(),
                    reason: format!("line 1: the header has no '{column}' column{hint}; is this an ICEWS events file?"),
                });
            }
        }
    }
    Ok(positions)
}

/// `YYYY-MM-DD`, or the 2017 file's `m/d/yyyy`, as `YYYY-MM-DD`, checked.
fn icews_date(text: &str) -> Result<String, String> {
    let bad = || format!("'{}' is not a date; ICEWS writes YYYY-MM-DD (or m/d/yyyy)", super::shorten(text));
    let date = if let Some((month, rest)) = text.split_once('/') {
        let (day, year) = rest.split_once('/').ok_or_else(bad)?;
        let number = |s: &str, max_len: usize| {
            (!s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<u32>().ok())
                .flatten()
        };
        let (Some(month), Some(day)) = (number(month, 2), number(day, 2)) else { return Err(bad()) };
        if year.len() != 4 || number(year, 4).is_none() {
            return Err(bad());
        }
        format!("{year}-{month:02}-{day:02}")
    } else {
        text.to_string()
    };
    if date.len() != 10 {
        return Err(bad());
    }
    check_date(&date)?;
    Ok(date)
}

impl super::DatasetReader for IcewsImport<'_> {
    fn read_stream(&mut self, source: &str, input: &mut dyn BufRead, rows: &mut Rows<'_>) -> Result<(), ImportError> {
        self.read_stream_impl(source, input, rows)
    }

    fn finish(self: Box<Self>) -> Vec<ArticleDraft> {
        self.finish_impl()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_icews_date_forms_are_read_and_checked() {
        assert_eq!(icews_date("2018-06-01").unwrap(), "2018-06-01");
        assert_eq!(icews_date("1/7/2017").unwrap(), "2017-01-07");
        assert!(icews_date("2/30/2017").is_err());
        assert!(icews_date("2018").is_err());
        assert!(icews_date("13y").is_err());
    }
}
