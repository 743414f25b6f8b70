//! The HTTP API over a real server on a loopback port: query answers (rows, graph,
//! truncation, errors with caret), streaming, schema, entities, entity detail,
//! neighbours, timeline, batch jobs, Neo4j's Query API v2 and the embedded assets.

mod common;
mod serve;

use serde_json::{json, Value as Json};

use common::{Workspace, EXAMPLE};
use serve::Server;

fn example_server(args: &[&str]) -> (Workspace, Server) {
    let ws = Workspace::new();
    assert!(ws.ingest(std::path::Path::new(EXAMPLE)).status.success());
    let server = Server::start(&ws.db(), args);
    (ws, server)
}

#[test]
fn query_answers_rows_and_a_deduplicated_graph() {
    let (_ws, server) = example_server(&[]);
    let answer = server.post_json(
        "/api/query",
        &json!({"query": "MATCH (g:Gift)-[r:GIVER]->(p:Person) WHERE p.name = $name RETURN g, r, p ORDER BY g.id", "parameters": {"name": "Kim Jong Un"}}),
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    let body = answer.json();
    assert_eq!(body["columns"], json!(["g", "r", "p"]));
    let rows = body["rows"].as_array().unwrap();
    assert!(rows.len() >= 2, "{body}");
    let rel = &rows[0][1];
    assert_eq!(rel["type"], "GIVER");
    assert_eq!(rel["startNodeElementId"], rows[0][0]["elementId"]);
    assert_eq!(rel["endNodeElementId"], rows[0][2]["elementId"]);
    assert_eq!(rows[0][2]["labels"], json!(["Person"]));
    assert_eq!(rows[0][2]["properties"]["name"], "Kim Jong Un");
    // Kim appears in every row but once in the graph.
    let nodes = body["graph"]["nodes"].as_array().unwrap();
    let kims = nodes.iter().filter(|n| n["properties"]["name"] == "Kim Jong Un").count();
    assert_eq!(kims, 1);
    assert_eq!(nodes.len(), rows.len() + 1);
    assert_eq!(body["graph"]["relationships"].as_array().unwrap().len(), rows.len());
    assert_eq!(body["truncated"], false);
}

#[test]
fn query_max_rows_truncates_and_paths_are_shaped_like_neo4j() {
    let (_ws, server) = example_server(&[]);
    let body = server.post_json("/api/query", &json!({"query": "MATCH (n) RETURN n", "max_rows": 3})).json();
    assert_eq!(body["rows"].as_array().unwrap().len(), 3);
    assert_eq!(body["truncated"], true);
    let body =
        server.post_json("/api/query", &json!({"query": "MATCH p = (:Gift)-[:GIVER]->() RETURN p LIMIT 1"})).json();
    let path = &body["rows"][0][0];
    assert_eq!(path["nodes"].as_array().unwrap().len(), 2);
    assert_eq!(path["relationships"][0]["type"], "GIVER");
    assert_eq!(body["graph"]["nodes"].as_array().unwrap().len(), 2);
    let explained =
        server.post_json("/api/query", &json!({"query": "MATCH (n:Person) RETURN n", "explain": true})).json();
    assert!(explained["explain"].as_str().unwrap().contains("LabelScan"), "{explained}");
}

#[test]
fn query_errors_carry_code_line_column_and_the_cli_caret() {
    let (ws, server) = example_server(&[]);
    let text = "MATCH (n:Person)\nRETURN n.name ORDER";
    let answer = server.post_json("/api/query", &json!({ "query": text }));
    assert_eq!(answer.status, 400);
    let error = &answer.json()["error"];
    assert_eq!(error["code"], "syntax_error");
    assert_eq!(error["line"], 2);
    assert!(error["column"].as_u64().unwrap() > 1);
    drop(server);
    // The caret text is what the CLI prints under its message.
    let direct = ws.cmd(&["query", text]).output().unwrap();
    let stderr = String::from_utf8(direct.stderr).unwrap();
    assert!(stderr.ends_with(&format!("{}\n", error["caret"].as_str().unwrap())), "{stderr:?} vs {error}");
    assert!(stderr.starts_with(&format!("error: {}", error["message"].as_str().unwrap())));
}

#[test]
fn write_clauses_bad_json_and_unknown_fields_are_client_errors() {
    let (_ws, server) = example_server(&[]);
    let answer = server.query("CREATE (n:Person {name: 'x'})");
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json()["error"]["code"], "unsupported");
    let answer = server.post("/api/query", &[("Content-Type", "application/json")], b"{not json");
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json()["error"]["code"], "bad_request");
    let answer = server.post_json("/api/query", &json!({"query": "RETURN 1", "colour": "red"}));
    assert_eq!(answer.status, 400);
    let answer = server.post_json("/api/query", &json!({"query": "RETURN 1/0"}));
    assert_eq!(answer.status, 422, "{}", answer.body);
}

