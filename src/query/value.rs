//! Runtime values of the query engine: property values plus nodes, relationships and
//! paths, with openCypher equality (three-valued), comparison and the global sort order.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, LazyLock};

pub use crate::model::quote_string;
use crate::model::{format_float, write_list, write_map, EdgeId, EdgeRecord, NodeId, NodeRecord, Value};
use crate::temporal::{self, Temporal};

/// A value a query computes or returns.
#[derive(Clone, Debug)]
pub enum QValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Arc<str>),
    List(Vec<QValue>),
    Map(BTreeMap<String, QValue>),
    Node(NodeValue),
    Relationship(RelValue),
    Path(PathValue),
    Temporal(Temporal),
}

impl QValue {
    /// A string value.
    pub fn str(text: impl Into<Arc<str>>) -> QValue {
        QValue::Str(text.into())
    }
}

/// A node bound by a pattern: its internal number and its record, loaded once.
#[derive(Clone, Debug)]
pub struct NodeValue {
    pub id: NodeId,
    pub record: Arc<NodeRecord>,
}

/// A relationship: its internal number, its record, and once read the string `id` of its
/// endpoints (for JSON output, which cannot reach the store). The endpoints sit behind a
/// pointer so that a value, and so every row, stays small.
#[derive(Clone, Debug)]
pub struct RelValue {
    pub id: EdgeId,
    pub record: Arc<EdgeRecord>,
    pub ends: Option<Arc<RelEnds>>,
}

/// The string `id` of a relationship's start and end nodes.
#[derive(Clone, Debug, Default)]
pub struct RelEnds {
    pub start: Option<String>,
    pub end: Option<String>,
}

/// A path: `nodes.len() == rels.len() + 1`; `rels[i]` joins `nodes[i]` and `nodes[i + 1]`
/// in either direction.
#[derive(Clone, Debug)]
pub struct PathValue {
    pub nodes: Vec<NodeValue>,
    pub rels: Vec<RelValue>,
}

/// The record of every node bound before its record is read: shared, never shown (rows
/// are completed before they leave the executor).
static UNREAD_NODE: LazyLock<Arc<NodeRecord>> =
    LazyLock::new(|| Arc::new(NodeRecord { labels: Vec::new(), props: BTreeMap::new() }));

/// Likewise for relationships.
static UNREAD_EDGE: LazyLock<Arc<EdgeRecord>> =
    LazyLock::new(|| Arc::new(EdgeRecord { edge_type: String::new(), src: 0, dst: 0, props: BTreeMap::new() }));

impl NodeValue {
    /// A node whose record is read only when something looks at it (labels, properties,
    /// output): patterns that only walk through a node never decode it.
    pub fn unread(id: NodeId) -> NodeValue {
        NodeValue { id, record: UNREAD_NODE.clone() }
    }

    /// Whether `record` holds the node's record (not the placeholder of `unread`).
    pub fn is_read(&self) -> bool {
        !Arc::ptr_eq(&self.record, &UNREAD_NODE)
    }

    /// The node's `id` property as shown to users, else its internal number.
    pub fn display_key(&self) -> QValue {
        match self.record.key() {
            Some(key) => QValue::str(key),
            None => QValue::Int(i64::try_from(self.id).unwrap_or(i64::MAX)),
        }
    }
}

impl RelValue {
    /// A relationship whose record is read only when something looks at it.
    pub fn unread(id: EdgeId) -> RelValue {
        RelValue { id, record: UNREAD_EDGE.clone(), ends: None }
    }

    /// Whether `record` (and the endpoint keys) are filled in.
    pub fn is_read(&self) -> bool {
        !Arc::ptr_eq(&self.record, &UNREAD_EDGE)
    }
}

impl From<&Value> for QValue {
    fn from(value: &Value) -> QValue {
        match value {
            Value::Null => QValue::Null,
            Value::Bool(b) => QValue::Bool(*b),
            Value::Int(i) => QValue::Int(*i),
            Value::Float(x) => QValue::Float(*x),
            Value::Str(s) => QValue::str(s.as_str()),
            Value::List(items) => QValue::List(items.iter().map(QValue::from).collect()),
            Value::Map(map) => QValue::Map(map.iter().map(|(k, v)| (k.clone(), QValue::from(v))).collect()),
            Value::Temporal(t) => QValue::Temporal(t.clone()),
        }
    }
}

