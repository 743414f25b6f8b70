//! `export`: the graph in the formats other tools read (see `crate::export`), to stdout,
//! a file or a directory of tables, with a progress bar on a terminal.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::maintenance::partial_path;
use super::Failure;
use crate::export::{self, ExportError, ExportFormat, Selection, Target};
use crate::store::Store;

#[derive(Args)]
pub struct ExportArgs {
    /// gexf (Gephi), graphml (NetworkX, yEd, igraph), dot (Graphviz), csv (neo4j-admin
    /// import), kuzu (Parquet tables + schema.cypher), parquet (pyarrow, Spark, DuckDB).
    #[arg(long, value_enum)]
    format: FormatArg,
    /// The graph to export: the stored property graph as queries see it.
    #[arg(long, value_enum, default_value_t = GraphArg::Raw)]
    graph: GraphArg,
    /// Output: a FILE for gexf/graphml/dot (stdout if omitted), a new or empty DIR for
    /// csv/kuzu/parquet.
    #[arg(short, long, value_name = "FILE|DIR")]
    output: Option<PathBuf>,
    /// Only the ego network of this entity (a name or alias, resolved as `entities` does,
    /// or a node id).
    #[arg(long, value_name = "NAME")]
    around: Option<String>,
    /// With --around: how many relationships away from it (either direction) to reach.
    #[arg(long, value_name = "N", requires = "around")]
    hops: Option<u32>,
    /// The GEXF version: 1.3 (Gephi 0.9+), or 1.2draft (what NetworkX's read_gexf reads).
    #[arg(long, value_enum, default_value_t = GexfVersion::V1_3)]
    gexf_version: GexfVersion,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum FormatArg {
    Gexf,
    Graphml,
    Dot,
    Csv,
    Kuzu,
    Parquet,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum GraphArg {
    Raw,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum GexfVersion {
    #[value(name = "1.3")]
    V1_3,
    #[value(name = "1.2draft")]
    V1_2Draft,
}

/// How far `--around` reaches when `--hops` is not given.
const DEFAULT_HOPS: u32 = 1;

pub fn export(store: &Store, args: ExportArgs) -> Result<u8, Failure> {
    let format = match (args.format, args.gexf_version) {
        (FormatArg::Gexf, GexfVersion::V1_3) => ExportFormat::Gexf,
        (FormatArg::Gexf, GexfVersion::V1_2Draft) => ExportFormat::Gexf12,
        (_, GexfVersion::V1_2Draft) => {
            return Err(Failure::Message("--gexf-version applies to --format gexf only".into()));
        }
        (FormatArg::Graphml, _) => ExportFormat::GraphMl,
        (FormatArg::Dot, _) => ExportFormat::Dot,
        (FormatArg::Csv, _) => ExportFormat::Csv,
        (FormatArg::Kuzu, _) => ExportFormat::Kuzu,
        (FormatArg::Parquet, _) => ExportFormat::Parquet,
    };
    let GraphArg::Raw = args.graph;
    let selection = match &args.around {
        None => Selection::All,
        Some(name) => Selection::Around {
            center: export::resolve_center(store, name).map_err(failure)?,
            hops: args.hops.unwrap_or(DEFAULT_HOPS),
        },
    };
    let bar = progress_bar(store, &selection)?;
    let progress = |steps: u64| bar.inc(steps);
    let summary = match (&args.output, format.is_single_file()) {
        (None, true) => export::export(store, format, &selection, Target::Stdout, &progress).map_err(failure)?,
        (None, false) => {
            return Err(Failure::Message(format!(
                "--format {} writes a directory of tables: give -o DIR (a new or empty directory)",
                format_name(args.format)
            )));
        }
        (Some(path), true) => {
            if path.is_dir() {
                return Err(Failure::Message(format!(
                    "{} is a directory; --format {} writes one file: give -o FILE",
                    path.display(),
                    format_name(args.format)
                )));
            }
            export_file(store, format, &selection, path, &progress)?
        }
        (Some(dir), false) => {
            export::export(store, format, &selection, Target::Directory(dir.clone()), &progress).map_err(failure)?
        }
    };
    bar.finish_and_clear();
    let target = match &args.output {
        Some(path) => path.display().to_string(),
        None => "stdout".into(),
    };
    let files = if summary.files.len() > 1 { format!(" ({} files)", summary.files.len()) } else { String::new() };
    eprintln!("exported {} nodes and {} relationships to {target}{files}", summary.nodes, summary.edges);
    Ok(0)
}

/// Writes a one-file export beside `path` and renames it into place when complete, so an
/// interrupted export never leaves a truncated file under that name.
fn export_file(
    store: &Store,
    format: ExportFormat,
    selection: &Selection,
    path: &Path,
    progress: &dyn Fn(u64),
) -> Result<export::ExportSummary, Failure> {
    let partial = partial_path(path);
    let written =
        export::export(store, format, selection, Target::File(partial.clone()), progress).and_then(|summary| {
            std::fs::rename(&partial, path)
                .map_err(|e| ExportError::Write { path: path.to_path_buf(), reason: e.to_string() })?;
            Ok(summary)
        });
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written.map_err(failure)
}

fn format_name(format: FormatArg) -> String {
    format.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default()
}

fn failure(err: ExportError) -> Failure {
    if err.is_broken_pipe() {
        Failure::BrokenPipe
    } else {
        Failure::Message(err.to_string())
    }
}

/// Two passes over every node and relationship, counted on a terminal for large stores.
fn progress_bar(store: &Store, selection: &Selection) -> Result<indicatif::ProgressBar, Failure> {
    if !std::io::stderr().is_terminal() || *selection != Selection::All {
        return Ok(indicatif::ProgressBar::hidden());
    }
    let total = export::progress_total(store).map_err(failure)?;
    if total < 100_000 {
        return Ok(indicatif::ProgressBar::hidden());
    }
    let bar = indicatif::ProgressBar::new(total);
    let style = indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} reads (two passes) {per_sec} eta {eta}")
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    Ok(bar)
}
