//! `diplograph import gdelt` on the real GDELT 2.0 samples in ../shared/samples (read in
//! place), driven through the real binary. The spot checks were written from rows read by
//! hand; the hostile files are real rows damaged by the test.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use common::Workspace;
use serde_json::Value;

/// A sample file in `../shared/samples` beside the repository (a worktree under
/// `wt/NAME` finds it two levels up). A missing sample fails the test: it never passes unseen.
fn sample(name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates = [root.join("../shared/samples"), root.join("../../shared/samples")];
    let dir = candidates.iter().find(|dir| dir.join("SOURCES.md").exists()).unwrap_or_else(|| {
        panic!("the GDELT samples are missing: expected ../shared/samples beside {}", root.display())
    });
    dir.join(name)
}

const EXPORT_2025: &str = "20250807220000.export.CSV";
const MENTIONS_2025: &str = "20250807220000.mentions.CSV";
const EXPORT_2019: &str = "gdelt2_20191024143000.export.CSV";
const MENTIONS_PANDAS: &str = "gdelt2_mentions_sample_gdeltPyR.csv";

fn s(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

fn import(ws: &Workspace, args: &[&str]) -> std::process::Output {
    let mut full = vec!["import", "gdelt"];
    full.extend_from_slice(args);
    ws.cmd(&full).output().expect("run import")
}

fn query(ws: &Workspace, cypher: &str) -> Vec<Value> {
    let output = ws.cmd(&["query", cypher, "--format", "json"]).output().expect("run query");
    assert!(output.status.success(), "query failed: {}", String::from_utf8_lossy(&output.stderr));
    match serde_json::from_slice(&output.stdout).expect("query prints JSON") {
        Value::Array(rows) => rows,
        other => panic!("expected rows, got {other}"),
    }
}

/// The lines of a real sample whose first column is one of `ids`, in file order.
fn real_rows(name: &str, ids: &[&str]) -> Vec<String> {
    let text = std::fs::read_to_string(sample(name)).expect("read sample");
    text.lines().filter(|line| ids.iter().any(|id| line.split('\t').next() == Some(id))).map(str::to_string).collect()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_matched_slice_imports_a_visit_with_its_place_host_and_mentioning_article() {
    let ws = Workspace::new();
    let output = import(&ws, &[s(&sample(EXPORT_2025)), s(&sample(MENTIONS_2025))]);
    assert!(output.status.success(), "{}", stderr(&output));
    // Row 1256322925: BRA "BRAZIL" 042 CHN "CHINA", ActionGeo 4 "Brasilia, Distrito Federal,
    // Brazil" (FIPS BR), SQLDATE 20250807; its mention: aljazeera.com, sentence 8, Confidence 10.
    let rows = query(
        &ws,
        "MATCH (v:Visit)-[:VISITOR]->(visitor), (v)-[:HOST]->(host), (v)-[:DESTINATION]->(d:Place)-[:LOCATED_IN]->(c:Country),
               (v)-[r:REPORTED_IN]->(a:Article)
         WHERE d.name STARTS WITH 'Brasilia'
         RETURN visitor.name AS visitor, host.name AS host, d.name AS destination, c.name AS country, v.date AS date,
                v.status AS status, a.outlet AS outlet, a.url AS url, a.language AS language, r.confidence AS confidence,
                r.evidence AS evidence, r.according_to AS according_to",
    );
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    assert_eq!(row["visitor"], "Brazil");
    assert_eq!(row["host"], "China");
    assert_eq!(row["destination"], "Brasilia, Distrito Federal, Brazil");
    assert_eq!(row["country"], "Brazil");
    assert_eq!(row["date"], "2025-08-07");
    assert_eq!(row["status"], "occurred");
    assert_eq!(row["outlet"], "aljazeera.com");
    assert_eq!(
        row["url"],
        "https://www.aljazeera.com/economy/2025/8/7/indias-modi-brazils-lula-speak-amid-trump-tariff-blitz"
    );
    assert_eq!(row["language"], "en");
    assert_eq!(row["confidence"], 0.1);
    assert_eq!(row["according_to"], "GDELT");
    let evidence = row["evidence"].as_str().expect("evidence");
    assert!(evidence.contains("GDELT event 1256322925") && evidence.contains("sentence 8"), "{evidence}");
    assert!(evidence.contains("actor1 at character 2355"), "{evidence}");
    // Row 1256322926 is the same dyad with ActionGeo 1 "China" (FIPS CH, not Switzerland).
    let rows = query(
        &ws,
        "MATCH (v:Visit)-[:VISITOR]->(:Country {name: 'Brazil'}), (v)-[:DESTINATION]->(d:Country) RETURN d.name AS d",
    );
    assert_eq!(rows, vec![serde_json::json!({"d": "China"})]);
}

#[test]
fn a_visit_row_and_its_mirrored_host_row_of_one_report_fold_into_one_visit() {
    let ws = Workspace::new();
    // 1256322825 (043, Actor2 GRC) and 1256323243 (042, Actor1 GRC) of one myfox28columbus
    // report, both in Athens; each has one mention in that document.
    let mut rows = real_rows(EXPORT_2025, &["1256322825", "1256323243"]);
    rows.extend(real_rows(MENTIONS_2025, &["1256322825", "1256323243"]));
    assert_eq!(rows.len(), 4);
    let export = ws.write("slice.export.CSV", &format!("{}\n{}\n", rows[0], rows[1]));
    let mentions = ws.write("slice.mentions.CSV", &format!("{}\n{}\n", rows[2], rows[3]));
    let output = import(&ws, &[s(&export), s(&mentions)]);
    assert!(output.status.success(), "{}", stderr(&output));
    let summary = stderr(&output);
    assert!(summary.contains("rows: 4 read, 3 kept, 1 folded"), "{summary}");
    let stats = ws.stats();
    assert_eq!(stats["nodes"]["Visit"], 1);
    assert_eq!(stats["edges"]["REPORTED_IN"], 1);
    let rows = query(
        &ws,
        "MATCH (v:Visit)-[:VISITOR]->(g), (v)-[r:REPORTED_IN]->(a) RETURN g.name AS g, a.outlet AS o, r.evidence AS e",
    );
    assert_eq!(rows[0]["g"], "Greece");
    assert_eq!(rows[0]["o"], "myfox28columbus.com");
    let evidence = rows[0]["e"].as_str().expect("evidence");
    assert!(evidence.contains("1256322825") && evidence.contains("1256323243"), "{evidence}");
}

#[test]
fn events_without_mentions_are_reported_by_their_sourceurl_and_mirrored_meetings_fold() {
    let ws = Workspace::new();
    let output = import(&ws, &[s(&sample(EXPORT_2019))]);
    assert!(output.status.success(), "{}", stderr(&output));
    // Rows 881992014/881992477 (Abe and Turkmenistan in Tokyo, mirrored) and 881992015,
    // 881992016, 881992478, 881992479 (ActionGeo 1 Turkmenistan): two meetings, one report.
    let rows = query(
        &ws,
        "MATCH (m:Meeting)-[:PARTICIPANT]->(p:Person {name: 'Shinzo Abe'})-[:REPRESENTS]->(j:Country),
               (m)-[:PARTICIPANT]->(t:Country {name: 'Turkmenistan'}), (m)-[:PLACE]->(place), (m)-[:REPORTED_IN]->(a:Article)
         RETURN place.name AS place, m.date AS date, j.name AS country, a.id AS article, a.outlet AS outlet
         ORDER BY place",
    );
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0]["place"], "Tokyo, Tokyo, Japan");
    assert_eq!(rows[1]["place"], "Turkmenistan");
    for row in &rows {
        assert_eq!(row["date"], "2019-10-24");
        assert_eq!(row["country"], "Japan");
        assert_eq!(row["article"], "gdelt:http://www.turkmenistan.ru/en/articles/18638.html");
        assert_eq!(row["outlet"], "turkmenistan.ru");
    }
}

