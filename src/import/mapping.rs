//! The import mapping, read from `schema/import-mapping.json` and `schema/countries.tsv`
//! (embedded at build time, or another mapping file named by the user): which CAMEO codes
//! and PLOVER event/mode pairs become which fact, which side fills which role, the status
//! and confidence factor, and the country tables. Pure data handling: it never reads the
//! store and knows nothing of any file format but its own.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use serde::Deserialize;

use crate::model::normalize_name;
use crate::ontology::Ontology;

/// The mapping shipped with this build.
pub const EMBEDDED_MAPPING: &str = include_str!("../../schema/import-mapping.json");
/// The country tables shipped with this build.
pub const EMBEDDED_COUNTRIES: &str = include_str!("../../schema/countries.tsv");

#[derive(Debug, thiserror::Error)]
#[error("invalid import mapping {origin}: {reason}")]
pub struct MappingError {
    pub origin: String,
    pub reason: String,
}

/// Where a role's value comes from in a row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoleSource {
    Source,
    Target,
    SourceCountry,
    TargetCountry,
    Place,
    Item(String),
}

/// One rule: the fact a code (or event/mode pair) produces.
#[derive(Clone, Debug)]
pub struct Rule {
    /// The CAMEO code, or `EVENT/mode` for PLOVER.
    pub code: String,
    pub name: String,
    pub event_type: String,
    pub status: String,
    pub confidence: f64,
    pub opt_in: Option<String>,
    /// Per role field of the type, in ontology order: its sources, tried in order.
    pub roles: Vec<(String, Vec<RoleSource>)>,
    /// Per role: whether it takes several values (then every source contributes).
    pub multi_valued: Vec<bool>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Dropped {
    pub codes: String,
    pub why: String,
}

/// How actor codes become entities (see the mapping file's `actors`).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ActorRules {
    /// ICEWS sectors of a state organ: a generic agent "Role (Country)" with one is its Country.
    pub state_sectors: Vec<String>,
    /// Words that make an ICEWS name with an organisation sector an Organization, not its leader.
    pub organization_words: Vec<String>,
    pub person_types: Vec<String>,
    pub organization_types: Vec<String>,
    pub generic_words: Vec<String>,
}

/// One country of `countries.tsv`.
#[derive(Clone, Debug)]
pub struct Country {
    pub name: String,
    pub capital: Option<String>,
    pub aliases: Vec<String>,
    /// "Chinese", "British": words that stand for the country (not declared as names).
    pub demonyms: Vec<String>,
}

/// The whole mapping, checked against the ontology.
#[derive(Clone, Debug)]
pub struct Mapping {
    cameo: FxHashMap<String, Rule>,
    /// PLOVER rules by (EVENT, mode); mode `*` matches any mode.
    plover: FxHashMap<(String, String), Rule>,
    pub cameo_rules: Vec<Rule>,
    pub plover_rules: Vec<Rule>,
    pub dropped: Vec<Dropped>,
    pub actors: ActorRules,
    generic_words: std::collections::HashSet<String>,
    languages: BTreeMap<String, String>,
    countries: Vec<Country>,
    by_cameo: FxHashMap<String, usize>,
    by_fips: FxHashMap<String, usize>,
    by_name: FxHashMap<String, usize>,
    /// Normalised capitals and demonyms of every country.
    by_country_word: std::collections::HashSet<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    #[serde(rename = "$comment")]
    _comment: Option<String>,
    version: u32,
    cameo: Vec<RuleFile>,
    #[serde(default)]
    plover: Vec<RuleFile>,
    #[serde(default)]
    dropped: Vec<Dropped>,
    #[serde(default)]
    actors: ActorsFile,
    #[serde(default)]
    languages: BTreeMap<String, String>,
}

#[derive(Default, Deserialize)]
struct ActorsFile {
    #[serde(rename = "$comment")]
    _comment: Option<String>,
    #[serde(default)]
    state_sectors: Vec<String>,
    #[serde(default)]
    organization_words: Vec<String>,
    #[serde(default)]
    person_types: Vec<String>,
    #[serde(default)]
    organization_types: Vec<String>,
    #[serde(default)]
    generic_words: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    code: Option<String>,
    event: Option<String>,
    mode: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(rename = "type")]
    event_type: String,
    status: Option<String>,
    confidence: Option<f64>,
    opt_in: Option<String>,
    roles: BTreeMap<String, Vec<String>>,
}

impl Mapping {
    /// The mapping shipped with this build.
    pub fn embedded(ontology: &Ontology) -> Result<Mapping, MappingError> {
        Mapping::parse(EMBEDDED_MAPPING, "schema/import-mapping.json", ontology)
    }

