//! Ingest: read batch → validate → resolve → write. Parsing and validation run on
//! one thread while resolution and writing run on another; each article is atomic.

pub mod fulfil;
pub mod read;
pub mod resolve;
pub mod validate;
pub mod write;

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};

use crate::ontology::Ontology;
use crate::store::{Store, StoreError, WriteTxn};
use read::BatchReader;
use resolve::{resolve_article, ResolveError};
use validate::{validate_record, ArticleRecord, FieldError};
pub use write::{remove_article, WriteCounts};

/// Articles written per sled batch; each batch is applied atomically. A batch rewrites the
/// pages and chunks it touches once, so larger batches write less (100k articles: 256 per
/// batch took 18.8 s and left 722 MB on disk, 2048 took 15.9 s and 260 MB, store format 2;
/// with jemalloc, 8192 took 5.5–5.7 s instead of 5.7–6.3 s but peaked at 258 MB instead of
/// 151 MB and left 284–294 MB instead of 271 MB).
const ARTICLES_PER_BATCH: usize = 2048;
/// A batch is also applied when it holds this many pending key writes.
const WRITES_PER_BATCH: usize = 40_000;

/// A message about one record: `FILE:LINE: field: reason`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub source: String,
    pub line: usize,
    pub field: String,
    pub reason: String,
    pub is_warning: bool,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = if self.is_warning { "warning: " } else { "" };
        write!(f, "{}:{}: {severity}{}: {}", self.source, self.line, self.field, self.reason)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{source_name}: {error}")]
    Input { source_name: String, error: std::io::Error },
    #[error("cannot write rejected records to {path}: {error}")]
    Rejects { path: PathBuf, error: std::io::Error },
    /// The stop flag was set (the server is shutting down): the records before `line`
    /// were taken, the rest were not read.
    #[error("{source_name}: stopped before line {line}: the server is shutting down")]
    Stopped { source_name: String, line: usize },
}

/// Totals of an ingest run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IngestSummary {
    pub counts: WriteCounts,
    pub rejected: u64,
    pub warnings: u64,
}

impl fmt::Display for IngestSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.counts;
        write!(
            f,
            "articles: {} added, {} replaced, {} rejected; events: {} added, {} merged; entities: {} added, {} merged",
            c.articles_added,
            c.articles_replaced,
            self.rejected,
            c.events_added,
            c.events_merged,
            c.entities_added,
            c.entities_merged
        )
    }
}

/// One ingest run over one store: feed it sources, then `finish` to flush.
pub struct Ingester<'s> {
    store: &'s Store,
    ontology: &'s Ontology,
    txn: WriteTxn<'s>,
    articles_in_batch: usize,
    /// Counts of articles in the pending batch, folded into `summary` when it commits.
    pending_counts: WriteCounts,
    /// Plans by filler, learnt as the run needs them (derived FULFILLED_BY links).
    plans: fulfil::PlanIndex,
    summary: IngestSummary,
    /// Where rejected records go verbatim, and the name to give in errors about it.
    rejects: Option<(PathBuf, Box<dyn Write + Send + 's>)>,
    /// When set, `ingest` stops at the next article boundary with `IngestError::Stopped`.
    stop: Option<Arc<AtomicBool>>,
}

impl<'s> Ingester<'s> {
    pub fn new(store: &'s Store, ontology: &'s Ontology, rejects: Option<&Path>) -> Result<Self, IngestError> {
        let rejects = match rejects {
            Some(path) => {
                let file =
                    File::create(path).map_err(|error| IngestError::Rejects { path: path.to_path_buf(), error })?;
                let writer: Box<dyn Write + Send + 's> = Box::new(BufWriter::new(file));
                Some((path.to_path_buf(), writer))
            }
            None => None,
        };
        Ok(Ingester {
            store,
            ontology,
            txn: store.begin()?,
            articles_in_batch: 0,
            pending_counts: WriteCounts::default(),
            plans: fulfil::PlanIndex::default(),
            summary: IngestSummary::default(),
            rejects,
            stop: None,
        })
    }

