//! `cargo xtask test`: sets up, then runs every test layer that exists.
//!
//! A failing layer does not stop the others, so one run shows everything
//! that is wrong; the command fails if any layer failed. A layer whose code
//! is missing fails: nothing is ever skipped.

use std::path::PathBuf;

use anyhow::{bail, Result};

use crate::cmd::{say, Cmd};
use crate::{console, project, setup};

/// The console package, which only builds for wasm32.
const CONSOLE_PACKAGE: &str = "georep-console";

/// The WebDriver that runs the browser tests (from Debian's chromium-driver).
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A test layer.
type Layer = fn(&mut Run) -> Result<()>;

/// The layers, in the order they run. The console is built before the native
/// tests because the end-to-end tests load it from `dist/`.
const LAYERS: &[(&str, Layer)] = &[
    ("format", format),
    ("console build", console_build),
    ("native tests (core, server, e2e, xtask)", native_tests),
    ("browser tests (console, headless Chromium)", browser_tests),
    ("clippy", clippy),
];

/// State shared by the layers of one run.
#[derive(Default)]
struct Run {
    /// The built console, once the console build layer has passed.
    dist: Option<PathBuf>,
    /// Test results added up over every `cargo test`.
    counts: TestCounts,
}

/// How one layer ended.
enum Outcome {
    Passed,
    Failed(String),
}

/// Sets up, runs every layer, prints a summary and fails if a layer failed.
pub fn run() -> Result<()> {
    setup::run()?;
    report_free_space();
    let mut state = Run::default();
    let outcomes: Vec<(&str, Outcome)> = LAYERS
        .iter()
        .map(|&(name, layer)| (name, run_layer(name, layer, &mut state)))
        .collect();
    summarize(&outcomes, &state.counts)
}

/// Runs one layer, turning its result into an [`Outcome`].
fn run_layer(name: &str, layer: Layer, state: &mut Run) -> Outcome {
    say(format!("\n==> test: {name}"));
    let outcome = match layer(state) {
        Ok(()) => Outcome::Passed,
        Err(err) => Outcome::Failed(format!("{err:#}")),
    };
    match &outcome {
        Outcome::Passed => say(format!("==> test: {name}: passed")),
        Outcome::Failed(why) => say(format!("==> test: {name}: FAILED: {why}")),
    }
    outcome
}

/// Prints one line per layer, the layer and test totals, and fails if any
/// layer failed. The last line has the `N passed, N failed, N ignored` form.
fn summarize(outcomes: &[(&str, Outcome)], counts: &TestCounts) -> Result<()> {
    say("\n==> test: summary");
    let (mut passed, mut failed) = (0, 0);
    for (name, outcome) in outcomes {
        match outcome {
            Outcome::Passed => {
                passed += 1;
                say(format!("    passed   {name}"));
            }
            Outcome::Failed(why) => {
                failed += 1;
                say(format!("    FAILED   {name}: {why}"));
            }
        }
    }
    report_free_space();
    say(format!("layers: {passed} passed, {failed} failed"));
    say(format!(
        "tests: {} passed, {} failed, {} ignored",
        counts.passed, counts.failed, counts.ignored
    ));
    if failed > 0 {
        bail!("{failed} test layer(s) failed");
    }
    Ok(())
}

/// `cargo fmt --check` over the whole workspace.
fn format(_: &mut Run) -> Result<()> {
    Cmd::cargo().args(["fmt", "--all", "--check"]).run()?;
    Ok(())
}

/// Builds `dist/` for the end-to-end tests.
fn console_build(state: &mut Run) -> Result<()> {
    if !console::exists() {
        bail!("the console has no index.html");
    }
    state.dist = Some(console::build_dist()?);
    Ok(())
}

/// Every native package's tests; the end-to-end tests get `GEOREP_DIST`.
fn native_tests(state: &mut Run) -> Result<()> {
    // `--no-fail-fast`: one failing test binary must not hide the others'.
    let mut cargo = Cmd::cargo().args([
        "test",
        "--workspace",
        "--exclude",
        CONSOLE_PACKAGE,
        "--no-fail-fast",
    ]);
    if let Some(dist) = &state.dist {
        cargo = cargo.env("GEOREP_DIST", dist);
    }
    cargo.run_watching_stdout(|line| state.counts.add(line))?;
    Ok(())
}

