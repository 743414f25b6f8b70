//! `diplograph compact`: the rewritten store holds exactly the same graph, passes `check`, is
//! no larger, and a kill at any instant of a compaction leaves the store whole — either the old
//! directory or the new one, never a mixture and never a missing store.

mod harness;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use diplograph::store::compact::{copy_path, directory_size, old_path};
use harness::{assert_check_ok, canonical_at, generate, run, stats_json, text, GenOptions, BIN};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// A store grown by many small ingests of a batch with replacements (so sled's log holds
/// dead copies), in `dir/graph.db`.
fn grown_store(dir: &Path, articles: usize) -> std::path::PathBuf {
    let db = dir.join("graph.db");
    let batch = generate(GenOptions { articles, seed: 11, replacements: true });
    let lines: Vec<&str> = batch.lines().collect();
    for (i, part) in lines.chunks(articles / 4).enumerate() {
        let file = dir.join(format!("part-{i}.jsonl"));
        std::fs::write(&file, part.join("\n")).expect("write part");
        let output = run(&db, &["ingest", file.to_str().expect("utf-8 path")]);
        assert!(output.status.success(), "ingest: {}", text(&output));
    }
    db
}

#[test]
fn compact_keeps_the_graph_the_stats_and_check_and_does_not_grow_the_store() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = grown_store(dir.path(), 800);
    let before = canonical_at(&db);
    let stats = stats_json(&db);
    let size = directory_size(&db);
    let output = run_when_free(&db, &["compact"]);
    assert!(output.status.success(), "compact: {}", text(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("keys"), "compact reports what it did: {}", text(&output));
    assert_eq!(canonical_at(&db), before, "compaction changed the graph");
    assert_eq!(stats_json(&db), stats);
    assert_check_ok(&db);
    assert!(directory_size(&db) <= size, "the store grew: {size} -> {}", directory_size(&db));
    assert!(!copy_path(&db).exists() && !old_path(&db).exists(), "compaction left its working directories");
    // The store still takes writes and queries afterwards.
    let again = run_when_free(&db, &["ingest", harness::EXAMPLE]);
    assert!(again.status.success(), "ingest after compact: {}", text(&again));
    assert_check_ok(&db);
}

#[test]
fn compact_of_a_missing_store_is_an_error_that_names_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = run(&dir.path().join("nothing.db"), &["compact"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no store at"), "{}", text(&output));
    assert!(!dir.path().join("nothing.db").exists(), "compact created a store");
}

#[test]
fn an_interrupted_swap_with_a_complete_copy_is_finished_when_the_store_is_next_opened() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("graph.db");
    assert!(run(&db, &["ingest", harness::EXAMPLE]).status.success());
    let before = canonical_at(&db);
    // The state a kill leaves between the two renames: the copy finished and marked, the old
    // store moved aside, nothing at the store's own path.
    copy_dir(&db, &copy_path(&db));
    std::fs::write(copy_path(&db).join("COMPLETE"), "keys 0\n").expect("marker");
    std::fs::rename(&db, old_path(&db)).expect("move aside");
    let output = run_when_free(&db, &["stats"]);
    assert!(output.status.success(), "stats after an interrupted swap: {}", text(&output));
    assert_eq!(canonical_at(&db), before);
    assert!(!old_path(&db).exists() && !copy_path(&db).exists(), "recovery left directories behind");
    assert!(!db.join("COMPLETE").exists(), "the marker stayed in the store");
}

#[test]
fn an_interrupted_swap_without_a_complete_copy_puts_the_old_store_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("graph.db");
    assert!(run(&db, &["ingest", harness::EXAMPLE]).status.success());
    let before = canonical_at(&db);
    std::fs::create_dir(copy_path(&db)).expect("unfinished copy");
    std::fs::rename(&db, old_path(&db)).expect("move aside");
    // Even a writing command must not create an empty store over the one moved aside.
    let output = run_when_free(&db, &["ingest", harness::EXAMPLE]);
    assert!(output.status.success(), "ingest after an interrupted swap: {}", text(&output));
    assert_eq!(canonical_at(&db), before);
    // The next compaction clears the unfinished copy.
    assert!(run_when_free(&db, &["compact"]).status.success());
    assert!(!copy_path(&db).exists());
    assert_eq!(canonical_at(&db), before);
}

/// SIGKILL `compact` at random instants; after each kill the store opens, passes `check` and
/// holds the reference graph. Bounded for CI (`COMPACT_KILLS` raises it).
#[test]
fn compact_killed_at_random_instants_leaves_the_store_whole() {
    let kills: u64 = std::env::var("COMPACT_KILLS").ok().and_then(|v| v.parse().ok()).unwrap_or(12);
    let dir = tempfile::tempdir().expect("temp dir");
    let db = grown_store(dir.path(), 1200);
    let reference = canonical_at(&db);
    // How long one compaction takes here, to spread the kills over it.
    let start = std::time::Instant::now();
    let first = run_when_free(&db, &["compact"]);
    assert!(first.status.success(), "compact: {}", text(&first));
    let full = start.elapsed().max(Duration::from_millis(20));
    let mut rng = Pcg64Mcg::seed_from_u64(5);
    let mut interrupted = 0;
    for kill in 0..kills {
        let delay = Duration::from_micros(rng.gen_range(0..u64::try_from(full.as_micros()).unwrap_or(u64::MAX)));
        let mut child = Command::new(BIN)
            .arg("--db")
            .arg(&db)
            .arg("compact")
            .env_remove("DIPLOGRAPH_DB")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start compact");
        std::thread::sleep(delay);
        if child.try_wait().expect("poll").is_none() {
            interrupted += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
        let output = run_when_free(&db, &["check"]);
        assert!(
            output.status.code() == Some(0),
            "kill {kill} after {delay:?}: the store does not pass check: {}",
            text(&output)
        );
        assert_eq!(canonical_at(&db), reference, "kill {kill} after {delay:?} changed the graph");
    }
    eprintln!("{interrupted} of {kills} kills landed during a compaction");
}

/// `run`, retried for up to 2 s while the store is still locked: sled's threads in this test
/// process let go of the lock a moment after a `Store` opened here (`canonical_at`) is dropped.
fn run_when_free(db: &Path, args: &[&str]) -> std::process::Output {
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    loop {
        let output = run(db, args);
        let in_use = String::from_utf8_lossy(&output.stderr).contains("in use by another process");
        if !in_use || std::time::Instant::now() > deadline {
            return output;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create copy");
    for entry in std::fs::read_dir(from).expect("read store dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy file");
        }
    }
}
