//! The ingester is driven by the ontology: a new event type declared there is
//! validated, resolved and stored with no Rust change.

use diplograph::ingest::{Diagnostic, Ingester};
use diplograph::ontology::{Ontology, EMBEDDED};
use diplograph::store::Store;

#[test]
fn a_new_event_type_in_the_ontology_is_ingested_without_code_changes() {
    let mut document: serde_json::Value = serde_json::from_str(EMBEDDED).unwrap();
    document["event_types"].as_array_mut().unwrap().push(serde_json::json!({
        "type": "phone_call",
        "label": "PhoneCall",
        "roles": [
            {"field": "callers", "edge": "CALLER", "min": 2, "max": null,
             "kinds": ["Person", "Country", "Organization"], "default_kind": "Person"}
        ],
        "statuses": ["occurred", "planned"],
        "cameo": [{"code": "041", "name": "Discuss by telephone"}]
    }));
    let ontology = Ontology::from_json(&document.to_string()).unwrap();
    let store = Store::temporary().unwrap();
    let batch = concat!(
        r#"{"article":{"id":"a1","published":"2024-03-01"},"facts":[{"type":"phone_call","callers":["Emmanuel Macron","Olaf Scholz"],"date":"2024-03-01"}]}"#,
        "\n",
        r#"{"article":{"id":"a2","published":"2024-03-02"},"facts":[{"type":"phone_call","callers":["Olaf Scholz","emmanuel macron"],"date":"2024-03-01","status":"occurred"},{"type":"phone_call","callers":["Olaf Scholz"]}]}"#,
        "\n"
    );
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    let mut ingester = Ingester::new(&store, &ontology, None).unwrap();
    ingester.ingest("calls.jsonl", batch.as_bytes(), &|_| {}, &mut |d| diagnostics.push(d.clone())).unwrap();
    let summary = ingester.finish().unwrap();
    // The second record has an invalid second call (one caller), so it is rejected whole.
    assert_eq!(summary.rejected, 1);
    assert_eq!(
        diagnostics[0].to_string(),
        "calls.jsonl:2: facts[1].callers: needs at least 2 distinct entities, got 1"
    );
    let stats = store.stats().unwrap();
    assert_eq!(stats.labels.get("PhoneCall"), Some(&1));
    assert_eq!(stats.labels.get("Event"), Some(&1));
    assert_eq!(stats.edge_types.get("CALLER"), Some(&2));

    // The embedded ontology does not know the type: the same record is rejected there.
    let mut ingester = Ingester::new(&store, Ontology::embedded(), None).unwrap();
    let mut messages = Vec::new();
    ingester.ingest("calls.jsonl", batch.as_bytes(), &|_| {}, &mut |d| messages.push(d.to_string())).unwrap();
    assert!(messages[0].contains("unknown event type 'phone_call'"), "{messages:?}");
}
