//! `CALL` through the real engine: parsing, the semantic checks against the registry,
//! planning (`--explain`) and execution of standalone and in-query calls, on the example
//! batch and on procedures registered by the test.

use std::sync::Arc;

use diplograph::ingest::Ingester;
use diplograph::model::Value;
use diplograph::ontology::Ontology;
use diplograph::query::procedures::{FieldType, Registry, Signature, TableProcedure};
use diplograph::query::value::QValue;
use diplograph::query::{self, ErrorKind, Params, QueryError, QueryOptions, QueryResult};
use diplograph::store::Store;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/kim-putin-2023.jsonl");

fn example_store() -> Store {
    let store = Store::temporary().expect("temporary store");
    let mut ingester = Ingester::new(&store, Ontology::embedded(), None).expect("ingester");
    let file = std::fs::File::open(EXAMPLE).expect("example batch");
    ingester
        .ingest("example", std::io::BufReader::new(file), &|_| {}, &mut |d| panic!("rejected: {d}"))
        .expect("ingest");
    ingester.finish().expect("flush");
    store
}

/// A registry with the built-ins and `test.city(name :: STRING?, id :: INTEGER? = 1) :: (city, code)`.
fn registry() -> Arc<Registry> {
    let mut registry = Registry::with_builtins();
    let signature = Signature::new("test.city", "a table")
        .arg("name", FieldType::String)
        .optional("id", FieldType::Integer, Value::Int(1))
        .output("city", FieldType::String)
        .output("code", FieldType::Integer);
    let row = |name: &str, id: i64, city: &str, code: i64| {
        vec![QValue::str(name), QValue::Int(id), QValue::str(city), QValue::Int(code)]
    };
    registry.register(Arc::new(TableProcedure::new(
        signature,
        vec![row("Stefan", 1, "Berlin", 49), row("Stefan", 2, "München", 49), row("Petra", 1, "London", 44)],
    )));
    let void = Signature::new("test.nothing", "does nothing");
    registry.register(Arc::new(TableProcedure::new(void, Vec::new())));
    Arc::new(registry)
}

fn run_params(store: &Store, text: &str, params: &Params) -> Result<QueryResult, QueryError> {
    let registry = registry();
    let indexed = query::run_with(store, text, params, &QueryOptions::default(), &registry);
    let naive = query::run_with(
        store,
        text,
        params,
        &QueryOptions { use_indexes: false, ..QueryOptions::default() },
        &registry,
    );
    match (&indexed, &naive) {
        (Ok(a), Ok(b)) => assert_eq!(render(a), render(b), "index and naive plans disagree on {text}"),
        (Err(a), Err(b)) => assert_eq!(a.kind, b.kind, "{text}"),
        _ => panic!("index plan and naive plan disagree on {text}: {indexed:?} / {naive:?}"),
    }
    indexed
}

fn run(store: &Store, text: &str) -> Result<QueryResult, QueryError> {
    run_params(store, text, &Params::new())
}

fn rows(store: &Store, text: &str) -> Vec<String> {
    let result = run(store, text).unwrap_or_else(|e| panic!("{}", e.render(text)));
    render(&result)
}

fn render(result: &QueryResult) -> Vec<String> {
    result.rows.iter().map(|r| r.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(" | ")).collect()
}

fn error(store: &Store, text: &str) -> (ErrorKind, String) {
    match run(store, text) {
        Ok(result) => panic!("{text} should fail, gave {:?}", render(&result)),
        Err(e) => (e.kind, e.render(text)),
    }
}

#[test]
fn standalone_call_returns_every_field_and_in_query_call_binds_the_yielded_ones() {
    let store = example_store();
    let all = run(&store, "CALL db.labels()").expect("runs");
    assert_eq!(all.columns, ["label", "nodeCount"]);
    assert!(render(&all).contains(&"'Person' | 4".to_string()), "{:?}", render(&all));
    let star = run(&store, "CALL db.labels() YIELD *").expect("runs");
    assert_eq!(render(&star), render(&all));
    assert_eq!(
        rows(&store, "CALL db.labels() YIELD label AS l, nodeCount AS n WHERE n = 4 RETURN l ORDER BY l"),
        ["'Article'", "'Gift'", "'Invitation'", "'Meeting'", "'Person'"]
    );
    // In-query: each input row meets each procedure row.
    assert_eq!(
        rows(
            &store,
            "MATCH (c:Country) CALL db.relationshipTypes() YIELD relationshipType AS t WHERE t STARTS WITH 'REP' RETURN c.name, t ORDER BY c.name, t"
        ),
        [
            "'North Korea' | 'REPORTED_IN'",
            "'North Korea' | 'REPRESENTS'",
            "'Russia' | 'REPORTED_IN'",
            "'Russia' | 'REPRESENTS'"
        ]
    );
}

#[test]
fn a_void_procedure_passes_rows_on_inside_a_query_and_returns_nothing_alone() {
    let store = example_store();
    assert_eq!(
        rows(&store, "MATCH (c:Country) CALL test.nothing() RETURN c.name ORDER BY c.name"),
        ["'North Korea'", "'Russia'"]
    );
    let alone = run(&store, "CALL test.nothing").expect("runs");
    assert!(alone.columns.is_empty() && alone.rows.is_empty());
}

