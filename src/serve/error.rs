//! The API's errors: an HTTP status and a JSON body `{"error": {"code", "message", …}}`,
//! never a stack trace or Debug output. Query errors keep their line, column and caret.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::query::{ErrorKind, QueryError};
use crate::store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// For query errors: where in the query text, and the CLI's caret lines.
    pub position: Option<(usize, usize, String)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), position: None }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn busy(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", message)
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    /// A query error with its position and caret, rendered against the query text.
    pub fn query(err: &QueryError, text: &str) -> ApiError {
        let (status, code) = query_status(err.kind);
        let located = err.clone().locate(text);
        let rendered = err.render(text);
        // `render` is the message line, then (when the error has a position) the query line
        // and the caret line: the caret text is what the CLI prints under its message.
        let position = located.position.filter(|p| p.line > 0).map(|p| {
            let caret = rendered.split_once('\n').map(|(_, rest)| rest.to_string()).unwrap_or_default();
            (p.line, p.column, caret)
        });
        ApiError { status, code, message: located.to_string(), position }
    }

    pub fn body(&self) -> serde_json::Value {
        let mut error = json!({"code": self.code, "message": self.message});
        if let Some((line, column, caret)) = &self.position {
            error["line"] = json!(line);
            error["column"] = json!(column);
            error["caret"] = json!(caret);
        }
        json!({ "error": error })
    }
}

/// The status and code of a query error kind: the client's fault is 4xx, the deadline 504.
fn query_status(kind: ErrorKind) -> (StatusCode, &'static str) {
    match kind {
        ErrorKind::Syntax => (StatusCode::BAD_REQUEST, "syntax_error"),
        ErrorKind::Semantic => (StatusCode::BAD_REQUEST, "semantic_error"),
        ErrorKind::Unsupported => (StatusCode::BAD_REQUEST, "unsupported"),
        ErrorKind::Type => (StatusCode::UNPROCESSABLE_ENTITY, "type_error"),
        ErrorKind::Runtime => (StatusCode::UNPROCESSABLE_ENTITY, "runtime_error"),
        ErrorKind::RowLimit => (StatusCode::UNPROCESSABLE_ENTITY, "row_limit"),
        ErrorKind::Timeout => (StatusCode::GATEWAY_TIMEOUT, "timeout"),
        ErrorKind::Cancelled => (StatusCode::SERVICE_UNAVAILABLE, "cancelled"),
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "store_error", err.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}

/// axum's `Query`, failing with a JSON `ApiError` instead of a plain-text rejection.
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(QueryParams(value)),
            Err(rejection) => Err(ApiError::bad_request(rejection.body_text())),
        }
    }
}

/// axum's `Path`, failing with a JSON `ApiError`.
pub struct PathParam<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> axum::extract::FromRequestParts<S> for PathParam<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(PathParam(value)),
            Err(rejection) => Err(ApiError::bad_request(rejection.body_text())),
        }
    }
}
