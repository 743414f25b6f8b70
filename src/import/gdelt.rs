//! GDELT 2.0: events exports (61 tab-separated columns, no header, no quoting) and mentions
//! files (16 columns; also the comma-separated form with a header that pandas writes), bound
//! by position. The EventCode column is read first, so the rows no rule keeps cost a scan
//! for tabs and nothing more. Kept events wait for their mentions; at the end of the run each
//! MentionIdentifier becomes one article, and an event no mention names is reported by its
//! SOURCEURL. Builds article drafts only: it never touches the store.

use std::hash::{Hash, Hasher};
use std::io::BufRead;

use rustc_hash::{FxHashMap, FxHashSet, FxHasher};

use super::article::{make_fact, organization_name, title_case, ArticleDraft, Entity, Fact, RowActors};
use super::mapping::Mapping;
use super::source::{Line, LineReader};
use super::{ImportError, ImportOptions, Rows};
use crate::ingest::validate::check_date;
use crate::ontology::Ontology;
use crate::store::Store;

pub const EVENT_COLUMNS: usize = 61;
pub const MENTION_COLUMNS: usize = 16;

const GLOBALEVENTID: usize = 0;
const SQLDATE: usize = 1;
const ACTOR1: usize = 5;
const ACTOR2: usize = 15;
const EVENT_CODE: usize = 26;
const ACTOR1_GEO_TYPE: usize = 35;
const ACTION_GEO_TYPE: usize = 51;
const DATEADDED: usize = 59;
const SOURCEURL: usize = 60;

/// The mention columns by position, with the names the pandas variant's header uses.
const MENTION_NAMES: [&str; MENTION_COLUMNS] = [
    "globaleventid",
    "eventtimedate",
    "mentiontimedate",
    "mentiontype",
    "mentionsourcename",
    "mentionidentifier",
    "sentenceid",
    "actor1charoffset",
    "actor2charoffset",
    "actioncharoffset",
    "inrawtext",
    "confidence",
    "mentiondoclen",
    "mentiondoctone",
    "mentiondoctranslationinfo",
    "extras",
];

/// A kept event row, waiting for its mentions.
struct KeptEvent {
    code: String,
    code_name: String,
    fact: Fact,
    /// The rule's confidence factor (1 when the code is not weak).
    factor: f64,
    source_url: String,
    added: String,
    origin: (String, usize),
    mentioned: bool,
}

/// One document's mentions, by event.
struct MentionedArticle {
    draft: ArticleDraft,
    mentions: Vec<(u64, Vec<String>, f64)>,
}

/// The state of one GDELT import run.
pub struct GdeltImport<'m> {
    /// The store whose source-id index holds events imported by earlier runs.
    known: Option<&'m Store>,
    /// Event ids the store was asked about and does not have.
    unknown_events: FxHashSet<u64>,
    mapping: &'m Mapping,
    ontology: &'m Ontology,
    opt_ins: Vec<&'static str>,
    events: FxHashMap<u64, KeptEvent>,
    event_order: Vec<u64>,
    seen_rows: FxHashSet<u64>,
    /// Ids of the event rows dropped or incomplete in this run (8 bytes a row).
    dropped_events: FxHashSet<u64>,
    /// (SOURCEURL, fact) pairs seen, to fold mirrored rows of one report.
    reported_facts: FxHashSet<u64>,
    articles: Vec<MentionedArticle>,
    article_index: FxHashMap<String, usize>,
    seen_mentions: FxHashSet<u64>,
    /// A mentions stream was read since the last drain.
    read_mentions: bool,
    /// Keep drained events for later slices (when emitting: no store will hold them).
    retain_events: bool,
}

impl<'m> GdeltImport<'m> {
    pub fn new(
        mapping: &'m Mapping,
        ontology: &'m Ontology,
        options: &ImportOptions<'_>,
        known: Option<&'m Store>,
        retain_events: bool,
    ) -> Self {
        GdeltImport {
            known,
            unknown_events: FxHashSet::default(),
            mapping,
            ontology,
            opt_ins: options.opt_ins(),
            events: FxHashMap::default(),
            event_order: Vec::new(),
            seen_rows: FxHashSet::default(),
            dropped_events: FxHashSet::default(),
            reported_facts: FxHashSet::default(),
            articles: Vec::new(),
            article_index: FxHashMap::default(),
            seen_mentions: FxHashSet::default(),
            read_mentions: false,
            retain_events,
        }
    }