#[test]
fn importing_the_same_files_twice_changes_nothing_and_check_stays_clean() {
    let ws = Workspace::new();
    let files = [sample(EXPORT_2025), sample(MENTIONS_2025)];
    let args: Vec<&str> = files.iter().map(|p| s(p)).collect();
    assert!(import(&ws, &args).status.success());
    let first = ws.stats();
    let again = import(&ws, &args);
    assert!(again.status.success(), "{}", stderr(&again));
    // Each article replaces its earlier self (and the events only it reported come back).
    assert!(
        stderr(&again).contains("articles: 0 added, 20 replaced, 0 rejected; entities: 0 added"),
        "{}",
        stderr(&again)
    );
    assert_eq!(ws.stats(), first);
    let check = ws.cmd(&["check"]).output().expect("run check");
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
}

#[test]
fn emit_piped_into_ingest_stores_exactly_what_import_stores() {
    let imported = Workspace::new();
    let files = [sample(EXPORT_2025), sample(MENTIONS_2025), sample(EXPORT_2019)];
    let args: Vec<&str> = files.iter().map(|p| s(p)).collect();
    assert!(import(&imported, &args).status.success());

    let piped = Workspace::new();
    let mut emit_args = args.clone();
    emit_args.push("--emit");
    let emitted = import(&piped, &emit_args);
    assert!(emitted.status.success(), "{}", stderr(&emitted));
    assert!(!piped.db().exists(), "--emit must not create a store");
    let batch = piped.path("batch.jsonl");
    std::fs::write(&batch, &emitted.stdout).expect("write batch");
    let ingested = piped.ingest(&batch);
    assert!(ingested.status.success(), "{}", stderr(&ingested));

    let dump = |ws: &Workspace| ws.cmd(&["dump"]).output().expect("run dump").stdout;
    assert_eq!(imported.stats(), piped.stats());
    assert_eq!(dump(&imported), dump(&piped));
}

