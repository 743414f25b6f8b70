//! What the first pass of an export learns: the node tables (one per most specific label),
//! the relationship tables (one per type and pair of end tables), their columns and types.

use std::collections::BTreeMap;

use crate::model::{EdgeRecord, NodeRecord, Value};

/// A column's type, unified over every value the column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    Bool,
    Int,
    Float,
    Str,
    /// A list whose items are all strings (`aliases`).
    StrList,
    /// Anything else (other lists, maps, values of mixed types), written as JSON text.
    Json,
}

impl ColumnType {
    pub fn of(value: &Value) -> Option<ColumnType> {
        Some(match value {
            Value::Null => return None,
            Value::Bool(_) => ColumnType::Bool,
            Value::Int(_) => ColumnType::Int,
            Value::Float(_) => ColumnType::Float,
            // Temporal values (openCypher dates, times, durations) travel as their ISO text.
            Value::Str(_) | Value::Temporal(_) => ColumnType::Str,
            Value::List(items) if items.iter().all(|i| matches!(i, Value::Str(_))) => ColumnType::StrList,
            Value::List(_) | Value::Map(_) => ColumnType::Json,
        })
    }

    /// The type of a column that holds values of both types: integers widen to floats,
    /// other mixtures become JSON text.
    pub fn unify(self, other: ColumnType) -> ColumnType {
        match (self, other) {
            (a, b) if a == b => a,
            (ColumnType::Int, ColumnType::Float) | (ColumnType::Float, ColumnType::Int) => ColumnType::Float,
            _ => ColumnType::Json,
        }
    }
}

/// A value as text for formats without a type of its own for it: strings as they are,
/// numbers and booleans as literals, lists and maps as JSON.
pub fn text_of(value: &Value, column: ColumnType) -> Option<String> {
    match (value, column) {
        (Value::Null, _) => None,
        (Value::Str(text), ColumnType::Str) => Some(text.clone()),
        (Value::Temporal(t), ColumnType::Str) => Some(t.to_string()),
        (Value::Int(i), ColumnType::Int) => Some(i.to_string()),
        (Value::Int(i), ColumnType::Float) => Some(format!("{i}.0")),
        (Value::Float(f), ColumnType::Float) => Some(crate::model::format_float(*f)),
        (Value::Bool(b), ColumnType::Bool) => Some(b.to_string()),
        (other, _) => Some(other.to_json().to_string()),
    }
}

/// One table: its columns (besides the key or the two ends) and how many rows.
#[derive(Clone, Debug, Default)]
pub struct TableSchema {
    pub columns: BTreeMap<String, ColumnType>,
    pub rows: u64,
}

impl TableSchema {
    fn add(&mut self, props: &BTreeMap<String, Value>, skip: &str) {
        self.rows += 1;
        for (name, value) in props {
            if name == skip {
                continue;
            }
            if let Some(ty) = ColumnType::of(value) {
                self.columns.entry(name.clone()).and_modify(|t| *t = t.unify(ty)).or_insert(ty);
            }
        }
    }
}

/// A relationship table: one type between one pair of node tables.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RelTable {
    pub edge_type: String,
    pub from: String,
    pub to: String,
}

impl RelTable {
    /// The table's file stem: `PARTICIPANT_Meeting_Person`.
    pub fn file_stem(&self) -> String {
        format!("{}_{}_{}", self.edge_type, self.from, self.to)
    }
}

#[derive(Clone, Debug, Default)]
pub struct Schema {
    pub nodes: BTreeMap<String, TableSchema>,
    pub rels: BTreeMap<RelTable, TableSchema>,
    /// Node properties over all tables (GraphML and GEXF declare one key per property).
    pub node_columns: BTreeMap<String, ColumnType>,
    pub edge_columns: BTreeMap<String, ColumnType>,
    /// Relationship properties per type, over all pairs of end tables (every table of one
    /// type has the same columns: Kuzu copies them all into one REL TABLE).
    pub rel_columns: BTreeMap<String, BTreeMap<String, ColumnType>>,
    /// Characters that occur in some string-list item (a CSV array delimiter must not).
    pub list_chars: Vec<char>,
}

/// Delimiters a CSV array may use, in order of preference (neo4j-admin's default first).
pub const ARRAY_DELIMITERS: [char; 3] = [';', '|', '\u{1f}'];

impl Schema {
    pub fn add_node(&mut self, record: &NodeRecord) {
        self.nodes.entry(super::table_of(record).to_string()).or_default().add(&record.props, "id");
        merge_columns(&mut self.node_columns, &record.props, "id");
        self.note_list_chars(&record.props);
    }

    pub fn add_edge(&mut self, record: &EdgeRecord, from: &str, to: &str) {
        let table = RelTable { edge_type: record.edge_type.clone(), from: from.to_string(), to: to.to_string() };
        self.rels.entry(table).or_default().add(&record.props, "");
        merge_columns(&mut self.edge_columns, &record.props, "");
        merge_columns(self.rel_columns.entry(record.edge_type.clone()).or_default(), &record.props, "");
        self.note_list_chars(&record.props);
    }

    fn note_list_chars(&mut self, props: &BTreeMap<String, Value>) {
        for value in props.values() {
            let Value::List(items) = value else { continue };
            for item in items.iter().filter_map(Value::as_str) {
                for delimiter in ARRAY_DELIMITERS {
                    if item.contains(delimiter) && !self.list_chars.contains(&delimiter) {
                        self.list_chars.push(delimiter);
                    }
                }
            }
        }
    }

    /// The columns of a relationship table of `edge_type`.
    pub fn columns_of_type(&self, edge_type: &str) -> Vec<(String, ColumnType)> {
        self.rel_columns.get(edge_type).map(|c| c.clone().into_iter().collect()).unwrap_or_default()
    }

    /// The first array delimiter no list item contains.
    pub fn array_delimiter(&self) -> Option<char> {
        ARRAY_DELIMITERS.into_iter().find(|d| !self.list_chars.contains(d))
    }
}

fn merge_columns(columns: &mut BTreeMap<String, ColumnType>, props: &BTreeMap<String, Value>, skip: &str) {
    for (name, value) in props {
        if name == skip {
            continue;
        }
        if let Some(ty) = ColumnType::of(value) {
            columns.entry(name.clone()).and_modify(|t| *t = t.unify(ty)).or_insert(ty);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixed_columns_widen_or_become_json() {
        assert_eq!(ColumnType::Int.unify(ColumnType::Float), ColumnType::Float);
        assert_eq!(ColumnType::Str.unify(ColumnType::Int), ColumnType::Json);
        assert_eq!(ColumnType::of(&Value::List(vec![Value::Int(1)])), Some(ColumnType::Json));
        assert_eq!(ColumnType::of(&Value::List(vec![Value::Str("a".into())])), Some(ColumnType::StrList));
        assert_eq!(text_of(&Value::Int(2), ColumnType::Float).as_deref(), Some("2.0"));
        assert_eq!(text_of(&Value::Str("x".into()), ColumnType::Json).as_deref(), Some("\"x\""));
    }

    #[test]
    fn the_array_delimiter_avoids_characters_in_list_items() {
        let mut schema = Schema::default();
        let mut props = BTreeMap::new();
        props.insert("aliases".to_string(), Value::List(vec![Value::Str("a;b".into())]));
        schema.add_node(&NodeRecord { labels: vec!["Person".into()], props });
        assert_eq!(schema.array_delimiter(), Some('|'));
    }
}
