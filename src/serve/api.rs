//! The browsing routes: health, info, schema, stats, entity lookup and detail, a node's
//! neighbours, the timeline, batch upload and job status, and the CLI's forwarded
//! commands. Each store read runs in a query slot under one read snapshot.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::error::{ApiError, PathParam, QueryParams};
use super::values::{node_json, GraphCollector};
use super::{body_bytes, jobs, json_body, AppState};
use crate::cli::inspect::find_entities;
use crate::cli::Failure;
use crate::model::{NodeId, NodeRecord, Value};
use crate::store::{Direction, Store, StoreError};

type Answer = Result<axum::Json<Json>, ApiError>;

pub async fn health() -> axum::Json<Json> {
    axum::Json(json!({"status": "ok"}))
}

pub async fn info(State(state): State<Arc<AppState>>) -> axum::Json<Json> {
    axum::Json(json!({
        "name": "diplograph",
        "version": env!("CARGO_PKG_VERSION"),
        "store": state.store_name,
        "read_only": state.config.read_only,
        "auth": state.config.token.is_some(),
        "query_slots": state.pool.size(),
        "query_timeout_ms": u64::try_from(state.config.query_timeout.as_millis()).unwrap_or(u64::MAX),
    }))
}

pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(format!("no route {}; docs/HTTP.md lists the API", uri.path()))
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this route does not take that method")
}

/// Runs a read of the store in a query slot, under one snapshot.
async fn read<T: Send + 'static>(
    state: &Arc<AppState>,
    job: impl FnOnce(&Store) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let job_state = state.clone();
    state
        .pool
        .run(move |_cancel| {
            let store = &job_state.store;
            let _snapshot = store.read_snapshot();
            job(store)
        })
        .await?
}

fn failure(err: Failure) -> ApiError {
    match err {
        Failure::Message(message) => ApiError::bad_request(message),
        Failure::BrokenPipe => ApiError::internal("the output went away"),
    }
}

pub async fn stats(State(state): State<Arc<AppState>>) -> Answer {
    let stats = read(&state, |store| Ok(store.stats()?)).await?;
    Ok(axum::Json(crate::cli::stats_json(&stats)))
}

pub async fn schema(State(state): State<Arc<AppState>>) -> Answer {
    read(&state, |store| {
        let stats = store.stats()?;
        // Property keys from a sample (as the shell's :schema): up to 1,000 nodes per label
        // and the first 10,000 edges, so a big store answers at once.
        let mut keys = BTreeSet::new();
        for label in stats.labels.keys() {
            for id in store.nodes_with_label(label).take(1_000) {
                if let Some(node) = store.node(id?)? {
                    keys.extend(node.props.into_keys());
                }
            }
        }
        for edge in store.all_edges().take(10_000) {
            keys.extend(edge?.1.props.into_keys());
        }
        let counted = |map: &BTreeMap<String, u64>| -> Vec<Json> {
            map.iter().map(|(name, count)| json!({"name": name, "count": count})).collect()
        };
        Ok(axum::Json(json!({
            "labels": counted(&stats.labels),
            "relationshipTypes": counted(&stats.edge_types),
            "propertyKeys": keys,
        })))
    })
    .await
}

#[derive(Deserialize)]
pub struct EntitiesQuery {
    name: Option<String>,
    kind: Option<String>,
}

pub async fn entities(State(state): State<Arc<AppState>>, QueryParams(q): QueryParams<EntitiesQuery>) -> Answer {
    read(&state, move |store| {
        let rows = find_entities(store, q.kind.as_deref(), q.name.as_deref()).map_err(failure)?;
        let items: Vec<Json> = rows
            .iter()
            .map(|r| json!({"id": r.id, "name": r.name, "kind": r.kind, "aliases": r.aliases, "events": r.events}))
            .collect();
        Ok(axum::Json(Json::Array(items)))
    })
    .await
}

/// The one node whose `id` property is `key`.
fn node_by_key(store: &Store, key: &str) -> Result<(NodeId, NodeRecord), ApiError> {
    for id in store.nodes_with_key(key)? {
        if let Some(record) = store.node(id)? {
            return Ok((id, record));
        }
    }
    Err(ApiError::not_found(format!("no node has id '{key}'; GET /api/entities?name=NAME finds an entity's id")))
}

