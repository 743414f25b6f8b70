//! CSV tables for `neo4j-admin database import`: one file per node table
//! (`nodes/Person.csv`: `id:ID(Person)`, `:LABEL`, typed property columns such as
//! `count:long` or `aliases:string[]`) and per relationship table
//! (`relationships/GIVER_Gift_Person.csv`: `:START_ID(Gift)`, `:END_ID(Person)`, `:TYPE`, …),
//! plus `neo4j-admin-import.sh` with the command that loads them. Each node table is its
//! own id space, so an article id can never clash with an entity id.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::schema::{text_of, ColumnType, RelTable, Schema};
use super::{create_file, finish_file, ExportEdge, ExportError, ExportNode, GraphWriter};
use crate::model::{Properties, Value};

struct Table {
    path: PathBuf,
    out: csv::Writer<BufWriter<File>>,
    columns: Vec<(String, ColumnType)>,
}

impl Table {
    fn create(path: PathBuf, fixed: &[String], columns: Vec<(String, ColumnType)>) -> Result<Table, ExportError> {
        let mut out = csv::Writer::from_writer(create_file(&path)?);
        let mut header: Vec<String> = fixed.to_vec();
        header.extend(columns.iter().map(|(name, ty)| format!("{name}{}", type_suffix(*ty))));
        out.write_record(&header).map_err(|e| ExportError::write(&path, e))?;
        Ok(Table { path, out, columns })
    }

    fn write(&mut self, mut fields: Vec<String>, props: &Properties, delimiter: char) -> Result<(), ExportError> {
        for (name, ty) in &self.columns {
            fields.push(props.get(name).map(|value| field(value, *ty, delimiter)).unwrap_or_default());
        }
        self.out.write_record(&fields).map_err(|e| ExportError::write(&self.path, e))
    }

    fn finish(self) -> Result<PathBuf, ExportError> {
        let out = self.out.into_inner().map_err(|e| ExportError::write(&self.path, e.error()))?;
        finish_file(out, &self.path)?;
        Ok(self.path)
    }
}

/// The header's type for a column (neo4j-admin reads an untyped column as a string).
fn type_suffix(column: ColumnType) -> &'static str {
    match column {
        ColumnType::Bool => ":boolean",
        ColumnType::Int => ":long",
        ColumnType::Float => ":double",
        ColumnType::StrList => ":string[]",
        ColumnType::Str | ColumnType::Json => "",
    }
}

fn field(value: &Value, column: ColumnType, delimiter: char) -> String {
    match (value, column) {
        (Value::List(items), ColumnType::StrList) => {
            items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(&delimiter.to_string())
        }
        _ => text_of(value, column).unwrap_or_default(),
    }
}

/// A label or type as a file name part: anything but letters, digits, `_` and `-` becomes `_`.
pub(super) fn file_part(name: &str) -> String {
    name.chars().map(|c| if c.is_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect()
}

pub struct Neo4jCsvWriter {
    dir: PathBuf,
    delimiter: char,
    nodes: BTreeMap<String, Table>,
    rels: BTreeMap<RelTable, Table>,
}

impl Neo4jCsvWriter {
    pub fn new(dir: &Path, schema: &Schema) -> Result<Neo4jCsvWriter, ExportError> {
        let delimiter = schema.array_delimiter().ok_or_else(|| {
            ExportError::Usage(
                "every array delimiter neo4j-admin could use (';', '|', U+001F) occurs in some list item; export --format parquet instead".into(),
            )
        })?;
        let mut nodes = BTreeMap::new();
        for (name, table) in &schema.nodes {
            let path = dir.join("nodes").join(format!("{}.csv", file_part(name)));
            let fixed = [format!("id:ID({name})"), ":LABEL".to_string()];
            nodes.insert(name.clone(), Table::create(path, &fixed, table.columns.clone().into_iter().collect())?);
        }
        let mut rels = BTreeMap::new();
        for rel in schema.rels.keys() {
            let path = dir.join("relationships").join(format!("{}.csv", file_part(&rel.file_stem())));
            let fixed = [format!(":START_ID({})", rel.from), format!(":END_ID({})", rel.to), ":TYPE".to_string()];
            rels.insert(rel.clone(), Table::create(path, &fixed, schema.columns_of_type(&rel.edge_type))?);
        }
        Ok(Neo4jCsvWriter { dir: dir.to_path_buf(), delimiter, nodes, rels })
    }

    fn import_script(&self) -> Result<PathBuf, ExportError> {
        let delimiter = match self.delimiter {
            '\u{1f}' => "U+001F".to_string(),
            c => format!("'{c}'"),
        };
        let mut text = String::from(
            "#!/bin/sh\n# Loads these tables into a new Neo4j 5 database with neo4j-admin (Neo4j stopped).\n# Usage: sh neo4j-admin-import.sh [DATABASE]   (default: neo4j)\nset -e\ncd \"$(dirname \"$0\")\"\nneo4j-admin database import full \\\n",
        );
        text.push_str(&format!("  --array-delimiter={delimiter} --multiline-fields=true \\\n"));
        for table in self.nodes.values() {
            text.push_str(&format!("  --nodes={} \\\n", relative(&self.dir, &table.path)));
        }
        for table in self.rels.values() {
            text.push_str(&format!("  --relationships={} \\\n", relative(&self.dir, &table.path)));
        }
        text.push_str("  \"${1:-neo4j}\"\n");
        let path = self.dir.join("neo4j-admin-import.sh");
        let mut out = create_file(&path)?;
        out.write_all(text.as_bytes()).map_err(|e| ExportError::write(&path, e))?;
        finish_file(out, &path)?;
        Ok(path)
    }
}

fn relative(dir: &Path, path: &Path) -> String {
    path.strip_prefix(dir).unwrap_or(path).display().to_string()
}

impl GraphWriter for Neo4jCsvWriter {
    fn node(&mut self, node: &ExportNode<'_>) -> Result<(), ExportError> {
        let Some(table) = self.nodes.get_mut(node.table) else {
            return Err(ExportError::Usage(format!("node table {} appeared after the first pass", node.table)));
        };
        let fields = vec![node.key.to_string(), node.labels().join(";")];
        table.write(fields, node.props(), self.delimiter)
    }

    fn edge(&mut self, edge: &ExportEdge<'_>) -> Result<(), ExportError> {
        let key = RelTable {
            edge_type: edge.record.edge_type.clone(),
            from: edge.from.table.to_string(),
            to: edge.to.table.to_string(),
        };
        let Some(table) = self.rels.get_mut(&key) else {
            return Err(ExportError::Usage(format!(
                "relationship table {} appeared after the first pass",
                key.file_stem()
            )));
        };
        let fields = vec![edge.from.key.to_string(), edge.to.key.to_string(), edge.record.edge_type.clone()];
        table.write(fields, &edge.record.props, self.delimiter)
    }

    fn finish(self: Box<Self>) -> Result<Vec<PathBuf>, ExportError> {
        let script = self.import_script()?;
        let mut files = Vec::new();
        for table in self.nodes.into_values().chain(self.rels.into_values()) {
            files.push(table.finish()?);
        }
        files.push(script);
        Ok(files)
    }
}
