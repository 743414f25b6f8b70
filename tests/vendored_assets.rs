//! The vendored front-end libraries under assets/vendor/ are exactly the files their SHA256SUMS
//! lists: a changed, missing or unlisted file fails here, so an update is always deliberate.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

fn vendor_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/vendor")
}

/// `(relative path, hex digest)` for each line of SHA256SUMS (`sha256sum` output format).
fn listed_sums() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(vendor_dir().join("SHA256SUMS")).expect("read SHA256SUMS");
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let (digest, path) = line.split_once("  ").unwrap_or_else(|| panic!("malformed SHA256SUMS line: {line}"));
            (path.trim_start_matches("./").to_string(), digest.to_string())
        })
        .collect()
}

fn files_under(dir: &Path, root: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).expect("read vendor dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            files_under(&path, root, out);
        } else {
            let relative = path.strip_prefix(root).expect("under root").to_string_lossy().replace('\\', "/");
            out.insert(relative);
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[test]
fn every_vendored_file_matches_its_listed_sha256() {
    let sums = listed_sums();
    assert!(!sums.is_empty(), "SHA256SUMS lists no file");
    for (path, expected) in &sums {
        let bytes = std::fs::read(vendor_dir().join(path)).unwrap_or_else(|err| panic!("{path}: {err}"));
        let actual = hex(&Sha256::digest(&bytes));
        assert_eq!(
            &actual, expected,
            "assets/vendor/{path} changed; if deliberate, regenerate SHA256SUMS (assets/vendor/README.md)"
        );
    }
}

#[test]
fn every_vendored_file_is_listed_and_licensed() {
    let listed: BTreeSet<String> = listed_sums().into_iter().map(|(path, _)| path).collect();
    let mut present = BTreeSet::new();
    files_under(&vendor_dir(), &vendor_dir(), &mut present);
    present.remove("SHA256SUMS");
    present.remove("README.md");
    let unlisted: Vec<_> = present.difference(&listed).collect();
    assert!(unlisted.is_empty(), "vendored files missing from SHA256SUMS: {unlisted:?}");
    for library in ["cytoscape", "codemirror"] {
        assert!(listed.contains(&format!("{library}/LICENSE")), "{library} is vendored without its LICENSE");
    }
}
