//! Shared helpers for the server tests: start the real binary's `serve` on a free
//! loopback port, read the URL it prints, and talk to it over HTTP (ureq) or raw TCP.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

pub struct Server {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub token: Option<String>,
    pub store: PathBuf,
}

/// An HTTP answer: status, headers (lower-case names) and body.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Json {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

impl Server {
    /// `diplograph --db STORE serve --port 0 ARGS…`, once it has printed its URL.
    pub fn start(store: &Path, args: &[&str]) -> Server {
        Self::try_start(store, args).unwrap_or_else(|stderr| panic!("serve did not start: {stderr}"))
    }

    /// Starts the server, or returns what it printed on stderr when it exits instead.
    pub fn try_start(store: &Path, args: &[&str]) -> Result<Server, String> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_diplograph"))
            .env_remove("DIPLOGRAPH_DB")
            .arg("--db")
            .arg(store)
            .args(["serve", "--port", "0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn diplograph serve");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("read the URL line");
        if line.trim().is_empty() {
            let mut stderr = String::new();
            child.stderr.take().expect("stderr").read_to_string(&mut stderr).expect("read stderr");
            let _ = child.wait();
            return Err(stderr);
        }
        // Keep stderr drained so the server never blocks on a full pipe.
        let mut stderr = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = stderr.read_to_end(&mut sink);
        });
        let url = line.trim().to_string();
        let (base, token) = match url.split_once("/#token=") {
            Some((base, token)) => (base.to_string(), Some(token.to_string())),
            None => (url.trim_end_matches('/').to_string(), None),
        };
        Ok(Server { child: Some(child), base, token, store: store.to_path_buf() })
    }

    pub fn port(&self) -> u16 {
        self.base.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port in URL")
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    fn agent() -> ureq::Agent {
        ureq::AgentBuilder::new().timeout(Duration::from_secs(60)).build()
    }

    fn answer(result: Result<ureq::Response, ureq::Error>) -> Answer {
        let response = match result {
            Ok(response) => response,
            Err(ureq::Error::Status(_, response)) => response,
            Err(err) => panic!("request failed: {err}"),
        };
        let status = response.status();
        let headers = response
            .headers_names()
            .iter()
            .map(|n| (n.clone(), response.header(n).unwrap_or("").to_string()))
            .collect();
        let body = response.into_string().expect("body");
        Answer { status, headers, body }
    }

    fn with_token(&self, request: ureq::Request) -> ureq::Request {
        match &self.token {
            Some(token) => request.set("Authorization", &format!("Bearer {token}")),
            None => request,
        }
    }

    /// GET with the token.
    pub fn get(&self, path: &str) -> Answer {
        Self::answer(self.with_token(Self::agent().get(&format!("{}{path}", self.base))).call())
    }

    /// GET without any token.
    pub fn get_anonymous(&self, path: &str) -> Answer {
        Self::answer(Self::agent().get(&format!("{}{path}", self.base)).call())
    }

    /// POST a JSON body with the token.
    pub fn post_json(&self, path: &str, body: &Json) -> Answer {
        let request = self.with_token(Self::agent().post(&format!("{}{path}", self.base)));
        Self::answer(request.set("Content-Type", "application/json").send_string(&body.to_string()))
    }

    /// POST with the token and extra headers.
    pub fn post(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
        let mut request = self.with_token(Self::agent().post(&format!("{}{path}", self.base)));
        for (name, value) in headers {
            request = request.set(name, value);
        }
        Self::answer(request.send_bytes(body))
    }

    /// POST a JSON body without the token.
    pub fn get_anonymous_post(&self, path: &str, body: &Json) -> Answer {
        let request = Self::agent().post(&format!("{}{path}", self.base));
        Self::answer(request.set("Content-Type", "application/json").send_string(&body.to_string()))
    }

    pub fn query(&self, text: &str) -> Answer {
        self.post_json("/api/query", &serde_json::json!({ "query": text }))
    }

    /// Uploads a batch and waits for its job to end; returns the job's last state.
    pub fn ingest(&self, source: &str, batch: &str) -> Json {
        let answer = self.post(
            &format!("/api/ingest?source={source}"),
            &[("Content-Type", "application/x-ndjson")],
            batch.as_bytes(),
        );
        assert_eq!(answer.status, 202, "ingest refused: {}", answer.body);
        let id = answer.json()["job"].as_u64().expect("job id");
        self.wait_for_job(id)
    }

    pub fn wait_for_job(&self, id: u64) -> Json {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let job = self.get(&format!("/api/jobs/{id}")).json();
            if matches!(job["state"].as_str(), Some("done" | "failed")) {
                return job;
            }
            assert!(Instant::now() < deadline, "job {id} did not finish: {job}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends `request` as raw bytes (for headers a client library would fix) and reads the answer.
    pub fn raw(&self, request: &str) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port())).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
        stream.write_all(request.as_bytes()).expect("send");
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    }

    /// SIGTERM, then the exit status.
    pub fn terminate(mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        signal(child.id(), "-TERM");
        wait_with_timeout(&mut child, Duration::from_secs(60))
    }

    /// The exit status once the server stops after a signal sent with `signal`.
    pub fn terminate_after_signal(mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        wait_with_timeout(&mut child, Duration::from_secs(60))
    }

    /// SIGKILL: a crash, leaving the address file behind.
    pub fn kill(mut self) {
        let mut child = self.child.take().expect("running");
        let _ = child.kill();
        let _ = child.wait();
    }
}

pub fn signal(pid: u32, which: &str) {
    let status = Command::new("kill").arg(which).arg(pid.to_string()).status().expect("run kill");
    assert!(status.success(), "kill {which} {pid} failed");
}

fn wait_with_timeout(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server did not stop within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// An article whose three meetings are its own (distinct people and dates): a reader that
/// sees the article sees exactly three events reported in it.
pub fn three_event_article(i: usize) -> String {
    let fact = |k: usize| {
        format!(
            r#"{{"type":"meeting","participants":["Person {i} A","Person {i} B"],"date":"2024-01-{:02}","evidence":"met ({k})"}}"#,
            k + 1
        )
    };
    format!(
        r#"{{"article":{{"id":"art-{i}","published":"2024-02-01","outlet":"Load"}},"entities":[],"facts":[{},{},{}]}}"#,
        fact(0),
        fact(1),
        fact(2)
    )
}

pub fn batch(range: std::ops::Range<usize>) -> String {
    range.map(|i| three_event_article(i) + "\n").collect()
}
