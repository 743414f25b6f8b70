//! The projection's options, read from a Cypher map (`{level: 'country', eventTypes:
//! ['Visit'], from: '2024-01-01', directed: true, weight: 'newman', minWeight: 2}`) — the
//! `analyze` command builds the same map from its flags — and the algorithms' own keys of
//! that map. Every refusal names the option.

use std::collections::BTreeMap;
use std::fmt;

use crate::model::Value;
use crate::ontology::Ontology;

/// An unacceptable option: which one, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionError {
    /// The key as in the Cypher map (`eventTypes`).
    pub option: String,
    pub message: String,
}

impl OptionError {
    pub fn new(option: &str, message: impl Into<String>) -> OptionError {
        OptionError { option: option.to_string(), message: message.into() }
    }

    /// The option as a command-line flag (`eventTypes` → `--event-types`).
    pub fn flag(&self) -> String {
        let mut flag = String::from("--");
        for c in self.option.chars() {
            if c.is_ascii_uppercase() {
                flag.push('-');
                flag.push(c.to_ascii_lowercase());
            } else {
                flag.push(c);
            }
        }
        flag
    }
}

impl fmt::Display for OptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "option `{}`: {}", self.option, self.message)
    }
}

impl std::error::Error for OptionError {}

/// Who the projection's nodes are.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Level {
    Person,
    /// Countries; a person stands for the countries they represent (REPRESENTS), a place
    /// for the country it lies in (LOCATED_IN).
    Country,
    Organization,
    /// Nodes with any of these labels, taken as they are.
    Labels(Vec<String>),
}

/// What a tie's weight counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Weight {
    /// Shared events.
    Events,
    /// Distinct articles reporting the shared events.
    Articles,
    /// Newman's collaboration weight: 1/(n−1) per event with n actors, so a summit of
    /// twenty leaders does not swamp bilateral ties.
    Newman,
}

/// How to project the store.
#[derive(Clone, Debug, PartialEq)]
pub struct ProjectionOptions {
    pub level: Level,
    /// Event labels (`Visit`, `Meeting`…); all event types when empty.
    pub event_types: Vec<String>,
    /// Inclusive window; an event counts when its date, at its precision, can fall within
    /// it (`2024` is within `from: '2024-06-01'`). Undated events count only without one.
    pub from: Option<String>,
    pub to: Option<String>,
    /// Visitor → host/destination, giver → recipient, inviter → invitee; meeting
    /// participants both ways.
    pub directed: bool,
    pub weight: Weight,
    /// Ties lighter than this are dropped.
    pub min_weight: f64,
}

impl Default for ProjectionOptions {
    fn default() -> Self {
        ProjectionOptions {
            level: Level::Person,
            event_types: Vec::new(),
            from: None,
            to: None,
            directed: false,
            weight: Weight::Events,
            min_weight: 0.0,
        }
    }
}

/// The keys the projection reads.
pub const PROJECTION_KEYS: &[&str] =
    &["level", "labels", "eventTypes", "from", "to", "directed", "weight", "minWeight"];