    /// Reads one stream: an events export or a mentions file, told apart by its first line.
    fn read_stream_impl(
        &mut self,
        source: &str,
        input: &mut dyn BufRead,
        rows: &mut Rows<'_>,
    ) -> Result<(), ImportError> {
        let peek = super::peek_line(input).map_err(|e| input_error(source, e))?;
        if peek.to_ascii_lowercase().starts_with(b"globaleventid,") {
            self.read_mentions = true;
            return self.read_mentions_csv(source, input, rows);
        }
        let columns = memchr::memchr_iter(b'\t', &peek).count() + 1;
        let is_mentions = columns == MENTION_COLUMNS;
        self.read_mentions |= is_mentions;
        let mut lines = LineReader::new(input);
        while let Some(line) = lines.next_line().map_err(|e| input_error(source, e))? {
            if line.bytes.is_empty() && !line.too_long {
                continue;
            }
            rows.progress();
            if is_mentions {
                self.mention_line(source, line, rows)?;
            } else {
                self.event_line(source, line, rows)?;
            }
        }
        Ok(())
    }

    fn event_line(&mut self, source: &str, line: Line, rows: &mut Rows<'_>) -> Result<(), ImportError> {
        rows.counts.read += 1;
        if line.too_long {
            return rows.reject(source, &line, "row", &super::too_long_reason());
        }
        // The code column first: most rows end here.
        let mut tabs = memchr::memchr_iter(b'\t', &line.bytes);
        let start = tabs.nth(EVENT_CODE - 1).map(|i| i + 1);
        let end = tabs.next();
        let (Some(start), Some(end)) = (start, end) else {
            let columns = memchr::memchr_iter(b'\t', &line.bytes).count() + 1;
            return rows.reject(source, &line, "row", &event_columns_reason(columns));
        };
        let code = std::str::from_utf8(&line.bytes[start..end]).unwrap_or("");
        let Some(rule) = self.mapping.cameo_rule(code, &self.opt_ins) else {
            rows.counts.dropped += 1;
            self.remember_dropped(&line.bytes);
            return Ok(());
        };
        let rule = rule.clone();
        if line.unterminated {
            return rows.reject(source, &line, "row", super::UNTERMINATED);
        }
        let text = match std::str::from_utf8(&line.bytes) {
            Ok(text) => text,
            Err(e) => return rows.reject(source, &line, "row", &super::utf8_reason(&e)),
        };
        let cols: Vec<&str> = text.split('\t').collect();
        if cols.len() != EVENT_COLUMNS {
            return rows.reject(source, &line, "row", &event_columns_reason(cols.len()));
        }
        let Ok(event_id) = cols[GLOBALEVENTID].parse::<u64>() else {
            let reason = format!("'{}' is not a number; column 1 is the event id", super::shorten(cols[GLOBALEVENTID]));
            return rows.reject(source, &line, "GLOBALEVENTID", &reason);
        };
        let date = match gdelt_date(cols[SQLDATE]) {
            Ok(date) => date,
            Err(reason) => return rows.reject(source, &line, "SQLDATE", &reason),
        };
        let added = match gdelt_timestamp(cols[DATEADDED]) {
            Ok(added) => added,
            Err(reason) => return rows.reject(source, &line, "DATEADDED", &reason),
        };
        if !self.seen_rows.insert(xxhash_rust::xxh3::xxh3_64(&line.bytes)) || self.events.contains_key(&event_id) {
            rows.counts.folded += 1;
            return Ok(());
        }
        let actors = self.row_actors(&cols);
        let fact = match make_fact(&rule, &actors, Some(date), "GDELT", self.ontology) {
            Ok(fact) => fact,
            Err(_) => {
                rows.counts.incomplete += 1;
                self.dropped_events.insert(event_id);
                return Ok(());
            }
        };
        let source_url = cols[SOURCEURL].trim().to_string();
        if source_url.is_empty() {
            return rows.reject(
                source,
                &line,
                "SOURCEURL",
                "empty; every GDELT event names the document it was coded from",
            );
        }
        let mut hasher = FxHasher::default();
        source_url.hash(&mut hasher);
        fact.fold_key().hash(&mut hasher);
        if self.reported_facts.insert(hasher.finish()) {
            rows.counts.kept += 1;
        } else {
            rows.counts.folded += 1;
        }
        let mut fact = fact;
        fact.source_ids = vec![format!("gdelt:{event_id}")];
        let factor = fact.confidence.unwrap_or(1.0);
        self.events.insert(
            event_id,
            KeptEvent {
                code: rule.code.clone(),
                code_name: rule.name.clone(),
                fact,
                factor,
                source_url,
                added,
                origin: (source.to_string(), line.number),
                mentioned: false,
            },
        );
        self.event_order.push(event_id);
        Ok(())
    }

