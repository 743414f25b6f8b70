//! Import: public event datasets (GDELT 2.0, ICEWS, POLECAT, PLOVER JSON) read into the
//! contract's article records, which then go through ingest's validate → resolve → write
//! like any batch (or are written out as JSON Lines with `--emit`). One reader per dataset,
//! the mapping read from `schema/`. Import reads files and calls `ingest::Ingester`; it
//! never writes the store itself, and `query` is none of its business.

pub mod article;
pub mod gdelt;
pub mod icews;
pub mod known;
pub mod mapping;
pub mod plover_json;
pub mod polecat;
pub mod source;

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::ingest::{Diagnostic, IngestError, IngestSummary, Ingester};
use crate::ontology::Ontology;
use crate::store::Store;
use article::ArticleDraft;
pub use mapping::{Mapping, MappingError};
use source::{Line, MAX_ROW_BYTES};

/// The datasets `diplograph import` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Gdelt,
    Icews,
    Polecat,
    PloverJson,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Gdelt => "gdelt",
            Format::Icews => "icews",
            Format::Polecat => "polecat",
            Format::PloverJson => "plover-json",
        }
    }
}

/// Choices of one import run.
#[derive(Clone, Default)]
pub struct ImportOptions<'s> {
    /// With `--emit`: a store whose earlier imports later mentions may name (read only).
    pub known_events: Option<&'s Store>,
    /// Turn CAMEO 071 / PLOVER AID (aid, sometimes gifts) into gift facts.
    pub aid_as_gifts: bool,
    /// Keep every rejected row, verbatim, in this file.
    pub rejects: Option<PathBuf>,
}

impl ImportOptions<'_> {
    /// The mapping's opt-in rule names this run enables.
    pub fn opt_ins(&self) -> Vec<&'static str> {
        if self.aid_as_gifts {
            vec!["aid_as_gifts"]
        } else {
            Vec::new()
        }
    }
}

/// Where the articles go: into a store through ingest, or out as JSON Lines.
pub enum Output<'a> {
    Store(&'a Store),
    Emit(&'a mut dyn Write),
}

/// What the caller hears while an import runs.
#[derive(Clone, Copy, Debug)]
pub enum Progress {
    /// Bytes of the sources read so far.
    Read(u64),
    /// Articles handed to ingest (or written out) so far, of `total`.
    Write { done: u64, total: u64 },
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("{source_name}: {reason}")]
    Input { source_name: String, reason: String },
    #[error("cannot write rejected rows to {path}: {error}")]
    Rejects { path: PathBuf, error: std::io::Error },
    #[error("cannot write the emitted articles: {0}")]
    Emit(std::io::Error),
}

/// Row totals of a run. Every data row read is exactly one of kept, folded, dropped,
/// incomplete, rejected or (mentions only) unmatched.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RowCounts {
    pub read: u64,
    pub kept: u64,
    /// Exact duplicates, and mirrored rows of one report folded into one fact.
    pub folded: u64,
    /// Codes the mapping does not keep.
    pub dropped: u64,
    /// Kept codes whose row lacks an actor or place a role needs.
    pub incomplete: u64,
    pub rejected: u64,
    /// Mentions of events neither in this run nor kept.
    pub unmatched_mentions: u64,
}

/// Totals of an import run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub rows: RowCounts,
    /// What ingest did with the articles (zero when emitting).
    pub ingest: IngestSummary,
    pub articles_emitted: u64,
    pub emitted: bool,
}

impl fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.rows;
        write!(
            f,
            "rows: {} read, {} kept, {} folded, {} dropped as out of scope, {} incomplete, {} rejected",
            r.read, r.kept, r.folded, r.dropped, r.incomplete, r.rejected
        )?;
        if r.unmatched_mentions > 0 {
            write!(f, ", {} mentions of events not kept or not in this run", r.unmatched_mentions)?;
        }
        if self.emitted {
            return write!(f, "; articles: {} emitted", self.articles_emitted);
        }
        let c = &self.ingest.counts;
        write!(
            f,
            "; events: {} added, {} merged; articles: {} added, {} replaced, {} rejected; entities: {} added",
            c.events_added,
            c.events_merged,
            c.articles_added,
            c.articles_replaced,
            self.ingest.rejected,
            c.entities_added
        )
    }
}

/// An import that stopped part-way: why, and how many articles were committed before.
#[derive(Debug)]
pub struct ImportFailure {
    pub error: ImportError,
    pub articles_stored: u64,
}

impl fmt::Display for ImportFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.error)
    }
}