#[test]
fn arguments_are_matched_defaulted_and_taken_from_parameters_when_standalone() {
    let store = example_store();
    assert_eq!(rows(&store, "CALL test.city('Stefan', 2)"), ["'München' | 49"]);
    assert_eq!(rows(&store, "CALL test.city('Stefan')"), ["'Berlin' | 49"], "id defaults to 1");
    let params = Params::from([("name".to_string(), Value::Str("Petra".into()))]);
    let result = run_params(&store, "CALL test.city", &params).expect("runs");
    assert_eq!(render(&result), ["'London' | 44"]);
    let err = run(&store, "CALL test.city").expect_err("no parameter");
    assert!(err.message.contains("parameter $name"), "{}", err.message);
    // Arguments evaluate per row.
    assert_eq!(
        rows(&store, "UNWIND ['Petra', 'Stefan'] AS who CALL test.city(who) YIELD city RETURN who, city"),
        ["'Petra' | 'London'", "'Stefan' | 'Berlin'"]
    );
}

#[test]
fn bad_calls_are_refused_before_running_with_the_place_and_the_name() {
    let store = example_store();
    let (kind, text) = error(&store, "CALL db.lables()");
    assert_eq!(kind, ErrorKind::Semantic);
    assert!(text.contains("no procedure called db.lables") && text.contains("dbms.procedures"), "{text}");
    assert!(text.contains("line 1, column 6"), "{text}");

    let (_, text) = error(&store, "CALL test.city('a', 1, 2)");
    assert!(text.contains("takes 1 to 2 arguments (name :: STRING?, id :: INTEGER?) but was given 3"), "{text}");
    let (_, text) = error(&store, "CALL test.city()");
    assert!(text.contains("but was given 0"), "{text}");

    let (kind, text) = error(&store, "CALL test.city(true)");
    assert_eq!(kind, ErrorKind::Semantic);
    assert!(text.contains("argument `name` of test.city must be STRING?, not Boolean"), "{text}");

    let (_, text) = error(&store, "CALL test.city('a') YIELD town RETURN town");
    assert!(text.contains("yields no field 'town'; its fields are: city, code"), "{text}");

    let (_, text) = error(&store, "CALL test.city('a') YIELD * RETURN city");
    assert!(text.contains("YIELD * is only allowed in a standalone CALL"), "{text}");

    let (_, text) = error(&store, "CALL test.city YIELD city RETURN city");
    assert!(text.contains("must be passed in parentheses"), "{text}");

    let (_, text) = error(&store, "WITH 1 AS city CALL test.city('a') YIELD city RETURN city");
    assert!(text.contains("variable 'city' is already defined"), "{text}");
    let (_, text) = error(&store, "CALL test.city('a') YIELD city AS x, code AS x RETURN x");
    assert!(text.contains("variable 'x' is already defined"), "{text}");

    let (_, text) = error(&store, "MATCH (n) CALL test.city(count(n)) YIELD city RETURN city");
    assert!(text.contains("procedure arguments"), "{text}");

    let (_, text) = error(&store, "CALL test.city('a') RETURN city");
    assert!(text.contains("'city' not defined"), "an in-query call without YIELD binds nothing: {text}");

    let (kind, text) = error(&store, "CALL { MATCH (n) RETURN n } RETURN 1");
    assert_eq!(kind, ErrorKind::Unsupported);
    assert!(text.contains("CALL { … } subqueries are not supported"), "{text}");

    let (_, text) = error(&store, "CALL test.city('a') YIELD city MATCH (n)");
    assert!(text.contains("cannot end with MATCH"), "{text}");
}

#[test]
fn an_argument_of_the_wrong_type_at_run_time_is_named() {
    let store = example_store();
    let params = Params::from([("n".to_string(), Value::Int(3))]);
    let err = run_params(&store, "CALL test.city($n) YIELD city RETURN city", &params).expect_err("wrong type");
    assert_eq!(err.kind, ErrorKind::Type);
    assert!(err.message.contains("argument `name` of test.city must be STRING?, not Integer"), "{}", err.message);
}

#[test]
fn explain_shows_the_call_with_its_arguments_and_yields() {
    let store = example_store();
    let text = "MATCH (c:Country) CALL test.city(c.name) YIELD city AS town WHERE town <> 'x' RETURN town";
    let plan = query::prepare_with(&store, text, &QueryOptions::default(), &registry()).expect("prepares").explain();
    assert!(plan.contains("ProcedureCall test.city(c.name) YIELD city AS town"), "{plan}");
    assert!(plan.contains("Filter town <> 'x'"), "{plan}");
    let implicit = query::prepare_with(&store, "CALL test.city", &QueryOptions::default(), &registry())
        .expect("prepares")
        .explain();
    assert!(implicit.contains("ProcedureCall test.city($name, $id) YIELD city, code"), "{implicit}");
}

#[test]
fn schema_procedures_describe_the_example_store() {
    let store = example_store();
    let keys = rows(&store, "CALL db.propertyKeys() YIELD propertyKey RETURN collect(propertyKey) AS keys");
    for key in ["'evidence'", "'id'", "'name'", "'published'", "'status'"] {
        assert!(keys[0].contains(key), "{keys:?} lacks {key}");
    }
    let triples = rows(
        &store,
        "CALL db.schema.visualization() YIELD relationships UNWIND relationships AS r \
         RETURN r.start + '-' + r.type + '->' + r.end AS t ORDER BY t",
    );
    assert!(triples.contains(&"'Gift-GIVER->Person'".to_string()), "{triples:?}");
    assert!(triples.contains(&"'Person-REPRESENTS->Country'".to_string()), "{triples:?}");
    assert!(!triples.iter().any(|t| t.starts_with("'Article-")), "nothing leaves an article: {triples:?}");
    assert_eq!(
        rows(&store, "CALL dbms.components() YIELD name, edition RETURN name, edition"),
        ["'diplograph' | 'community'"]
    );
    let names = rows(&store, "CALL dbms.procedures() YIELD name RETURN name");
    assert!(names.contains(&"'db.labels'".to_string()) && names.contains(&"'test.city'".to_string()), "{names:?}");
}
