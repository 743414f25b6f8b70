//! Parquet tables (pyarrow, pandas, Spark, DuckDB, Kuzu): one file per node table
//! (`nodes/Person.parquet`: `id`, then typed property columns, string lists as Parquet
//! LISTs) and per relationship table (`relationships/GIVER_Gift_Person.parquet`: `from`,
//! `to`, then the type's properties). Rows are buffered per table and written a row group at
//! a time. For Kuzu the same tables come with `schema.cypher`: CREATE NODE/REL TABLE and the
//! COPY statements that load them (Kuzu's CSV lists cannot quote an item holding a comma,
//! Parquet's can hold anything).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parquet::basic::{LogicalType, Repetition, Type as PhysicalType};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::{Type, TypePtr};

use super::neo4j_csv::file_part;
use super::schema::{text_of, ColumnType, RelTable, Schema};
use super::{create_file, ExportEdge, ExportError, ExportNode, GraphWriter};
use crate::model::{Properties, Value};

/// Rows per row group, and the buffered bytes past which a row group is written early.
const ROW_GROUP_ROWS: usize = 65_536;
const ROW_GROUP_BYTES: usize = 32 << 20;

/// One column's values of the current row group, with Parquet's definition and repetition
/// levels.
enum Column {
    /// A required string (the key, the ends).
    Key(Vec<ByteArray>),
    Bool(Vec<bool>, Vec<i16>),
    Int(Vec<i64>, Vec<i16>),
    Float(Vec<f64>, Vec<i16>),
    Str(Vec<ByteArray>, Vec<i16>),
    /// Levels of `optional group (LIST) { repeated group list { optional binary element } }`:
    /// definition 0 no list, 1 empty list, 3 an item; repetition 1 for every item after the first.
    List(Vec<ByteArray>, Vec<i16>, Vec<i16>),
}

impl Column {
    fn new(column: Option<ColumnType>) -> Column {
        match column {
            None => Column::Key(Vec::new()),
            Some(ColumnType::Bool) => Column::Bool(Vec::new(), Vec::new()),
            Some(ColumnType::Int) => Column::Int(Vec::new(), Vec::new()),
            Some(ColumnType::Float) => Column::Float(Vec::new(), Vec::new()),
            Some(ColumnType::Str | ColumnType::Json) => Column::Str(Vec::new(), Vec::new()),
            Some(ColumnType::StrList) => Column::List(Vec::new(), Vec::new(), Vec::new()),
        }
    }

    /// Appends one row's value; returns roughly how many bytes it buffered.
    fn push(&mut self, value: Option<&Value>, column: ColumnType) -> usize {
        let value = value.filter(|v| !matches!(v, Value::Null));
        match self {
            Column::Key(_) => 0,
            Column::Bool(values, defs) => {
                let bool = match value {
                    Some(Value::Bool(b)) => Some(*b),
                    _ => None,
                };
                defs.push(i16::from(bool.is_some()));
                values.extend(bool);
                1
            }
            Column::Int(values, defs) => {
                let int = match value {
                    Some(Value::Int(i)) => Some(*i),
                    _ => None,
                };
                defs.push(i16::from(int.is_some()));
                values.extend(int);
                8
            }
            Column::Float(values, defs) => {
                let float = match value {
                    Some(Value::Float(f)) => Some(*f),
                    // An integer in a column that also holds floats: widen, as the schema did.
                    Some(Value::Int(i)) => Some(i64_to_f64(*i)),
                    _ => None,
                };
                defs.push(i16::from(float.is_some()));
                values.extend(float);
                8
            }
            Column::Str(values, defs) => {
                let text = value.and_then(|v| text_of(v, column));
                defs.push(i16::from(text.is_some()));
                let len = text.as_ref().map_or(0, String::len);
                values.extend(text.map(|t| ByteArray::from(t.into_bytes())));
                len
            }
            Column::List(values, defs, reps) => match value {
                Some(Value::List(items)) if !items.is_empty() => {
                    let mut len = 0;
                    for (i, item) in items.iter().enumerate() {
                        let text = item.as_str().unwrap_or_default();
                        len += text.len();
                        values.push(ByteArray::from(text.as_bytes().to_vec()));
                        defs.push(3);
                        reps.push(i16::from(i > 0));
                    }
                    len
                }
                Some(Value::List(_)) => {
                    defs.push(1);
                    reps.push(0);
                    0
                }
                _ => {
                    defs.push(0);
                    reps.push(0);
                    0
                }
            },
        }
    }

