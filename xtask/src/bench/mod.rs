//! `cargo xtask bench [--quick]`: measures the product end to end on this
//! machine, prints a table and writes the same figures as JSON to
//! `target/bench/latest.json`.
//!
//! Each figure that has a peer is measured beside it in the same run and
//! reported as a ratio, because these machines are noisy. A benchmark that
//! cannot run reports its figures as `n/a` with the reason, and the others
//! go on: benchmarks report, they never fail.
//!
//! The run builds the console (Trunk, release) and `georep-server`
//! (`--release`), then starts the server on a free port with its own data
//! directory under `target/bench/run/`, and drives its real API, its
//! redis-server nodes and the console in headless Chromium.

mod browser;
mod bundle;
mod failover;
mod fleet;
mod proxy;
mod report;
mod resp;
mod server;
mod stats;
mod sync;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};

use self::report::{Figure, Figures, Key, Report};
use self::server::{Server, Tier};
use crate::cmd::{say, Cmd};
use crate::{console, project, setup};

/// Options of `cargo xtask bench`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// The reduced run: under 5 minutes once built.
    pub quick: bool,
}

impl Options {
    /// Parses `[--quick]`.
    pub fn parse(args: &[String]) -> Result<Self> {
        let mut quick = false;
        for arg in args {
            match arg.as_str() {
                "--quick" => quick = true,
                other => bail!("`bench` does not know the argument `{other}` (try --quick)"),
            }
        }
        Ok(Self { quick })
    }
}

/// How much of each benchmark a run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Plan {
    /// Bytes of values the full-sync benchmark links.
    sync_bytes: u64,
    /// Requests per `redis-benchmark` run, and rounds per test.
    proxy: proxy::Plan,
    /// Planned failovers under load.
    failovers: usize,
    /// Requests of each kind for the API figures.
    api_requests: usize,
    /// Cold loads of the console for `first_list_ms`.
    cold_loads: usize,
    /// Region clicks for the filter figures.
    clicks: usize,
}

impl Plan {
    fn new(quick: bool) -> Self {
        if quick {
            Plan {
                sync_bytes: 256_000_000,
                proxy: proxy::Plan {
                    requests: 1_000_000,
                    rounds: 3,
                },
                failovers: 5,
                api_requests: 1000,
                cold_loads: 10,
                clicks: 50,
            }
        } else {
            Plan {
                sync_bytes: 1_000_000_000,
                proxy: proxy::Plan {
                    requests: 2_000_000,
                    rounds: 5,
                },
                failovers: 10,
                api_requests: 1000,
                cold_loads: 10,
                clicks: 50,
            }
        }
    }
}

/// The geo-replicated pair the proxy and failover benchmarks use.
const GEO_PAIR: [(&str, &str); 2] = [("bench-geo-a", "westeurope"), ("bench-geo-b", "eastus")];

/// Sets up, builds, measures, prints the table and writes the JSON.
pub fn run(options: &Options) -> Result<()> {
    setup::run()?;
    let plan = Plan::new(options.quick);
    let mut report = Report::default();
    let bench_dir = project::target_dir().join("bench");
    let work = bench_dir.join("run");
    if work.exists() {
        std::fs::remove_dir_all(&work)
            .with_context(|| format!("cannot clear {}", work.display()))?;
    }
    std::fs::create_dir_all(&work)?;

    say("\n==> bench: building the console and georep-server (not timed)");
    let dist = console::build_dist();
    let server_binary = build_server();

    let started = Instant::now();
    let load_before = load_average();
    say("\n==> bench: console size");
    let outcome = match &dist {
        Ok(dist) => bundle::measure(dist).map(|(figures, note)| {
            report.note(note);
            figures
        }),
        Err(err) => Err(anyhow!("the console did not build: {err:#}")),
    };
    report.record(&[Key::BundleGzipBytes, Key::BundleBrotliBytes], outcome);

    match server_binary
        .and_then(|binary| Server::start(&binary, &work.join("server"), dist.as_deref().ok()))
    {
        Ok(server) => {
            let mut bench = Bench {
                server: &server,
                plan,
                work: &work,
                report: &mut report,
                dist_ok: dist.is_ok(),
            };
            bench.measure_with_server();
            say("\n==> bench: stopping georep-server and its nodes");
            drop(server);
        }
        Err(err) => {
            let needs_server: Vec<Key> = Key::ALL
                .into_iter()
                .filter(|k| !matches!(k, Key::BundleGzipBytes | Key::BundleBrotliBytes))
                .collect();
            let reason = format!("georep-server did not start: {err:#}");
            report.record(&needs_server, Err(anyhow!(reason)));
        }
    }
    // Keep the server's log for a look at what it did; drop the rest.
    let _ = std::fs::copy(
        work.join("server").join("server.log"),
        bench_dir.join("server.log"),
    );
    let _ = std::fs::remove_dir_all(&work);

    let elapsed = started.elapsed();
    report.note(format!(
        "{} run, measured in {:.0} s (builds excluded) on {}; load average {} at the start, {} at the end",
        if options.quick { "--quick" } else { "full" },
        elapsed.as_secs_f64(),
        machine(),
        load_before,
        load_average()
    ));
    let table = report.table();
    say(format!("\n==> bench: results\n\n{table}"));
    let json = bench_dir.join("latest.json");
    report.write_json(&json)?;
    std::fs::write(bench_dir.join("latest.md"), &table)?;
    say(format!(
        "==> bench: wrote {} (the table to latest.md and the server's log to server.log beside it)",
        json.display()
    ));
    Ok(())
}