/// Imports `sources` of one `format` into `output`. `report` hears every rejected row and
/// every ingest diagnostic as it happens. A reader hands over the articles it has
/// finished after each stream (GDELT: after each mentions file), so a run's memory is
/// bounded by one slice, not by its files; the store (when there is one) is flushed
/// before this returns the summary.
pub fn run(
    output: Output<'_>,
    format: Format,
    sources: &[String],
    mapping: &Mapping,
    options: &ImportOptions<'_>,
    report: &mut dyn FnMut(&Diagnostic),
    progress: &dyn Fn(Progress),
) -> Result<ImportSummary, ImportFailure> {
    let ontology = Ontology::embedded();
    let bytes_read = AtomicU64::new(0);
    let fail = |error: ImportError| ImportFailure { error, articles_stored: 0 };
    let rejects = match &options.rejects {
        Some(path) => {
            let file = File::create(path).map_err(|error| fail(ImportError::Rejects { path: path.clone(), error }))?;
            Some((path.clone(), BufWriter::new(file)))
        }
        None => None,
    };
    let mut rows =
        Rows { report, rejects, counts: RowCounts::default(), bytes_read: &bytes_read, progress, since_progress: 0 };
    // Mentions of events imported by earlier runs (or earlier files of this run) find them
    // in the store (read-only).
    let known = match &output {
        Output::Store(store) => Some(*store),
        Output::Emit(_) => options.known_events,
    };
    let mut sink = match output {
        Output::Store(store) => {
            Sink::Store(Box::new(Ingester::new(store, ontology, None).map_err(|e| fail(e.into()))?))
        }
        Output::Emit(out) => Sink::Emit { out, emitted: 0 },
    };
    let mut reader: Box<dyn DatasetReader + '_> = match format {
        Format::Gdelt => {
            let emitting = matches!(sink, Sink::Emit { .. });
            Box::new(gdelt::GdeltImport::new(mapping, ontology, options, known, emitting))
        }
        Format::Icews => Box::new(icews::IcewsImport::new(mapping, ontology, options)),
        Format::Polecat => Box::new(polecat::PolecatImport::new(mapping, ontology, options)),
        Format::PloverJson => Box::new(plover_json::PloverJsonImport::new(mapping, ontology, options)),
    };
    let read = (|| {
        for name in sources {
            source::for_each_stream(name, &bytes_read, &mut |member, input| {
                reader.read_stream(member, input, &mut rows)?;
                let ready = reader.take_ready();
                sink.write(&ready, &mut rows, false)
            })?;
        }
        let rest = reader.finish();
        progress(Progress::Read(bytes_read.load(Ordering::Relaxed)));
        sink.write(&rest, &mut rows, true)?;
        rows.flush_rejects()
    })();
    if let Err(error) = read {
        return Err(ImportFailure { error, articles_stored: sink.stored() });
    }
    let mut summary = ImportSummary { rows: rows.counts, ..ImportSummary::default() };
    match sink {
        Sink::Emit { out, emitted } => {
            out.flush().map_err(|e| ImportFailure { error: ImportError::Emit(e), articles_stored: 0 })?;
            summary.emitted = true;
            summary.articles_emitted = emitted;
        }
        Sink::Store(ingester) => {
            let stored = ingester.committed();
            summary.ingest = ingester.finish().map_err(|e| ImportFailure {
                error: e.into(),
                articles_stored: stored.counts.articles_added + stored.counts.articles_replaced,
            })?;
        }
    }
    Ok(summary)
}