fn stored_node(store: &Store, id: NodeId) -> Result<Json, StoreError> {
    Ok(match store.node(id)? {
        Some(record) => node_json(id, &record),
        None => Json::Null,
    })
}

/// Edge types that join an entity to an entity rather than an event to a role filler.
const AFFILIATIONS: [&str; 2] = ["REPRESENTS", "LOCATED_IN"];

#[derive(Deserialize)]
pub struct LimitQuery {
    limit: Option<usize>,
}

pub async fn entity(
    State(state): State<Arc<AppState>>,
    PathParam(key): PathParam<String>,
    QueryParams(q): QueryParams<LimitQuery>,
) -> Answer {
    let limit = q.limit.unwrap_or(1_000).clamp(1, 10_000);
    read(&state, move |store| {
        let (id, record) = node_by_key(store, &key)?;
        let aliases = record.props.get("aliases").map(Value::to_json).unwrap_or(json!([]));
        let mut affiliations = Vec::new();
        let mut event_ids = BTreeSet::new();
        for direction in [Direction::Out, Direction::In] {
            for adjacent in store.adjacent(id, direction, None) {
                let adjacent = adjacent?;
                if AFFILIATIONS.contains(&adjacent.edge_type.as_str()) {
                    let props = store.edge(adjacent.edge)?.map(|e| Value::Map(e.props).to_json()).unwrap_or(json!({}));
                    affiliations.push(json!({
                        "type": adjacent.edge_type,
                        "direction": if direction == Direction::Out { "out" } else { "in" },
                        "node": stored_node(store, adjacent.other)?,
                        "properties": props,
                    }));
                } else if direction == Direction::In {
                    event_ids.insert(adjacent.other);
                }
            }
        }
        let mut events = Vec::new();
        for event in &event_ids {
            if let Some(event_record) = store.node(*event)? {
                events.push((
                    event_record.props.get("date").and_then(Value::as_str).map(str::to_string),
                    *event,
                    event_record,
                ));
            }
        }
        // Date order; undated events last.
        events.sort_by(|a, b| (a.0.is_none(), &a.0, a.1).cmp(&(b.0.is_none(), &b.0, b.1)));
        let truncated = events.len() > limit;
        let events: Vec<Json> = events
            .into_iter()
            .take(limit)
            .map(|(_, event, record)| event_detail(store, event, &record))
            .collect::<Result<_, _>>()?;
        Ok(axum::Json(json!({
            "node": node_json(id, &record),
            "aliases": aliases,
            "affiliations": affiliations,
            "events": events,
            "truncated": truncated,
        })))
    })
    .await
}

/// An event with its role fillers, its reports (article, evidence, according_to,
/// confidence) and the FULFILLED_BY links either way, when the store has them.
fn event_detail(store: &Store, id: NodeId, record: &NodeRecord) -> Result<Json, StoreError> {
    let mut roles = Vec::new();
    let mut reports = Vec::new();
    let mut fulfilled_by = Vec::new();
    for adjacent in store.adjacent(id, Direction::Out, None) {
        let adjacent = adjacent?;
        match adjacent.edge_type.as_str() {
            "REPORTED_IN" => {
                let props = store.edge(adjacent.edge)?.map(|e| e.props).unwrap_or_default();
                let prop = |key: &str| props.get(key).map(Value::to_json).unwrap_or(Json::Null);
                reports.push(json!({
                    "article": stored_node(store, adjacent.other)?,
                    "evidence": prop("evidence"),
                    "according_to": prop("according_to"),
                    "confidence": prop("confidence"),
                }));
            }
            "FULFILLED_BY" => fulfilled_by.push(stored_node(store, adjacent.other)?),
            role => roles.push(json!({"role": role, "node": stored_node(store, adjacent.other)?})),
        }
    }
    let mut fulfils = Vec::new();
    for adjacent in store.adjacent(id, Direction::In, None) {
        let adjacent = adjacent?;
        if adjacent.edge_type == "FULFILLED_BY" {
            fulfils.push(stored_node(store, adjacent.other)?);
        }
    }
    Ok(json!({
        "node": node_json(id, record),
        "roles": roles,
        "reports": reports,
        "fulfilled_by": fulfilled_by,
        "fulfils": fulfils,
    }))
}

