//! Exports: the stored graph written in the formats other tools read (GEXF, GraphML, DOT,
//! neo4j-admin CSV, Kuzu, Parquet). One `GraphWriter` per format; `export` streams nodes
//! and relationships from the store's read methods into it in two passes (the first learns
//! the tables and column types, the second writes), never holding the graph in memory.
//! May call `store`'s read methods and `model`; never writes the store, never calls
//! `ingest` or `query`.

mod dot;
mod gexf;
mod graphml;
mod neo4j_csv;
mod parquet_tables;
mod schema;

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::model::{EdgeId, EdgeRecord, NodeId, NodeRecord, Properties};
use crate::store::{codec, Direction, Store, StoreError};
pub use schema::{ColumnType, Schema, TableSchema};

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write {path}: {reason}")]
    Write { path: PathBuf, reason: String },
    #[error("{0}")]
    Usage(String),
}

impl ExportError {
    fn write(path: &Path, err: impl std::fmt::Display) -> ExportError {
        ExportError::Write { path: path.to_path_buf(), reason: err.to_string() }
    }

    /// A closed stdout (`export … | head`) is a quiet stop, not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, ExportError::Write { reason, .. } if reason.contains("Broken pipe"))
    }
}

/// The formats `diplograph export --format` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// GEXF 1.3 (Gephi), events dated so the timeline plays the network.
    Gexf,
    /// GEXF 1.2draft, the version NetworkX's `read_gexf` reads; otherwise the same.
    Gexf12,
    GraphMl,
    Dot,
    /// neo4j-admin import CSV: one file per node label and per relationship table.
    Csv,
    /// Parquet tables plus `schema.cypher` (CREATE NODE/REL TABLE and COPY for Kuzu).
    Kuzu,
    Parquet,
}

impl ExportFormat {
    /// Whether the format is one file (stdout or `-o FILE`) rather than a directory of tables.
    pub fn is_single_file(self) -> bool {
        matches!(self, ExportFormat::Gexf | ExportFormat::Gexf12 | ExportFormat::GraphMl | ExportFormat::Dot)
    }
}

/// Which part of the graph to export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    All,
    /// The ego network: every node within `hops` edges (either direction) of `center`.
    Around {
        center: NodeId,
        hops: u32,
    },
}

/// Where the export goes.
pub enum Target {
    Stdout,
    File(PathBuf),
    Directory(PathBuf),
}

/// A node as writers see it: its stable `id`, labels, table (the most specific label) and
/// properties.
pub struct ExportNode<'a> {
    pub key: &'a str,
    pub record: &'a NodeRecord,
    pub table: &'a str,
}

impl ExportNode<'_> {
    pub fn labels(&self) -> &[String] {
        &self.record.labels
    }

    pub fn props(&self) -> &Properties {
        &self.record.props
    }
}

/// A relationship as writers see it, its ends by their stable `id` and table.
pub struct ExportEdge<'a> {
    pub id: EdgeId,
    pub record: &'a EdgeRecord,
    pub from: Endpoint<'a>,
    pub to: Endpoint<'a>,
}

/// One end of a relationship.
pub struct Endpoint<'a> {
    pub key: &'a str,
    pub table: &'a str,
    /// The end's date spell when it is an event (`gexf` dates relationships by their event).
    pub spell: Option<Spell>,
}

