//! Where things live in the repository, and the `PATH` that finds our tools.

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context, Result};

/// The Rust target the console compiles to.
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// The repository root (the workspace root, one level above `xtask/`).
///
/// Read from the `CARGO_MANIFEST_DIR` that `cargo run` sets, not the one
/// compiled in: a target directory shared by two clones would otherwise run
/// one clone's xtask in the other clone's (possibly deleted) tree.
pub fn root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let manifest_dir = env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
        manifest_dir
            .parent()
            .expect("xtask lives one directory below the workspace root")
            .to_path_buf()
    })
}

/// Repository-local tools that are not Cargo binaries (gitignored).
pub fn tools_dir() -> PathBuf {
    root().join(".tools")
}

/// The npm prefix that holds `binaryen` (and so `wasm-opt`).
pub fn node_prefix() -> PathBuf {
    tools_dir().join("node")
}

/// Executables installed by npm under [`node_prefix`].
pub fn node_bin_dir() -> PathBuf {
    node_prefix().join("node_modules").join(".bin")
}

/// The Python virtual environment with the Azure SDK packages.
pub fn venv_dir() -> PathBuf {
    tools_dir().join("venv")
}

/// Trunk's output directory, which the server serves and e2e tests load.
pub fn dist_dir() -> PathBuf {
    root().join("dist")
}

/// Cargo's target directory: `CARGO_TARGET_DIR`, else `target/`.
pub fn target_dir() -> PathBuf {
    env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map_or_else(|| root().join("target"), |dir| root().join(dir))
}

/// The `cargo` that runs us, so child builds use the same toolchain.
pub fn cargo() -> OsString {
    env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// Where `cargo install` puts binaries: `$CARGO_HOME/bin`, else `~/.cargo/bin`.
fn cargo_bin_dir() -> Option<PathBuf> {
    let home = env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))?;
    Some(home.join("bin"))
}

/// Puts the npm tools and Cargo's binaries in front of `PATH` for this
/// process and every command it starts, so freshly installed tools are found
/// and Trunk sees the exact `wasm-opt` and `wasm-bindgen` versions it pins.
///
/// Called once at start-up, before any thread exists.
pub fn extend_path() -> Result<()> {
    let current = env::var_os("PATH").unwrap_or_default();
    let ours: Vec<PathBuf> = [Some(node_bin_dir()), cargo_bin_dir()]
        .into_iter()
        .flatten()
        .collect();
    let theirs = env::split_paths(&current).filter(|dir| !ours.contains(dir));
    let joined =
        env::join_paths(ours.iter().cloned().chain(theirs)).context("cannot build PATH")?;
    env::set_var("PATH", joined);
    Ok(())
}