    /// Keeps the id of a dropped row, so its mentions count as dropped, not unmatched.
    fn remember_dropped(&mut self, row: &[u8]) {
        let end = memchr::memchr(b'\t', row).unwrap_or(row.len());
        if let Some(id) = std::str::from_utf8(&row[..end]).ok().and_then(|s| s.parse::<u64>().ok()) {
            self.dropped_events.insert(id);
        }
    }

    fn row_actors(&self, cols: &[&str]) -> RowActors {
        let (source, source_country) = self.actor(cols, ACTOR1);
        let (target, target_country) = self.actor(cols, ACTOR2);
        RowActors {
            source: source.into_iter().collect(),
            target: target.into_iter().collect(),
            source_country,
            target_country,
            place: self.action_place(cols),
        }
    }

    /// An actor by the rule of README "Loading GDELT, ICEWS and POLECAT": a person's name
    /// with a person type is the Person; else a known country code is the Country; else a
    /// non-generic name with an organisation type is the Organization; else nobody.
    fn actor(&self, cols: &[&str], base: usize) -> (Option<Entity>, Option<Entity>) {
        let code = cols[base].trim();
        let name = cols[base + 1].trim();
        let country = self.mapping.country_by_cameo(cols[base + 2].trim()).map(Entity::country);
        let mut types: Vec<&str> =
            cols[base + 7..=base + 9].iter().map(|t| t.trim()).filter(|t| !t.is_empty()).collect();
        types.extend(code.as_bytes().chunks(3).filter_map(|c| std::str::from_utf8(c).ok()));
        let has = |list: &[String]| types.iter().any(|t| list.iter().any(|l| l == t));
        if name.is_empty() {
            return (None, country);
        }
        let rules = &self.mapping.actors;
        let generic = self.mapping.is_generic_name(name);
        // "ILLINOIS" coded USALEG names where the actor is, as its geo column says.
        let geo_name = cols[actor_geo(base) + 1].split(',').next().unwrap_or("").trim();
        let names_a_country = self.mapping.names_a_country(name)
            || (!geo_name.is_empty() && crate::model::normalize_name(geo_name) == crate::model::normalize_name(name));
        if has(&rules.person_types) && !generic && !names_a_country {
            let mut person = Entity::new("Person", title_case(name));
            person.country = country.clone().map(Box::new);
            return (Some(person), country);
        }
        if let Some(country) = &country {
            return (Some(country.clone()), Some(country.clone()));
        }
        if has(&rules.organization_types) && !generic && !names_a_country {
            return (Some(Entity::new("Organization", organization_name(name))), None);
        }
        (None, None)
    }

    /// ActionGeo: a country (type 1) is the Country; a state, city or region is a Place
    /// named by its full name, located in its country (FIPS 10-4 code).
    fn action_place(&self, cols: &[&str]) -> Option<Entity> {
        let geo_type = cols[ACTION_GEO_TYPE].trim();
        let full_name = cols[ACTION_GEO_TYPE + 1].trim();
        let country = self.mapping.country_by_fips(cols[ACTION_GEO_TYPE + 2].trim()).map(Entity::country);
        match geo_type {
            "1" => country.or_else(|| self.mapping.country_by_name(full_name).map(Entity::country)),
            "2" | "3" | "4" | "5" if !full_name.is_empty() => {
                let mut place = Entity::new("Place", full_name);
                place.country = country.map(Box::new);
                Some(place)
            }
            _ => None,
        }
    }

    fn mention_line(&mut self, source: &str, line: Line, rows: &mut Rows<'_>) -> Result<(), ImportError> {
        rows.counts.read += 1;
        if line.too_long {
            return rows.reject(source, &line, "row", &super::too_long_reason());
        }
        if line.unterminated {
            return rows.reject(source, &line, "row", super::UNTERMINATED);
        }
        let text = match std::str::from_utf8(&line.bytes) {
            Ok(text) => text,
            Err(e) => return rows.reject(source, &line, "row", &super::utf8_reason(&e)),
        };
        let cols: Vec<&str> = text.split('\t').collect();
        if cols.len() != MENTION_COLUMNS {
            let reason = format!(
                "{} columns; a GDELT 2.0 mentions row has {MENTION_COLUMNS} (tab-separated, no quoting)",
                cols.len()
            );
            return rows.reject(source, &line, "row", &reason);
        }
        self.mention(source, &line, &cols, rows)
    }

