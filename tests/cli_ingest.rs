//! The core contract through the real binary: ingest, identity and merging, re-ingest,
//! remove, rejects with positions, stats, entities, show and store errors.

mod common;

use common::{article, Workspace, EXAMPLE};
use predicates::prelude::*;
use serde_json::json;

#[test]
fn the_example_batch_builds_the_expected_graph() {
    let ws = Workspace::new();
    let output = ws.ingest(EXAMPLE.as_ref());
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("articles: 4 added"), "summary line: {stderr}");
    let stats = ws.stats();
    assert_eq!(stats["nodes"]["Event"], 21);
    assert_eq!(stats["nodes"]["Meeting"], 4);
    assert_eq!(stats["nodes"]["Gift"], 4);
    assert_eq!(stats["nodes"]["Visit"], 9);
    assert_eq!(stats["nodes"]["Invitation"], 4);
    assert_eq!(stats["nodes"]["Article"], 4);
    assert_eq!(stats["edges"]["REPORTED_IN"], 28);
    assert_eq!(stats["total_nodes"], 46);
    assert_eq!(stats["edges"]["FULFILLED_BY"], 2, "derived: two accepted invitations were taken up");
    assert_eq!(stats["total_edges"], 103);
}

#[test]
fn rerunning_a_batch_changes_nothing() {
    let ws = Workspace::new();
    ws.ingest(EXAMPLE.as_ref());
    let first = ws.stats();
    let output = ws.ingest(EXAMPLE.as_ref());
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(ws.stats(), first);
}

#[test]
fn a_json_array_file_and_stdin_give_the_same_graph_as_json_lines() {
    let lines = std::fs::read_to_string(EXAMPLE).unwrap();
    let records: Vec<&str> = lines.lines().filter(|l| !l.trim().is_empty()).collect();
    let jsonl = Workspace::new();
    jsonl.ingest(EXAMPLE.as_ref());
    let array = Workspace::new();
    let path = array.write("batch.json", &format!("[\n{}\n]\n", records.join(",\n")));
    assert_eq!(array.ingest(&path).status.code(), Some(0));
    assert_eq!(array.stats(), jsonl.stats());
    let stdin = Workspace::new();
    stdin.cmd(&["ingest", "-"]).write_stdin(lines.clone()).assert().code(0);
    assert_eq!(stdin.stats(), jsonl.stats());
}

#[test]
fn spelling_variants_resolve_to_one_entity_and_one_event() {
    let ws = Workspace::new();
    let a = article(
        "a1",
        r#"{"ref":"k","kind":"Person","name":"Kim Jong Un","country":"North Korea"},{"ref":"p","kind":"Person","name":"Vladimir Putin","aliases":["Putin"]}"#,
        r#"{"type":"meeting","participants":["k","p"],"date":"2023-09-13","evidence":"met"}"#,
    );
    let b = article(
        "a2",
        "",
        r#"{"type":"meeting","participants":["PUTIN","kim  jong-un"],"date":"2023-09-13","status":"occurred"}"#,
    );
    let path = ws.write("batch.jsonl", &format!("{a}\n{b}\n"));
    assert_eq!(ws.ingest(&path).status.code(), Some(0));
    let stats = ws.stats();
    assert_eq!(stats["nodes"]["Person"], 2);
    assert_eq!(stats["nodes"]["Meeting"], 1);
    assert_eq!(stats["edges"]["REPORTED_IN"], 2);
    assert_eq!(stats["edges"]["REPRESENTS"], 1);
}