impl From<Value> for QValue {
    fn from(value: Value) -> QValue {
        match value {
            Value::Str(s) => QValue::str(s),
            other => QValue::from(&other),
        }
    }
}

impl QValue {
    /// The value as a property value; graph elements have none.
    pub fn to_value(&self) -> Option<Value> {
        Some(match self {
            QValue::Null => Value::Null,
            QValue::Bool(b) => Value::Bool(*b),
            QValue::Int(i) => Value::Int(*i),
            QValue::Float(x) => Value::Float(*x),
            QValue::Str(s) => Value::Str(s.to_string()),
            QValue::List(items) => Value::List(items.iter().map(QValue::to_value).collect::<Option<_>>()?),
            QValue::Map(map) => {
                Value::Map(map.iter().map(|(k, v)| Some((k.clone(), v.to_value()?))).collect::<Option<_>>()?)
            }
            QValue::Temporal(t) => Value::Temporal(t.clone()),
            QValue::Node(_) | QValue::Relationship(_) | QValue::Path(_) => return None,
        })
    }

    pub fn is_null(&self) -> bool {
        matches!(self, QValue::Null)
    }

    /// The openCypher type name, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            QValue::Null => "Null",
            QValue::Bool(_) => "Boolean",
            QValue::Int(_) => "Integer",
            QValue::Float(_) => "Float",
            QValue::Str(_) => "String",
            QValue::List(_) => "List",
            QValue::Map(_) => "Map",
            QValue::Node(_) => "Node",
            QValue::Relationship(_) => "Relationship",
            QValue::Path(_) => "Path",
            QValue::Temporal(t) => t.type_name(),
        }
    }

    /// The value as JSON: nodes, relationships and paths as objects (see `format`).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            QValue::Null => J::Null,
            QValue::Bool(b) => J::Bool(*b),
            QValue::Int(i) => J::from(*i),
            QValue::Float(x) => serde_json::Number::from_f64(*x).map_or(J::Null, J::Number),
            QValue::Str(s) => J::String(s.to_string()),
            QValue::List(items) => J::Array(items.iter().map(QValue::to_json).collect()),
            QValue::Map(map) => J::Object(map.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
            QValue::Node(node) => node_json(node),
            QValue::Relationship(rel) => rel_json(rel),
            QValue::Temporal(t) => J::String(t.to_string()),
            QValue::Path(path) => {
                let mut object = serde_json::Map::new();
                object.insert("nodes".into(), J::Array(path.nodes.iter().map(node_json).collect()));
                object.insert("relationships".into(), J::Array(path.rels.iter().map(rel_json).collect()));
                J::Object(object)
            }
        }
    }
}

