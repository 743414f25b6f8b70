//! Data-driven query suite: every `tests/queries/*.cypher` runs over the example batch,
//! with indexes and with the naive full-scan plan; both must equal `*.expected`.
//! `UPDATE_EXPECT=1 cargo test --test golden_queries` rewrites the expected files (review the diff).

use std::path::Path;

use diplograph::ingest::Ingester;
use diplograph::model::Value;
use diplograph::ontology::Ontology;
use diplograph::query::{self, Params, QueryOptions};
use diplograph::store::Store;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/kim-putin-2023.jsonl");
const QUERIES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/queries");

fn example_store() -> Store {
    let store = Store::temporary().expect("temporary store");
    let mut ingester = Ingester::new(&store, Ontology::embedded(), None).expect("ingester");
    let file = std::fs::File::open(EXAMPLE).expect("example batch");
    ingester
        .ingest("example", std::io::BufReader::new(file), &|_| {}, &mut |d| {
            panic!("example batch rejected a record: {d}")
        })
        .expect("ingest");
    ingester.finish().expect("flush");
    store
}

/// `// params: {json}` on the first line binds parameters.
fn params_of(text: &str) -> Params {
    let Some(json) = text.lines().next().and_then(|l| l.strip_prefix("// params:")) else { return Params::new() };
    let value: serde_json::Value = serde_json::from_str(json.trim()).expect("params header is JSON");
    value.as_object().expect("params is an object").iter().map(|(k, v)| (k.clone(), Value::from_json(v))).collect()
}

/// Runs a query and renders the result as the JSON the CLI prints.
fn run_as_json(store: &Store, text: &str, params: &Params, use_indexes: bool) -> String {
    let options = QueryOptions { use_indexes, ..QueryOptions::default() };
    let prepared = query::prepare(store, text, &options).unwrap_or_else(|e| panic!("{}", e.render(text)));
    let rows = prepared.execute(store, params).unwrap_or_else(|e| panic!("{}", e.render(text)));
    let mut out = Vec::new();
    query::format::write_json(&mut out, prepared.columns(), rows).unwrap_or_else(|e| panic!("{e}"));
    let json: serde_json::Value = serde_json::from_slice(&out).expect("write_json prints JSON");
    serde_json::to_string_pretty(&json).expect("pretty JSON") + "\n"
}

#[test]
fn golden_queries_over_the_example_batch() {
    let store = example_store();
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut paths: Vec<_> =
        std::fs::read_dir(QUERIES).expect("tests/queries").map(|e| e.expect("entry").path()).collect();
    paths.retain(|p| p.extension().is_some_and(|e| e == "cypher"));
    paths.sort();
    assert!(paths.len() >= 10, "the suite has its queries");
    let mut failures = Vec::new();
    for path in &paths {
        let text = std::fs::read_to_string(path).expect("query file");
        let params = params_of(&text);
        let indexed = run_as_json(&store, &text, &params, true);
        let naive = run_as_json(&store, &text, &params, false);
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("?").to_string();
        if indexed != naive {
            failures.push(format!(
                "{name}: the indexed plan and the naive plan disagree\nindexed: {indexed}\nnaive: {naive}"
            ));
            continue;
        }
        let expected_path = path.with_extension("expected");
        if update {
            std::fs::write(&expected_path, &indexed).expect("write expected");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != indexed {
            failures.push(format!("{name}: expected\n{expected}got\n{indexed}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_golden_query_has_an_expected_file() {
    for entry in std::fs::read_dir(QUERIES).expect("tests/queries") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "cypher") {
            assert!(Path::new(&path.with_extension("expected")).exists(), "{} has no .expected file", path.display());
        }
    }
}
