//! Kill-point sweeps of the operations on a linked pair, shared by the
//! fault tests (≥ 10 points each) and the bench (a denser sweep): link,
//! planned and forced failover, unlink, `forceReboot` of the geo-primary's
//! primary node, and `regenerateKey`.
//!
//! Each run asks for the operation, `kill -9`s the server at one point of
//! it (a logged step, or a time after the request), starts it again, and
//! checks: the pair settles; every node's role, the caches' addresses and
//! the geo-primary URL are what the API says (see
//! [`World::probe`](crate::chaos::World::probe)), which also finds a
//! `redis-server` outside the store's records or started twice. A writer
//! keeps a ledger through the geo-primary URL for the whole sweep; at its
//! end every acknowledged write is on the geo-primary (a forced sweep may
//! lose writes, never more bytes than its failovers reported).

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::time::Instant;

use crate::api::link_body;
use crate::chaos::World;
use crate::chaos::{connect_with_any, missing_on, set_bytes, Target, Writer};
use crate::killpoint::{self, KillPoint};
use crate::wait::{self, Poll};
use crate::API_VERSION;

/// How long the pair may take to settle and converge after a restart.
const SETTLE: Duration = Duration::from_secs(90);

/// How densely a sweep kills: every logged step of the operation, then
/// `points` evenly spaced over the first `spread`.
#[derive(Clone, Copy, Debug)]
pub struct Density {
    /// Evenly spaced points.
    pub points: u32,
    /// Over how long from the request.
    pub spread: Duration,
}

/// The test suite's sweep: 10 points over the first 500 ms.
pub const SUITE: Density = Density {
    points: 10,
    spread: Duration::from_millis(500),
};

/// An operation on the pair that a sweep kills the server in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PairOp {
    /// Linking the unlinked pair (a full sync).
    Link,
    /// A planned failover.
    PlannedFailover,
    /// A forced failover.
    ForcedFailover,
    /// Unlinking.
    Unlink,
    /// `forceReboot` of the geo-primary's primary node.
    Reboot,
    /// `regenerateKey` of the geo-primary's secondary key.
    RegenerateKey,
}

impl PairOp {
    /// Every one, in the order a sweep of all runs them.
    pub const ALL: [PairOp; 6] = [
        PairOp::Link,
        PairOp::PlannedFailover,
        PairOp::ForcedFailover,
        PairOp::Unlink,
        PairOp::Reboot,
        PairOp::RegenerateKey,
    ];

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            PairOp::Link => "link",
            PairOp::PlannedFailover => "planned failover",
            PairOp::ForcedFailover => "forced failover",
            PairOp::Unlink => "unlink",
            PairOp::Reboot => "reboot",
            PairOp::RegenerateKey => "regenerateKey",
        }
    }

    /// The lines the server logs (at `info`) at its steps, with which
    /// occurrence: its logged kill points.
    pub fn steps(self) -> &'static [(&'static str, usize)] {
        match self {
            PairOp::Link => &[("linking", 1), ("link settled", 1)],
            PairOp::PlannedFailover => &[
                ("failing over", 1),
                ("planned failover swapped the roles", 1),
                ("failover complete", 1),
            ],
            PairOp::ForcedFailover => &[("failing over", 1), ("failover complete", 1)],
            PairOp::Unlink => &[("unlinking", 1), ("unlinked", 1)],
            PairOp::Reboot => &[
                ("node saved its data and stopped", 1),
                ("the shard's primary node was replaced by its replica", 1),
                ("node is up", 1),
            ],
            PairOp::RegenerateKey => &[("access keys updated", 1), ("access keys updated", 2)],
        }
    }

    /// Its kill points at `density`.
    pub fn points(self, density: Density) -> Vec<KillPoint> {
        killpoint::sweep(self.steps(), density.points, density.spread)
    }
}

/// What one operation's sweep found.
#[derive(Debug, Default)]
pub struct SweepOutcome {
    /// Kill points run (each a request, a kill and a restart).
    pub runs: usize,
    /// What went wrong, one line per failed run or check.
    pub failures: Vec<String>,
    /// Writes acknowledged through the geo-primary URL meanwhile.
    pub acked: usize,
    /// Of those, missing on the geo-primary at the end.
    pub missing: usize,
}

