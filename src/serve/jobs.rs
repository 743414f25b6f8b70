//! The writer: one thread owns every write the server makes. Uploaded batches queue up as
//! jobs and go through `ingest::Ingester` one after another, article by article, exactly
//! as `diplograph ingest` does; readers see each committed article wholly or not at all.
//! A job is `done` only after its writes are flushed.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use serde_json::{json, Value as Json};

use super::error::ApiError;
use crate::ingest::{Diagnostic, IngestError, IngestSummary, Ingester};
use crate::ontology::Ontology;
use crate::store::Store;

/// Batches waiting for the writer beyond the one it is ingesting; more are refused (503).
const QUEUED_JOBS: usize = 2;
/// Finished jobs remembered for `GET /api/jobs/{id}`; the oldest are forgotten first.
const KEPT_JOBS: usize = 256;
/// Diagnostics kept per job; the count goes on past it.
const KEPT_DIAGNOSTICS: usize = 10_000;
/// Bytes of rejected records kept per job (for `GET /api/jobs/{id}/rejects`).
const KEPT_REJECTED_BYTES: usize = 64 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
}

impl JobState {
    fn name(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }
}

/// What `GET /api/jobs/{id}` reports.
struct JobRecord {
    state: JobState,
    source: String,
    bytes_total: u64,
    bytes_read: u64,
    /// Rejections and warnings as the CLI prints them, in order.
    diagnostics: Vec<String>,
    rejections: Vec<String>,
    dropped_diagnostics: u64,
    /// The rejected records verbatim, one a line, as `ingest --rejects` writes them.
    rejected_records: Vec<u8>,
    rejected_records_complete: bool,
    summary: Option<IngestSummary>,
    error: Option<String>,
}

struct Job {
    id: u64,
    source: String,
    body: Bytes,
}

type Table = Arc<Mutex<BTreeMap<u64, JobRecord>>>;