/// Where finished articles go: ingest's stages, or stdout as JSON Lines.
enum Sink<'a, 's> {
    // Boxed: an ingester is large beside a writer and a count.
    Store(Box<Ingester<'s>>),
    Emit { out: &'a mut dyn Write, emitted: u64 },
}

impl Sink<'_, '_> {
    /// Hands over articles. Between streams the store's pending batch is committed, so the
    /// next file's mentions find these events through the source-id index.
    fn write(&mut self, drafts: &[ArticleDraft], rows: &mut Rows<'_>, last: bool) -> Result<(), ImportError> {
        if drafts.is_empty() {
            return Ok(());
        }
        let total = u64::try_from(drafts.len()).unwrap_or(u64::MAX);
        for (done, draft) in (1u64..).zip(drafts) {
            match self {
                Sink::Store(ingester) => ingest_draft(ingester, draft, &mut *rows.report)?,
                Sink::Emit { out, emitted } => {
                    serde_json::to_writer(&mut **out, &draft.to_json()).map_err(|e| ImportError::Emit(e.into()))?;
                    out.write_all(b"\n").map_err(ImportError::Emit)?;
                    *emitted += 1;
                }
            }
            if last && (done % 256 == 0 || done == total) {
                (rows.progress)(Progress::Write { done, total });
            }
        }
        if let (Sink::Store(ingester), false) = (self, last) {
            ingester.commit_pending()?;
        }
        Ok(())
    }

    /// Articles committed so far (for the message of a failure).
    fn stored(&self) -> u64 {
        match self {
            Sink::Store(ingester) => {
                let counts = ingester.committed().counts;
                counts.articles_added + counts.articles_replaced
            }
            Sink::Emit { .. } => 0,
        }
    }
}

/// One dataset's reader: rows in, article drafts out (the one trait every format has).
pub trait DatasetReader {
    /// Reads one text stream (a file, or one member of an archive).
    fn read_stream(&mut self, source: &str, input: &mut dyn BufRead, rows: &mut Rows<'_>) -> Result<(), ImportError>;
    /// Articles complete after the stream just read (default: none until `finish`).
    fn take_ready(&mut self) -> Vec<ArticleDraft> {
        Vec::new()
    }
    /// The rest of the run's articles, once every stream is read.
    fn finish(self: Box<Self>) -> Vec<ArticleDraft>;
}

fn ingest_draft(
    ingester: &mut Ingester<'_>,
    draft: &ArticleDraft,
    report: &mut dyn FnMut(&Diagnostic),
) -> Result<(), ImportError> {
    let bytes = serde_json::to_vec(&draft.to_json()).map_err(|e| ImportError::Emit(e.into()))?;
    ingester.ingest_record(&draft.origin.0, draft.origin.1, bytes, report)?;
    Ok(())
}

/// The row-level bookkeeping readers share: counts, rejections and progress.
pub struct Rows<'a> {
    report: &'a mut dyn FnMut(&Diagnostic),
    rejects: Option<(PathBuf, BufWriter<File>)>,
    pub counts: RowCounts,
    bytes_read: &'a AtomicU64,
    progress: &'a dyn Fn(Progress),
    since_progress: u32,
}

impl Rows<'_> {
    /// Reports a rejected row as `FILE:LINE: column: reason` and keeps it verbatim (a row
    /// over `MAX_ROW_BYTES` is reported but not copied).
    pub fn reject(&mut self, source: &str, line: &Line, column: &str, reason: &str) -> Result<(), ImportError> {
        self.counts.rejected += 1;
        (self.report)(&Diagnostic {
            source: source.to_string(),
            line: line.number,
            field: column.to_string(),
            reason: reason.to_string(),
            is_warning: false,
        });
        // A row over the length bound was not kept in memory, so it cannot be copied.
        if let Some((path, writer)) = self.rejects.as_mut().filter(|_| !line.too_long) {
            let written = writer.write_all(&line.bytes).and_then(|_| writer.write_all(b"\n"));
            written.map_err(|error| ImportError::Rejects { path: path.clone(), error })?;
        }
        Ok(())
    }

    /// Called once per row; tells the caller the bytes read every few thousand rows.
    pub fn progress(&mut self) {
        self.since_progress += 1;
        if self.since_progress >= 4096 {
            self.since_progress = 0;
            (self.progress)(Progress::Read(self.bytes_read.load(Ordering::Relaxed)));
        }
    }

    fn flush_rejects(&mut self) -> Result<(), ImportError> {
        if let Some((path, writer)) = &mut self.rejects {
            writer.flush().map_err(|error| ImportError::Rejects { path: path.clone(), error })?;
        }
        Ok(())
    }
}

/// The first line of a stream, without consuming it (up to the buffer's size).
pub fn peek_line(input: &mut dyn BufRead) -> std::io::Result<Vec<u8>> {
    let buf = input.fill_buf()?;
    let end = memchr::memchr(b'\n', buf).unwrap_or(buf.len());
    let mut line = buf[..end].to_vec();
    if line.starts_with(&[0xEF, 0xBB, 0xBF]) {
        line.drain(..3);
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(line)
}

pub const UNTERMINATED: &str = "the file ends inside this row (no line end): the file is truncated; fetch it again";

pub fn too_long_reason() -> String {
    format!("longer than {} KiB; this is not a row of the dataset", MAX_ROW_BYTES / 1024)
}

pub fn utf8_reason(error: &std::str::Utf8Error) -> String {
    format!("invalid UTF-8 at byte {} of the row; the dataset's files are UTF-8", error.valid_up_to())
}

/// A field as quoted in a message: at most 40 characters.
pub fn shorten(text: &str) -> String {
    let mut chars = text.chars();
    let short: String = chars.by_ref().take(40).collect();
    if chars.next().is_some() {
        format!("{short}…")
    } else {
        short
    }
}
