//! `diplograph import polecat` and `import plover-json`, through the real binary. No
//! POLECAT file ships with the samples (its terms forbid redistribution), so the POLECAT
//! rows here are written by the test in the documented 40-column layout
//! (../shared/samples/FORMATS.md §3); the PLOVER records are the real gold-standard file.

mod common;

use std::path::{Path, PathBuf};

use common::Workspace;
use serde_json::Value;

fn sample(name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates = [root.join("../shared/samples"), root.join("../../shared/samples")];
    let dir = candidates
        .iter()
        .find(|dir| dir.join("SOURCES.md").exists())
        .unwrap_or_else(|| panic!("the samples are missing: expected ../shared/samples beside {}", root.display()));
    dir.join(name)
}

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

/// The documented POLECAT header, with `Intensity` under its later name and two of the
/// extra columns some releases carry, in another order than the documented one.
const HEADER: [&str; 42] = [
    "Event ID",
    "Event Date",
    "Event Type",
    "Event Mode",
    "Event Intensity",
    "Quad Code",
    "Contexts",
    "Actor Name",
    "Actor Country",
    "Actor COW",
    "Primary Actor Sector",
    "Actor Sectors",
    "Actor Title",
    "Actor Name Raw",
    "Wikipedia Actor ID",
    "Recipient Name",
    "Recipient Country",
    "Recipient COW",
    "Primary Recipient Sector",
    "Recipient Sectors",
    "Recipient Title",
    "Recipient Name Raw",
    "Wikipedia Recipient ID",
    "Placename",
    "City",
    "District",
    "Province",
    "Country",
    "Latitude",
    "Longitude",
    "GeoNames ID",
    "Raw Placename",
    "Feature Type",
    "Source",
    "Publication Date",
    "Story People",
    "Story Organizations",
    "Story Locations",
    "Language",
    "Version",
    "Event Text",
    "Feed",
];

/// A row in the header's layout from (column, value) pairs; every other cell is `None`.
fn row(cells: &[(&str, &str)]) -> Vec<String> {
    HEADER
        .iter()
        .map(|column| cells.iter().find(|(c, _)| c == column).map_or("None".to_string(), |(_, v)| v.to_string()))
        .collect()
}

fn polecat_file(rows: &[Vec<u8>]) -> Vec<u8> {
    let mut file = HEADER.join("\t").into_bytes();
    file.push(b'\n');
    for row in rows {
        file.extend_from_slice(row);
        file.push(b'\n');
    }
    file
}

fn visit_row() -> Vec<String> {
    row(&[
        ("Event ID", "20230105-AFP-0012_CONSULT_visit"),
        ("Event Date", "2023-01-04"),
        ("Event Type", "CONSULT"),
        ("Event Mode", "visit"),
        ("Actor Name", "Olaf Scholz"),
        ("Actor Country", "DEU"),
        ("Primary Actor Sector", "GOV"),
        ("Recipient Name", "Emmanuel Macron"),
        ("Recipient Country", "FRA"),
        ("Primary Recipient Sector", "GOV"),
        ("Placename", "Paris"),
        ("City", "Paris"),
        ("Province", "Île-de-France"),
        ("Country", "FRA"),
        ("Source", "afp-en"),
        ("Publication Date", "2023-01-05"),
        ("Language", "en"),
    ])
}

