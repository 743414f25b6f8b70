//! Result output: an aligned table (comfy-table), a JSON array of objects keyed by column,
//! or CSV. Rows are written as they arrive; an error mid-stream is returned.

use std::io::Write;

use comfy_table::{presets, ContentArrangement, Table};

use super::error::QueryError;
use super::value::QValue;

/// Why writing results failed: the query failed mid-stream, or the output did.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("{0}")]
    Query(#[from] QueryError),
    #[error("cannot write results: {0}")]
    Io(#[from] std::io::Error),
}

impl FormatError {
    /// True when the reader went away (`| head`), which is not an error worth reporting.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, FormatError::Io(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

/// A value as a table or CSV cell: Cypher literal style, but a top-level string plain.
pub fn cell(value: &QValue) -> String {
    match value {
        QValue::Str(s) => s.to_string(),
        other => other.to_string(),
    }
}

/// Writes rows as a table. A table needs every row for its column widths, so this one
/// collects; the row count follows the table.
pub fn write_table<W: Write>(
    w: &mut W,
    columns: &[String],
    rows: impl Iterator<Item = Result<Vec<QValue>, QueryError>>,
) -> Result<u64, FormatError> {
    let mut table = Table::new();
    table.load_preset(presets::UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Disabled);
    table.set_header(columns.iter().cloned());
    let mut count = 0u64;
    for row in rows {
        let row = row?;
        table.add_row(row.iter().map(cell));
        count += 1;
    }
    writeln!(w, "{table}")?;
    writeln!(w, "{count} row{}", if count == 1 { "" } else { "s" })?;
    Ok(count)
}

/// Writes rows as a JSON array of objects keyed by column name, one object per line,
/// streaming: each row is written as soon as it is produced.
pub fn write_json<W: Write>(
    w: &mut W,
    columns: &[String],
    rows: impl Iterator<Item = Result<Vec<QValue>, QueryError>>,
) -> Result<u64, FormatError> {
    let mut count = 0u64;
    write!(w, "[")?;
    for row in rows {
        let row = row?;
        let object: serde_json::Map<String, serde_json::Value> =
            columns.iter().cloned().zip(row.iter().map(QValue::to_json)).collect();
        let text = serde_json::to_string(&serde_json::Value::Object(object)).map_err(std::io::Error::other)?;
        write!(w, "{}\n  {text}", if count == 0 { "" } else { "," })?;
        count += 1;
    }
    writeln!(w, "{}]", if count == 0 { "" } else { "\n" })?;
    Ok(count)
}

/// Writes rows as CSV with a header line, streaming.
pub fn write_csv<W: Write>(
    w: &mut W,
    columns: &[String],
    rows: impl Iterator<Item = Result<Vec<QValue>, QueryError>>,
) -> Result<u64, FormatError> {
    let mut writer = csv::Writer::from_writer(w);
    writer.write_record(columns).map_err(csv_error)?;
    let mut count = 0u64;
    for row in rows {
        let row = row?;
        writer.write_record(row.iter().map(cell)).map_err(csv_error)?;
        writer.flush()?;
        count += 1;
    }
    writer.flush()?;
    Ok(count)
}

fn csv_error(e: csv::Error) -> FormatError {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => FormatError::Io(io),
        other => FormatError::Io(std::io::Error::other(format!("{other:?}"))),
    }
}
