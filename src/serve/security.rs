//! The server's guards, applied to every request before a route sees it: the Host header
//! must name this server (DNS rebinding), the API wants the bearer token (compared in
//! constant time, never logged), and a POST must be a same-origin fetch with a JSON or
//! NDJSON body (no cross-site form posts). Security headers are set on every response.

use std::net::{IpAddr, Ipv6Addr};
use std::path::Path;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::error::ApiError;
use super::neo4j;

/// Sent with every response: scripts, styles and connections only from this server, never
/// framed, MIME types as sent, no Referer (the token lives in the page's URL fragment).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// What the guards need to know about the server.
pub struct Guard {
    /// `None`: `--no-auth` (loopback only).
    pub token: Option<String>,
    pub port: u16,
    pub bind: IpAddr,
    /// Extra host names the server answers to (`--allow-host`).
    pub allow_hosts: Vec<String>,
    /// Origins allowed to read the API cross-origin (`--allow-origin`); never `*`.
    pub allow_origins: Vec<String>,
    /// Body limits: an uploaded batch, and any other request.
    pub max_upload: usize,
    pub max_body: usize,
}

/// A fresh token: 32 random bytes as hex.
pub fn generate_token() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| format!("cannot generate a token: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The token in `path`: its first line, trimmed; at least 16 characters of visible ASCII.
pub fn read_token_file(path: &Path) -> Result<String, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("cannot read --token-file {}: {e}", path.display()))?;
    let token = text.lines().next().unwrap_or("").trim().to_string();
    if token.len() < 16 || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!(
            "--token-file {}: the token must be one line of at least 16 visible ASCII characters",
            path.display()
        ));
    }
    Ok(token)
}

impl Guard {
    /// Whether `host` (the Host header) names this server: a name given with `--allow-host`,
    /// `localhost` or a loopback address on a loopback bind, the bound address, or on an
    /// unspecified bind (0.0.0.0, ::) any address literal — never an arbitrary DNS name,
    /// which is what a rebinding attack sends.
    pub fn host_allowed(&self, host: &str) -> bool {
        let (name, port) = split_host(host);
        let port_ok = match port {
            Some(port) => port == self.port,
            None => self.port == 80,
        };
        if !port_ok {
            return false;
        }
        let name = name.to_ascii_lowercase();
        if self.allow_hosts.iter().any(|h| h.eq_ignore_ascii_case(&name)) {
            return true;
        }
        let literal = name.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().ok();
        if self.bind.is_loopback() {
            return name == "localhost" || literal.is_some_and(|ip| ip.is_loopback());
        }
        if self.bind.is_unspecified() {
            return name == "localhost" || literal.is_some();
        }
        literal == Some(self.bind)
    }

    /// Whether the request carries the token: `Authorization: Bearer TOKEN`, or for
    /// Neo4j's drivers and scripts, HTTP Basic with any user name and the token as password.
    fn authorized(&self, headers: &HeaderMap) -> bool {
        let Some(token) = &self.token else { return true };
        let Some(given) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
            return false;
        };
        let given: Vec<u8> = if let Some(bearer) = given.strip_prefix("Bearer ") {
            bearer.trim().as_bytes().to_vec()
        } else if let Some(basic) = given.strip_prefix("Basic ") {
            use base64::Engine;
            let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(basic.trim()) else { return false };
            match decoded.iter().position(|&b| b == b':') {
                Some(colon) => decoded[colon + 1..].to_vec(),
                None => return false,
            }
        } else {
            return false;
        };
        bool::from(given.as_slice().ct_eq(token.as_bytes()))
    }
}

/// `name[:port]`, `[v6]:port` or a bare v6 address.
fn split_host(host: &str) -> (&str, Option<u16>) {
    if host.starts_with('[') {
        return match host.rsplit_once("]:") {
            Some((name, port)) => (&host[..name.len() + 1], port.parse().ok().or(Some(0))),
            None => (host, None),
        };
    }
    if host.parse::<Ipv6Addr>().is_ok() {
        return (host, None);
    }
    match host.rsplit_once(':') {
        Some((name, port)) => (name, port.parse().ok().or(Some(0))),
        None => (host, None),
    }
}

/// Paths anyone who can reach the server may read: the explorer's files and the health check.
fn is_public(path: &str) -> bool {
    path == "/" || path.starts_with("/assets/") || path == "/api/health"
}

/// The media types a POST to `path` may have.
fn accepted_content_types(path: &str) -> &'static [&'static str] {
    if path == "/api/ingest" {
        &["application/x-ndjson", "application/jsonl", "application/json"]
    } else {
        &["application/json"]
    }
}

/// Routes that change the store: same-origin only, even for a `--allow-origin` origin.
fn is_state_changing(path: &str) -> bool {
    path == "/api/ingest"
}