pub struct Writer {
    sender: Mutex<Option<SyncSender<Job>>>,
    jobs: Table,
    next_id: Mutex<u64>,
    /// Set when the shutdown's grace has run out: the running job stops between articles.
    stop: Arc<AtomicBool>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    pub fn start(store: Arc<Store>) -> Result<Writer, String> {
        let (sender, receiver) = mpsc::sync_channel::<Job>(QUEUED_JOBS);
        let jobs: Table = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let thread_jobs = jobs.clone();
        let thread_stop = stop.clone();
        let thread = std::thread::Builder::new()
            .name("diplograph-writer".into())
            .spawn(move || {
                for job in receiver {
                    run_job(&store, &thread_jobs, &thread_stop, job);
                }
            })
            .map_err(|e| format!("cannot start the writer thread: {e}"))?;
        Ok(Writer {
            sender: Mutex::new(Some(sender)),
            jobs,
            next_id: Mutex::new(1),
            stop,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Queues a batch; returns its job id.
    pub fn submit(&self, source: String, body: Bytes) -> Result<u64, ApiError> {
        let sender = lock(&self.sender).clone();
        let Some(sender) = sender else {
            return Err(ApiError::busy("the server is shutting down and takes no more batches"));
        };
        let id = {
            let mut next = lock(&self.next_id);
            let id = *next;
            *next += 1;
            id
        };
        let record = JobRecord {
            state: JobState::Queued,
            source: source.clone(),
            bytes_total: u64::try_from(body.len()).unwrap_or(u64::MAX),
            bytes_read: 0,
            diagnostics: Vec::new(),
            rejections: Vec::new(),
            dropped_diagnostics: 0,
            rejected_records: Vec::new(),
            rejected_records_complete: true,
            summary: None,
            error: None,
        };
        {
            let mut jobs = lock(&self.jobs);
            forget_old_jobs(&mut jobs);
            jobs.insert(id, record);
        }
        match sender.try_send(Job { id, source, body }) {
            Ok(()) => Ok(id),
            Err(err) => {
                lock(&self.jobs).remove(&id);
                Err(match err {
                    TrySendError::Full(_) => ApiError::busy(format!(
                        "{QUEUED_JOBS} batches are already waiting for the writer; retry when a job is done"
                    )),
                    TrySendError::Disconnected(_) => ApiError::busy("the server is shutting down"),
                })
            }
        }
    }

    pub fn job_json(&self, id: u64) -> Option<Json> {
        let jobs = lock(&self.jobs);
        let job = jobs.get(&id)?;
        let summary = job.summary.map(|s| {
            let c = s.counts;
            json!({
                "articles_added": c.articles_added,
                "articles_replaced": c.articles_replaced,
                "rejected": s.rejected,
                "warnings": s.warnings,
                "events_added": c.events_added,
                "events_merged": c.events_merged,
                "events_removed": c.events_removed,
                "entities_added": c.entities_added,
                "entities_merged": c.entities_merged,
                "text": s.to_string(),
            })
        });
        let mut body = json!({
            "id": id,
            "state": job.state.name(),
            "source": job.source,
            "progress": {"bytes_read": job.bytes_read, "bytes_total": job.bytes_total},
            "rejections": job.rejections,
            "diagnostics": job.diagnostics,
            "dropped_diagnostics": job.dropped_diagnostics,
            "rejected_records_complete": job.rejected_records_complete,
            "summary": summary,
        });
        if let Some(error) = &job.error {
            body["error"] = json!(error);
        }
        Some(body)
    }

    /// The job's rejected records (once it has ended), verbatim, one a line.
    pub fn rejected_records(&self, id: u64) -> Option<Vec<u8>> {
        lock(&self.jobs).get(&id).map(|job| job.rejected_records.clone())
    }

    /// Takes no more batches; the queued ones still run until `stop_now`.
    pub fn close(&self) {
        lock(&self.sender).take();
    }

    /// Makes the running job stop at its next article boundary and the queued ones fail.
    pub fn stop_now(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Lets the writer finish the running and queued batches until `deadline`, then stops
    /// it at an article boundary; returns when it has flushed and ended.
    pub fn finish_by(&self, deadline: Instant) {
        self.close();
        let Some(thread) = lock(&self.thread).take() else { return };
        while !thread.is_finished() {
            if Instant::now() >= deadline {
                self.stop_now();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = thread.join();
    }
}

fn forget_old_jobs(jobs: &mut BTreeMap<u64, JobRecord>) {
    while jobs.len() >= KEPT_JOBS {
        let finished =
            jobs.iter().find(|(_, j)| matches!(j.state, JobState::Done | JobState::Failed)).map(|(id, _)| *id);
        match finished {
            Some(id) => {
                jobs.remove(&id);
            }
            None => break,
        }
    }
}

fn update(jobs: &Table, id: u64, change: impl FnOnce(&mut JobRecord)) {
    if let Some(job) = lock(jobs).get_mut(&id) {
        change(job);
    }
}

fn run_job(store: &Store, jobs: &Table, stop: &Arc<AtomicBool>, job: Job) {
    if stop.load(Ordering::Relaxed) {
        update(jobs, job.id, |j| {
            j.state = JobState::Failed;
            j.error = Some("the server shut down before this batch started; nothing of it was stored".into());
        });
        return;
    }
    update(jobs, job.id, |j| j.state = JobState::Running);
    let outcome = ingest_job(store, jobs, stop, &job);
    update(jobs, job.id, |j| match outcome {
        Ok(summary) => {
            j.state = JobState::Done;
            j.bytes_read = j.bytes_total;
            j.summary = Some(summary);
        }
        Err((message, committed)) => {
            j.state = JobState::Failed;
            j.summary = Some(committed);
            j.error = Some(message);
        }
    });
}

/// Ingests one batch and flushes. On failure: the message, and what was stored before it.
fn ingest_job(
    store: &Store,
    jobs: &Table,
    stop: &Arc<AtomicBool>,
    job: &Job,
) -> Result<IngestSummary, (String, IngestSummary)> {
    let ontology = Ontology::embedded();
    let ingester = Ingester::new(store, ontology, None).map_err(|e| (e.to_string(), IngestSummary::default()))?;
    let sink = RejectSink { jobs: jobs.clone(), id: job.id };
    let mut ingester = ingester.stop_when(stop.clone()).rejects_to("the job's rejected records", Box::new(sink));
    let id = job.id;
    let progress = |bytes: u64| update(jobs, id, |j| j.bytes_read = bytes);
    let mut report = |diagnostic: &Diagnostic| {
        update(jobs, id, |j| {
            if j.diagnostics.len() >= KEPT_DIAGNOSTICS {
                j.dropped_diagnostics += 1;
                return;
            }
            let text = diagnostic.to_string();
            if !diagnostic.is_warning {
                j.rejections.push(text.clone());
            }
            j.diagnostics.push(text);
        })
    };
    let result = ingester.ingest(&job.source, Cursor::new(&job.body[..]), &progress, &mut report);
    match result {
        Ok(()) => {
            let committed = ingester.committed();
            ingester.finish().map_err(|e| (e.to_string(), committed))
        }
        Err(stopped @ IngestError::Stopped { .. }) => {
            // The records taken before the stop are whole articles: keep them.
            let committed = ingester.committed();
            let summary = ingester.finish().map_err(|e| (e.to_string(), committed))?;
            let stored = summary.counts.articles_added + summary.counts.articles_replaced;
            Err((
                format!(
                    "{stopped}; {stored} articles of it were stored; re-run the batch (re-ingesting is idempotent)"
                ),
                summary,
            ))
        }
        Err(err) => {
            let committed = ingester.committed();
            let stored = committed.counts.articles_added + committed.counts.articles_replaced;
            let flushed = store.flush().is_ok();
            let outcome = if flushed {
                format!("{stored} articles were stored before the failure")
            } else {
                format!("up to {stored} articles committed before the failure may be on disk (the final flush failed too); `diplograph check` verifies the store")
            };
            Err((
                format!("{err}\n{outcome}; fix the cause and re-run the ingest (re-ingesting is idempotent)"),
                committed,
            ))
        }
    }
}

/// Appends rejected records to the job's record, up to `KEPT_REJECTED_BYTES`.
struct RejectSink {
    jobs: Table,
    id: u64,
}

impl std::io::Write for RejectSink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        update(&self.jobs, self.id, |j| {
            if j.rejected_records.len() + bytes.len() <= KEPT_REJECTED_BYTES {
                j.rejected_records.extend_from_slice(bytes);
            } else {
                j.rejected_records_complete = false;
            }
        });
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The source name a batch's diagnostics carry (`FILE:LINE: …`): the client's file name.
pub fn source_name(requested: Option<&str>) -> String {
    requested.filter(|s| !s.is_empty() && s.len() <= 4096).unwrap_or("upload").to_string()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
