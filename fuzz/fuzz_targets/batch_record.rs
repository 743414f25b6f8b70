//! Fuzzes the batch reader and the record validator, then resolution and writing of every
//! valid record against a store holding the example batch (into a transaction that is never
//! committed, so runs do not grow the store).
//!
//! Properties: nothing panics; every record starts on a line of the input, in order; every
//! rejection is a non-empty list of errors, each naming a field and giving a reason.

#![no_main]

use std::sync::OnceLock;

use diplograph::ingest::read::read_all;
use diplograph::ingest::resolve::{resolve_article, ResolveError};
use diplograph::ingest::validate::validate_record;
use diplograph::ingest::write::write_article;
use diplograph::ingest::Ingester;
use diplograph::ontology::Ontology;
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

fn judge(bytes: &[u8]) {
    let ontology = Ontology::embedded();
    match validate_record(bytes, ontology) {
        Ok(record) => {
            let store = store();
            let mut txn = store.begin().expect("begin");
            match resolve_article(record, ontology, &txn) {
                Ok(resolved) => {
                    write_article(&resolved, ontology, &mut txn).expect("writing a resolved record into a transaction");
                }
                Err(ResolveError::Rejected(errors)) => {
                    assert!(!errors.is_empty());
                    for error in errors {
                        assert!(!error.field.is_empty() && !error.reason.is_empty(), "{error:?}");
                    }
                }
                Err(ResolveError::Store(err)) => panic!("store error while resolving: {err}"),
            }
            // Dropped uncommitted: the store keeps only the example.
        }
        Err(errors) => {
            assert!(!errors.is_empty(), "a rejection without a reason");
            for error in errors {
                assert!(!error.field.is_empty() && !error.reason.is_empty(), "{error:?}");
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    judge(data);
    let records = read_all(data).expect("reading from memory cannot fail");
    let lines = data.iter().filter(|&&b| b == b'\n').count() + 1;
    let mut previous = 1;
    for record in records {
        assert!(record.line >= previous && record.line <= lines, "record at line {} of {lines}", record.line);
        previous = record.line;
        match record.defect {
            Some(defect) => assert!(!defect.is_empty()),
            None => judge(&record.bytes),
        }
    }
});