impl ProjectionOptions {
    /// Reads the projection's keys of `map`; `algorithm_keys` are the other keys the caller
    /// reads itself. Any other key is refused.
    pub fn from_map(map: &BTreeMap<String, Value>, algorithm_keys: &[&str]) -> Result<ProjectionOptions, OptionError> {
        for key in map.keys() {
            if !PROJECTION_KEYS.contains(&key.as_str()) && !algorithm_keys.contains(&key.as_str()) {
                let mut known: Vec<&str> = PROJECTION_KEYS.iter().chain(algorithm_keys).copied().collect();
                known.sort_unstable();
                return Err(OptionError::new(key, format!("unknown option; the options are {}", known.join(", "))));
            }
        }
        let mut options = ProjectionOptions::default();
        let level = optional_str(map, "level")?;
        let labels = optional_str_list(map, "labels")?;
        options.level = match (level, labels) {
            (Some(_), Some(_)) => return Err(OptionError::new("labels", "give either `level` or `labels`, not both")),
            (_, Some(labels)) if labels.is_empty() => {
                return Err(OptionError::new("labels", "needs at least one label"));
            }
            (_, Some(labels)) => Level::Labels(labels),
            (None, None) => Level::Person,
            (Some(level), None) => match level.to_lowercase().as_str() {
                "person" => Level::Person,
                "country" => Level::Country,
                "organization" | "organisation" => Level::Organization,
                _ => {
                    return Err(OptionError::new(
                        "level",
                        format!("expected 'person', 'country' or 'organization', got '{level}'"),
                    ))
                }
            },
        };
        if let Some(types) = optional_str_list(map, "eventTypes")? {
            options.event_types = types.iter().map(|t| event_label(t)).collect::<Result<_, _>>()?;
        }
        options.from = optional_str(map, "from")?.map(|d| check_date("from", &d)).transpose()?;
        options.to = optional_str(map, "to")?.map(|d| check_date("to", &d)).transpose()?;
        if let (Some(from), Some(to)) = (&options.from, &options.to) {
            if date_end(to) < date_start(from) {
                return Err(OptionError::new("to", format!("'{to}' is before `from` '{from}'")));
            }
        }
        if let Some(directed) = map.get("directed").filter(|v| **v != Value::Null) {
            options.directed = match directed {
                Value::Bool(b) => *b,
                other => return Err(OptionError::new("directed", format!("expected true or false, got {other}"))),
            };
        }
        if let Some(weight) = optional_str(map, "weight")? {
            options.weight = match weight.to_lowercase().as_str() {
                "events" => Weight::Events,
                "articles" => Weight::Articles,
                "newman" => Weight::Newman,
                _ => {
                    return Err(OptionError::new(
                        "weight",
                        format!("expected 'events', 'articles' or 'newman', got '{weight}'"),
                    ))
                }
            };
        }
        if let Some(min) = number(map, "minWeight")? {
            if !(min >= 0.0 && min.is_finite()) {
                return Err(OptionError::new("minWeight", format!("expected a number of at least 0, got {min}")));
            }
            options.min_weight = min;
        }
        Ok(options)
    }

    /// Whether an event dated `date` (as stored, any precision; `None` undated) counts.
    pub fn admits_date(&self, date: Option<&str>) -> bool {
        if self.from.is_none() && self.to.is_none() {
            return true;
        }
        let Some(date) = date.filter(|d| is_date(d)) else { return false };
        let after_from = self.from.as_deref().map_or(true, |from| date_end(date) >= date_start(from));
        let before_to = self.to.as_deref().map_or(true, |to| date_start(date) <= date_end(to));
        after_from && before_to
    }

    /// Whether the window needs each event's date read.
    pub fn needs_dates(&self) -> bool {
        self.from.is_some() || self.to.is_some()
    }
}

/// The event label an `eventTypes` entry names: a label (`Visit`) or a type (`visit`).
fn event_label(given: &str) -> Result<String, OptionError> {
    let ontology = Ontology::embedded();
    ontology
        .event_types
        .iter()
        .find(|t| t.label.eq_ignore_ascii_case(given) || t.name.eq_ignore_ascii_case(given))
        .map(|t| t.label.clone())
        .ok_or_else(|| {
            let labels: Vec<&str> = ontology.event_types.iter().map(|t| t.label.as_str()).collect();
            OptionError::new("eventTypes", format!("unknown event type '{given}'; the types are {}", labels.join(", ")))
        })
}

/// `YYYY`, `YYYY-MM` or `YYYY-MM-DD` with a month 01–12 and a day 01–31.
pub fn is_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let in_range = |s: &str, max: u32| s.parse::<u32>().is_ok_and(|v| (1..=max).contains(&v));
    match parts.as_slice() {
        [y] => digits(y, 4),
        [y, m] => digits(y, 4) && digits(m, 2) && in_range(m, 12),
        [y, m, d] => digits(y, 4) && digits(m, 2) && in_range(m, 12) && digits(d, 2) && in_range(d, 31),
        _ => false,
    }
}

fn check_date(option: &str, text: &str) -> Result<String, OptionError> {
    if is_date(text) {
        Ok(text.to_string())
    } else {
        Err(OptionError::new(option, format!("expected a date YYYY, YYYY-MM or YYYY-MM-DD, got '{text}'")))
    }
}

/// The first day a date of any precision can mean, as `YYYY-MM-DD`.
pub fn date_start(date: &str) -> String {
    match date.len() {
        4 => format!("{date}-01-01"),
        7 => format!("{date}-01"),
        _ => date.to_string(),
    }
}

/// The last day it can mean (day 31 stands for any month's end: only order matters).
pub fn date_end(date: &str) -> String {
    match date.len() {
        4 => format!("{date}-12-31"),
        7 => format!("{date}-31"),
        _ => date.to_string(),
    }
}

