//! The benchmarks that need the server, in the order they run, and how
//! much of each a run does.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use georep_testkit::Chromedriver;

use crate::arm::{Arm, Tier};
use crate::haproxy::Haproxy;
use crate::report::{Figure, Figures, Key, Report};
use crate::{browser, failover, fleet, ha, say, stats, sync, throughput};

/// How much of each benchmark a run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Bytes of values the full-sync benchmark links.
    pub sync_bytes: u64,
    /// Requests per `redis-benchmark` run, and rounds per test.
    pub throughput: throughput::Plan,
    /// Planned failovers under load (and as many raw ones).
    pub failovers: usize,
    /// Primary nodes killed under load.
    pub ha_kills: usize,
    /// Chaos events (at most), and no new one after this long.
    pub chaos_events: usize,
    pub chaos_time: Duration,
    /// Evenly spaced kill points per operation (over its first 500 ms,
    /// beside its logged steps) in the kill-point sweeps.
    pub killpoints: u32,
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
                throughput: throughput::Plan {
                    requests: 1_000_000,
                    rounds: 3,
                },
                failovers: 5,
                ha_kills: 3,
                chaos_events: 15,
                chaos_time: Duration::from_secs(90),
                killpoints: 4,
                api_requests: 1000,
                cold_loads: 10,
                clicks: 50,
            }
        } else {
            Plan {
                sync_bytes: 1_000_000_000,
                throughput: throughput::Plan {
                    requests: 2_000_000,
                    rounds: 5,
                },
                failovers: 10,
                ha_kills: 5,
                chaos_events: 60,
                chaos_time: Duration::from_secs(600),
                killpoints: 40,
                api_requests: 1000,
                cold_loads: 10,
                clicks: 50,
            }
        }
    }
}

/// Cold loads of the console over the whole fleet, for `first_list_1000_ms`.
const FLEET_COLD_LOADS: usize = 3;
/// How long the page rests before each timed click, region or dot alike:
/// a click a few milliseconds after the last one's frame waits for the
/// browser's next frame tick (up to 16.7 ms), one on a page at rest, as a
/// user's is, mostly does not. Back to back, each region click followed
/// the dot's short frame and the dot's the region's long one, so the two
/// peers waited differently for reasons of their order alone.
const AT_REST: std::time::Duration = std::time::Duration::from_millis(50);

/// The geo-replicated pair the throughput and failover benchmarks use.
const GEO_PAIR: [(&str, &str); 2] = [("bench-geo-a", "westeurope"), ("bench-geo-b", "eastus")];

/// The linked pair, its geo-primary's primary node and its geo-primary URL.
struct GeoPair {
    caches: failover::Pair,
    /// The geo-primary's primary node's own address (`instances[].host`
    /// where `isPrimary`).
    direct: SocketAddr,
    /// The link's `geoPrimaryEndpoint`.
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
        say("\n==> bench: a linked pair for the throughput and failover benchmarks");
        let pair = self.link_geo_pair().await;

        say("\n==> bench: console start (cold loads, small fleet)");
        let outcome = self.first_list().await;
        self.report.record(&[Key::FirstListMs], outcome);

        say("\n==> bench: throughput (redis-benchmark: geo-primary URL and HAProxy vs direct)");
        let keys = [
            Key::GeoRatioSet,
            Key::HaproxyRatioSet,
            Key::GeoRatioGet,
            Key::HaproxyRatioGet,
        ];
        let outcome = match &pair {
            Ok(pair) => self.throughput(pair).await,
            Err(e) => Err(anyhow!("{e:#}")),
        };
        self.report.record(&keys, outcome);

        say("\n==> bench: planned failovers under a steady write load (geo-primary URL)");
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

        say("\n==> bench: raw FAILOVER TO between two bare redis-servers, same writer");
        let keys = [Key::RawFailoverMsP50, Key::RawFailoverMsMax];
        let outcome = self.raw_failover().await;
        self.report.record(&keys, outcome);

