//! The server's security defaults, each refused when broken and allowed when kept: the
//! token, loopback-only `--no-auth`, the Host check, CORS only for listed origins,
//! same-origin JSON/NDJSON POSTs, security headers, body limits and JSON errors.

mod common;
mod serve;

use serde_json::json;

use common::{Workspace, EXAMPLE};
use serve::Server;

fn example_store() -> Workspace {
    let ws = Workspace::new();
    assert!(ws.ingest(std::path::Path::new(EXAMPLE)).status.success());
    ws
}

fn raw_get(server: &Server, path: &str, headers: &str) -> String {
    server.raw(&format!("GET {path} HTTP/1.1\r\n{headers}Connection: close\r\n\r\n"))
}

#[test]
fn api_needs_the_token_and_takes_exactly_it() {
    let ws = example_store();
    let server = Server::start(&ws.db(), &[]);
    let token = server.token.clone().expect("a token by default");
    assert_eq!(token.len(), 64);
    let host = format!("Host: 127.0.0.1:{}\r\n", server.port());
    let none = raw_get(&server, "/api/info", &host);
    assert!(none.starts_with("HTTP/1.1 401"), "{none}");
    assert!(none.contains("\"code\":\"unauthorized\""));
    assert!(!none.contains(&token), "the token is never echoed");
    let wrong = raw_get(&server, "/api/info", &format!("{host}Authorization: Bearer {}x\r\n", &token[..63]));
    assert!(wrong.starts_with("HTTP/1.1 401"), "{wrong}");
    let basic = raw_get(&server, "/api/info", &format!("{host}Authorization: Basic {token}\r\n"));
    assert!(basic.starts_with("HTTP/1.1 401"), "{basic}");
    let right = raw_get(&server, "/api/info", &format!("{host}Authorization: Bearer {token}\r\n"));
    assert!(right.starts_with("HTTP/1.1 200"), "{right}");
    // Health and the explorer's files need no token.
    assert!(raw_get(&server, "/api/health", &host).starts_with("HTTP/1.1 200"));
    assert!(raw_get(&server, "/", &host).starts_with("HTTP/1.1 200"));
    for path in ["/api/schema", "/api/entities", "/api/timeline", "/api/jobs/1", "/api/entity/x"] {
        assert!(raw_get(&server, path, &host).starts_with("HTTP/1.1 401"), "{path} without a token");
    }
}

#[test]
fn token_file_sets_the_token_and_a_short_one_is_refused() {
    let ws = example_store();
    let file = ws.write("token", "correct-horse-battery-staple\n");
    let server = Server::start(&ws.db(), &["--token-file", file.to_str().unwrap()]);
    assert_eq!(server.token.as_deref(), Some("correct-horse-battery-staple"));
    assert_eq!(server.get("/api/info").status, 200);
    drop(server);
    let short = ws.write("short", "abc\n");
    let refused = Server::try_start(&ws.db(), &["--token-file", short.to_str().unwrap()]).err().expect("refused");
    assert!(refused.contains("at least 16"), "{refused}");
}

#[test]
fn no_auth_is_allowed_on_loopback_only() {
    let ws = example_store();
    let server = Server::start(&ws.db(), &["--no-auth"]);
    assert!(server.token.is_none());
    assert_eq!(server.get_anonymous("/api/info").status, 200);
    assert_eq!(server.get_anonymous("/api/info").json()["auth"], false);
    drop(server);
    let refused = Server::try_start(&ws.db(), &["--no-auth", "--bind", "0.0.0.0"]).err().expect("refused");
    assert!(refused.contains("--no-auth is only allowed on a loopback address"), "{refused}");
    // Off loopback with a token is allowed.
    let server = Server::start(&ws.db(), &["--bind", "0.0.0.0"]);
    assert!(server.token.is_some());
    let answer = raw_get(&server, "/api/info", &format!("Host: 127.0.0.1:{}\r\n", server.port()));
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
}