/// Sweeps `op` over its kill points at `density` on the pair of `world`
/// (a server started with `RUST_LOG=info`, so its steps are logged).
pub async fn sweep(world: &mut World, op: PairOp, density: Density) -> SweepOutcome {
    let mut outcome = SweepOutcome::default();
    if let Err(e) = prepare(world, op).await {
        outcome
            .failures
            .push(format!("{}: before the sweep: {e}", op.name()));
        return outcome;
    }
    let target: Target = std::sync::Arc::new(std::sync::Mutex::new(None));
    if let Err(e) = aim(world, &target).await {
        outcome
            .failures
            .push(format!("{}: before the sweep: {e}", op.name()));
        return outcome;
    }
    let writer = Writer::start(target.clone(), world.keys());
    // Read after every run, by entry id: the timeline keeps a link's last
    // 1,000 steps only, and a long sweep outgrows that.
    let mut reports = Reports::default();
    reports.read(world).await;
    let before = reports.clone();
    for point in op.points(density) {
        outcome.runs += 1;
        if let Err(e) = run_once(world, op, &point).await {
            outcome
                .failures
                .push(format!("{} killed {point}: {e}", op.name()));
        }
        reports.read(world).await;
        // Whatever happened, the next run starts from a converged pair.
        let ready = match prepare(world, op).await {
            Ok(()) => aim(world, &target).await,
            Err(e) => Err(e),
        };
        if let Err(e) = ready {
            outcome
                .failures
                .push(format!("{} after {point}: {e}", op.name()));
            break;
        }
    }
    let written = writer.stop().await;
    outcome.acked = written.acked.len();
    match lost(world, &written.acked).await {
        Ok(missing) => {
            outcome.missing = missing.len();
            let lost_bytes: u64 = missing.iter().map(|&n| set_bytes(n)).sum();
            reports.read(world).await;
            let (reported, unknown) = reports.since(&before);
            if op == PairOp::ForcedFailover {
                // A loss reported unknown (`null`) is bounded by nothing.
                if lost_bytes > reported && !unknown {
                    outcome.failures.push(format!(
                        "forced failover: {} writes ({lost_bytes} bytes) lost, {reported} bytes reported",
                        missing.len()
                    ));
                }
            } else if !missing.is_empty() {
                outcome.failures.push(format!(
                    "{}: {} acknowledged writes missing on the geo-primary, e.g. w:{}",
                    op.name(),
                    missing.len(),
                    missing[0]
                ));
            }
        }
        Err(e) => outcome
            .failures
            .push(format!("{}: at the end: {e}", op.name())),
    }
    outcome
}

/// Puts the pair where `op` starts from: unlinked for a link, linked for
/// everything else.
async fn prepare(world: &mut World, op: PairOp) -> Result<(), String> {
    settle(world).await?;
    match (op, world.linked) {
        (PairOp::Link, true) => world.unlink().await,
        (PairOp::Link, false) | (_, true) => {}
        (_, false) => world.link().await,
    }
    Ok(())
}

/// Waits until the pair has converged, and points the writer at its
/// geo-primary URL (none while unlinked).
async fn aim(world: &World, target: &Target) -> Result<(), String> {
    let converged = converge(world).await?;
    *target.lock().unwrap() = converged.geo;
    Ok(())
}

/// One run: the request, the kill at `point`, the restart, and the checks.
async fn run_once(world: &mut World, op: PairOp, point: &KillPoint) -> Result<(), String> {
    let (method, path, body, accepted) = request(world, op);
    let mark = killpoint::log_mark(&world.server);
    let asked = Instant::now();
    let answer = killpoint::send_detached(&world.server, method, path, body);
    killpoint::crash_at(&mut world.server, point, mark, asked).await?;
    if let Ok(Some((status, body))) = answer.await {
        if status != accepted {
            return Err(format!("answered {status} (not {accepted}): {body}"));
        }
    }
    settle(world).await?;
    converge(world).await?;
    if op == PairOp::RegenerateKey {
        keys_work(world).await?;
    }
    Ok(())
}

/// The request of `op` on the pair as it stands, and the status that
/// accepts it.
fn request(world: &World, op: PairOp) -> (Method, String, Option<Value>, StatusCode) {
    let (primary, secondary) = (world.primary(), world.secondary());
    let link = format!("{}/linkedServers/{}", primary.path, secondary.name);
    match op {
        PairOp::Link => (
            Method::PUT,
            link,
            Some(link_body(&secondary.id, &secondary.location)),
            StatusCode::CREATED,
        ),
        PairOp::Unlink => (Method::DELETE, link, None, StatusCode::ACCEPTED),
        PairOp::PlannedFailover | PairOp::ForcedFailover => {
            let kind = if op == PairOp::ForcedFailover {
                "forced"
            } else {
                "planned"
            };
            (
                Method::PUT,
                format!(
                    "{}/linkedServers/{}?api-version={API_VERSION}&x-georep-failover={kind}",
                    secondary.path, primary.name
                ),
                Some(link_body(&primary.id, &primary.location)),
                StatusCode::CREATED,
            )
        }
        PairOp::Reboot => (
            Method::POST,
            format!("{}/forceReboot", primary.path),
            Some(json!({"rebootType": "PrimaryNode"})),
            StatusCode::OK,
        ),
        PairOp::RegenerateKey => (
            Method::POST,
            format!("{}/regenerateKey", primary.path),
            Some(json!({"keyType": "Secondary"})),
            StatusCode::OK,
        ),
    }
}