    /// Parses a mapping document (the countries table is the embedded one).
    pub fn parse(text: &str, origin: &str, ontology: &Ontology) -> Result<Mapping, MappingError> {
        let error = |reason: String| MappingError { origin: origin.to_string(), reason };
        let file: MappingFile = serde_json::from_str(text).map_err(|e| error(e.to_string()))?;
        if file.version != 1 {
            return Err(error(format!("version {} is not supported; this build reads version 1", file.version)));
        }
        let mut cameo = FxHashMap::default();
        let mut cameo_rules = Vec::new();
        for (i, rule) in file.cameo.iter().enumerate() {
            let code = rule.code.clone().ok_or_else(|| error(format!("cameo[{i}]: `code` is required")))?;
            let checked = check_rule(rule, code.clone(), ontology).map_err(|r| error(format!("cameo[{i}]: {r}")))?;
            if cameo.insert(code.clone(), checked.clone()).is_some() {
                return Err(error(format!("cameo[{i}]: code {code} has two rules")));
            }
            cameo_rules.push(checked);
        }
        let mut plover = FxHashMap::default();
        let mut plover_rules = Vec::new();
        for (i, rule) in file.plover.iter().enumerate() {
            let (Some(event), Some(mode)) = (&rule.event, &rule.mode) else {
                return Err(error(format!("plover[{i}]: `event` and `mode` are required (mode \"*\" for any)")));
            };
            let key = (event.to_uppercase(), mode.to_lowercase());
            let checked = check_rule(rule, format!("{}/{}", key.0, key.1), ontology)
                .map_err(|r| error(format!("plover[{i}]: {r}")))?;
            if plover.insert(key, checked.clone()).is_some() {
                return Err(error(format!("plover[{i}]: {event}/{mode} has two rules")));
            }
            plover_rules.push(checked);
        }
        let countries = parse_countries(EMBEDDED_COUNTRIES).map_err(|r| error(format!("countries.tsv: {r}")))?;
        let mut by_cameo = FxHashMap::default();
        let mut by_fips = FxHashMap::default();
        let mut by_name = FxHashMap::default();
        let mut by_country_word = std::collections::HashSet::new();
        for (i, (country, cameo_code, fips)) in countries.iter().enumerate() {
            if let Some(code) = cameo_code {
                by_cameo.insert(code.clone(), i);
            }
            for code in fips {
                by_fips.insert(code.clone(), i);
            }
            by_country_word.extend(country.capital.iter().chain(&country.demonyms).map(|w| normalize_name(w)));
            by_name.insert(normalize_name(&country.name), i);
            for alias in &country.aliases {
                by_name.insert(normalize_name(alias), i);
            }
        }
        let actors = ActorRules {
            state_sectors: file.actors.state_sectors,
            organization_words: file.actors.organization_words,
            person_types: file.actors.person_types,
            organization_types: file.actors.organization_types,
            generic_words: file.actors.generic_words,
        };
        Ok(Mapping {
            cameo,
            plover,
            cameo_rules,
            plover_rules,
            dropped: file.dropped,
            generic_words: actors.generic_words.iter().map(|w| w.to_uppercase()).collect(),
            actors,
            languages: file.languages.into_iter().filter(|(k, _)| !k.starts_with('$')).collect(),
            countries: countries.into_iter().map(|(country, _, _)| country).collect(),
            by_cameo,
            by_fips,
            by_name,
            by_country_word,
        })
    }

    /// The rule of a CAMEO code, if it is kept (opt-in rules only when enabled).
    pub fn cameo_rule(&self, code: &str, opt_ins: &[&str]) -> Option<&Rule> {
        self.cameo.get(code).filter(|rule| rule.enabled(opt_ins))
    }

    /// The rule of a PLOVER event type and mode (case-folded), the `*` mode as fallback.
    pub fn plover_rule(&self, event: &str, mode: Option<&str>, opt_ins: &[&str]) -> Option<&Rule> {
        let event = event.trim().to_uppercase();
        let exact = mode.and_then(|m| self.plover.get(&(event.clone(), m.trim().to_lowercase())));
        exact.or_else(|| self.plover.get(&(event, "*".to_string()))).filter(|rule| rule.enabled(opt_ins))
    }

    pub fn country_by_cameo(&self, code: &str) -> Option<&Country> {
        self.by_cameo.get(code).map(|&i| &self.countries[i])
    }

    pub fn country_by_fips(&self, code: &str) -> Option<&Country> {
        self.by_fips.get(code).map(|&i| &self.countries[i])
    }

    /// A country by its name or one of its aliases (normalised; a leading "the" is ignored).
    pub fn country_by_name(&self, name: &str) -> Option<&Country> {
        let normalised = normalize_name(name);
        let bare = normalised.strip_prefix("the ").unwrap_or(&normalised);
        self.by_name.get(bare).map(|&i| &self.countries[i])
    }