        say("\n==> bench: in-cache HA, primary node killed under a steady write load");
        let keys = [
            Key::HaRecoveryMsP50,
            Key::HaRecoveryMsMax,
            Key::HaLostWrites,
        ];
        let outcome = self.ha().await;
        self.report.record(&keys, outcome);

        say(format!(
            "\n==> bench: full sync of {:.0} MB, link vs raw REPLICAOF; then the API during another",
            self.plan.sync_bytes as f64 / 1e6
        ));
        let keys = [
            Key::LinkMbPerS,
            Key::RawReplicaofMbPerS,
            Key::LinkRatio,
            Key::ApiLinkedMsP99Loaded,
        ];
        let outcome = self.sync().await;
        self.report.record(&keys, outcome);

        say(format!("\n==> bench: a fleet of {} caches", fleet::SIZE));
        self.measure_fleet(true).await;
    }

    /// The console's figures alone (`--only console`): cold loads with the
    /// linked pair, then with the fleet, and the region filter over it.
    pub async fn measure_console(&mut self) {
        say("\n==> bench: a linked pair (the fleet of the small cold loads)");
        if let Err(err) = self.link_geo_pair().await {
            let reason = format!("the linked pair could not be made: {err:#}");
            self.report
                .record(&[Key::FirstListMs], Err(anyhow!(reason)));
        } else {
            say("\n==> bench: console start (cold loads, small fleet)");
            let outcome = self.first_list().await;
            self.report.record(&[Key::FirstListMs], outcome);
        }
        say(format!("\n==> bench: a fleet of {} caches", fleet::SIZE));
        self.measure_fleet(false).await;
    }

    /// Creates the fleet, then measures the API (when `api`) and the
    /// region filter over it.
    async fn measure_fleet(&mut self, api: bool) {
        let api_keys = [Key::ApiListMsP99, Key::ApiCandidatesMsP99];
        let filter_keys = [
            Key::FirstList1000Ms,
            Key::FilterMsP50,
            Key::ClickFloorMsP50,
            Key::FilterMsP95,
            Key::ClickFloorMsP95,
        ];
        let existing = GEO_PAIR.len();
        let populated = match fleet::populate(self.server, existing).await {
            Ok(populated) => populated,
            Err(err) => {
                let reason = format!("the fleet could not be created: {err:#}");
                if api {
                    self.report.record(&api_keys, Err(anyhow!(reason.clone())));
                }
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
        if api {
            say("\n==> bench: API latency over the fleet");
            let outcome = fleet::api_latency(self.server, self.plan.api_requests)
                .await
                .map(|(figures, note)| {
                    self.report.note(note);
                    figures
                });
            self.report.record(&api_keys, outcome);
        }
        say("\n==> bench: console start and region filter over the fleet (headless Chromium)");
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
            None => say("    the link has no geoPrimaryEndpoint"),
        }
        Ok(GeoPair {
            caches: failover::Pair {
                caches: [
                    (a.to_owned(), a_region.to_owned()),
                    (b.to_owned(), b_region.to_owned()),
                ],
                keys: [server.primary_key(a).await?, server.primary_key(b).await?],
            },
            direct: server.primary_instance(a).await?,
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
            let stages = if ms.is_ok() {
                browser::load_stages(&session).await.ok()
            } else {
                None
            };
            session.close().await;
            let ms = ms?;
            let stages = stages.map_or_else(String::new, |s| {
                format!(
                    " (wasm in at {:.0} ms, cache lists in at {:.0} ms, {} requests before)",
                    s.wasm_ms, s.lists_ms, s.requests
                )
            });
            say(format!(
                "    cold load {}: list painted at {ms:.0} ms{stages}",
                i + 1
            ));
            loads.push(ms);
        }
        Ok(loads)
    }

    /// Throughput ratios through the geo-primary URL and HAProxy.
    async fn throughput(&mut self, pair: &GeoPair) -> Result<Figures> {
        let geo = pair.geo.context("the link has no geoPrimaryEndpoint")?;
        let (plan, direct, key) = (
            self.plan.throughput,
            pair.direct,
            pair.caches.keys[0].clone(),
        );
        say(format!(
            "    direct: {direct} (the geo-primary's primary node); geo-primary URL: {geo}"
        ));
        let proxy = Haproxy::start(&self.work.join("haproxy"), direct);
        match &proxy {
            Ok(proxy) => say(format!(
                "    HAProxy ({}) in TCP mode on {} in front of {direct}",
                proxy.version, proxy.addr
            )),
            Err(err) => say(format!("    no HAProxy: {err:#}")),
        }
        let haproxy = proxy.as_ref().map(|p| p.addr).map_err(|e| format!("{e:#}"));
        // redis-benchmark runs as a child process: wait for it off the runtime.
        let compared = tokio::task::spawn_blocking(move || {
            throughput::compare(plan, direct, geo, haproxy, &key)
        })
        .await
        .context("the throughput benchmark panicked")??;
        drop(proxy);
        for (key, detail) in compared.details {
            self.report.detail(key, detail);
        }
        for note in compared.notes {
            self.report.note(note);
        }
        Ok(compared.figures)
    }

    /// Failover gaps and lost writes through the geo-primary URL.
    async fn failover(&mut self, pair: &GeoPair) -> Result<Figures> {
        let geo = pair.geo.context("the link has no geoPrimaryEndpoint")?;
        let outcome = failover::geo(self.server, &pair.caches, geo, self.plan.failovers).await?;
        self.report.note(format!(
            "failover through the geo-primary URL (reverse PUT; gap counted from the PUT until the link is Succeeded with the roles swapped, and on to the next acknowledgement): {}",
            outcome.summary()
        ));
        self.failover_details(Key::FailoverMsP50, Key::FailoverMsMax, &outcome);
        self.report.detail(
            Key::FailoverLostWrites,
            format!(
                "of {} acknowledged ({} failed, not counted)",
                outcome.acknowledged, outcome.failed
            ),
        );
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

    /// The same writer against two bare redis-servers and `FAILOVER TO`.
    async fn raw_failover(&mut self) -> Result<Figures> {
        let outcome = failover::raw(self.work, self.plan.failovers).await?;
        self.report.note(format!(
            "raw FAILOVER TO … TIMEOUT 5000 between two bare redis-servers with the nodes' replication settings (gap counted from FAILOVER until the old primary is a replica of the new one, link up): {}",
            outcome.summary()
        ));
        self.failover_details(Key::RawFailoverMsP50, Key::RawFailoverMsMax, &outcome);
        Ok(vec![
            (
                Key::RawFailoverMsP50,
                Figure::from_option(outcome.p50(), "no failovers"),
            ),
            (
                Key::RawFailoverMsMax,
                Figure::from_option(outcome.max(), "no failovers"),
            ),
        ])
    }

    fn failover_details(&mut self, p50: Key, max: Key, outcome: &failover::Outcome) {
        let settled = stats::median(&outcome.settled).unwrap_or(f64::NAN);
        self.report.detail(
            p50,
            format!(
                "{} failovers; settled after {settled:.0} ms (median)",
                outcome.gaps.len()
            ),
        );
        let gaps: Vec<String> = outcome.gaps.iter().map(|g| format!("{g:.0}")).collect();
        self.report
            .detail(max, format!("each: {} ms", gaps.join(", ")));
    }

    /// Kill-to-first-write times of in-cache HA, and lost writes.
    async fn ha(&mut self) -> Result<Figures> {
        let outcome = ha::run(self.server, self.plan.ha_kills).await?;
        let times: Vec<String> = outcome.millis.iter().map(|m| format!("{m:.0}")).collect();
        let back: Vec<String> = outcome.returned.iter().map(|m| format!("{m:.0}")).collect();
        self.report.note(format!(
            "in-cache HA: {} kill -9s of a Premium cache's primary node, a writer through the cache's address; first write acknowledged by the replica after {} ms; the killed node back as a replica in sync after {} ms; {} writes acknowledged ({} failed, not counted), {} lost; the last write each killed node acknowledged is excluded (the replica may not have received it), and {} of those {} were indeed missing",
            outcome.millis.len(),
            times.join(", "),
            back.join(", "),
            outcome.acknowledged,
            outcome.failed,
            outcome.lost,
            outcome.excused_missing,
            outcome.millis.len()
        ));
        self.report.detail(
            Key::HaRecoveryMsP50,
            format!("{} kills", outcome.millis.len()),
        );
        self.report.detail(
            Key::HaRecoveryMsMax,
            format!("each: {} ms", times.join(", ")),
        );
        self.report.detail(
            Key::HaLostWrites,
            format!(
                "of {} acknowledged; {} excluded, {} of them missing",
                outcome.acknowledged,
                outcome.millis.len(),
                outcome.excused_missing
            ),
        );
        Ok(vec![
            (
                Key::HaRecoveryMsP50,
                Figure::from_option(outcome.p50(), "no kills"),
            ),
            (
                Key::HaRecoveryMsMax,
                Figure::from_option(outcome.max(), "no kills"),
            ),
            (Key::HaLostWrites, Figure::Measured(outcome.lost as f64)),
        ])
    }

    /// The full sync, its raw peer, and the API during another full sync.
    async fn sync(&mut self) -> Result<Figures> {
        let dataset = sync::Dataset::of_bytes(self.plan.sync_bytes);
        let outcome = sync::run(self.server, self.work, dataset).await?;
        let (linked, raw) = (outcome.linked.as_secs_f64(), outcome.raw_seconds());
        self.report.note(format!(
            "full sync of {:.0} MB ({} keys of 1000 B): link {linked:.2} s (PUT to Succeeded, polled every 25 ms); raw REPLICAOF (Redis's defaults but repl-diskless-sync-delay 0: diskless sync, disk-based load) {:.2} s before the link and {:.2} s after it",
            outcome.mb,
            outcome.keys,
            outcome.raw[0].as_secs_f64(),
            outcome.raw[1].as_secs_f64()
        ));
        self.report.detail(
            Key::LinkMbPerS,
            format!("{linked:.2} s for {:.0} MB", outcome.mb),
        );
        self.report.detail(
            Key::RawReplicaofMbPerS,
            format!(
                "{raw:.2} s (mean of {:.2} s before and {:.2} s after)",
                outcome.raw[0].as_secs_f64(),
                outcome.raw[1].as_secs_f64()
            ),
        );
        let loaded = match &outcome.loaded {
            Ok(m) => {
                let p50 = stats::percentile(&m.millis, 50.0).unwrap_or(f64::NAN);
                self.report.detail(
                    Key::ApiLinkedMsP99Loaded,
                    format!(
                        "{} requests in {:.1} s of Creating, p50 {p50:.1} ms, {} errors",
                        m.millis.len(),
                        m.window.as_secs_f64(),
                        m.errors
                    ),
                );
                Figure::from_option(outcome.loaded_p99().ok(), "no requests")
            }
            Err(reason) => Figure::missing(reason.clone()),
        };
        Ok(vec![
            (Key::LinkMbPerS, Figure::Measured(outcome.link_mb_per_s())),
            (
                Key::RawReplicaofMbPerS,
                Figure::Measured(outcome.raw_mb_per_s()),
            ),
            (Key::LinkRatio, Figure::Measured(outcome.ratio())),
            (Key::ApiLinkedMsP99Loaded, loaded),
        ])
    }

    /// Cold loads of the console over the fleet (`first_list_1000_ms`),
    /// then region filter times, each click's script time beside it, and
    /// their peer: clicks that change next to nothing on the same page.
    async fn filter(&mut self) -> Result<Figures> {
        if !self.dist_ok {
            bail!("the console did not build");
        }
        let loads = self.cold_loads(FLEET_COLD_LOADS).await?;
        let driver = Chromedriver::start().await?;
        let session = browser::session(&driver).await?;
        let outcome = self.clicks(&session).await;
        session.close().await;
        let (clicks, dot_clicks, regions, loaded) = outcome?;
        let times: Vec<f64> = clicks.iter().map(|c| c.ms).collect();
        let scripts: Vec<f64> = clicks.iter().map(|c| c.script_ms).collect();
        let waits: Vec<f64> = clicks
            .iter()
            .map(|c| (c.frame_start_ms - c.script_ms).max(0.0))
            .collect();
        let frames: Vec<f64> = clicks.iter().map(|c| c.ms - c.frame_start_ms).collect();
        let rows: Vec<f64> = clicks.iter().map(|c| c.rows as f64).collect();
        let dots: Vec<f64> = dot_clicks.iter().map(|d| d.ms).collect();
        let dot_waits: Vec<f64> = dot_clicks.iter().map(|d| d.frame_start_ms).collect();
        let join = |values: &[f64]| {
            values
                .iter()
                .map(|t| format!("{t:.1}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        say(format!(
            "    {} clicks over {regions} regions: {}",
            times.len(),
            join(&times)
        ));
        say(format!("    of which script: {}", join(&scripts)));
        say(format!(
            "    and the wait for the next frame: {}",
            join(&waits)
        ));
        say(format!(
            "    the dot's clicks between them: {}",
            join(&dots)
        ));
        let p = |values: &[f64], q| stats::percentile(values, q).unwrap_or(f64::NAN);
        let (fewest, most) = fleet::region_sizes(fleet::SIZE);
        self.report.note(format!(
            "region filter: {} clicks rotating over {regions} regions of {} caches, {} to {} per region ({:.0} rows shown on average); script (handlers, DOM updates, their microtasks) p50 {:.1} ms, p95 {:.1} ms; the wait for the browser's next frame p50 {:.1} ms, p95 {:.1} ms (the dot's: {:.1} / {:.1} ms); the frame (style, layout, paint) p50 {:.1} ms, p95 {:.1} ms",
            times.len(),
            fleet::SIZE,
            fewest,
            most,
            stats::mean(&rows).unwrap_or(0.0),
            p(&scripts, 50.0),
            p(&scripts, 95.0),
            p(&waits, 50.0),
            p(&waits, 95.0),
            p(&dot_waits, 50.0),
            p(&dot_waits, 95.0),
            p(&frames, 50.0),
            p(&frames, 95.0),
        ));
        self.report.note(format!(
            "console start over {} caches: cold loads {} ms; the filter session's list painted at {loaded:.0} ms",
            fleet::SIZE,
            loads
                .iter()
                .map(|t| format!("{t:.0}"))
                .collect::<Vec<_>>()
                .join(", "),
        ));
        Ok(vec![
            (
                Key::FirstList1000Ms,
                Figure::from_option(stats::median(&loads), "no loads"),
            ),
            (
                Key::FilterMsP50,
                Figure::from_option(stats::percentile(&times, 50.0), "no clicks"),
            ),
            (
                Key::ClickFloorMsP50,
                Figure::from_option(stats::percentile(&dots, 50.0), "no clicks"),
            ),
            (
                Key::FilterMsP95,
                Figure::from_option(stats::percentile(&times, 95.0), "no clicks"),
            ),
            (
                Key::ClickFloorMsP95,
                Figure::from_option(stats::percentile(&dots, 95.0), "no clicks"),
            ),
        ])
    }

    /// Loads the console with the fleet and clicks the region chips in
    /// turn, each followed by a click on the bench's dot: each region
    /// click's time and rows shown, each dot click's time, the number of
    /// regions and the first paint's time.
    async fn clicks(
        &self,
        session: &georep_testkit::Browser,
    ) -> Result<(Vec<browser::Click>, Vec<browser::Dot>, usize, f64)> {
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
        let mut clicks = Vec::new();
        let mut dots = Vec::new();
        for i in 0..self.plan.clicks {
            let region = &regions[i % regions.len()];
            tokio::time::sleep(AT_REST).await;
            clicks.push(browser::filter(session, region).await?);
            tokio::time::sleep(AT_REST).await;
            dots.push(browser::click_dot(session).await?);
        }
        Ok((clicks, dots, regions.len(), loaded))
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
