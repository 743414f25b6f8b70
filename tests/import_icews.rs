//! `diplograph import icews` on the real ICEWS sample in ../shared/samples (two days of
//! 2018, read in place), driven through the real binary; hostile rows are real rows
//! damaged by the test.

mod common;

use std::path::{Path, PathBuf};

use common::Workspace;
use serde_json::Value;

/// A sample file in `../shared/samples` beside the repository (a worktree under
/// `wt/NAME` finds it two levels up). A missing sample fails the test.
fn sample(name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates = [root.join("../shared/samples"), root.join("../../shared/samples")];
    let dir = candidates
        .iter()
        .find(|dir| dir.join("SOURCES.md").exists())
        .unwrap_or_else(|| panic!("the samples are missing: expected ../shared/samples beside {}", root.display()));
    dir.join(name)
}

const ICEWS: &str = "icews_events.2018.sample.tab";

fn s(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn query(ws: &Workspace, cypher: &str) -> Vec<Value> {
    let output = ws.cmd(&["query", cypher, "--format", "json"]).output().expect("run query");
    assert!(output.status.success(), "query failed: {}", stderr(&output));
    match serde_json::from_slice(&output.stdout).expect("query prints JSON") {
        Value::Array(rows) => rows,
        other => panic!("expected rows, got {other}"),
    }
}

/// The header and the rows of the sample whose Event ID is one of `ids`.
fn header_and_rows(ids: &[&str]) -> (String, Vec<String>) {
    let text = std::fs::read_to_string(sample(ICEWS)).expect("read sample");
    let mut lines = text.lines();
    let header = lines.next().expect("header").to_string();
    let rows = lines.filter(|l| ids.iter().any(|id| l.split('\t').next() == Some(id))).map(str::to_string).collect();
    (header, rows)
}

fn with_column(row: &str, column: usize, value: &str) -> String {
    let mut cols: Vec<&str> = row.split('\t').collect();
    cols[column] = value;
    cols.join("\t")
}

#[test]
fn a_visit_and_its_host_row_become_one_visit_reported_by_the_story() {
    let ws = Workspace::new();
    let output = ws.cmd(&["import", "icews", s(&sample(ICEWS))]).output().expect("run import");
    assert!(output.status.success(), "{}", stderr(&output));
    // 32890039: Peter Hain (United Kingdom) 042 Zimbabwe; 32890041: Zimbabwe 043 Peter Hain;
    // story 47400671, sentence 1, The Mercury; location Country Zimbabwe, no city.
    let rows = query(
        &ws,
        "MATCH (v:Visit)-[:VISITOR]->(p:Person {name: 'Peter Hain'})-[:REPRESENTS]->(c:Country), (v)-[:HOST]->(h),
               (v)-[:DESTINATION]->(d), (v)-[r:REPORTED_IN]->(a:Article)
         RETURN c.name AS country, h.name AS host, labels(d) AS kind, d.name AS destination, v.date AS date,
                a.id AS article, a.outlet AS outlet, r.according_to AS coder, r.evidence AS evidence, v.source_ids AS ids",
    );
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    assert_eq!(row["country"], "United Kingdom");
    assert_eq!(row["host"], "Zimbabwe");
    assert_eq!(row["kind"], serde_json::json!(["Country"]));
    assert_eq!(row["destination"], "Zimbabwe");
    assert_eq!(row["date"], "2018-06-01");
    assert_eq!(row["article"], "icews:story:47400671");
    assert_eq!(row["outlet"], "The Mercury");
    assert_eq!(row["coder"], "ICEWS");
    assert_eq!(row["ids"], serde_json::json!(["icews:32890039:2018-06-01", "icews:32890041:2018-06-01"]));
    let evidence = row["evidence"].as_str().expect("evidence");
    assert!(evidence.contains("ICEWS event 32890039, CAMEO 042 (Make a visit), sentence 1"), "{evidence}");
}

#[test]
fn generic_agents_of_state_organs_stand_for_their_country_and_mirrored_meetings_fold() {
    let ws = Workspace::new();
    // 32889836 and 32889837: "Foreign Affairs (Bangladesh)" and "High Ranking Military
    // Personnel (Vietnam)" consult each other, story 47400351 sentence 2, in Hanoi.
    let (header, rows) = header_and_rows(&["32889836", "32889837"]);
    let file = ws.write("two.tab", &format!("{header}\n{}\n{}\n", rows[0], rows[1]));
    let output = ws.cmd(&["import", "icews", s(&file)]).output().expect("run import");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("rows: 2 read, 1 kept, 1 folded"), "{}", stderr(&output));
    let rows = query(
        &ws,
        "MATCH (m:Meeting)-[:PARTICIPANT]->(c:Country), (m)-[:PLACE]->(p:Place)-[:LOCATED_IN]->(pc:Country),
               (m)-[:REPORTED_IN]->(a:Article)
         RETURN c.name AS country, p.name AS place, pc.name AS located, a.outlet AS outlet ORDER BY country",
    );
    let countries: Vec<&str> = rows.iter().map(|r| r["country"].as_str().expect("name")).collect();
    assert_eq!(countries, ["Bangladesh", "Vietnam"]);
    assert_eq!(rows[0]["place"], "Hanoi, Thanh Pho Ha Noi, Vietnam");
    assert_eq!(rows[0]["located"], "Vietnam");
    assert_eq!(rows[0]["outlet"], "Vietnam News Agency Bulletin");
}

