//! Fuzzes the query lexer, parser, semantic checks and planner, and runs what plans (with a
//! deadline and a row cap) against a store holding the example batch.
//!
//! Properties: nothing panics or hangs; a syntax error always carries a position in the text;
//! a running query ends within its deadline.

#![no_main]

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use diplograph::ingest::Ingester;
use diplograph::ontology::Ontology;
use diplograph::query::{self, ErrorKind, Params, QueryOptions};
use diplograph::store::Store;
use libfuzzer_sys::fuzz_target;

const EXAMPLE: &str = include_str!("../../examples/kim-putin-2023.jsonl");

fn store() -> &'static Store {
    static STORE: OnceLock<Store> = OnceLock::new();
    STORE.get_or_init(|| {
        let store = Store::temporary().expect("temporary store");
        let mut ingester = Ingester::new(&store, Ontology::embedded(), None).expect("ingester");
        ingester
            .ingest("example", EXAMPLE.as_bytes(), &|_| {}, &mut |d| panic!("example rejected: {d}"))
            .expect("ingest");
        ingester.finish().expect("finish");
        store
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(err) = query::parse(text) {
        assert!(err.kind != ErrorKind::Syntax || err.position.is_some(), "a syntax error without a position: {err:?}");
    }
    let deadline = Duration::from_millis(200);
    let options = QueryOptions { use_indexes: true, timeout: Some(deadline), max_rows: Some(10_000) };
    let Ok(prepared) = query::prepare(store(), text, &options) else {
        return;
    };
    let _ = prepared.explain();
    let started = Instant::now();
    let params = Params::new();
    if let Ok(rows) = prepared.execute(store(), &params) {
        for row in rows.take(20_000) {
            if row.is_err() {
                break;
            }
        }
    }
    // Generous: the deadline is checked between rows, and the fuzzer's instrumentation is slow.
    assert!(
        started.elapsed() < deadline * 20,
        "a query ran {:?} past a {deadline:?} deadline: {text}",
        started.elapsed()
    );
});