#[test]
fn ndjson_and_csv_stream_the_rows() {
    let (ws, server) = example_server(&[]);
    let text = "MATCH (a:Article) RETURN a.id AS id, a.outlet AS outlet ORDER BY id";
    let ndjson = server.post(
        "/api/query",
        &[("Content-Type", "application/json"), ("Accept", "application/x-ndjson")],
        json!({ "query": text }).to_string().as_bytes(),
    );
    assert_eq!(ndjson.status, 200);
    assert_eq!(ndjson.header("content-type"), Some("application/x-ndjson"));
    let lines: Vec<Json> = ndjson.body.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines[0], json!({"columns": ["id", "outlet"]}));
    assert_eq!(lines.len(), 5);
    assert!(lines[1]["row"][0].is_string());
    let csv = server.post(
        "/api/query",
        &[("Content-Type", "application/json"), ("Accept", "text/csv")],
        json!({ "query": text }).to_string().as_bytes(),
    );
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    drop(server);
    // The same bytes as the CLI's --format csv.
    let direct = ws.cmd(&["query", text, "--format", "csv"]).output().unwrap();
    assert_eq!(csv.body, String::from_utf8(direct.stdout).unwrap());
}

#[test]
fn streamed_query_errors_before_the_first_row_are_json_errors() {
    let (_ws, server) = example_server(&[]);
    let answer = server.post(
        "/api/query",
        &[("Content-Type", "application/json"), ("Accept", "application/x-ndjson")],
        json!({"query": "MATCH (n RETURN n"}).to_string().as_bytes(),
    );
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json()["error"]["code"], "syntax_error");
}

#[test]
fn schema_lists_labels_types_and_property_keys_with_counts() {
    let (ws, server) = example_server(&[]);
    let schema = server.get("/api/schema").json();
    let stats = {
        drop(server);
        ws.stats()
    };
    for label in schema["labels"].as_array().unwrap() {
        assert_eq!(label["count"], stats["nodes"][label["name"].as_str().unwrap()]);
    }
    assert_eq!(schema["labels"].as_array().unwrap().len(), stats["nodes"].as_object().unwrap().len());
    let types = schema["relationshipTypes"].as_array().unwrap();
    assert!(types.iter().any(|t| t["name"] == "REPORTED_IN" && t["count"] == stats["edges"]["REPORTED_IN"]));
    let keys: Vec<&str> = schema["propertyKeys"].as_array().unwrap().iter().map(|k| k.as_str().unwrap()).collect();
    for key in ["id", "name", "evidence", "outlet", "date"] {
        assert!(keys.contains(&key), "{key} missing from {keys:?}");
    }
}

#[test]
fn entities_entity_and_neighbours_describe_a_node_with_provenance() {
    let (_ws, server) = example_server(&[]);
    let found = server.get("/api/entities?name=putin").json();
    assert_eq!(found[0]["id"], "person:vladimir-putin");
    assert!(found[0]["events"].as_u64().unwrap() > 3);
    let none = server.get("/api/entities?name=nobody%20at%20all").json();
    assert_eq!(none, json!([]));
    let bad_kind = server.get("/api/entities?name=putin&kind=Planet");
    assert_eq!(bad_kind.status, 400);

    let entity = server.get("/api/entity/person%3Avladimir-putin").json();
    assert_eq!(entity["node"]["properties"]["name"], "Vladimir Putin");
    assert!(entity["aliases"].as_array().unwrap().iter().any(|a| a == "Putin"));
    assert!(entity["affiliations"].as_array().unwrap().iter().any(|a| a["type"] == "REPRESENTS"));
    let events = entity["events"].as_array().unwrap();
    assert_eq!(u64::try_from(events.len()).unwrap(), found[0]["events"].as_u64().unwrap());
    let dates: Vec<&str> = events.iter().filter_map(|e| e["node"]["properties"]["date"].as_str()).collect();
    let mut sorted = dates.clone();
    sorted.sort();
    assert_eq!(dates, sorted, "events in date order");
    let report = &events[0]["reports"][0];
    assert!(report["article"]["labels"].as_array().unwrap().contains(&json!("Article")));
    assert!(report["article"]["properties"]["outlet"].is_string());
    assert!(report.get("evidence").is_some() && report.get("according_to").is_some());
    assert!(events[0]["roles"].as_array().unwrap().iter().any(|r| r["node"]["properties"]["name"] == "Vladimir Putin"));

    let missing = server.get("/api/entity/person%3Anobody");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error"]["code"], "not_found");

    let near = server.get("/api/neighbours/person%3Avladimir-putin?limit=3").json();
    assert_eq!(near["truncated"], true);
    assert_eq!(near["graph"]["relationships"].as_array().unwrap().len(), 3);
    assert!(near["graph"]["nodes"].as_array().unwrap().len() <= 4);
    let all = server.get("/api/neighbours/person%3Avladimir-putin?limit=1000").json();
    assert_eq!(all["truncated"], false);
}

