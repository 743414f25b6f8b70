//! The analytics procedures through the real engine: what the projection links and how it
//! weighs ties (on small hand-made batches with known answers), its cache following the
//! store's commits, option errors that name the option, and agreement with NetworkX on a
//! generated store (with DIPLOGRAPH_TEST_PEERS=1; see tests/common/mod.rs).

mod common;
mod harness;

use std::collections::BTreeMap;

use diplograph::ingest::Ingester;
use diplograph::ontology::Ontology;
use diplograph::query::value::QValue;
use diplograph::query::{self, ErrorKind, Params, QueryError, QueryOptions};
use diplograph::store::{OpenMode, Store};
use harness::{generate, run, text, GenOptions};

fn ingest(store: &Store, batch: &str) {
    let mut ingester = Ingester::new(store, Ontology::embedded(), None).expect("ingester");
    ingester
        .ingest("batch", std::io::Cursor::new(batch.to_string()), &|_| {}, &mut |d| panic!("rejected: {d}"))
        .expect("ingest");
    ingester.finish().expect("flush");
}

fn store_of(batch: &str) -> Store {
    let store = Store::temporary().expect("temporary store");
    ingest(&store, batch);
    store
}

fn rows(store: &Store, text: &str) -> Vec<String> {
    let result = query::run(store, text, &Params::new(), &QueryOptions::default())
        .unwrap_or_else(|e| panic!("{}", e.render(text)));
    result.rows.iter().map(|r| r.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(" | ")).collect()
}

fn error(store: &Store, text: &str) -> QueryError {
    match query::run(store, text, &Params::new(), &QueryOptions::default()) {
        Ok(result) => panic!("{text} should fail, gave {} rows", result.rows.len()),
        Err(e) => e,
    }
}

/// Ties as `a -> b weight` (or `a - b` when undirected), sorted.
fn ties(store: &Store, options: &str) -> Vec<String> {
    let arrow = if options.contains("directed: true") { "->" } else { "-" };
    let out = rows(
        store,
        &format!(
            "CALL algo.ties({options}) YIELD source, target, weight \
             RETURN source.name + ' {arrow} ' + target.name + ' ' + toString(weight)"
        ),
    );
    let mut out: Vec<String> = out.into_iter().map(|t| t.trim_matches('\'').to_string()).collect();
    out.sort();
    out
}

const PEOPLE: &str = r#"{"ref":"a","kind":"Person","name":"Ann","country":"Aland"},{"ref":"b","kind":"Person","name":"Bob","country":"Bolia"},{"ref":"c","kind":"Person","name":"Cem","country":"Cadia"},{"ref":"bc","kind":"Place","name":"Bolton","country":"Bolia"}"#;

fn article(id: &str, facts: &str) -> String {
    format!(
        r#"{{"article":{{"id":"{id}","published":"2024-05-01","outlet":"T"}},"entities":[{PEOPLE}],"facts":[{facts}]}}"#
    ) + "\n"
}

/// A meeting of three (2024-01), a bilateral meeting reported twice (2024-03), a visit of
/// Ann to a Bolian town (2024-06) and a gift from Cem to Ann (2023-11).
fn sample() -> Store {
    let three = r#"{"type":"meeting","participants":["a","b","c"],"date":"2024-01-10"}"#;
    let two = r#"{"type":"meeting","participants":["a","b"],"date":"2024-03"}"#;
    let visit = r#"{"type":"visit","visitor":"a","destination":"bc","date":"2024-06-02"}"#;
    let gift = r#"{"type":"gift","giver":"c","recipient":"a","items":["vase"],"date":"2023-11"}"#;
    let batch =
        [article("one", &format!("{three},{two}")), article("two", two), article("three", &format!("{visit},{gift}"))]
            .concat();
    store_of(&batch)
}

#[test]
fn persons_are_linked_by_shared_events_and_weighed_three_ways() {
    let store = sample();
    assert_eq!(ties(&store, "{}"), ["Ann - Bob 2.0", "Ann - Cem 2.0", "Bob - Cem 1.0"]);
    // Newman: the meeting of three gives each pair 1/2, the bilateral one 1.
    assert_eq!(ties(&store, "{weight: 'newman'}"), ["Ann - Bob 1.5", "Ann - Cem 1.5", "Bob - Cem 0.5"]);
    // Articles: Ann and Bob share events reported by two articles.
    assert_eq!(ties(&store, "{weight: 'articles'}"), ["Ann - Bob 2.0", "Ann - Cem 2.0", "Bob - Cem 1.0"]);
    assert_eq!(ties(&store, "{minWeight: 2}"), ["Ann - Bob 2.0", "Ann - Cem 2.0"]);
    assert_eq!(ties(&store, "{eventTypes: ['gift']}"), ["Ann - Cem 1.0"]);
    // The window keeps 2024-01-10 and 2024-03, not 2023-11 or 2024-06.
    assert_eq!(
        ties(&store, "{from: '2024-01', to: '2024-05-31'}"),
        ["Ann - Bob 2.0", "Ann - Cem 1.0", "Bob - Cem 1.0"]
    );
}