    /// Empties the buffer once its row group is written.
    fn clear(&mut self) {
        match self {
            Column::Key(values) | Column::Str(values, _) | Column::List(values, _, _) => values.clear(),
            Column::Bool(values, _) => values.clear(),
            Column::Int(values, _) => values.clear(),
            Column::Float(values, _) => values.clear(),
        }
        match self {
            Column::Key(_) => {}
            Column::Bool(_, defs) | Column::Int(_, defs) | Column::Float(_, defs) | Column::Str(_, defs) => {
                defs.clear()
            }
            Column::List(_, defs, reps) => {
                defs.clear();
                reps.clear();
            }
        }
    }

    fn push_key(&mut self, key: &str) -> usize {
        if let Column::Key(values) = self {
            values.push(ByteArray::from(key.as_bytes().to_vec()));
        }
        key.len()
    }
}

/// Integers past 2^53 round to the nearest float, as any float column would hold them.
fn i64_to_f64(i: i64) -> f64 {
    // An exact conversion exists for every value a JSON batch carries in practice; the
    // string round trip states the rounding instead of hiding it in an `as` cast.
    i.to_string().parse::<f64>().unwrap_or(f64::NAN)
}

struct Table {
    path: PathBuf,
    writer: SerializedFileWriter<BufWriter<File>>,
    key_columns: usize,
    columns: Vec<(String, ColumnType)>,
    buffers: Vec<Column>,
    rows: usize,
    bytes: usize,
}

fn optional(name: &str, column: ColumnType) -> Result<TypePtr, parquet::errors::ParquetError> {
    let primitive = |physical: PhysicalType, logical: Option<LogicalType>| {
        Type::primitive_type_builder(name, physical)
            .with_repetition(Repetition::OPTIONAL)
            .with_logical_type(logical)
            .build()
    };
    Ok(Arc::new(match column {
        ColumnType::Bool => primitive(PhysicalType::BOOLEAN, None)?,
        ColumnType::Int => primitive(PhysicalType::INT64, None)?,
        ColumnType::Float => primitive(PhysicalType::DOUBLE, None)?,
        ColumnType::Str | ColumnType::Json => primitive(PhysicalType::BYTE_ARRAY, Some(LogicalType::String))?,
        ColumnType::StrList => {
            let element = Type::primitive_type_builder("element", PhysicalType::BYTE_ARRAY)
                .with_repetition(Repetition::OPTIONAL)
                .with_logical_type(Some(LogicalType::String))
                .build()?;
            let list = Type::group_type_builder("list")
                .with_repetition(Repetition::REPEATED)
                .with_fields(vec![Arc::new(element)])
                .build()?;
            Type::group_type_builder(name)
                .with_repetition(Repetition::OPTIONAL)
                .with_logical_type(Some(LogicalType::List))
                .with_fields(vec![Arc::new(list)])
                .build()?
        }
    }))
}

impl Table {
    fn create(path: PathBuf, keys: &[&str], columns: Vec<(String, ColumnType)>) -> Result<Table, ExportError> {
        let fail = |e: parquet::errors::ParquetError| ExportError::write(&path, e);
        let mut fields = Vec::new();
        for key in keys {
            let field = Type::primitive_type_builder(key, PhysicalType::BYTE_ARRAY)
                .with_repetition(Repetition::REQUIRED)
                .with_logical_type(Some(LogicalType::String))
                .build()
                .map_err(fail)?;
            fields.push(Arc::new(field));
        }
        for (name, column) in &columns {
            fields.push(optional(name, *column).map_err(fail)?);
        }
        let schema = Type::group_type_builder("schema").with_fields(fields).build().map_err(fail)?;
        let properties =
            WriterProperties::builder().set_created_by(format!("diplograph {}", env!("CARGO_PKG_VERSION"))).build();
        let writer =
            SerializedFileWriter::new(create_file(&path)?, Arc::new(schema), Arc::new(properties)).map_err(fail)?;
        let buffers =
            keys.iter().map(|_| Column::new(None)).chain(columns.iter().map(|(_, c)| Column::new(Some(*c)))).collect();
        Ok(Table { path, writer, key_columns: keys.len(), columns, buffers, rows: 0, bytes: 0 })
    }