/// `cargo build --release -p georep-server`; the binary's path.
fn build_server() -> Result<PathBuf> {
    Cmd::cargo()
        .args(["build", "--release", "-p", "georep-server"])
        .run()?;
    let binary = project::target_dir().join("release").join("georep-server");
    if !binary.is_file() {
        bail!("the build left no {}", binary.display());
    }
    Ok(binary)
}

/// The benchmarks that need the server.
struct Bench<'a> {
    server: &'a Server,
    plan: Plan,
    work: &'a Path,
    report: &'a mut Report,
    dist_ok: bool,
}

impl Bench<'_> {
    fn measure_with_server(&mut self) {
        say("\n==> bench: a linked pair for the proxy and failover benchmarks");
        let pair = self.link_geo_pair();

        say("\n==> bench: console start (cold loads, small fleet)");
        let outcome = self.first_list();
        self.report.record(&[Key::FirstListMs], outcome);

        say("\n==> bench: proxy cost (redis-benchmark, geo endpoint vs direct)");
        let keys = [Key::ProxyRatioSet, Key::ProxyRatioGet];
        let outcome = pair
            .as_ref()
            .map_err(|e| anyhow!("{e:#}"))
            .and_then(|pair| self.proxy(pair));
        self.report.record(&keys, outcome);

        say("\n==> bench: planned failovers under a steady write load");
        let keys = [
            Key::FailoverMsP50,
            Key::FailoverMsMax,
            Key::FailoverLostWrites,
        ];
        let outcome = pair
            .as_ref()
            .map_err(|e| anyhow!("{e:#}"))
            .and_then(|pair| self.failover(pair));
        self.report.record(&keys, outcome);

        say(format!(
            "\n==> bench: full sync of {:.0} MB, link vs raw REPLICAOF",
            self.plan.sync_bytes as f64 / 1e6
        ));
        let dataset = sync::Dataset::of_bytes(self.plan.sync_bytes);
        let outcome = sync::run(self.server, self.work, dataset).map(|(figures, note)| {
            self.report.note(note);
            figures
        });
        self.report
            .record(&[Key::LinkRatio, Key::LinkMbPerS], outcome);

        say(format!("\n==> bench: a fleet of {} caches", fleet::SIZE));
        let api_keys = [Key::ApiListMsP99, Key::ApiCandidatesMsP99];
        let filter_keys = [Key::FilterMsP50, Key::FilterMsP95];
        let existing = GEO_PAIR.len();
        match fleet::populate(self.server, existing) {
            Ok(populated) => {
                self.report.note(format!(
                    "fleet: {} caches created through the API, started in {:.0} s",
                    fleet::SIZE,
                    populated.took.as_secs_f64()
                ));
                if !populated.failed.is_empty() {
                    self.report.note(format!(
                        "fleet: {} cache(s) failed to start and stay in the fleet as Failed (target/bench/server.log says why): {}",
                        populated.failed.len(),
                        populated.failed.join(", ")
                    ));
                }
                say("\n==> bench: API latency over the fleet");
                let outcome = fleet::api_latency(self.server, self.plan.api_requests).map(
                    |(figures, note)| {
                        self.report.note(note);
                        figures
                    },
                );
                self.report.record(&api_keys, outcome);
                say("\n==> bench: region filter over the fleet (headless Chromium)");
                let outcome = self.filter();
                self.report.record(&filter_keys, outcome);
            }
            Err(err) => {
                let reason = format!("the fleet could not be created: {err:#}");
                self.report.record(&api_keys, Err(anyhow!(reason.clone())));
                self.report.record(&filter_keys, Err(anyhow!(reason)));
            }
        }
    }

    /// Creates and links [`GEO_PAIR`].
    fn link_geo_pair(&mut self) -> Result<GeoPair> {
        let [(a, a_region), (b, b_region)] = GEO_PAIR;
        self.server.create_cache(a, a_region, Tier::Premium)?;
        self.server.create_cache(b, b_region, Tier::Premium)?;
        self.server
            .wait_until_running(&[a, b], Duration::from_secs(120))?;
        self.server.put_link(a, b, b_region)?;
        let link = self.server.wait_for_link(
            a,
            b,
            Duration::from_millis(100),
            Duration::from_secs(300),
        )?;
        let geo = &link["properties"]["geoPrimaryEndpoint"];
        let geo = match (geo["host"].as_str(), geo["port"].as_u64()) {
            (Some(host), Some(port)) => Some(
                format!("{host}:{port}")
                    .parse::<SocketAddr>()
                    .with_context(|| format!("geoPrimaryEndpoint {host}:{port}"))?,
            ),
            _ => None,
        };
        match geo {
            Some(addr) => say(format!("    the link's geo-primary endpoint is {addr}")),
            None => say("    the link has no geoPrimaryEndpoint: geo endpoints are not wired yet"),
        }
        Ok(GeoPair {
            caches: failover::Pair {
                caches: [
                    (a.to_owned(), a_region.to_owned()),
                    (b.to_owned(), b_region.to_owned()),
                ],
                keys: [self.server.primary_key(a)?, self.server.primary_key(b)?],
            },
            nodes: [self.server.node_addr(a)?, self.server.node_addr(b)?],
            geo,
        })
    }

    /// Median of cold loads from navigation to the first painted list.
    fn first_list(&mut self) -> Result<Figures> {
        if !self.dist_ok {
            bail!("the console did not build");
        }
        let loads = self.cold_loads(self.plan.cold_loads)?;
        Ok(vec![(
            Key::FirstListMs,
            Figure::from_option(stats::median(&loads), "no loads"),
        )])
    }

    /// `count` cold loads of the console; each one's `georep:list-rendered`.
    fn cold_loads(&mut self, count: usize) -> Result<Vec<f64>> {
        let mut driver = browser::Driver::start(&self.work.join("browser"))?;
        let url = self.console_url();
        let mut loads = Vec::new();
        for i in 0..count {
            let session = driver.session()?;
            session.navigate(&url)?;
            let ms = session.list_rendered_ms()?;
            say(format!(
                "    cold load {}: list painted at {ms:.0} ms",
                i + 1
            ));
            loads.push(ms);
        }
        Ok(loads)
    }

    fn console_url(&self) -> String {
        format!("{}/#token={}", self.server.base(), self.server.token())
    }

    /// Proxy throughput ratios, if the link has a geo endpoint.
    fn proxy(&mut self, pair: &GeoPair) -> Result<Figures> {
        let Some(geo) = pair.geo else {
            let reason = "geo endpoints not wired yet: the link has no geoPrimaryEndpoint";
            return Ok(vec![
                (Key::ProxyRatioSet, Figure::missing(reason)),
                (Key::ProxyRatioGet, Figure::missing(reason)),
            ]);
        };
        let (figures, notes) =
            proxy::compare(self.plan.proxy, pair.nodes[0], geo, &pair.caches.keys[0])?;
        for note in notes {
            self.report.note(note);
        }
        Ok(figures)
    }

    /// Failover times and lost writes. Without a geo endpoint the writer
    /// follows the primary itself, between the two nodes; that figure is
    /// a note, not the (which is through the geo endpoint).
    fn failover(&mut self, pair: &GeoPair) -> Result<Figures> {
        let targets = match pair.geo {
            Some(geo) => vec![geo],
            None => pair.nodes.to_vec(),
        };
        let outcome = failover::run(self.server, &pair.caches, targets, self.plan.failovers)?;
        let summary = format!(
            "{} planned failovers, each: {}; {} writes acknowledged ({:.0}/s; {} failed and were not counted), {} acknowledged writes lost",
            outcome.millis.len(),
            outcome
                .millis
                .iter()
                .map(|m| format!("{m:.0} ms"))
                .collect::<Vec<_>>()
                .join(", "),
            outcome.acknowledged,
            outcome.rate,
            outcome.failed,
            outcome.lost
        );
        if pair.geo.is_none() {
            self.report.note(format!(
                "failover, writing straight to the nodes (the client switches node on an error), as there is no geo endpoint yet: {summary}"
            ));
            let reason = "geo endpoints not wired yet (direct-to-node figures in the notes)";
            return Ok(vec![
                (Key::FailoverMsP50, Figure::missing(reason)),
                (Key::FailoverMsMax, Figure::missing(reason)),
                (Key::FailoverLostWrites, Figure::missing(reason)),
            ]);
        }
        self.report
            .note(format!("failover through the geo endpoint: {summary}"));
        Ok(vec![
            (
                Key::FailoverMsP50,
                Figure::from_option(outcome.p50(), "no failovers"),
            ),
            (
                Key::FailoverMsMax,
                Figure::from_option(outcome.max(), "no failovers"),
            ),
            (
                Key::FailoverLostWrites,
                Figure::Measured(outcome.lost as f64),
            ),
        ])
    }

    /// Region filter times over the fleet, and (as a note) the console's
    /// start with the whole fleet.
    fn filter(&mut self) -> Result<Figures> {
        if !self.dist_ok {
            bail!("the console did not build");
        }
        let mut driver = browser::Driver::start(&self.work.join("browser"))?;
        let session = driver.session()?;
        session.navigate(&self.console_url())?;
        let loaded = session.list_rendered_ms()?;
        say(format!(
            "    the list of {} caches painted at {loaded:.0} ms",
            fleet::SIZE
        ));
        let regions = session.regions()?;
        if regions.is_empty() {
            bail!("the map shows no region chips");
        }
        let mut times = Vec::new();
        let mut rows = Vec::new();
        for i in 0..self.plan.clicks {
            let region = &regions[i % regions.len()];
            let (ms, shown) = session.filter(region)?;
            times.push(ms);
            rows.push(shown as f64);
        }
        drop(session);
        say(format!(
            "    {} clicks over {} regions: {}",
            times.len(),
            regions.len(),
            times
                .iter()
                .map(|t| format!("{t:.1}"))
                .collect::<Vec<_>>()
                .join(" ")
        ));
        self.report.note(format!(
            "region filter: {} clicks rotating over {} regions of {} caches ({:.0} rows shown on average); the console's first paint of all {} caches came at {loaded:.0} ms",
            times.len(),
            regions.len(),
            fleet::SIZE,
            stats::mean(&rows).unwrap_or(0.0),
            fleet::SIZE,
        ));
        Ok(vec![
            (
                Key::FilterMsP50,
                Figure::from_option(stats::percentile(&times, 50.0), "no clicks"),
            ),
            (
                Key::FilterMsP95,
                Figure::from_option(stats::percentile(&times, 95.0), "no clicks"),
            ),
        ])
    }
}

/// The linked pair, its nodes and its geo endpoint (if wired).
struct GeoPair {
    caches: failover::Pair,
    /// Each cache's primary node, in the same order.
    nodes: [SocketAddr; 2],
    geo: Option<SocketAddr>,
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
    fn quick_is_the_only_option() {
        assert!(!parse(&[]).unwrap().quick);
        assert!(parse(&["--quick"]).unwrap().quick);
        assert!(parse(&["--fast"]).is_err());
    }

    #[test]
    fn quick_syncs_256_mb_and_the_full_run_1_gb() {
        assert_eq!(Plan::new(true).sync_bytes, 256_000_000);
        assert_eq!(Plan::new(false).sync_bytes, 1_000_000_000);
        assert_eq!(Plan::new(true).clicks, 50);
        assert_eq!(Plan::new(true).cold_loads, 10);
    }

    #[test]
    fn describes_the_machine() {
        let line = machine();
        assert!(line.contains("cores"), "{line}");
        assert!(line.contains("GiB memory"), "{line}");
    }
}
