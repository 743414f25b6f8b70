//! `POST /api/query`: one query with parameters, a row limit and a timeout, answered as
//! JSON rows plus the graph of their nodes and relationships, or streamed as NDJSON or
//! CSV when the `Accept` header asks for it. The query runs in a slot of the pool.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::error::ApiError;
use super::pool::CancelOnDrop;
use super::values::{value_json, GraphCollector};
use super::{json_body, AppState};
use crate::model::Value;
use crate::query::{self, format, CancelFlag, Params, QueryOptions};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryRequest {
    pub query: String,
    #[serde(default)]
    pub parameters: Option<serde_json::Map<String, Json>>,
    #[serde(default)]
    pub max_rows: Option<u64>,
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    #[serde(default)]
    pub explain: bool,
}

/// How the rows go back.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Json,
    Ndjson,
    Csv,
}

fn shape(headers: &HeaderMap) -> Shape {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let types: Vec<&str> = accept.split(',').map(|t| t.split(';').next().unwrap_or("").trim()).collect();
    if types.contains(&"application/x-ndjson") {
        Shape::Ndjson
    } else if types.contains(&"text/csv") {
        Shape::Csv
    } else {
        Shape::Json
    }
}

pub fn params_from_json(parameters: Option<serde_json::Map<String, Json>>) -> Params {
    parameters.into_iter().flatten().map(|(name, value)| (name, Value::from_json(&value))).collect()
}

/// The engine's options for a request: its timeout and row cap, never above the server's.
pub fn options_for(state: &AppState, timeout_ms: Option<u64>, cancel: &CancelFlag) -> QueryOptions {
    let limit = state.config.query_timeout;
    let timeout = timeout_ms.map(Duration::from_millis).map_or(limit, |t| t.min(limit));
    QueryOptions {
        use_indexes: true,
        timeout: Some(timeout),
        max_rows: Some(state.config.max_held_rows),
        cancel: Some(cancel.clone()),
    }
}

pub async fn query(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let request: QueryRequest = json_body(body)?;
    match shape(&headers) {
        Shape::Json => query_json(state, request).await,
        shape => query_stream(state, request, shape).await,
    }
}

async fn query_json(state: Arc<AppState>, request: QueryRequest) -> Result<Response, ApiError> {
    let limit = request.max_rows.unwrap_or(state.config.default_rows).min(state.config.max_held_rows);
    let job_state = state.clone();
    let answer = state
        .pool
        .run(move |cancel| {
            let store = &job_state.store;
            let text = request.query.as_str();
            let options = options_for(&job_state, request.timeout_ms, cancel);
            let prepared = query::prepare(store, text, &options).map_err(|e| ApiError::query(&e, text))?;
            if request.explain {
                return Ok::<Json, ApiError>(json!({
                    "columns": prepared.columns(),
                    "rows": [],
                    "graph": {"nodes": [], "relationships": []},
                    "truncated": false,
                    "explain": prepared.explain(),
                }));
            }
            let params = params_from_json(request.parameters);
            let mut rows_out = Vec::new();
            let mut graph = GraphCollector::default();
            let mut truncated = false;
            let rows = prepared.execute(store, &params).map_err(|e| ApiError::query(&e, text))?;
            for (count, row) in (0u64..).zip(rows) {
                let row = row.map_err(|e| ApiError::query(&e, text))?;
                if count >= limit {
                    truncated = true;
                    break;
                }
                row.iter().for_each(|v| graph.add(v));
                rows_out.push(Json::Array(row.iter().map(value_json).collect()));
            }
            Ok(json!({
                "columns": prepared.columns(),
                "rows": rows_out,
                "graph": graph.into_json(),
                "truncated": truncated,
            }))
        })
        .await??;
    Ok(axum::Json(answer).into_response())
}

/// What the query thread sends before the rows: the columns, or why it could not start.
type Head = Result<Vec<String>, ApiError>;

