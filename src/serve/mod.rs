//! `diplograph serve`: one process holds the store and serves it over HTTP (axum on
//! tokio). This is the HTTP layer only — routes, the request guard, limits, the embedded
//! explorer — and it reaches the graph through the same `query`, `ingest` and `store`
//! functions the CLI calls: never sled directly, never a second query path or writer.
//! Reads run on a bounded pool of query slots; all writes go through one writer thread.

mod api;
mod assets;
pub mod discovery;
mod error;
mod jobs;
mod neo4j;
mod pool;
mod query_api;
mod security;
mod values;

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use serde::de::DeserializeOwned;

use crate::store::Store;
pub use error::ApiError;
pub use security::{generate_token, read_token_file};

/// How `serve` was asked to run.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    pub bind: IpAddr,
    pub port: u16,
    pub read_only: bool,
    /// `None` with `--no-auth` (refused off loopback).
    pub token: Option<String>,
    pub allow_origins: Vec<String>,
    pub allow_hosts: Vec<String>,
    /// Queries running at once.
    pub query_slots: usize,
    /// How long a request waits for a free slot before a 503.
    pub slot_wait: Duration,
    /// Every query's deadline, and the most a request may ask for.
    pub query_timeout: Duration,
    /// Rows a JSON answer holds when the request does not say.
    pub default_rows: u64,
    /// The engine's cap on rows held in memory (ORDER BY, DISTINCT, aggregation) or returned.
    pub max_held_rows: u64,
    /// How long running requests and the writer get after SIGINT/SIGTERM.
    pub shutdown_grace: Duration,
    /// Body limits: a query request, and an uploaded batch.
    pub max_query_body: usize,
    pub max_upload: usize,
}

impl ServeConfig {
    /// Refuses settings that would expose the store: no token off loopback, a `*` origin.
    pub fn validate(&self) -> Result<(), String> {
        if self.token.is_none() && !self.bind.is_loopback() {
            return Err(format!(
                "--no-auth is only allowed on a loopback address, not {}: anyone who can reach the port could read the store; drop --no-auth (a token is generated) or pass --token-file",
                self.bind
            ));
        }
        if let Some(bad) = self.allow_origins.iter().find(|o| o.as_str() == "*" || !o.contains("://")) {
            return Err(format!(
                "--allow-origin '{bad}': give a full origin such as http://localhost:5173; '*' is never allowed"
            ));
        }
        if self.query_slots == 0 {
            return Err("--query-slots must be at least 1".into());
        }
        Ok(())
    }
}

/// What every route shares.
pub struct AppState {
    store: Arc<Store>,
    config: ServeConfig,
    pool: pool::QueryPool,
    writer: jobs::Writer,
    /// The store's directory name: a Neo4j database name besides `neo4j`.
    store_name: String,
}

/// Parses a JSON request body, turning every failure into an API error (413 when too big).
pub(crate) fn json_body<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let bytes = body_bytes(body)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("the request body is not the JSON this route takes: {e}")))
}

pub(crate) fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| {
        let status = rejection.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(status, "payload_too_large", "the request body is larger than this route takes")
        } else {
            ApiError::new(status, "bad_request", format!("cannot read the request body: {}", rejection.body_text()))
        }
    })
}

fn router(state: Arc<AppState>, guard: Arc<security::Guard>) -> Router {
    let config = &state.config;
    let api = Router::new()
        .route("/api/health", get(api::health))
        .route("/api/info", get(api::info))
        .route("/api/query", post(query_api::query).layer(DefaultBodyLimit::max(config.max_query_body)))
        .route("/api/schema", get(api::schema))
        .route("/api/stats", get(api::stats))
        .route("/api/entities", get(api::entities))
        .route("/api/entity/{id}", get(api::entity))
        .route("/api/neighbours/{id}", get(api::neighbours))
        .route("/api/timeline", get(api::timeline))
        .route("/api/ingest", post(api::ingest).layer(DefaultBodyLimit::max(config.max_upload)))
        .route("/api/jobs/{id}", get(api::job))
        .route("/api/jobs/{id}/rejects", get(api::job_rejects))
        .route("/api/cli", post(api::cli).layer(DefaultBodyLimit::max(config.max_query_body)))
        .route("/db/{name}/query/v2", post(neo4j::query_v2).layer(DefaultBodyLimit::max(config.max_query_body)))
        .route("/", get(assets::index))
        .route("/assets/{*path}", get(assets::asset))
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .with_state(state.clone());
    let mut app = api;
    if !config.allow_origins.is_empty() {
        let origins: Vec<HeaderValue> =
            config.allow_origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
        let cors = tower_http::cors::CorsLayer::new()
            .allow_origin(origins)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                axum::http::header::AUTHORIZATION,
                axum::http::header::CONTENT_TYPE,
                axum::http::header::ACCEPT,
            ]);
        app = app.layer(cors);
    }
    app.layer(axum::middleware::from_fn_with_state(guard, security::guard))
        .layer(axum::middleware::from_fn(security::security_headers))
}

