//! `check`, `dump`, `restore` and `compact`: the store's integrity, a way to move it, and a way
//! to shrink it.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use super::{Console, Failure};
use crate::check::check_store;
use crate::dump::{self, DumpError, RestoreError};
use crate::ingest;
use crate::ontology::Ontology;
use crate::store::{OpenMode, Store};

/// Prints `ok: …` and exits 0, or one problem per line and exits 1.
pub fn check(console: &mut Console, store: &Store) -> Result<u8, Failure> {
    let report = check_store(store)?;
    if report.is_ok() {
        let version = report.format_version.map(|v| v.to_string()).unwrap_or_default();
        console.print(&format!("ok: {} nodes, {} edges, format version {version}\n", report.nodes, report.edges))?;
        return Ok(0);
    }
    let mut text: String = report.problems.iter().map(|p| format!("{p}\n")).collect();
    if report.unlisted_problems > 0 {
        text.push_str(&format!("… and {} more problems\n", report.unlisted_problems));
    }
    console.print(&text)?;
    console.eprint_line(&format!(
        "{} problems in the store at {}; `diplograph dump` may still get the data out",
        report.problem_count(),
        store.path().display()
    ));
    Ok(1)
}

/// Writes the dump to stdout, or to `output` through a temporary file renamed into place
/// at the end, so an interrupted dump never leaves a truncated file under that name.
pub fn dump(store: &Store, output: Option<&Path>) -> Result<u8, Failure> {
    let ontology = Ontology::embedded();
    let summary = match output {
        None => {
            let stdout = std::io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            dump::dump_store(store, ontology, &mut out).map_err(dump_failure)?
        }
        Some(path) => {
            let partial = partial_path(path);
            let written = write_dump_file(store, ontology, &partial).and_then(|summary| {
                std::fs::rename(&partial, path).map_err(DumpError::Io)?;
                Ok(summary)
            });
            if written.is_err() {
                let _ = std::fs::remove_file(&partial);
            }
            written.map_err(|err| match err {
                DumpError::Io(io) => Failure::Message(format!("cannot write the dump to {}: {io}", path.display())),
                other => dump_failure(other),
            })?
        }
    };
    let target = output.map(|p| p.display().to_string()).unwrap_or_else(|| "stdout".into());
    eprintln!("{summary} to {target}");
    if summary.unreported_events > 0 {
        eprintln!(
            "warning: {} events are reported by no article and are not in the dump; `diplograph check` lists them",
            summary.unreported_events
        );
        return Ok(1);
    }
    Ok(0)
}

fn write_dump_file(store: &Store, ontology: &Ontology, path: &Path) -> Result<dump::DumpSummary, DumpError> {
    let file = File::create(path)?;
    let mut out = BufWriter::new(file);
    let summary = dump::dump_store(store, ontology, &mut out)?;
    let file = out.into_inner().map_err(|e| DumpError::Io(e.into_error()))?;
    file.sync_all()?;
    Ok(summary)
}

pub(super) fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".partial-{}", std::process::id()));
    path.with_file_name(name)
}

fn dump_failure(err: DumpError) -> Failure {
    match err {
        DumpError::Io(io) => Failure::from(io),
        other => Failure::Message(other.to_string()),
    }
}

/// Loads a dump into a new store; exit 1 when a record was rejected (the restore is then
/// incomplete), 2 when the store is not empty or cannot be written.
pub fn restore(db: &Path, file: &str, mode: OpenMode) -> Result<u8, Failure> {
    let (input, _) = ingest::open_source(file)?;
    let store = Store::open(db, mode)?;
    let mut report = |diagnostic: &ingest::Diagnostic| eprintln!("{diagnostic}");
    let summary = dump::restore(&store, Ontology::embedded(), file, input, &mut report).map_err(|err| match err {
        RestoreError::Ingest(err) => Failure::from(err),
        other => Failure::Message(other.to_string()),
    })?;
    let stats = store.stats()?;
    let count = |label: &str| stats.labels.get(label).copied().unwrap_or(0);
    let entities: u64 = crate::model::ENTITY_KINDS.iter().map(|kind| count(kind)).sum();
    eprintln!(
        "restored {} articles, {} events, {} entities ({} nodes, {} edges) into {}",
        count("Article"),
        count("Event"),
        entities,
        stats.nodes,
        stats.edges,
        db.display()
    );
    store.close_with_snapshot()?;
    if summary.ingest.rejected > 0 {
        eprintln!("error: {} records were rejected; the restored store is incomplete", summary.ingest.rejected);
        return Ok(1);
    }
    Ok(0)
}

/// Rewrites the store into a fresh directory and swaps it in; prints the sizes.
pub fn compact(db: &Path) -> Result<u8, Failure> {
    let report = crate::store::compact::compact(db).map_err(|err| match err {
        crate::store::StoreError::InUse(_) => super::in_use_failure(db, err),
        other => other.into(),
    })?;
    let mb = |bytes: u64| format!("{}.{} MB", bytes / 1_000_000, bytes % 1_000_000 / 100_000);
    eprintln!(
        "compacted {}: {} keys ({} of keys and values), {} -> {} on disk",
        db.display(),
        report.keys,
        mb(report.live_bytes),
        mb(report.bytes_before),
        mb(report.bytes_after)
    );
    Ok(0)
}
