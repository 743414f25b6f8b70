//! Forwarding: while `diplograph serve` holds a store, `query`, `stats`, `show`,
//! `entities` and `check` on it are sent to the server, which runs the same command code
//! with captured output (`run_forwarded`); `ingest` uploads each batch as a job and prints
//! its rejections and summary as a direct ingest would. Same output, same exit codes.
//! `import` (its own branch) can forward the same way: read locally, upload the records.

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use clap::Parser;
use serde_json::{json, Value as Json};

use super::{failure_text, maintenance, output, query_cmd, Cli, Command, Console, Failure};
use crate::ingest::{IngestError, IngestSummary, WriteCounts};
use crate::serve::discovery::{self, ServerAddress};
use crate::store::{Store, StoreError};

/// What a forwarded command printed and its exit status.
pub struct ForwardedOutput {
    pub stdout: String,
    pub stderr: String,
    pub exit: u8,
}

/// Runs a read-only command for a forwarding CLI. `argv` is its command line without the
/// program name and `--db`; `query_text` is the query it read from its own file or stdin
/// (the server never reads a client's path). A query runs within the server's `limits`.
pub fn run_forwarded(
    store: &Store,
    argv: &[String],
    query_text: Option<String>,
    limits: query_cmd::Limits,
) -> ForwardedOutput {
    let mut console = Console::captured();
    let parsed = Cli::try_parse_from(std::iter::once("diplograph".to_string()).chain(argv.iter().cloned()));
    let result = match parsed {
        Err(err) => Err(Failure::Message(err.to_string().trim_start_matches("error: ").trim_end().to_string())),
        Ok(cli) => match cli.command {
            Command::Query(args) => match query_text {
                Some(text) => query_cmd::query_within(&mut console, store, args.with_text(text), Some(limits)),
                None => Err(Failure::Message("a forwarded query needs its text".into())),
            },
            Command::Stats { format } => store
                .stats()
                .map_err(Failure::from)
                .and_then(|stats| output::print_stats(&mut console, &stats, format))
                .map(|()| 0),
            Command::Entities { kind, name, format } => {
                super::inspect::entities(&mut console, store, kind.as_deref(), name.as_deref(), format)
            }
            Command::Show { id, format } => super::inspect::show(&mut console, store, &id, format),
            Command::Check => {
                // One snapshot for the whole check: no batch lands half-way through it.
                let _snapshot = store.read_snapshot();
                maintenance::check(&mut console, store)
            }
            _ => Err(Failure::Message("only query, stats, show, entities and check are forwarded to a server".into())),
        },
    };
    let exit = match result {
        Ok(code) => code,
        Err(Failure::BrokenPipe) => 0,
        Err(Failure::Message(message)) => {
            console.eprint_line(&format!("error: {message}"));
            2
        }
    };
    let (stdout, stderr) = console.into_captured();
    ForwardedOutput {
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        exit,
    }
}

/// The server holding `db`, when opening it failed because it is in use and a server
/// answers at the address it left; otherwise the original error.
pub fn server_for(db: &Path, err: StoreError) -> Result<Client, Failure> {
    if !matches!(err, StoreError::InUse(_)) {
        return Err(err.into());
    }
    let Some(address) = discovery::read(db) else { return Err(err.into()) };
    let client = Client::new(address);
    if client.healthy() {
        return Ok(client);
    }
    Err(Failure::Message(format!(
        "{err} ({} names a server at {} that does not answer: another process holds the store)",
        discovery::file_path(db).display(),
        client.address.url
    )))
}

pub struct Client {
    address: ServerAddress,
    agent: ureq::Agent,
}

impl Client {
    fn new(address: ServerAddress) -> Client {
        let agent = ureq::AgentBuilder::new().timeout_connect(Duration::from_secs(2)).build();
        Client { address, agent }
    }

