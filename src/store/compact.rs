//! `compact`: rewrite a store's live keys into a fresh sled directory and swap it in.
//!
//! sled 0.34 appends every rewritten page to its log and reclaims the old copies lazily, so a
//! store that many commits rewrote (busy entities' adjacency chunks, the `id` index runs) holds
//! several dead copies of its data. Copying the live keys in key order, in large batches, into
//! a new directory writes each once. The swap is safe under a kill at any instant:
//!
//! 1. the copy goes to `DB.compacting/`; when it is flushed, a `COMPLETE` marker (holding the
//!    copy's key count and checksum) is written and synced inside it;
//! 2. `DB` is renamed to `DB.compact-old`, then `DB.compacting` to `DB` (each `rename` is
//!    atomic), while the old store is still open, so no other process can take it meanwhile;
//! 3. `DB.compact-old` is removed.
//!
//! [`recover_interrupted`] runs whenever a store is opened and finishes or undoes a swap that a
//! kill interrupted between the renames: with `DB` missing it renames a complete copy into place
//! (or, without one, the old store back). The next `compact` removes other leftovers.

use std::io::Write;
use std::path::{Path, PathBuf};

use xxhash_rust::xxh3::Xxh3;

use super::{Store, StoreError};

/// Bytes of keys and values per sled batch while copying, and between flushes. Measured on the
/// 100k-article benchmark store (284.6 MB, 145.0 MB of live keys and values): one flush at the
/// end left 287 MB whatever the batch size; 256 KiB batches flushed every 4 MiB left 231–244 MB
/// (sled writes a flushed page once instead of each of its versions); 1 MiB / 4 MiB left 263 MB.
const COPY_BATCH_BYTES: usize = 256 << 10;
const FLUSH_EVERY_BYTES: usize = 4 << 20;

/// The file inside a finished copy; its presence says the copy may replace the store.
const COMPLETE_MARKER: &str = "COMPLETE";

/// What a compaction did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompactReport {
    pub keys: u64,
    /// Bytes of the live keys and values (what sled's files hold apart from its own overhead).
    pub live_bytes: u64,
    /// Bytes on disk before and after.
    pub bytes_before: u64,
    pub bytes_after: u64,
}

/// `DB.compacting`, where the copy is written.
pub fn copy_path(db: &Path) -> PathBuf {
    sibling(db, ".compacting")
}

/// `DB.compact-old`, where the old store waits to be removed.
pub fn old_path(db: &Path) -> PathBuf {
    sibling(db, ".compact-old")
}

fn sibling(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(suffix);
    db.with_file_name(name)
}

/// Rewrites the store at `db` (which must not be open in this process) and swaps it in.
pub fn compact(db: &Path) -> Result<CompactReport, StoreError> {
    let store = Store::open(db, super::OpenMode::MustExistScan)?;
    remove_leftovers(db)?;
    let bytes_before = directory_size(db);
    let copy = copy_path(db);
    let copied = copy_live_keys(&store, &copy, store_is_compressed(db))?;
    verify_copy(&copy, copied.keys, copied.checksum)?;
    write_marker(&copy, copied.keys, copied.checksum)?;
    // Both renames happen while `store` still holds sled's lock on the old files.
    let old = old_path(db);
    std::fs::rename(db, &old).map_err(|e| io_error("cannot move the old store aside", db, e))?;
    if let Err(err) = std::fs::rename(&copy, db) {
        // Another process may have opened the store in the instant between the renames and
        // finished the swap itself (`recover_interrupted`): then the copy is in place.
        let finished_by_another = db.exists() && !copy.exists();
        if !finished_by_another {
            let undo = std::fs::rename(&old, db);
            let hint = if undo.is_ok() { "the store is unchanged" } else { "run `diplograph compact` again to finish" };
            return Err(io_error(&format!("cannot move the compacted copy into place ({hint})"), &copy, err));
        }
    }
    drop(store);
    if old.exists() {
        remove_old(&old)?;
    }
    let _ = std::fs::remove_file(db.join(COMPLETE_MARKER));
    Ok(CompactReport {
        keys: copied.keys,
        live_bytes: copied.live_bytes,
        bytes_before,
        bytes_after: directory_size(db),
    })
}

/// Finishes or undoes a swap that a kill interrupted between its two renames (see the module
/// doc): with `DB` missing and `DB.compact-old` present, a complete copy is renamed into place,
/// else the old store goes back. Cheap when there is nothing to do: one or two `exists` checks.
/// Leftovers beside a store in place (an unfinished copy, an old store not yet removed) are
/// removed by the next `compact`, which holds the store's lock; any other command leaves them.
pub fn recover_interrupted(db: &Path) -> Result<(), StoreError> {
    let old = old_path(db);
    if db.exists() || !old.exists() {
        return Ok(());
    }
    let copy = copy_path(db);
    if copy.join(COMPLETE_MARKER).exists() {
        std::fs::rename(&copy, db).map_err(|e| io_error("cannot finish an interrupted compaction", &copy, e))?;
        let _ = std::fs::remove_file(db.join(COMPLETE_MARKER));
        remove_old(&old)
    } else {
        std::fs::rename(&old, db).map_err(|e| io_error("cannot undo an interrupted compaction", &old, e))
    }
}

