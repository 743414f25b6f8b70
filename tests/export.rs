//! `export` through the real binary: every format on the example store, read back by its
//! real consumer where one is installed (NetworkX, pyarrow, Kuzu: DIPLOGRAPH_TEST_PEERS=1),
//! and by Rust readers otherwise (XML well-formedness, CSV header grammar and foreign keys);
//! untrusted text survives every format; bad flags are refused with a clear message.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{article, peer_python, Workspace, EXAMPLE};
use predicates::prelude::*;
use quick_xml::events::Event;

fn example() -> Workspace {
    let ws = Workspace::new();
    assert_eq!(ws.ingest(EXAMPLE.as_ref()).status.code(), Some(0));
    ws
}

fn export(ws: &Workspace, args: &[&str]) {
    let mut all = vec!["export"];
    all.extend_from_slice(args);
    let output = ws.cmd(&all).output().expect("run export");
    assert!(output.status.success(), "export {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

fn totals(ws: &Workspace) -> (u64, u64) {
    let stats = ws.stats();
    (stats["total_nodes"].as_u64().unwrap(), stats["total_edges"].as_u64().unwrap())
}

/// Runs a peer script under `tests/peers/` and parses the JSON it prints.
fn run_peer(python: &Path, script: &str, args: &[&str]) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers").join(script);
    let output = Command::new(python).arg(&script).args(args).output().expect("run the peer's python");
    assert!(output.status.success(), "{} failed: {}", script.display(), String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("the peer script prints JSON")
}

/// Element counts and the attributes of the elements named `element` in an XML file;
/// fails on a document that does not parse.
fn xml_elements(path: &Path, element: &[u8]) -> (BTreeMap<String, usize>, Vec<BTreeMap<String, String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut counts = BTreeMap::new();
    let mut found = Vec::new();
    loop {
        match reader.read_event().unwrap_or_else(|e| panic!("{} is not well-formed XML: {e}", path.display())) {
            Event::Start(start) | Event::Empty(start) => {
                let name = String::from_utf8(start.name().as_ref().to_vec()).unwrap();
                *counts.entry(name).or_insert(0) += 1;
                if start.name().as_ref() == element {
                    let attributes = start
                        .attributes()
                        .map(|a| {
                            let a = a.unwrap();
                            let key = String::from_utf8(a.key.as_ref().to_vec()).unwrap();
                            let raw = String::from_utf8(a.value.to_vec()).unwrap();
                            (key, quick_xml::escape::unescape(&raw).unwrap().into_owned())
                        })
                        .collect();
                    found.push(attributes);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    (counts, found)
}

#[test]
fn graphml_and_gexf_are_read_by_networkx_with_typed_attributes() {
    let ws = example();
    let (nodes, edges) = totals(&ws);
    let graphml = ws.path("graph.graphml");
    let gexf = ws.path("graph.gexf");
    export(&ws, &["--format", "graphml", "-o", path_str(&graphml)]);
    export(&ws, &["--format", "gexf", "--gexf-version", "1.2draft", "-o", path_str(&gexf)]);
    let Some(python) = peer_python("graphml_and_gexf_are_read_by_networkx") else { return };
    let seen = run_peer(&python, "export_networkx.py", &[path_str(&graphml), path_str(&gexf)]);
    for format in ["graphml", "gexf"] {
        let graph = &seen[format];
        assert_eq!(graph["nodes"].as_u64(), Some(nodes), "{format}: {graph}");
        assert_eq!(graph["edges"].as_u64(), Some(edges), "{format}");
        assert_eq!(graph["directed"], true, "{format}");
        assert_eq!(graph["edge_attribute_types"]["confidence"], serde_json::json!(["float"]), "{format}");
        assert_eq!(graph["node_attribute_types"]["name"], serde_json::json!(["str"]), "{format}");
        let putin = &graph["node_sample"]["person:vladimir-putin"];
        assert_eq!(putin["name"], "Vladimir Putin", "{format}");
        assert_eq!(putin["labels"], ":Person", "{format}");
        let aliases: Vec<String> = serde_json::from_str(putin["aliases"].as_str().unwrap()).unwrap();
        assert!(aliases.contains(&"Putin".to_string()), "{format}: lists are JSON strings");
    }
    // Every dated event and every article carries its start on the timeline.
    let dated = ws
        .cmd(&["query", "MATCH (e:Event) WHERE e.date IS NOT NULL RETURN count(*) AS n", "--format", "json"])
        .output()
        .unwrap();
    let dated: serde_json::Value = serde_json::from_slice(&dated.stdout).unwrap();
    let articles = ws.stats()["nodes"]["Article"].as_u64().unwrap();
    assert_eq!(seen["gexf"]["nodes_with_start"].as_u64(), Some(dated[0]["n"].as_u64().unwrap() + articles));
}

#[test]
fn gexf_1_3_dates_events_by_the_precision_of_their_date() {
    let ws = example();
    let (nodes, edges) = totals(&ws);
    let gexf = ws.path("graph.gexf");
    export(&ws, &["--format", "gexf", "-o", path_str(&gexf)]);
    let text = std::fs::read_to_string(&gexf).unwrap();
    assert!(text.contains(r#"xmlns="http://gexf.net/1.3""#) && text.contains(r#"version="1.3""#));
    assert!(text.contains(r#"mode="dynamic""#) && text.contains(r#"timeformat="date""#));
    let (counts, node_elements) = xml_elements(&gexf, b"node");
    assert_eq!(counts.get("node").copied(), Some(usize::try_from(nodes).unwrap()));
    assert_eq!(counts.get("edge").copied(), Some(usize::try_from(edges).unwrap()));
    let planned = node_elements.iter().find(|n| n["label"] == "visit 2023-10").expect("the planned visit of 2023-10");
    assert_eq!((planned["start"].as_str(), planned["end"].as_str()), ("2023-10-01", "2023-10-31"));
    let meeting = node_elements.iter().find(|n| n["label"] == "meeting 2023-09-13").expect("the Vostochny meeting");
    assert_eq!((meeting["start"].as_str(), meeting["end"].as_str()), ("2023-09-13", "2023-09-13"));
    let putin = node_elements.iter().find(|n| n["id"] == "person:vladimir-putin").unwrap();
    assert!(!putin.contains_key("start"), "entities are always on the timeline");
    let (_, edge_elements) = xml_elements(&gexf, b"edge");
    let dated_edges = edge_elements.iter().filter(|e| e.get("start").is_some_and(|s| s == "2023-10-01")).count();
    assert!(dated_edges >= 3, "the planned visit's relationships take its spell");
}

#[test]
fn parquet_tables_are_read_by_pyarrow_with_their_types() {
    let ws = example();
    let (nodes, edges) = totals(&ws);
    let dir = ws.path("tables");
    export(&ws, &["--format", "parquet", "-o", path_str(&dir)]);
    assert!(
        dir.join("nodes/Person.parquet").is_file() && dir.join("relationships/GIVER_Gift_Person.parquet").is_file()
    );
    let Some(python) = peer_python("parquet_tables_are_read_by_pyarrow") else { return };
    let tables = run_peer(&python, "export_pyarrow.py", &[path_str(&dir)]);
    let tables = tables.as_object().unwrap();
    let rows = |prefix: &str| -> u64 {
        tables.iter().filter(|(name, _)| name.starts_with(prefix)).map(|(_, t)| t["rows"].as_u64().unwrap()).sum()
    };
    assert_eq!(rows("nodes/"), nodes);
    assert_eq!(rows("relationships/"), edges);
    let person = &tables["nodes/Person.parquet"];
    assert_eq!(person["types"]["id"], "string");
    assert_eq!(person["nullable"]["id"], false);
    assert_eq!(person["types"]["aliases"], "list<element: string>");
    let reports = &tables["relationships/REPORTED_IN_Meeting_Article.parquet"];
    assert_eq!(reports["types"]["confidence"], "double");
    assert_eq!(reports["types"]["from"], "string");
    assert_eq!(tables["relationships/GIVER_Gift_Person.parquet"]["rows"], ws.stats()["edges"]["GIVER"]);
}

#[test]
fn kuzu_loads_the_tables_and_answers_who_gave_what_to_whom_like_diplograph() {
    let ws = example();
    let dir = ws.path("kuzu");
    export(&ws, &["--format", "kuzu", "-o", path_str(&dir)]);
    let schema = std::fs::read_to_string(dir.join("schema.cypher")).unwrap();
    assert!(schema.contains("CREATE NODE TABLE `Person`(`id` STRING, `aliases` STRING[], `name` STRING"));
    assert!(schema.contains("COPY `GIVER` FROM 'relationships/GIVER_Gift_Person.parquet' (from='Gift', to='Person');"));
    // Kuzu's table names ignore case, so ITEM cannot sit beside the node table Item.
    assert!(schema.contains("the relationship type ITEM is the table ITEM_REL"));
    let query_file = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/who-gave-what.cypher");
    let ours = ws.cmd(&["query", "-f", query_file, "--format", "json"]).output().unwrap();
    let ours: serde_json::Value = serde_json::from_slice(&ours.stdout).unwrap();
    assert_eq!(ours.as_array().map(Vec::len), Some(7));
    let Some(python) = peer_python("kuzu_loads_the_tables") else { return };
    let query: String = std::fs::read_to_string(query_file)
        .unwrap()
        .lines()
        .filter(|line| !line.starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("[:ITEM]", "[:ITEM_REL]");
    let theirs = run_peer(&python, "export_kuzu.py", &[path_str(&dir), path_str(&ws.path("kuzu.db")), &query]);
    assert_eq!(theirs, ours);
}

/// A CSV file's header and rows.
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().iter().map(str::to_string).collect();
    let rows = reader.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect();
    (header, rows)
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

/// A property column of neo4j-admin's header grammar: `name` or `name:type` with one of
/// its types, an array type ending in `[]`.
fn is_property_column(column: &str) -> bool {
    let types = ["int", "long", "float", "double", "boolean", "byte", "short", "char", "string", "date", "datetime"];
    match column.split_once(':') {
        None => !column.is_empty(),
        Some((name, ty)) => !name.is_empty() && types.contains(&ty.trim_end_matches("[]")),
    }
}

/// `:ID(Space)` → `Space`, for the given field kind (`ID`, `START_ID`, `END_ID`).
fn id_space<'a>(column: &'a str, kind: &str) -> Option<&'a str> {
    let rest = column.split_once(':')?.1;
    rest.strip_prefix(kind)?.strip_prefix('(')?.strip_suffix(')')
}

#[test]
fn neo4j_csv_headers_follow_the_import_grammar_and_ids_line_up() {
    let ws = example();
    let (nodes, edges) = totals(&ws);
    let dir = ws.path("neo4j");
    export(&ws, &["--format", "csv", "-o", path_str(&dir)]);
    let mut ids: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut node_rows = 0;
    for file in files_in(&dir.join("nodes")) {
        let table = file.file_stem().unwrap().to_str().unwrap().to_string();
        let (header, rows) = read_csv(&file);
        assert_eq!(id_space(&header[0], "ID"), Some(table.as_str()), "{}: {header:?}", file.display());
        assert!(header[0].starts_with("id:"), "the key is also stored as the id property");
        assert_eq!(header[1], ":LABEL");
        assert!(header[2..].iter().all(|c| is_property_column(c)), "{header:?}");
        for row in &rows {
            assert!(row[1].split(';').any(|label| label == table), "{row:?} carries its table's label");
            assert!(ids.entry(table.clone()).or_default().insert(row[0].clone()), "duplicate id {}", row[0]);
        }
        node_rows += rows.len();
    }
    let person = read_csv(&dir.join("nodes/Person.csv")).0;
    assert!(person.contains(&"aliases:string[]".to_string()), "{person:?}");
    let reports = read_csv(&dir.join("relationships/REPORTED_IN_Meeting_Article.csv")).0;
    assert!(reports.contains(&"confidence:double".to_string()), "{reports:?}");
    let mut edge_rows = 0;
    for file in files_in(&dir.join("relationships")) {
        let (header, rows) = read_csv(&file);
        let from = id_space(&header[0], "START_ID").unwrap_or_else(|| panic!("{}: {header:?}", file.display()));
        let to = id_space(&header[1], "END_ID").unwrap_or_else(|| panic!("{}: {header:?}", file.display()));
        assert_eq!(header[2], ":TYPE");
        assert!(header[3..].iter().all(|c| is_property_column(c)), "{header:?}");
        for row in &rows {
            assert!(ids[from].contains(&row[0]), "{}: start {} is no {from} id", file.display(), row[0]);
            assert!(ids[to].contains(&row[1]), "{}: end {} is no {to} id", file.display(), row[1]);
            assert!(file.file_stem().unwrap().to_str().unwrap().starts_with(&format!("{}_", row[2])));
        }
        edge_rows += rows.len();
    }
    assert_eq!((u64::try_from(node_rows).unwrap(), u64::try_from(edge_rows).unwrap()), (nodes, edges));
    let script = std::fs::read_to_string(dir.join("neo4j-admin-import.sh")).unwrap();
    assert!(script.contains("neo4j-admin database import full") && script.contains("--array-delimiter=';'"));
    let listed = script.matches("--nodes=").count() + script.matches("--relationships=").count();
    assert_eq!(listed, files_in(&dir.join("nodes")).len() + files_in(&dir.join("relationships")).len());
}

/// A store whose text tries to break every format: markup, quotes, commas, semicolons,
/// line breaks, a control character, a backslash.
fn hostile() -> Workspace {
    let ws = Workspace::new();
    let entities = concat!(
        r#"{"ref":"a","kind":"Person","name":"Ann <b>&amp;</b> \"Q\"","aliases":["x;y","comma, here","line\nbreak"]},"#,
        r#"{"ref":"b","kind":"Person","name":"Bob \\ back\u0001slash"}"#
    );
    let facts =
        r#"{"type":"meeting","participants":["a","b"],"date":"2024-02","evidence":"said \"no\", then\nleft; <end>"}"#;
    let batch = ws.write("hostile.jsonl", &format!("{}\n", article("hostile-1", entities, facts)));
    let output = ws.ingest(&batch);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    ws
}

#[test]
fn untrusted_text_survives_xml_csv_parquet_and_dot() {
    let ws = hostile();
    let graphml = ws.path("h.graphml");
    export(&ws, &["--format", "graphml", "-o", path_str(&graphml)]);
    let text = std::fs::read_to_string(&graphml).unwrap();
    assert!(text.contains("Ann &lt;b&gt;&amp;amp;&lt;/b&gt; &quot;Q&quot;"), "{text}");
    assert!(text.contains("Bob \\ back\u{fffd}slash"), "XML cannot carry U+0001");
    xml_elements(&graphml, b"node");
    let gexf = ws.path("h.gexf");
    export(&ws, &["--format", "gexf", "-o", path_str(&gexf)]);
    let (_, gexf_nodes) = xml_elements(&gexf, b"node");
    assert!(gexf_nodes.iter().any(|n| n["label"] == "Ann <b>&amp;</b> \"Q\""));

    // A list item holds ';', so the arrays switch to the next delimiter and the script says so.
    let dir = ws.path("neo4j");
    export(&ws, &["--format", "csv", "-o", path_str(&dir)]);
    let (header, rows) = read_csv(&dir.join("nodes/Person.csv"));
    let name = header.iter().position(|c| c == "name").unwrap();
    let aliases = header.iter().position(|c| c == "aliases:string[]").unwrap();
    let ann = rows.iter().find(|r| r[name].starts_with("Ann")).unwrap();
    assert_eq!(ann[name], "Ann <b>&amp;</b> \"Q\"");
    assert_eq!(ann[aliases].split('|').collect::<Vec<_>>(), ["x;y", "comma, here", "line\nbreak"]);
    let script = std::fs::read_to_string(dir.join("neo4j-admin-import.sh")).unwrap();
    assert!(script.contains("--array-delimiter='|'"), "{script}");
    let (header, rows) = read_csv(&dir.join("relationships/REPORTED_IN_Meeting_Article.csv"));
    let evidence = header.iter().position(|c| c == "evidence").unwrap();
    assert_eq!(rows[0][evidence], "said \"no\", then\nleft; <end>");

    // Parquet holds any text: read it back with the parquet crate's own reader.
    let tables = ws.path("parquet");
    export(&ws, &["--format", "parquet", "-o", path_str(&tables)]);
    let file = std::fs::File::open(tables.join("nodes/Person.parquet")).unwrap();
    let reader = parquet::file::serialized_reader::SerializedFileReader::new(file).unwrap();
    let rows: Vec<BTreeMap<String, parquet::record::Field>> = reader
        .into_iter()
        .map(|row| row.unwrap().get_column_iter().map(|(name, field)| (name.clone(), field.clone())).collect())
        .collect();
    let text = |field: &parquet::record::Field| match field {
        parquet::record::Field::Str(text) => text.clone(),
        other => panic!("not a string: {other:?}"),
    };
    let ann = rows.iter().find(|r| text(&r["name"]).starts_with("Ann")).unwrap();
    assert_eq!(text(&ann["name"]), "Ann <b>&amp;</b> \"Q\"");
    let parquet::record::Field::ListInternal(aliases) = &ann["aliases"] else { panic!("aliases is a LIST") };
    let aliases: Vec<String> = aliases.elements().iter().map(text).collect();
    assert_eq!(aliases, ["x;y", "comma, here", "line\nbreak"]);
    assert!(rows.iter().any(|r| text(&r["name"]) == "Bob \\ back\u{1}slash"));

    let dot = ws.path("h.dot");
    export(&ws, &["--format", "dot", "-o", path_str(&dot)]);
    let text = std::fs::read_to_string(&dot).unwrap();
    assert!(text.contains(r#"[label="Ann <b>&amp;</b> \"Q\"", shape=ellipse"#), "{text}");
    assert!(text.contains(r#"[label="Bob \\ back slash", shape=ellipse"#), "{text}");
    let arrows = u64::try_from(text.lines().filter(|l| l.contains("->")).count()).unwrap();
    assert_eq!(arrows, ws.stats()["total_edges"].as_u64().unwrap());
}

#[test]
fn dot_draws_the_ego_network_around_a_name() {
    let ws = example();
    let dot = ws.path("sergei.dot");
    export(&ws, &["--format", "dot", "--around", "sergei  lavrov", "--hops", "1", "-o", path_str(&dot)]);
    let text = std::fs::read_to_string(&dot).unwrap();
    assert!(text.starts_with("digraph diplograph {") && text.trim_end().ends_with('}'));
    let visits = ws
        .cmd(&[
            "query",
            "MATCH (v:Visit)-[:VISITOR]->(:Person {name: 'Sergei Lavrov'}) RETURN count(*) AS n",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let visits: serde_json::Value = serde_json::from_slice(&visits.stdout).unwrap();
    let visits = visits[0]["n"].as_u64().unwrap();
    assert!(visits > 0);
    // One hop: Lavrov, the events naming him, the country he represents.
    let node_lines = text.lines().filter(|l| l.contains("[label=") && !l.contains("->")).count();
    let edge_lines = text.lines().filter(|l| l.contains("->")).count();
    assert!(text.contains(r#""person:sergei-lavrov" [label="Sergei Lavrov""#));
    assert!(!text.contains("Kim Jong Il"), "two hops away: {text}");
    assert_eq!(edge_lines, node_lines - 1, "a star around him: {text}");
    assert!(u64::try_from(edge_lines).unwrap() >= visits);

    ws.cmd(&["export", "--format", "dot", "--around", "Nobody Atall"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--around: no entity is named 'Nobody Atall'"));
}

#[test]
fn bad_export_flags_are_refused_with_what_to_do() {
    let ws = example();
    ws.cmd(&["export", "--format", "csv"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--format csv writes a directory of tables: give -o DIR"));
    let full = ws.path("full");
    std::fs::create_dir(&full).unwrap();
    std::fs::write(full.join("keep.txt"), "mine").unwrap();
    ws.cmd(&["export", "--format", "parquet", "-o", path_str(&full)])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not empty; export into a new or empty directory"));
    assert_eq!(std::fs::read_to_string(full.join("keep.txt")).unwrap(), "mine");
    ws.cmd(&["export", "--format", "graphml", "-o", path_str(&full)])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is a directory; --format graphml writes one file: give -o FILE"));
    ws.cmd(&["export", "--format", "graphml", "--gexf-version", "1.2draft"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--gexf-version applies to --format gexf only"));
    ws.cmd(&["export", "--format", "gexf", "--hops", "2"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--around"));
    ws.cmd(&["export", "--format", "pdf"]).assert().code(2).stderr(predicate::str::contains("possible values"));
    ws.cmd(&["export", "--format", "dot", "--around", "Putin", "--hops", "x"]).assert().code(2);
    let missing = Workspace::new();
    missing.cmd(&["export", "--format", "gexf"]).assert().code(2).stderr(predicate::str::contains("no store at"));
}

#[test]
fn a_one_file_export_goes_to_stdout_and_leaves_the_store_as_it_was() {
    let ws = example();
    let (nodes, edges) = totals(&ws);
    let before = ws.stats();
    let output = ws.cmd(&["export", "--format", "graphml"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.starts_with("<?xml") && text.trim_end().ends_with("</graphml>"));
    let summary = format!("exported {nodes} nodes and {edges} relationships to stdout");
    assert!(String::from_utf8_lossy(&output.stderr).contains(&summary));
    assert_eq!(ws.stats(), before);
    ws.cmd(&["check"]).assert().code(0);
}