#[test]
fn directed_ties_run_from_giver_and_visitor_and_countries_stand_for_their_people_and_places() {
    let store = sample();
    assert_eq!(ties(&store, "{directed: true, eventTypes: ['Gift']}"), ["Cem -> Ann 1.0"]);
    assert_eq!(
        ties(&store, "{directed: true, eventTypes: ['Meeting']}"),
        ["Ann -> Bob 2.0", "Ann -> Cem 1.0", "Bob -> Ann 2.0", "Bob -> Cem 1.0", "Cem -> Ann 1.0", "Cem -> Bob 1.0"]
    );
    // Ann's visit to a Bolian town links Aland to Bolia.
    assert_eq!(ties(&store, "{level: 'country', directed: true, eventTypes: ['Visit']}"), ["Aland -> Bolia 1.0"]);
    assert_eq!(ties(&store, "{level: 'country'}"), ["Aland - Bolia 3.0", "Aland - Cadia 2.0", "Bolia - Cadia 1.0"]);
    assert_eq!(ties(&store, "{labels: ['Person', 'Place'], eventTypes: ['Visit']}"), ["Ann - Bolton 1.0"]);
}

#[test]
fn results_are_nodes_that_compose_with_the_rest_of_the_query() {
    let store = sample();
    assert_eq!(
        rows(
            &store,
            "CALL algo.pageRank({level: 'country', directed: true}) YIELD node, score \
             MATCH (node)<-[:REPRESENTS]-(p:Person) RETURN node.name, p.name ORDER BY score DESC, node.name"
        ),
        ["'Aland' | 'Ann'", "'Bolia' | 'Bob'", "'Cadia' | 'Cem'"]
    );
    assert_eq!(
        rows(
            &store,
            "CALL algo.degree() YIELD node, degree, strength RETURN node.name, degree, strength ORDER BY node.name"
        ),
        ["'Ann' | 2 | 4.0", "'Bob' | 2 | 3.0", "'Cem' | 2 | 3.0"]
    );
    let communities = rows(&store, "CALL algo.wcc() YIELD component, size RETURN DISTINCT component, size");
    assert_eq!(communities, ["0 | 3"]);
}

#[test]
fn brokers_dyads_drift_similarity_and_paths_on_known_ties() {
    let store = sample();
    // Ann holds Bob and Cem together only with their own tie: no articulation point.
    assert_eq!(
        rows(&store, "CALL algo.brokers({eventTypes: ['Gift', 'Visit']}) YIELD node, articulationPoint RETURN node.name, articulationPoint"),
        ["'Ann' | false", "'Cem' | false"]
    );
    assert_eq!(
        rows(&store, "CALL algo.brokers({minWeight: 2}) YIELD node, articulationPoint, constraint RETURN node.name, articulationPoint, constraint"),
        ["'Ann' | true | 0.5", "'Bob' | false | 1.0", "'Cem' | false | 1.0"]
    );
    assert_eq!(
        rows(&store, "CALL algo.dyads({period: 'quarter'}) YIELD a, b, period, events, weight RETURN a.name, b.name, period, events, weight"),
        [
            "'Ann' | 'Bob' | '2024-Q1' | 2 | 2.0",
            "'Ann' | 'Cem' | '2023-Q4' | 1 | 1.0",
            "'Ann' | 'Cem' | '2024-Q1' | 1 | 1.0",
            "'Bob' | 'Cem' | '2024-Q1' | 1 | 1.0"
        ]
    );
    assert_eq!(
        rows(&store, "CALL algo.drift({before: ['2023', '2023'], after: ['2024-01', '2024-02']}) YIELD a, b, before, after, change RETURN a.name, b.name, before, after, change"),
        ["'Ann' | 'Bob' | 0.0 | 1.0 | 1.0", "'Bob' | 'Cem' | 0.0 | 1.0 | 1.0"],
        "Ann and Cem's tie did not change, so it is not listed"
    );
    assert_eq!(
        rows(&store, "CALL algo.similarity({minWeight: 2}) YIELD a, b, similarity, shared RETURN a.name, b.name, similarity, shared"),
        ["'Bob' | 'Cem' | 1.0 | 1"]
    );
    assert_eq!(
        rows(&store, "CALL algo.path('Bob', 'person:cem', {minWeight: 2}) YIELD nodes, cost, hops, weights RETURN [n IN nodes | n.name], cost, hops, weights"),
        ["['Bob', 'Ann', 'Cem'] | 1.0 | 2 | [2.0, 2.0]"]
    );
    let e = error(&store, "CALL algo.path('Ann', 'Bolton')");
    assert!(e.message.contains("argument `target`: 'Bolton' is not an actor of this projection"), "{}", e.message);
    let e = error(&store, "CALL algo.drift({before: ['2024', '2023']})");
    assert!(e.message.contains("option `before`: '2023' is before '2024'"), "{}", e.message);
    let e = error(&store, "CALL algo.drift({from: '2024', before: ['2023', '2023'], after: ['2024', '2024']})");
    assert!(e.message.contains("option `from`: drift compares the windows"), "{}", e.message);
}

