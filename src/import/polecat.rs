//! POLECAT (PLOVER-coded) weekly tab files: a header row read by name through an alias
//! table (columns were renamed between releases), excess trailing tabs tolerated, the
//! literal `None` as null, `;` lists for compound actors, UTF-8 with a Latin-1 fallback.
//! The story key is the Event ID's prefix before the first `_`. Builds article drafts only:
//! it never touches the store.

use std::io::BufRead;

use rustc_hash::{FxHashMap, FxHashSet};

use super::article::{make_fact, ArticleDraft, Entity, RowActors};
use super::mapping::Mapping;
use super::source::{Line, LineReader};
use super::{ImportError, ImportOptions, Rows};
use crate::ingest::validate::check_date;
use crate::ontology::Ontology;

/// The columns read: the name used here, the header names it goes by, whether required.
const COLUMNS: [(&str, &[&str], bool); 19] = [
    ("Event ID", &["Event ID", "EventID", "event_id"], true),
    ("Event Date", &["Event Date", "event_date"], true),
    ("Event Type", &["Event Type", "event_type"], true),
    ("Event Mode", &["Event Mode", "Mode", "event_mode"], true),
    ("Actor Name", &["Actor Name", "actor_name"], true),
    ("Actor Country", &["Actor Country", "actor_country"], true),
    ("Primary Actor Sector", &["Primary Actor Sector", "Actor Primary Sector"], false),
    ("Actor Name Raw", &["Actor Name Raw", "Actor Raw Name", "actor_name_raw"], false),
    ("Recipient Name", &["Recipient Name", "recipient_name"], true),
    ("Recipient Country", &["Recipient Country", "recipient_country"], true),
    ("Primary Recipient Sector", &["Primary Recipient Sector", "Recipient Primary Sector"], false),
    ("Recipient Name Raw", &["Recipient Name Raw", "Recipient Raw Name", "recipient_name_raw"], false),
    ("Placename", &["Placename", "Place Name"], false),
    ("City", &["City"], false),
    ("Province", &["Province"], false),
    ("Country", &["Country"], false),
    ("Source", &["Source", "Publisher", "Feed"], false),
    ("Publication Date", &["Publication Date", "Pub Date", "publication_date"], true),
    ("Language", &["Language"], false),
];
const EVENT_ID: usize = 0;
const EVENT_DATE: usize = 1;
const EVENT_TYPE: usize = 2;
const EVENT_MODE: usize = 3;
const ACTOR: usize = 4;
const RECIPIENT: usize = 8;
const PLACENAME: usize = 12;
const SOURCE: usize = 16;
const PUBLICATION_DATE: usize = 17;
const LANGUAGE: usize = 18;

/// The 40 columns of the documented layout, for files whose header names more columns
/// than their rows have (a `Headline` among them): such rows are bound by these.
const CANONICAL: [&str; 40] = [
    "Event ID",
    "Event Date",
    "Event Type",
    "Event Mode",
    "Intensity",
    "Quad Code",
    "Contexts",
    "Actor Name",
    "Actor Country",
    "Actor COW",
    "Primary Actor Sector",
    "Actor Sectors",
    "Actor Title",
    "Actor Name Raw",
    "Wikipedia Actor ID",
    "Recipient Name",
    "Recipient Country",
    "Recipient COW",
    "Primary Recipient Sector",
    "Recipient Sectors",
    "Recipient Title",
    "Recipient Name Raw",
    "Wikipedia Recipient ID",
    "Placename",
    "City",
    "District",
    "Province",
    "Country",
    "Latitude",
    "Longitude",
    "GeoNames ID",
    "Raw Placename",
    "Feature Type",
    "Source",
    "Publication Date",
    "Story People",
    "Story Organizations",
    "Story Locations",
    "Language",
    "Version",
];

/// Where each read column is in a row (`None`: an optional column the file lacks).
struct Layout {
    positions: Vec<Option<usize>>,
    width: usize,
}

pub struct PolecatImport<'m> {
    mapping: &'m Mapping,
    ontology: &'m Ontology,
    opt_ins: Vec<&'static str>,
    seen: FxHashSet<u64>,
    drafts: Vec<ArticleDraft>,
    by_story: FxHashMap<String, usize>,
}