    /// Whether a name is a country's name, alias, capital or demonym ("UNITED KINGDOM",
    /// "LONDON", "BRITISH"): such an actor stands for the country, not for a person.
    pub fn names_a_country(&self, name: &str) -> bool {
        let normalised = normalize_name(name);
        let bare = normalised.strip_prefix("the ").unwrap_or(&normalised);
        self.by_name.contains_key(bare) || self.by_country_word.contains(bare)
    }

    /// Whether any word of an (upper-case or mixed-case) name is a generic role word.
    pub fn is_generic_name(&self, name: &str) -> bool {
        name.split(|c: char| !c.is_alphanumeric()).any(|word| self.is_generic_word(word))
    }

    /// A generic role word, singular or plural ("DIPLOMAT", "Diplomats").
    pub fn is_generic_word(&self, word: &str) -> bool {
        let upper = word.to_uppercase();
        self.generic_words.contains(&upper)
            || upper.strip_suffix('S').is_some_and(|one| self.generic_words.contains(one))
    }

    /// An ISO 639-1 code for a 639-3 one, or the code itself when unlisted.
    pub fn language(&self, code: &str) -> String {
        let code = code.trim().to_lowercase();
        self.languages.get(&code).cloned().unwrap_or(code)
    }
}

impl Mapping {
    /// The mapping as Markdown tables (README "Loading GDELT, ICEWS and POLECAT" holds this
    /// text; a test fails when the two differ).
    pub fn markdown_tables(&self) -> String {
        let mut out = String::new();
        out.push_str("CAMEO codes (GDELT `EventCode`, ICEWS `CAMEO Code`):\n\n");
        out.push_str(
            "| code | CAMEO meaning | becomes | roles (from the row) | confidence factor |\n|---|---|---|---|---|\n",
        );
        for rule in &self.cameo_rules {
            out.push_str(&format!("| {} | {} | {} |\n", rule.code, rule.name, rule.summary()));
        }
        out.push_str("\nPLOVER event types and modes (POLECAT, PLOVER JSON; `*` is any other mode):\n\n");
        out.push_str("| event / mode | becomes | roles (from the row) | confidence factor |\n|---|---|---|---|\n");
        for rule in &self.plover_rules {
            out.push_str(&format!("| {} | {} |\n", rule.code, rule.summary()));
        }
        out.push_str("\nLeft out:\n\n| codes | why |\n|---|---|\n");
        for dropped in &self.dropped {
            out.push_str(&format!("| {} | {} |\n", dropped.codes, dropped.why));
        }
        out
    }
}

impl Rule {
    /// "becomes | roles | confidence" cells of the README table.
    fn summary(&self) -> String {
        let source_name = |source: &RoleSource| match source {
            RoleSource::Source => "source".to_string(),
            RoleSource::Target => "target".to_string(),
            RoleSource::SourceCountry => "source's country".to_string(),
            RoleSource::TargetCountry => "target's country".to_string(),
            RoleSource::Place => "place".to_string(),
            RoleSource::Item(item) => format!("\"{item}\""),
        };
        let roles: Vec<String> = self
            .roles
            .iter()
            .zip(&self.multi_valued)
            .filter(|((_, sources), _)| !sources.is_empty())
            .map(|((field, sources), &multi)| {
                let joiner = if multi { " and " } else { " or " };
                format!("{field} ← {}", sources.iter().map(source_name).collect::<Vec<_>>().join(joiner))
            })
            .collect();
        let opt_in = match self.opt_in.as_deref() {
            Some("aid_as_gifts") => " (only with `--with-aid-as-gifts`)".to_string(),
            Some(other) => format!(" (only when `{other}` is enabled)"),
            None => String::new(),
        };
        format!("{}, {}{opt_in} | {} | {}", self.event_type, self.status, roles.join("; "), self.confidence)
    }

    fn enabled(&self, opt_ins: &[&str]) -> bool {
        match self.opt_in.as_deref() {
            None => true,
            Some(name) => opt_ins.contains(&name),
        }
    }
}