/// Runs the server on `store` until SIGINT or SIGTERM; returns once everything acknowledged
/// is flushed and the address file is removed.
pub fn run(store: Store, config: ServeConfig) -> Result<(), String> {
    config.validate()?;
    let store_path: PathBuf = store.path().to_path_buf();
    let store_name =
        store_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "diplograph".into());
    let store = Arc::new(store);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 8);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("diplograph-http")
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the server's runtime: {e}"))?;
    let state = Arc::new(AppState {
        store: store.clone(),
        pool: pool::QueryPool::new(config.query_slots, config.slot_wait),
        writer: jobs::Writer::start(store.clone())?,
        store_name,
        config: config.clone(),
    });
    let outcome = runtime.block_on(serve_until_signal(state.clone(), &store_path));
    let deadline = match &outcome {
        Ok(deadline) => *deadline,
        Err(_) => std::time::Instant::now(),
    };
    state.writer.finish_by(deadline);
    runtime.shutdown_timeout(Duration::from_secs(1));
    discovery::remove(&store_path);
    drop(state);
    let flushed = match Arc::try_unwrap(store) {
        Ok(store) => store.close_with_snapshot(),
        Err(store) => store.flush(),
    };
    outcome?;
    eprintln!("stopped; every acknowledged write is on disk");
    flushed.map_err(|e| format!("the final flush failed: {e}; `diplograph check` verifies the store"))
}

/// Serves until a signal, then drains requests within the grace period; returns when the
/// writer must stop (the end of the grace period).
async fn serve_until_signal(state: Arc<AppState>, store_path: &std::path::Path) -> Result<std::time::Instant, String> {
    let config = &state.config;
    let address = SocketAddr::new(config.bind, config.port);
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| format!("cannot listen on {address}: {e}; pick another --port or --bind"))?;
    let local = listener.local_addr().map_err(|e| format!("cannot read the listening address: {e}"))?;
    let guard = Arc::new(security::Guard {
        token: config.token.clone(),
        port: local.port(),
        bind: config.bind,
        allow_hosts: config.allow_hosts.clone(),
        allow_origins: config.allow_origins.clone(),
        max_upload: config.max_upload,
        max_body: config.max_query_body,
    });
    let base = format!("http://{}", display_address(local));
    discovery::write(store_path, &base, config.token.as_deref())
        .map_err(|e| format!("cannot write the server's address file next to the store: {e}"))?;
    let url = match &config.token {
        Some(token) => format!("{base}/#token={token}"),
        None => format!("{base}/"),
    };
    // The URL is the one line on stdout (scripts read it); a closed stdout is no reason to stop.
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "{url}").and_then(|()| stdout.flush());
    eprintln!(
        "serving {}{} on {base}; {}; Ctrl-C stops",
        store_path.display(),
        if config.read_only { " (read-only)" } else { "" },
        if config.token.is_some() { "API requests need the token in the URL above" } else { "no token (--no-auth)" }
    );
    let app = router(state.clone(), guard);
    let (signalled_tx, signalled_rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        wait_for_signal().await;
        let _ = signalled_tx.send(());
    });
    let server = tokio::spawn(async move { server.await });
    if signalled_rx.await.is_err() {
        // The server ended without a signal (it failed to accept connections).
        return match server.await {
            Ok(Ok(())) => Ok(std::time::Instant::now()),
            Ok(Err(e)) => Err(format!("the server stopped: {e}")),
            Err(_) => Err("the server task failed".into()),
        };
    }
    eprintln!("stopping: finishing running requests and batches (at most {} s)", config.shutdown_grace.as_secs());
    let grace = config.shutdown_grace;
    let deadline = std::time::Instant::now() + grace;
    state.writer.close();
    state.pool.close();
    let drained = tokio::time::timeout(grace, server).await;
    if drained.is_err() {
        // Out of patience: stop queries at their next check and the writer between articles.
        state.pool.cancel_all();
        state.writer.stop_now();
        eprintln!("stopping: the grace period ran out; running queries were cancelled");
    }
    Ok(deadline)
}

fn display_address(address: SocketAddr) -> String {
    match address.ip() {
        IpAddr::V6(ip) => format!("[{ip}]:{}", address.port()),
        IpAddr::V4(ip) => format!("{ip}:{}", address.port()),
    }
}

async fn wait_for_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