#[test]
fn timeline_buckets_events_by_type_and_status() {
    let (_ws, server) = example_server(&[]);
    let all = server.get("/api/timeline?bucket=year").json();
    assert_eq!(all["bucket"], "year");
    let total: u64 = all["buckets"].as_array().unwrap().iter().map(|b| b["count"].as_u64().unwrap()).sum();
    assert_eq!(total + all["undated"].as_u64().unwrap(), 21);
    let months = server.get("/api/timeline?entity=person%3Avladimir-putin&type=gift&bucket=month").json();
    for bucket in months["buckets"].as_array().unwrap() {
        assert_eq!(bucket["by_type"].as_object().unwrap().keys().collect::<Vec<_>>(), vec!["gift"]);
        assert_eq!(bucket["start"].as_str().unwrap().len(), 7);
    }
    let events = months["events"].as_array().unwrap();
    assert!(!events.is_empty());
    assert!(events.iter().all(|e| e["type"] == "gift" && e["label"].as_str().unwrap().contains("Vladimir Putin")));
    let range = server.get("/api/timeline?from=2023-09-01&to=2023-09-30&bucket=week").json();
    for event in range["events"].as_array().unwrap() {
        assert!(event["date"].as_str().unwrap().starts_with("2023-09"), "{event}");
    }
    let month_end = server.get("/api/timeline?from=2023-09-14&to=2023-09&bucket=day").json();
    for event in month_end["events"].as_array().unwrap() {
        let date = event["date"].as_str().unwrap();
        assert!(date == "2023-09" || date == "2023" || date >= "2023-09-14" && date.starts_with("2023-09"), "{event}");
    }
    let before = server.get("/api/timeline?to=2019").json();
    assert!(before["events"].as_array().unwrap().iter().all(|e| e["date"].as_str().unwrap() < "2020"), "{before}");
    assert!(before["events"].as_array().unwrap().iter().any(|e| e["date"].as_str().unwrap().starts_with("2019-")));
    // 2023-09-13 was a Wednesday: its week starts on Monday the 11th.
    assert!(range["buckets"].as_array().unwrap().iter().any(|b| b["start"] == "2023-09-11"), "{range}");
    assert_eq!(server.get("/api/timeline?bucket=fortnight").status, 400);
    assert_eq!(server.get("/api/timeline?from=yesterday").status, 400);
}

#[test]
fn ingest_job_reports_progress_rejections_and_summary() {
    let ws = Workspace::new();
    let server = Server::start(&ws.db(), &[]);
    let good = common::article(
        "a1",
        "",
        r#"{"type":"meeting","participants":["Ann Example","Bo Example"],"date":"2024-01-01"}"#,
    );
    let batch = format!("{good}\n{{\"article\": 1}}\n");
    let job = server.ingest("mine.jsonl", &batch);
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(job["summary"]["articles_added"], 1);
    assert_eq!(job["summary"]["rejected"], 1);
    let rejections = job["rejections"].as_array().unwrap();
    assert!(rejections[0].as_str().unwrap().starts_with("mine.jsonl:2: "), "{job}");
    assert_eq!(job["progress"]["bytes_read"], job["progress"]["bytes_total"]);
    let count = server.query("MATCH (a:Article) RETURN count(*) AS n").json();
    assert_eq!(count["rows"][0][0], 1);
    let rejects = server.get(&format!("/api/jobs/{}/rejects", job["id"]));
    assert_eq!(rejects.status, 200);
    assert_eq!(rejects.body, "{\"article\": 1}\n");
    assert_eq!(job["rejected_records_complete"], true);
    assert_eq!(server.get("/api/jobs/999").status, 404);
    assert_eq!(server.get("/api/jobs/999/rejects").status, 404);
}