fn props_json(props: &crate::model::Properties) -> serde_json::Value {
    serde_json::Value::Object(props.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
}

fn node_json(node: &NodeValue) -> serde_json::Value {
    let mut object = serde_json::Map::new();
    object.insert("id".into(), node.display_key().to_json());
    object.insert(
        "labels".into(),
        serde_json::Value::Array(node.record.labels.iter().cloned().map(serde_json::Value::String).collect()),
    );
    object.insert("properties".into(), props_json(&node.record.props));
    serde_json::Value::Object(object)
}

fn rel_json(rel: &RelValue) -> serde_json::Value {
    let endpoint = |key: &Option<String>, id: NodeId| match key {
        Some(key) => serde_json::Value::String(key.clone()),
        None => serde_json::Value::from(id),
    };
    let mut object = serde_json::Map::new();
    object.insert("id".into(), serde_json::Value::from(rel.id));
    object.insert("type".into(), serde_json::Value::String(rel.record.edge_type.clone()));
    let ends = rel.ends.as_deref().cloned().unwrap_or_default();
    object.insert("start".into(), endpoint(&ends.start, rel.record.src));
    object.insert("end".into(), endpoint(&ends.end, rel.record.dst));
    object.insert("properties".into(), props_json(&rel.record.props));
    serde_json::Value::Object(object)
}

// ---------------------------------------------------------------------------------------
// Equality and comparison

/// `a = b` in openCypher: `None` is null (a null somewhere decides nothing), lists and maps
/// compare structurally, integers and floats by numeric value, NaN equals nothing.
pub fn equals(a: &QValue, b: &QValue) -> Option<bool> {
    use QValue::*;
    match (a, b) {
        (Null, _) | (_, Null) => None,
        (Bool(x), Bool(y)) => Some(x == y),
        (Int(x), Int(y)) => Some(x == y),
        (Float(x), Float(y)) => Some(x == y),
        (Int(x), Float(y)) | (Float(y), Int(x)) => Some(int_float_cmp(*x, *y) == Some(Ordering::Equal)),
        (Str(x), Str(y)) => Some(x == y),
        (List(xs), List(ys)) => {
            if xs.len() != ys.len() {
                return Some(false);
            }
            all_equal(xs.iter().zip(ys))
        }
        (Map(xs), Map(ys)) => {
            if xs.len() != ys.len() || xs.keys().zip(ys.keys()).any(|(k1, k2)| k1 != k2) {
                return Some(false);
            }
            all_equal(xs.values().zip(ys.values()))
        }
        (Node(x), Node(y)) => Some(x.id == y.id),
        (Relationship(x), Relationship(y)) => Some(x.id == y.id),
        (Path(x), Path(y)) => Some(
            x.nodes.len() == y.nodes.len()
                && x.rels.len() == y.rels.len()
                && x.nodes.iter().zip(&y.nodes).all(|(m, n)| m.id == n.id)
                && x.rels.iter().zip(&y.rels).all(|(r, s)| r.id == s.id),
        ),
        (Temporal(x), Temporal(y)) => Some(temporal::equals(x, y)),
        _ => Some(false),
    }
}

/// Pairwise equality: false beats null beats true.
fn all_equal<'a>(pairs: impl Iterator<Item = (&'a QValue, &'a QValue)>) -> Option<bool> {
    let mut unknown = false;
    for (x, y) in pairs {
        match equals(x, y) {
            Some(false) => return Some(false),
            None => unknown = true,
            Some(true) => {}
        }
    }
    if unknown {
        None
    } else {
        Some(true)
    }
}

/// Compares an integer with a float exactly (no rounding of large integers); `None` for NaN.
fn int_float_cmp(i: i64, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    // i64 is exactly representable as f64 only up to 2^53; compare via i128 when `f` is integral.
    if f.fract() == 0.0 && f.abs() < 9.3e18 {
        // `f` is integral and within i64-ish range: compare as i128 (the cast is exact here).
        #[allow(clippy::cast_possible_truncation)]
        let fi = f as i128;
        return Some(i128::from(i).cmp(&fi));
    }
    #[allow(clippy::cast_precision_loss)]
    let fi = i as f64;
    fi.partial_cmp(&f)
}

/// The result of `a < b` style comparisons: `None` when the values are incomparable
/// (different types, nulls) — the comparison is then null. NaN compares as unordered,
/// which the caller turns into `false`.
pub enum Comparison {
    Ordered(Ordering),
    /// Comparable types, but a NaN is involved: every comparison is false.
    Unordered,
}

pub fn compare(a: &QValue, b: &QValue) -> Option<Comparison> {
    use QValue::*;
    let numeric = |o: Option<Ordering>| Some(o.map_or(Comparison::Unordered, Comparison::Ordered));
    match (a, b) {
        (Int(x), Int(y)) => Some(Comparison::Ordered(x.cmp(y))),
        (Float(x), Float(y)) => numeric(x.partial_cmp(y)),
        (Int(x), Float(y)) => numeric(int_float_cmp(*x, *y)),
        (Float(x), Int(y)) => numeric(int_float_cmp(*y, *x).map(Ordering::reverse)),
        (Str(x), Str(y)) => Some(Comparison::Ordered(x.cmp(y))),
        (Bool(x), Bool(y)) => Some(Comparison::Ordered(x.cmp(y))),
        (List(xs), List(ys)) => {
            for (x, y) in xs.iter().zip(ys) {
                match compare(x, y)? {
                    Comparison::Ordered(Ordering::Equal) => {}
                    other => return Some(other),
                }
            }
            Some(Comparison::Ordered(xs.len().cmp(&ys.len())))
        }
        (Temporal(x), Temporal(y)) => temporal::compare(x, y).map(Comparison::Ordered),
        _ => None,
    }
}

