//! The types every stage shares: property values, stored node and edge records,
//! and the name normalisation that decides entity identity.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

pub use crate::temporal::Temporal;

/// Internal node number: dense, big-endian in keys, never shown as a node's `id`.
pub type NodeId = u64;
/// Internal edge number.
pub type EdgeId = u64;

/// A property value as stored and as queries see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
    /// A date, time, date-time or duration (last, so records stored before it still read).
    Temporal(Temporal),
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as JSON, for `--format json`, dumps and `show`.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Float(f) => {
                serde_json::Number::from_f64(*f).map(serde_json::Value::Number).unwrap_or(serde_json::Value::Null)
            }
            Value::Str(s) => serde_json::Value::String(s.clone()),
            Value::List(items) => serde_json::Value::Array(items.iter().map(Value::to_json).collect()),
            Value::Map(map) => serde_json::Value::Object(map.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
            Value::Temporal(t) => serde_json::Value::String(t.to_string()),
        }
    }

    /// A JSON value as a property value (integers stay integers).
    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::Str(s.clone()),
            serde_json::Value::Array(items) => Value::List(items.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(map) => {
                Value::Map(map.iter().map(|(k, v)| (k.clone(), Value::from_json(v))).collect())
            }
        }
    }
}

impl fmt::Display for Value {
    /// Cypher-literal style, as the table output shows values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => write!(f, "null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{}", format_float(*x)),
            Value::Str(s) => write!(f, "{}", quote_string(s)),
            Value::List(items) => write_list(f, items),
            Value::Map(map) => write_map(f, map),
            Value::Temporal(t) => write!(f, "{t}"),
        }
    }
}

/// Writes a string as a Cypher literal in single quotes.
pub fn quote_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            _ => out.push(ch),
        }
    }
    out.push('\'');
    out
}

/// `[a, b, …]`, each item in its own Display form.
pub fn write_list<T: fmt::Display>(f: &mut fmt::Formatter<'_>, items: &[T]) -> fmt::Result {
    write!(f, "[")?;
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            write!(f, ", ")?;
        }
        write!(f, "{item}")?;
    }
    write!(f, "]")
}

/// `{key: value, …}` in key order.
pub fn write_map<V: fmt::Display>(f: &mut fmt::Formatter<'_>, map: &BTreeMap<String, V>) -> fmt::Result {
    write!(f, "{{")?;
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 {
            write!(f, ", ")?;
        }
        write!(f, "{key}: {value}")?;
    }
    write!(f, "}}")
}

/// Floats print with a decimal point so they never read as integers (`1.0`, not `1`).
pub fn format_float(x: f64) -> String {
    if x.is_nan() {
        "NaN".to_string()
    } else if x.is_infinite() {
        if x > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
    } else if x == x.trunc() && x.abs() < 1e16 {
        format!("{x:.1}")
    } else {
        format!("{x}")
    }
}

pub type Properties = BTreeMap<String, Value>;

/// A stored node: its labels and properties.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeRecord {
    pub labels: Vec<String>,
    pub props: Properties,
}

impl NodeRecord {
    pub fn has_label(&self, label: &str) -> bool {
        self.labels.iter().any(|l| l == label)
    }

    /// The stable string `id` property, if the node has one.
    pub fn key(&self) -> Option<&str> {
        self.props.get("id").and_then(Value::as_str)
    }

    /// The names an entity is found by: its `name`, then each of its `aliases`.
    pub fn entity_names(&self) -> Vec<String> {
        let mut names: Vec<String> =
            self.props.get("name").and_then(Value::as_str).map(str::to_string).into_iter().collect();
        if let Some(Value::List(aliases)) = self.props.get("aliases") {
            names.extend(aliases.iter().filter_map(Value::as_str).map(str::to_string));
        }
        names
    }
}

/// A stored, directed edge.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EdgeRecord {
    pub edge_type: String,
    pub src: NodeId,
    pub dst: NodeId,
    pub props: Properties,
}

/// The entity kinds an input record may declare.
pub const ENTITY_KINDS: [&str; 5] = ["Person", "Country", "Organization", "Place", "Item"];

/// Normalises a name for identity: Unicode NFC, case folded, hyphens and runs of
/// whitespace collapsed to one space, trimmed. "Kim Jong-un" and "kim  jong un" agree.
pub fn normalize_name(name: &str) -> String {
    if name.is_ascii() {
        // ASCII is already in NFC: skip the Unicode machinery (most names, and it is hot).
        let mut out = String::with_capacity(name.len());
        for word in name.split(|c: char| c.is_whitespace() || c == '-').filter(|w| !w.is_empty()) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.extend(word.chars().map(|c| c.to_ascii_lowercase()));
        }
        return out;
    }
    normalize_unicode_name(name)
}

fn normalize_unicode_name(name: &str) -> String {
    // Most names already are NFC; composing them again is the slow part.
    let composed: Box<dyn Iterator<Item = char>> = match unicode_normalization::is_nfc_quick(name.chars()) {
        unicode_normalization::IsNormalized::Yes => Box::new(name.chars()),
        _ => Box::new(name.nfc()),
    };
    let mut out = String::with_capacity(name.len());
    let mut pending_space = false;
    for ch in composed.flat_map(char::to_lowercase) {
        if ch.is_whitespace() || is_hyphen(ch) {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(ch);
    }
    out
}

fn is_hyphen(ch: char) -> bool {
    matches!(ch, '-' | '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2212}')
}

/// Turns a normalised name into the slug used in stable ids: spaces become hyphens.
pub fn slug(normalised: &str) -> String {
    normalised.replace(' ', "-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyphen_case_whitespace_and_unicode_forms_agree() {
        assert_eq!(normalize_name("Kim Jong-un"), normalize_name("kim  jong un"));
        assert_eq!(normalize_name(" Kim\tJong Un "), "kim jong un");
        assert_eq!(normalize_name("a\u{b}b"), "a b");
        // NFD "é" (e + combining acute) equals NFC "é".
        assert_eq!(normalize_name("Jose\u{301}"), normalize_name("Jos\u{e9}"));
    }

    proptest::proptest! {
        #[test]
        fn the_ascii_fast_path_normalises_like_the_unicode_path(name in "[ -~\t\n\u{b}\u{c}\r]{0,24}") {
            proptest::prop_assert_eq!(normalize_name(&name), normalize_unicode_name(&name));
        }

        #[test]
        fn names_normalise_like_their_composed_form(name in "\\PC{0,12}") {
            let composed: String = name.nfc().collect();
            proptest::prop_assert_eq!(normalize_name(&name), normalize_name(&composed));
        }
    }

    #[test]
    fn float_display_keeps_a_decimal_point() {
        assert_eq!(Value::Float(1.0).to_string(), "1.0");
        assert_eq!(Value::Float(0.5).to_string(), "0.5");
    }
}