    fn healthy(&self) -> bool {
        let response =
            self.agent.get(&format!("{}/api/health", self.address.url)).timeout(Duration::from_secs(2)).call();
        response.is_ok()
    }

    fn request(&self, method: &str, path: &str) -> ureq::Request {
        let request = self.agent.request(method, &format!("{}{path}", self.address.url));
        match &self.address.token {
            Some(token) => request.set("Authorization", &format!("Bearer {token}")),
            None => request,
        }
    }

    /// The JSON answer, or the server's error message.
    fn answer(&self, response: Result<ureq::Response, ureq::Error>) -> Result<Json, Failure> {
        match response {
            Ok(response) => response
                .into_string()
                .map_err(std::io::Error::other)
                .and_then(|text| serde_json::from_str::<Json>(&text).map_err(std::io::Error::other))
                .map_err(|e| {
                    Failure::Message(format!("the server at {} sent an unreadable answer: {e}", self.address.url))
                }),
            Err(ureq::Error::Status(status, response)) => {
                let body = response
                    .into_string()
                    .ok()
                    .and_then(|t| serde_json::from_str::<Json>(&t).ok())
                    .unwrap_or(Json::Null);
                let message =
                    body["error"]["message"].as_str().map(str::to_string).unwrap_or_else(|| format!("HTTP {status}"));
                Err(Failure::Message(format!("the server at {} refused the request: {message}", self.address.url)))
            }
            Err(err) => Err(Failure::Message(format!("cannot reach the server at {}: {err}", self.address.url))),
        }
    }

    /// Runs a read-only command on the server and prints what it printed.
    pub fn run_command(&self, query_text: Option<String>) -> Result<u8, Failure> {
        let body = json!({"version": env!("CARGO_PKG_VERSION"), "argv": argv_without_db(), "query_text": query_text});
        let response =
            self.request("POST", "/api/cli").set("Content-Type", "application/json").send_string(&body.to_string());
        let answer = self.answer(response)?;
        let stdout = answer["stdout"].as_str().unwrap_or_default();
        let stderr = answer["stderr"].as_str().unwrap_or_default();
        eprint!("{stderr}");
        super::write_stdout(stdout)?;
        Ok(answer["exit"].as_u64().and_then(|c| u8::try_from(c).ok()).unwrap_or(2))
    }

    /// Uploads each batch as a job, prints its diagnostics as they come and the summary
    /// at the end, as `diplograph ingest` does.
    pub fn ingest(&self, files: &[String], rejects: Option<&Path>) -> Result<u8, Failure> {
        // As `Ingester::new`: the rejects file is created (empty) before anything is read.
        let mut rejects = match rejects {
            Some(path) => match std::fs::File::create(path) {
                Ok(file) => Some((path, std::io::BufWriter::new(file))),
                Err(error) => return Err(IngestError::Rejects { path: path.to_path_buf(), error }.into()),
            },
            None => None,
        };
        let mut total = IngestSummary::default();
        for name in files {
            // As a direct ingest: a file that cannot be opened is a plain error, one that
            // fails while being read also says what was stored before.
            let (mut input, _) = crate::ingest::open_source(name)?;
            let mut body = Vec::new();
            if let Err(error) = input.read_to_end(&mut body) {
                let err = crate::ingest::IngestError::Input { source_name: name.to_string(), error };
                return Err(Failure::Message(failure_text(&err, &stored_before(&total))));
            }
            let sink = rejects.as_mut().map(|(path, writer)| (*path, writer as &mut dyn Write));
            let summary = self.upload(name, &body, sink)?;
            total.counts += summary.counts;
            total.rejected += summary.rejected;
            total.warnings += summary.warnings;
        }
        if let Some((path, mut writer)) = rejects {
            writer.flush().map_err(|error| IngestError::Rejects { path: path.to_path_buf(), error })?;
        }
        eprintln!("{total}");
        Ok(if total.rejected > 0 { 1 } else { 0 })
    }

