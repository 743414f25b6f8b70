//! The TCK's value notation (result tables and parameter tables) and its comparison with
//! the values the engine returns: nodes by labels and properties, relationships by type
//! and properties, paths element by element, floats with a small relative tolerance.

use std::collections::BTreeMap;
use std::fmt;

use diplograph::model::{write_list, write_map, Value};
use diplograph::query::value::{NodeValue, QValue, RelValue};

/// A value as the TCK writes it.
#[derive(Clone, Debug, PartialEq)]
pub enum Expected {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Expected>),
    Map(BTreeMap<String, Expected>),
    Node(NodeShape),
    Rel(RelShape),
    Path(PathShape),
}

#[derive(Clone, Debug, PartialEq)]
pub struct NodeShape {
    pub labels: Vec<String>,
    pub props: BTreeMap<String, Expected>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RelShape {
    pub rel_type: String,
    pub props: BTreeMap<String, Expected>,
}

/// `<(a)-[r]->(b)<-[s]-(c)>`: `steps[i]` is (relationship, written left to right?, next node).
#[derive(Clone, Debug, PartialEq)]
pub struct PathShape {
    pub start: NodeShape,
    pub steps: Vec<(RelShape, bool, NodeShape)>,
}

/// Parses one cell of a result or parameter table.
pub fn parse_value(text: &str) -> Result<Expected, String> {
    let mut reader = Reader { chars: text.chars().collect(), pos: 0 };
    let value = reader.value()?;
    reader.skip_ws();
    if reader.pos != reader.chars.len() {
        return Err(format!("trailing text after a value in `{text}`"));
    }
    Ok(value)
}

struct Reader {
    chars: Vec<char>,
    pos: usize,
}

impl Reader {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn rest_starts_with(&self, word: &str) -> bool {
        (self.pos..).zip(word.chars()).all(|(i, c)| self.chars.get(i) == Some(&c))
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!("expected `{c}` at position {}, found {:?}", self.pos, self.peek()))
        }
    }

    fn value(&mut self) -> Result<Expected, String> {
        self.skip_ws();
        let Some(c) = self.peek() else {
            return Err("a value was expected, found the end".into());
        };
        match c {
            '\'' | '"' => self.string().map(Expected::Str),
            '[' => {
                // `[:T …]` is a relationship, anything else a list.
                let save = self.pos;
                self.pos += 1;
                self.skip_ws();
                let is_rel = self.peek() == Some(':');
                self.pos = save;
                if is_rel {
                    self.rel().map(Expected::Rel)
                } else {
                    self.list()
                }
            }
            '{' => self.map().map(Expected::Map),
            '(' => self.node().map(Expected::Node),
            '<' => self.path().map(Expected::Path),
            _ => self.scalar(),
        }
    }

    fn scalar(&mut self) -> Result<Expected, String> {
        for (word, value) in [
            ("null", Expected::Null),
            ("true", Expected::Bool(true)),
            ("false", Expected::Bool(false)),
            ("NaN", Expected::Float(f64::NAN)),
            ("-Infinity", Expected::Float(f64::NEG_INFINITY)),
            ("Infinity", Expected::Float(f64::INFINITY)),
            ("-Inf", Expected::Float(f64::NEG_INFINITY)),
            ("Inf", Expected::Float(f64::INFINITY)),
        ] {
            if self.rest_starts_with(word) {
                let after = self.chars.get(self.pos + word.chars().count());
                if after.map_or(true, |c| !c.is_alphanumeric()) {
                    self.pos += word.chars().count();
                    return Ok(value);
                }
            }
        }
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '.')) {
            self.pos += 1;
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        if text.is_empty() {
            return Err(format!("cannot read a value at `{}`", self.chars[start..].iter().collect::<String>()));
        }
        number(&text)
    }

    fn string(&mut self) -> Result<String, String> {
        let quote = self.peek().expect("a quote");
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err("a string without its closing quote".into());
            };
            self.pos += 1;
            if c == quote {
                return Ok(out);
            }
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some(escaped) = self.peek() else {
                return Err("a string ending in a backslash".into());
            };
            self.pos += 1;
            match escaped {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'u' => {
                    let hex: String = self.chars.iter().skip(self.pos).take(4).collect();
                    let code = u32::from_str_radix(&hex, 16).map_err(|_| format!("bad \\u escape `{hex}`"))?;
                    out.push(char::from_u32(code).ok_or("bad \\u escape")?);
                    self.pos += 4;
                }
                other => out.push(other),
            }
        }
    }

    fn list(&mut self) -> Result<Expected, String> {
        self.expect('[')?;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(']') {
            self.pos += 1;
            return Ok(Expected::List(items));
        }
        loop {
            items.push(self.value()?);
            self.skip_ws();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(']') => {
                    self.pos += 1;
                    return Ok(Expected::List(items));
                }
                other => return Err(format!("expected `,` or `]` in a list, found {other:?}")),
            }
        }
    }

    fn key(&mut self) -> Result<String, String> {
        self.skip_ws();
        if self.peek() == Some('`') {
            self.pos += 1;
            let mut out = String::new();
            loop {
                match self.peek() {
                    None => return Err("a key without its closing backtick".into()),
                    Some('`') if self.chars.get(self.pos + 1) == Some(&'`') => {
                        out.push('`');
                        self.pos += 2;
                    }
                    Some('`') => {
                        self.pos += 1;
                        return Ok(out);
                    }
                    Some(c) => {
                        out.push(c);
                        self.pos += 1;
                    }
                }
            }
        }
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.pos += 1;
        }
        if start == self.pos {
            return Err(format!("a name was expected at position {start}"));
        }
        Ok(self.chars[start..self.pos].iter().collect())
    }

    fn map(&mut self) -> Result<BTreeMap<String, Expected>, String> {
        self.expect('{')?;
        let mut entries = BTreeMap::new();
        self.skip_ws();
        if self.peek() == Some('}') {
            self.pos += 1;
            return Ok(entries);
        }
        loop {
            let key = self.key()?;
            self.expect(':')?;
            let value = self.value()?;
            entries.insert(key, value);
            self.skip_ws();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some('}') => {
                    self.pos += 1;
                    return Ok(entries);
                }
                other => return Err(format!("expected `,` or `}}` in a map, found {other:?}")),
            }
        }
    }

    fn labels(&mut self) -> Result<Vec<String>, String> {
        let mut labels = Vec::new();
        loop {
            self.skip_ws();
            if self.peek() != Some(':') {
                return Ok(labels);
            }
            self.pos += 1;
            labels.push(self.key()?);
        }
    }

    fn props(&mut self) -> Result<BTreeMap<String, Expected>, String> {
        self.skip_ws();
        if self.peek() == Some('{') {
            self.map()
        } else {
            Ok(BTreeMap::new())
        }
    }

    fn node(&mut self) -> Result<NodeShape, String> {
        self.expect('(')?;
        let labels = self.labels()?;
        let props = self.props()?;
        self.expect(')')?;
        Ok(NodeShape { labels, props })
    }

    fn rel(&mut self) -> Result<RelShape, String> {
        self.expect('[')?;
        let mut types = self.labels()?;
        if types.len() != 1 {
            return Err("a relationship needs exactly one type".into());
        }
        let props = self.props()?;
        self.expect(']')?;
        Ok(RelShape { rel_type: types.remove(0), props })
    }

    fn path(&mut self) -> Result<PathShape, String> {
        self.expect('<')?;
        let start = self.node()?;
        let mut steps = Vec::new();
        loop {
            self.skip_ws();
            if self.peek() == Some('>') {
                self.pos += 1;
                return Ok(PathShape { start, steps });
            }
            let backward = self.peek() == Some('<');
            if backward {
                self.pos += 1;
            }
            self.expect('-')?;
            let rel = self.rel()?;
            self.expect('-')?;
            let forward = if backward {
                false
            } else {
                self.expect('>')?;
                true
            };
            let node = self.node()?;
            steps.push((rel, forward, node));
        }
    }
}