    fn push(&mut self, keys: &[&str], props: &Properties) -> Result<(), ExportError> {
        for (buffer, key) in self.buffers.iter_mut().zip(keys) {
            self.bytes += buffer.push_key(key);
        }
        for (buffer, (name, column)) in self.buffers[self.key_columns..].iter_mut().zip(&self.columns) {
            self.bytes += buffer.push(props.get(name), *column);
        }
        self.rows += 1;
        if self.rows >= ROW_GROUP_ROWS || self.bytes >= ROW_GROUP_BYTES {
            self.write_row_group()?;
        }
        Ok(())
    }

    fn write_row_group(&mut self) -> Result<(), ExportError> {
        if self.rows == 0 {
            return Ok(());
        }
        let path = self.path.clone();
        let fail = |e: parquet::errors::ParquetError| ExportError::write(&path, e);
        let mut group = self.writer.next_row_group().map_err(fail)?;
        let mut buffers = self.buffers.iter_mut();
        while let Some(mut column) = group.next_column().map_err(fail)? {
            let Some(buffer) = buffers.next() else {
                return Err(ExportError::write(&self.path, "more Parquet columns than buffered"));
            };
            match buffer {
                Column::Key(values) => column.typed::<ByteArrayType>().write_batch(values, None, None).map(drop),
                Column::Bool(values, defs) => {
                    column.typed::<BoolType>().write_batch(values, Some(defs), None).map(drop)
                }
                Column::Int(values, defs) => {
                    column.typed::<Int64Type>().write_batch(values, Some(defs), None).map(drop)
                }
                Column::Float(values, defs) => {
                    column.typed::<DoubleType>().write_batch(values, Some(defs), None).map(drop)
                }
                Column::Str(values, defs) => {
                    column.typed::<ByteArrayType>().write_batch(values, Some(defs), None).map(drop)
                }
                Column::List(values, defs, reps) => {
                    column.typed::<ByteArrayType>().write_batch(values, Some(defs), Some(reps)).map(drop)
                }
            }
            .map_err(fail)?;
            column.close().map_err(fail)?;
            buffer.clear();
        }
        group.close().map_err(fail)?;
        self.rows = 0;
        self.bytes = 0;
        Ok(())
    }

    fn finish(mut self) -> Result<PathBuf, ExportError> {
        self.write_row_group()?;
        let path = self.path.clone();
        let out = self.writer.into_inner().map_err(|e| ExportError::write(&path, e))?;
        super::finish_file(out, &path)?;
        Ok(path)
    }
}

pub struct ParquetWriter {
    dir: PathBuf,
    nodes: BTreeMap<String, Table>,
    rels: BTreeMap<RelTable, Table>,
    /// `schema.cypher` for Kuzu, written by `finish`.
    kuzu_schema: Option<String>,
}

impl ParquetWriter {
    pub fn new(dir: &Path, schema: &Schema, for_kuzu: bool) -> Result<ParquetWriter, ExportError> {
        let mut nodes = BTreeMap::new();
        for (name, table) in &schema.nodes {
            let path = dir.join("nodes").join(format!("{}.parquet", file_part(name)));
            nodes.insert(name.clone(), Table::create(path, &["id"], table.columns.clone().into_iter().collect())?);
        }
        let mut rels = BTreeMap::new();
        for rel in schema.rels.keys() {
            let path = dir.join("relationships").join(format!("{}.parquet", file_part(&rel.file_stem())));
            rels.insert(rel.clone(), Table::create(path, &["from", "to"], schema.columns_of_type(&rel.edge_type))?);
        }
        let kuzu_schema = for_kuzu.then(|| kuzu_schema(schema));
        Ok(ParquetWriter { dir: dir.to_path_buf(), nodes, rels, kuzu_schema })
    }
}

fn kuzu_type(column: ColumnType) -> &'static str {
    match column {
        ColumnType::Bool => "BOOLEAN",
        ColumnType::Int => "INT64",
        ColumnType::Float => "DOUBLE",
        ColumnType::Str | ColumnType::Json => "STRING",
        ColumnType::StrList => "STRING[]",
    }
}

