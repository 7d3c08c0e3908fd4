//! `cargo xtask build-console`: the console, built by Trunk into `dist/`.

use std::path::PathBuf;

use anyhow::{bail, Result};

use crate::cmd::{say, Cmd};
use crate::{project, setup, split};

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

/// The flags the release console is compiled with. `erase_components`
/// makes Leptos box each component's view instead of naming its full type,
/// so far less code is generated: about 11% less wasm here. LLVM's inline
/// threshold 0 (`z` alone allows small callees) keeps generic helpers as
/// calls rather than copies in every caller: 3.3 kB less wasm gzip.
/// `immediate-abort` makes a panic trap at once, with no message: the
/// browser shows no panic message without a hook anyway, and the console
/// installs none, so this only drops std's panic formatting (README,
/// console size notes).
const RELEASE_RUSTFLAGS: &str =
    "--cfg erase_components -C llvm-args=-inline-threshold=0 -Z unstable-options -C panic=immediate-abort";

/// Cargo's `-Z build-std`, as environment: the console compiles its own
/// std, for `immediate-abort` and with std's smaller algorithms
/// (`optimize_for_size`); the prebuilt std is compiled for speed, with
/// unwinding. Together 22.7 kB less wasm gzip.
///
/// Both are unstable, so they need `RUSTC_BOOTSTRAP=1`, which lets this
/// machine's stable compiler take them. It applies to this build alone:
/// the server and every test are built as stable Rust.
const BUILD_STD_ENV: [(&str, &str); 3] = [
    ("RUSTC_BOOTSTRAP", "1"),
    ("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort"),
    ("CARGO_UNSTABLE_BUILD_STD_FEATURES", "optimize_for_size"),
];

/// `trunk build --release --offline`, which writes `dist/`, then the wasm
/// split into chunks ([`split`]); returns `dist/`'s absolute path. Trunk
/// only uses the tools on PATH whose versions match Trunk.toml exactly,
/// which setup (and [`project::extend_path`]) ensure.
///
/// `RUSTFLAGS` reach only the wasm build (Trunk passes `--target`, so
/// build scripts and macros are compiled without them), and they are
/// appended to any the caller set.
pub fn build_dist() -> Result<PathBuf> {
    if !exists() {
        bail!("there is no index.html yet, so there is no console to build");
    }
    say("==> build-console: trunk build --release (offline)");
    let ours = format!("{RELEASE_RUSTFLAGS} {}", split::RUSTFLAGS);
    let rustflags = match std::env::var("RUSTFLAGS") {
        Ok(theirs) if !theirs.trim().is_empty() => format!("{theirs} {ours}"),
        _ => ours,
    };
    BUILD_STD_ENV
        .iter()
        .fold(Cmd::new("trunk"), |trunk, (key, value)| {
            trunk.env(key, value)
        })
        .args(["build", "--release", "--offline"])
        .env("RUSTFLAGS", rustflags)
        .run()?;
    let dist = project::dist_dir();
    if !dist.join("index.html").is_file() {
        bail!("trunk succeeded but {} has no index.html", dist.display());
    }
    split::split(&dist)?;
    say(format!("==> build-console: built {}", dist.display()));
    Ok(dist)
}
