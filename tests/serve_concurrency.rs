//! The server under concurrent use: queries during an ingest see whole articles, a client
//! that goes away stops its query, and a graceful shutdown (SIGTERM) finishes what it
//! acknowledged, flushes and exits 0.

mod common;
mod serve;

use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use common::Workspace;
use serve::{batch, Server};

/// Articles, and the fewest and most events any of them reports.
const WHOLENESS: &str = "MATCH (a:Article) OPTIONAL MATCH (a)<-[:REPORTED_IN]-(e) WITH a, count(e) AS n RETURN count(a) AS articles, min(n) AS least, max(n) AS most";

/// A query that runs until its deadline or its cancellation (10^10 rows, none kept).
const ENDLESS: &str = "UNWIND range(1, 100000) AS x UNWIND range(1, 100000) AS y WITH x WHERE x = -1 RETURN count(*)";

#[test]
fn concurrent_queries_during_an_ingest_see_whole_articles() {
    let ws = Workspace::new();
    let server = Arc::new(Server::start(&ws.db(), &[]));
    let upload = server.post(
        "/api/ingest?source=big.jsonl",
        &[("Content-Type", "application/x-ndjson")],
        batch(0..5000).as_bytes(),
    );
    assert_eq!(upload.status, 202);
    let job = upload.json()["job"].as_u64().unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let server = server.clone();
            let done = done.clone();
            std::thread::spawn(move || {
                let mut seen = Vec::new();
                while !done.load(Ordering::Relaxed) {
                    let answer = server.query(WHOLENESS);
                    assert_eq!(answer.status, 200, "{}", answer.body);
                    let row = answer.json()["rows"][0].clone();
                    let articles = row[0].as_u64().unwrap();
                    if articles > 0 {
                        assert_eq!((row[1].as_u64(), row[2].as_u64()), (Some(3), Some(3)), "a partial article: {row}");
                    }
                    seen.push(articles);
                }
                seen
            })
        })
        .collect();
    let finished = server.wait_for_job(job);
    done.store(true, Ordering::Relaxed);
    assert_eq!(finished["state"], "done", "{finished}");
    for reader in readers {
        let seen = reader.join().expect("reader");
        assert!(seen.windows(2).all(|w| w[0] <= w[1]), "articles never disappear: {seen:?}");
    }
    let last = server.query(WHOLENESS).json();
    assert_eq!(last["rows"][0], json!([5000, 3, 3]));
}

#[test]
fn a_disconnected_client_stops_its_query() {
    let ws = Workspace::new();
    let server = Server::start(&ws.db(), &["--no-auth", "--query-slots", "1", "--query-timeout", "120"]);
    let body = json!({ "query": ENDLESS }).to_string();
    let mut stream = TcpStream::connect(("127.0.0.1", server.port())).unwrap();
    write!(
        stream,
        "POST /api/query HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        server.port(),
        body.len()
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    drop(stream);
    // The only slot is free again once the endless query has stopped: a new query gets it
    // well before the 10 s a request waits for a slot (and long before the 120 s deadline).
    let started = Instant::now();
    let answer = server.query("RETURN 1 AS one");
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the abandoned query held its slot for {:?}",
        started.elapsed()
    );
}

#[test]
fn a_client_that_leaves_a_stream_stops_its_query() {
    let ws = Workspace::new();
    let server = Server::start(&ws.db(), &["--no-auth", "--query-slots", "1", "--query-timeout", "120"]);
    let body = json!({ "query": ENDLESS }).to_string();
    let mut stream = TcpStream::connect(("127.0.0.1", server.port())).unwrap();
    write!(
        stream,
        "POST /api/query HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\nAccept: application/x-ndjson\r\nContent-Length: {}\r\n\r\n{body}",
        server.port(),
        body.len()
    )
    .unwrap();
    // The head of the stream (200 and the columns line) arrives before any row.
    let mut head = [0u8; 12];
    std::io::Read::read_exact(&mut stream, &mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    drop(stream);
    let started = Instant::now();
    let answer = server.query("RETURN 1 AS one");
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the abandoned stream held its slot for {:?}",
        started.elapsed()
    );
}