pub fn optional_str(map: &BTreeMap<String, Value>, key: &str) -> Result<Option<String>, OptionError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s.clone())),
        Some(other) => Err(OptionError::new(key, format!("expected a string, got {other}"))),
    }
}

pub fn optional_str_list(map: &BTreeMap<String, Value>, key: &str) -> Result<Option<Vec<String>>, OptionError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::List(items)) => items
            .iter()
            .map(|item| match item {
                Value::Str(s) => Ok(s.clone()),
                other => Err(OptionError::new(key, format!("expected a list of strings, found {other} in it"))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(Value::Str(s)) => Ok(Some(vec![s.clone()])),
        Some(other) => Err(OptionError::new(key, format!("expected a list of strings, got {other}"))),
    }
}

/// A number option (integers accepted).
pub fn number(map: &BTreeMap<String, Value>, key: &str) -> Result<Option<f64>, OptionError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Int(i)) => Ok(Some(*i as f64)),
        Some(Value::Float(x)) => Ok(Some(*x)),
        Some(other) => Err(OptionError::new(key, format!("expected a number, got {other}"))),
    }
}

/// An integer option within `min..=max`.
pub fn integer(map: &BTreeMap<String, Value>, key: &str, min: i64, max: i64) -> Result<Option<i64>, OptionError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Int(i)) if (min..=max).contains(i) => Ok(Some(*i)),
        Some(other) => Err(OptionError::new(key, format!("expected an integer from {min} to {max}, got {other}"))),
    }
}

/// A number option within `min..=max` (bounds included).
pub fn number_in(map: &BTreeMap<String, Value>, key: &str, min: f64, max: f64) -> Result<Option<f64>, OptionError> {
    match number(map, key)? {
        Some(x) if x >= min && x <= max => Ok(Some(x)),
        Some(x) => Err(OptionError::new(key, format!("expected a number from {min} to {max}, got {x}"))),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    #[test]
    fn options_are_read_and_bad_ones_are_refused_by_name() {
        let options = ProjectionOptions::from_map(
            &map(&[
                ("level", Value::Str("country".into())),
                ("eventTypes", Value::List(vec![Value::Str("visit".into()), Value::Str("Meeting".into())])),
                ("from", Value::Str("2024-01".into())),
                ("directed", Value::Bool(true)),
                ("weight", Value::Str("newman".into())),
                ("minWeight", Value::Int(2)),
            ]),
            &[],
        )
        .expect("valid");
        assert_eq!(options.level, Level::Country);
        assert_eq!(options.event_types, ["Visit", "Meeting"]);
        assert!(options.directed && options.weight == Weight::Newman && options.min_weight == 2.0);

        let refused = |pairs: &[(&str, Value)]| ProjectionOptions::from_map(&map(pairs), &["seed"]).unwrap_err();
        assert_eq!(refused(&[("level", Value::Str("city".into()))]).option, "level");
        assert_eq!(refused(&[("eventTypes", Value::List(vec![Value::Str("Vist".into())]))]).option, "eventTypes");
        assert_eq!(refused(&[("from", Value::Str("2024-13".into()))]).option, "from");
        assert_eq!(
            refused(&[("from", Value::Str("2024".into())), ("to", Value::Str("2023-12-31".into()))]).option,
            "to"
        );
        assert_eq!(refused(&[("directed", Value::Str("yes".into()))]).option, "directed");
        assert_eq!(refused(&[("weight", Value::Str("heavy".into()))]).option, "weight");
        assert_eq!(refused(&[("minWeight", Value::Int(-1))]).option, "minWeight");
        let unknown = refused(&[("levle", Value::Str("person".into()))]);
        assert_eq!(unknown.option, "levle");
        assert!(unknown.message.contains("level") && unknown.message.contains("seed"), "{unknown}");
        assert_eq!(unknown.flag(), "--levle");
        assert_eq!(OptionError::new("minWeight", "x").flag(), "--min-weight");
    }

    #[test]
    fn a_date_counts_when_its_precision_can_fall_in_the_window() {
        let window = ProjectionOptions {
            from: Some("2024-03-01".into()),
            to: Some("2024-06".into()),
            ..ProjectionOptions::default()
        };
        assert!(window.admits_date(Some("2024")));
        assert!(window.admits_date(Some("2024-03")));
        assert!(window.admits_date(Some("2024-06-30")));
        assert!(!window.admits_date(Some("2024-02-29")));
        assert!(!window.admits_date(Some("2024-07")));
        assert!(!window.admits_date(None));
        assert!(ProjectionOptions::default().admits_date(None));
    }
}
