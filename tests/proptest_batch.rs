//! Bounded property tests of the batch reader, the record validator and the whole ingest:
//! no input makes them panic, every rejection names a field, every diagnostic has a line,
//! and whatever the input, the store stays consistent. The cargo-fuzz targets in `fuzz/`
//! search the same space without a bound.

use diplograph::check::check_store;
use diplograph::ingest::read::read_all;
use diplograph::ingest::validate::{validate_record, FieldError};
use diplograph::ingest::{Diagnostic, Ingester};
use diplograph::ontology::Ontology;
use diplograph::store::Store;
use proptest::prelude::*;
use serde_json::Value as Json;

/// A valid record that uses every part of the format.
const VALID: &str = r#"{"article":{"id":"a-1","url":"https://x.example/1","outlet":"Indopos","published":"2023-09-15","language":"id","title":"Kim dan Putin"},"entities":[{"ref":"putin","kind":"Person","name":"Vladimir Putin","aliases":["Putin"],"country":"Russia","title":"President"},{"ref":"kim","kind":"Person","name":"Kim Jong Un","country":"North Korea"},{"ref":"v","kind":"Place","name":"Vostochny","country":"Russia"}],"facts":[{"type":"meeting","participants":["putin","kim"],"place":"v","date":"2023-09-13","status":"occurred","evidence":"berjabat tangan","confidence":0.9},{"type":"gift","giver":"kim","recipient":"putin","items":["rifle"],"according_to":"Peskov"},{"type":"visit","visitor":"Sergei Lavrov","destination":"Pyongyang","status":"planned","date":"2023-10"},{"type":"invitation","inviter":"kim","invitee":"putin","destination":"Pyongyang","status":"accepted"}]}"#;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// The validator's verdict on one record, checked: an error list is never empty and each
/// error's field is `record` or a path under a key the record really has.
fn validated(bytes: &[u8]) -> Result<(), TestCaseError> {
    let Err(errors) = validate_record(bytes, Ontology::embedded()) else {
        return Ok(());
    };
    prop_assert!(!errors.is_empty(), "a rejection without a reason");
    let root: Option<serde_json::Map<String, Json>> =
        serde_json::from_slice(bytes).ok().and_then(|json: Json| match json {
            Json::Object(map) => Some(map),
            _ => None,
        });
    for FieldError { field, reason } in &errors {
        prop_assert!(!reason.trim().is_empty(), "field {field} rejected without a reason");
        prop_assert!(!field.is_empty(), "a rejection names no field: {reason}");
        // An empty key is named `""` in a path.
        let head = match field.split(['.', '[']).next().unwrap_or_default() {
            "\"\"" => "",
            head => head,
        };
        let in_record = |key: &str| root.as_ref().is_some_and(|map| map.contains_key(key));
        let known =
            head == "record" || in_record(head) || in_record(field) || ["article", "entities", "facts"].contains(&head);
        prop_assert!(known, "error names no field of the record: {field}: {reason}");
    }
    Ok(())
}

/// The reader's records: each starts on a line of the input, in order, and is validated.
fn read_and_validate(input: &[u8]) -> Result<usize, TestCaseError> {
    let records = read_all(input).map_err(|e| TestCaseError::fail(format!("reading memory failed: {e}")))?;
    let lines = input.iter().filter(|&&b| b == b'\n').count() + 1;
    let mut previous = 0;
    for record in &records {
        prop_assert!(
            record.line >= 1 && record.line <= lines,
            "record at line {} of a {lines}-line input",
            record.line
        );
        prop_assert!(record.line >= previous, "records out of order");
        previous = record.line;
        match &record.defect {
            Some(defect) => prop_assert!(!defect.is_empty()),
            None => validated(&record.bytes)?,
        }
    }
    Ok(records.len())
}

/// A JSON value of any shape, small.
fn json_value() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(Json::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number)),
        "\\PC{0,12}".prop_map(Json::String),
        prop_oneof![Just("2023"), Just("2023-02-29"), Just("kim"), Just("putin"), Just("Person"), Just(""), Just(" ")]
            .prop_map(|s| Json::String(s.to_string())),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
            prop::collection::btree_map("[a-z_]{0,8}", inner, 0..4).prop_map(|m| Json::Object(m.into_iter().collect())),
        ]
    })
}

