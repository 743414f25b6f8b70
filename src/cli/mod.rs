//! The command line: clap definitions, store opening and exit codes. Errors reach the
//! user as one readable message; exit 0 ok, 1 some records rejected or problems found, 2 error.

mod analyze;
mod console;
mod export_cmd;
mod forward;
mod import_cmd;
pub(crate) mod inspect;
mod maintenance;
mod output;
mod query_cmd;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::ingest::{self, Ingester};
use crate::ontology::Ontology;
use crate::store::{OpenMode, Store, StoreError};
pub use console::Console;
pub use forward::{run_forwarded, ForwardedOutput};
pub use output::{stats_json, Failure};
pub use query_cmd::Limits;

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
    /// Graph analytics over a who-deals-with-whom projection (the algo.* procedures).
    #[command(subcommand)]
    Analyze(analyze::Analysis),
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
    /// Write the graph for another tool: Gephi, NetworkX, Graphviz, Neo4j, Kuzu, Parquet.
    Export(export_cmd::ExportArgs),
    /// Serve the store over HTTP: the JSON API, Neo4j's Query API v2 and the explorer.
    /// While it runs, the other commands on this store go through it.
    Serve(ServeArgs),
    /// Load a dump (or any article batch) into an empty store.
    Restore {
        #[arg(value_name = "FILE")]
        file: String,
        /// Create the store compressed (as `ingest --compress`).
        #[arg(long)]
        compress: bool,
    },
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on; anything but loopback needs a token.
    #[arg(long, default_value = "127.0.0.1")]
    bind: std::net::IpAddr,
    /// Port to listen on (0 picks a free one; the printed URL names it).
    #[arg(long, default_value_t = 7475)]
    port: u16,
    /// Refuse uploads: the store is only read.
    #[arg(long)]
    read_only: bool,
    /// Read the API token from this file (first line) instead of generating one.
    #[arg(long, value_name = "FILE", conflicts_with = "no_auth")]
    token_file: Option<PathBuf>,
    /// No token (loopback only): anyone on this machine can use the API.
    #[arg(long)]
    no_auth: bool,
    /// An origin whose pages may call the API (CORS), e.g. http://localhost:5173; repeatable.
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    allow_origins: Vec<String>,
    /// A host name this server answers to besides its address (Host header check); repeatable.
    #[arg(long = "allow-host", value_name = "NAME")]
    allow_hosts: Vec<String>,
    /// Queries run at once [default: the number of cores].
    #[arg(long, value_name = "N")]
    query_slots: Option<usize>,
    /// Longest a query may run, and the default deadline.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    query_timeout: f64,
    /// After SIGINT/SIGTERM, how long running requests and the writer may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    shutdown_grace: f64,
    /// Largest batch upload, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 256)]
    max_upload_mib: usize,
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
            let store = match open_or_forward(&db, OpenMode::MustExist, || Ok(None))? {
                Opened::Store(store) => store,
                Opened::Forwarded(code) => return Ok(code),
            };
            output::print_stats(&mut Console::stdio(), &store.stats()?, format)?;
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
            let store = match open_or_forward(&db, OpenMode::MustExist, || Ok(None))? {
                Opened::Store(store) => store,
                Opened::Forwarded(code) => return Ok(code),
            };
            inspect::entities(&mut Console::stdio(), &store, kind.as_deref(), name.as_deref(), format)
        }
        Command::Show { id, format } => {
            let store = match open_or_forward(&db, OpenMode::MustExist, || Ok(None))? {
                Opened::Store(store) => store,
                Opened::Forwarded(code) => return Ok(code),
            };
            inspect::show(&mut Console::stdio(), &store, &id, format)
        }
        Command::Query(args) => match open_or_forward(&db, OpenMode::MustExist, || args.text().map(Some))? {
            Opened::Store(store) => query_cmd::query(&mut Console::stdio(), &store, args),
            Opened::Forwarded(code) => Ok(code),
        },
        Command::Shell(args) => query_cmd::shell(&open(&db, OpenMode::MustExist)?, args),
        Command::Analyze(analysis) => analyze::analyze(&open(&db, OpenMode::MustExist)?, analysis),
        Command::Check => match open_or_forward(&db, OpenMode::MustExistScan, || Ok(None))? {
            Opened::Store(store) => maintenance::check(&mut Console::stdio(), &store),
            Opened::Forwarded(code) => Ok(code),
        },
        Command::Serve(args) => serve(&db, args),
        Command::Dump { output } => maintenance::dump(&open(&db, OpenMode::MustExistScan)?, output.as_deref()),
        Command::Compact => maintenance::compact(&db),
        Command::Export(args) => export_cmd::export(&open(&db, OpenMode::MustExistScan)?, args),
        Command::Restore { file, compress } => maintenance::restore(&db, &file, create_mode(compress)),
    }
}