#[test]
fn the_projection_follows_the_store_after_a_commit() {
    let store = sample();
    let before = store.generation();
    assert_eq!(ties(&store, "{eventTypes: ['Visit'], labels: ['Person']}"), Vec::<String>::new());
    let host = r#"{"type":"visit","visitor":"a","destination":"bc","host":"b","date":"2024-07"}"#;
    ingest(&store, &article("four", host));
    assert_ne!(store.generation(), before, "a commit moves the store to a new generation");
    assert_eq!(ties(&store, "{eventTypes: ['Visit'], labels: ['Person']}"), ["Ann - Bob 1.0"]);
}

#[test]
fn bad_options_are_refused_naming_the_option() {
    let store = sample();
    let cases = [
        ("CALL algo.pageRank({level: 'city'})", "option `level`: expected 'person', 'country' or 'organization'"),
        ("CALL algo.pageRank({eventTypes: ['Summit']})", "option `eventTypes`: unknown event type 'Summit'"),
        ("CALL algo.degree({from: 'May 2024'})", "option `from`: expected a date"),
        ("CALL algo.degree({weight: 'tons'})", "option `weight`: expected 'events', 'articles' or 'newman'"),
        ("CALL algo.degree({minWeight: 'two'})", "option `minWeight`: expected a number"),
        ("CALL algo.pageRank({dampingFactor: 1.5})", "option `dampingFactor`: expected a number from 0 to 1"),
        ("CALL algo.betweenness({samples: 0})", "option `samples`: expected an integer from 1"),
        ("CALL algo.louvain({resolution: -1})", "option `resolution`: expected a number from 0"),
        ("CALL algo.wcc({seed: 1})", "option `seed`: unknown option"),
        ("CALL algo.pageRank({level: 'person', labels: ['Person']})", "option `labels`: give either"),
    ];
    for (text, wanted) in cases {
        let e = error(&store, text);
        assert!(e.message.contains(wanted), "{text}: {}", e.message);
        assert!(e.render(text).contains("^"), "the caret points at the options: {}", e.render(text));
    }
    // A literal options map is checked before the query runs; one from a parameter when it runs.
    let literal = query::prepare(&store, "CALL algo.pageRank({levle: 'person'})", &QueryOptions::default());
    assert_eq!(literal.err().map(|e| e.kind), Some(ErrorKind::Semantic));
    let params = Params::from([(
        "o".to_string(),
        diplograph::model::Value::Map(BTreeMap::from([("levle".to_string(), diplograph::model::Value::Int(1))])),
    )]);
    let e = query::run(&store, "CALL algo.pageRank($o)", &params, &QueryOptions::default()).expect_err("bad option");
    assert_eq!(e.kind, ErrorKind::Runtime);
    assert!(e.message.contains("option `levle`: unknown option"), "{}", e.message);
    let e = error(&store, "CALL algo.path('Ann', 'Bob', {level: 'planet'})");
    assert!(e.message.contains("argument `options`: option `level`"), "{}", e.message);
    let e = error(&store, "CALL algo.pageRank('country')");
    assert!(e.message.contains("argument `options` of algo.pageRank must be MAP?"), "{}", e.message);
}

