//! The command line: clap definitions, store opening and exit codes. Errors reach the
//! user as one readable message; exit 0 ok, 1 some records rejected or problems found, 2 error.

mod import_cmd;
mod inspect;
mod maintenance;
mod output;
mod query_cmd;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::ingest::{self, Ingester};
use crate::ontology::Ontology;
use crate::store::{OpenMode, Store};
pub use output::Failure;

#[derive(Parser)]
#[command(
    name = "diplograph",
    version,
    about = "A graph of diplomatic events from news articles: ingest article batches, ask openCypher questions",
    after_help = "Exit status: 0 ok, 1 some records were rejected (or `check` found problems), 2 usage or store error."
)]
pub struct Cli {
    /// Store directory [env: DIPLOGRAPH_DB] [default: ./diplograph.db]
    #[arg(long, global = true, value_name = "PATH")]
    db: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Ingest article batches (JSON Lines or one JSON array; `-` reads stdin).
    Ingest {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<String>,
        /// Write every rejected record, verbatim, to this file.
        #[arg(long, value_name = "PATH")]
        rejects: Option<PathBuf>,
        /// When this creates the store: compress it with zstd (about half the disk; ingest
        /// and cold queries take longer, see BENCHMARKS.md). A store keeps its setting.
        #[arg(long)]
        compress: bool,
    },
    /// Import public event data (GDELT 2.0, ICEWS, POLECAT, PLOVER JSON) as article batches.
    Import(import_cmd::ImportArgs),
    /// Node counts per label and edge counts per type.
    Stats {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Remove articles and every event only they reported.
    Remove {
        #[arg(required = true, value_name = "ARTICLE_ID")]
        ids: Vec<String>,
    },
    /// How a name resolves: canonical entity, kind, aliases, number of events.
    Entities {
        /// Only entities of this kind (Person, Country, Organization, Place, Item).
        #[arg(long, value_name = "KIND")]
        kind: Option<String>,
        /// A name or alias (case, hyphens and spacing don't matter); all entities if omitted.
        name: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// One node by its `id`: properties, edges and provenance.
    Show {
        id: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Run a read-only openCypher query (from the argument, -f FILE, or stdin).
    Query(query_cmd::QueryArgs),
    /// Interactive query prompt with history; statements end with `;`.
    Shell(query_cmd::ShellArgs),
    /// Verify the store's integrity: indexes, edges, counts, format version.
    Check,
    /// Write the whole store as article-batch JSON Lines (stdout or -o FILE).
    Dump {
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Rewrite the store's live data into a fresh directory and swap it in (safe under a kill);
    /// shrinks a store that many commits have grown.
    Compact,
    /// Load a dump (or any article batch) into an empty store.
    Restore {
        #[arg(value_name = "FILE")]
        file: String,
        /// Create the store compressed (as `ingest --compress`).
        #[arg(long)]
        compress: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// Runs the CLI and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() { 2 } else { 0 };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(Failure::BrokenPipe) => ExitCode::SUCCESS,
        Err(Failure::Message(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<u8, Failure> {
    let db = store_path(cli.db);
    match cli.command {
        Command::Ingest { files, rejects, compress } => ingest_files(&db, &files, rejects.as_deref(), compress),
        Command::Import(args) => import_cmd::import(&db, args),
        Command::Stats { format } => {
            let store = open(&db, OpenMode::MustExist)?;
            output::print_stats(&store.stats()?, format)?;
            Ok(0)
        }
        Command::Remove { ids } => {
            let store = open(&db, OpenMode::MustExist)?;
            let results = ingest::remove_articles(&store, &ids)?;
            let mut missing = 0;
            for (id, result) in ids.iter().zip(results) {
                match result {
                    Some(events) => eprintln!("removed article {id} ({events} events left with no report removed)"),
                    None => {
                        missing += 1;
                        eprintln!("error: no article with id '{id}' is stored; `diplograph query \"MATCH (a:Article) RETURN a.id\"` lists them");
                    }
                }
            }
            Ok(if missing > 0 { 1 } else { 0 })
        }
        Command::Entities { kind, name, format } => {
            let store = open(&db, OpenMode::MustExist)?;
            inspect::entities(&store, kind.as_deref(), name.as_deref(), format)
        }
        Command::Show { id, format } => {
            let store = open(&db, OpenMode::MustExist)?;
            inspect::show(&store, &id, format)
        }
        Command::Query(args) => query_cmd::query(&open(&db, OpenMode::MustExist)?, args),
        Command::Shell(args) => query_cmd::shell(&open(&db, OpenMode::MustExist)?, args),
        Command::Check => maintenance::check(&open(&db, OpenMode::MustExistScan)?),
        Command::Dump { output } => maintenance::dump(&open(&db, OpenMode::MustExistScan)?, output.as_deref()),
        Command::Compact => maintenance::compact(&db),
        Command::Restore { file, compress } => maintenance::restore(&db, &file, create_mode(compress)),
    }
}

/// `--db`, else `DIPLOGRAPH_DB`, else `./diplograph.db`.
fn store_path(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| std::env::var_os("DIPLOGRAPH_DB").filter(|v| !v.is_empty()).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("diplograph.db"))
}

fn open(path: &Path, mode: OpenMode) -> Result<Store, Failure> {
    Ok(Store::open(path, mode)?)
}

/// How a writing command opens its store: created (compressed when asked) if missing.
fn create_mode(compress: bool) -> OpenMode {
    if compress {
        OpenMode::CreateCompressedIfMissing
    } else {
        OpenMode::CreateIfMissing
    }
}

fn ingest_files(db: &Path, files: &[String], rejects: Option<&Path>, compress: bool) -> Result<u8, Failure> {
    let store = open(db, create_mode(compress))?;
    let ontology = Ontology::embedded();
    let mut ingester = Ingester::new(&store, ontology, rejects)?;
    let stderr_is_terminal = std::io::stderr().is_terminal();
    for name in files {
        let (input, size) = ingest::open_source(name)?;
        let bar = progress_bar(size, stderr_is_terminal);
        let progress = |bytes: u64| bar.set_position(bytes);
        let mut report = |diagnostic: &ingest::Diagnostic| bar.suspend(|| eprintln!("{diagnostic}"));
        let result = ingester.ingest(name, input, &progress, &mut report);
        bar.finish_and_clear();
        if let Err(err) = result {
            return Err(failed_ingest(&store, &ingester, err));
        }
    }
    let committed = ingester.committed();
    let summary = ingester.finish().map_err(|err| failed_ingest_message(&store, &committed, err))?;
    store.close_with_snapshot()?;
    eprintln!("{summary}");
    Ok(if summary.rejected > 0 { 1 } else { 0 })
}

/// The error of an ingest that failed part-way, with what was stored before it.
fn failed_ingest(store: &Store, ingester: &Ingester<'_>, err: ingest::IngestError) -> Failure {
    failed_ingest_message(store, &ingester.committed(), err)
}

fn failed_ingest_message(store: &Store, committed: &ingest::IngestSummary, err: ingest::IngestError) -> Failure {
    // Whatever was committed before the failure is flushed, so the report can be true.
    let stored = committed.counts.articles_added + committed.counts.articles_replaced;
    let outcome = match store.flush() {
        Ok(()) => format!("{stored} articles were stored before the failure"),
        Err(_) => format!(
            "up to {stored} articles committed before the failure may be on disk (the final flush failed too); `diplograph check` verifies the store"
        ),
    };
    Failure::Message(format!("{err}\n{outcome}; fix the cause and re-run the ingest (re-ingesting is idempotent)"))
}

/// A byte-based progress bar on a terminal for inputs over 1 MiB; hidden otherwise.
fn progress_bar(size: Option<u64>, terminal: bool) -> indicatif::ProgressBar {
    match size {
        Some(size) if terminal && size > 1 << 20 => {
            let bar = indicatif::ProgressBar::new(size);
            let style =
                indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        }
        _ => indicatif::ProgressBar::hidden(),
    }
}

/// Writes to stdout, turning a closed pipe into a quiet stop.
pub(crate) fn write_stdout(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|_| out.flush()).map_err(Failure::from)
}
