//! The query slots: at most `slots` store reads run at once, each on tokio's blocking
//! pool with its own `CancelFlag`. A request waits a bounded time for a slot (then 503);
//! a request whose future is dropped (its client went away) cancels its query, and the
//! slot is freed only when the query has actually stopped.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::error::ApiError;
use crate::query::CancelFlag;

pub struct QueryPool {
    slots: Arc<Semaphore>,
    size: usize,
    wait: Duration,
    running: Arc<Mutex<HashMap<u64, CancelFlag>>>,
    next_id: AtomicU64,
}

/// A held slot: the query's cancel flag, cancelled when this is dropped before `finish`.
pub struct Slot {
    permit: Option<OwnedSemaphorePermit>,
    flag: CancelFlag,
    id: u64,
    running: Arc<Mutex<HashMap<u64, CancelFlag>>>,
}

impl QueryPool {
    pub fn new(size: usize, wait: Duration) -> QueryPool {
        QueryPool {
            slots: Arc::new(Semaphore::new(size)),
            size,
            wait,
            running: Arc::new(Mutex::new(HashMap::new())),
            next_id: AtomicU64::new(0),
        }
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// Waits for a free slot, at most the pool's wait.
    pub async fn acquire(&self) -> Result<Slot, ApiError> {
        let permit = tokio::time::timeout(self.wait, self.slots.clone().acquire_owned()).await;
        let permit = match permit {
            Ok(Ok(permit)) => permit,
            Ok(Err(_)) => return Err(ApiError::busy("the server is shutting down")),
            Err(_) => {
                return Err(ApiError::busy(format!(
                    "all {} query slots stayed busy for {} s; retry later",
                    self.size,
                    self.wait.as_secs()
                )))
            }
        };
        let flag = CancelFlag::new();
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        lock(&self.running).insert(id, flag.clone());
        Ok(Slot { permit: Some(permit), flag, id, running: self.running.clone() })
    }

    /// Runs `job` on the blocking pool in a slot and waits for it. If this future is
    /// dropped, the job's flag is set and the job stops at its next deadline check.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&CancelFlag) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let slot = self.acquire().await?;
        let armed = CancelOnDrop(Some(slot.flag.clone()));
        let handle = tokio::task::spawn_blocking(move || {
            let out = job(&slot.flag);
            drop(slot);
            out
        });
        let result = handle.await;
        armed.disarm();
        result.map_err(|_| ApiError::internal("the query task failed; the server keeps running"))
    }

    /// Cancels every running query (the shutdown's grace has run out).
    pub fn cancel_all(&self) {
        lock(&self.running).values().for_each(CancelFlag::cancel);
    }

    /// Closes the pool: requests waiting for a slot are refused.
    pub fn close(&self) {
        self.slots.close();
    }
}

impl Slot {
    pub fn flag(&self) -> &CancelFlag {
        &self.flag
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        lock(&self.running).remove(&self.id);
        drop(self.permit.take());
    }
}

/// Sets the flag when dropped, unless disarmed: the request future went away mid-query.
pub struct CancelOnDrop(pub Option<CancelFlag>);

impl CancelOnDrop {
    pub fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(flag) = self.0.take() {
            flag.cancel();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