fn number(text: &str) -> Result<Expected, String> {
    let is_float = text.contains(['.', 'e', 'E']) && !text.starts_with("0x") && !text.starts_with("-0x");
    if is_float {
        return text.parse::<f64>().map(Expected::Float).map_err(|_| format!("not a number: `{text}`"));
    }
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let parsed = if let Some(hex) = digits.strip_prefix("0x") {
        i128::from_str_radix(hex, 16)
    } else if let Some(oct) = digits.strip_prefix("0o") {
        i128::from_str_radix(oct, 8)
    } else {
        digits.parse::<i128>()
    };
    let magnitude = parsed.map_err(|_| format!("not a number: `{text}`"))?;
    let value = if negative { -magnitude } else { magnitude };
    i64::try_from(value).map(Expected::Int).map_err(|_| format!("integer out of range: `{text}`"))
}

impl Expected {
    /// The value as a property value, for parameter tables.
    pub fn to_value(&self) -> Result<Value, String> {
        Ok(match self {
            Expected::Null => Value::Null,
            Expected::Bool(b) => Value::Bool(*b),
            Expected::Int(i) => Value::Int(*i),
            Expected::Float(f) => Value::Float(*f),
            Expected::Str(s) => Value::Str(s.clone()),
            Expected::List(items) => Value::List(items.iter().map(Expected::to_value).collect::<Result<_, _>>()?),
            Expected::Map(map) => {
                Value::Map(map.iter().map(|(k, v)| Ok((k.clone(), v.to_value()?))).collect::<Result<_, String>>()?)
            }
            Expected::Node(_) | Expected::Rel(_) | Expected::Path(_) => {
                return Err("a graph element cannot be a parameter".into())
            }
        })
    }
}

