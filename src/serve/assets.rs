//! The explorer's files, embedded in the binary from `assets/` at build time: `/` is
//! `index.html`, `/assets/*` the rest, each with its media type and an ETag so browsers
//! revalidate (`Cache-Control: no-cache`) instead of keeping a stale explorer.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use include_dir::{include_dir, Dir};

use super::error::{ApiError, PathParam};

static ASSETS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/assets");

pub async fn index(headers: HeaderMap) -> Response {
    serve_file("index.html", &headers)
}

pub async fn asset(PathParam(path): PathParam<String>, headers: HeaderMap) -> Response {
    serve_file(&path, &headers)
}

fn serve_file(path: &str, headers: &HeaderMap) -> Response {
    // include_dir only holds what was under assets/: a `..` cannot reach outside it.
    let Some(file) = ASSETS.get_file(path) else {
        return ApiError::not_found(format!("no asset '{path}'")).into_response();
    };
    let contents = file.contents();
    let etag = format!("\"{:016x}\"", xxhash_rust::xxh3::xxh3_64(contents));
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let content_type = if mime.type_() == "text" || mime.essence_str() == "application/javascript" {
        format!("{}; charset=utf-8", mime.essence_str())
    } else {
        mime.essence_str().to_string()
    };
    let mut response_headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        response_headers.insert(header::CONTENT_TYPE, value);
    }
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response_headers.insert(header::ETAG, value);
    }
    response_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if not_modified {
        return (StatusCode::NOT_MODIFIED, response_headers).into_response();
    }
    (StatusCode::OK, response_headers, contents).into_response()
}