/// Waits until the link is `Succeeded` or gone and both caches are
/// `Succeeded`, then takes what the API says (linked or not, which cache
/// is the geo-primary) as what the nodes must show: an operation cut short
/// may have finished or not, but Redis must agree with the API either way.
async fn settle(world: &mut World) -> Result<(), String> {
    let seen = wait::poll(
        "the pair to settle",
        SETTLE,
        Duration::from_millis(200),
        || async {
            for cache in &world.caches {
                let (_, body) = world.get(&cache.path).await;
                let state = &body["properties"]["provisioningState"];
                if state != "Succeeded" {
                    return Poll::Pending(format!("{} is {state}", cache.name));
                }
            }
            match world.link_view().await {
                None => Poll::Ready(None),
                Some(link) if link["properties"]["provisioningState"] == "Succeeded" => {
                    // `a`'s view names `b`: `b`'s role tells who is primary.
                    Poll::Ready(Some(usize::from(
                        link["properties"]["serverRole"] == "Primary",
                    )))
                }
                Some(link) => {
                    Poll::Pending(format!("link {}", link["properties"]["provisioningState"]))
                }
            }
        },
    )
    .await
    .map_err(|e| format!("{e}\nthe server's log:\n{}", world.server.log_tail()))?;
    world.linked = seen.is_some();
    if let Some(primary) = seen {
        world.primary = primary;
    }
    Ok(())
}

/// Waits until [`World::probe`] holds.
async fn converge(world: &World) -> Result<crate::chaos::Converged, String> {
    wait::poll(
        "the pair to converge",
        SETTLE,
        Duration::from_millis(200),
        || async {
            match world.probe().await {
                Ok(converged) => Poll::Ready(converged),
                Err(seen) => Poll::Pending(seen),
            }
        },
    )
    .await
    .map_err(|e| format!("{e}\nthe server's log:\n{}", world.server.log_tail()))
}

/// Both keys `listKeys` names authenticate at the geo-primary cache's
/// address, whatever the regeneration's kill left.
async fn keys_work(world: &World) -> Result<(), String> {
    let cache = world.primary();
    let (primary, secondary) = world
        .server
        .api()
        .keys(&cache.path)
        .await
        .map_err(|e| format!("listKeys: {e:#}"))?;
    let (instances, address, _) = world.instances(world.primary).await;
    let mut addrs: Vec<_> = instances.into_iter().map(|i| i.addr).collect();
    addrs.extend(address);
    for addr in addrs {
        for key in [&primary, &secondary] {
            crate::redis_client::connect(addr, key, Duration::from_secs(2))
                .await
                .map_err(|e| format!("a key listKeys names fails at {addr}: {e}"))?;
        }
    }
    Ok(())
}

/// The acknowledged writes missing on the geo-primary, linking the pair
/// first if it stands unlinked.
async fn lost(world: &mut World, acked: &[(u64, Instant)]) -> Result<Vec<u64>, String> {
    if !world.linked {
        world.link().await;
    }
    let geo = converge(world)
        .await?
        .geo
        .ok_or("no geo-primary URL once linked")?;
    let mut con = connect_with_any(geo, &world.keys())
        .await
        .map_err(|e| format!("the geo-primary URL {geo}: {e}"))?;
    Ok(missing_on(&mut con, acked).await)
}

/// What the failovers on the link's timeline reported as possibly lost,
/// by timeline entry id: bytes, or `None` where the loss is unknown.
#[derive(Debug, Default, Clone)]
struct Reports(std::collections::BTreeMap<u64, Option<u64>>);

impl Reports {
    /// Adds the failovers the timeline lists now (none while unlinked).
    async fn read(&mut self, world: &World) {
        let Some(link) = world.link_view().await else {
            return;
        };
        let id = link["id"].as_str().unwrap_or_default().to_owned();
        let (_, timeline) = world.get(&format!("/x-georep/timeline?link={id}")).await;
        for entry in timeline["value"].as_array().into_iter().flatten() {
            if let (Some(id), Some(failover)) = (entry["id"].as_u64(), entry.get("failover")) {
                self.0.insert(id, failover["bytesPossiblyLost"].as_u64());
            }
        }
    }

    /// The bytes reported since `before`, and whether any loss since then
    /// was reported unknown.
    fn since(&self, before: &Reports) -> (u64, bool) {
        let new = self.0.iter().filter(|(id, _)| !before.0.contains_key(id));
        new.fold((0, false), |(bytes, unknown), (_, lost)| match lost {
            Some(b) => (bytes + b, unknown),
            None => (bytes, true),
        })
    }
}
