//! The address file a running server leaves in its store directory (`serve.json`: URL and
//! token, readable by its user only), so a CLI that finds the store locked can forward its
//! command. Removed on exit; a file left by a killed server is stale, which a client finds
//! out by trying to connect.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ServerAddress {
    /// `http://HOST:PORT`, without a trailing slash.
    pub url: String,
    pub token: Option<String>,
    pub pid: u32,
}

pub fn file_path(store: &Path) -> PathBuf {
    store.join("serve.json")
}

/// Writes the file with mode 0600 (the token is a password), replacing a stale one.
pub fn write(store: &Path, url: &str, token: Option<&str>) -> std::io::Result<()> {
    let address = ServerAddress { url: url.to_string(), token: token.map(str::to_string), pid: std::process::id() };
    let text = serde_json::to_string(&address).map_err(std::io::Error::other)?;
    let path = file_path(store);
    let temporary = store.join("serve.json.tmp");
    let _ = std::fs::remove_file(&temporary);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&temporary)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&temporary, &path)
}

/// The address of the server that holds `store`, if it left one.
pub fn read(store: &Path) -> Option<ServerAddress> {
    let text = std::fs::read_to_string(file_path(store)).ok()?;
    serde_json::from_str(&text).ok()
}

pub fn remove(store: &Path) {
    let _ = std::fs::remove_file(file_path(store));
}
