//! The query engine end to end on a small diplomatic graph: every query runs with the
//! index plan and the naive full-scan plan, and both must give the same rows.

use std::collections::BTreeMap;

use diplograph::model::{NodeId, NodeRecord, Value};
use diplograph::query::{self, ErrorKind, Params, QueryOptions};
use diplograph::store::{Store, WriteTxn};

fn props(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn s(text: &str) -> Value {
    Value::Str(text.to_string())
}

fn entity(
    txn: &mut WriteTxn<'_>,
    kind: &str,
    id: &str,
    name: &str,
    aliases: &[&str],
    extra: &[(&str, Value)],
) -> NodeId {
    let mut p =
        props(&[("id", s(id)), ("name", s(name)), ("aliases", Value::List(aliases.iter().map(|a| s(a)).collect()))]);
    p.extend(props(extra));
    txn.create_node(NodeRecord { labels: vec![kind.to_string()], props: p }, Some(kind)).expect("entity")
}

fn event(txn: &mut WriteTxn<'_>, labels: &[&str], id: &str, extra: &[(&str, Value)]) -> NodeId {
    let mut p = props(&[("id", s(id))]);
    p.extend(props(extra));
    txn.create_node(NodeRecord { labels: labels.iter().map(|l| l.to_string()).collect(), props: p }, None)
        .expect("event")
}

/// Kim and Putin swap rifles at Vostochny, Lavrov plans a visit to Pyongyang, Kim invites
/// Putin; one article reports the gifts and the meeting.
fn fixture() -> Store {
    let store = Store::temporary().expect("temporary store");
    let mut txn = store.begin().expect("begin");
    let t = &mut txn;
    let putin =
        entity(t, "Person", "person:vladimir-putin", "Vladimir Putin", &["Putin"], &[("title", s("President"))]);
    let kim = entity(t, "Person", "person:kim-jong-un", "Kim Jong Un", &["Kim Jong-un"], &[]);
    let lavrov = entity(t, "Person", "person:sergei-lavrov", "Sergei Lavrov", &[], &[]);
    let russia = entity(t, "Country", "country:russia", "Russia", &[], &[]);
    let dprk = entity(t, "Country", "country:north-korea", "North Korea", &["DPRK"], &[]);
    let vostochny = entity(t, "Place", "place:vostochny", "Vostochny Cosmodrome", &[], &[]);
    let pyongyang = entity(t, "Place", "place:pyongyang", "Pyongyang", &[], &[]);
    let rifle = entity(t, "Item", "item:rifle", "North Korean-made rifle", &[], &[]);
    let carbine = entity(t, "Item", "item:carbine", "Russian carbine", &[], &[]);
    let car = entity(t, "Item", "item:car", "Aurus limousine", &[], &[]);
    let gift1 = event(
        t,
        &["Gift", "Event"],
        "gift:1",
        &[("type", s("gift")), ("date", s("2023-09-13")), ("status", s("occurred"))],
    );
    let gift2 = event(
        t,
        &["Gift", "Event"],
        "gift:2",
        &[("type", s("gift")), ("date", s("2023-09-13")), ("status", s("occurred"))],
    );
    let meeting = event(
        t,
        &["Meeting", "Event"],
        "meeting:1",
        &[("type", s("meeting")), ("date", s("2023-09-13")), ("status", s("occurred"))],
    );
    let visit = event(
        t,
        &["Visit", "Event"],
        "visit:1",
        &[("type", s("visit")), ("date", s("2023-10")), ("status", s("planned"))],
    );
    let invitation = event(
        t,
        &["Invitation", "Event"],
        "invitation:1",
        &[("type", s("invitation")), ("date", Value::Null), ("status", s("accepted"))],
    );
    let article = event(t, &["Article"], "indopos-1", &[("outlet", s("Indopos")), ("published", s("2023-09-15"))]);
    let edges: Vec<(&str, NodeId, NodeId)> = vec![
        ("GIVER", gift1, kim),
        ("RECIPIENT", gift1, putin),
        ("ITEM", gift1, rifle),
        ("GIVER", gift2, putin),
        ("RECIPIENT", gift2, kim),
        ("ITEM", gift2, carbine),
        ("ITEM", gift2, car),
        ("PARTICIPANT", meeting, putin),
        ("PARTICIPANT", meeting, kim),
        ("PLACE", meeting, vostochny),
        ("VISITOR", visit, lavrov),
        ("DESTINATION", visit, pyongyang),
        ("INVITER", invitation, kim),
        ("INVITEE", invitation, putin),
        ("DESTINATION", invitation, pyongyang),
        ("REPRESENTS", putin, russia),
        ("REPRESENTS", kim, dprk),
        ("REPRESENTS", lavrov, russia),
        ("LOCATED_IN", vostochny, russia),
        ("LOCATED_IN", pyongyang, dprk),
    ];
    for (t, a, b) in edges {
        txn.create_edge(t, a, b, BTreeMap::new()).expect("edge");
    }
    for (e, according_to) in [(gift1, "Dmitry Peskov"), (gift2, "KCNA"), (meeting, "Indopos")] {
        txn.create_edge("REPORTED_IN", e, article, props(&[("evidence", s("…")), ("according_to", s(according_to))]))
            .expect("provenance");
    }
    txn.commit().expect("commit");
    store
}

/// Runs `text` with both plans and returns the rows as Cypher literals; rows are sorted
/// unless the query orders them.
fn run_with(store: &Store, text: &str, params: &Params) -> Vec<Vec<String>> {
    let indexed =
        query::run(store, text, params, &QueryOptions::default()).unwrap_or_else(|e| panic!("{}", e.render(text)));
    let naive = query::run(store, text, params, &QueryOptions { use_indexes: false, ..QueryOptions::default() })
        .unwrap_or_else(|e| panic!("naive plan: {}", e.render(text)));
    let shown = |rows: &Vec<Vec<query::value::QValue>>| -> Vec<Vec<String>> {
        rows.iter().map(|r| r.iter().map(ToString::to_string).collect()).collect()
    };
    let (mut a, mut b) = (shown(&indexed.rows), shown(&naive.rows));
    assert_eq!(indexed.columns, naive.columns);
    if !text.to_uppercase().contains("ORDER BY") {
        a.sort();
        b.sort();
    }
    assert_eq!(a, b, "index plan and naive plan disagree for {text}");
    a
}

fn run(store: &Store, text: &str) -> Vec<Vec<String>> {
    run_with(store, text, &Params::new())
}

fn error(store: &Store, text: &str) -> query::QueryError {
    match query::run(store, text, &Params::new(), &QueryOptions::default()) {
        Ok(result) => panic!("expected an error from {text}, got {:?}", result.rows),
        Err(e) => e,
    }
}

fn rows(expected: &[&[&str]]) -> Vec<Vec<String>> {
    expected.iter().map(|r| r.iter().map(|c| c.to_string()).collect()).collect()
}

#[test]
fn who_gave_what_to_whom() {
    let store = fixture();
    let got = run(
        &store,
        "MATCH (g:Gift)-[:GIVER]->(a), (g)-[:RECIPIENT]->(b), (g)-[:ITEM]->(i)
         RETURN a.name AS giver, i.name AS item, b.name AS recipient
         ORDER BY giver, item, recipient",
    );
    assert_eq!(
        got,
        rows(&[
            &["'Kim Jong Un'", "'North Korean-made rifle'", "'Vladimir Putin'"],
            &["'Vladimir Putin'", "'Aurus limousine'", "'Kim Jong Un'"],
            &["'Vladimir Putin'", "'Russian carbine'", "'Kim Jong Un'"],
        ])
    );
}

#[test]
fn name_anchor_with_a_parameter_is_exact() {
    let store = fixture();
    let mut params = Params::new();
    params.insert("giver".into(), s("Kim Jong Un"));
    let text = "MATCH (g:Gift)-[:GIVER]->(p:Person {name: $giver}), (g)-[:RECIPIENT]->(r), (g)-[:ITEM]->(i)
                RETURN p.name AS giver, i.name AS item, r.name AS recipient ORDER BY item, recipient";
    assert_eq!(
        run_with(&store, text, &params),
        rows(&[&["'Kim Jong Un'", "'North Korean-made rifle'", "'Vladimir Putin'"]])
    );
    // The alias normalises like the name, but Cypher equality is exact: no rows.
    params.insert("giver".into(), s("kim jong-un"));
    assert!(run_with(&store, text, &params).is_empty());
    let plan = query::prepare(&store, text, &QueryOptions::default()).expect("prepares").explain();
    assert!(plan.contains("NodeByName p:Person name = $giver"), "{plan}");
    let naive = query::prepare(&store, text, &QueryOptions { use_indexes: false, ..QueryOptions::default() })
        .expect("prepares")
        .explain();
    assert!(!naive.contains("NodeByName") && !naive.contains("LabelScan"), "{naive}");
}

#[test]
fn meetings_with_place_and_date() {
    let store = fixture();
    let got = run(
        &store,
        "MATCH (m:Meeting)-[:PARTICIPANT]->(a:Person {name: 'Vladimir Putin'}), (m)-[:PARTICIPANT]->(b:Person)
         WHERE a <> b
         OPTIONAL MATCH (m)-[:PLACE]->(p)
         RETURN b.name, p.name AS place, m.date",
    );
    assert_eq!(got, rows(&[&["'Kim Jong Un'", "'Vostochny Cosmodrome'", "'2023-09-13'"]]));
}

#[test]
fn optional_match_gives_nulls() {
    let store = fixture();
    let got = run(&store, "MATCH (e:Event) OPTIONAL MATCH (e)-[:PLACE]->(p) RETURN e.id, p.name ORDER BY e.id");
    assert_eq!(
        got,
        rows(&[
            &["'gift:1'", "null"],
            &["'gift:2'", "null"],
            &["'invitation:1'", "null"],
            &["'meeting:1'", "'Vostochny Cosmodrome'"],
            &["'visit:1'", "null"],
        ])
    );
    // WHERE inside OPTIONAL MATCH filters the optional part only.
    let got = run(
        &store,
        "MATCH (p:Person) OPTIONAL MATCH (p)-[:REPRESENTS]->(c) WHERE c.name = 'Russia' RETURN p.name, c.name",
    );
    assert_eq!(
        got,
        rows(&[&["'Kim Jong Un'", "null"], &["'Sergei Lavrov'", "'Russia'"], &["'Vladimir Putin'", "'Russia'"]])
    );
}

#[test]
fn aggregation_with_implicit_grouping() {
    let store = fixture();
    let got = run(
        &store,
        "MATCH (g:Gift)-[:GIVER]->(p), (g)-[:ITEM]->(i) RETURN p.name AS giver, count(i) AS items, collect(i.name) AS names ORDER BY giver",
    );
    assert_eq!(got.len(), 2);
    assert_eq!(got[0][..2], ["'Kim Jong Un'".to_string(), "1".to_string()]);
    assert_eq!(got[1][..2], ["'Vladimir Putin'".to_string(), "2".to_string()]);
    assert_eq!(
        run(&store, "MATCH (n:Nothing) RETURN count(*), sum(n.x), avg(n.x), collect(n)"),
        rows(&[&["0", "0", "null", "[]"]])
    );
    assert_eq!(
        run(&store, "MATCH (e:Event) WITH e.status AS status, count(*) AS n WHERE n > 1 RETURN status, n"),
        rows(&[&["'occurred'", "3"]])
    );
    assert_eq!(run(&store, "MATCH (e:Event) RETURN count(DISTINCT e.date) AS dates"), rows(&[&["2"]]));
}

#[test]
fn with_where_unwind_distinct_skip_limit() {
    let store = fixture();
    assert_eq!(
        run(&store, "UNWIND [3, 1, 2, 1] AS x RETURN DISTINCT x ORDER BY x DESC SKIP 1 LIMIT 1"),
        rows(&[&["2"]])
    );
    assert_eq!(run(&store, "UNWIND [] AS x RETURN x"), rows(&[]));
    assert_eq!(run(&store, "UNWIND null AS x RETURN x"), rows(&[]));
    assert_eq!(run(&store, "UNWIND 5 AS x RETURN x"), rows(&[&["5"]]));
    assert_eq!(
        run(&store, "MATCH (p:Person) WITH p ORDER BY p.name LIMIT 2 RETURN p.name"),
        rows(&[&["'Kim Jong Un'"], &["'Sergei Lavrov'"]])
    );
    let mut params = Params::new();
    params.insert("n".into(), Value::Int(1));
    assert_eq!(
        run_with(&store, "MATCH (p:Person) RETURN p.name ORDER BY p.name DESC LIMIT $n", &params),
        rows(&[&["'Vladimir Putin'"]])
    );
}

#[test]
fn variable_length_and_shortest_paths() {
    let store = fixture();
    let got =
        run(&store, "MATCH (a:Person {name: 'Sergei Lavrov'})-[:REPRESENTS]->(c)<-[:REPRESENTS]-(b) RETURN b.name");
    assert_eq!(got, rows(&[&["'Vladimir Putin'"]]));
    let got =
        run(&store, "MATCH (a {id: 'person:sergei-lavrov'})-[*1..2]-(b:Person) RETURN DISTINCT b.name ORDER BY b.name");
    assert_eq!(got, rows(&[&["'Vladimir Putin'"]]));
    let got = run(
        &store,
        "MATCH (a:Person {name: 'Sergei Lavrov'}), (b:Person {name: 'Kim Jong Un'}), p = shortestPath((a)-[*..6]-(b)) RETURN length(p)",
    );
    assert_eq!(got, rows(&[&["4"]]));
    let got = run(
        &store,
        "MATCH (a:Person {name: 'Vladimir Putin'}), (b:Person {name: 'Kim Jong Un'}), p = allShortestPaths((a)-[*]-(b)) RETURN count(p)",
    );
    // Via each gift, the meeting and the invitation.
    assert_eq!(got, rows(&[&["4"]]));
    let got =
        run(&store, "MATCH p = (g:Gift {id: 'gift:1'})-[r*0..1]->(x) RETURN length(p), size(r) ORDER BY length(p)");
    assert_eq!(got, rows(&[&["0", "0"], &["1", "1"], &["1", "1"], &["1", "1"], &["1", "1"]]));
}

#[test]
fn relationship_uniqueness_within_a_match() {
    let store = fixture();
    // Two different GIVER… no: the same relationship cannot serve both pattern parts.
    let got = run(&store, "MATCH (g:Gift)-[:ITEM]->(i), (g)-[:ITEM]->(j) RETURN g.id, i.name, j.name");
    assert_eq!(got.len(), 2, "{got:?}");
    let got = run(&store, "MATCH (g:Gift)-[:ITEM]->(i) MATCH (g)-[:ITEM]->(j) RETURN count(*)");
    assert_eq!(got, rows(&[&["5"]]));
}

#[test]
fn write_clauses_are_refused() {
    let store = fixture();
    let err = error(&store, "CREATE (n:Person {name: 'x'}) RETURN n");
    assert_eq!(err.kind, ErrorKind::Unsupported);
    assert!(err.message.contains("diplograph is read-only: CREATE is not supported"), "{}", err.message);
    assert_eq!(error(&store, "MATCH (n) DETACH DELETE n").kind, ErrorKind::Unsupported);
}

#[test]
fn errors_point_at_the_fault() {
    let store = fixture();
    let text = "MATCH (a:Person\nRETURN a";
    let err = error(&store, text);
    assert_eq!(err.kind, ErrorKind::Syntax);
    let rendered = err.render(text);
    assert!(rendered.starts_with("error: syntax error at line 2, column 1: expected"), "{rendered}");
    assert!(rendered.contains("found 'RETURN'"), "{rendered}");
    assert!(rendered.ends_with("  RETURN a\n  ^"), "{rendered}");
    let err = error(&store, "MATCH (a) RETURN foo(a)");
    assert_eq!(err.kind, ErrorKind::Semantic);
    assert!(err.message.contains("unknown function 'foo'"));
    let err = error(&store, "MATCH (a) RETURN x");
    assert!(err.to_string().contains("variable 'x' not defined"));
    assert_eq!(err.position.map(|p| p.column), Some(18));
}

#[test]
fn timeout_stops_a_runaway_query() {
    let store = fixture();
    let options = QueryOptions { timeout: Some(std::time::Duration::from_millis(50)), ..QueryOptions::default() };
    let err = query::run(&store, "MATCH (a), (b), (c), (d), (e), (f) RETURN count(*)", &Params::new(), &options)
        .expect_err("times out");
    assert_eq!(err.kind, ErrorKind::Timeout);
}

#[test]
fn row_limit_caps_held_rows() {
    let store = fixture();
    let options = QueryOptions { max_rows: Some(5), ..QueryOptions::default() };
    let err = query::run(&store, "UNWIND range(1, 10) AS x RETURN x ORDER BY x", &Params::new(), &options)
        .expect_err("too many");
    assert_eq!(err.kind, ErrorKind::RowLimit);
}

/// The deepest queries the parser accepts must also check, plan and run without
/// exhausting a test thread's stack.
#[test]
fn deepest_accepted_queries_run_on_a_small_stack() {
    let store = Store::temporary().expect("store");
    let shapes: Vec<Box<dyn Fn(usize) -> String>> = vec![
        Box::new(|n| format!("RETURN {}1{}", "(".repeat(n), ")".repeat(n))),
        Box::new(|n| format!("RETURN {}1{}", "[".repeat(n), "]".repeat(n))),
        Box::new(|n| format!("RETURN 1{}", " + 1".repeat(n))),
        Box::new(|n| format!("RETURN {}true", "NOT ".repeat(n))),
        Box::new(|n| format!("RETURN {}1", "- ".repeat(n))),
        Box::new(|n| format!("RETURN {}1{}", "CASE WHEN true THEN ".repeat(n), " END".repeat(n))),
        Box::new(|n| format!("RETURN {}1{}", "[x IN [1] | ".repeat(n), "]".repeat(n))),
        Box::new(|n| format!("RETURN {{a: 1}}{}", ".a".repeat(n))),
        Box::new(|n| format!("RETURN 1{}", " < 2".repeat(n))),
        Box::new(|n| format!("RETURN {}1{}", "toString(".repeat(n), ")".repeat(n))),
    ];
    for shape in &shapes {
        // The deepest nesting that still parses.
        let deepest = (1..200).take_while(|&n| query::parse(&shape(n)).is_ok()).last().unwrap_or(0);
        assert!(deepest >= 10, "only {deepest} levels of {}", shape(2));
        let text = shape(deepest);
        let _ = query::run(&store, &text, &Params::new(), &QueryOptions::default());
        let _ =
            query::run(&store, &text, &Params::new(), &QueryOptions { use_indexes: false, ..QueryOptions::default() });
    }
}

fn explain(store: &Store, text: &str, use_indexes: bool) -> String {
    query::prepare(store, text, &QueryOptions { use_indexes, ..QueryOptions::default() })
        .unwrap_or_else(|e| panic!("{}", e.render(text)))
        .explain()
}

/// The rows of `text` with indexes and with the naive plan, each sorted (for queries whose
/// order is unspecified).
fn rows_both_ways(store: &Store, text: &str) -> (Vec<String>, Vec<String>) {
    let sorted = |use_indexes: bool| {
        let options = QueryOptions { use_indexes, ..QueryOptions::default() };
        let result = query::run(store, text, &Params::new(), &options).unwrap_or_else(|e| panic!("{}", e.render(text)));
        let mut shown: Vec<String> = result.rows.iter().map(|r| format!("{r:?}")).collect();
        shown.sort();
        shown
    };
    (sorted(true), sorted(false))
}

#[test]
fn plan_for_who_gave_what_is_stable() {
    let store = fixture();
    let text = "MATCH (g:Gift)-[:GIVER]->(p:Person {name: $giver}), (g)-[:RECIPIENT]->(r), (g)-[:ITEM]->(i) \
                RETURN p.name AS giver, i.name AS item, r.name AS recipient ORDER BY item, recipient";
    assert_eq!(
        explain(&store, text, true),
        "Select giver, item, recipient
  Sort item, recipient
    Projection giver = p.name, item = i.name, recipient = r.name
      Expand (g)-[:ITEM]->(i)
        Expand (g)-[:RECIPIENT]->(r)
          Expand (p)<-[:GIVER]-(g:Gift)
            Filter p.name = $giver
              NodeByName p:Person name = $giver
"
    );
    assert_eq!(
        explain(&store, text, false),
        "Select giver, item, recipient
  Sort item, recipient
    Projection giver = p.name, item = i.name, recipient = r.name
      Expand (g)-[:ITEM]->(i)
        Expand (g)-[:RECIPIENT]->(r)
          Filter p.name = $giver
            Expand (g)-[:GIVER]->(p:Person)
              AllNodesScan g:Gift
"
    );
}

#[test]
fn planner_prefers_id_then_name_then_the_smallest_label() {
    let store = fixture();
    let plan = explain(&store, "MATCH (e:Event)-->(x {id: 'person:kim-jong-un'}) RETURN e", true);
    assert!(plan.contains("NodeByKey x id = 'person:kim-jong-un'"), "{plan}");
    let plan = explain(&store, "MATCH (n) WHERE n.id = $id RETURN n", true);
    assert!(plan.contains("NodeByKey n id = $id"), "{plan}");
    // Event has 5 nodes, Gift 2: the scan starts from Gift.
    let plan = explain(&store, "MATCH (e:Event:Gift) RETURN e", true);
    assert!(plan.contains("LabelScan e:Event:Gift using :Gift"), "{plan}");
    // Meetings (1) are fewer than persons (3): the walk starts at the meeting.
    let plan = explain(&store, "MATCH (p:Person)<-[:PARTICIPANT]-(m:Meeting) RETURN p", true);
    assert!(
        plan.contains("LabelScan m:Meeting using :Meeting") && plan.contains("Expand (m)-[:PARTICIPANT]->(p:Person)"),
        "{plan}"
    );
    // A name equality anchors only on entity labels, where the name index applies.
    let plan = explain(&store, "MATCH (p:Person) WHERE p.name = 'Kim Jong Un' RETURN p", true);
    assert!(plan.contains("NodeByName p:Person name = 'Kim Jong Un'"), "{plan}");
    let plan = explain(&store, "MATCH (a:Article {name: 'x'}) RETURN a", true);
    assert!(plan.contains("LabelScan a:Article"), "{plan}");
    // The naive plan never uses an index.
    for text in ["MATCH (x {id: 'a'}) RETURN x", "MATCH (p:Person {name: 'x'}) RETURN p", "MATCH (e:Event) RETURN e"] {
        let plan = explain(&store, text, false);
        assert!(plan.contains("AllNodesScan") && !plan.contains("Label") && !plan.contains("NodeBy"), "{plan}");
    }
}

#[test]
fn counts_grouped_by_the_far_node_are_read_from_adjacency() {
    let store = fixture();
    let counted = [
        "MATCH (g:Gift)-[:GIVER]->(p) RETURN p.name AS giver, count(g) AS gifts",
        "MATCH (g:Gift)-[r:RECIPIENT]->(p) RETURN p, toUpper(p.name) AS name, count(*), count(r) AS n",
        "MATCH (p)<-[:ITEM]-(g:Gift) RETURN count(*) AS items",
        // Both directions and a label on the far node.
        "MATCH (g:Gift)-[:GIVER|RECIPIENT]-(p:Person) RETURN p.name AS name, count(*) AS n",
        "MATCH (a:Article)<-[r]-(e) RETURN labels(e) AS kind, count(r) AS reports",
    ];
    for text in counted {
        let plan = explain(&store, text, true);
        assert!(plan.contains("NeighbourCounts :") && !plan.contains("Expand"), "{text}\n{plan}");
        let naive = explain(&store, text, false);
        assert!(!naive.contains("NeighbourCounts"), "{naive}");
        let (fast, slow) = rows_both_ways(&store, text);
        assert_eq!(fast, slow, "{text}");
    }
    // Grouping by the scanned node or the relationship, DISTINCT, other aggregates, a WHERE
    // or randomness need the rows themselves.
    for text in [
        "MATCH (g:Gift)-[:GIVER]->(p) RETURN g.id, count(p)",
        "MATCH (g:Gift)-[r:GIVER]->(p) RETURN type(r), count(p)",
        "MATCH (g:Gift)-[:GIVER]->(p) RETURN p.name, count(DISTINCT g)",
        "MATCH (g:Gift)-[:GIVER]->(p) RETURN p.name, collect(g.id)",
        "MATCH (g:Gift)-[:GIVER]->(p) WHERE g.id <> 'x' RETURN p.name, count(*)",
        "MATCH (g:Gift)-[:GIVER]->(p) RETURN p.name, rand() < 2.0 AS r, count(*)",
    ] {
        let plan = explain(&store, text, true);
        assert!(!plan.contains("NeighbourCounts"), "{text}\n{plan}");
    }
}

#[test]
fn distinct_aggregations_drop_duplicate_rows_at_the_last_expansion() {
    let store = fixture();
    let pruned = [
        "MATCH (p:Person)<-[:PARTICIPANT|GIVER|RECIPIENT]-(e)-->(x) WHERE x <> p RETURN p.name AS name, count(DISTINCT x) AS n",
        "MATCH (p:Person)<-[:GIVER]-(g)-[:ITEM]->(i) RETURN min(i.name) AS first, max(i.name) AS last, count(DISTINCT p) AS givers",
        "MATCH (a:Article)<-[:REPORTED_IN]-(e)-[r]->(x) RETURN a.id AS article, count(DISTINCT type(r)) AS kinds",
    ];
    for text in pruned {
        let plan = explain(&store, text, true);
        assert!(plan.contains("distinct on"), "{text}\n{plan}");
        let (fast, slow) = rows_both_ways(&store, text);
        assert_eq!(fast, slow, "{text}");
    }
    // Counting every row, or reading a variable of an earlier step, needs every row.
    for text in [
        "MATCH (p:Person)<-[:PARTICIPANT]-(e)-->(x) RETURN p.name, count(x)",
        "MATCH (p:Person)<-[:PARTICIPANT]-(e)-->(x) RETURN p.name, count(*)",
        "MATCH (p:Person)<-[:PARTICIPANT]-(e)-->(x) RETURN p.name, count(DISTINCT x), count(x)",
        "MATCH (p:Person)<-[:PARTICIPANT]-(e)-->(x) WHERE x.id <> toString(rand()) RETURN count(DISTINCT x)",
    ] {
        let plan = explain(&store, text, true);
        assert!(!plan.contains("distinct on"), "{text}\n{plan}");
    }
}

#[test]
fn key_and_name_anchors_fall_back_when_the_value_is_not_a_string() {
    let store = fixture();
    let mut params = Params::new();
    params.insert("id".into(), Value::Int(7));
    assert!(run_with(&store, "MATCH (n) WHERE n.id = $id RETURN n", &params).is_empty());
    params.insert("id".into(), Value::Null);
    assert!(run_with(&store, "MATCH (n {id: $id}) RETURN n", &params).is_empty());
    params.insert("id".into(), s("gift:2"));
    assert_eq!(run_with(&store, "MATCH (n {id: $id})-[:ITEM]->(i) RETURN count(i)", &params), rows(&[&["2"]]));
}

#[test]
fn results_format_as_table_json_and_csv() {
    let store = fixture();
    let text = "MATCH p = (g:Gift {id: 'gift:1'})-[r:GIVER]->(k) RETURN k.name AS name, k, r, p, [1, 'x'] AS list";
    let prepared = query::prepare(&store, text, &QueryOptions::default()).expect("prepares");
    let params = Params::new();

    let mut json = Vec::new();
    query::format::write_json(&mut json, prepared.columns(), prepared.execute(&store, &params).expect("runs"))
        .expect("writes");
    let json: serde_json::Value = serde_json::from_slice(&json).expect("valid JSON");
    let row = &json[0];
    assert_eq!(row["name"], "Kim Jong Un");
    assert_eq!(row["k"]["id"], "person:kim-jong-un");
    assert_eq!(row["k"]["labels"], serde_json::json!(["Person"]));
    assert_eq!(row["k"]["properties"]["name"], "Kim Jong Un");
    assert_eq!(row["r"]["type"], "GIVER");
    assert_eq!(row["r"]["start"], "gift:1");
    assert_eq!(row["r"]["end"], "person:kim-jong-un");
    assert_eq!(row["p"]["nodes"].as_array().map(Vec::len), Some(2));
    assert_eq!(row["p"]["relationships"][0]["type"], "GIVER");
    assert_eq!(row["list"], serde_json::json!([1, "x"]));

    let mut table = Vec::new();
    query::format::write_table(&mut table, prepared.columns(), prepared.execute(&store, &params).expect("runs"))
        .expect("writes");
    let table = String::from_utf8(table).expect("utf-8");
    assert!(table.contains("Kim Jong Un") && !table.contains("'Kim Jong Un' "), "strings are plain in cells:\n{table}");
    assert!(
        table.contains("(:Person {aliases: ['Kim Jong-un'], id: 'person:kim-jong-un', name: 'Kim Jong Un'})"),
        "{table}"
    );
    assert!(table.contains("[:GIVER]"), "{table}");
    assert!(table.contains("<(:Gift:Event {"), "{table}");
    assert!(table.ends_with("1 row\n"), "{table}");

    let mut csv = Vec::new();
    query::format::write_csv(&mut csv, prepared.columns(), prepared.execute(&store, &params).expect("runs"))
        .expect("writes");
    let csv = String::from_utf8(csv).expect("utf-8");
    assert!(csv.starts_with("name,k,r,p,list\nKim Jong Un,"), "{csv}");

    // An error mid-stream comes back from the writer.
    let failing =
        query::prepare(&store, "UNWIND [1, 0] AS x RETURN 1 / x AS y", &QueryOptions::default()).expect("prepares");
    let mut out = Vec::new();
    let err = query::format::write_json(&mut out, failing.columns(), failing.execute(&store, &params).expect("starts"))
        .expect_err("division by zero");
    assert!(matches!(err, query::format::FormatError::Query(ref e) if e.message.contains("division by zero")), "{err}");
}

#[test]
fn limit_stops_pulling_rows() {
    let store = Store::temporary().expect("store");
    let mut txn = store.begin().expect("begin");
    for i in 0..1000 {
        txn.create_node(NodeRecord { labels: vec!["N".into()], props: props(&[("i", Value::Int(i))]) }, None)
            .expect("node");
    }
    txn.commit().expect("commit");
    // A billion combinations, of which only three are ever built.
    let started = std::time::Instant::now();
    let options = QueryOptions { timeout: Some(std::time::Duration::from_secs(20)), ..QueryOptions::default() };
    let result = query::run(&store, "MATCH (a:N), (b:N), (c:N) RETURN a.i, b.i, c.i LIMIT 3", &Params::new(), &options)
        .expect("runs");
    assert_eq!(result.rows.len(), 3);
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "took {:?}", started.elapsed());
}

