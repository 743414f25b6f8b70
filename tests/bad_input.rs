//! The bad-input corpus: every kind of broken record in one file, between valid ones. Each
//! rejected record is named with its line and field; every valid record of the file lands.

mod common;

use common::{article, Workspace};

/// (expected `FILE:LINE: field` prefix, or None for a record that must be stored, the line).
fn corpus() -> Vec<(Option<&'static str>, String)> {
    let meeting = r#"{"type":"meeting","participants":["Anna Lindh","Colin Powell"]}"#;
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let big = "x".repeat(1 << 20);
    vec![
        (None, article("ok-1", "", meeting)),
        (Some("record: not valid JSON"), r#"{"article": {"id": "t1", "published": "2024"#.to_string()),
        (Some("record: not valid JSON"), "{not json at all".to_string()),
        (Some("article.id: expected a string"), r#"{"article":{"id":7,"published":"2024"}}"#.to_string()),
        (Some("article.id: required"), r#"{"article":{"published":"2024"}}"#.to_string()),
        (Some("article.published: required"), r#"{"article":{"id":"x"}}"#.to_string()),
        (
            Some("facts[0].date: '2023-13-45'"),
            article("d", "", r#"{"type":"visit","visitor":"A B","destination":"Oslo","date":"2023-13-45"}"#),
        ),
        (Some("facts[0].type: unknown event type 'dinner'"), article("t", "", r#"{"type":"dinner"}"#)),
        (
            Some("facts[0].hosts: not a field of a visit fact"),
            article("r", "", r#"{"type":"visit","visitor":"A B","destination":"Oslo","hosts":"C"}"#),
        ),
        (
            Some("entities[0].name: must not be blank"),
            article("n", r#"{"ref":"a","kind":"Person","name":"  "}"#, meeting),
        ),
        (
            Some("facts[0].items: required"),
            article("i", "", r#"{"type":"gift","giver":"A B","recipient":"C D","items":[]}"#),
        ),
        (Some("facts[0].participants: expected a string"), article("w", "", r#"{"type":"meeting","participants":42}"#)),
        (
            Some("entities[0].kind: unknown kind 'Animal'"),
            article("k", r#"{"ref":"a","kind":"Animal","name":"Rex"}"#, meeting),
        ),
        (Some("record: raw control character 0x00"), article("nul", "", meeting).replace("Anna", "An\u{0}na")),
        (Some("record: not valid JSON"), format!(r#"{{"article":{{"id":"deep","published":"2024"}},"facts":{deep}}}"#)),
        (
            None,
            article(
                "big",
                "",
                &format!(r#"{{"type":"meeting","participants":["Anna Lindh","Colin Powell"],"evidence":"{big}"}}"#),
            ),
        ),
        (None, article("ok-1", "", r#"{"type":"meeting","participants":["Anna Lindh","Jack Straw"]}"#)),
        (None, article("ok-2", "", meeting)),
    ]
}

#[test]
fn every_bad_record_is_named_by_line_and_field_and_the_good_ones_land() {
    let ws = Workspace::new();
    let cases = corpus();
    let mut bytes = Vec::new();
    for (_, line) in &cases {
        bytes.extend_from_slice(line.as_bytes());
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(b"{\"article\":{\"id\":\"bad-utf8\",\"published\":\"2024\",\"title\":\"\xff\"}}\n");
    let path = ws.path("corpus.jsonl");
    std::fs::write(&path, &bytes).unwrap();
    let output = ws.ingest(&path);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    for (i, (expected, _)) in cases.iter().enumerate() {
        let line = i + 1;
        let prefix = format!("corpus.jsonl:{line}: ");
        match expected {
            Some(message) => assert!(
                stderr.lines().any(|l| l.contains(&prefix) && l.contains(message)),
                "line {line} should be rejected with '{message}':\n{stderr}"
            ),
            None => assert!(!stderr.lines().any(|l| l.contains(&prefix)), "line {line} should be stored:\n{stderr}"),
        }
    }
    let utf8_line = cases.len() + 1;
    assert!(stderr.contains(&format!("corpus.jsonl:{utf8_line}: record: invalid UTF-8")), "{stderr}");
    assert!(stderr.contains(&format!("{} rejected", cases.iter().filter(|c| c.0.is_some()).count() + 1)), "{stderr}");
    let stats = ws.stats();
    // ok-1 (stored twice: the later version replaces the earlier), big, ok-2.
    assert_eq!(stats["nodes"]["Article"], 3);
    ws.cmd(&[
        "query",
        "MATCH (:Article {id: 'ok-1'})<-[:REPORTED_IN]-(m)-[:PARTICIPANT]->(p) RETURN p.name AS name ORDER BY name",
        "--format",
        "csv",
    ])
    .assert()
    .code(0)
    .stdout("name\nAnna Lindh\nJack Straw\n");
    assert_eq!(stats["nodes"]["Meeting"], 2, "ok-1's first meeting is gone with its replacement");
}
