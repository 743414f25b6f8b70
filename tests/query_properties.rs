//! Property tests of the query front end: the lexer and parser never panic, every error
//! has a position, and whatever parses prints back to the same tree.

use std::time::Duration;

use diplograph::model::{NodeRecord, Value};
use diplograph::query::{self, Params, QueryOptions};
use diplograph::store::Store;
use proptest::prelude::*;

/// Words and symbols that make up Cypher, for token soups more likely to get past the
/// first token than random text.
const TOKENS: &[&str] = &[
    "MATCH",
    "OPTIONAL",
    "WHERE",
    "RETURN",
    "WITH",
    "UNWIND",
    "AS",
    "ORDER",
    "BY",
    "DESC",
    "SKIP",
    "LIMIT",
    "DISTINCT",
    "AND",
    "OR",
    "XOR",
    "NOT",
    "IN",
    "IS",
    "NULL",
    "STARTS",
    "ENDS",
    "CONTAINS",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "true",
    "false",
    "null",
    "count",
    "collect",
    "size",
    "shortestPath",
    "all",
    "any",
    "reduce",
    "exists",
    "UNION",
    "ALL",
    "CREATE",
    "SET",
    "DELETE",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ".",
    "..",
    ":",
    "|",
    "-",
    "->",
    "<-",
    "--",
    "*",
    "+",
    "/",
    "%",
    "^",
    "=",
    "<>",
    "<",
    ">",
    "<=",
    ">=",
    "=~",
    "$p",
    "n",
    "m",
    "r",
    "p",
    "x",
    "a",
    "b",
    "Person",
    "KNOWS",
    "name",
    "1",
    "0",
    "-1",
    "2.5",
    "1e3",
    "'s'",
    "\"t\"",
    "`q`",
    "0x1F",
    ";",
    "\n",
    "//c\n",
    "/*c*/",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..40).prop_map(|tokens| tokens.join(" "))
}

/// A few nodes and relationships, so token soups that run have something to match.
fn small_store() -> Store {
    let store = Store::temporary().expect("store");
    let mut txn = store.begin().expect("begin");
    let mut ids = Vec::new();
    for (i, name) in ["Ann", "Bob", "Cid"].iter().enumerate() {
        let props = [("name".to_string(), Value::Str(name.to_string())), ("x".to_string(), Value::Int(i as i64))];
        let record = NodeRecord { labels: vec!["Person".into()], props: props.into_iter().collect() };
        ids.push(txn.create_node(record, None).expect("node"));
    }
    txn.create_edge("KNOWS", ids[0], ids[1], Default::default()).expect("edge");
    txn.create_edge("KNOWS", ids[1], ids[2], Default::default()).expect("edge");
    txn.create_edge("KNOWS", ids[2], ids[0], Default::default()).expect("edge");
    txn.commit().expect("commit");
    store
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn parsing_arbitrary_text_never_panics(text in any::<String>()) {
        if let Err(e) = query::parse(&text) {
            prop_assert!(e.position.is_some(), "no position: {e}");
        }
    }

    #[test]
    fn parsing_token_soups_never_panics_and_errors_point(text in soup()) {
        match query::parse(&text) {
            Err(e) => {
                let position = e.position.expect("a syntax error has a position");
                prop_assert!(position.line >= 1 && position.column >= 1, "{e}");
                prop_assert!(position.offset <= text.len());
                let _ = e.render(&text);
            }
            Ok(tree) => {
                // Whatever parses prints back as a query with the same tree.
                let printed = tree.to_string();
                let again = query::parse(&printed);
                prop_assert!(again.is_ok(), "{text:?} printed as {printed:?} does not parse: {:?}", again.err());
                prop_assert_eq!(again.ok(), Some(tree), "{:?} printed as {:?}", text, printed);
            }
        }
    }

    #[test]
    fn running_token_soups_never_panics(text in soup()) {
        let store = small_store();
        let options = QueryOptions { timeout: Some(Duration::from_millis(200)), max_rows: Some(10_000), ..QueryOptions::default() };
        match query::prepare(&store, &text, &options) {
            Err(e) => prop_assert!(e.position.is_some(), "compile-time error without a position: {e}"),
            Ok(prepared) => {
                let mut params = Params::new();
                params.insert("p".into(), Value::Int(1));
                let outcome = prepared.execute(&store, &params).map(|rows| rows.take(100).take_while(Result::is_ok).count());
                let _ = outcome;
            }
        }
    }
}

/// Random well-formed expressions over literals, a list variable and most operators.
fn expression() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(|i| i.to_string()),
        (-1000.0f64..1000.0).prop_map(|x| format!("{x:?}")),
        "[a-z]{0,3}".prop_map(|s| format!("'{s}'")),
        Just("null".to_string()),
        Just("true".to_string()),
        Just("false".to_string()),
        Just("xs".to_string()),
        Just("$p".to_string()),
        Just("m.k".to_string()),
    ];
    leaf.prop_recursive(4, 48, 4, |inner| {
        let op = prop::sample::select(vec![
            "+",
            "-",
            "*",
            "/",
            "%",
            "^",
            "=",
            "<>",
            "<",
            "<=",
            ">",
            ">=",
            "AND",
            "OR",
            "XOR",
            "IN",
            "STARTS WITH",
            "ENDS WITH",
            "CONTAINS",
            "=~",
        ]);
        prop_oneof![
            (inner.clone(), op, inner.clone()).prop_map(|(a, op, b)| format!("{a} {op} {b}")),
            inner.clone().prop_map(|a| format!("({a})")),
            inner.clone().prop_map(|a| format!("NOT {a}")),
            inner.clone().prop_map(|a| format!("-{a}")),
            inner.clone().prop_map(|a| format!("{a} IS NULL")),
            prop::collection::vec(inner.clone(), 0..4).prop_map(|items| format!("[{}]", items.join(", "))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{{k: {a}, j: {b}}}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a})[{b}]")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, c)| format!("CASE WHEN {a} THEN {b} ELSE {c} END")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("[x IN {a} WHERE x = {b} | x]")),
            (
                prop::sample::select(vec!["size", "toString", "head", "abs", "toUpper", "coalesce", "toInteger"]),
                inner.clone()
            )
                .prop_map(|(f, a)| format!("{f}({a})")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn generated_expressions_round_trip_and_evaluate_without_panics(expr in expression()) {
        let text = format!("WITH [1, 2, 'a', null] AS xs, {{k: 1}} AS m RETURN {expr} AS v");
        let tree = match query::parse(&text) {
            Ok(tree) => tree,
            // Literal overflow (`--9223372036854775808`) is a legitimate syntax error.
            Err(e) => {
                prop_assert!(e.message.contains("overflow") || e.message.contains("nested too deeply"), "{}", e.render(&text));
                return Ok(());
            }
        };
        let printed = tree.to_string();
        let again = query::parse(&printed).map_err(|e| e.render(&printed));
        prop_assert_eq!(again, Ok(tree), "{} printed as {}", text, printed);
        let store = Store::temporary().expect("store");
        let mut params = Params::new();
        params.insert("p".into(), Value::Float(0.5));
        let options = QueryOptions { timeout: Some(Duration::from_millis(500)), ..QueryOptions::default() };
        if let Err(e) = query::run(&store, &text, &params, &options) {
            // Whatever fails, fails with a message and never a panic.
            prop_assert!(!e.message.is_empty());
        }
    }
}
