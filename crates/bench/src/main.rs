//! `georep-bench [--quick]`: measures the product end to end on this
//! machine, prints a table and writes the same figures as JSON to
//! `target/bench/latest.json` (and the table to `latest.md`).
//!
//! `cargo xtask bench [--quick]` runs it after the set-up and the builds
//! (the console with Trunk, `georep-server` with `--release`), and tells
//! it where they are: `--dist DIR` and `--server-bin PATH`, or, when a
//! build failed, `--no-dist REASON` and `--no-server REASON`.
//!
//! Each figure that has a peer is measured beside it in the same run and
//! reported as a ratio, because these machines are noisy. A benchmark that
//! cannot run reports its figures as `n/a` with the reason, and the others
//! go on: benchmarks report, they never fail.
//!
//! The run starts the server on a free port with its own home under
//! `target/bench/run/`, and drives its real API, its redis-server nodes,
//! its geo-primary URLs and the console in headless Chromium; the peers
//! (bare redis-servers, HAProxy) run in the same directory.

mod api_load;
mod arm;
mod bare;
mod bench;
mod browser;
mod bundle;
mod chaos;
mod failover;
mod fleet;
mod ha;
mod haproxy;
mod killpoint;
mod report;
mod stats;
mod sync;
mod throughput;
mod writer;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};

use self::arm::Arm;
use self::bench::{Bench, Plan};
use self::report::{Key, Report};

const USAGE: &str = "\
Usage: georep-bench [--quick] [--only console] (--dist DIR | --no-dist REASON) (--server-bin PATH | --no-server REASON)

Run it with `cargo xtask bench [--quick]`, which builds the console and the
server first and passes where they are.

--only console measures the console's figures alone, in a few minutes:
its size, cold loads with the linked pair (first_list_ms), then the fleet
of 1,000 caches (first_list_1000_ms) and the region filter over it
(filter_ms_p50, filter_ms_p95, each beside click_floor_ms_*). It writes
target/bench/console.json and console.md, leaving a full run's
latest.json alone. After
`cargo xtask build-console` and `cargo build --release -p georep-server`:

    cargo run --release -p georep-bench -- --only console \\
        --dist dist --server-bin target/release/georep-server";

/// What the run measures, and with what.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Options {
    /// The reduced run: under 5 minutes once built.
    quick: bool,
    /// Only the console's figures (`--only console`).
    console_only: bool,
    /// The built console, or why there is none.
    dist: Result<PathBuf, String>,
    /// The release `georep-server`, or why there is none.
    server: Result<PathBuf, String>,
}