pub async fn neighbours(
    State(state): State<Arc<AppState>>,
    PathParam(key): PathParam<String>,
    QueryParams(q): QueryParams<LimitQuery>,
) -> Answer {
    let limit = q.limit.unwrap_or(100).clamp(1, 5_000);
    read(&state, move |store| {
        let (id, record) = node_by_key(store, &key)?;
        let mut graph = GraphCollector::default();
        graph.add_stored_node(id, &record);
        let mut taken = 0usize;
        let mut truncated = false;
        'walk: for direction in [Direction::Out, Direction::In] {
            for adjacent in store.adjacent(id, direction, None) {
                let adjacent = adjacent?;
                if taken == limit {
                    truncated = true;
                    break 'walk;
                }
                taken += 1;
                if let Some(other) = store.node(adjacent.other)? {
                    graph.add_stored_node(adjacent.other, &other);
                }
                if let Some(edge) = store.edge(adjacent.edge)? {
                    graph.add_stored_rel(adjacent.edge, &edge);
                }
            }
        }
        Ok(axum::Json(json!({"node": node_json(id, &record), "graph": graph.into_json(), "truncated": truncated})))
    })
    .await
}

#[derive(Deserialize)]
pub struct TimelineQuery {
    entity: Option<String>,
    #[serde(rename = "type")]
    event_type: Option<String>,
    from: Option<String>,
    to: Option<String>,
    bucket: Option<String>,
}

/// Events listed beside the buckets when at most this many match.
const LISTED_EVENTS: usize = 200;

pub async fn timeline(State(state): State<Arc<AppState>>, QueryParams(q): QueryParams<TimelineQuery>) -> Answer {
    let bucket = match q.bucket.as_deref().unwrap_or("auto") {
        "auto" => None,
        "day" => Some(Bucket::Day),
        "week" => Some(Bucket::Week),
        "month" => Some(Bucket::Month),
        "year" => Some(Bucket::Year),
        other => {
            return Err(ApiError::bad_request(format!("bucket '{other}': expected auto, day, week, month or year")))
        }
    };
    for (name, value) in [("from", &q.from), ("to", &q.to)] {
        if let Some(value) = value {
            if parse_date(value).is_none() {
                return Err(ApiError::bad_request(format!("{name} '{value}': expected YYYY, YYYY-MM or YYYY-MM-DD")));
            }
        }
    }
    read(&state, move |store| {
        let candidates: Vec<NodeId> = match &q.entity {
            Some(key) => {
                let (id, _) = node_by_key(store, key)?;
                let mut events = BTreeSet::new();
                for adjacent in store.adjacent(id, Direction::In, None) {
                    let adjacent = adjacent?;
                    if !AFFILIATIONS.contains(&adjacent.edge_type.as_str()) {
                        events.insert(adjacent.other);
                    }
                }
                events.into_iter().collect()
            }
            None => store.nodes_with_label("Event").collect::<Result<_, _>>()?,
        };
        let mut events = Vec::new();
        let mut undated = 0u64;
        for id in candidates {
            let Some(record) = store.node(id)? else { continue };
            if !record.has_label("Event") {
                continue;
            }
            let text = |key: &str| record.props.get(key).and_then(Value::as_str).map(str::to_string);
            if q.event_type.as_ref().is_some_and(|t| text("type").as_deref() != Some(t.as_str())) {
                continue;
            }
            let Some(date) = text("date").filter(|d| parse_date(d).is_some()) else {
                undated += 1;
                continue;
            };
            // A date is a period (a day, a month, a year): it counts when it overlaps the range.
            if q.from.as_ref().is_some_and(|from| date.as_str() < from.as_str() && !from.starts_with(date.as_str())) {
                continue;
            }
            if q.to.as_ref().is_some_and(|to| date.as_str() > to.as_str() && !date.starts_with(to.as_str())) {
                continue;
            }
            events.push(TimelineEvent { id, date, kind: text("type"), status: text("status"), key: text("id") });
        }
        events.sort_by(|a, b| (&a.date, a.id).cmp(&(&b.date, b.id)));
        let bucket = bucket.unwrap_or_else(|| Bucket::auto(&events));
        let mut buckets: BTreeMap<String, BucketCounts> = BTreeMap::new();
        for event in &events {
            let start = parse_date(&event.date).map(|d| bucket.start(d)).unwrap_or_default();
            let entry = buckets.entry(start).or_default();
            entry.0 += 1;
            *entry.1.entry(event.kind.clone().unwrap_or_default()).or_default() += 1;
            *entry.2.entry(event.status.clone().unwrap_or_default()).or_default() += 1;
        }
        let buckets: Vec<Json> = buckets
            .into_iter()
            .map(|(start, (count, by_type, by_status))| json!({"start": start, "count": count, "by_type": by_type, "by_status": by_status}))
            .collect();
        let mut body = json!({"bucket": bucket.name(), "buckets": buckets, "total": events.len(), "undated": undated});
        if events.len() <= LISTED_EVENTS {
            let listed: Vec<Json> = events
                .iter()
                .map(|e| {
                    Ok(json!({
                        "id": e.key, "type": e.kind, "status": e.status, "date": e.date,
                        "label": event_label(store, e)?,
                    }))
                })
                .collect::<Result<_, StoreError>>()?;
            body["events"] = Json::Array(listed);
        }
        Ok(axum::Json(body))
    })
    .await
}

