//! `cargo xtask setup`: installs whatever this machine is missing, and
//! nothing else, saying what it finds and what it does.
//!
//! Every check is cheap (a `--version` or a package-database query), so the
//! other commands run it first on every invocation.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::cmd::{say, Cmd};
use crate::project;

mod cargo_tools;
mod npm;

use cargo_tools::{ensure_trunk, ensure_wasm_bindgen, ensure_wasm_split};
use npm::{ensure_esbuild, ensure_js_sdk, ensure_wasm_opt};

/// Debian packages every test layer needs: Redis for the data plane, and
/// Chromium with its WebDriver for the browser tests. `fonts-liberation` is a
/// recommendation of Chromium that we keep (we skip the other, heavy ones) so
/// that screenshots show readable text. `haproxy` is the benchmarks' peer
/// for the geo-primary URL: the TCP proxy a user would put in front of a
/// primary instead (`cargo xtask bench` starts its own, never the service).
const DEBIAN_PACKAGES: &[&str] = &[
    "redis-server",
    "redis-tools",
    "haproxy",
    "chromium",
    "chromium-driver",
    "fonts-liberation",
];

/// The official Python clients the real-client tests run, pinned so every
/// machine runs the same client code: the Azure SDK's management package,
/// its credentials (`DefaultAzureCredential`), the az CLI itself, and
/// redis-py (the TLS ports, with hostname checking).
const PYTHON_CLIENTS: [(&str, &str); 4] = [
    ("azure-mgmt-redis", "14.5.0"),
    ("azure-identity", "1.27.0"),
    ("azure-cli", "2.91.0"),
    ("redis", "5.2.1"),
];

/// Runs every step in order; each one skips itself when already satisfied.
pub fn run() -> Result<()> {
    say("==> setup: checking the tools (installing only what is missing)");
    ensure_debian_packages()?;
    ensure_wasm_target()?;
    ensure_rust_components()?;
    let library = std_library();
    ensure_rust_src(library.as_deref())?;
    ensure_std_dependencies(library.as_deref())?;
    ensure_trunk()?;
    ensure_wasm_bindgen()?;
    ensure_wasm_split()?;
    ensure_wasm_opt()?;
    ensure_esbuild()?;
    ensure_python_sdk()?;
    ensure_js_sdk()?;
    say("==> setup: everything is in place");
    Ok(())
}

/// Installs the Debian packages that are missing, with one `apt-get update`
/// first, and only if something is missing.
fn ensure_debian_packages() -> Result<()> {
    let (present, missing): (Vec<&str>, Vec<&str>) = wanted_debian_packages()
        .into_iter()
        .partition(|p| dpkg_installed(p));
    if !present.is_empty() {
        say(format!(
            "    ok      Debian packages: {}",
            present.join(" ")
        ));
    }
    if missing.is_empty() {
        return Ok(());
    }
    say(format!(
        "    install Debian packages: {}",
        missing.join(" ")
    ));
    apt_get(&["update"])?;
    let install = ["install", "-y", "--no-install-recommends"];
    apt_get(&[&install[..], &missing].concat()).context("installing Debian packages")?;
    let still_missing: Vec<&str> = missing.into_iter().filter(|p| !dpkg_installed(p)).collect();
    if !still_missing.is_empty() {
        bail!("Debian packages still missing after apt-get: {still_missing:?}");
    }
    Ok(())
}

/// [`DEBIAN_PACKAGES`], plus npm and Python's venv support when the machine
/// lacks them (later steps need both).
fn wanted_debian_packages() -> Vec<&'static str> {
    let mut wanted = DEBIAN_PACKAGES.to_vec();
    if !Cmd::new("npm").arg("--version").probe() {
        wanted.push("npm");
    }
    if !Cmd::new("python3")
        .args(["-c", "import venv, ensurepip"])
        .probe()
    {
        wanted.extend(["python3", "python3-venv"]);
    }
    wanted
}