impl Options {
    /// Parses the command line (without the program name).
    fn parse(args: &[String]) -> Result<Self> {
        let mut quick = false;
        let mut console_only = false;
        let mut dist = Err("no --dist given".to_owned());
        let mut server = Err("no --server-bin given".to_owned());
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = || {
                args.next()
                    .cloned()
                    .with_context(|| format!("{arg} needs a value\n\n{USAGE}"))
            };
            match arg.as_str() {
                "--quick" => quick = true,
                "--only" => match value()?.as_str() {
                    "console" => console_only = true,
                    other => bail!("--only knows `console`, not `{other}`\n\n{USAGE}"),
                },
                "--dist" => dist = Ok(PathBuf::from(value()?)),
                "--no-dist" => dist = Err(value()?),
                "--server-bin" => server = Ok(PathBuf::from(value()?)),
                "--no-server" => server = Err(value()?),
                other => bail!("unknown argument `{other}`\n\n{USAGE}"),
            }
        }
        Ok(Self {
            quick,
            console_only,
            dist,
            server,
        })
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match Options::parse(&args) {
        Ok(options) => run(&options).await,
        Err(err) => Err(err),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("georep-bench: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Prints a line to stdout, flushed, so it keeps its place among the
/// output of the commands the benchmarks run.
pub fn say(line: impl AsRef<str>) {
    let mut stdout = std::io::stdout().lock();
    // A closed stdout is no reason to stop measuring.
    let _ = writeln!(stdout, "{}", line.as_ref());
    let _ = stdout.flush();
}

/// Measures, prints the table and writes the JSON and the table.
async fn run(options: &Options) -> Result<()> {
    let plan = Plan::new(options.quick);
    let mut report = Report::default();
    let bench_dir = georep_testkit::paths::target_dir().join("bench");
    // Apart from a full run's, so that the two can run side by side.
    let work = bench_dir.join(if options.console_only {
        "run-console"
    } else {
        "run"
    });
    if work.exists() {
        std::fs::remove_dir_all(&work)
            .with_context(|| format!("cannot clear {}", work.display()))?;
    }
    std::fs::create_dir_all(&work)?;

    let started = Instant::now();
    let load_before = load_average();
    say("\n==> bench: console size");
    let outcome = match &options.dist {
        Ok(dist) => bundle::measure(dist).map(|(figures, note)| {
            report.note(note);
            figures
        }),
        Err(reason) => Err(anyhow!("the console did not build: {reason}")),
    };
    report.record(&bundle::KEYS, outcome);

    let home = work.join("server");
    let server = match &options.server {
        Ok(binary) => Arm::start(binary, &home, options.dist.as_deref().ok()).await,
        Err(reason) => Err(anyhow!("georep-server was not built: {reason}")),
    };
    match server {
        Ok(server) => {
            let mut bench = Bench {
                server: &server,
                plan,
                work: &work,
                report: &mut report,
                dist_ok: options.dist.is_ok(),
            };
            if options.console_only {
                bench.measure_console().await;
            } else {
                bench.measure_with_server().await;
            }
            say("\n==> bench: stopping georep-server and its nodes");
            // Keep the server's log for a look at what it did.
            let log = server.log_path();
            server.stop();
            let _ = std::fs::copy(log, bench_dir.join("server.log"));
            if options.console_only {
                let _ = std::fs::remove_dir_all(&work);
                return finish(report, options, &bench_dir, started, &load_before);
            }
            // On a server of its own, which it crashes and restarts, once
            // the other benchmarks are done.
            say(format!(
                "\n==> bench: chaos, up to {} events on a linked pair under a writer",
                plan.chaos_events
            ));
            let home = work.join("chaos");
            let outcome = match &options.server {
                Ok(binary) => chaos::measure(binary, &home, plan.chaos_events, plan.chaos_time)
                    .await
                    .map(|(figures, details)| {
                        report.detail(Key::ChaosEvents, details.summary);
                        if let Err(differs) = details.processes {
                            report.note(format!("chaos: at the end, {differs}"));
                        }
                        figures
                    }),
                Err(reason) => Err(anyhow!("georep-server was not built: {reason}")),
            };
            report.record(&chaos::KEYS, outcome);
            let _ = std::fs::copy(home.join("server.log"), bench_dir.join("chaos-server.log"));
            // Servers of their own too, each killed at every point of an operation.
            say(format!(
                "\n==> bench: kill points, {} per operation on a linked pair",
                plan.killpoints
            ));
            let outcome = match &options.server {
                Ok(binary) => killpoint::measure(binary, &work.join("killpoint"), plan.killpoints)
                    .await
                    .map(|(figures, details)| {
                        report.detail(Key::KillpointRuns, details.summary);
                        for failure in details.failures.iter().take(5) {
                            report.note(format!("kill points: {failure}"));
                        }
                        figures
                    }),
                Err(reason) => Err(anyhow!("georep-server was not built: {reason}")),
            };
            report.record(&killpoint::KEYS, outcome);
        }
        Err(err) => {
            let needs_server: Vec<Key> = Key::ALL
                .into_iter()
                .filter(|k| !bundle::KEYS.contains(k))
                .collect();
            let reason = format!("georep-server did not start: {err:#}");
            report.record(&needs_server, Err(anyhow!(reason)));
            let _ = std::fs::copy(home.join("server.log"), bench_dir.join("server.log"));
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    finish(report, options, &bench_dir, started, &load_before)
}

/// Notes how long the run took and how busy the machine was, prints the
/// table and writes it with the JSON: `latest.*`, or `console.*` for
/// `--only console`.
fn finish(
    mut report: Report,
    options: &Options,
    bench_dir: &std::path::Path,
    started: Instant,
    load_before: &str,
) -> Result<()> {
    let kind = match (options.console_only, options.quick) {
        (true, _) => "--only console",
        (false, true) => "--quick",
        (false, false) => "full",
    };
    report.note(format!(
        "{kind} run, measured in {:.0} s (builds excluded) on {}; load average {load_before} at the start, {} at the end",
        started.elapsed().as_secs_f64(),
        machine(),
        load_average()
    ));
    let stem = if options.console_only {
        "console"
    } else {
        "latest"
    };
    let table = report.table();
    say(format!("\n==> bench: results\n\n{table}"));
    let json = bench_dir.join(format!("{stem}.json"));
    report.write_json(&json)?;
    std::fs::write(bench_dir.join(format!("{stem}.md")), &table)?;
    say(format!(
        "==> bench: wrote {} (the table to {stem}.md and the server's log to server.log beside it)",
        json.display()
    ));
    Ok(())
}

/// This machine, in one line: cores, CPU model and memory.
fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let memory_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<f64>()
                        .ok()
                })
        })
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    format!("{cores} cores ({cpu}), {memory_gib:.0} GiB memory")
}

/// The 1-minute load average: how busy the machine was besides us.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options> {
        let args: Vec<String> = args.iter().map(|&a| a.to_owned()).collect();
        Options::parse(&args)
    }

    #[test]
    fn parses_quick_and_the_builds() {
        let options = parse(&["--quick", "--dist", "d", "--no-server", "it broke"]).unwrap();
        assert!(options.quick);
        assert_eq!(options.dist, Ok(PathBuf::from("d")));
        assert_eq!(options.server, Err("it broke".to_owned()));
        let options = parse(&[]).unwrap();
        assert!(!options.quick);
        assert!(options.dist.is_err() && options.server.is_err());
        assert!(parse(&["--fast"]).is_err());
        assert!(parse(&["--dist"]).is_err());
    }

    #[test]
    fn only_console_is_the_console_alone() {
        assert!(parse(&["--only", "console"]).unwrap().console_only);
        assert!(!parse(&["--quick"]).unwrap().console_only);
        assert!(parse(&["--only", "api"]).is_err());
        assert!(parse(&["--only"]).is_err());
    }

    #[test]
    fn describes_the_machine() {
        let line = machine();
        assert!(line.contains("cores"), "{line}");
        assert!(line.contains("GiB memory"), "{line}");
    }
}