#[test]
fn bad_codes_dates_ids_and_duplicates_are_handled_row_by_row() {
    let ws = Workspace::new();
    let (header, rows) = header_and_rows(&["32890039", "32890041", "32891240", "32891246"]);
    let (hain, zimbabwe, kim, host) = (&rows[0], &rows[1], &rows[2], &rows[3]);
    let lines = [
        hain.clone(),                                            // 2: kept
        with_column(kim, 6, "13y"),                              // 3: the known bad code
        with_column(kim, 6, "NA"),                               // 4: missing code
        with_column(kim, 1, "2018-13-01"),                       // 5: bad date
        with_column(kim, 0, "32891240a"),                        // 6: non-numeric id
        kim.split('\t').take(12).collect::<Vec<_>>().join("\t"), // 7: too few columns
        with_column(kim, 1, "6/1/2018"),                         // 8: the 2017 file's date form: kept
        with_column(kim, 13, "Xinhua (again)"),                  // 9: same (Event ID, Event Date): folded
        hain.clone(),                                            // 10: exact duplicate: folded
        zimbabwe.clone(),                                        // 11: mirrored 043: folded into row 2
        host.clone(),                                            // 12: mirrored 043 of row 8: folded
    ];
    let file = ws.write("hostile.tab", &format!("{header}\n{}\n", lines.join("\n")));
    let rejects = ws.path("rejects.tab");
    let output = ws.cmd(&["import", "icews", s(&file), "--rejects", s(&rejects)]).output().expect("run import");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let err = stderr(&output);
    let name = s(&file);
    for expected in [
        format!("{name}:3: CAMEO Code: '13y' is not a CAMEO code (2 to 4 digits)"),
        format!("{name}:4: CAMEO Code: missing"),
        format!("{name}:5: Event Date: '2018-13-01': month 13 does not exist"),
        format!("{name}:6: Event ID: '32891240a' is not a number"),
        format!("{name}:7: row: 12 columns"),
    ] {
        assert!(err.contains(&expected), "missing `{expected}` in:\n{err}");
    }
    assert!(
        err.contains("rows: 11 read, 2 kept, 4 folded, 0 dropped as out of scope, 0 incomplete, 5 rejected"),
        "{err}"
    );
    let kept = std::fs::read_to_string(&rejects).expect("read rejects");
    assert_eq!(kept.lines().collect::<Vec<_>>(), lines[1..6].iter().map(String::as_str).collect::<Vec<_>>());
    let rows = query(&ws, "MATCH (v:Visit)-[:VISITOR]->(p:Person) RETURN p.name AS p, v.date AS d ORDER BY p");
    assert_eq!(
        rows,
        vec![
            serde_json::json!({"p": "Kim Yong-chol", "d": "2018-06-01"}),
            serde_json::json!({"p": "Peter Hain", "d": "2018-06-01"}),
        ]
    );
}

#[test]
fn a_file_without_the_cameo_code_column_is_refused_whole() {
    let ws = Workspace::new();
    let (header, rows) = header_and_rows(&["32890039"]);
    let drop_column = |line: &str| {
        let mut cols: Vec<&str> = line.split('\t').collect();
        cols.remove(6);
        cols.join("\t")
    };
    let file = ws.write("2017-style.tab", &format!("{}\n{}\n", drop_column(&header), drop_column(&rows[0])));
    let output = ws.cmd(&["import", "icews", s(&file)]).output().expect("run import");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("the header has no 'CAMEO Code' column"), "{}", stderr(&output));
    assert!(stderr(&output).contains("nothing was stored"), "{}", stderr(&output));
}

#[test]
fn reimporting_the_icews_sample_changes_nothing() {
    let ws = Workspace::new();
    assert!(ws.cmd(&["import", "icews", s(&sample(ICEWS))]).output().expect("run").status.success());
    let first = ws.stats();
    let again = ws.cmd(&["import", "icews", s(&sample(ICEWS))]).output().expect("run");
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stderr(&again).contains("articles: 0 added"), "{}", stderr(&again));
    assert_eq!(ws.stats(), first);
    let check = ws.cmd(&["check"]).output().expect("run check");
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
}

#[test]
fn a_story_redelivered_with_a_correction_replaces_what_it_contributed() {
    let ws = Workspace::new();
    // Story 47400718: Kim Yong-chol visits the United States in New York City (32891240 and
    // its mirrored 043, 32891246).
    let (header, rows) = header_and_rows(&["32891240", "32891246"]);
    let first = ws.write("weekly.tab", &format!("{header}\n{}\n{}\n", rows[0], rows[1]));
    assert!(ws.cmd(&["import", "icews", s(&first)]).output().expect("run").status.success());
    // The yearly file re-delivers the story with the city corrected to Washington.
    let fix = |row: &str| with_column(&with_column(row, 14, "Washington"), 16, "District of Columbia");
    let corrected = ws.write("yearly.tab", &format!("{header}\n{}\n{}\n", fix(&rows[0]), fix(&rows[1])));
    let output = ws.cmd(&["import", "icews", s(&corrected)]).output().expect("run");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("articles: 0 added, 1 replaced"), "{}", stderr(&output));
    let rows = query(&ws, "MATCH (v:Visit)-[:DESTINATION]->(d) RETURN d.name AS d");
    assert_eq!(rows, vec![serde_json::json!({"d": "Washington, District of Columbia, United States"})]);
    assert_eq!(ws.stats()["nodes"]["Visit"], 1);
    let check = ws.cmd(&["check"]).output().expect("run check");
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
}
