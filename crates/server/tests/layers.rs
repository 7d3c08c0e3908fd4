//! The server's layers, checked from its source: each folder of `src/`
//! imports only the layers below it, and HTTP exists only in `api/` (and in
//! the binary's start-up, which serves it). `docs/architecture.md` names
//! these invariants; this test keeps them true.

use std::path::{Path, PathBuf};

/// The layers from the top down. Each may import those after it, never
/// those before it; `secrets` is a leaf every layer may use.
const LAYERS: &[&str] = &["api", "control", "live", "dataplane", "store"];

/// Names that mean HTTP. Outside `api/` and start-up none may appear.
const HTTP: &[&str] = &["axum", "tower", "StatusCode", "http::", "hyper", "ApiError"];

/// Files outside the layers that may use HTTP: they start the server.
const START_UP: &[&str] = &["server.rs", "main.rs"];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The code of a file without its comments, line by line.
fn code_lines(path: &Path) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(path).expect("a readable source file");
    text.lines()
        .enumerate()
        .filter_map(|(n, line)| {
            let code = line.split("//").next().unwrap_or_default().trim();
            (!code.is_empty()).then(|| (n + 1, code.to_owned()))
        })
        .collect()
}

/// The layer a file is in, if any.
fn layer_of(path: &Path) -> Option<usize> {
    let relative = path.strip_prefix(src()).ok()?;
    let top = relative.components().next()?.as_os_str().to_str()?;
    LAYERS.iter().position(|layer| *layer == top)
}

#[test]
fn every_layer_imports_only_the_layers_below_it() {
    let mut upward = Vec::new();
    for file in rust_files(&src()) {
        let Some(own) = layer_of(&file) else { continue };
        for (line, code) in code_lines(&file) {
            for name in &LAYERS[..own] {
                if code.contains(&format!("crate::{name}")) {
                    upward.push(format!(
                        "{}:{line}: {code} ({} imports {name})",
                        file.display(),
                        LAYERS[own]
                    ));
                }
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports that point upward:\n{}",
        upward.join("\n")
    );
}

#[test]
fn no_http_below_api() {
    let mut found = Vec::new();
    for file in rust_files(&src()) {
        let relative = file
            .strip_prefix(src())
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if relative.starts_with("api/") || START_UP.contains(&relative.as_str()) {
            continue;
        }
        for (line, code) in code_lines(&file) {
            if let Some(word) = HTTP.iter().find(|word| code.contains(*word)) {
                found.push(format!("{relative}:{line}: {code} (uses {word})"));
            }
        }
    }
    assert!(found.is_empty(), "HTTP below api/:\n{}", found.join("\n"));
}

#[test]
fn the_checks_see_the_layers() {
    // A check that reads no file would pass whatever the code did.
    let files = rust_files(&src());
    for layer in LAYERS {
        assert!(
            files
                .iter()
                .any(|f| layer_of(f) == LAYERS.iter().position(|l| l == layer)),
            "no file in src/{layer}"
        );
    }
    assert!(files.len() > 30, "only {} source files found", files.len());
}