/// One writer per format. `export` hands it every node, then every relationship, then
/// calls `finish`, which flushes what it wrote and returns the paths it created.
pub trait GraphWriter {
    fn node(&mut self, node: &ExportNode<'_>) -> Result<(), ExportError>;
    fn edge(&mut self, edge: &ExportEdge<'_>) -> Result<(), ExportError>;
    fn finish(self: Box<Self>) -> Result<Vec<PathBuf>, ExportError>;
}

/// What an export wrote.
#[derive(Debug, Default)]
pub struct ExportSummary {
    pub nodes: u64,
    pub edges: u64,
    pub files: Vec<PathBuf>,
}

/// The table a node belongs to: its most specific label (`Meeting` for `Event:Meeting`).
pub fn table_of(record: &NodeRecord) -> &str {
    record.labels.iter().find(|l| *l != "Event").or_else(|| record.labels.first()).map(String::as_str).unwrap_or("Node")
}

/// The interval a date covers, for GEXF's timeline. A full date `YYYY-MM-DD` is that day; a
/// partial date covers its whole period: `YYYY-MM` from the first to the last day of the
/// month, `YYYY` from 1 January to 31 December. Anything else has no spell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spell {
    pub start: String,
    pub end: String,
}

impl Spell {
    pub fn of_date(date: &str) -> Option<Spell> {
        let parts: Vec<&str> = date.split('-').collect();
        let number = |text: &str, len: usize| {
            (text.len() == len && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse::<u32>().ok()).flatten()
        };
        let year = number(parts.first()?, 4)?;
        match parts.len() {
            1 => Some(Spell { start: format!("{year:04}-01-01"), end: format!("{year:04}-12-31") }),
            2 => {
                let month = number(parts[1], 2).filter(|m| (1..=12).contains(m))?;
                let last = days_in_month(year, month);
                Some(Spell {
                    start: format!("{year:04}-{month:02}-01"),
                    end: format!("{year:04}-{month:02}-{last:02}"),
                })
            }
            3 => {
                let month = number(parts[1], 2).filter(|m| (1..=12).contains(m))?;
                let day = number(parts[2], 2).filter(|d| (1..=days_in_month(year, month)).contains(d))?;
                let text = format!("{year:04}-{month:02}-{day:02}");
                Some(Spell { start: text.clone(), end: text })
            }
            _ => None,
        }
    }

