//! The kill test: SIGKILL the real `diplograph ingest` at random instants, again and again,
//! and prove after every kill that the store opens, passes `check`, and holds every article
//! wholly or not at all; then prove that re-running the batch converges to exactly the
//! graph of one clean run.
//!
//! CI runs a bounded version. The long run (see docs/RELIABILITY.md):
//! `KILL_TEST_KILLS=1000 KILL_TEST_ARTICLES=3000 cargo test --release --test kill -- --nocapture`

mod harness;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use diplograph::model::{NodeRecord, Value, ENTITY_KINDS};
use diplograph::store::{OpenMode, Store};
use harness::{canonical, generate, node_line, reports_by_article, run, stats_json, text, Canonical, GenOptions, BIN};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(value) => value.parse().unwrap_or_else(|_| panic!("{name} must be a number, got {value:?}")),
        Err(_) => default,
    }
}

/// What a clean run produces, to judge every crash state against.
struct Reference {
    /// Article ids in batch order (the order a prefix must follow).
    order: Vec<String>,
    reports: BTreeMap<String, Vec<String>>,
    canonical: Canonical,
    nodes: BTreeSet<String>,
    edges: BTreeSet<String>,
    /// Entity id → (labels, name, aliases, title) as the clean run stores it.
    entities: BTreeMap<String, NodeRecord>,
}

impl Reference {
    fn load(db: &Path, batch_text: &str) -> Reference {
        let store = Store::open(db, OpenMode::MustExist).expect("open reference");
        let canonical = canonical(&store);
        let mut entities = BTreeMap::new();
        for kind in ENTITY_KINDS {
            for id in store.nodes_with_label(kind) {
                let record = store.node(id.expect("id")).expect("read").expect("exists");
                entities.insert(record.key().expect("entity id").to_string(), record);
            }
        }
        let order = batch_text
            .lines()
            .map(|line| {
                serde_json::from_str::<serde_json::Value>(line).expect("generated JSON")["article"]["id"]
                    .as_str()
                    .expect("id")
                    .to_string()
            })
            .collect();
        Reference {
            order,
            reports: reports_by_article(&store),
            nodes: canonical.nodes.iter().cloned().collect(),
            edges: canonical.edges.iter().cloned().collect(),
            canonical,
            entities,
        }
    }
}

/// One crash state, copied out of the way so the next run can start at once.
struct Snapshot {
    kill: u64,
    /// The run started from an empty store.
    fresh: bool,
    /// False when the run finished before its kill was due.
    killed: bool,
    delay_ms: u64,
    dir: PathBuf,
}

/// What one crash state held.
struct Verdict {
    articles: usize,
    failure: Option<String>,
}

/// Judges a crash state: `check` passes; the stored articles are a prefix of the batch and
/// each is exactly as the clean run stores it; every event, edge and entity is one the
/// clean run has (entities may lack aliases and a title that later articles add).
fn verify(snapshot: &Snapshot, reference: &Reference) -> Verdict {
    let fail = |message: String| Verdict {
        articles: 0,
        failure: Some(format!("kill {} (after {} ms): {message}", snapshot.kill, snapshot.delay_ms)),
    };
    if !snapshot.dir.join("conf").exists() {
        // Killed before sled created the store (or before the first run made the directory).
        return Verdict { articles: 0, failure: None };
    }
    let output = run(&snapshot.dir, &["check"]);
    if output.status.code() != Some(0) {
        return fail(format!("check failed: {}", text(&output)));
    }
    let store = match Store::open(&snapshot.dir, OpenMode::MustExist) {
        Ok(store) => store,
        Err(err) => return fail(format!("the store does not open: {err}")),
    };
    let reports = reports_by_article(&store);
    for (i, id) in reference.order.iter().enumerate() {
        let stored = reports.contains_key(id);
        if i >= reports.len() && stored {
            return fail(format!(
                "article {id} (line {}) is stored but {} articles are: not a prefix of the batch",
                i + 1,
                reports.len()
            ));
        }
        if i < reports.len() && !stored {
            return fail(format!(
                "article {id} (line {}) is missing although {} articles are stored",
                i + 1,
                reports.len()
            ));
        }
    }
    for (id, lines) in &reports {
        if reference.reports.get(id) != Some(lines) {
            return fail(format!(
                "article {id} is not whole: stored reports {lines:#?}, a clean run stores {:#?}",
                reference.reports.get(id)
            ));
        }
    }
    let state = canonical(&store);
    // A derived FULFILLED_BY link of a prefix state may point at a visit that a later
    // article's earlier visit displaces, so it need not be in the clean run's graph; `check`
    // above recomputed every link of this state.
    for edge in state.edges.iter().filter(|e| !e.starts_with("FULFILLED_BY ")) {
        if !reference.edges.contains(edge) {
            return fail(format!("edge {edge} is not in the clean run's graph"));
        }
    }
    for id in store.all_nodes() {
        let record = store.node(id.expect("id")).expect("read").expect("exists");
        if let Some(problem) = node_problem(&record, reference) {
            return fail(problem);
        }
    }
    Verdict { articles: reports.len(), failure: None }
}