#[test]
fn a_different_date_precision_is_a_different_event() {
    let ws = Workspace::new();
    let a = article("a1", "", r#"{"type":"visit","visitor":"Lavrov","destination":"Pyongyang","date":"2023-10"}"#);
    let b = article("a2", "", r#"{"type":"visit","visitor":"Lavrov","destination":"Pyongyang","date":"2023-10-18"}"#);
    let path = ws.write("batch.jsonl", &format!("{a}\n{b}\n"));
    ws.ingest(&path);
    assert_eq!(ws.stats()["nodes"]["Visit"], 2);
}

#[test]
fn invalid_records_are_reported_with_file_line_and_field_and_the_rest_land() {
    let ws = Workspace::new();
    let good =
        article("good", "", r#"{"type":"gift","giver":"Kim Jong Un","recipient":"Vladimir Putin","items":["rifle"]}"#);
    let bad = article("bad", "", r#"{"type":"meeting","participants":["Kim Jong Un"]}"#);
    let path = ws.write("batch.jsonl", &format!("{good}\n\n{bad}\nnot json\n"));
    let rejects = ws.path("rejects.jsonl");
    ws.cmd(&["ingest", path.to_str().unwrap(), "--rejects", rejects.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("batch.jsonl:3: facts[0].participants:"))
        .stderr(predicate::str::contains("batch.jsonl:4: record: not valid JSON"))
        .stderr(predicate::str::contains("2 rejected"));
    assert_eq!(std::fs::read_to_string(&rejects).unwrap(), format!("{bad}\nnot json\n"));
    assert_eq!(ws.stats()["nodes"]["Gift"], 1);
}

#[test]
fn an_ambiguous_name_rejects_the_record_and_lists_the_candidates() {
    let ws = Workspace::new();
    let a = article(
        "a1",
        r#"{"ref":"a","kind":"Person","name":"Kim Jong Un","aliases":["Chairman Kim"]},{"ref":"b","kind":"Person","name":"Kim Jong Il","aliases":["Chairman Kim"]}"#,
        r#"{"type":"meeting","participants":["a","b"]}"#,
    );
    let b = article("a2", "", r#"{"type":"gift","giver":"Chairman Kim","recipient":"Putin","items":["rifle"]}"#);
    let path = ws.write("batch.jsonl", &format!("{a}\n{b}\n"));
    ws.cmd(&["ingest", path.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("batch.jsonl:2: facts[0].giver: 'Chairman Kim' is ambiguous"))
        .stderr(predicate::str::contains("person:kim-jong-un"))
        .stderr(predicate::str::contains("person:kim-jong-il"));
    assert_eq!(ws.stats()["nodes"].get("Gift"), None);
}

#[test]
fn reingesting_an_article_replaces_what_it_contributed() {
    let ws = Workspace::new();
    let v1 = article("a1", "", r#"{"type":"meeting","participants":["A B","C D"],"date":"2020"}"#);
    let v2 = article("a1", "", r#"{"type":"meeting","participants":["A B","E F"],"date":"2020"}"#);
    let path = ws.write("batch.jsonl", &format!("{v1}\n{v2}\n"));
    ws.cmd(&["ingest", path.to_str().unwrap()]).assert().code(0);
    let stats = ws.stats();
    assert_eq!(stats["nodes"]["Meeting"], 1);
    assert_eq!(stats["nodes"]["Article"], 1);
    assert_eq!(stats["edges"]["PARTICIPANT"], 2);
    ws.cmd(&["show", "person:e-f"]).assert().code(0).stdout(predicate::str::contains("PARTICIPANT"));
}

#[test]
fn remove_takes_an_article_and_the_events_only_it_reported() {
    let ws = Workspace::new();
    ws.ingest(EXAMPLE.as_ref());
    ws.cmd(&["remove", "themoscowtimes-2023-09-14-putin-kim-rifles"]).assert().code(0);
    let stats = ws.stats();
    assert_eq!(stats["nodes"]["Event"], 20);
    assert_eq!(stats["edges"]["REPORTED_IN"], 23);
    ws.cmd(&["remove", "no-such-article"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no article with id 'no-such-article'"));
}

#[test]
fn entities_shows_how_a_spelling_resolves() {
    let ws = Workspace::new();
    ws.ingest(EXAMPLE.as_ref());
    let output = ws.cmd(&["entities", "KIM JONG-UN", "--format", "json"]).output().unwrap();
    assert!(output.status.success());
    let found: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(found[0]["id"], "person:kim-jong-un");
    assert_eq!(found[0]["kind"], "Person");
    assert!(found[0]["events"].as_u64().unwrap() > 5);
    ws.cmd(&["entities", "Nobody Here"]).assert().code(1).stderr(predicate::str::contains("no entity is named"));
}

#[test]
fn show_prints_an_event_with_its_provenance() {
    let ws = Workspace::new();
    let a = article(
        "a1",
        "",
        r#"{"type":"gift","giver":"Kim Jong Un","recipient":"Vladimir Putin","items":["rifle"],"date":"2023-09-13","according_to":"Dmitry Peskov","evidence":"Kim memberi Putin senjata"}"#,
    );
    let path = ws.write("batch.jsonl", &format!("{a}\n"));
    ws.ingest(&path);
    let output = ws.cmd(&["show", "person:kim-jong-un", "--format", "json"]).output().unwrap();
    let person: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let gift_id = person[0]["edges"][0]["node"].as_str().unwrap().to_string();
    assert!(gift_id.starts_with("gift:2023-09-13:"));
    let output = ws.cmd(&["show", &gift_id, "--format", "json"]).output().unwrap();
    let gift: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(gift[0]["labels"], json!(["Event", "Gift"]));
    let report = gift[0]["edges"].as_array().unwrap().iter().find(|e| e["type"] == "REPORTED_IN").unwrap();
    assert_eq!(report["node"], "a1");
    assert_eq!(report["properties"]["according_to"], "Dmitry Peskov");
    assert_eq!(report["properties"]["evidence"], "Kim memberi Putin senjata");
}

#[test]
fn a_plain_name_that_looks_like_a_ref_is_stored_with_a_warning() {
    let ws = Workspace::new();
    let a = article("a1", "", r#"{"type":"meeting","participants":["yoon_sk","Joe Biden"]}"#);
    let path = ws.write("batch.jsonl", &format!("{a}\n"));
    ws.cmd(&["ingest", path.to_str().unwrap()])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("batch.jsonl:1: warning: facts[0].participants[0]: 'yoon_sk' is not a ref"));
    assert_eq!(ws.stats()["nodes"]["Meeting"], 1);
}

#[test]
fn bom_crlf_and_bad_utf8_lines_are_handled_per_record() {
    let ws = Workspace::new();
    let good = article("a1", "", r#"{"type":"visit","visitor":"A B","destination":"Seoul"}"#);
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(good.as_bytes());
    bytes.extend_from_slice(b"\r\n{\"article\":{\"id\":\"x\xff\"}}\r\n");
    let path = ws.path("batch.jsonl");
    std::fs::write(&path, bytes).unwrap();
    ws.cmd(&["ingest", path.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("batch.jsonl:2: record: invalid UTF-8"));
    assert_eq!(ws.stats()["nodes"]["Visit"], 1);
}

#[test]
fn store_errors_are_clear_and_exit_2() {
    let ws = Workspace::new();
    ws.cmd(&["stats"]).assert().code(2).stderr(predicate::str::contains("no store at"));
    ws.cmd(&["ingest", "missing.jsonl"]).assert().code(2).stderr(predicate::str::contains("missing.jsonl"));
    ws.cmd(&["frobnicate"]).assert().code(2);
}

#[test]
fn a_second_process_gets_an_in_use_error() {
    let ws = Workspace::new();
    ws.ingest(EXAMPLE.as_ref());
    let store = diplograph::store::Store::open(&ws.db(), diplograph::store::OpenMode::MustExist).unwrap();
    ws.cmd(&["stats"]).assert().code(2).stderr(predicate::str::contains("in use by another process"));
    drop(store);
    ws.cmd(&["stats"]).assert().code(0);
}

#[test]
fn a_store_of_another_format_version_is_refused() {
    let ws = Workspace::new();
    ws.ingest(EXAMPLE.as_ref());
    {
        let db = sled::open(ws.db()).unwrap();
        db.insert(b"\x01version", &99u64.to_be_bytes()).unwrap();
        db.flush().unwrap();
    }
    ws.cmd(&["stats"]).assert().code(2).stderr(predicate::str::contains("format version 99"));
}

#[test]
fn the_store_path_comes_from_the_environment_when_no_flag_is_given() {
    let ws = Workspace::new();
    let mut cmd = assert_cmd::Command::cargo_bin("diplograph").unwrap();
    cmd.current_dir(ws.dir.path()).env("DIPLOGRAPH_DB", ws.path("env.db")).args(["ingest", EXAMPLE]).assert().code(0);
    assert!(ws.path("env.db").join("conf").exists());
}

#[test]
fn a_compressed_store_holds_the_same_graph_and_keeps_its_setting() {
    let (plain, compressed) = (Workspace::new(), Workspace::new());
    plain.ingest(EXAMPLE.as_ref());
    let output = compressed.cmd(&["ingest", "--compress", EXAMPLE]).output().expect("run ingest");
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let conf = String::from_utf8_lossy(&std::fs::read(compressed.db().join("conf")).expect("sled conf")).into_owned();
    assert!(conf.contains("use_compression: true"), "{conf}");
    assert_eq!(compressed.stats(), plain.stats());
    // Later commands open it without the flag; re-ingesting changes nothing.
    assert_eq!(compressed.ingest(EXAMPLE.as_ref()).status.code(), Some(0));
    assert_eq!(compressed.stats(), plain.stats());
    compressed.cmd(&["check"]).assert().success().stdout(predicate::str::starts_with("ok: 46 nodes, 103 edges"));
}