#[test]
fn read_only_server_refuses_ingest_and_still_answers_queries() {
    let (_ws, server) = example_server(&["--read-only"]);
    let answer = server.post("/api/ingest", &[("Content-Type", "application/x-ndjson")], b"{}\n");
    assert_eq!(answer.status, 403);
    assert_eq!(answer.json()["error"]["code"], "read_only");
    assert_eq!(server.get("/api/info").json()["read_only"], true);
    assert_eq!(server.query("RETURN 1 AS one").status, 200);
}

#[test]
fn neo4j_query_api_v2_answers_fields_and_values() {
    let (ws, server) = example_server(&[]);
    let body = json!({"statement": "MATCH (p:Person {name: $name}) RETURN p.name AS name, p", "parameters": {"name": "Vladimir Putin"}});
    let answer = server.post_json("/db/neo4j/query/v2", &body);
    assert_eq!(answer.status, 202, "{}", answer.body);
    let data = &answer.json()["data"];
    assert_eq!(data["fields"], json!(["name", "p"]));
    assert_eq!(data["values"][0][0], "Vladimir Putin");
    assert!(data["values"][0][1]["elementId"].is_string());
    // The store's directory name is a database name too.
    let name = ws.db().file_name().unwrap().to_str().unwrap().to_string();
    assert_eq!(server.post_json(&format!("/db/{name}/query/v2"), &body).status, 202);
    let missing = server.post_json("/db/other/query/v2", &body);
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["errors"][0]["code"], "Neo.ClientError.Database.DatabaseNotFound");
    let syntax = server.post_json("/db/neo4j/query/v2", &json!({"statement": "MATCH (n RETURN n"}));
    assert_eq!(syntax.status, 400);
    assert_eq!(syntax.json()["errors"][0]["code"], "Neo.ClientError.Statement.SyntaxError");
    let write = server.post_json("/db/neo4j/query/v2", &json!({"statement": "CREATE (n)"}));
    assert_eq!(write.json()["errors"][0]["code"], "Neo.ClientError.Statement.AccessMode");
    // Neo4j's drivers send Basic auth: the token is the password.
    let token = server.token.clone().unwrap();
    let basic = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(format!("neo4j:{token}"))
    };
    let raw_body = body.to_string();
    let with_basic = server.raw(&format!(
        "POST /db/neo4j/query/v2 HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAuthorization: Basic {basic}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{raw_body}",
        server.port(),
        raw_body.len()
    ));
    assert!(with_basic.starts_with("HTTP/1.1 202"), "{with_basic}");
    let anonymous = Server::get_anonymous_post(&server, "/db/neo4j/query/v2", &body);
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.json()["errors"][0]["code"], "Neo.ClientError.Security.Unauthorized");
}

#[test]
fn assets_are_embedded_with_types_csp_and_revalidation() {
    let (_ws, server) = example_server(&[]);
    let index = server.get_anonymous("/");
    assert_eq!(index.status, 200);
    assert_eq!(index.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(index.header("content-security-policy").unwrap().starts_with("default-src 'self'"));
    assert!(!index.header("content-security-policy").unwrap().contains("unsafe-inline"));
    assert_eq!(index.header("cache-control"), Some("no-cache"));
    let etag = index.header("etag").unwrap().to_string();
    let again = server.raw(&format!(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nIf-None-Match: {etag}\r\nConnection: close\r\n\r\n",
        server.port()
    ));
    assert!(again.starts_with("HTTP/1.1 304"), "{again}");
    let asset = server.get_anonymous("/assets/index.html");
    assert_eq!(asset.status, 200);
    assert_eq!(asset.body, index.body);
    let missing = server.get_anonymous("/assets/nope.js");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error"]["code"], "not_found");
    let escape = server.raw(&format!(
        "GET /assets/../Cargo.toml HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
        server.port()
    ));
    assert!(!escape.contains("[package]"), "{escape}");
}

#[test]
fn info_and_health_describe_the_server() {
    let (_ws, server) = example_server(&[]);
    assert_eq!(server.get_anonymous("/api/health").json(), json!({"status": "ok"}));
    let info = server.get("/api/info").json();
    assert_eq!(info["name"], "diplograph");
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(info["auth"], true);
    assert_eq!(info["read_only"], false);
    assert_eq!(info["store"], "graph.db");
}