    /// The spell of an event node (its `date`), or `None` for any other node.
    pub fn of_event(record: &NodeRecord) -> Option<Spell> {
        if !record.has_label("Event") {
            return None;
        }
        record.props.get("date").and_then(|d| d.as_str()).and_then(Spell::of_date)
    }
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The node `name` picks out for `--around`: a node whose `id` is `name`, else the one entity
/// named so (name or alias, normalised as `entities` does). None or several is an error
/// that lists what to type instead.
pub fn resolve_center(store: &Store, name: &str) -> Result<NodeId, ExportError> {
    if let Some(&node) = store.nodes_with_key(name)?.first() {
        return Ok(node);
    }
    let found = store.entities_named(name)?;
    match found.as_slice() {
        [] => Err(ExportError::Usage(format!(
            "--around: no entity is named '{name}' and no node has that id; `diplograph entities` lists the names"
        ))),
        [(node, _)] => Ok(*node),
        several => {
            let mut ids = Vec::new();
            for (node, kind) in several {
                let key = store.node(*node)?.and_then(|r| r.key().map(str::to_string)).unwrap_or_default();
                ids.push(format!("{key} ({kind})"));
            }
            Err(ExportError::Usage(format!(
                "--around: '{name}' is ambiguous, it names {}; give one of these ids instead",
                ids.join(", ")
            )))
        }
    }
}

/// The nodes within `hops` of `center`, in id order.
fn ego_nodes(store: &Store, center: NodeId, hops: u32) -> Result<BTreeSet<NodeId>, ExportError> {
    let mut seen = BTreeSet::from([center]);
    let mut frontier = vec![center];
    for _ in 0..hops {
        let mut next = Vec::new();
        for node in frontier {
            for direction in [Direction::Out, Direction::In] {
                for adjacent in store.adjacent(node, direction, None) {
                    let other = adjacent?.other;
                    if seen.insert(other) {
                        next.push(other);
                    }
                }
            }
        }
        frontier = next;
    }
    Ok(seen)
}

/// The selected nodes and relationships, streamed from the store. Each pass over them
/// reads the store afresh.
struct Source<'s> {
    store: &'s Store,
    ego: Option<BTreeSet<NodeId>>,
}

impl<'s> Source<'s> {
    fn new(store: &'s Store, selection: &Selection) -> Result<Source<'s>, ExportError> {
        let ego = match selection {
            Selection::All => None,
            Selection::Around { center, hops } => Some(ego_nodes(store, *center, *hops)?),
        };
        Ok(Source { store, ego })
    }

    fn for_each_node(
        &self,
        mut visit: impl FnMut(NodeId, NodeRecord) -> Result<(), ExportError>,
    ) -> Result<(), ExportError> {
        match &self.ego {
            None => {
                for item in self.store.all_node_bytes() {
                    let (id, bytes) = item?;
                    visit(id, codec::decode(&bytes, "a node")?)?;
                }
            }
            Some(nodes) => {
                for &id in nodes {
                    if let Some(record) = self.store.node(id)? {
                        visit(id, record)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn for_each_edge(
        &self,
        mut visit: impl FnMut(EdgeId, EdgeRecord) -> Result<(), ExportError>,
    ) -> Result<(), ExportError> {
        match &self.ego {
            None => {
                for item in self.store.all_edges() {
                    let (id, record) = item?;
                    visit(id, record)?;
                }
            }
            Some(nodes) => {
                for &node in nodes {
                    let mut edges = Vec::new();
                    for adjacent in self.store.adjacent(node, Direction::Out, None) {
                        let adjacent = adjacent?;
                        if nodes.contains(&adjacent.other) {
                            edges.push(adjacent.edge);
                        }
                    }
                    edges.sort_unstable();
                    for id in edges {
                        if let Some(record) = self.store.edge(id)? {
                            visit(id, record)?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Pass one: the tables, their columns and column types, and how many rows.
    fn schema(&self, progress: &dyn Fn(u64)) -> Result<Schema, ExportError> {
        let mut schema = Schema::default();
        self.for_each_node(|_, record| {
            schema.add_node(&record);
            progress(1);
            Ok(())
        })?;
        self.for_each_edge(|_, record| {
            let from = self.head(record.src)?;
            let to = self.head(record.dst)?;
            schema.add_edge(&record, &from.table, &to.table);
            progress(1);
            Ok(())
        })?;
        Ok(schema)
    }

    /// A relationship end's `id`, table and (for events) date spell.
    fn head(&self, node: NodeId) -> Result<NodeHead, ExportError> {
        let bytes = self
            .store
            .node_bytes(node)?
            .ok_or_else(|| StoreError::Corrupt(format!("a relationship ends at missing node {node}")))?;
        let record: NodeRecord = codec::decode(&bytes, "a node")?;
        Ok(NodeHead {
            key: node_key(&record, node),
            table: table_of(&record).to_string(),
            spell: Spell::of_event(&record),
        })
    }
}

struct NodeHead {
    key: String,
    table: String,
    spell: Option<Spell>,
}

/// A node's stable `id`, or `node:N` for a node without one (none is stored so).
fn node_key(record: &NodeRecord, node: NodeId) -> String {
    record.key().map(str::to_string).unwrap_or_else(|| format!("node:{node}"))
}

/// Exports the selection in `format` to `target`. `progress` is told of each node and
/// relationship read (twice: once per pass); `total` is how many calls to expect.
pub fn export(
    store: &Store,
    format: ExportFormat,
    selection: &Selection,
    target: Target,
    progress: &dyn Fn(u64),
) -> Result<ExportSummary, ExportError> {
    let _snapshot = store.read_snapshot();
    let source = Source::new(store, selection)?;
    let schema = source.schema(progress)?;
    let mut writer = open_writer(format, &schema, target)?;
    let mut summary = ExportSummary::default();
    source.for_each_node(|id, record| {
        let key = node_key(&record, id);
        writer.node(&ExportNode { key: &key, record: &record, table: table_of(&record) })?;
        summary.nodes += 1;
        progress(1);
        Ok(())
    })?;
    source.for_each_edge(|id, record| {
        let from = source.head(record.src)?;
        let to = source.head(record.dst)?;
        writer.edge(&ExportEdge {
            id,
            record: &record,
            from: Endpoint { key: &from.key, table: &from.table, spell: from.spell.clone() },
            to: Endpoint { key: &to.key, table: &to.table, spell: to.spell.clone() },
        })?;
        summary.edges += 1;
        progress(1);
        Ok(())
    })?;
    summary.files = writer.finish()?;
    Ok(summary)
}

/// How many progress steps `export` reports for a selection of the whole store.
pub fn progress_total(store: &Store) -> Result<u64, ExportError> {
    let stats = store.stats()?;
    Ok(2 * (stats.nodes + stats.edges))
}

fn open_writer(format: ExportFormat, schema: &Schema, target: Target) -> Result<Box<dyn GraphWriter>, ExportError> {
    match format {
        ExportFormat::Gexf => Ok(Box::new(gexf::GexfWriter::new(open_stream(target)?, schema, gexf::Version::V1_3)?)),
        ExportFormat::Gexf12 => {
            Ok(Box::new(gexf::GexfWriter::new(open_stream(target)?, schema, gexf::Version::V1_2Draft)?))
        }
        ExportFormat::GraphMl => Ok(Box::new(graphml::GraphMlWriter::new(open_stream(target)?, schema)?)),
        ExportFormat::Dot => Ok(Box::new(dot::DotWriter::new(open_stream(target)?)?)),
        ExportFormat::Csv => Ok(Box::new(neo4j_csv::Neo4jCsvWriter::new(&open_directory(target)?, schema)?)),
        ExportFormat::Parquet => {
            Ok(Box::new(parquet_tables::ParquetWriter::new(&open_directory(target)?, schema, false)?))
        }
        ExportFormat::Kuzu => Ok(Box::new(parquet_tables::ParquetWriter::new(&open_directory(target)?, schema, true)?)),
    }
}

/// A buffered stream to stdout or a file, which `finish` flushes and syncs.
pub struct Stream {
    out: BufWriter<Box<dyn Write>>,
    path: PathBuf,
    file: Option<PathBuf>,
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

impl Stream {
    fn error(&self, err: impl std::fmt::Display) -> ExportError {
        ExportError::write(&self.path, err)
    }

    /// Flushes (and for a file, syncs) the stream; the file it wrote, if any.
    fn finish(mut self) -> Result<Vec<PathBuf>, ExportError> {
        self.out.flush().map_err(|e| ExportError::write(&self.path, e))?;
        if let Some(path) = &self.file {
            File::open(path).and_then(|f| f.sync_all()).map_err(|e| ExportError::write(path, e))?;
        }
        Ok(self.file.into_iter().collect())
    }
}

fn open_stream(target: Target) -> Result<Stream, ExportError> {
    match target {
        Target::Stdout => {
            Ok(Stream { out: BufWriter::new(Box::new(std::io::stdout())), path: "stdout".into(), file: None })
        }
        Target::File(path) => {
            let file = File::create(&path).map_err(|e| ExportError::write(&path, e))?;
            Ok(Stream { out: BufWriter::new(Box::new(file)), path: path.clone(), file: Some(path) })
        }
        Target::Directory(path) => Err(ExportError::Usage(format!(
            "{} is a directory; this format writes one file: give -o FILE or write to stdout",
            path.display()
        ))),
    }
}

/// The directory for a table format: created if missing, refused if it holds anything
/// (an export never mixes its tables with older files).
fn open_directory(target: Target) -> Result<PathBuf, ExportError> {
    let Target::Directory(dir) = target else {
        return Err(ExportError::Usage("this format writes a directory of tables: give -o DIR".into()));
    };
    if dir.exists() {
        let mut entries = std::fs::read_dir(&dir).map_err(|e| ExportError::write(&dir, e))?;
        if entries.next().is_some() {
            return Err(ExportError::Usage(format!(
                "{} is not empty; export into a new or empty directory",
                dir.display()
            )));
        }
    }
    std::fs::create_dir_all(&dir).map_err(|e| ExportError::write(&dir, e))?;
    Ok(dir)
}

/// Creates a file of a table export, buffered.
fn create_file(path: &Path) -> Result<BufWriter<File>, ExportError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| ExportError::write(parent, e))?;
    }
    File::create(path).map(BufWriter::new).map_err(|e| ExportError::write(path, e))
}

/// Flushes and syncs a table file.
fn finish_file(out: BufWriter<File>, path: &Path) -> Result<(), ExportError> {
    let file = out.into_inner().map_err(|e| ExportError::write(path, e.error()))?;
    file.sync_all().map_err(|e| ExportError::write(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_dates_span_their_period() {
        assert_eq!(Spell::of_date("2023-09-13"), Some(Spell { start: "2023-09-13".into(), end: "2023-09-13".into() }));
        assert_eq!(Spell::of_date("2023-10"), Some(Spell { start: "2023-10-01".into(), end: "2023-10-31".into() }));
        assert_eq!(Spell::of_date("2024-02"), Some(Spell { start: "2024-02-01".into(), end: "2024-02-29".into() }));
        assert_eq!(Spell::of_date("2023"), Some(Spell { start: "2023-01-01".into(), end: "2023-12-31".into() }));
        for bad in ["", "23", "2023-13", "2023-02-30", "2023-9-1", "soon", "2023-01-01-01"] {
            assert_eq!(Spell::of_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_node_table_is_its_most_specific_label() {
        let record = |labels: &[&str]| NodeRecord {
            labels: labels.iter().map(|l| l.to_string()).collect(),
            props: Properties::new(),
        };
        assert_eq!(table_of(&record(&["Event", "Meeting"])), "Meeting");
        assert_eq!(table_of(&record(&["Person"])), "Person");
        assert_eq!(table_of(&record(&["Event"])), "Event");
    }
}