/// Everything NetworkX needs, and our answers, for one projection.
fn agreement_document(store: &Store, options: &str) -> serde_json::Value {
    let run = |text: String| {
        query::run(store, &text, &Params::new(), &QueryOptions::default())
            .unwrap_or_else(|e| panic!("{}", e.render(&text)))
    };
    let key = |v: &QValue| match v {
        QValue::Str(s) => s.to_string(),
        other => panic!("expected an id, got {other}"),
    };
    let float = |v: &QValue| match v {
        QValue::Float(x) => *x,
        other => panic!("expected a float, got {other}"),
    };
    let nodes: Vec<String> =
        run(format!("CALL algo.degree({options}) YIELD node RETURN node.id")).rows.iter().map(|r| key(&r[0])).collect();
    let ties: Vec<serde_json::Value> =
        run(format!("CALL algo.ties({options}) YIELD source, target, weight RETURN source.id, target.id, weight"))
            .rows
            .iter()
            .map(|r| serde_json::json!([key(&r[0]), key(&r[1]), float(&r[2])]))
            .collect();
    let scores = |procedure: &str, field: &str| -> BTreeMap<String, serde_json::Value> {
        run(format!("CALL {procedure}({options}) YIELD node, {field} RETURN node.id, {field}"))
            .rows
            .iter()
            .map(|r| {
                let value = match &r[1] {
                    QValue::Float(x) => serde_json::json!(x),
                    QValue::Int(i) => serde_json::json!(i),
                    other => panic!("unexpected {other}"),
                };
                (key(&r[0]), value)
            })
            .collect()
    };
    let modularity =
        run(format!("CALL algo.louvain({options}) YIELD modularity RETURN modularity LIMIT 1")).rows[0][0].clone();
    serde_json::json!({
        "directed": options.contains("directed: true"),
        "nodes": nodes,
        "ties": ties,
        "pagerank": scores("algo.pageRank", "score"),
        "betweenness": scores("algo.betweenness", "score"),
        "components": scores("algo.wcc", "component"),
        "constraint": run(format!("CALL algo.brokers({options}) YIELD node, constraint RETURN node.id, constraint"))
            .rows
            .iter()
            .map(|r| (key(&r[0]), match &r[1] {
                QValue::Float(x) => serde_json::json!(x),
                _ => serde_json::Value::Null,
            }))
            .collect::<BTreeMap<String, serde_json::Value>>(),
        "louvain": scores("algo.louvain", "community"),
        "modularity": float(&modularity),
    })
}

#[test]
fn networkx_agrees_on_pagerank_betweenness_components_modularity_and_constraint() {
    let Some(python) =
        common::peer_python("networkx_agrees_on_pagerank_betweenness_components_modularity_and_constraint")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("graph.db");
    let batch = dir.path().join("batch.jsonl");
    std::fs::write(&batch, generate(GenOptions { articles: 1500, seed: 11, replacements: false })).expect("batch");
    let output = run(&db, &["ingest", batch.to_str().expect("utf-8 path")]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let store = Store::open(&db, OpenMode::MustExist).expect("open");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/networkx_agreement.py");
    let projections = [
        "{}",
        "{level: 'country', directed: true, weight: 'newman', minWeight: 10}",
        "{eventTypes: ['Meeting', 'Visit'], minWeight: 4}",
        "{directed: true, eventTypes: ['Gift'], weight: 'articles'}",
    ];
    let documents: Vec<serde_json::Value> = projections.iter().map(|o| agreement_document(&store, o)).collect();
    let input = dir.path().join("projections.json");
    std::fs::write(&input, serde_json::Value::Array(documents).to_string()).expect("write projections");
    let output = std::process::Command::new(&python).arg(script).arg(&input).output().expect("run python");
    assert!(output.status.success(), "NetworkX failed: {}", String::from_utf8_lossy(&output.stderr));
    let reports: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).expect("NetworkX reports");
    assert_eq!(reports.len(), projections.len());
    for (options, report) in projections.iter().zip(&reports) {
        println!("{options}: {report}");
        let number = |key: &str| report[key].as_f64().unwrap_or_else(|| panic!("{key} in {report}"));
        assert!(number("nodes") >= 10.0 && number("ties") >= 10.0, "{options}: too small to tell: {report}");
        assert!(number("pagerank_max_diff") < 1e-6, "{options}: PageRank differs: {report}");
        assert!(number("betweenness_max_diff") < 1e-9, "{options}: betweenness differs: {report}");
        assert_eq!(report["same_components"], true, "{options}: components differ: {report}");
        assert!(number("constraint_max_diff") < 1e-9, "{options}: Burt's constraint differs: {report}");
        assert_eq!(report["constraint_missing_differs"], false, "{options}: {report}");
        let ours = number("our_modularity");
        assert!((ours - number("networkx_modularity_of_our_partition")).abs() < 1e-9, "{options}: {report}");
        assert!(ours >= number("networkx_louvain_modularity") - 0.02, "{options}: our Louvain is worse: {report}");
    }
}