/// Events in one bucket: in all, by type and by status.
type BucketCounts = (u64, BTreeMap<String, u64>, BTreeMap<String, u64>);

struct TimelineEvent {
    id: NodeId,
    date: String,
    kind: Option<String>,
    status: Option<String>,
    key: Option<String>,
}

/// `meeting 2023-09-13: Vladimir Putin, Kim Jong Un` — the type, date and role fillers.
fn event_label(store: &Store, event: &TimelineEvent) -> Result<String, StoreError> {
    let mut names = Vec::new();
    for adjacent in store.adjacent(event.id, Direction::Out, None) {
        let adjacent = adjacent?;
        if matches!(adjacent.edge_type.as_str(), "REPORTED_IN" | "FULFILLED_BY") {
            continue;
        }
        if let Some(record) = store.node(adjacent.other)? {
            if let Some(name) = record.props.get("name").and_then(Value::as_str) {
                if !names.iter().any(|n| n == name) {
                    names.push(name.to_string());
                }
            }
        }
    }
    Ok(format!("{} {}: {}", event.kind.as_deref().unwrap_or("event"), event.date, names.join(", ")))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bucket {
    Day,
    Week,
    Month,
    Year,
}

/// A date at the precision given: year, month (1..12) and day (1..31) when present.
type Date = (i32, Option<u32>, Option<u32>);

fn parse_date(text: &str) -> Option<Date> {
    let mut parts = text.split('-');
    let year = parts.next().filter(|y| y.len() == 4)?.parse::<i32>().ok()?;
    let month = match parts.next() {
        Some(m) => Some(m.parse::<u32>().ok().filter(|m| (1..=12).contains(m))?),
        None => None,
    };
    let day = match parts.next() {
        Some(d) => Some(d.parse::<u32>().ok().filter(|d| (1..=31).contains(d))?),
        None => None,
    };
    if parts.next().is_some() {
        return None;
    }
    Some((year, month, day))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, u32::try_from(month).unwrap_or(1), u32::try_from(day).unwrap_or(1))
}

impl Bucket {
    fn name(self) -> &'static str {
        match self {
            Bucket::Day => "day",
            Bucket::Week => "week",
            Bucket::Month => "month",
            Bucket::Year => "year",
        }
    }

    /// Days for spans up to 90 days, weeks up to two years, months up to 20 years, else years.
    fn auto(events: &[TimelineEvent]) -> Bucket {
        let day_of =
            |e: &TimelineEvent| parse_date(&e.date).map(|(y, m, d)| days_from_civil(y, m.unwrap_or(1), d.unwrap_or(1)));
        let (Some(first), Some(last)) = (events.first().and_then(day_of), events.last().and_then(day_of)) else {
            return Bucket::Month;
        };
        match last - first {
            span if span <= 90 => Bucket::Day,
            span if span <= 731 => Bucket::Week,
            span if span <= 7_305 => Bucket::Month,
            _ => Bucket::Year,
        }
    }

    /// The bucket a date falls in, named by its start; a date less precise than the bucket
    /// falls in the bucket of its first day.
    fn start(self, (year, month, day): Date) -> String {
        let month = month.unwrap_or(1);
        let day = day.unwrap_or(1);
        match self {
            Bucket::Year => format!("{year:04}"),
            Bucket::Month => format!("{year:04}-{month:02}"),
            Bucket::Day => format!("{year:04}-{month:02}-{day:02}"),
            Bucket::Week => {
                let days = days_from_civil(year, month, day);
                // 1970-01-01 was a Thursday: Monday is three days before.
                let monday = days - (days + 3).rem_euclid(7);
                let (y, m, d) = civil_from_days(monday);
                format!("{y:04}-{m:02}-{d:02}")
            }
        }
    }
}