    /// The pandas-written variant: comma-separated, quoted where needed, a lower-case header.
    fn read_mentions_csv(
        &mut self,
        source: &str,
        input: &mut dyn BufRead,
        rows: &mut Rows<'_>,
    ) -> Result<(), ImportError> {
        let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(input);
        let headers = reader.byte_headers().map_err(|e| csv_error(source, e))?.clone();
        let mut positions = Vec::with_capacity(MENTION_COLUMNS);
        for name in MENTION_NAMES {
            let found = headers.iter().position(|h| String::from_utf8_lossy(h).trim().eq_ignore_ascii_case(name));
            match found {
                Some(at) => positions.push(Some(at)),
                None if name == "extras" => positions.push(None),
                None => {
                    return Err(ImportError::Input {
                        source_name: source.to_string(),
                        reason: format!("line 1: the header has no column '{name}'; a GDELT mentions file with a header names all 16 columns"),
                    })
                }
            }
        }
        let mut record = csv::ByteRecord::new();
        loop {
            let number = reader.position().line();
            match reader.read_byte_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => return Err(csv_error(source, e)),
            }
            rows.progress();
            let number = usize::try_from(record.position().map_or(number, |p| p.line())).unwrap_or(usize::MAX);
            let raw = record.iter().collect::<Vec<_>>().join(&b","[..]);
            let line = Line { number, bytes: raw, unterminated: false, too_long: false };
            rows.counts.read += 1;
            let mut cols = Vec::with_capacity(MENTION_COLUMNS);
            let mut bad_utf8 = None;
            for position in &positions {
                let field = position.and_then(|at| record.get(at)).unwrap_or(b"");
                match std::str::from_utf8(field) {
                    Ok(text) => cols.push(text),
                    Err(e) => {
                        bad_utf8 = Some(super::utf8_reason(&e));
                        break;
                    }
                }
            }
            if let Some(reason) = bad_utf8 {
                rows.reject(source, &line, "row", &reason)?;
                continue;
            }
            self.mention(source, &line, &cols, rows)?;
        }
        Ok(())
    }

    fn mention(&mut self, source: &str, line: &Line, cols: &[&str], rows: &mut Rows<'_>) -> Result<(), ImportError> {
        let Ok(event_id) = cols[0].trim().parse::<u64>() else {
            let reason = format!("'{}' is not a number; column 1 is the event id", super::shorten(cols[0]));
            return rows.reject(source, line, "GLOBALEVENTID", &reason);
        };
        let published = match gdelt_timestamp(cols[2]) {
            Ok(date) => date,
            Err(reason) => return rows.reject(source, line, "MentionTimeDate", &reason),
        };
        let identifier = cols[5].trim();
        if identifier.is_empty() {
            return rows.reject(source, line, "MentionIdentifier", "empty; a mention names its document");
        }
        let confidence = match cols[11].trim().parse::<f64>() {
            Ok(c) if (0.0..=100.0).contains(&c) => c / 100.0,
            _ => {
                let reason = format!("'{}' is not a percentage from 0 to 100", super::shorten(cols[11]));
                return rows.reject(source, line, "Confidence", &reason);
            }
        };
        if !self.events.contains_key(&event_id) && !self.find_stored_event(event_id, source, line)? {
            if self.dropped_events.contains(&event_id) {
                rows.counts.dropped += 1;
            } else {
                rows.counts.unmatched_mentions += 1;
            }
            return Ok(());
        }
        let Some(event) = self.events.get_mut(&event_id) else { return Ok(()) };
        let mut hasher = FxHasher::default();
        (event_id, identifier, cols[6].trim()).hash(&mut hasher);
        if !self.seen_mentions.insert(hasher.finish()) {
            rows.counts.folded += 1;
            return Ok(());
        }
        rows.counts.kept += 1;
        event.mentioned = true;
        let evidence = mention_evidence(event_id, &event.code, &event.code_name, cols);
        let confidence = confidence * event.factor;
        let id = format!("gdelt:{identifier}");
        let index = match self.article_index.get(&id) {
            Some(&index) => index,
            None => {
                let language = cols[14].split(';').find_map(|part| part.trim().strip_prefix("srclc:"));
                let draft = ArticleDraft {
                    id: id.clone(),
                    url: (cols[3].trim() == "1").then(|| identifier.to_string()),
                    outlet: Some(cols[4].trim()).filter(|s| !s.is_empty()).map(str::to_string),
                    published,
                    language: Some(language.map_or_else(|| "en".to_string(), |code| self.mapping.language(code))),
                    title: None,
                    facts: Vec::new(),
                    origin: (source.to_string(), line.number),
                };
                self.articles.push(MentionedArticle { draft, mentions: Vec::new() });
                self.article_index.insert(id, self.articles.len() - 1);
                self.articles.len() - 1
            }
        };
        let mentions = &mut self.articles[index].mentions;
        match mentions.iter_mut().find(|(id, _, _)| *id == event_id) {
            Some((_, lines, best)) => {
                lines.push(evidence);
                *best = best.max(confidence);
            }
            None => mentions.push((event_id, vec![evidence], confidence)),
        }
        Ok(())
    }

    /// Looks a mention's event up among the events earlier runs stored; a found one joins
    /// this run's events (its confidence factor is that of the first rule making its type
    /// and status, since the store keeps no CAMEO code).
    fn find_stored_event(&mut self, event_id: u64, source: &str, line: &Line) -> Result<bool, ImportError> {
        let Some(store) = self.known else { return Ok(false) };
        if self.dropped_events.contains(&event_id) || !self.unknown_events.insert(event_id) {
            return Ok(false);
        }
        let Some(fact) = super::known::stored_fact(store, self.ontology, &format!("gdelt:{event_id}"))? else {
            return Ok(false);
        };
        self.unknown_events.remove(&event_id);
        let rule = self.mapping.cameo_rules.iter().find(|r| r.event_type == fact.event_type && r.status == fact.status);
        self.events.insert(
            event_id,
            KeptEvent {
                code: String::new(),
                code_name: String::new(),
                factor: rule.map_or(1.0, |r| r.confidence),
                fact: Fact { according_to: "GDELT".to_string(), ..fact },
                source_url: String::new(),
                added: String::new(),
                origin: (source.to_string(), line.number),
                mentioned: true,
            },
        );
        Ok(true)
    }

    fn finish_impl(mut self) -> Vec<ArticleDraft> {
        self.drain()
    }

    /// After a mentions file, everything read so far is complete: its articles go, and the
    /// next slice starts empty (its mentions of these events find them in the store).
    fn take_ready_impl(&mut self) -> Vec<ArticleDraft> {
        if std::mem::take(&mut self.read_mentions) {
            self.drain()
        } else {
            Vec::new()
        }
    }

    /// The articles of the rows read so far: one per mentioned document, then one per
    /// SOURCEURL of the events no mention named. Leaves the reader empty.
    fn drain(&mut self) -> Vec<ArticleDraft> {
        let drafts = self.drafts();
        if self.retain_events {
            // Nothing reaches a store: later slices find these events here instead, and see
            // them exactly as a store would show them (no CAMEO code, the factor of the first
            // rule of their type and status), so `--emit | ingest` equals `import`.
            for event in self.events.values_mut() {
                let rule = self
                    .mapping
                    .cameo_rules
                    .iter()
                    .find(|r| r.event_type == event.fact.event_type && r.status == event.fact.status);
                event.code.clear();
                event.factor = rule.map_or(1.0, |r| r.confidence);
                event.mentioned = true;
            }
        } else {
            self.events.clear();
            self.dropped_events.clear();
        }
        self.event_order.clear();
        self.seen_rows.clear();
        self.reported_facts.clear();
        self.article_index.clear();
        self.seen_mentions.clear();
        self.unknown_events.clear();
        drafts
    }

    fn drafts(&mut self) -> Vec<ArticleDraft> {
        let mut drafts = Vec::with_capacity(self.articles.len());
        let mut index: FxHashMap<String, usize> = FxHashMap::default();
        for article in std::mem::take(&mut self.articles) {
            let mut draft = article.draft;
            for (event_id, evidence, confidence) in article.mentions {
                let Some(event) = self.events.get(&event_id) else { continue };
                let mut fact = event.fact.clone();
                fact.evidence = evidence;
                fact.confidence = Some(confidence);
                draft.add_fact(fact);
            }
            index.insert(draft.id.clone(), drafts.len());
            drafts.push(draft);
        }
        for event_id in &self.event_order {
            let Some(event) = self.events.get(event_id) else { continue };
            if event.mentioned {
                continue;
            }
            let id = format!("gdelt:{}", event.source_url);
            let at = *index.entry(id.clone()).or_insert_with(|| {
                drafts.push(ArticleDraft {
                    id,
                    url: event.source_url.contains("://").then(|| event.source_url.clone()),
                    outlet: outlet_of(&event.source_url),
                    published: event.added.clone(),
                    language: None,
                    title: None,
                    facts: Vec::new(),
                    origin: event.origin.clone(),
                });
                drafts.len() - 1
            });
            let mut fact = event.fact.clone();
            fact.evidence =
                vec![format!("GDELT event {event_id}, CAMEO {} ({}); no mention row", event.code, event.code_name)];
            drafts[at].add_fact(fact);
        }
        drafts
    }
}