#[test]
fn host_header_must_name_the_server() {
    let ws = example_store();
    let server = Server::start(&ws.db(), &["--no-auth", "--allow-host", "graph.internal"]);
    let port = server.port();
    for good in [format!("127.0.0.1:{port}"), format!("localhost:{port}"), format!("graph.internal:{port}")] {
        let answer = raw_get(&server, "/api/health", &format!("Host: {good}\r\n"));
        assert!(answer.starts_with("HTTP/1.1 200"), "{good}: {answer}");
    }
    for bad in [format!("evil.example:{port}"), format!("127.0.0.1:{}", port.wrapping_add(1)), "localhost".into()] {
        let answer = raw_get(&server, "/api/health", &format!("Host: {bad}\r\n"));
        assert!(answer.starts_with("HTTP/1.1 403"), "{bad}: {answer}");
        assert!(answer.contains("\"code\":\"forbidden_host\""), "{answer}");
    }
    let assets = raw_get(&server, "/", &format!("Host: rebind.evil.example:{port}\r\n"));
    assert!(assets.starts_with("HTTP/1.1 403"), "DNS rebinding cannot fetch the page either: {assets}");
}

#[test]
fn cors_headers_only_for_listed_origins() {
    let ws = example_store();
    let server = Server::start(&ws.db(), &[]);
    let host = format!("Host: 127.0.0.1:{}\r\n", server.port());
    let answer = raw_get(&server, "/api/health", &format!("{host}Origin: http://elsewhere.example\r\n"));
    assert!(!answer.to_ascii_lowercase().contains("access-control-allow-origin"), "{answer}");
    drop(server);

    let server = Server::start(&ws.db(), &["--allow-origin", "http://tools.example:8080"]);
    let host = format!("Host: 127.0.0.1:{}\r\n", server.port());
    let allowed = raw_get(&server, "/api/health", &format!("{host}Origin: http://tools.example:8080\r\n"));
    assert!(
        allowed.to_ascii_lowercase().contains("access-control-allow-origin: http://tools.example:8080"),
        "{allowed}"
    );
    let other = raw_get(&server, "/api/health", &format!("{host}Origin: http://elsewhere.example\r\n"));
    assert!(!other.to_ascii_lowercase().contains("access-control-allow-origin"), "{other}");
    let preflight = server.raw(&format!(
        "OPTIONS /api/query HTTP/1.1\r\n{host}Origin: http://tools.example:8080\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: authorization, content-type\r\nConnection: close\r\n\r\n"
    ));
    assert!(preflight.starts_with("HTTP/1.1 200"), "{preflight}");
    assert!(preflight.to_ascii_lowercase().contains("access-control-allow-origin: http://tools.example:8080"));
    // An allowed origin may query, but never change the store.
    let token = server.token.clone().unwrap();
    let query = server.post(
        "/api/query",
        &[
            ("Content-Type", "application/json"),
            ("Origin", "http://tools.example:8080"),
            ("Sec-Fetch-Site", "cross-site"),
        ],
        json!({"query": "RETURN 1"}).to_string().as_bytes(),
    );
    assert_eq!(query.status, 200, "{}", query.body);
    let ingest = server.post(
        "/api/ingest",
        &[("Content-Type", "application/x-ndjson"), ("Origin", "http://tools.example:8080")],
        b"\n",
    );
    assert_eq!(ingest.status, 403, "{}", ingest.body);
    assert!(!token.is_empty());
    drop(server);

    let star = Server::try_start(&ws.db(), &["--allow-origin", "*"]).err().expect("'*' refused");
    assert!(star.contains("'*' is never allowed"), "{star}");
}