/// The console's wasm-bindgen tests, in headless Chromium. The browser's
/// flags come from `webdriver.json` at the repository root. `--tests` leaves
/// out doc-tests, which cargo would otherwise try to build for wasm32.
fn browser_tests(state: &mut Run) -> Result<()> {
    if !console_sources_exist() {
        bail!("the console has no src/lib.rs or src/main.rs");
    }
    // wasm-bindgen-test-runner ends chromedriver without ending its session,
    // so every test binary left a 160 MB Chromium profile in /tmp. They go
    // into a directory of this run's own, removed when the layer ends.
    let browser_tmp = project::target_dir().join("browser-tests-tmp");
    std::fs::create_dir_all(&browser_tmp)?;
    let result = Cmd::cargo()
        .args(["test", "--tests", "--target", project::WASM_TARGET])
        .args(["-p", CONSOLE_PACKAGE])
        .env("CHROMEDRIVER", CHROMEDRIVER)
        .env("WASM_BINDGEN_TEST_TIMEOUT", "120")
        .env("TMPDIR", &browser_tmp)
        .run_watching_stdout(|line| state.counts.add(line));
    if let Err(err) = std::fs::remove_dir_all(&browser_tmp) {
        say(format!(
            "    could not remove {}: {err}",
            browser_tmp.display()
        ));
    }
    result
}

/// Clippy with warnings denied: natively for the default members, and for
/// wasm32 for the console.
fn clippy(_: &mut Run) -> Result<()> {
    let deny_warnings = ["--", "-D", "warnings"];
    Cmd::cargo()
        .args(["clippy", "--all-targets", "--workspace"])
        .args(["--exclude", CONSOLE_PACKAGE])
        .args(deny_warnings)
        .run()?;
    if !console_sources_exist() {
        bail!("the console has no src/lib.rs or src/main.rs");
    }
    Cmd::cargo()
        .args(["clippy", "--all-targets", "--target", project::WASM_TARGET])
        .args(["-p", CONSOLE_PACKAGE])
        .args(deny_warnings)
        .run()?;
    Ok(())
}

/// Prints the free space where the builds go: a full disk fails every
/// layer with a compiler error that doesn't say so.
fn report_free_space() {
    let target = project::target_dir();
    let probe = target
        .ancestors()
        .find(|dir| dir.exists())
        .unwrap_or(&target);
    let free_kib = Cmd::new("df")
        .arg("-Pk")
        .arg(probe)
        .probe_output()
        .and_then(|out| free_kib_from_df(&out));
    match free_kib {
        Some(kib) => say(format!(
            "    disk: {:.1} GiB free for {}",
            kib as f64 / (1024.0 * 1024.0),
            target.display()
        )),
        None => say(format!(
            "    disk: free space for {} unknown",
            target.display()
        )),
    }
}

/// The "Available" figure of `df -Pk`'s one filesystem line.
fn free_kib_from_df(output: &str) -> Option<u64> {
    output
        .lines()
        .nth(1)?
        .split_whitespace()
        .nth(3)?
        .parse()
        .ok()
}

/// Whether the console package has any code to compile yet.
fn console_sources_exist() -> bool {
    let src = project::root().join("src");
    src.join("lib.rs").is_file() || src.join("main.rs").is_file()
}

/// Test totals, read from the `test result:` lines that libtest and
/// wasm-bindgen-test-runner print.
#[derive(Debug, Default, PartialEq, Eq)]
struct TestCounts {
    passed: u64,
    failed: u64,
    ignored: u64,
}

impl TestCounts {
    /// Adds the figures of `line` if it is a `test result:` line, e.g.
    /// `test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; …`.
    fn add(&mut self, line: &str) {
        let Some((_, figures)) = line.split_once("test result:") else {
            return;
        };
        for part in figures.split(['.', ';']) {
            let mut words = part.split_whitespace();
            let (Some(number), Some(label)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(number) = number.parse::<u64>() else {
                continue;
            };
            match label {
                "passed" => self.passed += number,
                "failed" => self.failed += number,
                "ignored" => self.ignored += number,
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_available_column_of_df() {
        let out = "Filesystem     1024-blocks     Used Available Capacity Mounted on\n\
                   /dev/vda         264000000 72000000  24117248      76% /\n";
        assert_eq!(free_kib_from_df(out), Some(24_117_248));
        assert_eq!(free_kib_from_df("Filesystem\n"), None);
    }

    #[test]
    fn counts_libtest_and_wasm_bindgen_results() {
        let mut counts = TestCounts::default();
        counts.add("test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s");
        counts.add(
            "test result: FAILED. 1 passed; 2 failed; 0 ignored; 0 filtered out; finished in 1.2s",
        );
        counts.add("running 3 tests");
        counts.add("test parses_every_command ... ok");
        assert_eq!(
            counts,
            TestCounts {
                passed: 4,
                failed: 2,
                ignored: 1
            }
        );
    }
}
