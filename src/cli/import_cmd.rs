//! `diplograph import`: argument handling, the progress bar and the summary line around
//! `import::run`, which does the work (the same function a server can call).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::{create_mode, open, Failure};
use crate::import::{self, ImportError, ImportFailure, ImportOptions, Mapping, Output, Progress};
use crate::ontology::Ontology;

/// Environment variable naming an alternative mapping file (as `--mapping`).
pub const MAPPING_ENV: &str = "DIPLOGRAPH_IMPORT_MAPPING";

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DatasetFormat {
    /// GDELT 2.0 events exports and mentions files (tab-separated, .zip/.gz or plain).
    Gdelt,
    /// ICEWS coded event data (.tab files with a header row).
    Icews,
    /// POLECAT weekly files (PLOVER-coded, tab-separated with a header row).
    Polecat,
    /// PLOVER JSON records (one JSON array or JSON Lines).
    PloverJson,
}

impl From<DatasetFormat> for import::Format {
    fn from(format: DatasetFormat) -> Self {
        match format {
            DatasetFormat::Gdelt => import::Format::Gdelt,
            DatasetFormat::Icews => import::Format::Icews,
            DatasetFormat::Polecat => import::Format::Polecat,
            DatasetFormat::PloverJson => import::Format::PloverJson,
        }
    }
}

#[derive(Args)]
pub struct ImportArgs {
    /// The dataset the files come from.
    #[arg(value_enum)]
    format: DatasetFormat,
    /// Files to read: plain, .zip (each member) or .gz; `-` reads stdin.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<String>,
    /// Write the article batch (JSON Lines) to stdout instead of storing it.
    #[arg(long)]
    emit: bool,
    /// Write every rejected row, verbatim, to this file.
    #[arg(long, value_name = "PATH")]
    rejects: Option<PathBuf>,
    /// Read the code mapping from this file instead of the built-in schema/import-mapping.json
    /// [env: DIPLOGRAPH_IMPORT_MAPPING].
    #[arg(long, value_name = "FILE")]
    mapping: Option<PathBuf>,
    /// Also turn CAMEO 071 / PLOVER AID (economic aid) into gift facts.
    #[arg(long)]
    with_aid_as_gifts: bool,
    /// When this creates the store: compress it (as `ingest --compress`).
    #[arg(long)]
    compress: bool,
}

pub fn import(db: &Path, args: ImportArgs) -> Result<u8, Failure> {
    let ontology = Ontology::embedded();
    let mapping = load_mapping(args.mapping, ontology)?;
    // `--emit` stores nothing, but an existing store still tells later mentions their events.
    let emit_store = match args.emit && db.exists() {
        true => Some(open(db, crate::store::OpenMode::MustExist)?),
        false => None,
    };
    let options = ImportOptions {
        known_events: emit_store.as_ref(),
        aid_as_gifts: args.with_aid_as_gifts,
        rejects: args.rejects,
    };
    let total: Option<u64> = args.files.iter().map(|f| import::source::source_size(f)).sum();
    let bar = super::progress_bar(total, std::io::stderr().is_terminal());
    let progress = |event: Progress| match event {
        Progress::Read(bytes) => bar.set_position(bytes),
        Progress::Write { done, total } => {
            if bar.length() != Some(total) {
                bar.set_length(total);
                bar.set_style(
                    indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} articles, eta {eta}")
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
            }
            bar.set_position(done);
        }
    };
    let mut report = |diagnostic: &crate::ingest::Diagnostic| bar.suspend(|| eprintln!("{diagnostic}"));
    let format = args.format.into();
    let result = if args.emit {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
        import::run(Output::Emit(&mut out), format, &args.files, &mapping, &options, &mut report, &progress)
    } else {
        let store = open(db, create_mode(args.compress))?;
        let result =
            import::run(Output::Store(&store), format, &args.files, &mapping, &options, &mut report, &progress);
        match &result {
            Ok(_) => store.close_with_snapshot()?,
            // What was committed before the failure is made durable, so the message is true.
            Err(_) => store.flush()?,
        }
        result
    };
    bar.finish_and_clear();
    let summary = result.map_err(import_failure)?;
    eprintln!("{summary}");
    Ok(if summary.rows.rejected > 0 || summary.ingest.rejected > 0 { 1 } else { 0 })
}

fn load_mapping(flag: Option<PathBuf>, ontology: &Ontology) -> Result<Mapping, Failure> {
    let path = flag.or_else(|| std::env::var_os(MAPPING_ENV).filter(|v| !v.is_empty()).map(PathBuf::from));
    let Some(path) = path else {
        return Mapping::embedded(ontology).map_err(|e| Failure::Message(e.to_string()));
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Failure::Message(format!("cannot read the import mapping {}: {e}", path.display())))?;
    Mapping::parse(&text, &path.display().to_string(), ontology).map_err(|e| Failure::Message(e.to_string()))
}

fn import_failure(failure: ImportFailure) -> Failure {
    if let ImportError::Emit(e) = &failure.error {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return Failure::BrokenPipe;
        }
    }
    let stored = match failure.articles_stored {
        0 => "nothing was stored".to_string(),
        n => format!("{n} articles (of the files read before it) were stored"),
    };
    Failure::Message(format!("{}\n{stored}; fix the cause and re-run: importing again is idempotent", failure.error))
}
