//! `cargo xtask build-console`: the console, built by Trunk into `dist/`.

use std::path::PathBuf;

use anyhow::{bail, Result};

use crate::cmd::{say, Cmd};
use crate::{project, setup};

/// Sets up, then builds the console.
pub fn build() -> Result<()> {
    setup::run()?;
    build_dist()?;
    Ok(())
}

/// Whether the console has an entry point Trunk can build yet.
pub fn exists() -> bool {
    project::root().join("index.html").is_file()
}

/// `trunk build --release --offline`, which writes `dist/` and returns its
/// absolute path. Trunk only uses the tools on PATH whose versions match
/// Trunk.toml exactly, which setup (and [`project::extend_path`]) ensure.
pub fn build_dist() -> Result<PathBuf> {
    if !exists() {
        bail!("there is no index.html yet, so there is no console to build");
    }
    say("==> build-console: trunk build --release (offline)");
    Cmd::new("trunk")
        .args(["build", "--release", "--offline"])
        .run()?;
    let dist = project::dist_dir();
    if !dist.join("index.html").is_file() {
        bail!("trunk succeeded but {} has no index.html", dist.display());
    }
    say(format!("==> build-console: built {}", dist.display()));
    Ok(dist)
}
