//! Where things are: the repository, cargo's target directory, the built
//! console and the `georep-server` binary.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root (the workspace's `Cargo.toml` is there).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("tests/e2e sits two levels below the repository root")
        .to_path_buf()
}

/// The profile directory the running test was built into, e.g.
/// `target/debug`: the test binary is `<profile dir>/deps/<test>-<hash>`.
fn profile_dir() -> PathBuf {
    let exe = env::current_exe().expect("the test binary knows its path");
    exe.parent()
        .and_then(Path::parent)
        .expect("test binaries live in <target>/<profile>/deps")
        .to_path_buf()
}

/// Cargo's target directory, however it was chosen (`CARGO_TARGET_DIR`,
/// `--target-dir`, or the default `target/`).
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

/// Where screenshots go: `$GEOREP_SCREENSHOTS_DIR`, else
/// `<target>/e2e-screenshots`.
pub fn screenshots_dir() -> PathBuf {
    env::var_os("GEOREP_SCREENSHOTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("e2e-screenshots"))
}

/// The real `georep-server` binary, up to date.
///
/// `$GEOREP_SERVER_BIN` wins when set. Otherwise cargo builds it into the
/// same target directory and profile as this test (a no-op when it is
/// fresh, as after `cargo test --workspace`). Cargo gives a test no
/// `CARGO_BIN_EXE_*` of another package, so this asks cargo itself.
pub fn server_binary() -> PathBuf {
    if let Some(bin) = env::var_os("GEOREP_SERVER_BIN") {
        return PathBuf::from(bin);
    }
    let profile_dir = profile_dir();
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev",
        Some(name) => name,
        None => panic!("unexpected profile directory {}", profile_dir.display()),
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
        .expect("cargo runs");
    assert!(status.success(), "building georep-server failed: {status}");
    let bin = profile_dir.join("georep-server");
    assert!(bin.is_file(), "cargo built no {}", bin.display());
    bin
}
