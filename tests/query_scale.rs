//! The indexed plans on a store large enough to use every physical path: more nodes than one
//! label chunk (4,096 ids, so label checks read several chunk bitmaps), entities whose
//! adjacency spilled into chunks, pages shared by many events. The benchmark's query shapes
//! (BENCHMARKS.md) and a few neighbours of them must return exactly what the naive plans
//! (full scans, no index, no counts from statistics or adjacency) return.

mod harness;

use diplograph::model::Value;
use diplograph::query::value::QValue;
use diplograph::query::{self, Params, QueryOptions};
use diplograph::store::{OpenMode, Store};
use harness::{generate, run, text, GenOptions};

fn rows(store: &Store, text: &str, params: &Params, use_indexes: bool) -> Vec<String> {
    let options = QueryOptions { use_indexes, ..QueryOptions::default() };
    let result = query::run(store, text, params, &options).unwrap_or_else(|e| panic!("{}", e.render(text)));
    result.rows.iter().map(|row| row.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(" | ")).collect()
}

/// The first column of the first row, as a string parameter.
fn first(store: &Store, text: &str, params: &Params) -> Value {
    let result =
        query::run(store, text, params, &QueryOptions::default()).unwrap_or_else(|e| panic!("{}", e.render(text)));
    let cell = result.rows.first().and_then(|row| row.first()).unwrap_or_else(|| panic!("no row for {text}"));
    match cell {
        QValue::Str(name) => Value::Str(name.to_string()),
        other => panic!("expected a name from {text}, got {other}"),
    }
}

#[test]
fn indexed_plans_agree_with_naive_plans_on_a_generated_store() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("graph.db");
    let batch = dir.path().join("batch.jsonl");
    std::fs::write(&batch, generate(GenOptions { articles: 1500, seed: 3, replacements: false })).expect("write batch");
    let output = run(&db, &["ingest", batch.to_str().expect("utf-8 path")]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let store = Store::open(&db, OpenMode::MustExist).expect("open");
    let stats = store.stats().expect("stats");
    assert!(stats.nodes > 4096, "the store should span several label chunks: {} nodes", stats.nodes);

    let mut params = Params::new();
    let busiest = first(
        &store,
        "MATCH (e:Event)-[:PARTICIPANT|GIVER|RECIPIENT]->(p:Person) RETURN p.name AS n, count(*) AS c ORDER BY c DESC, n LIMIT 1",
        &params,
    );
    for key in ["giver", "a", "src"] {
        params.insert(key.into(), busiest.clone());
    }
    let partner = first(
        &store,
        "MATCH (a:Person {name: $a})<-[:PARTICIPANT]-(:Meeting)-[:PARTICIPANT]->(b:Person) \
         RETURN b.name AS n, count(*) AS c ORDER BY c DESC, n LIMIT 1",
        &params,
    );
    params.insert("b".into(), partner.clone());
    params.insert("far".into(), partner);

    let queries = [
        "MATCH (g:Gift)-[:GIVER]->(p:Person {name: $giver}), (g)-[:RECIPIENT]->(r), (g)-[:ITEM]->(i) RETURN p.name AS giver, i.name AS item, r.name AS recipient ORDER BY item, recipient",
        "MATCH (a:Person {name: $a})<-[:PARTICIPANT]-(m:Meeting)-[:PARTICIPANT]->(b:Person {name: $b}) RETURN m.id AS meeting, m.date AS date, m.status AS status ORDER BY date, meeting",
        "MATCH (p:Person {name: $a})<-[:PARTICIPANT|GIVER|RECIPIENT|VISITOR|HOST|INVITER|INVITEE]-(e)-[:PARTICIPANT|GIVER|RECIPIENT|ITEM|VISITOR|DESTINATION|HOST|INVITER|INVITEE|PLACE]->(x) WHERE x.id <> p.id RETURN count(DISTINCT x) AS neighbours",
        "MATCH (a:Person {name: $src}), (b:Person {name: $far}) MATCH p = shortestPath((a)-[:PARTICIPANT|GIVER|RECIPIENT|VISITOR|HOST|INVITER|INVITEE*..12]-(b)) RETURN length(p) AS hops",
        "MATCH (g:Gift)-[:GIVER]->(p) RETURN p.name AS giver, count(g) AS gifts ORDER BY gifts DESC, giver LIMIT 10",
        "MATCH (e:Event) RETURN e.type AS type, count(*) AS n ORDER BY type",
        "MATCH (v:Visit)-[:DESTINATION]->(c:Country) RETURN c.name AS country, count(*) AS visits ORDER BY visits DESC, country",
        "MATCH (p:Person {name: $a})<-[:PARTICIPANT]-(m:Meeting) RETURN m.status AS status, count(*) AS n ORDER BY status",
        "MATCH (m:Meeting)-[:PARTICIPANT]->(p:Person) WHERE m.status = 'planned' RETURN p.name AS name, count(m) AS n ORDER BY n DESC, name LIMIT 20",
        "MATCH (a:Article)<-[:REPORTED_IN]-(e:Gift) RETURN a.outlet AS outlet, count(e) AS gifts ORDER BY outlet",
    ];
    for text in queries {
        let indexed = rows(&store, text, &params, true);
        let naive = rows(&store, text, &params, false);
        assert!(!indexed.is_empty(), "no rows for {text}");
        assert_eq!(indexed, naive, "the indexed and the naive plan disagree on {text}");
    }
}