impl<'m> PolecatImport<'m> {
    pub fn new(mapping: &'m Mapping, ontology: &'m Ontology, options: &ImportOptions<'_>) -> Self {
        PolecatImport {
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
        let input_error =
            |e: std::io::Error| ImportError::Input { source_name: source.to_string(), reason: e.to_string() };
        let mut lines = LineReader::new(input);
        let Some(header) = lines.next_line().map_err(input_error)? else { return Ok(()) };
        let names: Vec<String> = decode(&header.bytes).split('\t').map(|n| n.trim().to_string()).collect();
        let by_header = layout(source, &names.iter().map(String::as_str).collect::<Vec<_>>())?;
        let has_headline = names.iter().any(|n| n.eq_ignore_ascii_case("Headline"));
        let canonical = if has_headline { Some(layout(source, &CANONICAL)?) } else { None };
        while let Some(line) = lines.next_line().map_err(input_error)? {
            if line.bytes.is_empty() && !line.too_long {
                continue;
            }
            rows.progress();
            self.row(source, &line, &by_header, canonical.as_ref(), rows)?;
        }
        Ok(())
    }

    fn row(
        &mut self,
        source: &str,
        line: &Line,
        by_header: &Layout,
        canonical: Option<&Layout>,
        rows: &mut Rows<'_>,
    ) -> Result<(), ImportError> {
        rows.counts.read += 1;
        if line.too_long {
            return rows.reject(source, line, "row", &super::too_long_reason());
        }
        if line.unterminated {
            return rows.reject(source, line, "row", super::UNTERMINATED);
        }
        let text = decode(&line.bytes);
        let all: Vec<&str> = text.split('\t').collect();
        // A header with excess names (it has a `Headline`) over rows of the documented 40.
        let layout = match canonical {
            Some(canonical) if all.len() == CANONICAL.len() && by_header.width != CANONICAL.len() => canonical,
            _ => by_header,
        };
        if all.len() < layout.width {
            let reason = format!("{} columns; the header names {}", all.len(), layout.width);
            return rows.reject(source, line, "row", &reason);
        }
        if all[layout.width..].iter().any(|extra| !extra.trim().is_empty()) {
            let reason = format!("{} columns and the ones past the header's {} are not empty", all.len(), layout.width);
            return rows.reject(source, line, "row", &reason);
        }
        let cols: Vec<Option<&str>> =
            layout.positions.iter().map(|at| at.and_then(|at| null_if_none(all[at]))).collect();
        let Some(event_type) = cols[EVENT_TYPE] else {
            return rows.reject(source, line, "Event Type", "missing; every POLECAT event has a PLOVER type");
        };
        let mode = cols[EVENT_MODE];
        let Some(rule) = self.mapping.plover_rule(event_type, mode, &self.opt_ins) else {
            rows.counts.dropped += 1;
            return Ok(());
        };
        let rule = rule.clone();
        let Some(event_id) = cols[EVENT_ID] else {
            return rows.reject(source, line, "Event ID", "missing");
        };
        let Some(story) = event_id.split('_').next().filter(|s| !s.is_empty() && *s != event_id) else {
            let reason = format!("'{}' is not STORY_TYPE_MODE", super::shorten(event_id));
            return rows.reject(source, line, "Event ID", &reason);
        };
        let date = match checked_date(cols[EVENT_DATE]) {
            Ok(date) => date,
            Err(reason) => return rows.reject(source, line, "Event Date", &reason),
        };
        let published = match checked_date(cols[PUBLICATION_DATE]) {
            Ok(date) => date,
            Err(reason) => return rows.reject(source, line, "Publication Date", &reason),
        };
        let key = xxhash_rust::xxh3::xxh3_64(event_id.as_bytes());
        if !self.seen.insert(key) | !self.seen.insert(xxhash_rust::xxh3::xxh3_64(&line.bytes)) {
            rows.counts.folded += 1;
            return Ok(());
        }
        let actors = RowActors {
            source: self.actors(&cols, ACTOR),
            target: self.actors(&cols, RECIPIENT),
            source_country: self.country_by_code(cols[ACTOR + 1]),
            target_country: self.country_by_code(cols[RECIPIENT + 1]),
            place: self.place(&cols),
        };
        let mut fact = match make_fact(&rule, &actors, Some(date.clone()), "POLECAT", self.ontology) {
            Ok(fact) => fact,
            Err(_) => {
                rows.counts.incomplete += 1;
                return Ok(());
            }
        };
        // NGEC resolves "next week" to a future date: an event after its report is planned.
        let event_type = self.ontology.event_type(&fact.event_type);
        if date > published
            && fact.status == "occurred"
            && event_type.is_some_and(|t| t.statuses.iter().any(|s| s == "planned"))
        {
            fact.status = "planned".to_string();
        }
        fact.evidence = vec![format!("POLECAT event {event_id} ({})", rule.code)];
        fact.source_ids = vec![format!("polecat:{event_id}")];
        let id = format!("polecat:story:{story}");
        let at = match self.by_story.get(&id) {
            Some(&at) => at,
            None => {
                self.drafts.push(ArticleDraft {
                    id: id.clone(),
                    url: None,
                    outlet: cols[SOURCE].map(str::to_string),
                    published,
                    language: cols[LANGUAGE].map(str::to_string),
                    title: None,
                    facts: Vec::new(),
                    origin: (source.to_string(), line.number),
                });
                self.by_story.insert(id, self.drafts.len() - 1);
                self.drafts.len() - 1
            }
        };
        if self.drafts[at].add_fact(fact) {
            rows.counts.folded += 1;
        } else {
            rows.counts.kept += 1;
        }
        Ok(())
    }

    /// The actors of one side: each name of the `;` list (the raw text where the resolved
    /// name is `None`). A country's name is the Country; an IGO/NGO sector makes an
    /// Organization; any other name is a Person of the side's country.
    fn actors(&self, cols: &[Option<&str>], name_at: usize) -> Vec<Entity> {
        let names = cols[name_at].or(cols[name_at + 3]);
        let country = self.country_by_code(cols[name_at + 1]);
        let sector = cols[name_at + 2].unwrap_or("");
        let organization = self.mapping.actors.organization_types.iter().any(|t| t.eq_ignore_ascii_case(sector.trim()));
        let mut entities = Vec::new();
        for name in names.into_iter().flat_map(split_list) {
            let entity = if let Some(known) = self.mapping.country_by_name(&name) {
                Entity::country(known)
            } else if self.mapping.names_a_country(&name) || self.mapping.is_generic_name(&name) {
                match &country {
                    Some(country) => country.clone(),
                    None => continue,
                }
            } else if organization {
                Entity::new("Organization", name)
            } else {
                let mut person = Entity::new("Person", name);
                person.country = country.clone().map(Box::new);
                person
            };
            entities.push(entity);
        }
        entities
    }

    fn country_by_code(&self, code: Option<&str>) -> Option<Entity> {
        let code = split_list(code?).into_iter().next()?;
        self.mapping.country_by_cameo(&code.to_uppercase()).map(Entity::country)
    }

    /// "Placename (or City), Province, Country" when a place is named, else the Country.
    fn place(&self, cols: &[Option<&str>]) -> Option<Entity> {
        let country = self.country_by_code(cols[PLACENAME + 3]);
        let Some(name) = cols[PLACENAME].or(cols[PLACENAME + 1]) else { return country };
        if country.as_ref().is_some_and(|c| crate::model::normalize_name(&c.name) == crate::model::normalize_name(name))
        {
            return country;
        }
        let mut parts = vec![name.to_string()];
        parts.extend(cols[PLACENAME + 2].filter(|p| *p != name).map(str::to_string));
        parts.extend(country.as_ref().map(|c| c.name.clone()));
        let mut place = Entity::new("Place", parts.join(", "));
        place.country = country.map(Box::new);
        Some(place)
    }

    fn finish_impl(self) -> Vec<ArticleDraft> {
        self.drafts
    }
}

/// UTF-8, or (as several public loaders read these files) Latin-1.
fn decode(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => std::borrow::Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
    }
}

