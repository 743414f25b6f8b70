//! The openCypher TCK (../shared/tck) run against diplograph's read-only engine.
//!
//! Every scenario's graph is built by a test-only loader, its query runs through the real
//! engine with the index plan and the naive plan, and the rows are compared as the TCK
//! prescribes. Scenarios outside the read-only subset are skipped with a reason. The test
//! fails when any scenario panics or a folder's passed count drops below
//! `tests/tck/baseline.txt`. See docs/TCK.md.
//!
//! Environment: `TCK_VERBOSE=1` lists every failure; `TCK_FILTER=text` runs only features
//! or scenarios whose path or name contains `text`; `TCK_SKIPS=1` lists every skip reason;
//! `TCK_WRITE_BASELINE=1` rewrites the baseline with the measured figures; `TCK_DIR=path`
//! reads the TCK from elsewhere than `../shared/tck`.

#[path = "tck/expected.rs"]
mod expected;
#[path = "tck/gherkin.rs"]
mod gherkin;
#[path = "tck/loader.rs"]
mod loader;
#[path = "tck/report.rs"]
mod report;
#[path = "tck/runner.rs"]
mod runner;
#[path = "tck/scope.rs"]
mod scope;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use report::{Outcome, Report};
use runner::Verdict;

/// The TCK: `$TCK_DIR` when set (a worktree not beside `shared/`), else `../shared/tck`.
fn tck_dir() -> PathBuf {
    match std::env::var_os("TCK_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tck"),
    }
}
const BASELINE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tck/baseline.txt");
/// Where the full failure listing is written on every run.
const FAILURES_FILE: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/tck-failures.txt");
/// A scenario still running after this long means the engine ignored its timeout.
const HANG_LIMIT: Duration = Duration::from_secs(60);

/// One scenario to run, with where it came from.
struct Job {
    folder: String,
    file: String,
    scenario: gherkin::Scenario,
}

#[test]
fn opencypher_tck() {
    let features_dir = tck_dir().join("features");
    let features = features_dir.as_path();
    if !features.is_dir() {
        println!(
            "TCK: no feature files at {}; nothing to run (the TCK lives in ../shared/tck, or set TCK_DIR).",
            features.display()
        );
        return;
    }
    let filter = std::env::var("TCK_FILTER").ok().filter(|f| !f.is_empty()).map(|f| f.to_lowercase());
    let verbose = env_flag("TCK_VERBOSE");

    let mut report = Report::default();
    let jobs = collect_jobs(features, filter.as_deref(), &mut report);
    let started = Instant::now();
    let outcomes = run_jobs(&jobs, &report, started);
    for (job, (verdict, elapsed)) in jobs.iter().zip(outcomes) {
        report.record(outcome_of(job, verdict, elapsed));
    }

    let listing = report.failure_listing();
    let _ = std::fs::write(FAILURES_FILE, &listing);
    if verbose {
        println!("{listing}");
    }
    if env_flag("TCK_SKIPS") {
        println!("{}", report.skip_listing());
    }
    println!("{}", report.summary(started.elapsed()));
    println!("full failure listing: {FAILURES_FILE}");

    if filter.is_some() {
        println!("TCK_FILTER is set: the baseline is not checked.");
        assert!(report.panics().is_empty(), "{} scenarios panicked (listed above)", report.panics().len());
        return;
    }
    if env_flag("TCK_WRITE_BASELINE") {
        std::fs::write(BASELINE, report.baseline_text()).expect("write tests/tck/baseline.txt");
        println!("baseline rewritten: {BASELINE}");
    }
    let baseline = std::fs::read_to_string(BASELINE).unwrap_or_default();
    let regressions = report.regressions(&baseline);
    for line in &regressions {
        println!("REGRESSION: {line}");
    }
    let panics = report.panics();
    assert!(panics.is_empty(), "{} TCK scenarios panicked; the engine must never panic (listed above)", panics.len());
    assert!(regressions.is_empty(), "TCK passed counts fell below tests/tck/baseline.txt (listed above)");
}