    /// Uploads one article batch read (or made) here as a job named `source`, prints its
    /// diagnostics as they come and returns its summary once it is stored and flushed; a
    /// failed job is an error carrying the server's message. This is also the way for
    /// `import` to write through a server: convert locally, upload the article records.
    /// With `rejects`, the job's rejected records are appended to that file (named by the path).
    pub fn upload(
        &self,
        source: &str,
        body: &[u8],
        rejects: Option<(&Path, &mut dyn Write)>,
    ) -> Result<IngestSummary, Failure> {
        let path = format!("/api/ingest?source={}", percent_encode(source));
        let response = self.request("POST", &path).set("Content-Type", "application/x-ndjson").send_bytes(body);
        let job = self.answer(response)?;
        let id = job["job"].as_u64().ok_or_else(|| Failure::Message("the server did not name the job".into()))?;
        let finished = self.follow_job(id)?;
        if let Some((path, writer)) = rejects {
            self.save_rejects(id, &finished, path, writer)?;
        }
        if finished["state"] == "failed" {
            let message = finished["error"].as_str().unwrap_or("the ingest failed on the server");
            return Err(Failure::Message(message.to_string()));
        }
        Ok(summary_from_json(&finished["summary"]))
    }

    /// Appends a finished job's rejected records to the rejects file.
    fn save_rejects(&self, id: u64, job: &Json, path: &Path, writer: &mut dyn Write) -> Result<(), Failure> {
        let response = self.request("GET", &format!("/api/jobs/{id}/rejects")).call();
        let mut records = Vec::new();
        match response {
            Ok(response) => response.into_reader().read_to_end(&mut records).map(drop).map_err(|e| {
                Failure::Message(format!("cannot read the rejected records from {}: {e}", self.address.url))
            })?,
            Err(_) => {
                return Err(Failure::Message(format!(
                    "the server at {} did not send the rejected records",
                    self.address.url
                )))
            }
        }
        writer.write_all(&records).map_err(|error| IngestError::Rejects { path: path.to_path_buf(), error })?;
        if job["rejected_records_complete"] == false {
            return Err(Failure::Message(format!(
                "the server kept only the first 64 MiB of rejected records; {} holds those (re-run the ingest without the server for all of them)",
                path.display()
            )));
        }
        Ok(())
    }

    /// Polls a job until it is done or failed, printing new diagnostics on stderr.
    fn follow_job(&self, id: u64) -> Result<Json, Failure> {
        let mut printed = 0usize;
        loop {
            let job = self.answer(self.request("GET", &format!("/api/jobs/{id}")).call())?;
            let diagnostics = job["diagnostics"].as_array().cloned().unwrap_or_default();
            for line in diagnostics.iter().skip(printed) {
                eprintln!("{}", line.as_str().unwrap_or_default());
            }
            printed = diagnostics.len();
            if matches!(job["state"].as_str(), Some("done" | "failed")) {
                return Ok(job);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn stored_before(total: &IngestSummary) -> String {
    format!("{} articles were stored before the failure", total.counts.articles_added + total.counts.articles_replaced)
}

fn summary_from_json(json: &Json) -> IngestSummary {
    let n = |key: &str| json[key].as_u64().unwrap_or(0);
    IngestSummary {
        counts: WriteCounts {
            articles_added: n("articles_added"),
            articles_replaced: n("articles_replaced"),
            events_added: n("events_added"),
            events_merged: n("events_merged"),
            events_removed: n("events_removed"),
            entities_added: n("entities_added"),
            entities_merged: n("entities_merged"),
        },
        rejected: n("rejected"),
        warnings: n("warnings"),
    }
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// This process's arguments without the program name and the global `--db PATH`.
fn argv_without_db() -> Vec<String> {
    let mut out = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--db" {
            args.next();
        } else if !arg.starts_with("--db=") {
            out.push(arg);
        }
    }
    out
}
