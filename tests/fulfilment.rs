//! Derived FULFILLED_BY links (contract §2): a planned visit or meeting to the occurred one
//! that fulfils it, an accepted invitation to the visit that took it up. Kept exact by
//! ingest, re-ingest and remove; verified by `check`; re-derived by `restore`; counted by
//! `stats`.

mod common;

use common::{article, Workspace};
use diplograph::check::check_store;
use diplograph::ingest::fulfil::FULFILLED_BY;
use diplograph::ingest::Ingester;
use diplograph::ontology::Ontology;
use diplograph::store::{Direction, Store};

const PEOPLE: &str = r#"{"ref":"lavrov","kind":"Person","name":"Sergei Lavrov"},{"ref":"kim","kind":"Person","name":"Kim Jong Un"},{"ref":"choe","kind":"Person","name":"Choe Son Hui"}"#;

fn visit(status: &str, date: &str) -> String {
    format!(r#"{{"type":"visit","visitor":"lavrov","destination":"Pyongyang","status":"{status}","date":"{date}"}}"#)
}

/// `(plan date, fulfilling date)` for every FULFILLED_BY link, by plan.
fn links(ws: &Workspace) -> Vec<(String, String, String)> {
    let output = ws
        .cmd(&[
            "query",
            "MATCH (p)-[:FULFILLED_BY]->(o) RETURN p.type AS type, coalesce(p.date, '-') AS planned, o.date AS occurred ORDER BY type, planned, occurred",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let rows: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let field = |k: &str| r[k].as_str().unwrap().to_string();
            (field("type"), field("planned"), field("occurred"))
        })
        .collect()
}

fn check_ok(ws: &Workspace) {
    let output = ws.cmd(&["check"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "check: {}", String::from_utf8_lossy(&output.stdout));
}

fn ingest_lines(ws: &Workspace, name: &str, lines: &[String]) {
    let file = ws.write(name, &(lines.join("\n") + "\n"));
    let output = ws.ingest(&file);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
}

fn triple(kind: &str, planned: &str, occurred: &str) -> (String, String, String) {
    (kind.to_string(), planned.to_string(), occurred.to_string())
}

#[test]
fn a_planned_visit_is_fulfilled_by_the_earliest_visit_on_or_after_its_date() {
    let ws = Workspace::new();
    ingest_lines(
        &ws,
        "a.jsonl",
        &[
            article("plan", PEOPLE, &visit("planned", "2023-10")),
            article("too-early", PEOPLE, &visit("occurred", "2023-09-30")),
            article("later", PEOPLE, &visit("occurred", "2023-11-02")),
        ],
    );
    assert_eq!(links(&ws), [triple("visit", "2023-10", "2023-11-02")]);
    // An earlier visit within the planned month takes the link over.
    ingest_lines(&ws, "b.jsonl", &[article("within", PEOPLE, &visit("occurred", "2023-10-18"))]);
    assert_eq!(links(&ws), [triple("visit", "2023-10", "2023-10-18")]);
    check_ok(&ws);
    assert_eq!(ws.stats()["edges"][FULFILLED_BY], 1);

    // Removing the fulfilling report hands the link to the next candidate, then to none.
    ws.cmd(&["remove", "within"]).assert().code(0);
    assert_eq!(links(&ws), [triple("visit", "2023-10", "2023-11-02")]);
    check_ok(&ws);
    ws.cmd(&["remove", "later"]).assert().code(0);
    assert_eq!(links(&ws), []);
    assert!(ws.stats()["edges"].get(FULFILLED_BY).is_none());
    check_ok(&ws);
}

#[test]
fn re_ingesting_and_replacing_keep_the_links_exact() {
    let ws = Workspace::new();
    let batch = [
        article("plan", PEOPLE, &visit("planned", "2023-10")),
        article("trip", PEOPLE, &visit("occurred", "2023-10-18")),
    ];
    ingest_lines(&ws, "a.jsonl", &batch);
    ingest_lines(&ws, "a.jsonl", &batch);
    assert_eq!(links(&ws), [triple("visit", "2023-10", "2023-10-18")]);
    assert_eq!(ws.stats()["edges"][FULFILLED_BY], 1);
    // The plan's article now reports another destination: its link goes.
    let elsewhere =
        r#"{"type":"visit","visitor":"lavrov","destination":"Beijing","status":"planned","date":"2023-10"}"#;
    ingest_lines(&ws, "b.jsonl", &[article("plan", PEOPLE, elsewhere)]);
    assert_eq!(links(&ws), []);
    check_ok(&ws);
    // And back.
    ingest_lines(&ws, "c.jsonl", &[article("plan", PEOPLE, &visit("planned", "2023-10"))]);
    assert_eq!(links(&ws), [triple("visit", "2023-10", "2023-10-18")]);
    check_ok(&ws);
}

#[test]
fn meetings_need_the_same_participants_and_invitations_the_invitee_and_destination() {
    let ws = Workspace::new();
    let meeting = |status: &str, date: &str, who: &str| {
        format!(r#"{{"type":"meeting","participants":{who},"status":"{status}","date":"{date}"}}"#)
    };
    let invitation = |status: &str, destination: &str| {
        format!(
            r#"{{"type":"invitation","inviter":"kim","invitee":"lavrov","destination":"{destination}","status":"{status}","date":"2023-09"}}"#
        )
    };
    ingest_lines(
        &ws,
        "a.jsonl",
        &[
            article("m-plan", PEOPLE, &meeting("planned", "2023-10", r#"["lavrov","kim"]"#)),
            article("m-other", PEOPLE, &meeting("occurred", "2023-10-03", r#"["lavrov","kim","choe"]"#)),
            article("m-held", PEOPLE, &meeting("occurred", "2023-10-19", r#"["kim","lavrov"]"#)),
            article("i-accepted", PEOPLE, &invitation("accepted", "Pyongyang")),
            article("i-extended", PEOPLE, &invitation("extended", "Pyongyang")),
            article("i-elsewhere", PEOPLE, &invitation("accepted", "Wonsan")),
            article("trip", PEOPLE, &visit("occurred", "2023-10-18")),
        ],
    );
    assert_eq!(links(&ws), [triple("invitation", "2023-09", "2023-10-18"), triple("meeting", "2023-10", "2023-10-19")]);
    check_ok(&ws);
}

#[test]
fn an_undated_plan_counts_from_its_first_report() {
    let ws = Workspace::new();
    let undated = r#"{"type":"visit","visitor":"lavrov","destination":"Pyongyang","status":"planned"}"#;
    // `article` publishes on 2024-01-02: a visit before that cannot fulfil the plan.
    ingest_lines(
        &ws,
        "a.jsonl",
        &[
            article("plan", PEOPLE, undated),
            article("old", PEOPLE, &visit("occurred", "2023-10-18")),
            article("new", PEOPLE, &visit("occurred", "2024-02")),
        ],
    );
    assert_eq!(links(&ws), [triple("visit", "-", "2024-02")]);
    check_ok(&ws);
}

#[test]
fn restore_derives_the_links_again_and_the_dump_does_not_carry_them() {
    let ws = Workspace::new();
    ingest_lines(
        &ws,
        "a.jsonl",
        &[
            article("plan", PEOPLE, &visit("planned", "2023-10")),
            article("trip", PEOPLE, &visit("occurred", "2023-10-18")),
        ],
    );
    let dump = ws.path("dump.jsonl");
    ws.cmd(&["dump", "-o", dump.to_str().unwrap()]).assert().code(0);
    assert!(!std::fs::read_to_string(&dump).unwrap().contains("FULFILLED"));
    let restored = Workspace::new();
    restored.cmd(&["restore", dump.to_str().unwrap()]).assert().code(0);
    assert_eq!(links(&restored), links(&ws));
    assert_eq!(restored.stats(), ws.stats());
    check_ok(&restored);
}

fn example_store() -> Store {
    let store = Store::temporary().unwrap();
    let mut ingester = Ingester::new(&store, Ontology::embedded(), None).unwrap();
    let file = std::fs::File::open(common::EXAMPLE).unwrap();
    ingester.ingest("example", std::io::BufReader::new(file), &|_| {}, &mut |d| panic!("{d}")).unwrap();
    ingester.finish().unwrap();
    store
}

#[test]
fn check_reports_a_fulfilled_by_link_the_rule_does_not_derive() {
    let store = example_store();
    assert!(check_store(&store).unwrap().is_ok());
    let link = |store: &Store| {
        for plan in store.nodes_with_label("Invitation") {
            let plan = plan.unwrap();
            if let Some(adjacent) = store.adjacent(plan, Direction::Out, Some(FULFILLED_BY)).next() {
                return (plan, adjacent.unwrap());
            }
        }
        panic!("the example has an accepted invitation that was taken up");
    };
    let (plan, fulfilled) = link(&store);
    let mut txn = store.begin().unwrap();
    txn.delete_edge(fulfilled.edge).unwrap();
    txn.commit().unwrap();
    let report = check_store(&store).unwrap();
    assert!(
        report.problems.iter().any(|p| p.to_string().contains("has FULFILLED_BY to none but the rule derives")),
        "{:?}",
        report.problems
    );
    let mut txn = store.begin().unwrap();
    txn.create_edge(FULFILLED_BY, plan, fulfilled.other, Default::default()).unwrap();
    let gift = store.nodes_with_label("Gift").next().unwrap().unwrap();
    txn.create_edge(FULFILLED_BY, gift, fulfilled.other, Default::default()).unwrap();
    txn.commit().unwrap();
    let report = check_store(&store).unwrap();
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert!(report.problems[0].to_string().contains("but the rule derives none"));
}

#[test]
fn an_invitation_links_to_a_visit_stored_before_it() {
    // Regression: plans were linked only to visits ingested after them, because the
    // candidate index looked its rule up by address in a `const` table.
    let ws = Workspace::new();
    let invitation = r#"{"type":"invitation","inviter":"kim","invitee":"lavrov","destination":"Pyongyang","status":"accepted","date":"2023-10"}"#;
    ingest_lines(
        &ws,
        "a.jsonl",
        &[
            article("trip", PEOPLE, &visit("occurred", "2023-10-18")),
            article("plan", PEOPLE, &visit("planned", "2023-10")),
            article("invited", PEOPLE, invitation),
            article("second-trip", PEOPLE, &visit("occurred", "2023-10-25")),
        ],
    );
    assert_eq!(links(&ws), [triple("invitation", "2023-10", "2023-10-18"), triple("visit", "2023-10", "2023-10-18")]);
    check_ok(&ws);
}