#[test]
fn polecat_rows_are_bound_by_header_name_and_become_facts_of_their_story() {
    let ws = Workspace::new();
    let visit = visit_row().join("\t").into_bytes();
    let mut summit = row(&[
        ("Event ID", "20230106-DPA-0003_CONSULT_multilateral"),
        ("Event Date", "2023-02-01"),
        ("Event Type", "consult"),
        ("Event Mode", "multilateral"),
        ("Actor Name", "Olaf Scholz; \"Emmanuel Macron\";None"),
        ("Actor Country", "DEU"),
        ("Actor Name Raw", "Scholz; Macron; Meloni"),
        ("Placename", "Brussels"),
        ("Country", "BEL"),
        ("Source", "dpa-de"),
        ("Publication Date", "2023-01-06"),
        ("Language", "de"),
    ])
    .join("\t")
    .into_bytes();
    summit.extend_from_slice(b"\t\t\t"); // excess trailing tabs, as real releases have
    let mut raw_name = row(&[
        ("Event ID", "20230107-EFE-0100_CONSULT_visit"),
        ("Event Date", "2023-01-07"),
        ("Event Type", "CONSULT"),
        ("Event Mode", "visit"),
        ("Actor Name Raw", "Jos\u{e9} Manuel Albares"),
        ("Actor Country", "ESP"),
        ("Recipient Name", "Morocco"),
        ("Recipient Country", "MAR"),
        ("Country", "MAR"),
        ("Source", "efe-es"),
        ("Publication Date", "2023-01-07"),
    ])
    .join("\t")
    .into_bytes();
    // The file is Latin-1 here: "José" as the single byte 0xE9.
    let at = raw_name.windows(2).position(|w| w == "\u{e9}".as_bytes()).expect("é");
    raw_name.splice(at..at + 2, [0xE9]);
    let accuse = row(&[
        ("Event ID", "20230108-AFP-0001_ACCUSE_None"),
        ("Event Date", "2023-01-08"),
        ("Event Type", "ACCUSE"),
        ("Actor Name", "Olaf Scholz"),
        ("Actor Country", "DEU"),
        ("Publication Date", "2023-01-08"),
    ]);
    let agree = row(&[
        ("Event ID", "20230108-AFP-0002_AGREE_None"),
        ("Event Date", "2023-03-01"),
        ("Event Type", "AGREE"),
        ("Actor Name", "Olaf Scholz"),
        ("Actor Country", "DEU"),
        ("Publication Date", "2023-01-08"),
    ]);
    let mut extra = visit_row();
    extra[0] = "20230109-AFP-0001_CONSULT_visit".into();
    let mut extra = extra.join("\t").into_bytes();
    extra.extend_from_slice(b"\t\tstray");
    let mut bad_date = visit_row();
    bad_date[0] = "20230109-AFP-0002_CONSULT_visit".into();
    bad_date[1] = "2023-02-30".into();
    let file = polecat_file(&[
        visit.clone(),                    // 2: kept
        summit,                           // 3: kept, planned
        raw_name,                         // 4: kept (raw name, Latin-1)
        accuse.join("\t").into_bytes(),   // 5: dropped
        agree.join("\t").into_bytes(),    // 6: dropped
        extra,                            // 7: rejected
        bad_date.join("\t").into_bytes(), // 8: rejected
        visit,                            // 9: the same Event ID again: folded
    ]);
    let path = ws.path("ngecEvents.20230110.Release603.DV.txt");
    std::fs::write(&path, file).expect("write POLECAT file");
    let output = ws.cmd(&["import", "polecat", s(&path)]).output().expect("run import");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let err = stderr(&output);
    let name = s(&path);
    assert!(
        err.contains(&format!("{name}:7: row: 44 columns and the ones past the header's 42 are not empty")),
        "{err}"
    );
    assert!(err.contains(&format!("{name}:8: Event Date: '2023-02-30': day 30 does not exist")), "{err}");
    assert!(
        err.contains("rows: 8 read, 3 kept, 1 folded, 2 dropped as out of scope, 0 incomplete, 2 rejected"),
        "{err}"
    );

    let rows = query(
        &ws,
        "MATCH (v:Visit)-[:VISITOR]->(p:Person)-[:REPRESENTS]->(c:Country), (v)-[:HOST]->(h), (v)-[:DESTINATION]->(d),
               (v)-[:REPORTED_IN]->(a:Article)
         RETURN p.name AS visitor, c.name AS country, h.name AS host, d.name AS destination, v.date AS date,
                a.id AS article, a.outlet AS outlet, a.published AS published ORDER BY visitor",
    );
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0]["visitor"], "José Manuel Albares");
    assert_eq!(rows[0]["country"], "Spain");
    assert_eq!(rows[0]["host"], "Morocco");
    assert_eq!(rows[0]["destination"], "Morocco");
    assert_eq!(rows[1]["visitor"], "Olaf Scholz");
    assert_eq!(rows[1]["country"], "Germany");
    assert_eq!(rows[1]["host"], "Emmanuel Macron");
    assert_eq!(rows[1]["destination"], "Paris, Île-de-France, France");
    assert_eq!(rows[1]["date"], "2023-01-04");
    assert_eq!(rows[1]["article"], "polecat:story:20230105-AFP-0012");
    assert_eq!(rows[1]["outlet"], "afp-en");
    assert_eq!(rows[1]["published"], "2023-01-05");

    // The compound actor is one meeting of its members; dated after its report, it is planned.
    let rows = query(
        &ws,
        "MATCH (m:Meeting)-[:PARTICIPANT]->(p) RETURN m.status AS status, m.date AS date, collect(p.name) AS who",
    );
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["status"], "planned");
    assert_eq!(rows[0]["date"], "2023-02-01");
    let mut who: Vec<&str> = rows[0]["who"].as_array().expect("list").iter().filter_map(Value::as_str).collect();
    who.sort_unstable();
    assert_eq!(who, ["Emmanuel Macron", "Olaf Scholz"]);
}