/// Rank of a type in the global sort order (ORDER BY ascending): maps, nodes,
/// relationships, lists, paths, temporal values, strings, booleans, numbers, then null.
fn type_rank(value: &QValue) -> u8 {
    match value {
        QValue::Map(_) => 0,
        QValue::Node(_) => 1,
        QValue::Relationship(_) => 2,
        QValue::List(_) => 3,
        QValue::Path(_) => 4,
        QValue::Temporal(_) => 5,
        QValue::Str(_) => 6,
        QValue::Bool(_) => 7,
        QValue::Int(_) | QValue::Float(_) => 8,
        QValue::Null => 9,
    }
}

/// The openCypher total order used by ORDER BY, DISTINCT and grouping: values of different
/// types order by type, NaN after every other number, null last. Two values are
/// equivalent (same group) exactly when this returns `Equal`.
pub fn total_cmp(a: &QValue, b: &QValue) -> Ordering {
    use QValue::*;
    let by_type = type_rank(a).cmp(&type_rank(b));
    if by_type != Ordering::Equal {
        return by_type;
    }
    match (a, b) {
        (Map(xs), Map(ys)) => {
            for ((k1, v1), (k2, v2)) in xs.iter().zip(ys) {
                let o = k1.cmp(k2).then_with(|| total_cmp(v1, v2));
                if o != Ordering::Equal {
                    return o;
                }
            }
            xs.len().cmp(&ys.len())
        }
        (Node(x), Node(y)) => x.id.cmp(&y.id),
        (Relationship(x), Relationship(y)) => x.id.cmp(&y.id),
        (List(xs), List(ys)) => list_total_cmp(xs, ys),
        (Path(x), Path(y)) => {
            let xs: Vec<(u64, u64)> = path_ids(x);
            let ys: Vec<(u64, u64)> = path_ids(y);
            xs.cmp(&ys)
        }
        (Str(x), Str(y)) => x.cmp(y),
        (Temporal(x), Temporal(y)) => temporal::total_cmp(x, y),
        (Bool(x), Bool(y)) => x.cmp(y),
        (Int(x), Int(y)) => x.cmp(y),
        (Float(x), Float(y)) => float_total(*x, *y),
        (Int(x), Float(y)) => match int_float_cmp(*x, *y) {
            Some(o) => o,
            None => Ordering::Less, // y is NaN, which sorts after every number
        },
        (Float(x), Int(y)) => match int_float_cmp(*y, *x) {
            Some(o) => o.reverse(),
            None => Ordering::Greater,
        },
        _ => Ordering::Equal,
    }
}

fn list_total_cmp(xs: &[QValue], ys: &[QValue]) -> Ordering {
    for (x, y) in xs.iter().zip(ys) {
        let o = total_cmp(x, y);
        if o != Ordering::Equal {
            return o;
        }
    }
    xs.len().cmp(&ys.len())
}

fn path_ids(path: &PathValue) -> Vec<(u64, u64)> {
    let mut ids = Vec::with_capacity(path.nodes.len() + path.rels.len());
    for (i, node) in path.nodes.iter().enumerate() {
        ids.push((0, node.id));
        if let Some(rel) = path.rels.get(i) {
            ids.push((1, rel.id));
        }
    }
    ids
}

fn float_total(x: f64, y: f64) -> Ordering {
    match (x.is_nan(), y.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
    }
}

/// A row of values ordered by `total_cmp`, for DISTINCT sets and grouping maps.
#[derive(Clone, Debug)]
pub struct GroupKey(pub Vec<QValue>);

impl PartialEq for GroupKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for GroupKey {}

