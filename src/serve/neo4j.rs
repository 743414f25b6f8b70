//! A read-only subset of Neo4j's Query API v2: `POST /db/{name}/query/v2` with
//! `{"statement", "parameters"}` answers `{"data": {"fields", "values"}}`, and errors in
//! Neo4j's shape and codes, so scripts written for Neo4j work unchanged. `{name}` is
//! `neo4j` or the store's directory name.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::error::{ApiError, PathParam};
use super::query_api::{options_for, params_from_json};
use super::values::value_json;
use super::AppState;
use crate::query::{self, ErrorKind, QueryError};

#[derive(Deserialize)]
struct Neo4jRequest {
    statement: String,
    #[serde(default)]
    parameters: Option<serde_json::Map<String, Json>>,
}

pub fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    (status, axum::Json(json!({"errors": [{"code": code, "message": message}]}))).into_response()
}

/// Neo4j's code for a refusal by the request guard.
pub fn code_for_guard(status: StatusCode) -> &'static str {
    match status {
        StatusCode::UNAUTHORIZED => "Neo.ClientError.Security.Unauthorized",
        StatusCode::FORBIDDEN => "Neo.ClientError.Security.Forbidden",
        _ => "Neo.ClientError.Request.Invalid",
    }
}

fn code_for_query(kind: ErrorKind) -> (StatusCode, &'static str) {
    match kind {
        ErrorKind::Syntax => (StatusCode::BAD_REQUEST, "Neo.ClientError.Statement.SyntaxError"),
        ErrorKind::Semantic => (StatusCode::BAD_REQUEST, "Neo.ClientError.Statement.SemanticError"),
        ErrorKind::Unsupported => (StatusCode::BAD_REQUEST, "Neo.ClientError.Statement.AccessMode"),
        ErrorKind::Type => (StatusCode::BAD_REQUEST, "Neo.ClientError.Statement.TypeError"),
        ErrorKind::Runtime => (StatusCode::BAD_REQUEST, "Neo.ClientError.Statement.ArgumentError"),
        ErrorKind::RowLimit => (StatusCode::BAD_REQUEST, "Neo.TransientError.General.MemoryPoolOutOfMemoryError"),
        ErrorKind::Timeout => {
            (StatusCode::BAD_REQUEST, "Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration")
        }
        ErrorKind::Cancelled => (StatusCode::BAD_REQUEST, "Neo.TransientError.Transaction.Terminated"),
    }
}

fn query_error(err: &QueryError, text: &str) -> Box<Response> {
    let (status, code) = code_for_query(err.kind);
    Box::new(error_response(status, code, err.render(text).trim_start_matches("error: ")))
}

fn api_error(err: ApiError) -> Response {
    let code = match err.status {
        StatusCode::SERVICE_UNAVAILABLE => "Neo.TransientError.General.DatabaseUnavailable",
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::BAD_REQUEST => "Neo.ClientError.Request.Invalid",
        _ => "Neo.DatabaseError.General.UnknownError",
    };
    error_response(err.status, code, &err.message)
}

pub async fn query_v2(
    State(state): State<Arc<AppState>>,
    PathParam(name): PathParam<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if name != "neo4j" && name != state.store_name {
        return error_response(
            StatusCode::NOT_FOUND,
            "Neo.ClientError.Database.DatabaseNotFound",
            &format!(
                "Database does not exist. Database name: '{name}' (this server has 'neo4j' and '{}')",
                state.store_name
            ),
        );
    }
    let request: Neo4jRequest = match super::json_body(body) {
        Ok(request) => request,
        Err(err) => return api_error(err),
    };
    let job_state = state.clone();
    let answer = state
        .pool
        .run(move |cancel| {
            let store = &job_state.store;
            let text = request.statement.as_str();
            let options = options_for(&job_state, None, cancel);
            let prepared = query::prepare(store, text, &options).map_err(|e| query_error(&e, text))?;
            let params = params_from_json(request.parameters);
            let mut values = Vec::new();
            for row in prepared.execute(store, &params).map_err(|e| query_error(&e, text))? {
                let row = row.map_err(|e| query_error(&e, text))?;
                values.push(Json::Array(row.iter().map(value_json).collect()));
            }
            Ok::<Json, Box<Response>>(json!({
                "data": {"fields": prepared.columns(), "values": values},
                "bookmarks": [],
            }))
        })
        .await;
    match answer {
        Ok(Ok(body)) => (StatusCode::ACCEPTED, axum::Json(body)).into_response(),
        Ok(Err(response)) => *response,
        Err(err) => api_error(err),
    }
}