/// The first column of an actor's geo block (Actor1Geo_Type or Actor2Geo_Type).
fn actor_geo(actor_base: usize) -> usize {
    if actor_base == ACTOR1 {
        ACTOR1_GEO_TYPE
    } else {
        ACTOR1_GEO_TYPE + 8
    }
}

fn mention_evidence(event_id: u64, code: &str, code_name: &str, cols: &[&str]) -> String {
    let event = if code.is_empty() {
        format!("GDELT event {event_id} (imported earlier)")
    } else {
        format!("GDELT event {event_id}, CAMEO {code} ({code_name})")
    };
    let mut text = format!("{event}: sentence {}", cols[6].trim());
    for (label, value) in [("actor1", cols[7]), ("actor2", cols[8]), ("action", cols[9])] {
        let value = value.trim();
        if !value.is_empty() && value != "-1" {
            text.push_str(&format!(", {label} at character {value}"));
        }
    }
    text
}

/// The host of a URL, without `www.` (as GDELT's MentionSourceName writes outlets).
fn outlet_of(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.strip_prefix("www.").unwrap_or(host);
    (!host.is_empty() && host.contains('.')).then(|| host.to_string())
}

fn event_columns_reason(columns: usize) -> String {
    let hint = match columns {
        57 | 58 => " (this looks like a GDELT 1.0 file, which has another layout)",
        16 => " (this looks like a mentions row; give the mentions file as its own FILE)",
        _ => "",
    };
    format!("{columns} columns; a GDELT 2.0 events row has {EVENT_COLUMNS} (tab-separated, no quoting){hint}")
}

