//! `diplograph analyze` through the real binary on the example batch: each subcommand,
//! the three output formats, and flag errors that name the flag (exit status 2).

mod common;

use common::{Workspace, EXAMPLE};

fn example() -> Workspace {
    let ws = Workspace::new();
    let output = ws.ingest(std::path::Path::new(EXAMPLE));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    ws
}

fn stdout(ws: &Workspace, args: &[&str]) -> String {
    let output = ws.cmd(args).output().expect("run diplograph");
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("utf-8")
}

fn failure(ws: &Workspace, args: &[&str]) -> String {
    let output = ws.cmd(args).output().expect("run diplograph");
    assert_eq!(output.status.code(), Some(2), "{args:?} should fail");
    String::from_utf8(output.stderr).expect("utf-8")
}

#[test]
fn pagerank_ranks_putin_first_in_every_format() {
    let ws = example();
    let csv = stdout(&ws, &["analyze", "pagerank", "--format", "csv"]);
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("name,id,score"));
    assert!(lines.next().is_some_and(|l| l.starts_with("Vladimir Putin,person:vladimir-putin,0.46")), "{csv}");
    assert_eq!(csv.lines().count(), 5, "four persons: {csv}");
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&ws, &["analyze", "pagerank", "--format", "json", "--limit", "2"])).expect("json");
    assert_eq!(json.as_array().map(Vec::len), Some(2));
    assert_eq!(json[0]["name"], "Vladimir Putin");
    let table = stdout(&ws, &["analyze", "pagerank", "--level", "country"]);
    assert!(table.contains("North Korea") && table.contains("Russia") && table.contains("2 rows"), "{table}");
}

#[test]
fn each_analysis_runs_with_the_projection_flags() {
    let ws = example();
    let betweenness = stdout(&ws, &["analyze", "betweenness", "--format", "csv"]);
    assert!(betweenness.contains("Vladimir Putin,person:vladimir-putin,0.333"), "{betweenness}");
    let communities = stdout(&ws, &["analyze", "communities", "--format", "csv"]);
    assert!(communities.starts_with("community,name,id,modularity\n"), "{communities}");
    let brokers = stdout(&ws, &["analyze", "brokers", "--format", "csv"]);
    assert!(
        brokers.lines().nth(1).is_some_and(|l| l.starts_with("Vladimir Putin,person:vladimir-putin,true")),
        "{brokers}"
    );
    let dyads = stdout(&ws, &["analyze", "dyads", "--period", "year", "--format", "csv", "--event-types", "Meeting"]);
    assert!(dyads.contains("Vladimir Putin,Kim Jong Un,2023,"), "{dyads}");
    let drift = stdout(&ws, &["analyze", "drift", "--before", "2019,2019", "--after", "2023,2024", "--format", "csv"]);
    assert!(drift.contains("Vladimir Putin,Kim Jong Un,1.0,8.0,7.0"), "{drift}");
    let ties = stdout(&ws, &["analyze", "ties", "--directed", "--event-types", "gift", "--format", "csv"]);
    assert!(ties.starts_with("source,target,weight,source_name,target_name\n"), "{ties}");
    assert!(ties.lines().skip(1).all(|l| l.split(',').nth(2).is_some_and(|w| w.parse::<f64>().is_ok())), "{ties}");
    let window = stdout(&ws, &["analyze", "ties", "--from", "2030", "--format", "csv"]);
    assert_eq!(window, "source,target,weight,source_name,target_name\n", "no event after 2030");
}

#[test]
fn bad_flags_are_refused_naming_the_flag() {
    let ws = example();
    assert!(failure(&ws, &["analyze", "pagerank", "--event-types", "Vist"])
        .contains("--event-types: unknown event type 'Vist'"));
    assert!(failure(&ws, &["analyze", "pagerank", "--level", "city"]).contains("--level: expected 'person', 'country'"));
    assert!(
        failure(&ws, &["analyze", "pagerank", "--damping", "3"]).contains("--damping: expected a number from 0 to 1")
    );
    assert!(failure(&ws, &["analyze", "pagerank", "--from", "yesterday"]).contains("--from: expected a date"));
    assert!(failure(&ws, &["analyze", "pagerank", "--weight", "heavy"]).contains("--weight: expected 'events'"));
    assert!(failure(&ws, &["analyze", "drift", "--before", "2019", "--after", "2023,2024"])
        .contains("--before: expected [from, to]"));
    let missing = Workspace::new();
    assert!(failure(&missing, &["analyze", "pagerank"]).contains("no store"), "a missing store is an error");
}