/// Removes what an earlier, killed compaction left beside the store at `db` (open and locked by
/// the caller, so no other compaction is running).
fn remove_leftovers(db: &Path) -> Result<(), StoreError> {
    let copy = copy_path(db);
    if copy.exists() {
        std::fs::remove_dir_all(&copy).map_err(|e| io_error("cannot remove an unfinished copy", &copy, e))?;
    }
    let old = old_path(db);
    if old.exists() {
        remove_old(&old)?;
    }
    let _ = std::fs::remove_file(db.join(COMPLETE_MARKER));
    Ok(())
}

fn remove_old(old: &Path) -> Result<(), StoreError> {
    std::fs::remove_dir_all(old).map_err(|e| io_error("cannot remove the old store", old, e))
}

/// What a copy wrote: the key count, the bytes of keys and values, a checksum of both.
struct Copied {
    keys: u64,
    live_bytes: u64,
    checksum: u64,
}

/// Copies every key of `store` in key order into a new sled directory.
fn copy_live_keys(store: &Store, copy: &Path, compressed: bool) -> Result<Copied, StoreError> {
    let target = new_sled(copy, compressed)
        .map_err(|e| StoreError::Io(format!("cannot create the compacted copy at {}: {e}", copy.display())))?;
    let mut hasher = Xxh3::new();
    let mut keys = 0u64;
    let mut live_bytes = 0u64;
    let mut batch = sled::Batch::default();
    let mut batch_bytes = 0usize;
    let mut since_flush = 0usize;
    for item in store.db.iter() {
        let (key, value) = item?;
        hash_entry(&mut hasher, &key, &value);
        keys += 1;
        batch_bytes += key.len() + value.len();
        live_bytes += u64::try_from(key.len() + value.len()).unwrap_or(u64::MAX);
        batch.insert(key, value);
        if batch_bytes >= COPY_BATCH_BYTES {
            target.apply_batch(std::mem::take(&mut batch))?;
            since_flush += batch_bytes;
            batch_bytes = 0;
            if since_flush >= FLUSH_EVERY_BYTES {
                target.flush()?;
                since_flush = 0;
            }
        }
    }
    target.apply_batch(batch)?;
    target.flush()?;
    Ok(Copied { keys, live_bytes, checksum: hasher.digest() })
}

/// Reopens the copy and checks it holds exactly what was copied.
fn verify_copy(copy: &Path, keys: u64, checksum: u64) -> Result<(), StoreError> {
    let reopened = reopen_when_released(copy)?;
    let mut hasher = Xxh3::new();
    let mut found = 0u64;
    for item in reopened.iter() {
        let (key, value) = item?;
        hash_entry(&mut hasher, &key, &value);
        found += 1;
    }
    if found != keys || hasher.digest() != checksum {
        return Err(StoreError::Io(format!(
            "the compacted copy at {} does not match the store ({found} keys read back, {keys} written); the store is unchanged",
            copy.display()
        )));
    }
    Ok(())
}

/// Opens the copy again. sled's background threads let go of the directory's lock a moment
/// after the writing handle is dropped (the open then fails with `WouldBlock`), so this waits
/// for it, up to a few seconds.
fn reopen_when_released(copy: &Path) -> Result<sled::Db, StoreError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match sled_config(copy, store_is_compressed(copy)).open() {
            Err(err) if super::is_lock_error(&err) && std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            other => return Ok(other?),
        }
    }
}

fn hash_entry(hasher: &mut Xxh3, key: &[u8], value: &[u8]) {
    for part in [key, value] {
        hasher.update(&u64::try_from(part.len()).unwrap_or(u64::MAX).to_le_bytes());
        hasher.update(part);
    }
}

fn write_marker(copy: &Path, keys: u64, checksum: u64) -> Result<(), StoreError> {
    let path = copy.join(COMPLETE_MARKER);
    let mut file = std::fs::File::create(&path).map_err(|e| io_error("cannot write", &path, e))?;
    writeln!(file, "keys {keys}\nxxh3 {checksum:016x}")
        .and_then(|()| file.sync_all())
        .map_err(|e| io_error("cannot write", &path, e))?;
    // The marker's directory entry must be durable before the store is moved aside.
    std::fs::File::open(copy).and_then(|dir| dir.sync_all()).map_err(|e| io_error("cannot sync", copy, e))
}

fn new_sled(path: &Path, compressed: bool) -> Result<sled::Db, StoreError> {
    Ok(sled_config(path, compressed).open()?)
}

fn sled_config(path: &Path, compressed: bool) -> sled::Config {
    sled::Config::new()
        .path(path)
        .cache_capacity(64 << 20)
        .mode(sled::Mode::HighThroughput)
        .use_compression(compressed)
        .compression_factor(super::COMPRESSION_LEVEL)
}

/// Whether sled's `conf` file says the store is compressed (sled refuses the other setting).
fn store_is_compressed(path: &Path) -> bool {
    std::fs::read(path.join("conf"))
        .map(|conf| String::from_utf8_lossy(&conf).lines().any(|line| line.trim() == "use_compression: true"))
        .unwrap_or(false)
}

/// Bytes of the files under `path`.
pub fn directory_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else { return 0 };
    entries
        .filter_map(Result::ok)
        .map(|entry| match entry.metadata() {
            Ok(meta) if meta.is_dir() => directory_size(&entry.path()),
            Ok(meta) => meta.len(),
            Err(_) => 0,
        })
        .sum()
}

fn io_error(what: &str, path: &Path, err: std::io::Error) -> StoreError {
    StoreError::Io(format!("{what} {}: {err}", path.display()))
}