#[test]
fn a_polecat_header_without_a_required_column_is_refused_by_name() {
    let ws = Workspace::new();
    let header: Vec<&str> = HEADER.iter().copied().filter(|c| *c != "Event Type").collect();
    let path = ws.write("bad.txt", &format!("{}\n", header.join("\t")));
    let output = ws.cmd(&["import", "polecat", s(&path)]).output().expect("run import");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("the header has no 'Event Type' column"), "{}", stderr(&output));
}

#[test]
fn the_plover_gold_standard_records_import_with_their_sentence_as_evidence() {
    let ws = Workspace::new();
    let output = ws.cmd(&["import", "plover-json", s(&sample("plover_gsr_cameo.json"))]).output().expect("run");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("rows: 323 read, 10 kept"), "{}", stderr(&output));
    // PLOVER-GSR01-CONSULT-0001: source "Moroccan diplomats" (MAR, GOV), target "President
    // Obama" (USA, GOV), CONSULT/visit, no event location.
    let rows = query(
        &ws,
        "MATCH (v:Visit)-[r:REPORTED_IN]->(a:Article {id: 'plover:PLOVER-GSR01-CONSULT-0001'}),
               (v)-[:VISITOR]->(visitor), (v)-[:HOST]->(host), (v)-[:DESTINATION]->(d)
         RETURN visitor.name AS visitor, host.name AS host, host.title AS title, d.name AS destination,
                a.outlet AS outlet, a.language AS language, r.evidence AS evidence",
    );
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["visitor"], "Morocco");
    assert_eq!(rows[0]["host"], "Obama");
    assert_eq!(rows[0]["title"], "President");
    assert_eq!(rows[0]["destination"], "United States");
    assert_eq!(rows[0]["outlet"], "OEDA team from CAMEO 1.1b3 manual");
    assert_eq!(rows[0]["language"], "en");
    assert!(rows[0]["evidence"].as_str().unwrap_or("").starts_with("A group of Moroccan diplomats held"));
    // PLOVER-GSR01-CONSULT-0005: mode `host` (a retired mode): Yeltsin hosts Hashimoto.
    let rows = query(
        &ws,
        "MATCH (v:Visit)-[:REPORTED_IN]->(:Article {id: 'plover:PLOVER-GSR01-CONSULT-0005'}),
               (v)-[:VISITOR]->(visitor), (v)-[:HOST]->(host)
         RETURN visitor.name AS visitor, host.name AS host",
    );
    assert_eq!(rows, vec![serde_json::json!({"visitor": "Ryutaro Hashimoto", "host": "Boris Yeltsin"})]);
}

#[test]
fn plover_json_lines_accept_the_manual_field_names_and_reject_bad_records_by_line() {
    let ws = Workspace::new();
    let lines = [
        r#"{"id":"x-1","date":"2021-06-16","actor":[{"entity_text":"Joe Biden","code":"USA","sector":"GOV"}],"recipient":{"entity_text":"Vladimir Putin","code":"RUS"},"event":["CONSULT"],"mode":["third-party"],"event_loc":{"name":"Geneva","country_code":"CHE"},"text":"Biden and Putin met in Geneva."}"#,
        r#"{"id":"x-2","date":"2021-13-01","actor":"Joe Biden","recipient":"Vladimir Putin","event":"CONSULT"}"#,
        r#"{"id":"x-3","actor":"Joe Biden","recipient":"Vladimir Putin","event":"CONSULT"}"#,
        r#"{"id":"x-4","date":"2021-06-16","actor":"Joe Biden","recipient":"Vladimir Putin","event":"ACCUSE"}"#,
        r#"{"id":"x-5", "date": "#,
    ];
    let path = ws.write("events.jsonl", &lines.join("\n"));
    let output = ws.cmd(&["import", "plover-json", s(&path)]).output().expect("run import");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let err = stderr(&output);
    let name = s(&path);
    assert!(err.contains(&format!("{name}:2: date: '2021-13-01': month 13 does not exist")), "{err}");
    assert!(err.contains(&format!("{name}:3: date: missing")), "{err}");
    assert!(err.contains(&format!("{name}:5: record: not valid JSON")), "{err}");
    assert!(
        err.contains("rows: 5 read, 1 kept, 0 folded, 1 dropped as out of scope, 0 incomplete, 3 rejected"),
        "{err}"
    );
    let rows = query(
        &ws,
        "MATCH (m:Meeting)-[:PLACE]->(p:Place)-[:LOCATED_IN]->(c:Country), (m)-[:PARTICIPANT]->(who)
         RETURN p.name AS place, c.name AS country, collect(who.name) AS who",
    );
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["place"], "Geneva, Switzerland");
    let mut who: Vec<&str> = rows[0]["who"].as_array().expect("list").iter().filter_map(Value::as_str).collect();
    who.sort_unstable();
    assert_eq!(who, ["Joe Biden", "Vladimir Putin"]);
}