/// A Kuzu identifier in backticks (a backtick inside is doubled).
fn ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// CREATE NODE TABLE per node table, CREATE REL TABLE per type (one FROM … TO … per pair of
/// end tables), then a COPY per file, in that order (Kuzu copies nodes before relationships).
fn kuzu_schema(schema: &Schema) -> String {
    let mut text = String::from(
        "// Kuzu schema and load statements for this export; run them with the export directory\n// as the working directory (the COPY paths are relative to it).\n",
    );
    for (name, table) in &schema.nodes {
        let mut columns = vec![format!("{} STRING", ident("id"))];
        columns.extend(table.columns.iter().map(|(c, ty)| format!("{} {}", ident(c), kuzu_type(*ty))));
        columns.push(format!("PRIMARY KEY({})", ident("id")));
        text.push_str(&format!("CREATE NODE TABLE {}({});\n", ident(name), columns.join(", ")));
    }
    let mut pairs: BTreeMap<&str, Vec<&RelTable>> = BTreeMap::new();
    for rel in schema.rels.keys() {
        pairs.entry(&rel.edge_type).or_default().push(rel);
    }
    let rel_name = |edge_type: &str| {
        let clashes = schema.nodes.keys().any(|n| n.eq_ignore_ascii_case(edge_type));
        if clashes {
            format!("{edge_type}_REL")
        } else {
            edge_type.to_string()
        }
    };
    for edge_type in pairs.keys().filter(|t| rel_name(t) != **t) {
        text.push_str(&format!(
            "// Kuzu's table names ignore case: the relationship type {edge_type} is the table {} here.\n",
            rel_name(edge_type)
        ));
    }
    for (edge_type, tables) in &pairs {
        let mut parts: Vec<String> =
            tables.iter().map(|r| format!("FROM {} TO {}", ident(&r.from), ident(&r.to))).collect();
        parts
            .extend(schema.columns_of_type(edge_type).iter().map(|(c, ty)| format!("{} {}", ident(c), kuzu_type(*ty))));
        text.push_str(&format!("CREATE REL TABLE {}({});\n", ident(&rel_name(edge_type)), parts.join(", ")));
    }
    for name in schema.nodes.keys() {
        text.push_str(&format!("COPY {} FROM 'nodes/{}.parquet';\n", ident(name), file_part(name)));
    }
    for rel in schema.rels.keys() {
        text.push_str(&format!(
            "COPY {} FROM 'relationships/{}.parquet' (from='{}', to='{}');\n",
            ident(&rel_name(&rel.edge_type)),
            file_part(&rel.file_stem()),
            rel.from.replace('\'', "''"),
            rel.to.replace('\'', "''")
        ));
    }
    text
}

impl GraphWriter for ParquetWriter {
    fn node(&mut self, node: &ExportNode<'_>) -> Result<(), ExportError> {
        match self.nodes.get_mut(node.table) {
            Some(table) => table.push(&[node.key], node.props()),
            None => Err(ExportError::Usage(format!("node table {} appeared after the first pass", node.table))),
        }
    }

    fn edge(&mut self, edge: &ExportEdge<'_>) -> Result<(), ExportError> {
        let key = RelTable {
            edge_type: edge.record.edge_type.clone(),
            from: edge.from.table.to_string(),
            to: edge.to.table.to_string(),
        };
        match self.rels.get_mut(&key) {
            Some(table) => table.push(&[edge.from.key, edge.to.key], &edge.record.props),
            None => {
                Err(ExportError::Usage(format!("relationship table {} appeared after the first pass", key.file_stem())))
            }
        }
    }

    fn finish(self: Box<Self>) -> Result<Vec<PathBuf>, ExportError> {
        let mut files = Vec::new();
        for table in self.nodes.into_values().chain(self.rels.into_values()) {
            files.push(table.finish()?);
        }
        if let Some(text) = &self.kuzu_schema {
            let path = self.dir.join("schema.cypher");
            let mut out = create_file(&path)?;
            out.write_all(text.as_bytes()).map_err(|e| ExportError::write(&path, e))?;
            super::finish_file(out, &path)?;
            files.push(path);
        }
        Ok(files)
    }
}