/// Whether dpkg knows `package` as installed.
fn dpkg_installed(package: &str) -> bool {
    Cmd::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .probe_output()
        .is_some_and(|status| status.trim_end().ends_with(" installed"))
}

/// Runs `apt-get` non-interactively, waiting for a lock held by another apt.
fn apt_get(args: &[&str]) -> Result<()> {
    Cmd::new("apt-get")
        .args(["-o", "DPkg::Lock::Timeout=600", "-q"])
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .run()
}

/// `rustup target add wasm32-unknown-unknown`, unless it is there.
fn ensure_wasm_target() -> Result<()> {
    ensure(
        "Rust target",
        || {
            let installed = Cmd::new("rustup")
                .args(["target", "list", "--installed"])
                .probe_output()?;
            installed
                .lines()
                .any(|line| line.trim() == project::WASM_TARGET)
                .then(|| project::WASM_TARGET.to_owned())
        },
        |_| true,
        || {
            Cmd::new("rustup")
                .args(["target", "add", project::WASM_TARGET])
                .run()
        },
    )
}

/// rustfmt and clippy, which the lint layer of `cargo xtask test` runs.
fn ensure_rust_components() -> Result<()> {
    ensure(
        "Rust components",
        || {
            let fmt = Cmd::cargo().args(["fmt", "--version"]);
            let clippy = Cmd::cargo().args(["clippy", "--version"]);
            (fmt.probe() && clippy.probe()).then(|| "rustfmt clippy".to_owned())
        },
        |_| true,
        || {
            Cmd::new("rustup")
                .args(["component", "add", "rustfmt", "clippy"])
                .run()
        },
    )
}

/// The standard library's source (`rust-src`), from which the release
/// console compiles its own std (`console::build_dist`).
fn ensure_rust_src(library: Option<&Path>) -> Result<()> {
    ensure(
        "Rust standard library source",
        || {
            library?
                .join("std/Cargo.toml")
                .is_file()
                .then(|| "rust-src".to_owned())
        },
        |_| true,
        || {
            Cmd::new("rustup")
                .args(["component", "add", "rust-src"])
                .run()
        },
    )
}

/// The crates the standard library's source depends on, in Cargo's cache.
/// The console's build is offline (Trunk.toml), and compiling std there
/// resolves std's own lockfile, whose crates (`moto-rt`, `hashbrown`, …) no
/// project build has fetched on a new machine. Fetched only when an offline
/// fetch finds one missing. std's manifest uses an unstable Cargo feature
/// (`profile-rustflags`), hence `RUSTC_BOOTSTRAP`, for this command alone.
fn ensure_std_dependencies(library: Option<&Path>) -> Result<()> {
    let manifest = library
        .context("the Rust toolchain has no sysroot")?
        .join("Cargo.toml");
    let fetch = |offline: bool| {
        let cmd = Cmd::cargo()
            .arg("fetch")
            .arg("--manifest-path")
            .arg(&manifest)
            .env("RUSTC_BOOTSTRAP", "1");
        if offline {
            cmd.arg("--offline")
        } else {
            cmd
        }
    };
    if fetch(true).probe() {
        say("    ok      the standard library's dependencies");
        return Ok(());
    }
    say("    fetch   the standard library's dependencies (not in Cargo's cache)");
    fetch(false).run()
}

/// Where the standard library's source is (or goes) in the toolchain's
/// sysroot; adding `rust-src` does not move it.
fn std_library() -> Option<PathBuf> {
    let sysroot = Cmd::new("rustc")
        .args(["--print", "sysroot"])
        .probe_output()?;
    Some(Path::new(sysroot.trim()).join("lib/rustlib/src/rust/library"))
}

/// The pinned clients as `name==version` requirements, in order.
fn python_requirements() -> Vec<String> {
    PYTHON_CLIENTS
        .iter()
        .map(|(name, version)| format!("{name}=={version}"))
        .collect()
}