    /// Sends rejected records, verbatim and one a line, to `writer` instead of a file
    /// (the server keeps them for its job); `name` stands for it in error messages.
    pub fn rejects_to(mut self, name: &str, writer: Box<dyn Write + Send + 's>) -> Self {
        self.rejects = Some((PathBuf::from(name), writer));
        self
    }

    /// Makes `ingest` stop between two articles once `flag` is set; what was taken before
    /// is committed by `finish` as usual.
    pub fn stop_when(mut self, flag: Arc<AtomicBool>) -> Self {
        self.stop = Some(flag);
        self
    }

    /// Ingests one batch. `progress` is told the bytes read so far now and then;
    /// `report` receives every rejection and warning as it happens.
    pub fn ingest<R: BufRead + Send>(
        &mut self,
        source_name: &str,
        input: R,
        progress: &(dyn Fn(u64) + Sync),
        report: &mut dyn FnMut(&Diagnostic),
    ) -> Result<(), IngestError> {
        let bytes_read = AtomicU64::new(0);
        let ontology = self.ontology;
        std::thread::scope(|scope| {
            let (sender, receiver) = mpsc::sync_channel::<Vec<Parsed>>(16);
            let bytes_read = &bytes_read;
            let parser = scope.spawn(move || parse_records(input, ontology, sender, bytes_read));
            for chunk in receiver {
                progress(bytes_read.load(Ordering::Relaxed));
                for parsed in chunk {
                    if self.stop.as_ref().is_some_and(|stop| stop.load(Ordering::Relaxed)) {
                        return Err(IngestError::Stopped { source_name: source_name.to_string(), line: parsed.line });
                    }
                    self.take(source_name, parsed, report)?;
                }
            }
            match parser.join() {
                Ok(result) => {
                    result.map_err(|error| IngestError::Input { source_name: source_name.to_string(), error })
                }
                Err(_) => Err(IngestError::Input {
                    source_name: source_name.to_string(),
                    error: std::io::Error::other("the batch parser thread failed"),
                }),
            }
        })
    }

    /// Ingests one record given as its JSON text, as if it were line `line` of
    /// `source_name`: the same validate → resolve → write stages as a batch line (import
    /// hands its article records in here). Returns whether the record was stored.
    pub fn ingest_record(
        &mut self,
        source_name: &str,
        line: usize,
        bytes: Vec<u8>,
        report: &mut dyn FnMut(&Diagnostic),
    ) -> Result<bool, IngestError> {
        let result = validate_record(&bytes, self.ontology);
        let rejected_before = self.summary.rejected;
        self.take(source_name, Parsed { line, bytes, result }, report)?;
        Ok(self.summary.rejected == rejected_before)
    }

    fn take(
        &mut self,
        source_name: &str,
        parsed: Parsed,
        report: &mut dyn FnMut(&Diagnostic),
    ) -> Result<(), IngestError> {
        let diagnose = |field: &FieldError, is_warning| Diagnostic {
            source: source_name.to_string(),
            line: parsed.line,
            field: field.field.clone(),
            reason: field.reason.clone(),
            is_warning,
        };
        let record = match parsed.result {
            Ok(record) => record,
            Err(errors) => {
                errors.iter().for_each(|e| report(&diagnose(e, false)));
                return self.reject(&parsed.bytes);
            }
        };
        match resolve_article(record, self.ontology, &self.txn) {
            Ok(resolved) => {
                for warning in &resolved.warnings {
                    self.summary.warnings += 1;
                    report(&diagnose(warning, true));
                }
                self.pending_counts += write::write_article(&resolved, self.ontology, &mut self.txn, &mut self.plans)?;
                self.articles_in_batch += 1;
                if self.articles_in_batch >= ARTICLES_PER_BATCH || self.txn.pending_writes() >= WRITES_PER_BATCH {
                    self.commit()?;
                }
                Ok(())
            }
            Err(ResolveError::Rejected(errors)) => {
                errors.iter().for_each(|e| report(&diagnose(e, false)));
                self.reject(&parsed.bytes)
            }
            Err(ResolveError::Store(err)) => Err(err.into()),
        }
    }