#[test]
fn state_changing_posts_need_same_origin_and_a_json_type() {
    let ws = Workspace::new();
    let server = Server::start(&ws.db(), &[]);
    let own = server.base.clone();
    let record = common::article("o1", "", r#"{"type":"meeting","participants":["Ann Example","Bo Example"]}"#) + "\n";
    let cases: Vec<(Vec<(&str, &str)>, u16)> = vec![
        (vec![("Content-Type", "application/x-ndjson"), ("Origin", "http://evil.example")], 403),
        (vec![("Content-Type", "application/x-ndjson"), ("Sec-Fetch-Site", "cross-site")], 403),
        (vec![("Content-Type", "application/x-ndjson"), ("Sec-Fetch-Site", "same-site")], 403),
        (vec![("Content-Type", "text/plain")], 415),
        (vec![("Content-Type", "application/x-www-form-urlencoded")], 415),
        (vec![("Content-Type", "multipart/form-data; boundary=x")], 415),
        (vec![], 415),
        (
            vec![("Content-Type", "application/x-ndjson"), ("Origin", own.as_str()), ("Sec-Fetch-Site", "same-origin")],
            202,
        ),
        (vec![("Content-Type", "application/x-ndjson")], 202),
    ];
    for (headers, status) in cases {
        let answer = server.post("/api/ingest", &headers, record.as_bytes());
        assert_eq!(answer.status, status, "{headers:?}: {}", answer.body);
        assert!(answer.json().get(if status == 202 { "job" } else { "error" }).is_some());
    }
    let form_query = server.post("/api/query", &[("Content-Type", "text/plain")], br#"{"query":"RETURN 1"}"#);
    assert_eq!(form_query.status, 415);
    let foreign_query = server.post(
        "/api/query",
        &[("Content-Type", "application/json"), ("Origin", "http://evil.example")],
        br#"{"query":"RETURN 1"}"#,
    );
    assert_eq!(foreign_query.status, 403);
}

#[test]
fn security_headers_are_on_every_response() {
    let ws = example_store();
    let server = Server::start(&ws.db(), &[]);
    let host = format!("Host: 127.0.0.1:{}\r\n", server.port());
    let responses = [
        raw_get(&server, "/", &host),
        raw_get(&server, "/api/health", &host),
        raw_get(&server, "/api/info", &host),
        raw_get(&server, "/no/such/route", &host),
        raw_get(&server, "/api/info", "Host: evil.example\r\n"),
    ];
    for response in responses {
        let lower = response.to_ascii_lowercase();
        assert!(lower.contains("content-security-policy: default-src 'self'"), "{response}");
        assert!(lower.contains("x-content-type-options: nosniff"), "{response}");
        assert!(lower.contains("referrer-policy: no-referrer"), "{response}");
        assert!(lower.contains("content-type: application/json") || lower.contains("content-type: text/html"));
    }
}

#[test]
fn body_limits_answer_413_and_the_server_stays_up() {
    let ws = example_store();
    let server = Server::start(&ws.db(), &["--max-upload-mib", "1"]);
    let token = server.token.clone().unwrap();
    // The server refuses on the declared length, before the body: a client still sending
    // would only see its connection closed, so these requests announce the body and stop.
    for (path, content_type, length) in
        [("/api/query", "application/json", 2 << 20), ("/api/ingest", "application/x-ndjson", 2 << 20)]
    {
        let answer = server.raw(&format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAuthorization: Bearer {token}\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n",
            server.port()
        ));
        assert!(answer.starts_with("HTTP/1.1 413"), "{path}: {answer}");
        assert!(answer.contains("\"code\":\"payload_too_large\""), "{answer}");
    }
    // A body just under the query limit is read and answered.
    let near = json!({ "query": format!("RETURN size('{}') AS n", "x".repeat(1_000_000)) });
    assert_eq!(server.post_json("/api/query", &near).json()["rows"][0][0], 1_000_000);
    assert_eq!(server.get("/api/health").status, 200);
    assert_eq!(server.query("RETURN 1 AS one").status, 200);
}

#[test]
fn errors_are_json_never_traces() {
    let ws = example_store();
    let server = Server::start(&ws.db(), &[]);
    let missing = server.get("/api/nothing");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error"]["code"], "not_found");
    let wrong_method = server.get("/api/query");
    assert_eq!(wrong_method.status, 405);
    assert_eq!(wrong_method.json()["error"]["code"], "method_not_allowed");
    let bad_query_string = server.get("/api/neighbours/x?limit=many");
    assert_eq!(bad_query_string.status, 400, "{}", bad_query_string.body);
    assert!(bad_query_string.json()["error"]["message"].is_string());
    for answer in [missing, wrong_method, bad_query_string] {
        assert!(!answer.body.contains("panicked") && !answer.body.contains("RUST_BACKTRACE"));
    }
}