/// A virtual environment with the Azure SDK for Python and the az CLI.
/// The check reads the installed versions from package metadata only (no
/// import of the CLI), so a set-up that finds them is quick.
fn ensure_python_sdk() -> Result<()> {
    let python = project::venv_dir().join("bin").join("python");
    let names: Vec<&str> = PYTHON_CLIENTS.iter().map(|(name, _)| *name).collect();
    ensure(
        "Python clients",
        || {
            let script = format!(
                "from importlib.metadata import version; \
                 print(' '.join(n + '==' + version(n) for n in {names:?}))"
            );
            let output = Cmd::new(&python).args(["-c", &script]).probe_output()?;
            Some(output.trim().to_owned())
        },
        |found| found == python_requirements().join(" "),
        || {
            if !Cmd::new(&python).args(["-c", "pass"]).probe() {
                Cmd::new("python3")
                    .args(["-m", "venv", "--clear"])
                    .arg(project::venv_dir())
                    .run()?;
            }
            Cmd::new(&python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                ])
                .args(python_requirements())
                .arg("azure-core>=1.30,<2")
                .run()
        },
    )
}

/// The `word`-th whitespace-separated word of `program --version`, e.g. the
/// `0.21.14` of `trunk 0.21.14`.
fn tool_version(program: &str, word: usize) -> Option<String> {
    let output = Cmd::new(program).arg("--version").probe_output()?;
    output.split_whitespace().nth(word).map(str::to_owned)
}

/// One idempotent step: if `current` finds `what` in a version that is
/// `acceptable`, say so; otherwise run `install` and check again.
fn ensure(
    what: &str,
    current: impl Fn() -> Option<String>,
    acceptable: impl Fn(&str) -> bool,
    install: impl FnOnce() -> Result<()>,
) -> Result<()> {
    let found = current();
    if let Some(version) = found.as_deref().filter(|v| acceptable(v)) {
        say(format!("    ok      {what} {version}"));
        return Ok(());
    }
    match &found {
        Some(version) => say(format!(
            "    install {what} (found {version}, which will not do)"
        )),
        None => say(format!("    install {what} (not found)")),
    }
    install().with_context(|| format!("installing {what}"))?;
    match current() {
        Some(version) if acceptable(&version) => {
            say(format!("    ok      {what} {version}"));
            Ok(())
        }
        Some(version) => bail!("after installing {what}, the one on PATH is still {version}"),
        None => bail!("after installing {what}, it is still not found on PATH"),
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    /// Runs [`ensure`] against a fake tool whose version is `before` until
    /// "installed", then `after`; returns the result and the install count.
    fn ensure_fake(before: Option<&str>, after: Option<&str>) -> (Result<()>, u32) {
        let installs = Cell::new(0);
        let result = ensure(
            "fake",
            || {
                let version = if installs.get() == 0 { before } else { after };
                version.map(str::to_owned)
            },
            |version| version == "1.0",
            || {
                installs.set(installs.get() + 1);
                Ok(())
            },
        );
        (result, installs.get())
    }

    #[test]
    fn a_present_tool_is_not_installed_again() {
        let (result, installs) = ensure_fake(Some("1.0"), None);
        assert!(result.is_ok());
        assert_eq!(installs, 0);
    }

    #[test]
    fn a_missing_or_wrong_tool_is_installed_once() {
        for before in [None, Some("0.9")] {
            let (result, installs) = ensure_fake(before, Some("1.0"));
            assert!(result.is_ok());
            assert_eq!(installs, 1);
        }
    }

    #[test]
    fn an_install_that_does_not_help_is_an_error() {
        let (result, installs) = ensure_fake(None, Some("0.9"));
        assert_eq!(installs, 1);
        let message = result.unwrap_err().to_string();
        assert!(message.contains("still 0.9"), "{message}");
    }
}