#[test]
fn unions_and_with_where_on_earlier_variables() {
    let store = fixture();
    assert_eq!(
        run(
            &store,
            "MATCH (p:Person) RETURN p.name AS n UNION MATCH (c:Country) RETURN c.name AS n UNION RETURN 'Russia' AS n"
        ),
        rows(&[&["'Kim Jong Un'"], &["'North Korea'"], &["'Russia'"], &["'Sergei Lavrov'"], &["'Vladimir Putin'"]])
    );
    assert_eq!(run(&store, "UNWIND [1, 1] AS x RETURN x UNION ALL RETURN 1 AS x"), rows(&[&["1"], &["1"], &["1"]]));
    assert_eq!(
        run(&store, "MATCH (p:Person) WITH p.name AS name WHERE p.title = 'President' RETURN name"),
        rows(&[&["'Vladimir Putin'"]])
    );
}

#[test]
fn order_by_nulls_types_and_shadowing_aliases() {
    let store = fixture();
    assert_eq!(run(&store, "UNWIND [2, null, 1] AS x RETURN x ORDER BY x"), rows(&[&["1"], &["2"], &["null"]]));
    assert_eq!(run(&store, "UNWIND [2, null, 1] AS x RETURN x ORDER BY x DESC"), rows(&[&["null"], &["2"], &["1"]]));
    assert_eq!(
        run(&store, "UNWIND [1, 'a', [1], {k: 1}, true, 1.5] AS x RETURN x ORDER BY x"),
        rows(&[&["{k: 1}"], &["[1]"], &["'a'"], &["true"], &["1"], &["1.5"]])
    );
    // ORDER BY `a` is the new `a`, not the `a` the item `a AS b` reads.
    assert_eq!(
        run(&store, "UNWIND [1, 2, 3] AS a WITH a AS b, -a AS a ORDER BY a RETURN b, a"),
        rows(&[&["3", "-3"], &["2", "-2"], &["1", "-1"]])
    );
    // ORDER BY may use a variable the projection drops, unless it aggregates.
    assert_eq!(
        run(&store, "MATCH (p:Person) RETURN p.name ORDER BY p.id"),
        rows(&[&["'Kim Jong Un'"], &["'Sergei Lavrov'"], &["'Vladimir Putin'"]])
    );
    assert_eq!(error(&store, "MATCH (p:Person) RETURN count(*) ORDER BY p.id").kind, ErrorKind::Semantic);
}

