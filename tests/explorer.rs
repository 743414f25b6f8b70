//! The web explorer in a real headless Chromium against a real `diplograph serve`: the
//! example store plus an article whose title, quote and names hold HTML and script, driven
//! by tests/peers/explorer_browser.py (Playwright pointed at Debian's chromium), whose JSON
//! verdicts are checked here. Needs the test peers (scripts/setup-test-peers.sh) and
//! DIPLOGRAPH_TEST_PEERS=1; screenshots go to target/explorer-screenshots, or to docs/
//! with DIPLOGRAPH_UPDATE_SCREENSHOTS=1.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{peer_python, Workspace, EXAMPLE};

/// The name of the hostile entity, as the driver expects to see it, character for character.
const XSS_NAME: &str = r#"Mallory <b>bold</b><img src=x onerror="window.__xss='name'">"#;

/// Title, evidence quote, according_to, entity name and URL all try to become markup or
/// script; the page must show each as text and run none of it.
fn hostile_article() -> String {
    let record = serde_json::json!({
        "article": {
            "id": "evil-times-1999-03-01",
            "url": "javascript:window.__xss='url'",
            "outlet": "Evil Times",
            "published": "1999-03-01",
            "language": "en",
            "title": "<img src=x onerror=\"window.__xss='title'\"><script>window.__xss='title2'</script><b>Breaking</b>"
        },
        "entities": [
            {"ref": "m", "kind": "Person", "name": XSS_NAME},
            {"ref": "v", "kind": "Person", "name": "Victor Example"}
        ],
        "facts": [{
            "type": "meeting", "participants": ["m", "v"], "date": "1999-03-01",
            "evidence": "<script>window.__xss='quote'</script><img src=x onerror=\"window.__xss='quote2'\">",
            "according_to": "<b onmouseover=\"window.__xss='according'\">someone</b>"
        }]
    });
    format!("{record}\n")
}

/// `diplograph serve` on a free loopback port; killed when dropped, so a failed
/// assertion leaves no server behind.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(workspace: &Workspace) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_diplograph"))
            .current_dir(workspace.dir.path())
            .env_remove("DIPLOGRAPH_DB")
            .arg("--db")
            .arg(workspace.db())
            .args(["serve", "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start diplograph serve");
        let stdout = child.stdout.take().expect("serve stdout");
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.starts_with("http://") {
                    let _ = sender.send(line);
                }
            }
        });
        match receiver.recv_timeout(Duration::from_secs(20)) {
            Ok(url) => Server { child, url },
            Err(_) => {
                let _ = child.kill();
                panic!("diplograph serve printed no URL within 20 s");
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn screenshot_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = if std::env::var("DIPLOGRAPH_UPDATE_SCREENSHOTS").as_deref() == Ok("1") {
        root.join("docs")
    } else {
        root.join("target/explorer-screenshots")
    };
    std::fs::create_dir_all(&dir).expect("create the screenshot directory");
    dir
}

/// Runs the driver with a deadline (a hung browser fails the test instead of the CI run)
/// and returns its verdicts.
fn drive(python: &Path, workspace: &Workspace, url: &str) -> serde_json::Map<String, serde_json::Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/explorer_browser.py");
    let stdout_path = workspace.path("driver.out");
    let stderr_path = workspace.path("driver.err");
    let mut child = Command::new(python)
        .arg(&script)
        .arg(url)
        .arg(screenshot_dir())
        .arg(XSS_NAME)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).expect("driver stdout file"))
        .stderr(std::fs::File::create(&stderr_path).expect("driver stderr file"))
        .spawn()
        .expect("run the browser driver");
    let deadline = Instant::now() + Duration::from_secs(150);
    loop {
        if child.try_wait().expect("poll the driver").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the browser driver ran past its deadline: {}",
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let stdout = std::fs::read_to_string(&stdout_path).expect("read driver stdout");
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    match serde_json::from_str::<serde_json::Value>(stdout.trim()) {
        Ok(serde_json::Value::Object(verdicts)) => verdicts,
        _ => panic!("the browser driver printed no verdicts.\nstdout: {stdout}\nstderr: {stderr}"),
    }
}

#[test]
fn explorer_answers_who_gave_what_to_whom_in_a_real_browser() {
    let Some(python) = peer_python("explorer_answers_who_gave_what_to_whom_in_a_real_browser") else {
        return;
    };
    let workspace = Workspace::new();
    let ingested = workspace.ingest(Path::new(EXAMPLE));
    assert!(ingested.status.success(), "ingest the example: {}", String::from_utf8_lossy(&ingested.stderr));
    let hostile = workspace.write("hostile.jsonl", &hostile_article());
    let ingested = workspace.ingest(&hostile);
    assert!(ingested.status.success(), "ingest the hostile article: {}", String::from_utf8_lossy(&ingested.stderr));

    let server = Server::start(&workspace);
    assert!(server.url.contains("#token="), "serve prints its token in the URL fragment: {}", server.url);
    let verdicts = drive(&python, &workspace, &server.url);
    drop(server);

    let expected = [
        "loads",
        "token leaves the address bar",
        "csv quoting and date ranges",
        "large result drawn in part",
        "graph node count",
        "graph canvas not blank",
        "captions are names, colours by label",
        "edges carry their type",
        "table rows",
        "table giver first row",
        "brush shrinks the graph",
        "brush filters the table",
        "expand and undo",
        "expand cap",
        "export CSV",
        "export JSON",
        "export PNG",
        "export SVG",
        "highlight, pin, hide",
        "truncated banner",
        "error with caret",
        "bad parameters are an error",
        "parameters",
        "rows without nodes open in the table",
        "completion from the schema",
        "history kept",
        "explain shows the plan",
        "cancel a running query",
        "timeout reported",
        "saved query after reload",
        "examples run",
        "entity page Indonesian quote",
        "report shows outlet, date, language, according_to",
        "report links the article",
        "entity events in date order",
        "entity timeline brush filters its events",
        "back returns to the previous entity",
        "entity opens in the graph",
        "store timeline",
        "store timeline brush lists events",
        "bucketed timeline",
        "planned visit shows its fulfilling visit",
        "stored HTML is shown as text",
        "a javascript: URL is not a link",
        "stored script never runs",
        "asks for a missing token",
        "no CSP violations",
        "no page errors",
    ];
    let failed: Vec<String> = verdicts
        .iter()
        .filter(|(_, verdict)| verdict["ok"] != serde_json::Value::Bool(true))
        .map(|(name, verdict)| format!("{name}: {}", verdict["detail"]))
        .collect();
    let missing: Vec<&str> = expected.iter().copied().filter(|name| !verdicts.contains_key(*name)).collect();
    assert!(failed.is_empty() && missing.is_empty(), "failed: {failed:#?}\nnot reached: {missing:?}");
}
