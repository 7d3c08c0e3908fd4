//! The tools the set-up builds from crates.io with `cargo install`: Trunk,
//! the wasm-bindgen CLI and the wasm splitter.

use anyhow::Result;

use super::{ensure, tool_version};
use crate::cmd::Cmd;
use crate::lockfile;

/// Trunk 0.22 needs a newer rustc than this machine's, so we stay on 0.21.x.
const TRUNK_SERIES: &str = "0.21";

/// Trunk 0.21.x, built from crates.io with its own lockfile.
pub(super) fn ensure_trunk() -> Result<()> {
    ensure(
        "trunk",
        || tool_version("trunk", 1),
        |version| version.starts_with(&format!("{TRUNK_SERIES}.")),
        || {
            let requirement = format!("~{TRUNK_SERIES}");
            cargo_install(&["trunk", "--version", &requirement, "--locked"])
        },
    )
}

/// `wasm-bindgen` and `wasm-bindgen-test-runner` at exactly the version of the
/// `wasm-bindgen` crate in Cargo.lock (Trunk and the test runner refuse any
/// other). Installed without `--locked`: that release's own lockfile pins a
/// crate the registry no longer has.
pub(super) fn ensure_wasm_bindgen() -> Result<()> {
    let wanted = lockfile::locked_version("wasm-bindgen")?;
    ensure(
        "wasm-bindgen-cli",
        || {
            let cli = tool_version("wasm-bindgen", 1)?;
            let runner = tool_version("wasm-bindgen-test-runner", 1)?;
            Some(if cli == runner {
                cli
            } else {
                format!("{cli} with test runner {runner}")
            })
        },
        |version| version == wanted,
        || cargo_install(&["wasm-bindgen-cli", "--version", &wanted]),
    )
}

/// The crate whose `wasm-split-cli` cuts the console into chunks
/// (xtask's `split`), at the version that reads the split points of the
/// `wasm_split_helpers` in Cargo.lock.
const WASM_SPLIT_CRATE: (&str, &str) = ("wasm_split_cli_support", "0.2.3");

/// `wasm-split-cli`, built from crates.io. It has no `--version`, so the
/// version is cargo's record of what it installed.
pub(super) fn ensure_wasm_split() -> Result<()> {
    let (name, version) = WASM_SPLIT_CRATE;
    ensure(
        "wasm-split-cli",
        || {
            Cmd::new("wasm-split-cli").arg("--help").probe_output()?;
            let installed = Cmd::cargo().args(["install", "--list"]).probe_output()?;
            let line = installed
                .lines()
                .find(|l| l.starts_with(&format!("{name} v")))?;
            line.split_whitespace()
                .nth(1)
                .map(|v| v.trim_start_matches('v').trim_end_matches(':').to_owned())
        },
        |found| found == version,
        || {
            cargo_install(&[
                name,
                "--version",
                &format!("={version}"),
                "--locked",
                "--features",
                "build-binary",
            ])
        },
    )
}

/// `cargo install …` with the cargo that runs us.
fn cargo_install(args: &[&str]) -> Result<()> {
    Cmd::cargo().arg("install").args(args).run()
}
