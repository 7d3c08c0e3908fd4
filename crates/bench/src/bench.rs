//! The benchmarks that need the server, in the order they run, and how
//! much of each a run does.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use georep_testkit::Chromedriver;

use crate::arm::{Arm, Tier};
use crate::report::{Figure, Figures, Key, Report};
use crate::{browser, failover, fleet, proxy, say, stats, sync};

/// How much of each benchmark a run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Bytes of values the full-sync benchmark links.
    pub sync_bytes: u64,
    /// Requests per `redis-benchmark` run, and rounds per test.
    pub proxy: proxy::Plan,
    /// Planned failovers under load.
    pub failovers: usize,
    /// Requests of each kind for the API figures.
    pub api_requests: usize,
    /// Cold loads of the console for `first_list_ms`.
    pub cold_loads: usize,
    /// Region clicks for the filter figures.
    pub clicks: usize,
}

impl Plan {
    /// The full run, or the `--quick` one.
    pub fn new(quick: bool) -> Self {
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

/// The linked pair, its nodes and its geo endpoint (if wired).
struct GeoPair {
    caches: failover::Pair,
    /// Each cache's primary node, in the same order.
    nodes: [SocketAddr; 2],
    geo: Option<SocketAddr>,
}

/// The benchmarks that need the server.
pub struct Bench<'a> {
    /// The server, and the API calls the benchmarks make.
    pub server: &'a Arm,
    /// How much to do.
    pub plan: Plan,
    /// A scratch directory (bare redis-servers).
    pub work: &'a Path,
    /// Where the figures go.
    pub report: &'a mut Report,
    /// Whether the console built (the browser figures need it).
    pub dist_ok: bool,
}

impl Bench<'_> {
    /// Runs every benchmark that needs the server, recording each one's
    /// figures or the reason it has none.
    pub async fn measure_with_server(&mut self) {
        say("\n==> bench: a linked pair for the proxy and failover benchmarks");
        let pair = self.link_geo_pair().await;

        say("\n==> bench: console start (cold loads, small fleet)");
        let outcome = self.first_list().await;
        self.report.record(&[Key::FirstListMs], outcome);

        say("\n==> bench: proxy cost (redis-benchmark, geo endpoint vs direct)");
        let keys = [Key::ProxyRatioSet, Key::ProxyRatioGet];
        let outcome = match &pair {
            Ok(pair) => self.proxy(pair).await,
            Err(e) => Err(anyhow!("{e:#}")),
        };
        self.report.record(&keys, outcome);

        say("\n==> bench: planned failovers under a steady write load");
        let keys = [
            Key::FailoverMsP50,
            Key::FailoverMsMax,
            Key::FailoverLostWrites,
        ];
        let outcome = match &pair {
            Ok(pair) => self.failover(pair).await,
            Err(e) => Err(anyhow!("{e:#}")),
        };
        self.report.record(&keys, outcome);

        say(format!(
            "\n==> bench: full sync of {:.0} MB, link vs raw REPLICAOF",
            self.plan.sync_bytes as f64 / 1e6
        ));
        let dataset = sync::Dataset::of_bytes(self.plan.sync_bytes);
        let outcome = sync::run(self.server, self.work, dataset)
            .await
            .map(|(figures, note)| {
                self.report.note(note);
                figures
            });
        self.report
            .record(&[Key::LinkRatio, Key::LinkMbPerS], outcome);

        say(format!("\n==> bench: a fleet of {} caches", fleet::SIZE));
        self.measure_fleet().await;
    }

    /// Creates the fleet, then measures the API and the region filter over
    /// it.
    async fn measure_fleet(&mut self) {
        let api_keys = [Key::ApiListMsP99, Key::ApiCandidatesMsP99];
        let filter_keys = [Key::FilterMsP50, Key::FilterMsP95];
        let existing = GEO_PAIR.len();
        let populated = match fleet::populate(self.server, existing).await {
            Ok(populated) => populated,
            Err(err) => {
                let reason = format!("the fleet could not be created: {err:#}");
                self.report.record(&api_keys, Err(anyhow!(reason.clone())));
                self.report.record(&filter_keys, Err(anyhow!(reason)));
                return;
            }
        };
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
        let outcome = fleet::api_latency(self.server, self.plan.api_requests)
            .await
            .map(|(figures, note)| {
                self.report.note(note);
                figures
            });
        self.report.record(&api_keys, outcome);
        say("\n==> bench: region filter over the fleet (headless Chromium)");
        let outcome = self.filter().await;
        self.report.record(&filter_keys, outcome);
    }

