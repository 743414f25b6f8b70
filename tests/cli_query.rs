//! `query` and `shell` through the real binary: formats, parameters, plans, timing,
//! errors with carets, refused writes, exit codes.

mod common;

use common::{Workspace, EXAMPLE};
use predicates::prelude::*;

fn example() -> Workspace {
    let ws = Workspace::new();
    assert_eq!(ws.ingest(EXAMPLE.as_ref()).status.code(), Some(0));
    ws
}

#[test]
fn who_gave_what_to_whom_as_json_rows_keyed_by_column() {
    let ws = example();
    let output = ws
        .cmd(&[
            "query",
            "-f",
            concat!(env!("CARGO_MANIFEST_DIR"), "/examples/who-gave-what.cypher"),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let rows: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 7);
    assert_eq!(rows[0]["giver"], "Kim Jong Un");
    assert_eq!(rows[0]["item"], "North Korean-made rifle");
    assert_eq!(rows[0]["recipient"], "Vladimir Putin");
}

#[test]
fn parameters_take_json_values_or_plain_strings() {
    let ws = example();
    ws.cmd(&[
        "query",
        "UNWIND $names AS n MATCH (p:Person {name: n}) RETURN p.id AS id, $limit AS l ORDER BY id",
        "--param",
        r#"names=["Kim Jong Un", "Vladimir Putin"]"#,
        "--param",
        "limit=2",
        "--format",
        "csv",
    ])
    .assert()
    .code(0)
    .stdout("id,l\nperson:kim-jong-un,2\nperson:vladimir-putin,2\n");
    ws.cmd(&["query", "MATCH (p:Person {name: $who}) RETURN p.id", "--param", "who=Sergei Lavrov", "--format", "csv"])
        .assert()
        .code(0)
        .stdout("p.id\nperson:sergei-lavrov\n");
}

#[test]
fn nodes_print_as_json_objects_with_id_labels_and_properties() {
    let ws = example();
    let output =
        ws.cmd(&["query", "MATCH (c:Country {name: 'Russia'}) RETURN c", "--format", "json"]).output().unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(rows[0]["c"]["id"], "country:russia");
    assert_eq!(rows[0]["c"]["labels"], serde_json::json!(["Country"]));
    assert_eq!(rows[0]["c"]["properties"]["name"], "Russia");
}

#[test]
fn a_syntax_error_shows_line_column_and_a_caret_and_exits_2() {
    let ws = example();
    ws.cmd(&["query", "MATCH (a:Person\nRETURN a"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("line 2, column 1"))
        .stderr(predicate::str::contains("RETURN a\n  ^"));
}

#[test]
fn an_unknown_variable_or_function_is_named() {
    let ws = example();
    ws.cmd(&["query", "MATCH (a) RETURN b"]).assert().code(2).stderr(predicate::str::contains("'b'"));
    ws.cmd(&["query", "RETURN frobnicate(1)"]).assert().code(2).stderr(predicate::str::contains("frobnicate"));
}

#[test]
fn write_clauses_are_refused_and_the_store_is_unchanged() {
    let ws = example();
    let before = ws.stats();
    ws.cmd(&["query", "CREATE (:Person {name: 'X'})"]).assert().code(2).stderr(predicate::str::contains("read-only"));
    ws.cmd(&["query", "MATCH (n) DETACH DELETE n"]).assert().code(2);
    assert_eq!(ws.stats(), before);
}

#[test]
fn explain_shows_an_index_anchor_and_timing_goes_to_stderr() {
    let ws = example();
    ws.cmd(&["query", "MATCH (g:Gift)-[:GIVER]->(p:Person {name: $n}) RETURN g.id", "--explain"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("NodeByName p:Person"));
    ws.cmd(&["query", "MATCH (n:Event) RETURN count(*) AS n", "--timing", "--format", "csv"])
        .assert()
        .code(0)
        .stdout("n\n21\n")
        .stderr(predicate::str::contains("parse+plan:").and(predicate::str::contains("execute:")));
}

#[test]
fn a_runaway_query_times_out_with_a_clear_error() {
    let ws = example();
    ws.cmd(&["query", "MATCH (a)-[*]-(b), (c), (d), (e) RETURN count(*)", "--timeout", "0.5"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("time"));
    ws.cmd(&["stats"]).assert().code(0);
}

#[test]
fn the_query_can_come_from_stdin() {
    let ws = example();
    ws.cmd(&["query", "--format", "csv"])
        .write_stdin("MATCH (a:Article) RETURN count(a) AS articles")
        .assert()
        .code(0)
        .stdout("articles\n4\n");
}

#[test]
fn the_shell_runs_multi_line_statements_and_commands() {
    let ws = example();
    ws.cmd(&["shell"])
        .write_stdin(":format csv\nMATCH (p:Person)\nRETURN p.name AS name\nORDER BY name;\n:schema\nMATCH (n RETURN n;\n:quit\n")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("name\nKim Jong Il\nKim Jong Un\nSergei Lavrov\nVladimir Putin\n"))
        .stdout(predicate::str::contains("REPORTED_IN").and(predicate::str::contains("evidence (")))
        .stderr(predicate::str::contains("syntax error at line 1, column 10"));
}
