//! Shared helpers for the CLI tests: run the real binary against a store in a temp dir.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/kim-putin-2023.jsonl");

pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Self {
        Workspace { dir: tempfile::tempdir().expect("temp dir") }
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("graph.db")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).expect("write test file");
        path
    }

    /// `diplograph --db <store> ARGS…`, run in the temp dir.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("diplograph").expect("binary built");
        cmd.current_dir(self.dir.path()).env_remove("DIPLOGRAPH_DB").arg("--db").arg(self.db()).args(args);
        cmd
    }

    pub fn ingest(&self, file: &Path) -> std::process::Output {
        self.cmd(&["ingest", file.to_str().expect("utf-8 path")]).output().expect("run ingest")
    }

    pub fn stats(&self) -> serde_json::Value {
        let output = self.cmd(&["stats", "--format", "json"]).output().expect("run stats");
        assert!(output.status.success(), "stats failed: {}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice(&output.stdout).expect("stats prints JSON")
    }
}

/// A one-line article record with the given facts and entities (JSON fragments).
pub fn article(id: &str, entities: &str, facts: &str) -> String {
    format!(
        r#"{{"article":{{"id":"{id}","published":"2024-01-02","outlet":"Test"}},"entities":[{entities}],"facts":[{facts}]}}"#
    )
}

/// The Python of the test peers' virtual environment (`scripts/setup-test-peers.sh`), or
/// `None` when peers were not asked for. With `DIPLOGRAPH_TEST_PEERS=1` (as `.ci/run` sets)
/// a missing environment fails the test instead of passing it unseen.
pub fn peer_python(test: &str) -> Option<PathBuf> {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/peers/venv/bin/python");
    if std::env::var("DIPLOGRAPH_TEST_PEERS").as_deref() == Ok("1") {
        assert!(
            python.exists(),
            "{test}: DIPLOGRAPH_TEST_PEERS=1 but {} is missing; run scripts/setup-test-peers.sh",
            python.display()
        );
        return Some(python);
    }
    eprintln!(
        "{test}: not run against its peer (run scripts/setup-test-peers.sh, then DIPLOGRAPH_TEST_PEERS=1 cargo test)"
    );
    None
}