impl PartialOrd for GroupKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for GroupKey {
    fn cmp(&self, other: &Self) -> Ordering {
        list_total_cmp(&self.0, &other.0)
    }
}

// ---------------------------------------------------------------------------------------
// Display

fn write_props(f: &mut fmt::Formatter<'_>, props: &crate::model::Properties) -> fmt::Result {
    if props.is_empty() {
        return Ok(());
    }
    write!(f, " {{")?;
    for (i, (k, v)) in props.iter().enumerate() {
        if i > 0 {
            write!(f, ", ")?;
        }
        write!(f, "{k}: {}", QValue::from(v))?;
    }
    write!(f, "}}")
}

impl fmt::Display for NodeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(")?;
        for label in &self.record.labels {
            write!(f, ":{label}")?;
        }
        if self.record.labels.is_empty() {
            let mut props = String::new();
            for (i, (k, v)) in self.record.props.iter().enumerate() {
                if i > 0 {
                    props.push_str(", ");
                }
                props.push_str(&format!("{k}: {}", QValue::from(v)));
            }
            if !props.is_empty() {
                write!(f, "{{{props}}}")?;
            }
        } else {
            write_props(f, &self.record.props)?;
        }
        write!(f, ")")
    }
}

impl fmt::Display for RelValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[:{}", self.record.edge_type)?;
        write_props(f, &self.record.props)?;
        write!(f, "]")
    }
}

impl fmt::Display for PathValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<")?;
        for (i, node) in self.nodes.iter().enumerate() {
            if i > 0 {
                let rel = &self.rels[i - 1];
                let forward = rel.record.src == self.nodes[i - 1].id && rel.record.dst == node.id;
                if forward {
                    write!(f, "-{rel}->")?;
                } else {
                    write!(f, "<-{rel}-")?;
                }
            }
            write!(f, "{node}")?;
        }
        write!(f, ">")
    }
}

impl fmt::Display for QValue {
    /// Cypher-literal style: strings quoted, floats with a decimal point.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QValue::Null => write!(f, "null"),
            QValue::Bool(b) => write!(f, "{b}"),
            QValue::Int(i) => write!(f, "{i}"),
            QValue::Float(x) => write!(f, "{}", format_float(*x)),
            QValue::Str(s) => write!(f, "{}", quote_string(s)),
            QValue::List(items) => write_list(f, items),
            QValue::Map(map) => write_map(f, map),
            QValue::Node(node) => write!(f, "{node}"),
            QValue::Relationship(rel) => write!(f, "{rel}"),
            QValue::Path(path) => write!(f, "{path}"),
            QValue::Temporal(t) => write!(f, "{t}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_equality_propagates_null_unless_something_differs() {
        let l = |v: Vec<QValue>| QValue::List(v);
        assert_eq!(equals(&l(vec![QValue::Int(1), QValue::Null]), &l(vec![QValue::Int(1), QValue::Int(2)])), None);
        assert_eq!(
            equals(&l(vec![QValue::Int(3), QValue::Null]), &l(vec![QValue::Int(1), QValue::Int(2)])),
            Some(false)
        );
        assert_eq!(equals(&l(vec![QValue::Int(1)]), &l(vec![QValue::Float(1.0)])), Some(true));
        assert_eq!(equals(&l(vec![]), &l(vec![QValue::Null])), Some(false));
    }

    #[test]
    fn global_order_puts_nan_after_numbers_and_null_last() {
        let mut values =
            [QValue::Null, QValue::Float(f64::NAN), QValue::Int(2), QValue::Float(1.5), QValue::Str("a".into())];
        values.sort_by(total_cmp);
        let shown: Vec<String> = values.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["'a'", "1.5", "2", "NaN", "null"]);
    }

    #[test]
    fn integers_compare_exactly_with_floats() {
        assert!(matches!(
            compare(&QValue::Int(i64::MAX), &QValue::Float(9.223372036854776e18)),
            Some(Comparison::Ordered(Ordering::Less))
        ));
        assert!(matches!(compare(&QValue::Int(1), &QValue::Float(f64::NAN)), Some(Comparison::Unordered)));
    }
}