/// How strictly lists compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListOrder {
    Exact,
    /// "ignoring element order for lists": lists compare as multisets.
    Ignored,
}

/// Does the engine's value match the TCK's?
pub fn matches(expected: &Expected, got: &QValue, lists: ListOrder) -> bool {
    match (expected, got) {
        (Expected::Null, QValue::Null) => true,
        (Expected::Bool(a), QValue::Bool(b)) => a == b,
        (Expected::Int(a), QValue::Int(b)) => a == b,
        (Expected::Float(a), QValue::Float(b)) => floats_match(*a, *b),
        (Expected::Str(a), QValue::Str(b)) => a.as_str() == &**b,
        // The TCK writes temporal values as their ISO text.
        (Expected::Str(a), QValue::Temporal(t)) => a.as_str() == t.to_string(),
        (Expected::List(xs), QValue::List(ys)) => lists_match(xs, ys, lists),
        (Expected::Map(xs), QValue::Map(ys)) => {
            xs.len() == ys.len() && xs.iter().all(|(k, x)| ys.get(k).is_some_and(|y| matches(x, y, lists)))
        }
        (Expected::Node(shape), QValue::Node(node)) => node_matches(shape, node, lists),
        (Expected::Rel(shape), QValue::Relationship(rel)) => rel_matches(shape, rel, lists),
        (Expected::Path(shape), QValue::Path(path)) => {
            if path.nodes.len() != shape.steps.len() + 1 || path.rels.len() != shape.steps.len() {
                return false;
            }
            if !node_matches(&shape.start, &path.nodes[0], lists) {
                return false;
            }
            shape.steps.iter().enumerate().all(|(i, (rel_shape, forward, node_shape))| {
                let rel = &path.rels[i];
                let (from, to) = (path.nodes[i].id, path.nodes[i + 1].id);
                let direction_ok = if *forward {
                    rel.record.src == from && rel.record.dst == to
                } else {
                    rel.record.src == to && rel.record.dst == from
                };
                direction_ok
                    && rel_matches(rel_shape, rel, lists)
                    && node_matches(node_shape, &path.nodes[i + 1], lists)
            })
        }
        _ => false,
    }
}

fn lists_match(xs: &[Expected], ys: &[QValue], lists: ListOrder) -> bool {
    if xs.len() != ys.len() {
        return false;
    }
    match lists {
        ListOrder::Exact => xs.iter().zip(ys).all(|(x, y)| matches(x, y, lists)),
        ListOrder::Ignored => multiset_match(xs, ys, |x, y| matches(x, y, lists)),
    }
}

/// True when every expected item pairs with a distinct actual item (greedy pairing).
pub fn multiset_match<E, G>(expected: &[E], got: &[G], pair: impl Fn(&E, &G) -> bool) -> bool {
    if expected.len() != got.len() {
        return false;
    }
    let mut used = vec![false; got.len()];
    expected.iter().all(|x| match (0..got.len()).find(|&j| !used[j] && pair(x, &got[j])) {
        Some(j) => {
            used[j] = true;
            true
        }
        None => false,
    })
}

fn floats_match(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a.is_infinite() || b.is_infinite() {
        return a == b;
    }
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

fn props_match(shape: &BTreeMap<String, Expected>, props: &BTreeMap<String, Value>, lists: ListOrder) -> bool {
    shape.len() == props.len()
        && shape.iter().all(|(k, x)| props.get(k).is_some_and(|v| matches(x, &QValue::from(v), lists)))
}

fn node_matches(shape: &NodeShape, node: &NodeValue, lists: ListOrder) -> bool {
    let mut want: Vec<&String> = shape.labels.iter().collect();
    let mut have: Vec<&String> = node.record.labels.iter().collect();
    want.sort();
    want.dedup();
    have.sort();
    have.dedup();
    want == have && props_match(&shape.props, &node.record.props, lists)
}

fn rel_matches(shape: &RelShape, rel: &RelValue, lists: ListOrder) -> bool {
    shape.rel_type == rel.record.edge_type && props_match(&shape.props, &rel.record.props, lists)
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expected::Null => write!(f, "null"),
            Expected::Bool(b) => write!(f, "{b}"),
            Expected::Int(i) => write!(f, "{i}"),
            Expected::Float(x) => write!(f, "{}", diplograph::model::format_float(*x)),
            Expected::Str(s) => write!(f, "{}", diplograph::query::value::quote_string(s)),
            Expected::List(items) => write_list(f, items),
            Expected::Map(map) => write_map(f, map),
            Expected::Node(node) => write!(f, "{node}"),
            Expected::Rel(rel) => write!(f, "{rel}"),
            Expected::Path(path) => {
                write!(f, "<{}", path.start)?;
                for (rel, forward, node) in &path.steps {
                    if *forward {
                        write!(f, "-{rel}->{node}")?;
                    } else {
                        write!(f, "<-{rel}-{node}")?;
                    }
                }
                write!(f, ">")
            }
        }
    }
}

