//! The explorer's files without a browser: the vendored libraries under assets/vendor/ are
//! exactly the files their SHA256SUMS lists (a changed, missing or unlisted file fails here, so
//! an update is always deliberate), and the page needs nothing the server's
//! Content-Security-Policy refuses: no inline script, style or handler, no other host, and
//! every file it loads or imports is there.

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

fn assets_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets")
}

/// The values of `attribute="…"` in an HTML or JS text, in order.
fn quoted_after<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    text.match_indices(prefix)
        .filter_map(|(at, _)| {
            let rest = &text[at + prefix.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .collect()
}

#[test]
fn index_html_has_no_inline_script_style_or_handler() {
    let html = std::fs::read_to_string(assets_dir().join("index.html")).expect("read index.html");
    let lower = html.to_lowercase();
    for (at, _) in lower.match_indices("<script") {
        let tag_end = lower[at..].find('>').map(|end| at + end).expect("closed script tag");
        assert!(lower[at..tag_end].contains(" src="), "inline <script> at byte {at}: the CSP refuses it");
    }
    assert!(!lower.contains("<style"), "a <style> element: the CSP refuses it; put the rule in explorer.css");
    assert!(!lower.contains(" style="), "a style attribute: the CSP refuses it; put the rule in explorer.css");
    for handler in [" onclick=", " onload=", " onerror=", " onsubmit=", " onchange=", " oninput="] {
        assert!(!lower.contains(handler), "an inline{handler} handler: the CSP refuses it");
    }
    assert!(!lower.contains("javascript:"), "a javascript: URL in index.html");
}

#[test]
fn every_file_the_page_loads_is_an_embedded_asset() {
    let html = std::fs::read_to_string(assets_dir().join("index.html")).expect("read index.html");
    let mut referenced: Vec<String> =
        quoted_after(&html, "src=\"").into_iter().chain(quoted_after(&html, "href=\"")).map(str::to_string).collect();
    assert!(!referenced.is_empty(), "index.html references no file");
    // ES module imports, followed from each module the page or another module loads.
    let mut modules: Vec<PathBuf> = Vec::new();
    for entry in std::fs::read_dir(assets_dir().join("js")).expect("read assets/js") {
        modules.push(entry.expect("dir entry").path());
    }
    for module in &modules {
        let text = std::fs::read_to_string(module).expect("read module");
        assert!(!text.contains(".innerHTML"), "{}: innerHTML would let stored text become markup", module.display());
        assert!(
            !text.contains("insertAdjacentHTML"),
            "{}: insertAdjacentHTML would let stored text become markup",
            module.display()
        );
        for import in quoted_after(&text, "from \"") {
            let target = module.parent().expect("module dir").join(import);
            assert!(target.exists(), "{} imports {import}, which is missing", module.display());
        }
    }
    for reference in referenced.drain(..) {
        assert!(
            !reference.starts_with("http:") && !reference.starts_with("https:") && !reference.starts_with("//"),
            "index.html loads {reference} from another host; vendor it under assets/vendor/"
        );
        let path = reference
            .strip_prefix("/assets/")
            .unwrap_or_else(|| panic!("index.html loads {reference}, outside /assets/"));
        assert!(assets_dir().join(path).is_file(), "index.html loads {reference}, which is not under assets/");
    }
}
