//! CLI forwarding: while `serve` holds a store, `query`, `stats`, `show`, `entities`,
//! `check` and `ingest` on it go through the server and print the same stdout and stderr
//! with the same exit codes as when they open the store themselves.

mod common;
mod serve;

use std::process::Output;

use common::{Workspace, EXAMPLE};
use serve::Server;

/// What a command printed and how it exited.
#[derive(Debug, PartialEq, Eq)]
struct Printed {
    stdout: String,
    stderr: String,
    code: Option<i32>,
}

fn printed(output: Output) -> Printed {
    Printed {
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
        code: output.status.code(),
    }
}

fn commands(ws: &Workspace) -> Vec<Vec<String>> {
    let query_file = ws.write("q.cypher", "MATCH (p:Person) RETURN p.name AS name ORDER BY name");
    let lists: Vec<Vec<&str>> = vec![
        vec!["query", "MATCH (g:Gift)-[:GIVER]->(a) RETURN a.name AS giver, g.date AS date ORDER BY giver, date"],
        vec!["query", "MATCH (p:Person) RETURN p ORDER BY p.name LIMIT 2", "--format", "json"],
        vec!["query", "MATCH (a:Article) RETURN a.id, a.outlet ORDER BY a.id", "--format", "csv"],
        vec!["query", "MATCH (p:Person {name: $who}) RETURN p.id", "--param", "who=Vladimir Putin"],
        vec!["query", "-f", query_file.to_str().unwrap()],
        vec!["query", "MATCH (p:Person RETURN p"],
        vec!["query", "CREATE (n)"],
        vec!["query", "MATCH (n:Person) RETURN n.name", "--explain"],
        vec!["stats"],
        vec!["stats", "--format", "json"],
        vec!["show", "person:vladimir-putin"],
        vec!["show", "person:vladimir-putin", "--format", "json"],
        vec!["show", "person:nobody"],
        vec!["entities", "Putin"],
        vec!["entities", "--kind", "Country", "--format", "json"],
        vec!["entities", "nobody at all"],
        vec!["entities", "--kind", "Planet", "x"],
        vec!["check"],
    ];
    lists.into_iter().map(|l| l.into_iter().map(str::to_string).collect()).collect()
}

fn run(ws: &Workspace, args: &[String]) -> Printed {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    printed(ws.cmd(&args).output().unwrap())
}

#[test]
fn read_commands_print_the_same_through_the_server() {
    let ws = Workspace::new();
    assert!(ws.ingest(std::path::Path::new(EXAMPLE)).status.success());
    let direct: Vec<Printed> = commands(&ws).iter().map(|c| run(&ws, c)).collect();
    let server = Server::start(&ws.db(), &[]);
    for (command, expected) in commands(&ws).iter().zip(&direct) {
        let forwarded = run(&ws, command);
        assert_eq!(&forwarded, expected, "{command:?}");
    }
    // A query read from stdin is read by the client and sent along.
    let mut stdin_query = ws.cmd(&["query", "--format", "csv"]);
    stdin_query.write_stdin("MATCH (c:Country) RETURN c.name ORDER BY c.name");
    let forwarded = printed(stdin_query.output().unwrap());
    assert_eq!(forwarded.code, Some(0), "{forwarded:?}");
    assert_eq!(forwarded.stdout, "c.name\nNorth Korea\nRussia\n");
    drop(server);
}