fn node_problem(record: &NodeRecord, reference: &Reference) -> Option<String> {
    let is_entity = ENTITY_KINDS.iter().any(|kind| record.has_label(kind));
    if !is_entity {
        let line = node_line(record);
        return (!reference.nodes.contains(&line)).then(|| format!("node {line} is not in the clean run's graph"));
    }
    let key = record.key().unwrap_or_default();
    let Some(full) = reference.entities.get(key) else {
        return Some(format!("entity {key} is not in the clean run's graph"));
    };
    let aliases = |r: &NodeRecord| match r.props.get("aliases") {
        Some(Value::List(items)) => items.clone(),
        _ => Vec::new(),
    };
    let (partial, complete) = (aliases(record), aliases(full));
    let title_ok = !record.props.contains_key("title") || record.props.get("title") == full.props.get("title");
    let ok = record.labels == full.labels
        && record.props.get("name") == full.props.get("name")
        && complete.starts_with(&partial)
        && title_ok;
    (!ok).then(|| format!("entity {} is not a prefix state of the clean run's {}", node_line(record), node_line(full)))
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

fn timed_ingest(db: &Path, batch: &Path) -> Duration {
    let started = Instant::now();
    let output = run(db, &["ingest", batch.to_str().expect("utf-8 path")]);
    assert_eq!(output.status.code(), Some(0), "clean ingest: {}", text(&output));
    started.elapsed()
}

/// Fixed questions whose answers must agree between the converged store and a clean run.
const QUERIES: &[&str] = &[
    "MATCH (g:Gift)-[:GIVER]->(a), (g)-[:RECIPIENT]->(b), (g)-[:ITEM]->(i) RETURN a.name AS giver, i.name AS item, b.name AS recipient ORDER BY giver, item, recipient",
    "MATCH (e:Event)-[r:REPORTED_IN]->(a:Article) RETURN a.id AS article, count(e) AS events ORDER BY article",
    "MATCH (p:Person)-[r:REPRESENTS]->(c:Country) RETURN p.id AS person, c.name AS country, r.title AS title ORDER BY person, country",
    "MATCH (m:Meeting)-[:PARTICIPANT]->(p) RETURN m.id AS meeting, collect(p.id) AS who ORDER BY meeting",
];

fn answers(db: &Path) -> Vec<String> {
    QUERIES
        .iter()
        .map(|query| {
            let output = run(db, &["query", "--format", "json", query]);
            assert_eq!(output.status.code(), Some(0), "{query}: {}", text(&output));
            String::from_utf8_lossy(&output.stdout).into_owned()
        })
        .collect()
}

#[test]
fn killed_ingests_leave_whole_articles_and_converge_to_a_clean_run() {
    let kills_wanted = env_number("KILL_TEST_KILLS", 50);
    let articles = usize::try_from(env_number("KILL_TEST_ARTICLES", 2500)).expect("articles");
    let seed = env_number("KILL_TEST_SEED", 20_240_613);
    let dir = tempfile::tempdir().expect("temp dir");
    let batch = dir.path().join("batch.jsonl");
    let batch_text = generate(GenOptions { articles, seed, replacements: false });
    std::fs::write(&batch, &batch_text).expect("write batch");

    // One clean run, and the same batch again over it (every article replaced): the longer of
    // the two bounds the kill instants, and the second must change nothing.
    let reference_db = dir.path().join("reference.db");
    let fresh = timed_ingest(&reference_db, &batch);
    let before = canonical(&Store::open(&reference_db, OpenMode::MustExist).expect("open"));
    let rerun = timed_ingest(&reference_db, &batch);
    let reference = Reference::load(&reference_db, &batch_text);
    assert_eq!(reference.canonical, before, "re-running a batch changed the graph");
    assert_eq!(reference.order.len(), reference.reports.len(), "the generated batch should have no rejects");
    let [fresh_ms, rerun_ms] = [fresh, rerun].map(|d| u64::try_from(d.as_millis()).expect("ms") * 21 / 20);

    // Verify crash states on another thread while the main thread keeps killing.
    let (to_verifier, snapshots) = mpsc::channel::<Snapshot>();
    let verifier = std::thread::spawn(move || {
        let mut verdicts = Vec::new();
        let mut busy = Duration::ZERO;
        for snapshot in snapshots {
            let started = Instant::now();
            verdicts.push((verify(&snapshot, &reference), snapshot.killed, snapshot.fresh));
            busy += started.elapsed();
            let _ = std::fs::remove_dir_all(&snapshot.dir);
        }
        (verdicts, reference, busy)
    });

    let db = dir.path().join("killed.db");
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    let (mut kills, mut completed_runs) = (0u64, 0u64);
    let started = Instant::now();
    // The first half of the kills interrupt a first ingest into an empty store (crash states
    // part-way through the batch); the second half interrupt re-runs over what the kills left
    // (crash states part-way through replacing stored articles).
    let fresh_kills = kills_wanted / 2;
    while kills < kills_wanted {
        let fresh = kills < fresh_kills;
        if fresh && db.exists() {
            std::fs::remove_dir_all(&db).expect("empty the store");
        }
        let mut child = Command::new(BIN)
            .arg("--db")
            .arg(&db)
            .arg("ingest")
            .arg(&batch)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn ingest");
        // Anywhere from opening the store to the end of a whole run (the final batch and its
        // flush): a fixed 5–400 ms would never reach the end of a run in a debug build.
        let run_ms = if fresh { fresh_ms } else { rerun_ms };
        let delay_ms = rng.gen_range(5..=run_ms.max(6));
        std::thread::sleep(Duration::from_millis(delay_ms));
        let killed = match child.try_wait().expect("poll ingest") {
            Some(status) => {
                assert_eq!(status.code(), Some(0), "an unkilled ingest failed");
                completed_runs += 1;
                false
            }
            None => {
                child.kill().expect("SIGKILL");
                child.wait().expect("reap");
                kills += 1;
                true
            }
        };
        let snapshot = dir.path().join(format!("state-{kills}-{completed_runs}"));
        if db.exists() {
            copy_dir(&db, &snapshot).expect("copy the crash state");
        }
        to_verifier.send(Snapshot { kill: kills, fresh, killed, delay_ms, dir: snapshot }).expect("verifier alive");
    }
    drop(to_verifier);
    let killing = started.elapsed();
    let (verdicts, reference, verifying) = verifier.join().expect("verifier thread");
    let failures: Vec<&String> = verdicts.iter().filter_map(|(v, ..)| v.failure.as_ref()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} crash states are wrong; the first: {}",
        failures.len(),
        verdicts.len(),
        failures[0]
    );

    // Converge: one uninterrupted run over whatever the kills left.
    timed_ingest(&db, &batch);
    harness::assert_check_ok(&db);
    assert_eq!(stats_json(&db), stats_json(&reference_db));
    let converged = Store::open(&db, OpenMode::MustExist).expect("open");
    assert_eq!(reports_by_article(&converged), reference.reports);
    assert_eq!(canonical(&converged), reference.canonical);
    drop(converged);
    assert_eq!(answers(&db), answers(&reference_db));

    let articles_checked: usize = verdicts.iter().map(|(v, ..)| v.articles).sum();
    let mut fresh_states: BTreeMap<usize, usize> = BTreeMap::new();
    for (verdict, ..) in verdicts.iter().filter(|(_, killed, fresh)| *killed && *fresh) {
        *fresh_states.entry(verdict.articles).or_insert(0) += 1;
    }
    eprintln!(
        "kill test: {kills} kills survived, {completed_runs} runs completed; {articles_checked} stored articles checked whole \
         over {} crash states; first-ingest kills by articles left stored (a kill that leaves all {articles} came during the \
         final flush or exit): {fresh_states:?}; killing took {:.1} s, verifying {:.1} s (in parallel); a clean run takes {} ms, a re-run {} ms",
        verdicts.len(),
        killing.as_secs_f64(),
        verifying.as_secs_f64(),
        fresh.as_millis(),
        rerun.as_millis()
    );
}