#[derive(Deserialize)]
pub struct IngestQuery {
    source: Option<String>,
}

pub async fn ingest(
    State(state): State<Arc<AppState>>,
    QueryParams(q): QueryParams<IngestQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    if state.config.read_only {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "read_only",
            "this server was started with --read-only and takes no batches",
        ));
    }
    let body = body_bytes(body)?;
    let id = state.writer.submit(jobs::source_name(q.source.as_deref()), body)?;
    let location = format!("/api/jobs/{id}");
    Ok((StatusCode::ACCEPTED, [(header::LOCATION, location)], axum::Json(json!({"job": id}))).into_response())
}

pub async fn job(State(state): State<Arc<AppState>>, PathParam(id): PathParam<String>) -> Answer {
    let found = id.parse::<u64>().ok().and_then(|id| state.writer.job_json(id));
    found.map(axum::Json).ok_or_else(|| {
        ApiError::not_found(format!("no job '{id}' (finished jobs are kept for a while, then forgotten)"))
    })
}

/// A finished job's rejected records, verbatim (what `ingest --rejects FILE` writes).
pub async fn job_rejects(
    State(state): State<Arc<AppState>>,
    PathParam(id): PathParam<String>,
) -> Result<Response, ApiError> {
    let records = id.parse::<u64>().ok().and_then(|id| state.writer.rejected_records(id));
    match records {
        Some(records) => Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], records).into_response()),
        None => Err(ApiError::not_found(format!("no job '{id}'"))),
    }
}

#[derive(Deserialize)]
pub struct CliRequest {
    version: String,
    argv: Vec<String>,
    #[serde(default)]
    query_text: Option<String>,
}

/// A read-only CLI command run here for a CLI that found the store held by this server:
/// the same command code with its output captured, so both modes print the same bytes.
pub async fn cli(State(state): State<Arc<AppState>>, body: Result<Bytes, BytesRejection>) -> Answer {
    let request: CliRequest = json_body(body)?;
    if request.version != env!("CARGO_PKG_VERSION") {
        return Err(ApiError::bad_request(format!(
            "this server is diplograph {}, the client {}: use the same version, or stop the server",
            env!("CARGO_PKG_VERSION"),
            request.version
        )));
    }
    let job_state = state.clone();
    let output = state
        .pool
        .run(move |cancel| {
            let limits = crate::cli::Limits { timeout: job_state.config.query_timeout, cancel: cancel.clone() };
            crate::cli::run_forwarded(&job_state.store, &request.argv, request.query_text, limits)
        })
        .await?;
    Ok(axum::Json(json!({"stdout": output.stdout, "stderr": output.stderr, "exit": output.exit})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days_round_trip_and_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(i32::try_from(y).unwrap(), m, d), days);
        }
    }

    #[test]
    fn weeks_start_on_monday_across_years() {
        // 2024-01-01 was a Monday; 2023-01-01 a Sunday (its week began 2022-12-26).
        assert_eq!(Bucket::Week.start((2024, Some(1), Some(7))), "2024-01-01");
        assert_eq!(Bucket::Week.start((2023, Some(1), Some(1))), "2022-12-26");
        assert_eq!(Bucket::Month.start((2023, None, None)), "2023-01");
        assert_eq!(parse_date("2023-13"), None);
        assert_eq!(parse_date("23-01"), None);
        assert_eq!(parse_date("2023-02-03"), Some((2023, Some(2), Some(3))));
    }
}