fn refuse(path: &str, status: StatusCode, code: &'static str, message: String) -> Response {
    if path.starts_with("/db/") {
        return neo4j::error_response(status, neo4j::code_for_guard(status), &message);
    }
    let mut response = ApiError::new(status, code, message).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

/// The request guard (an axum middleware): Host, token, then for a POST its origin and
/// content type.
pub async fn guard(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let headers = request.headers();
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !guard.host_allowed(host) {
        let message = format!(
            "the Host header '{host}' does not name this server; use the address it printed, or start it with --allow-host NAME"
        );
        return refuse(&path, StatusCode::FORBIDDEN, "forbidden_host", message);
    }
    if request.method() == Method::OPTIONS {
        // A CORS preflight never carries credentials; the CORS layer inside answers it.
        return next.run(request).await;
    }
    if !is_public(&path) && !guard.authorized(headers) {
        let message = "this server needs its token: send `Authorization: Bearer TOKEN` (the token is in the URL the server printed, after #token=; Neo4j clients may send it as the Basic-auth password)".to_string();
        return refuse(&path, StatusCode::UNAUTHORIZED, "unauthorized", message);
    }
    if request.method() == Method::POST {
        if let Err((status, code, message)) = check_post(&guard, &path, headers, host) {
            return refuse(&path, status, code, message);
        }
    }
    // A declared length over the limit is refused before any of the body is read (a client
    // sending `Expect: 100-continue` then sends nothing); the routes' own limits catch a
    // chunked body that grows past it.
    let limit = if path == "/api/ingest" { guard.max_upload } else { guard.max_body };
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > u64::try_from(limit).unwrap_or(u64::MAX)) {
        let message = format!("the request body is larger than {path} takes ({} MiB at most)", limit.div_ceil(1 << 20));
        return refuse(&path, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message);
    }
    next.run(request).await
}

/// A POST must come from this server's own pages (or, for reads, an allowed origin) and
/// carry a JSON/NDJSON body: a cross-site HTML form can send neither.
fn check_post(
    guard: &Guard,
    path: &str,
    headers: &HeaderMap,
    host: &str,
) -> Result<(), (StatusCode, &'static str, String)> {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let own_origin = format!("http://{host}");
    let allowed_cross_origin =
        !is_state_changing(path) && origin.is_some_and(|o| guard.allow_origins.iter().any(|a| a == o));
    if let Some(origin) = origin {
        if origin != own_origin && !allowed_cross_origin {
            return Err((
                StatusCode::FORBIDDEN,
                "forbidden_origin",
                format!("requests from origin '{origin}' are refused: {path} takes same-origin requests only"),
            ));
        }
    }
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if let Some(site) = fetch_site {
        if !matches!(site, "same-origin" | "none") && !allowed_cross_origin {
            return Err((
                StatusCode::FORBIDDEN,
                "forbidden_origin",
                format!("a {site} request to {path} is refused: it takes same-origin requests only"),
            ));
        }
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
    let accepted = accepted_content_types(path);
    match content_type {
        Some(ct) if accepted.contains(&ct.as_str()) => Ok(()),
        other => Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "{path} takes Content-Type {}, not {}",
                accepted.join(" or "),
                other.map(|ct| format!("'{ct}'")).unwrap_or_else(|| "a request without one".into())
            ),
        )),
    }
}

/// Security headers on every response (the outermost layer, so errors get them too).
pub async fn security_headers(request: Request, next: Next) -> Response {
    let is_api = request.uri().path().starts_with("/api/") || request.uri().path().starts_with("/db/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    if is_api && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(bind: &str) -> Guard {
        Guard {
            token: Some("0123456789abcdef".into()),
            port: 7475,
            bind: bind.parse().unwrap(),
            allow_hosts: vec!["graph.example".into()],
            allow_origins: Vec::new(),
            max_upload: 1 << 20,
            max_body: 1 << 10,
        }
    }

    #[test]
    fn loopback_server_answers_to_loopback_names_only() {
        let g = guard("127.0.0.1");
        assert!(g.host_allowed("127.0.0.1:7475"));
        assert!(g.host_allowed("localhost:7475"));
        assert!(g.host_allowed("[::1]:7475"));
        assert!(g.host_allowed("graph.example:7475"));
        assert!(!g.host_allowed("evil.example:7475"));
        assert!(!g.host_allowed("127.0.0.1:8080"));
        assert!(!g.host_allowed("127.0.0.1"));
        assert!(!g.host_allowed("10.0.0.1:7475"));
        assert!(!g.host_allowed(""));
    }

    #[test]
    fn unspecified_bind_takes_address_literals_but_not_names() {
        let g = guard("0.0.0.0");
        assert!(g.host_allowed("192.168.1.20:7475"));
        assert!(!g.host_allowed("rebind.evil.example:7475"));
    }

    #[test]
    fn token_compare_wants_the_exact_token() {
        let g = guard("127.0.0.1");
        let mut headers = HeaderMap::new();
        assert!(!g.authorized(&headers));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer 0123456789abcdef"));
        assert!(g.authorized(&headers));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer 0123456789abcdeX"));
        assert!(!g.authorized(&headers));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer 0123456789abcde"));
        assert!(!g.authorized(&headers));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic 0123456789abcdef"));
        assert!(!g.authorized(&headers));
        // neo4j:0123456789abcdef and neo4j:wrong, base64.
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic bmVvNGo6MDEyMzQ1Njc4OWFiY2RlZg=="));
        assert!(g.authorized(&headers));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic bmVvNGo6d3Jvbmc="));
        assert!(!g.authorized(&headers));
    }
}