/// Every place a value sits in `json`, as a path of keys and indexes.
fn paths(json: &Json, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    out.push(prefix.clone());
    match json {
        Json::Object(map) => {
            for (key, value) in map {
                prefix.push(Step::Key(key.clone()));
                paths(value, prefix, out);
                prefix.pop();
            }
        }
        Json::Array(items) => {
            for (i, value) in items.iter().enumerate() {
                prefix.push(Step::Index(i));
                paths(value, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

fn at_path<'a>(json: &'a mut Json, path: &[Step]) -> Option<&'a mut Json> {
    path.iter().try_fold(json, |node, step| match step {
        Step::Key(key) => node.get_mut(key),
        Step::Index(i) => node.get_mut(*i),
    })
}

/// The valid record with one value (anywhere in it) replaced by `value`, or a key removed.
fn mutated_record(selector: usize, value: Json, remove: bool) -> String {
    let mut json: Json = serde_json::from_str(VALID).expect("valid JSON");
    let mut all = Vec::new();
    paths(&json, &mut Vec::new(), &mut all);
    let path = &all[selector % all.len()];
    match (remove, path.split_last()) {
        (true, Some((Step::Key(key), parent))) => {
            if let Some(Json::Object(map)) = at_path(&mut json, parent) {
                map.remove(key);
            }
        }
        _ => {
            if let Some(slot) = at_path(&mut json, path) {
                *slot = value;
            }
        }
    }
    json.to_string()
}

/// The valid record's text with a character-level edit: a range deleted or duplicated, or
/// a character inserted.
fn edited_text(start: usize, len: usize, edit: u8, ch: char) -> String {
    let chars: Vec<char> = VALID.chars().collect();
    let start = start % chars.len();
    let end = (start + len).min(chars.len());
    let mut out: Vec<char> = chars[..start].to_vec();
    match edit % 3 {
        0 => {}
        1 => {
            out.extend_from_slice(&chars[start..end]);
            out.extend_from_slice(&chars[start..end]);
        }
        _ => {
            out.push(ch);
            out.extend_from_slice(&chars[start..end]);
        }
    }
    out.extend_from_slice(&chars[end..]);
    out.into_iter().collect()
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn arbitrary_bytes_never_panic_the_reader_or_validator(input in prop::collection::vec(any::<u8>(), 0..512)) {
        read_and_validate(&input)?;
        validated(&input)?;
    }

    #[test]
    fn json_like_text_never_panics_the_reader_or_validator(
        input in prop::collection::vec(prop::sample::select(vec![
            "{", "}", "[", "]", ",", ":", "\"", "\\", "\n", "\r\n", " ", "\u{feff}", "\"article\"", "\"id\"", "\"facts\"",
            "1e999", "-0", "null", "\"\\ud800\"", "\u{1}", "é",
        ]), 0..64)
    ) {
        let text: String = input.concat();
        read_and_validate(text.as_bytes())?;
    }

    #[test]
    fn any_value_anywhere_in_a_valid_record_is_judged_without_panic(selector in any::<usize>(), value in json_value(), remove in any::<bool>()) {
        let record = mutated_record(selector, value, remove);
        validated(record.as_bytes())?;
        let records = read_and_validate(record.as_bytes())?;
        // Unless the whole record became an array (then it is read as an array file).
        prop_assert!(records == 1 || record.starts_with('['), "{} records in {}", records, record);
    }

    #[test]
    fn character_edits_of_a_valid_record_are_judged_without_panic(start in any::<usize>(), len in 0usize..40, edit in any::<u8>(), ch in any::<char>()) {
        let text = edited_text(start, len, edit, ch);
        validated(text.as_bytes())?;
        read_and_validate(text.as_bytes())?;
    }
}

/// The whole ingest of a batch of mutated records into a fresh store: no panic, one
/// diagnostic line per problem with a real line and field, every record either stored or
/// rejected, and a store that passes `check` afterwards.
fn ingest_checked(lines: &[String]) -> Result<(), TestCaseError> {
    let store = Store::temporary().map_err(|e| TestCaseError::fail(e.to_string()))?;
    let batch = lines.join("\n");
    let physical_lines = batch.matches('\n').count() + 1;
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    let mut ingester =
        Ingester::new(&store, Ontology::embedded(), None).map_err(|e| TestCaseError::fail(e.to_string()))?;
    ingester
        .ingest("batch.jsonl", batch.as_bytes(), &|_| {}, &mut |d| diagnostics.push(d.clone()))
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let summary = ingester.finish().map_err(|e| TestCaseError::fail(e.to_string()))?;
    for diagnostic in &diagnostics {
        prop_assert!(diagnostic.line >= 1 && diagnostic.line <= physical_lines, "{diagnostic}");
        prop_assert!(!diagnostic.field.is_empty() && !diagnostic.reason.is_empty(), "{diagnostic}");
        let prefix = format!("batch.jsonl:{}: ", diagnostic.line);
        prop_assert!(diagnostic.to_string().starts_with(&prefix), "{}", diagnostic);
    }
    let records = read_all(batch.as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?.len();
    let stored = summary.counts.articles_added + summary.counts.articles_replaced;
    prop_assert_eq!(stored + summary.rejected, u64::try_from(records).unwrap_or(u64::MAX));
    let report = check_store(&store).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert!(report.is_ok(), "the store is inconsistent after ingesting {batch}: {:?}", report.problems);
    Ok(())
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn ingesting_mutated_records_keeps_the_store_consistent(
        mutations in prop::collection::vec((any::<usize>(), json_value(), any::<bool>(), any::<u8>()), 1..6)
    ) {
        let lines: Vec<String> = mutations
            .into_iter()
            .enumerate()
            .map(|(i, (selector, value, remove, shape))| {
                // Distinct article ids except now and then, so replacement is exercised too.
                let record = mutated_record(selector, value, remove);
                let id = if shape % 4 == 0 { "a-1".to_string() } else { format!("a-{i}") };
                record.replacen("\"a-1\"", &format!("\"{id}\""), 1)
            })
            .collect();
        ingest_checked(&lines)?;
    }
}