fn outcome_of(job: &Job, verdict: Verdict, elapsed: Duration) -> Outcome {
    Outcome {
        folder: job.folder.clone(),
        file: job.file.clone(),
        scenario: job.scenario.name.clone(),
        line: job.scenario.line,
        verdict,
        elapsed,
    }
}

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Reads every feature file; whole out-of-scope folders and unreadable files are
/// recorded directly, the rest become jobs.
fn collect_jobs(features: &Path, filter: Option<&str>, report: &mut Report) -> Vec<Job> {
    let mut files = Vec::new();
    feature_files(features, &mut files);
    files.sort();
    let mut jobs = Vec::new();
    for path in files {
        let relative = path.strip_prefix(features).unwrap_or(&path);
        let file = relative.to_string_lossy().replace('\\', "/");
        let folder = relative.parent().map(|p| p.to_string_lossy().replace('\\', "/")).unwrap_or_default();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) => {
                report.harness_problem(format!("{file}: cannot read: {e}"));
                continue;
            }
        };
        let feature = match gherkin::parse_feature(&text) {
            Ok(feature) => feature,
            Err(e) => {
                report.harness_problem(format!("{file}: cannot parse the Gherkin: {e}"));
                continue;
            }
        };
        let folder_skip = scope::folder_out_of_scope(&folder);
        for scenario in feature.scenarios {
            if let Some(filter) = filter {
                let haystack = format!("{file} {} {}", feature.name, scenario.name).to_lowercase();
                if !haystack.contains(filter) {
                    continue;
                }
            }
            if let Some(why) = folder_skip {
                report.record(Outcome {
                    folder: folder.clone(),
                    file: file.clone(),
                    scenario: scenario.name.clone(),
                    line: scenario.line,
                    verdict: Verdict::Skipped(format!("folder out of scope: {why}")),
                    elapsed: Duration::ZERO,
                });
                continue;
            }
            jobs.push(Job { folder: folder.clone(), file: file.clone(), scenario });
        }
    }
    jobs
}

fn feature_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            feature_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "feature") {
            out.push(path);
        }
    }
}

/// Runs the jobs on a few worker threads; a watchdog stops the test if a scenario hangs
/// past `HANG_LIMIT` (the engine's own timeout should end every query long before).
fn run_jobs(jobs: &[Job], base: &Report, started: Instant) -> Vec<(Verdict, Duration)> {
    runner::install_panic_hook();
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 8);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<(Verdict, Duration)>>> = Mutex::new((0..jobs.len()).map(|_| None).collect());
    let running: Mutex<Vec<Option<(usize, Instant)>>> = Mutex::new(vec![None; workers]);
    let done = AtomicUsize::new(0);
    let graphs_dir = tck_dir().join("graphs");
    let graphs = graphs_dir.as_path();
    std::thread::scope(|scope| {
        for worker in 0..workers {
            let (next, results, running, done) = (&next, &results, &running, &done);
            scope.spawn(move || loop {
                let index = next.fetch_add(1, Ordering::SeqCst);
                let Some(job) = jobs.get(index) else { break };
                let start = Instant::now();
                running.lock().expect("running lock")[worker] = Some((index, start));
                let verdict = runner::run_scenario(&job.scenario, graphs);
                running.lock().expect("running lock")[worker] = None;
                results.lock().expect("results lock")[index] = Some((verdict, start.elapsed()));
                done.fetch_add(1, Ordering::SeqCst);
            });
        }
        while done.load(Ordering::SeqCst) < jobs.len() {
            std::thread::sleep(Duration::from_millis(100));
            let hung = running
                .lock()
                .expect("running lock")
                .iter()
                .flatten()
                .find(|(_, start)| start.elapsed() > HANG_LIMIT)
                .map(|(index, _)| *index);
            if let Some(index) = hung {
                let job = &jobs[index];
                eprintln!(
                    "TCK: scenario hung for more than {}s (the engine ignored its {}s timeout): {}:{} {}\nquery steps:",
                    HANG_LIMIT.as_secs(),
                    runner::QUERY_TIMEOUT.as_secs(),
                    job.file,
                    job.scenario.line,
                    job.scenario.name
                );
                for step in &job.scenario.steps {
                    if let Some(doc) = &step.doc_string {
                        eprintln!("  {} {}\n{doc}", step.keyword, step.text);
                    }
                }
                let mut partial = base.clone();
                for (job, result) in jobs.iter().zip(results.lock().expect("results lock").iter()) {
                    if let Some((verdict, elapsed)) = result {
                        partial.record(outcome_of(job, verdict.clone(), *elapsed));
                    }
                }
                println!("{}", partial.summary(started.elapsed()));
                println!("(partial: the run stopped at the hung scenario)");
                std::process::exit(101);
            }
        }
    });
    results.into_inner().expect("results lock").into_iter().map(|r| r.expect("every job ran")).collect()
}