    /// Creates and links [`GEO_PAIR`].
    async fn link_geo_pair(&mut self) -> Result<GeoPair> {
        let [(a, a_region), (b, b_region)] = GEO_PAIR;
        let server = self.server;
        server.create_cache(a, a_region, Tier::Premium).await?;
        server.create_cache(b, b_region, Tier::Premium).await?;
        server
            .wait_until_running(&[a, b], Duration::from_secs(120))
            .await?;
        server.put_link(a, b, b_region).await?;
        let link = server
            .wait_for_link(a, b, Duration::from_millis(100), Duration::from_secs(300))
            .await?;
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
                keys: [server.primary_key(a).await?, server.primary_key(b).await?],
            },
            nodes: [server.node_addr(a).await?, server.node_addr(b).await?],
            geo,
        })
    }

    /// Median of cold loads from navigation to the first painted list.
    async fn first_list(&mut self) -> Result<Figures> {
        if !self.dist_ok {
            bail!("the console did not build");
        }
        let loads = self.cold_loads(self.plan.cold_loads).await?;
        Ok(vec![(
            Key::FirstListMs,
            Figure::from_option(stats::median(&loads), "no loads"),
        )])
    }

    /// `count` cold loads of the console, each in a new Chromium with a
    /// fresh profile; each one's `georep:list-rendered`.
    async fn cold_loads(&mut self, count: usize) -> Result<Vec<f64>> {
        let driver = Chromedriver::start().await?;
        let url = self.server.login_url();
        let mut loads = Vec::new();
        for i in 0..count {
            let session = browser::session(&driver).await?;
            browser::navigate(&session, &url).await?;
            let ms = browser::list_rendered_ms(&session).await;
            session.close().await;
            let ms = ms?;
            say(format!(
                "    cold load {}: list painted at {ms:.0} ms",
                i + 1
            ));
            loads.push(ms);
        }
        Ok(loads)
    }

    /// Proxy throughput ratios, if the link has a geo endpoint.
    async fn proxy(&mut self, pair: &GeoPair) -> Result<Figures> {
        let Some(geo) = pair.geo else {
            let reason = "geo endpoints not wired yet: the link has no geoPrimaryEndpoint";
            return Ok(vec![
                (Key::ProxyRatioSet, Figure::missing(reason)),
                (Key::ProxyRatioGet, Figure::missing(reason)),
            ]);
        };
        let (plan, direct, key) = (self.plan.proxy, pair.nodes[0], pair.caches.keys[0].clone());
        // redis-benchmark runs as a child process: wait for it off the runtime.
        let (figures, notes) =
            tokio::task::spawn_blocking(move || proxy::compare(plan, direct, geo, &key))
                .await
                .context("the proxy benchmark panicked")??;
        for note in notes {
            self.report.note(note);
        }
        Ok(figures)
    }

    /// Failover times and lost writes. Without a geo endpoint the writer
    /// follows the primary itself, between the two nodes; that figure is
    /// a note, not the (which is through the geo endpoint).
    async fn failover(&mut self, pair: &GeoPair) -> Result<Figures> {
        let targets = match pair.geo {
            Some(geo) => vec![geo],
            None => pair.nodes.to_vec(),
        };
        let outcome =
            failover::run(self.server, &pair.caches, targets, self.plan.failovers).await?;
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
    async fn filter(&mut self) -> Result<Figures> {
        if !self.dist_ok {
            bail!("the console did not build");
        }
        let driver = Chromedriver::start().await?;
        let session = browser::session(&driver).await?;
        let outcome = self.clicks(&session).await;
        session.close().await;
        let (times, rows, regions, loaded) = outcome?;
        say(format!(
            "    {} clicks over {regions} regions: {}",
            times.len(),
            times
                .iter()
                .map(|t| format!("{t:.1}"))
                .collect::<Vec<_>>()
                .join(" ")
        ));
        self.report.note(format!(
            "region filter: {} clicks rotating over {regions} regions of {} caches ({:.0} rows shown on average); the console's first paint of all {} caches came at {loaded:.0} ms",
            times.len(),
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

    /// Loads the console with the fleet and clicks the region chips in
    /// turn: each click's time and rows shown, the number of regions and
    /// the first paint's time.
    async fn clicks(
        &self,
        session: &georep_testkit::Browser,
    ) -> Result<(Vec<f64>, Vec<f64>, usize, f64)> {
        browser::navigate(session, &self.server.login_url()).await?;
        let loaded = browser::list_rendered_ms(session).await?;
        say(format!(
            "    the list of {} caches painted at {loaded:.0} ms",
            fleet::SIZE
        ));
        let regions = browser::regions(session).await?;
        if regions.is_empty() {
            bail!("the map shows no region chips");
        }
        let mut times = Vec::new();
        let mut rows = Vec::new();
        for i in 0..self.plan.clicks {
            let region = &regions[i % regions.len()];
            let (ms, shown) = browser::filter(session, region).await?;
            times.push(ms);
            rows.push(shown as f64);
        }
        Ok((times, rows, regions.len(), loaded))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_syncs_256_mb_and_the_full_run_1_gb() {
        assert_eq!(Plan::new(true).sync_bytes, 256_000_000);
        assert_eq!(Plan::new(false).sync_bytes, 1_000_000_000);
        assert_eq!(Plan::new(true).clicks, 50);
        assert_eq!(Plan::new(true).cold_loads, 10);
    }
}