/// `--db`, else `DIPLOGRAPH_DB`, else `./diplograph.db`.
fn store_path(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| std::env::var_os("DIPLOGRAPH_DB").filter(|v| !v.is_empty()).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("diplograph.db"))
}

fn open(path: &Path, mode: OpenMode) -> Result<Store, Failure> {
    Store::open(path, mode).map_err(|err| match err {
        StoreError::InUse(_) => in_use_failure(path, err),
        other => other.into(),
    })
}

/// A store in use: the plain error, or the server that holds it for a command that is
/// not forwarded.
fn in_use_failure(path: &Path, err: StoreError) -> Failure {
    match crate::serve::discovery::read(path) {
        Some(address) => Failure::Message(format!(
            "{err}: `diplograph serve` holds it at {}; this command is not forwarded to a server, so stop the server first",
            address.url
        )),
        None => err.into(),
    }
}

/// An opened store, or the exit code of the command after a server ran it.
enum Opened {
    Store(Store),
    Forwarded(u8),
}

/// Opens the store; if a running server holds it, runs this command there instead.
/// `query_text` gives a query command's text, read here (file or stdin) and sent along.
fn open_or_forward(
    path: &Path,
    mode: OpenMode,
    query_text: impl FnOnce() -> Result<Option<String>, Failure>,
) -> Result<Opened, Failure> {
    match Store::open(path, mode) {
        Ok(store) => Ok(Opened::Store(store)),
        Err(err) => {
            let client = forward::server_for(path, err)?;
            Ok(Opened::Forwarded(client.run_command(query_text()?)?))
        }
    }
}

fn serve(db: &Path, args: ServeArgs) -> Result<u8, Failure> {
    let seconds = |value: f64, flag: &str| {
        if value.is_finite() && value > 0.0 {
            Ok(std::time::Duration::from_secs_f64(value))
        } else {
            Err(Failure::Message(format!("{flag} takes a positive number of seconds")))
        }
    };
    let token = match (&args.token_file, args.no_auth) {
        (Some(path), _) => Some(crate::serve::read_token_file(path).map_err(Failure::Message)?),
        (None, true) => None,
        (None, false) => Some(crate::serve::generate_token().map_err(Failure::Message)?),
    };
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let config = crate::serve::ServeConfig {
        bind: args.bind,
        port: args.port,
        read_only: args.read_only,
        token,
        allow_origins: args.allow_origins,
        allow_hosts: args.allow_hosts,
        query_slots: args.query_slots.unwrap_or(cores),
        slot_wait: std::time::Duration::from_secs(10),
        query_timeout: seconds(args.query_timeout, "--query-timeout")?,
        default_rows: 1_000,
        max_held_rows: 1_000_000,
        shutdown_grace: seconds(args.shutdown_grace, "--shutdown-grace")?,
        max_query_body: 1 << 20,
        max_upload: args.max_upload_mib.saturating_mul(1 << 20),
    };
    config.validate().map_err(Failure::Message)?;
    let mode = if args.read_only { OpenMode::MustExist } else { OpenMode::CreateIfMissing };
    let store = Store::open(db, mode).map_err(|err| match err {
        StoreError::InUse(_) => match crate::serve::discovery::read(db) {
            Some(address) => Failure::Message(format!("{err} (a server may already serve it at {})", address.url)),
            None => err.into(),
        },
        other => other.into(),
    })?;
    crate::serve::run(store, config).map_err(Failure::Message)?;
    Ok(0)
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
    let store = match Store::open(db, create_mode(compress)) {
        Ok(store) => store,
        // A running server holds the store: upload the batches to it. (`import` does the
        // same with the records it converts: `forward::server_for`, then `Client::upload`.)
        Err(err) => {
            let client = forward::server_for(db, err)?;
            return client.ingest(files, rejects);
        }
    };
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
    Failure::Message(failure_text(&err, &outcome))
}

/// How a failed ingest is reported: the error, then what was stored before it.
fn failure_text(err: &ingest::IngestError, outcome: &str) -> String {
    format!("{err}\n{outcome}; fix the cause and re-run the ingest (re-ingesting is idempotent)")
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