#[test]
fn ingest_through_the_server_reports_as_a_direct_ingest() {
    let direct = Workspace::new();
    let served = Workspace::new();
    let batch = format!(
        "{}\n{{\"article\": 1}}\n{}\n",
        common::article(
            "f1",
            "",
            r#"{"type":"meeting","participants":["Ann Example","Bo Example"],"date":"2024-01-01"}"#
        ),
        common::article(
            "f2",
            "",
            r#"{"type":"gift","giver":"Ann Example","recipient":"Bo Example","items":["a book"]}"#
        ),
    );
    for ws in [&direct, &served] {
        ws.write("batch.jsonl", &batch);
        ws.write("example.jsonl", &std::fs::read_to_string(EXAMPLE).unwrap());
    }
    assert!(served.cmd(&["ingest", "example.jsonl"]).output().unwrap().status.success());
    assert!(direct.cmd(&["ingest", "example.jsonl"]).output().unwrap().status.success());
    let args = ["ingest", "batch.jsonl", "example.jsonl", "--rejects", "rejected.jsonl"];
    let expected = printed(direct.cmd(&args).output().unwrap());
    let server = Server::start(&served.db(), &[]);
    let forwarded = printed(served.cmd(&args).output().unwrap());
    assert_eq!(forwarded, expected);
    let rejected = std::fs::read_to_string(served.path("rejected.jsonl")).unwrap();
    assert_eq!(rejected, std::fs::read_to_string(direct.path("rejected.jsonl")).unwrap());
    assert_eq!(rejected, "{\"article\": 1}\n");
    assert_eq!(expected.code, Some(1), "a rejected record gives exit 1: {expected:?}");
    assert!(forwarded.stderr.contains("batch.jsonl:2: "));
    // From stdin too.
    let mut stdin = served.cmd(&["ingest", "-"]);
    stdin.write_stdin(batch.clone());
    let from_stdin = printed(stdin.output().unwrap());
    assert!(from_stdin.stderr.starts_with("-:2: "), "{from_stdin:?}");
    // A missing file fails as it does directly.
    let missing_direct = printed(direct.cmd(&["ingest", "missing.jsonl"]).output().unwrap());
    let missing_served = printed(served.cmd(&["ingest", "missing.jsonl"]).output().unwrap());
    assert_eq!(missing_served, missing_direct);
    assert_eq!(missing_served.code, Some(2));
    drop(server);
    assert_eq!(served.stats(), direct.stats());
}

#[test]
fn commands_that_are_not_forwarded_name_the_server() {
    let ws = Workspace::new();
    assert!(ws.ingest(std::path::Path::new(EXAMPLE)).status.success());
    let server = Server::start(&ws.db(), &[]);
    let remove = printed(ws.cmd(&["remove", "x"]).output().unwrap());
    assert_eq!(remove.code, Some(2));
    assert!(remove.stderr.contains("`diplograph serve` holds it at http://127.0.0.1:"), "{remove:?}");
    let second = Server::try_start(&ws.db(), &[]).err().expect("a second server is refused");
    assert!(second.contains("in use"), "{second}");
    drop(server);
}

#[test]
fn a_killed_servers_address_file_does_not_break_the_cli() {
    let ws = Workspace::new();
    assert!(ws.ingest(std::path::Path::new(EXAMPLE)).status.success());
    let server = Server::start(&ws.db(), &[]);
    server.kill();
    assert!(ws.db().join("serve.json").exists(), "a killed server leaves its file behind");
    // The lock went with the process: the CLI opens the store itself.
    let stats = printed(ws.cmd(&["stats", "--format", "json"]).output().unwrap());
    assert_eq!(stats.code, Some(0), "{stats:?}");
    // A new server replaces the stale file.
    let server = Server::start(&ws.db(), &[]);
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ws.db().join("serve.json")).unwrap()).unwrap();
    assert_eq!(written["url"], server.base);
    assert_eq!(written["pid"], server.pid());
}

#[test]
fn a_read_only_server_refuses_a_forwarded_ingest() {
    let ws = Workspace::new();
    assert!(ws.ingest(std::path::Path::new(EXAMPLE)).status.success());
    let _server = Server::start(&ws.db(), &["--read-only"]);
    let ingest = printed(ws.cmd(&["ingest", EXAMPLE]).output().unwrap());
    assert_eq!(ingest.code, Some(2));
    assert!(ingest.stderr.contains("--read-only"), "{ingest:?}");
}

#[test]
fn a_stale_address_file_is_found_out_by_connecting() {
    let ws = Workspace::new();
    assert!(ws.ingest(std::path::Path::new(EXAMPLE)).status.success());
    Server::start(&ws.db(), &[]).kill();
    assert!(ws.db().join("serve.json").exists());
    // Another process takes the store (an ingest reading stdin that stays open): the file
    // names a server that no longer answers, and the CLI says so instead of hanging.
    let mut holder = std::process::Command::new(env!("CARGO_BIN_EXE_diplograph"))
        .arg("--db")
        .arg(ws.db())
        .args(["ingest", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Opening a store takes milliseconds; the holder keeps it until its stdin closes.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    if let Ok(Some(status)) = holder.try_wait() {
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut holder.stderr.take().unwrap(), &mut stderr).unwrap();
        panic!("the holder ended ({status:?}): {stderr}");
    }
    let refused = printed(ws.cmd(&["stats"]).output().unwrap());
    assert_eq!(refused.code, Some(2), "{refused:?}");
    assert!(refused.stderr.contains("in use by another process"), "{refused:?}");
    assert!(refused.stderr.contains("does not answer"), "{refused:?}");
    drop(holder.stdin.take());
    assert!(holder.wait().unwrap().success());
}
