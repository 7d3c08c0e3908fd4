//! The tools and clients the set-up installs from npm into the repository's
//! tools directory: `wasm-opt` (binaryen), esbuild and the Azure SDK for
//! JavaScript.

use anyhow::Result;

use super::ensure;
use crate::cmd::Cmd;
use crate::project;

/// The npm `binaryen` release that provides `wasm-opt`. Debian's (108) is too
/// old: its output crashes in Chromium. Trunk.toml pins the same version.
const BINARYEN_VERSION: &str = "132";

/// The npm `esbuild` release that minifies the console's JS glue and styles
/// (Trunk.toml's post-build hook); Trunk's own minifier breaks the glue.
const ESBUILD_VERSION: &str = "0.28.2";

/// `esbuild` from npm, in the repository's tools directory.
pub(super) fn ensure_esbuild() -> Result<()> {
    let esbuild = project::node_bin_dir().join("esbuild");
    ensure(
        "esbuild",
        || {
            // `0.28.2`
            let output = Cmd::new(&esbuild).arg("--version").probe_output()?;
            output.split_whitespace().next().map(str::to_owned)
        },
        |version| version == ESBUILD_VERSION,
        || npm_install("esbuild", ESBUILD_VERSION),
    )
}

/// `wasm-opt` from npm's `binaryen`, in the repository's tools directory.
pub(super) fn ensure_wasm_opt() -> Result<()> {
    let wasm_opt = project::node_bin_dir().join("wasm-opt");
    ensure(
        "wasm-opt",
        || {
            // `wasm-opt version 132 (version_132)`
            let output = Cmd::new(&wasm_opt).arg("--version").probe_output()?;
            output.split_whitespace().nth(2).map(str::to_owned)
        },
        |version| version == BINARYEN_VERSION,
        || npm_install("binaryen", BINARYEN_VERSION),
    )
}

/// `npm install package@version` into the repository's tools directory.
fn npm_install(package: &str, version: &str) -> Result<()> {
    Cmd::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
        .arg("--prefix")
        .arg(project::node_prefix())
        .arg(format!("{package}@{version}"))
        .run()
}

/// The official JavaScript clients the JS SDK conformance test runs, pinned:
/// `DefaultAzureCredential` and the Redis management client.
const JS_CLIENTS: [(&str, &str); 2] = [
    ("@azure/identity", "4.13.1"),
    ("@azure/arm-rediscache", "8.2.0"),
];

/// The installed version of the npm package `name` in the tools directory,
/// from its package.json (no Node start, so the check is quick).
fn npm_package_version(name: &str) -> Option<String> {
    let manifest = project::node_prefix()
        .join("node_modules")
        .join(name)
        .join("package.json");
    let text = std::fs::read_to_string(manifest).ok()?;
    let after = text.split("\"version\"").nth(1)?;
    let value = after.split('"').nth(1)?;
    Some(value.to_owned())
}

/// The Azure SDK for JavaScript, in the repository's tools directory.
pub(super) fn ensure_js_sdk() -> Result<()> {
    let wanted: Vec<String> = JS_CLIENTS.iter().map(|(n, v)| format!("{n}@{v}")).collect();
    ensure(
        "JavaScript clients",
        || {
            let found: Option<Vec<String>> = JS_CLIENTS
                .iter()
                .map(|(name, _)| npm_package_version(name).map(|v| format!("{name}@{v}")))
                .collect();
            found.map(|f| f.join(" "))
        },
        |found| found == wanted.join(" "),
        || {
            for (name, version) in JS_CLIENTS {
                npm_install(name, version)?;
            }
            Ok(())
        },
    )
}