fn check_rule(rule: &RuleFile, code: String, ontology: &Ontology) -> Result<Rule, String> {
    let Some(event_type) = ontology.event_type(&rule.event_type) else {
        return Err(format!(
            "unknown event type '{}'; the ontology has {}",
            rule.event_type,
            ontology.type_names().join(", ")
        ));
    };
    let status = rule.status.clone().unwrap_or_else(|| event_type.default_status().to_string());
    if !event_type.statuses.contains(&status) {
        return Err(format!(
            "'{status}' is not a status of {}; expected one of {}",
            event_type.name,
            event_type.statuses.join(", ")
        ));
    }
    let confidence = rule.confidence.unwrap_or(1.0);
    if !(0.0..=1.0).contains(&confidence) {
        return Err(format!("confidence {confidence} is not between 0 and 1"));
    }
    for field in rule.roles.keys() {
        if event_type.role(field).is_none() {
            let roles: Vec<&str> = event_type.roles.iter().map(|r| r.field.as_str()).collect();
            return Err(format!("'{field}' is not a role of {}; its roles are {}", event_type.name, roles.join(", ")));
        }
    }
    let mut roles = Vec::new();
    let multi_valued = event_type.roles.iter().map(|role| role.max != Some(1)).collect();
    for role in &event_type.roles {
        let sources = match rule.roles.get(&role.field) {
            Some(sources) => sources.iter().map(|s| parse_source(s)).collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };
        if role.min > 0 && sources.is_empty() {
            return Err(format!("the {} role '{}' is required but has no source", event_type.name, role.field));
        }
        roles.push((role.field.clone(), sources));
    }
    Ok(Rule {
        code,
        name: rule.name.clone(),
        event_type: event_type.name.clone(),
        status,
        confidence,
        opt_in: rule.opt_in.clone(),
        roles,
        multi_valued,
    })
}

fn parse_source(text: &str) -> Result<RoleSource, String> {
    Ok(match text {
        "source" => RoleSource::Source,
        "target" => RoleSource::Target,
        "source_country" => RoleSource::SourceCountry,
        "target_country" => RoleSource::TargetCountry,
        "place" => RoleSource::Place,
        _ => match text.strip_prefix("item:") {
            Some(item) if !item.trim().is_empty() => RoleSource::Item(item.trim().to_string()),
            _ => {
                return Err(format!(
                    "unknown role source '{text}'; expected source, target, source_country, target_country, place or item:TEXT"
                ))
            }
        },
    })
}

type CountryRow = (Country, Option<String>, Vec<String>);

fn parse_countries(text: &str) -> Result<Vec<CountryRow>, String> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() != 6 {
            return Err(format!("line {}: expected 6 tab-separated fields, found {}", i + 1, fields.len()));
        }
        let list = |s: &str| s.split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect();
        let cameo = Some(fields[1].trim()).filter(|c| !c.is_empty() && *c != "-").map(str::to_string);
        let capital = Some(fields[3].trim()).filter(|c| !c.is_empty()).map(str::to_string);
        rows.push((
            Country {
                name: fields[0].trim().to_string(),
                capital,
                aliases: list(fields[4]),
                demonyms: list(fields[5]),
            },
            cameo,
            list(fields[2]),
        ));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping() -> Mapping {
        Mapping::embedded(Ontology::embedded()).unwrap()
    }

    #[test]
    fn the_embedded_mapping_reads_and_keeps_the_visit_codes() {
        let mapping = mapping();
        let visit = mapping.cameo_rule("042", &[]).unwrap();
        assert_eq!(visit.event_type, "visit");
        assert_eq!(visit.roles[0], ("visitor".to_string(), vec![RoleSource::Source]));
        assert!(mapping.cameo_rule("010", &[]).is_none());
        assert!(mapping.cameo_rule("071", &[]).is_none());
        assert!(mapping.cameo_rule("071", &["aid_as_gifts"]).is_some());
    }

    #[test]
    fn cameo_and_fips_country_codes_are_different_tables() {
        let mapping = mapping();
        assert_eq!(mapping.country_by_cameo("ISR").unwrap().name, "Israel");
        assert_eq!(mapping.country_by_fips("IS").unwrap().name, "Israel");
        assert_eq!(mapping.country_by_fips("SU").unwrap().name, "Sudan");
        assert_eq!(mapping.country_by_fips("UK").unwrap().name, "United Kingdom");
        assert_eq!(mapping.country_by_name("Russian Federation").unwrap().name, "Russia");
        assert!(mapping.names_a_country("THE US") && mapping.names_a_country("CHINESE"));
        assert!(mapping.names_a_country("LONDON") && !mapping.names_a_country("SHINZO ABE"));
    }

    #[test]
    fn a_rule_with_an_unknown_role_is_refused_with_the_roles_listed() {
        let text = r#"{"version": 1, "cameo": [{"code": "042", "type": "visit", "roles": {"visitor": ["source"], "destination": ["place"], "guest": ["target"]}}]}"#;
        let err = Mapping::parse(text, "test", Ontology::embedded()).unwrap_err();
        assert!(err.reason.contains("'guest' is not a role of visit"), "{err}");
    }

    #[test]
    fn plover_modes_fall_back_to_the_any_mode_rule() {
        let mapping = mapping();
        assert_eq!(mapping.plover_rule("consult", Some("VISIT"), &[]).unwrap().event_type, "visit");
        assert_eq!(mapping.plover_rule("CONSULT", Some("multilateral"), &[]).unwrap().event_type, "meeting");
        assert!(mapping.plover_rule("ACCUSE", None, &[]).is_none());
    }
}