#[test]
fn a_query_past_its_timeout_is_stopped_with_504() {
    let ws = Workspace::new();
    let server = Server::start(&ws.db(), &[]);
    let started = Instant::now();
    let answer = server.post_json("/api/query", &json!({ "query": ENDLESS, "timeout_ms": 300 }));
    assert_eq!(answer.status, 504, "{}", answer.body);
    assert_eq!(answer.json()["error"]["code"], "timeout");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn busy_slots_answer_503_after_a_bounded_wait_not_never() {
    let ws = Workspace::new();
    let server = Arc::new(Server::start(&ws.db(), &["--query-slots", "1", "--query-timeout", "15"]));
    let hog = {
        let server = server.clone();
        std::thread::spawn(move || server.post_json("/api/query", &json!({ "query": ENDLESS, "timeout_ms": 13000 })))
    };
    // Time for the hog to take the only slot, even on a busy machine.
    std::thread::sleep(Duration::from_millis(1000));
    let started = Instant::now();
    let waiting = server.query("RETURN 1 AS one");
    assert_eq!(waiting.status, 503, "{}", waiting.body);
    assert_eq!(waiting.json()["error"]["code"], "busy");
    assert!(started.elapsed() >= Duration::from_secs(9) && started.elapsed() < Duration::from_secs(13));
    assert_eq!(hog.join().unwrap().status, 504);
    assert_eq!(server.query("RETURN 1 AS one").status, 200);
}

#[test]
fn graceful_shutdown_loses_nothing_acknowledged() {
    let ws = Workspace::new();
    let server = Server::start(&ws.db(), &[]);
    let address_file = ws.db().join("serve.json");
    assert!(address_file.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&address_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the address file holds the token: owner only");
    }
    let first = server.ingest("first.jsonl", &batch(0..300));
    assert_eq!(first["state"], "done");
    // A batch still running when the signal comes is finished within the grace period.
    let second = server.post(
        "/api/ingest?source=second.jsonl",
        &[("Content-Type", "application/x-ndjson")],
        batch(300..600).as_bytes(),
    );
    assert_eq!(second.status, 202);
    let status = server.terminate();
    assert!(status.success(), "serve exits 0 on SIGTERM: {status:?}");
    assert!(!address_file.exists(), "the address file is removed on exit");
    let stats = ws.stats();
    assert_eq!(stats["nodes"]["Article"], 600);
    assert_eq!(stats["nodes"]["Event"], 1800);
    let check = ws.cmd(&["check"]).output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
}

#[test]
fn shutdown_lets_a_running_query_finish() {
    let ws = Workspace::new();
    let server = Server::start(&ws.db(), &["--no-auth"]);
    let port = server.port();
    let asker = std::thread::spawn(move || {
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(30)).build();
        // About two seconds of work in a debug build: still running when the signal comes.
        let slow = "UNWIND range(1, 3000) AS x UNWIND range(1, 1000) AS y WITH x WHERE x = -1 RETURN count(*) AS n";
        agent
            .post(&format!("http://127.0.0.1:{port}/api/query"))
            .set("Content-Type", "application/json")
            .send_string(&json!({ "query": slow }).to_string())
            .map(|r| r.into_string().unwrap())
            .map_err(|e| e.to_string())
    });
    std::thread::sleep(Duration::from_millis(700));
    let status = server.terminate();
    assert!(status.success());
    let answer = asker.join().unwrap().expect("the running query was answered");
    assert!(answer.contains("\"rows\":[[0]]"), "{answer}");
}

#[test]
fn a_stopped_writer_keeps_whole_articles_only() {
    let ws = Workspace::new();
    // A grace period too short for the batch: the writer stops between two articles.
    let server = Server::start(&ws.db(), &["--shutdown-grace", "0.2"]);
    let upload = server.post(
        "/api/ingest?source=long.jsonl",
        &[("Content-Type", "application/x-ndjson")],
        batch(0..40_000).as_bytes(),
    );
    assert_eq!(upload.status, 202);
    std::thread::sleep(Duration::from_millis(300));
    assert!(server.terminate().success());
    let stats = ws.stats();
    let articles = stats["nodes"]["Article"].as_u64().unwrap_or(0);
    assert!(articles < 40_000, "the batch was cut short ({articles} articles)");
    assert_eq!(stats["nodes"]["Event"].as_u64().unwrap_or(0), articles * 3, "only whole articles: {stats}");
    assert!(ws.cmd(&["check"]).output().unwrap().status.success());
}

#[test]
fn sigint_stops_the_server_as_sigterm_does() {
    let ws = Workspace::new();
    let server = Server::start(&ws.db(), &[]);
    assert_eq!(server.ingest("one.jsonl", &batch(0..10))["state"], "done");
    serve::signal(server.pid(), "-INT");
    let status = server.terminate_after_signal();
    assert!(status.success(), "{status:?}");
    assert!(!ws.db().join("serve.json").exists());
    assert_eq!(ws.stats()["nodes"]["Article"], 10);
}

#[test]
fn a_port_in_use_is_a_clear_error() {
    let ws = Workspace::new();
    let server = Server::start(&ws.db(), &[]);
    let other = Workspace::new();
    let port = server.port().to_string();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_diplograph"))
        .arg("--db")
        .arg(other.db())
        .args(["serve", "--port", &port])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.starts_with(&format!("error: cannot listen on 127.0.0.1:{port}")), "{stderr}");
    assert!(stderr.contains("pick another --port"), "{stderr}");
    assert!(!other.db().join("serve.json").exists());
}