    fn reject(&mut self, bytes: &[u8]) -> Result<(), IngestError> {
        self.summary.rejected += 1;
        if let Some((path, writer)) = &mut self.rejects {
            let written = writer.write_all(bytes).and_then(|_| writer.write_all(b"\n"));
            written.map_err(|error| IngestError::Rejects { path: path.clone(), error })?;
        }
        Ok(())
    }

    /// Commits the pending batch now (not flushed), so reads of the store see it.
    pub fn commit_pending(&mut self) -> Result<(), IngestError> {
        self.commit()
    }

    fn commit(&mut self) -> Result<(), IngestError> {
        self.txn.commit()?;
        self.summary.counts += std::mem::take(&mut self.pending_counts);
        self.articles_in_batch = 0;
        Ok(())
    }

    /// Commits the last batch and flushes everything to disk; only then are the
    /// summary's articles durably stored.
    pub fn finish(mut self) -> Result<IngestSummary, IngestError> {
        self.commit()?;
        self.store.flush()?;
        if let Some((path, mut writer)) = self.rejects.take() {
            writer.flush().map_err(|error| IngestError::Rejects { path, error })?;
        }
        Ok(self.summary)
    }

    /// The summary of what has been committed so far (for reporting after a failure).
    pub fn committed(&self) -> IngestSummary {
        self.summary
    }
}

/// A record after the parser thread: its position, its bytes and its validation.
struct Parsed {
    line: usize,
    bytes: Vec<u8>,
    result: Result<ArticleRecord, Vec<FieldError>>,
}

fn parse_records<R: BufRead>(
    input: R,
    ontology: &Ontology,
    sender: mpsc::SyncSender<Vec<Parsed>>,
    bytes_read: &AtomicU64,
) -> std::io::Result<()> {
    let mut reader = BatchReader::new(input);
    let mut chunk = Vec::with_capacity(RECORDS_PER_MESSAGE);
    while let Some(raw) = reader.next_record()? {
        bytes_read.store(reader.bytes_read, Ordering::Relaxed);
        let result = match &raw.defect {
            Some(defect) => Err(vec![FieldError::new("record", defect.clone())]),
            None => validate_record(&raw.bytes, ontology),
        };
        chunk.push(Parsed { line: raw.line, bytes: raw.bytes, result });
        if chunk.len() == RECORDS_PER_MESSAGE {
            let full = std::mem::replace(&mut chunk, Vec::with_capacity(RECORDS_PER_MESSAGE));
            if sender.send(full).is_err() {
                return Ok(()); // the writer stopped on an error of its own
            }
        }
    }
    if !chunk.is_empty() {
        // An error means the writer stopped on an error of its own.
        let _ = sender.send(chunk);
    }
    Ok(())
}

/// Records the parser thread hands over at a time (one wake-up per message, not per record).
const RECORDS_PER_MESSAGE: usize = 64;

/// Opens a batch source: a path, or `-` for stdin. Returns the reader and its size.
pub fn open_source(name: &str) -> Result<(Box<dyn BufRead + Send>, Option<u64>), IngestError> {
    if name == "-" {
        return Ok((Box::new(BufReader::with_capacity(1 << 20, std::io::stdin())), None));
    }
    let file = File::open(name).map_err(|error| IngestError::Input { source_name: name.to_string(), error })?;
    let size = file.metadata().ok().map(|m| m.len());
    Ok((Box::new(BufReader::with_capacity(1 << 20, file)), size))
}

/// Removes stored articles by id in one atomic, flushed batch. Returns, per id, the
/// number of events removed, or `None` when the article was not stored.
pub fn remove_articles(store: &Store, ids: &[String]) -> Result<Vec<Option<u64>>, StoreError> {
    let mut txn = store.begin()?;
    let mut results = Vec::new();
    for id in ids {
        results.push(remove_article(&mut txn, id)?);
    }
    txn.commit()?;
    store.flush()?;
    Ok(results)
}
