//! A bounded load test: N clients query the server for a few seconds while a batch is
//! ingested through it. Every answer must be a success, every article whole; afterwards
//! `check` is clean and the stats equal those of a direct ingest of the same batch.
//! Figures (throughput, p50/p99 latency) go to stderr and target/serve-load.json.
//! DIPLOGRAPH_LOAD_CLIENTS, DIPLOGRAPH_LOAD_SECONDS and DIPLOGRAPH_LOAD_ARTICLES scale it
//! (BENCHMARKS.md records a release run); CI runs the small default.

mod common;
mod serve;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use common::Workspace;
use serve::{batch, Server};

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The mix each client cycles through: an anchored lookup, a walk, an aggregation over
/// every article, and a wholeness check.
const QUERIES: [&str; 4] = [
    "MATCH (p:Person {name: 'Person 7 A'})<-[:PARTICIPANT]-(m) RETURN m.date ORDER BY m.date",
    "MATCH (m:Meeting)-[:PARTICIPANT]->(p) WHERE m.date = '2024-01-02' RETURN p.name LIMIT 20",
    "MATCH (a:Article) RETURN a.outlet AS outlet, count(*) AS n",
    "MATCH (a:Article) OPTIONAL MATCH (a)<-[:REPORTED_IN]-(e) WITH a, count(e) AS n RETURN count(a), min(n), max(n)",
];

/// The latency below which `per_mille` thousandths of the sorted latencies fall.
fn percentile(sorted: &[Duration], per_mille: usize) -> Duration {
    match sorted.len() {
        0 => Duration::ZERO,
        n => sorted[(n - 1) * per_mille / 1000],
    }
}

#[test]
fn load_queries_during_an_ingest_stay_correct_and_fast() {
    let clients = setting("DIPLOGRAPH_LOAD_CLIENTS", 4);
    let seconds = setting("DIPLOGRAPH_LOAD_SECONDS", 3);
    let articles = setting("DIPLOGRAPH_LOAD_ARTICLES", 3000);
    let ws = Workspace::new();
    let text = batch(0..articles);
    let server = Arc::new(Server::start(&ws.db(), &[]));
    // Seed a first part so the queries have something to read from the start.
    let seeded = articles / 10;
    let seed: String = text.lines().take(seeded).map(|l| format!("{l}\n")).collect();
    assert_eq!(server.ingest("seed.jsonl", &seed)["state"], "done");
    let rest: String = text.lines().skip(seeded).map(|l| format!("{l}\n")).collect();
    let upload =
        server.post("/api/ingest?source=load.jsonl", &[("Content-Type", "application/x-ndjson")], rest.as_bytes());
    assert_eq!(upload.status, 202);
    let job = upload.json()["job"].as_u64().unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|client| {
            let server = server.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut latencies = Vec::new();
                let mut errors = Vec::new();
                let mut i = client;
                while !stop.load(Ordering::Relaxed) {
                    let kind = i % QUERIES.len();
                    let query = QUERIES[kind];
                    i += 1;
                    let sent = Instant::now();
                    let answer = server.post_json("/api/query", &json!({ "query": query }));
                    latencies.push((kind, sent.elapsed()));
                    if answer.status != 200 {
                        errors.push(format!("{}: {}", answer.status, answer.body));
                        continue;
                    }
                    if query.contains("min(n)") {
                        let row = answer.json()["rows"][0].clone();
                        if row[0].as_u64().unwrap_or(0) > 0 && (row[1] != 3 || row[2] != 3) {
                            errors.push(format!("a partial article: {row}"));
                        }
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(u64::try_from(seconds).unwrap_or(3)));
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed();
    let mut latencies = Vec::new();
    let mut errors = Vec::new();
    for worker in workers {
        let (l, e) = worker.join().expect("client thread");
        latencies.extend(l);
        errors.extend(e);
    }
    let finished = server.wait_for_job(job);
    let ingest_done = started.elapsed();
    assert_eq!(finished["state"], "done", "{finished}");
    assert!(errors.is_empty(), "{} errors, first: {}", errors.len(), errors[0]);
    let by_query: Vec<_> = (0..QUERIES.len())
        .map(|q| {
            let mut these: Vec<Duration> = latencies.iter().filter(|(k, _)| *k == q).map(|(_, d)| *d).collect();
            these.sort();
            json!({
                "query": QUERIES[q],
                "count": these.len(),
                "p50_ms": percentile(&these, 500).as_secs_f64() * 1000.0,
                "p99_ms": percentile(&these, 990).as_secs_f64() * 1000.0,
            })
        })
        .collect();
    let mut latencies: Vec<Duration> = latencies.into_iter().map(|(_, d)| d).collect();
    latencies.sort();
    let figures = json!({
        "clients": clients,
        "seconds": elapsed.as_secs_f64(),
        "articles": articles,
        "queries": latencies.len(),
        "queries_per_second": f64::from(u32::try_from(latencies.len()).unwrap_or(u32::MAX)) / elapsed.as_secs_f64(),
        "p50_ms": percentile(&latencies, 500).as_secs_f64() * 1000.0,
        "p99_ms": percentile(&latencies, 990).as_secs_f64() * 1000.0,
        "max_ms": latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
        "ingest_seconds_under_load": ingest_done.as_secs_f64(),
        "build": if cfg!(debug_assertions) { "debug" } else { "release" },
        "by_query": by_query,
    });
    eprintln!("serve load: {figures}");
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/serve-load.json");
    let _ = std::fs::write(out, format!("{figures}\n"));
    assert!(!latencies.is_empty(), "no query was answered");

    let server = Arc::try_unwrap(server).ok().expect("clients are done");
    assert!(server.terminate().success());
    let check = ws.cmd(&["check"]).output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
    let direct = Workspace::new();
    let file = direct.write("all.jsonl", &text);
    assert!(direct.ingest(&file).status.success());
    assert_eq!(ws.stats(), direct.stats(), "the served store equals a direct ingest");
}