async fn query_stream(state: Arc<AppState>, request: QueryRequest, shape: Shape) -> Result<Response, ApiError> {
    let slot = state.pool.acquire().await?;
    let (head_tx, head_rx) = tokio::sync::oneshot::channel::<Head>();
    let (chunk_tx, chunk_rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(16);
    let cancel = slot.flag().clone();
    let job_state = state.clone();
    tokio::task::spawn_blocking(move || {
        stream_rows(&job_state, request, shape, &slot, head_tx, chunk_tx);
        drop(slot);
    });
    // Dropping the request before the head arrives cancels the query too.
    let armed = CancelOnDrop(Some(cancel.clone()));
    let head = head_rx.await.map_err(|_| ApiError::internal("the query task failed; the server keeps running"))?;
    armed.disarm();
    head?;
    let content_type = match shape {
        Shape::Ndjson => "application/x-ndjson",
        _ => "text/csv; charset=utf-8",
    };
    // The body owns a guard: a client that goes away mid-stream drops it and stops the query.
    let guard = CancelOnDrop(Some(cancel));
    let stream = futures_util::stream::unfold((chunk_rx, guard), |(mut rx, guard)| async move {
        let chunk = rx.recv().await?;
        Some((chunk, (rx, guard)))
    });
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, content_type)], Body::from_stream(stream)).into_response())
}

/// Runs the query on the blocking pool and sends its rows as chunks; a send that fails
/// means the client is gone, so the query is cancelled.
fn stream_rows(
    state: &AppState,
    request: QueryRequest,
    shape: Shape,
    slot: &super::pool::Slot,
    head: tokio::sync::oneshot::Sender<Head>,
    chunks: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
) {
    let store = &state.store;
    let text = request.query.as_str();
    let options = options_for(state, request.timeout_ms, slot.flag());
    let prepared = match query::prepare(store, text, &options) {
        Ok(prepared) => prepared,
        Err(err) => {
            let _ = head.send(Err(ApiError::query(&err, text)));
            return;
        }
    };
    let params = params_from_json(request.parameters);
    let rows = match prepared.execute(store, &params) {
        Ok(rows) => rows,
        Err(err) => {
            let _ = head.send(Err(ApiError::query(&err, text)));
            return;
        }
    };
    let columns = prepared.columns().to_vec();
    let send = |bytes: Vec<u8>| {
        if chunks.blocking_send(Ok(Bytes::from(bytes))).is_err() {
            slot.flag().cancel();
            return false;
        }
        true
    };
    let mut first = match shape {
        Shape::Ndjson => format!("{}\n", json!({ "columns": columns })).into_bytes(),
        _ => csv_line(columns.iter().map(String::as_str)),
    };
    let _ = head.send(Ok(columns));
    let limit = request.max_rows.unwrap_or(u64::MAX);
    let mut count = 0u64;
    let mut buffer = std::mem::take(&mut first);
    for row in rows {
        match row {
            Ok(row) => {
                if count >= limit {
                    if shape == Shape::Ndjson {
                        buffer.extend(format!("{}\n", json!({ "truncated": true })).into_bytes());
                    }
                    break;
                }
                count += 1;
                match shape {
                    Shape::Ndjson => {
                        let values: Vec<Json> = row.iter().map(value_json).collect();
                        buffer.extend(format!("{}\n", json!({ "row": values })).into_bytes());
                    }
                    _ => buffer
                        .extend(csv_line(row.iter().map(format::cell).collect::<Vec<_>>().iter().map(String::as_str))),
                }
                if buffer.len() >= 32 * 1024 && !send(std::mem::take(&mut buffer)) {
                    return;
                }
            }
            Err(err) => {
                if shape == Shape::Ndjson {
                    buffer.extend(format!("{}\n", ApiError::query(&err, text).body()).into_bytes());
                    send(buffer);
                } else {
                    // CSV has no way to say "failed": the transfer is cut short instead.
                    let _ = send(std::mem::take(&mut buffer));
                    let _ = chunks.blocking_send(Err(std::io::Error::other(err.to_string())));
                }
                return;
            }
        }
    }
    if !buffer.is_empty() {
        send(buffer);
    }
}

/// One CSV record (the csv crate's quoting, as the CLI's `--format csv`).
fn csv_line<'a>(fields: impl Iterator<Item = &'a str>) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let fields: Vec<&str> = fields.collect();
    if writer.write_record(&fields).is_err() {
        return Vec::new();
    }
    writer.into_inner().unwrap_or_default()
}