fn null_if_none(value: &str) -> Option<&str> {
    let value = value.trim();
    (!value.is_empty() && value != "None").then_some(value)
}

/// A `;`-separated cell: items trimmed, surrounding double quotes dropped, `None` skipped.
fn split_list(cell: &str) -> Vec<String> {
    cell.split(';')
        .map(|item| item.trim().trim_matches('"').trim())
        .filter(|item| !item.is_empty() && *item != "None")
        .map(str::to_string)
        .collect()
}

fn checked_date(text: Option<&str>) -> Result<String, String> {
    let text = text.ok_or_else(|| "missing".to_string())?;
    if text.len() != 10 {
        return Err(format!("'{}' is not a date; POLECAT writes YYYY-MM-DD", super::shorten(text)));
    }
    check_date(text)?;
    Ok(text.to_string())
}

fn layout(source: &str, names: &[&str]) -> Result<Layout, ImportError> {
    let mut positions = Vec::with_capacity(COLUMNS.len());
    for (column, aliases, required) in COLUMNS {
        let at = names.iter().position(|n| aliases.iter().any(|a| a.eq_ignore_ascii_case(n.trim())));
        if at.is_none() && required {
            return Err(ImportError::Input {
                source_name: source.to_string(),
                reason: format!(
                    "line 1: the header has no '{column}' column (also read as {}); is this a POLECAT events file?",
                    aliases.join(", ")
                ),
            });
        }
        positions.push(at);
    }
    // Excess trailing tabs in the header name nothing.
    let width = names.iter().rposition(|n| !n.trim().is_empty()).map_or(0, |last| last + 1);
    Ok(Layout { positions, width })
}

impl super::DatasetReader for PolecatImport<'_> {
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
    fn lists_split_on_semicolons_and_drop_quotes_and_none() {
        assert_eq!(split_list(r#"Angela Merkel; "Emmanuel Macron";None"#), ["Angela Merkel", "Emmanuel Macron"]);
    }

    #[test]
    fn latin1_rows_decode() {
        assert_eq!(decode(b"Erdo\xf0an"), "Erdoðan");
        assert_eq!(decode("Erdoğan".as_bytes()), "Erdoğan");
    }
}
