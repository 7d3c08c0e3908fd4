//! Where things are: the repository, cargo's target directory, the built
//! console and the `georep-server` binary (built on demand).

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use anyhow::{bail, Context, Result};

/// The repository root (the workspace's `Cargo.toml` is there).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/testkit sits two levels below the repository root")
        .to_path_buf()
}

/// The profile directory the running executable was built into, e.g.
/// `target/debug`: a test is `<profile dir>/deps/<test>-<hash>`, a binary
/// `<profile dir>/<name>`.
pub fn profile_dir() -> PathBuf {
    let exe = env::current_exe().expect("the running executable knows its path");
    let dir = exe.parent().expect("an executable lives in a directory");
    if dir.file_name().is_some_and(|name| name == "deps") {
        dir.parent().expect("deps/ has a parent").to_path_buf()
    } else {
        dir.to_path_buf()
    }
}

/// Cargo's target directory, however it was chosen (`CARGO_TARGET_DIR`,
/// `--target-dir`, or the default `target/`): the parent of
/// [`profile_dir`].
pub fn target_dir() -> PathBuf {
    profile_dir()
        .parent()
        .expect("a profile directory has a parent")
        .to_path_buf()
}

/// The built console: `$GEOREP_DIST` (set by `cargo xtask test`), or the
/// repository's `dist/` for a plain `cargo test`. Panics with what to do
/// when there is none: an end-to-end test must not pass by skipping.
pub fn dist_dir() -> PathBuf {
    let dist = match env::var_os("GEOREP_DIST") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let fallback = repo_root().join("dist");
            assert!(
                fallback.join("index.html").is_file(),
                "GEOREP_DIST is not set and {} has no index.html: build the console first \
                 (`cargo xtask build-console`), or run `cargo xtask test`, which sets GEOREP_DIST",
                fallback.display()
            );
            eprintln!(
                "GEOREP_DIST is not set; using the console already built in {}",
                fallback.display()
            );
            fallback
        }
    };
    assert!(
        dist.join("index.html").is_file(),
        "GEOREP_DIST={} holds no index.html: is the console built?",
        dist.display()
    );
    dist.canonicalize().expect("the console directory resolves")
}

/// The real `georep-server` binary, up to date.
///
/// `$GEOREP_SERVER_BIN` wins when set. Otherwise cargo builds it into the
/// same target directory and profile as the running executable (a no-op
/// when it is fresh, as after `cargo test --workspace`): cargo gives a test
/// no `CARGO_BIN_EXE_*` of another package, so this asks cargo itself,
/// once per process. The server's own tests pass
/// `env!("CARGO_BIN_EXE_georep-server")` to [`crate::ServerBuilder::binary`]
/// instead.
pub fn server_binary() -> Result<PathBuf> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    if let Some(bin) = env::var_os("GEOREP_SERVER_BIN") {
        return Ok(PathBuf::from(bin));
    }
    BUILT
        .get_or_init(|| build_server().map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(anyhow::Error::msg)
}

fn build_server() -> Result<PathBuf> {
    let profile_dir = profile_dir();
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev",
        Some(name) => name,
        None => bail!("unexpected profile directory {}", profile_dir.display()),
    };
    // Cargo sets CARGO for the processes it runs, tests included.
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--package",
            "georep-server",
            "--bin",
            "georep-server",
        ])
        .args(["--profile", profile])
        .arg("--manifest-path")
        .arg(repo_root().join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir())
        .status()
        .context("cargo does not run")?;
    if !status.success() {
        bail!("building georep-server failed: {status}");
    }
    let bin = profile_dir.join("georep-server");
    if !bin.is_file() {
        bail!("cargo built no {}", bin.display());
    }
    Ok(bin)
}

/// The Chromium flags of the repository's `webdriver.json`
/// (`goog:chromeOptions.args`), which the console's browser tests use too.
pub fn webdriver_args() -> Result<Vec<String>> {
    let path = repo_root().join("webdriver.json");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let args = json["goog:chromeOptions"]["args"]
        .as_array()
        .with_context(|| format!("{} has no goog:chromeOptions.args", path.display()))?;
    Ok(args
        .iter()
        .filter_map(|arg| arg.as_str().map(str::to_owned))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_repository_and_its_browser_flags() {
        assert!(repo_root().join("Cargo.toml").is_file());
        let args = webdriver_args().unwrap();
        assert!(args.iter().any(|a| a.starts_with("--headless")), "{args:?}");
        assert!(target_dir().is_dir());
    }
}