/// A real row with one column replaced.
fn with_column(row: &str, column: usize, value: &str) -> String {
    let mut cols: Vec<&str> = row.split('\t').collect();
    cols[column] = value;
    cols.join("\t")
}

#[test]
fn hostile_rows_are_rejected_with_their_line_while_the_rest_lands() {
    let ws = Workspace::new();
    let rows = real_rows(EXPORT_2025, &["1256322925", "1256322926", "1256322975"]);
    let good = &rows[0];
    let mut file: Vec<u8> = Vec::new();
    file.extend_from_slice(format!("{good}\n").as_bytes()); // 1: kept
    let short: Vec<&str> = rows[2].split('\t').take(60).collect();
    file.extend_from_slice(format!("{}\n", short.join("\t")).as_bytes()); // 2: 60 columns
    file.extend_from_slice(format!("{}\n", with_column(&rows[2], 1, "20251340")).as_bytes()); // 3: month 13
    file.extend_from_slice(format!("{}\n", with_column(&rows[2], 0, "12563x2975")).as_bytes()); // 4: id
    let mut bad_utf8 = with_column(&rows[2], 6, "CANADA@").into_bytes();
    let at = bad_utf8.iter().position(|&b| b == b'@').expect("marker");
    bad_utf8[at] = 0xff;
    file.extend_from_slice(&bad_utf8); // 5: invalid UTF-8
    file.push(b'\n');
    let huge = "x".repeat(1_000_000);
    file.extend_from_slice(format!("{}\n", with_column(&rows[2], 60, &huge)).as_bytes()); // 6: a 1 MB field
    file.extend_from_slice(format!("{}\n", rows[1]).as_bytes()); // 7: kept
    let cut = &rows[2][..rows[2].len() - 10];
    file.extend_from_slice(cut.as_bytes()); // 8: truncated, no line end
    let path = ws.path("hostile.export.CSV");
    std::fs::write(&path, &file).expect("write hostile file");
    let rejects = ws.path("rejects.tsv");

    let output = import(&ws, &[s(&path), "--rejects", s(&rejects)]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let err = stderr(&output);
    let name = s(&path);
    for expected in [
        format!("{name}:2: row: 60 columns; a GDELT 2.0 events row has 61"),
        format!("{name}:3: SQLDATE: '2025-13-40': month 13 does not exist"),
        format!("{name}:4: GLOBALEVENTID: '12563x2975' is not a number"),
        format!("{name}:5: row: invalid UTF-8 at byte"),
        format!("{name}:6: row: longer than 256 KiB"),
        format!("{name}:8: row: the file ends inside this row"),
    ] {
        assert!(err.contains(&expected), "missing `{expected}` in:\n{err}");
    }
    assert!(!err.contains(&format!("{name}:1:")) && !err.contains(&format!("{name}:7:")), "{err}");
    assert!(err.contains("6 rejected"), "{err}");
    let stats = ws.stats();
    assert_eq!(stats["nodes"]["Visit"], 2, "rows 1 and 7 land: {stats}");
    // Every rejected row is kept verbatim, except the one too long to hold.
    let kept = std::fs::read(&rejects).expect("read rejects");
    assert_eq!(kept.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count(), 5);
    assert!(
        kept.windows(bad_utf8.len()).any(|w| w == bad_utf8.as_slice()),
        "the invalid UTF-8 row is kept byte for byte"
    );
}

#[test]
fn a_changed_mapping_file_changes_the_import_with_no_code_change() {
    let ws = Workspace::new();
    let rows = real_rows(EXPORT_2025, &["1256322925"]);
    let export = ws.write("one.export.CSV", &format!("{}\n", rows[0]));
    // The built-in mapping: 042 is a visit.
    let output = import(&ws, &[s(&export), "--emit"]);
    let record: Value = serde_json::from_slice(&output.stdout).expect("one record");
    assert_eq!(record["facts"][0]["type"], "visit");

    let builtin = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/import-mapping.json"))
        .expect("read mapping");
    let mut mapping: Value = serde_json::from_str(&builtin).expect("mapping is JSON");
    for rule in mapping["cameo"].as_array_mut().expect("cameo rules") {
        if rule["code"] == "042" {
            *rule = serde_json::json!({"code": "042", "name": "Make a visit", "type": "meeting", "status": "planned",
                                       "confidence": 0.5, "roles": {"participants": ["source", "target"]}});
        }
    }
    let changed = ws.write("mapping.json", &mapping.to_string());
    let output = import(&ws, &[s(&export), "--emit", "--mapping", s(&changed)]);
    assert!(output.status.success(), "{}", stderr(&output));
    let record: Value = serde_json::from_slice(&output.stdout).expect("one record");
    assert_eq!(record["facts"][0]["type"], "meeting");
    assert_eq!(record["facts"][0]["status"], "planned");
    assert_eq!(record["facts"][0]["confidence"], 0.5);

    // The environment variable does the same; a code left out of the mapping is dropped.
    mapping["cameo"].as_array_mut().expect("cameo rules").retain(|rule| rule["code"] != "042");
    let without = ws.write("without-042.json", &mapping.to_string());
    let output = ws
        .cmd(&["import", "gdelt", s(&export), "--emit"])
        .env("DIPLOGRAPH_IMPORT_MAPPING", &without)
        .output()
        .expect("run import");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(output.stdout.is_empty());
    assert!(stderr(&output).contains("1 dropped as out of scope"), "{}", stderr(&output));
}

#[test]
fn an_invalid_mapping_file_is_refused_with_its_reason() {
    let ws = Workspace::new();
    let bad = ws.write("bad.json", r#"{"version": 1, "cameo": [{"code": "042", "type": "voyage", "roles": {}}]}"#);
    let output = import(&ws, &[s(&sample(EXPORT_2025)), "--mapping", s(&bad)]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("unknown event type 'voyage'"), "{}", stderr(&output));
    assert!(!ws.db().exists());
}

#[test]
fn a_curated_batch_and_an_imported_slice_naming_the_same_leader_and_event_merge() {
    let ws = Workspace::new();
    let curated = ws.write(
        "curated.jsonl",
        &common::article(
            "curated-abe-turkmenistan",
            concat!(
                r#"{"ref":"abe","kind":"Person","name":"Shinzo Abe","country":"Japan","title":"Prime Minister"},"#,
                r#"{"ref":"tkm","kind":"Country","name":"Turkmenistan"}"#
            ),
            r#"{"type":"meeting","participants":["abe","tkm"],"place":"tkm","date":"2019-10-24","evidence":"Abe received the Turkmen delegation"}"#,
        ),
    );
    assert!(ws.ingest(&curated).status.success());
    let output = import(&ws, &[s(&sample(EXPORT_2019))]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("merged"), "{}", stderr(&output));
    let rows = query(
        &ws,
        "MATCH (p:Person {name: 'Shinzo Abe'})<-[:PARTICIPANT]-(m:Meeting)-[:PLACE]->(:Country {name: 'Turkmenistan'}),
               (m)-[:REPORTED_IN]->(a:Article)
         RETURN a.id AS article ORDER BY article",
    );
    let articles: Vec<&str> = rows.iter().map(|r| r["article"].as_str().expect("id")).collect();
    assert_eq!(articles, ["curated-abe-turkmenistan", "gdelt:http://www.turkmenistan.ru/en/articles/18638.html"]);
    let people = query(&ws, "MATCH (p:Person) WHERE toLower(p.name) = 'shinzo abe' RETURN count(p) AS n");
    assert_eq!(people[0]["n"], 1);
}

#[test]
fn zip_gzip_and_stdin_sources_read_like_the_plain_files() {
    let plain = Workspace::new();
    assert!(import(&plain, &[s(&sample(EXPORT_2025)), s(&sample(MENTIONS_2025))]).status.success());

    let packed = Workspace::new();
    let zip_path = packed.path("20250807220000.export.CSV.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).expect("create zip"));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file(EXPORT_2025, options).expect("zip member");
    zip.write_all(&std::fs::read(sample(EXPORT_2025)).expect("read export")).expect("write member");
    zip.finish().expect("finish zip");
    let gz_path = packed.path("20250807220000.mentions.CSV.gz");
    let mut gz =
        flate2::write::GzEncoder::new(std::fs::File::create(&gz_path).expect("create gz"), flate2::Compression::fast());
    gz.write_all(&std::fs::read(sample(MENTIONS_2025)).expect("read mentions")).expect("write gz");
    gz.finish().expect("finish gz");
    let output = import(&packed, &[s(&zip_path), s(&gz_path)]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(plain.stats(), packed.stats());

    let piped = Workspace::new();
    assert!(import(&piped, &[s(&zip_path)]).status.success());
    let output = piped
        .cmd(&["import", "gdelt", "-"])
        .write_stdin(std::fs::read(&gz_path).expect("read gz"))
        .output()
        .expect("run import");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(plain.stats(), piped.stats());

    // A zip archive on stdin is read member by member as it streams.
    let streamed = Workspace::new();
    let output = streamed
        .cmd(&["import", "gdelt", "-"])
        .write_stdin(std::fs::read(&zip_path).expect("read zip"))
        .output()
        .expect("run import");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("rows: 909 read"), "{}", stderr(&output));
}

#[test]
fn the_pandas_written_mentions_variant_attaches_to_its_event() {
    let ws = Workspace::new();
    // The first mention of the pandas sample names event 555924816 in an Arabic
    // china.org.cn document (srclc:ara, sentence 4, Confidence 100). Its event is not in the
    // samples: a real 040 row (Abe and Turkmenistan) is given that id.
    let abe = real_rows(EXPORT_2019, &["881992014"]);
    let export = ws.write("event.export.CSV", &format!("{}\n", with_column(&abe[0], 0, "555924816")));
    let output = import(&ws, &[s(&export), s(&sample(MENTIONS_PANDAS))]);
    assert!(output.status.success(), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("rows: 1636 read, 2 kept"), "{err}");
    assert!(err.contains("1634 mentions of events not kept or not in this run"), "{err}");
    let rows = query(
        &ws,
        "MATCH (:Meeting)-[r:REPORTED_IN]->(a:Article) RETURN a.id AS id, a.outlet AS outlet, a.language AS language, r.confidence AS c",
    );
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["id"], "gdelt:http://arabic.china.org.cn/txt/2017-07/02/content_41135804.htm");
    assert_eq!(rows[0]["outlet"], "china.org.cn");
    assert_eq!(rows[0]["language"], "ar");
    assert_eq!(rows[0]["c"], 1.0);
}

#[test]
fn aid_becomes_a_gift_only_when_asked() {
    let ws = Workspace::new();
    let output = import(&ws, &[s(&sample(EXPORT_2019)), "--emit"]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(!text.contains(r#""type":"gift""#));
    let output = import(&ws, &[s(&sample(EXPORT_2019)), "--emit", "--with-aid-as-gifts"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains(r#""type":"gift""#) && text.contains(r#""name":"economic aid""#), "{text}");
}

#[test]
fn mentions_of_events_imported_by_an_earlier_run_find_them_through_the_source_id_index() {
    let together = Workspace::new();
    assert!(import(&together, &[s(&sample(EXPORT_2025)), s(&sample(MENTIONS_2025))]).status.success());

    let apart = Workspace::new();
    assert!(import(&apart, &[s(&sample(EXPORT_2025))]).status.success());
    let output = import(&apart, &[s(&sample(MENTIONS_2025))]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("71 kept"), "{}", stderr(&output));
    assert_eq!(apart.stats(), together.stats());
    let rows = query(&apart, "MATCH (v:Visit)-[r:REPORTED_IN]->(a:Article {outlet: 'aljazeera.com'}) RETURN v.source_ids AS ids, r.evidence AS e");
    assert_eq!(rows.len(), 2, "{rows:?}");
    // 1256322993 is the mirrored 043 row (China hosts Brazil) of the same sentence, folded.
    assert!(rows.iter().any(|r| r["ids"] == serde_json::json!(["gdelt:1256322925", "gdelt:1256322993"])), "{rows:?}");
    assert!(rows.iter().all(|r| r["e"].as_str().unwrap_or("").contains("(imported earlier): sentence 8")), "{rows:?}");

    // Without the export, in a fresh store, the same mentions find nothing.
    let fresh = Workspace::new();
    let output = import(&fresh, &[s(&sample(MENTIONS_2025))]);
    assert!(
        stderr(&output).contains("0 kept") && stderr(&output).contains("3366 mentions of events"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn removing_an_imported_article_removes_its_events_and_their_source_ids() {
    let ws = Workspace::new();
    assert!(import(&ws, &[s(&sample(EXPORT_2025)), s(&sample(MENTIONS_2025))]).status.success());
    let article =
        "gdelt:https://www.aljazeera.com/economy/2025/8/7/indias-modi-brazils-lula-speak-amid-trump-tariff-blitz";
    let removed = ws.cmd(&["remove", article]).output().expect("run remove");
    assert!(removed.status.success(), "{}", stderr(&removed));
    let check = ws.cmd(&["check"]).output().expect("run check");
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
    // The export alone now reports that event again from its SOURCEURL: the index was cleared,
    // so the mention run that follows finds it through the new event.
    assert!(import(&ws, &[s(&sample(EXPORT_2025))]).status.success());
    let output = import(&ws, &[s(&sample(MENTIONS_2025))]);
    assert!(output.status.success(), "{}", stderr(&output));
    let rows =
        query(&ws, &format!("MATCH (:Visit)-[:REPORTED_IN]->(a:Article {{id: '{article}'}}) RETURN count(*) AS n"));
    assert_eq!(rows[0]["n"], 2);
    let check = ws.cmd(&["check"]).output().expect("run check");
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
}

#[test]
fn check_reports_a_source_id_entry_pointing_at_no_event_that_lists_it() {
    let ws = Workspace::new();
    assert!(import(&ws, &[s(&sample(EXPORT_2025))]).status.success());
    {
        let db = sled::open(ws.db()).expect("open sled");
        let mut key = vec![0x10u8];
        key.extend_from_slice(b"gdelt:42");
        db.insert(key, &0u64.to_be_bytes()).expect("insert");
        db.flush().expect("flush");
    }
    let check = ws.cmd(&["check"]).output().expect("run check");
    assert_eq!(check.status.code(), Some(1));
    let text = String::from_utf8_lossy(&check.stdout).into_owned() + &stderr(&check);
    assert!(text.contains("source-id index: 'gdelt:42' points at node 0, which is no event listing it"), "{text}");
}

#[test]
fn a_source_id_that_is_not_dataset_colon_id_rejects_its_record() {
    let ws = Workspace::new();
    let batch = ws.write(
        "bad-ids.jsonl",
        &common::article("a", "", r#"{"type":"meeting","participants":["A","B"],"source_ids":["1256322925"]}"#),
    );
    let output = ws.ingest(&batch);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("facts[0].source_ids[0]: '1256322925' is not DATASET:ID"), "{}", stderr(&output));
}

#[test]
fn a_dropped_code_is_decided_before_the_rest_of_the_row_is_read() {
    let ws = Workspace::new();
    // 1256322772 is a real 010 row (no rule keeps 010): a damaged date in it goes unseen.
    let rows = real_rows(EXPORT_2025, &["1256322772", "1256322925"]);
    let dropped = with_column(&rows[0], 1, "not-a-date");
    let path = ws.write("mixed.export.CSV", &format!("{dropped}\n{}\n", rows[1]));
    let output = import(&ws, &[s(&path)]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("rows: 2 read, 1 kept, 0 folded, 1 dropped as out of scope, 0 incomplete, 0 rejected"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn hostile_mention_rows_are_rejected_with_their_line() {
    let ws = Workspace::new();
    let export = real_rows(EXPORT_2025, &["1256322925"]);
    let mentions = real_rows(MENTIONS_2025, &["1256322925"]);
    let export_path = ws.write("one.export.CSV", &format!("{}\n", export[0]));
    let lines = [
        with_column(&mentions[0], 11, "high"),   // 1: Confidence not a number
        with_column(&mentions[0], 2, "2025080"), // 2: MentionTimeDate too short
        with_column(&mentions[0], 5, ""),        // 3: no identifier
        mentions[0].split('\t').take(15).collect::<Vec<_>>().join("\t"), // 4: 15 columns
        mentions[0].clone(),                     // 5: kept
    ];
    let mentions_path = ws.write("one.mentions.CSV", &format!("{}\n", lines.join("\n")));
    let output = import(&ws, &[s(&export_path), s(&mentions_path)]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    let name = s(&mentions_path);
    for expected in [
        format!("{name}:1: Confidence: 'high' is not a percentage from 0 to 100"),
        format!("{name}:2: MentionTimeDate: '2025080' is not a timestamp"),
        format!("{name}:3: MentionIdentifier: empty"),
        format!("{name}:4: row: 15 columns; a GDELT 2.0 mentions row has 16"),
    ] {
        assert!(err.contains(&expected), "missing `{expected}` in:\n{err}");
    }
    let rows = query(&ws, "MATCH (:Visit)-[:REPORTED_IN]->(a:Article) RETURN a.outlet AS o");
    assert_eq!(rows, vec![serde_json::json!({"o": "aljazeera.com"})]);
}

#[test]
fn a_later_slice_in_the_same_run_finds_the_events_of_an_earlier_one() {
    // Slice 2 holds only mentions: the real mention of 1256322925 seen again, by a new document.
    let later = with_column(
        &with_column(&real_rows(MENTIONS_2025, &["1256322925"])[0], 5, "https://example.org/later-report"),
        2,
        "20250807221500",
    );
    let one_run = Workspace::new();
    let slice2 = one_run.write("20250807221500.mentions.CSV", &format!("{later}\n"));
    let output = import(&one_run, &[s(&sample(EXPORT_2025)), s(&sample(MENTIONS_2025)), s(&slice2)]);
    assert!(output.status.success(), "{}", stderr(&output));
    let rows = query(&one_run, "MATCH (v:Visit)-[:REPORTED_IN]->(a:Article {id: 'gdelt:https://example.org/later-report'}) RETURN v.source_ids AS ids");
    assert_eq!(rows, vec![serde_json::json!({"ids": ["gdelt:1256322925", "gdelt:1256322993"]})]);

    let two_runs = Workspace::new();
    assert!(import(&two_runs, &[s(&sample(EXPORT_2025)), s(&sample(MENTIONS_2025))]).status.success());
    assert!(import(&two_runs, &[s(&slice2)]).status.success());
    assert_eq!(one_run.stats(), two_runs.stats());
}

#[test]
fn emit_piped_into_ingest_equals_import_when_a_later_slice_mentions_an_earlier_one() {
    let later = with_column(
        &with_column(&real_rows(MENTIONS_2025, &["1256322778"])[0], 5, "https://example.org/later-meeting"),
        2,
        "20250807221500",
    );
    let imported = Workspace::new();
    let slice2 = imported.write("20250807221500.mentions.CSV", &format!("{later}\n"));
    let files = [sample(EXPORT_2025), sample(MENTIONS_2025), slice2.clone()];
    let args: Vec<&str> = files.iter().map(|p| s(p)).collect();
    assert!(import(&imported, &args).status.success());

    let piped = Workspace::new();
    let mut emit_args = args.clone();
    emit_args.push("--emit");
    let emitted = import(&piped, &emit_args);
    assert!(emitted.status.success(), "{}", stderr(&emitted));
    let batch = piped.path("batch.jsonl");
    std::fs::write(&batch, &emitted.stdout).expect("write batch");
    assert!(piped.ingest(&batch).status.success());

    let rows = query(&piped, "MATCH (m:Meeting)-[r:REPORTED_IN]->(:Article {id: 'gdelt:https://example.org/later-meeting'}) RETURN r.evidence AS e");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0]["e"].as_str().unwrap_or("").starts_with("GDELT event 1256322778 (imported earlier)"), "{rows:?}");
    let dump = |ws: &Workspace| ws.cmd(&["dump"]).output().expect("run dump").stdout;
    assert_eq!(dump(&imported), dump(&piped));
}

#[test]
fn compact_keeps_the_source_id_index() {
    let ws = Workspace::new();
    assert!(import(&ws, &[s(&sample(EXPORT_2025))]).status.success());
    let compacted = ws.cmd(&["compact"]).output().expect("run compact");
    assert!(compacted.status.success(), "{}", stderr(&compacted));
    let output = import(&ws, &[s(&sample(MENTIONS_2025))]);
    assert!(stderr(&output).contains("71 kept"), "{}", stderr(&output));
    let check = ws.cmd(&["check"]).output().expect("run check");
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
}