/// `YYYYMMDD` → `YYYY-MM-DD`, checked.
fn gdelt_date(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("'{}' is not a date; GDELT writes YYYYMMDD", super::shorten(text)));
    }
    let date = format!("{}-{}-{}", &text[..4], &text[4..6], &text[6..]);
    check_date(&date)?;
    Ok(date)
}

/// `YYYYMMDDHHMMSS` → its day as `YYYY-MM-DD`, checked.
fn gdelt_timestamp(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.len() != 14 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("'{}' is not a timestamp; GDELT writes YYYYMMDDHHMMSS", super::shorten(text)));
    }
    gdelt_date(&text[..8])
}

fn input_error(source: &str, error: std::io::Error) -> ImportError {
    ImportError::Input { source_name: source.to_string(), reason: error.to_string() }
}

fn csv_error(source: &str, error: csv::Error) -> ImportError {
    let at = error.position().map(|p| format!("line {}: ", p.line())).unwrap_or_default();
    ImportError::Input { source_name: source.to_string(), reason: format!("{at}{error}") }
}

impl super::DatasetReader for GdeltImport<'_> {
    fn read_stream(&mut self, source: &str, input: &mut dyn BufRead, rows: &mut Rows<'_>) -> Result<(), ImportError> {
        self.read_stream_impl(source, input, rows)
    }

    fn take_ready(&mut self) -> Vec<ArticleDraft> {
        self.take_ready_impl()
    }

    fn finish(self: Box<Self>) -> Vec<ArticleDraft> {
        self.finish_impl()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gdelt_dates_are_checked_and_reformatted() {
        assert_eq!(gdelt_date("20191024").unwrap(), "2019-10-24");
        assert!(gdelt_date("20191324").is_err());
        assert!(gdelt_date("2019-10-24").is_err());
        assert_eq!(gdelt_timestamp("20250807220000").unwrap(), "2025-08-07");
    }

    #[test]
    fn an_outlet_is_the_url_host_without_www() {
        assert_eq!(outlet_of("https://www.foxnews.com/politics/x").as_deref(), Some("foxnews.com"));
        assert_eq!(outlet_of("BBC Monitoring"), None);
    }
}