impl fmt::Display for NodeShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(")?;
        for label in &self.labels {
            write!(f, ":{label}")?;
        }
        if !self.props.is_empty() {
            if !self.labels.is_empty() {
                write!(f, " ")?;
            }
            write_map(f, &self.props)?;
        }
        write!(f, ")")
    }
}

impl fmt::Display for RelShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[:{}", self.rel_type)?;
        if !self.props.is_empty() {
            write!(f, " ")?;
            write_map(f, &self.props)?;
        }
        write!(f, "]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_kind_of_tck_value() {
        let cases = [
            ("null", Expected::Null),
            ("-.5", Expected::Float(-0.5)),
            ("1e10", Expected::Float(1e10)),
            ("-Inf", Expected::Float(f64::NEG_INFINITY)),
            ("-12", Expected::Int(-12)),
            (r"'a\'b'", Expected::Str("a'b".into())),
        ];
        for (text, want) in cases {
            assert_eq!(parse_value(text).unwrap(), want, "{text}");
        }
        let path = parse_value("<(:A {name: 'a'})-[:T]->(:B)<-[:U {w: 1}]-()>").unwrap();
        let Expected::Path(path) = path else { panic!("not a path") };
        assert_eq!(path.steps.len(), 2);
        assert!(path.steps[0].1 && !path.steps[1].1);
        assert_eq!(
            parse_value("[[:T], {k: [1, 2.0]}, (:L1:L2)]").unwrap().to_string(),
            "[[:T], {k: [1, 2.0]}, (:L1:L2)]"
        );
        assert!(matches!(parse_value("NaN").unwrap(), Expected::Float(x) if x.is_nan()));
    }

    fn node(id: u64, labels: &[&str], props: &[(&str, Value)]) -> NodeValue {
        let record = diplograph::model::NodeRecord {
            labels: labels.iter().map(|l| l.to_string()).collect(),
            props: props.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
        };
        NodeValue { id, record: std::sync::Arc::new(record) }
    }

    fn rel(id: u64, src: u64, dst: u64, rel_type: &str) -> RelValue {
        let record =
            diplograph::model::EdgeRecord { edge_type: rel_type.to_string(), src, dst, props: BTreeMap::new() };
        RelValue { id, record: std::sync::Arc::new(record), ends: None }
    }

    fn check(expected: &str, got: &QValue) -> bool {
        matches(&parse_value(expected).unwrap(), got, ListOrder::Exact)
    }

    #[test]
    fn integers_and_floats_are_distinct_but_floats_have_a_tolerance() {
        assert!(check("1", &QValue::Int(1)));
        assert!(!check("1", &QValue::Float(1.0)));
        assert!(!check("1.0", &QValue::Int(1)));
        assert!(check("0.3", &QValue::Float(0.1 + 0.2)));
        assert!(!check("0.3", &QValue::Float(0.31)));
        assert!(check("NaN", &QValue::Float(f64::NAN)));
    }

    #[test]
    fn nodes_compare_by_label_set_and_properties() {
        let n = QValue::Node(node(7, &["B", "A"], &[("name", Value::Str("x".into()))]));
        assert!(check("(:A:B {name: 'x'})", &n));
        assert!(!check("(:A {name: 'x'})", &n));
        assert!(!check("(:A:B)", &n));
        assert!(!check("(:A:B {name: 'y'})", &n));
    }

    #[test]
    fn paths_compare_element_by_element_with_direction() {
        let (a, b) = (node(1, &["A"], &[]), node(2, &["B"], &[]));
        let path = QValue::Path(diplograph::query::value::PathValue {
            nodes: vec![a.clone(), b.clone()],
            rels: vec![rel(10, 2, 1, "T")],
        });
        assert!(check("<(:A)<-[:T]-(:B)>", &path));
        assert!(!check("<(:A)-[:T]->(:B)>", &path));
        assert!(!check("<(:A)<-[:U]-(:B)>", &path));
        assert!(!check("<(:A)>", &path));
    }

    #[test]
    fn lists_keep_order_unless_told_otherwise() {
        let list = QValue::List(vec![QValue::Int(2), QValue::Int(1)]);
        assert!(!check("[1, 2]", &list));
        assert!(matches(&parse_value("[1, 2]").unwrap(), &list, ListOrder::Ignored));
    }
}