#[test]
fn pattern_predicates_and_bound_relationship_lists() {
    let store = fixture();
    assert_eq!(
        run(&store, "MATCH (p:Person) WHERE NOT (p)<-[:GIVER]-(:Gift) RETURN p.name"),
        rows(&[&["'Sergei Lavrov'"]])
    );
    assert_eq!(
        run(&store, "MATCH (p:Person) RETURN p.name, exists((p)<-[:INVITER]-()) AS invited ORDER BY p.name"),
        rows(&[&["'Kim Jong Un'", "true"], &["'Sergei Lavrov'", "false"], &["'Vladimir Putin'", "false"]])
    );
    assert_eq!(
        run(&store, "MATCH (p:Person {name: 'Kim Jong Un'}) RETURN [(p)-[:REPRESENTS]->(c) | c.name] AS countries"),
        rows(&[&["['North Korea']"]])
    );
    // A relationship list bound earlier fixes the walk of a variable-length pattern.
    let got = run(
        &store,
        "MATCH (v:Visit)-[r1:VISITOR]->(l)-[r2:REPRESENTS]->(c) WITH [r1, r2] AS rs MATCH (a)-[rs*]->(b) RETURN a.id, b.id",
    );
    assert_eq!(got, rows(&[&["'visit:1'", "'country:russia'"]]));
    let err = error(&store, "MATCH (n) WHERE (n)-->(m) RETURN n");
    assert!(err.message.contains("variable 'm' not defined"), "{}", err.message);
}

#[test]
fn a_list_literal_whose_first_item_is_an_in_test_is_not_a_comprehension() {
    // Found by the expression proptest: `[xs IN 0, 0]` was refused as a broken comprehension.
    let store = fixture();
    assert_eq!(run(&store, "WITH 1 AS x RETURN [x IN [1, 2], 0] AS l"), rows(&[&["[true, 0]"]]));
    assert_eq!(run(&store, "WITH 2 AS x RETURN [x IN [1, 2], x IN [3]] AS l"), rows(&[&["[true, false]"]]));
    assert_eq!(run(&store, "RETURN [x IN [1, 2] WHERE x > 1 | x * 10] AS l"), rows(&[&["[20]"]]));
}
