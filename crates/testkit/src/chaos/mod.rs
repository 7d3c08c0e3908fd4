//! Faults survived, nothing lost: a bounded, seeded chaos run, shared by
//! the chaos test (`crates/server/tests/chaos`) and `cargo xtask bench`'s
//! `chaos_*` figures.
//!
//! Two linked Premium P1 caches (one replica each, the same size, so they
//! can fail over) under a writer through the geo-primary URL, and a random
//! sequence of faults and operations drawn from a seeded PRNG: `kill -9` of
//! a node, `kill -9` of the server and a restart, planned and forced
//! failovers, `forceReboot` (`PrimaryNode` or `AllNodes`), unlink and
//! relink. After each, the pair must converge (the link `Succeeded`, every
//! node's role as the API says, the addresses on the right processes), and
//! no request may get a 5xx (409 while something is busy is retried); a
//! pair that does not converge panics, naming the seed's event.
//!
//! At the end [`run`] tells which acknowledged writes are missing on the
//! final geo-primary, and which of them lie in no loss window: writes
//! acknowledged shortly before a forced failover or a primary node's death
//! (the replica may not have received them) are reported as possibly lost,
//! and those actually missing must be covered by the bytes the failovers
//! reported. The caller asserts (the test) or reports (the bench).

mod ledger;
mod world;

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use tokio::time::Instant;

use crate::process;
use crate::wait::eventually;
use crate::Server;

pub use ledger::{connect_with_any, missing_on, set_bytes, Target, Writer, Written};
pub use world::{check_role, node_info, Cache, Converged, Instance, World};

/// How long before a forced failover or a primary node's death a write may
/// have been acknowledged and still not have reached the node that takes
/// over. Replication is asynchronous: on loopback it lags by milliseconds,
/// but a replica that has just finished a full sync was seen a few hundred
/// milliseconds behind.
const LOSS_LEAD: Duration = Duration::from_millis(1500);
/// How long writes may take to resume through the geo-primary URL.
const RESUME: Duration = Duration::from_secs(60);
/// How long the writer writes undisturbed between two events, in ms (drawn).
const QUIET_MS: std::ops::Range<u64> = 0..2000;
/// How long after a node was seen dead its last acknowledgements may still
/// arrive (they were in the socket's buffer).
const IN_FLIGHT: Duration = Duration::from_millis(500);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// `kill -9` of node `node` (by index in `instances[]`) of cache `cache`.
    KillNode {
        cache: usize,
        node: usize,
    },
    /// `kill -9` of the server, and a start on the same data.
    CrashServer,
    Failover {
        forced: bool,
    },
    Reboot {
        cache: usize,
        all: bool,
    },
    Unlink,
    /// Only ever right after `Unlink`.
    Relink,
}

/// Which nodes a `KillNode` may kill.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Victims {
    /// Only a cache's primary node (in-cache HA replaces it).
    PrimaryNodes,
    /// Any node, replicas too.
    AnyNode,
}

impl Event {
    fn draw(rng: &mut StdRng) -> Event {
        match rng.random_range(0..12) {
            0..=2 => Event::KillNode {
                cache: rng.random_range(0..2),
                node: rng.random_range(0..2),
            },
            3 | 4 => Event::CrashServer,
            5 | 6 => Event::Failover { forced: false },
            7 | 8 => Event::Failover { forced: true },
            9 => Event::Reboot {
                cache: rng.random_range(0..2),
                all: false,
            },
            10 => Event::Reboot {
                cache: rng.random_range(0..2),
                all: true,
            },
            _ => Event::Unlink,
        }
    }
}

/// Why writes acknowledged around an event may be missing at the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    /// A forced failover: reported as `lastFailover.bytesPossiblyLost`,
    /// `None` when the server said the loss is unknown (the old primary was
    /// gone, so nothing bounds it).
    Forced { bytes_possibly_lost: Option<u64> },
    /// The geo-primary's primary node died; in-cache HA reports nothing.
    PrimaryKilled { replica_behind: bool },
}

/// What an event may have cost, and until when: writes acknowledged from
/// [`LOSS_LEAD`] before it started until `until` may be missing.
#[derive(Clone, Copy, Debug)]
pub struct Risk {
    /// Why writes may be missing.
    pub loss: Loss,
    /// Until when an acknowledged write may be missing.
    pub until: Instant,
}

/// One event as it happened.
#[derive(Debug)]
pub struct Happened {
    /// What happened.
    pub event: Event,
    /// When it started.
    pub started: Instant,
    /// What it may have cost.
    pub risk: Option<Risk>,
}

impl Happened {
    /// Why writes acknowledged around it may be missing, if they may.
    pub fn loss(&self) -> Option<Loss> {
        self.risk.map(|r| r.loss)
    }

    /// Whether a write acknowledged at `at` lies in this event's loss window.
    pub fn may_have_lost(&self, at: Instant) -> bool {
        self.risk
            .is_some_and(|r| at + LOSS_LEAD >= self.started && at <= r.until)
    }
}

/// Whether the link turned `Failed` (its geo-primary lost every node),
/// looked at for a few seconds: the watchdog needs about one to decide.
async fn primary_lost(world: &World) -> bool {
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        let failed = world
            .link_view()
            .await
            .is_some_and(|link| link["properties"]["provisioningState"] == "Failed");
        if failed {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

/// What a chaos run is asked to do.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// The PRNG's seed: the same seed draws the same events.
    pub seed: u64,
    /// Events per run, at most.
    pub events: usize,
    /// No new event starts after this much chaos.
    pub time: Duration,
    /// Which nodes a `KillNode` may kill.
    pub victims: Victims,
}

/// What a chaos run found.
#[derive(Debug)]
pub struct Outcome {
    /// The seed it ran with.
    pub seed: u64,
    /// The events, as they happened.
    pub happened: Vec<Happened>,
    /// The writes acknowledged through the geo-primary URL.
    pub acked: usize,
    /// How many times a failed write made the writer connect again.
    pub reconnects: usize,
    /// Acknowledged writes missing on the final geo-primary.
    pub missing: Vec<u64>,
    /// Of those, the ones in a forced failover's loss window (which
    /// reported how many bytes it may have lost).
    pub lost_in_forced: Vec<u64>,
    /// The ones in a forced failover's window whose loss it said it cannot
    /// know (the old primary was gone).
    pub lost_to_unknown: Vec<u64>,
    /// The ones lost with a geo-primary's primary node (in-cache HA reports
    /// no bytes, nor does Azure).
    pub lost_to_kills: Vec<u64>,
    /// The ones in no loss window: lost, and nothing said so.
    pub unreported: Vec<u64>,
    /// The bytes the forced failovers reported as possibly lost.
    pub reported_bytes: u64,
    /// The bytes the writes lost in forced failovers take (a lower bound of
    /// what they lost: see [`set_bytes`]).
    pub lost_bytes: u64,
    /// Whether the `redis-server` processes are exactly the nodes the API
    /// lists, one each, at the end; what differs if not.
    pub processes: Result<(), String>,
}

impl Outcome {
    /// One line for the log: what happened and what it cost.
    pub fn summary(&self) -> String {
        let forced = self
            .happened
            .iter()
            .filter(|h| matches!(h.event, Event::Failover { forced: true }))
            .count();
        let kills = self
            .happened
            .iter()
            .filter(|h| matches!(h.loss(), Some(Loss::PrimaryKilled { .. })))
            .count();
        format!(
            "seed {}: {} events ({forced} forced failovers, {kills} geo-primary primary-node kills), \
             {} writes acked ({} reconnects), {} lost ({} in forced failovers: {} bytes, {} bytes \
             reported; {} where the loss was reported unknown; {} to primary-node kills), {} \
             unreported lost writes",
            self.seed,
            self.happened.len(),
            self.acked,
            self.reconnects,
            self.missing.len(),
            self.lost_in_forced.len(),
            self.lost_bytes,
            self.reported_bytes,
            self.lost_to_unknown.len(),
            self.lost_to_kills.len(),
            self.unreported.len()
        )
    }
}

/// Runs the chaos on `server` (a fresh one, which the run kills and
/// restarts): links two caches, writes through the geo-primary URL, draws
/// and runs events until `config.events` or `config.time`, relinks if the
/// pair ends unlinked, and tells what was lost and whether it was reported.
pub async fn run(server: Server, config: Config) -> Outcome {
    let Config {
        seed,
        events,
        time,
        victims,
    } = config;
    eprintln!("chaos: seed {seed} (replay with GEOREP_CHAOS_SEED={seed}), killing {victims:?}");
    let mut rng = StdRng::seed_from_u64(seed);

    let mut world = World::start(server).await;
    let converged = world.converge("linking").await;
    let target: Target = std::sync::Arc::new(std::sync::Mutex::new(converged.geo));
    let writer = Writer::start(target.clone(), world.keys());
    resumed(&writer, &world).await;

    let chaos = Instant::now();
    let mut happened: Vec<Happened> = Vec::new();
    let mut last = None;
    while happened.len() < events && chaos.elapsed() < time {
        let event = match last {
            Some(Event::Unlink) => Event::Relink,
            _ => Event::draw(&mut rng),
        };
        let started = Instant::now();
        eprintln!(
            "chaos: event {} at {:.1}s: {event:?} (geo-primary {}, writes acked {})",
            happened.len() + 1,
            chaos.elapsed().as_secs_f64(),
            world.primary().name,
            writer.last_acked()
        );
        let mut risk = run_event(&mut world, event, victims).await;
        if matches!(event, Event::KillNode { .. }) && world.linked && primary_lost(&world).await {
            // The geo-primary's replica had nothing yet, so the cache lost
            // everything: the link is Failed (PrimaryLost) and the
            // geo-secondary kept the data. What the console offers then: a
            // forced failover to it. Its writes in flight count as at risk.
            eprintln!(
                "chaos:   the geo-primary lost every node; forced failover to the geo-secondary"
            );
            let report = world.fail_over(true).await;
            let bytes_possibly_lost = report["bytesPossiblyLost"].as_u64();
            risk = Some(Risk {
                loss: Loss::Forced {
                    bytes_possibly_lost,
                },
                until: Instant::now(),
            });
        }
        let converged = world.converge(&format!("{event:?}")).await;
        *target.lock().unwrap() = converged.geo;
        if world.linked {
            resumed(&writer, &world).await;
        }
        if let Some(risk) = risk {
            eprintln!("chaos:   {:?}", risk.loss);
        }
        happened.push(Happened {
            event,
            started,
            risk,
        });
        last = Some(event);
        tokio::time::sleep(Duration::from_millis(rng.random_range(QUIET_MS))).await;
    }
    if !world.linked {
        eprintln!("chaos: relinking at the end");
        world.link().await;
        let converged = world.converge("the last relink").await;
        *target.lock().unwrap() = converged.geo;
        resumed(&writer, &world).await;
    }
    let converged = world.converge("the chaos").await;
    let written = writer.stop().await;

    // Every acknowledged write is on the final geo-primary, but those in a
    // loss window.
    let geo = converged.geo.expect("linked at the end");
    let mut con = connect_with_any(geo, &world.keys())
        .await
        .expect("a connection to the final geo-primary");
    let missing = missing_on(&mut con, &written.acked).await;
    let acked_at: std::collections::HashMap<u64, Instant> = written.acked.iter().copied().collect();
    for (i, h) in happened
        .iter()
        .enumerate()
        .filter(|(_, h)| h.risk.is_some())
    {
        let in_window = |n: &u64| h.may_have_lost(acked_at[n]);
        let at_risk = written
            .acked
            .iter()
            .filter(|(_, at)| h.may_have_lost(*at))
            .count();
        eprintln!(
            "chaos: event {} {:?}: {at_risk} writes at risk, {} missing",
            i + 1,
            h.loss().unwrap(),
            missing.iter().filter(|n| in_window(n)).count()
        );
    }
    let mut lost_in_forced = Vec::new();
    let mut lost_to_unknown = Vec::new();
    let mut lost_to_kills = Vec::new();
    let mut unreported = Vec::new();
    for n in &missing {
        let at = acked_at[n];
        let windows: Vec<&Happened> = happened.iter().filter(|h| h.may_have_lost(at)).collect();
        if windows.iter().any(|h| {
            matches!(
                h.loss(),
                Some(Loss::Forced {
                    bytes_possibly_lost: None
                })
            )
        }) {
            // Reported as lost, in an amount the server said it can't know.
            lost_to_unknown.push(*n);
        } else if windows
            .iter()
            .any(|h| matches!(h.loss(), Some(Loss::Forced { .. })))
        {
            lost_in_forced.push(*n);
        } else if !windows.is_empty() {
            lost_to_kills.push(*n);
        } else {
            unreported.push(*n);
        }
    }
    let reported: u64 = happened
        .iter()
        .filter_map(|h| match h.loss() {
            Some(Loss::Forced {
                bytes_possibly_lost,
            }) => bytes_possibly_lost,
            _ => None,
        })
        .sum();
    let lost_bytes: u64 = lost_in_forced.iter().map(|n| set_bytes(*n)).sum();
    let processes = listed_processes(&world).await;
    let outcome = Outcome {
        seed,
        happened,
        acked: written.acked.len(),
        reconnects: written.reconnects,
        missing,
        lost_in_forced,
        lost_to_unknown,
        lost_to_kills,
        unreported,
        reported_bytes: reported,
        lost_bytes,
        processes,
    };
    eprintln!("chaos: {}", outcome.summary());
    outcome
}

/// Whether the `redis-server` processes are exactly the nodes the API
/// lists for the two caches, one each.
async fn listed_processes(world: &World) -> Result<(), String> {
    let mut listed = Vec::new();
    for cache in 0..2 {
        listed.extend(world.instances(cache).await.0.iter().map(|i| i.addr));
    }
    crate::killpoint::processes_match(&world.server, &listed)
}

/// Runs one event, up to where it is done as far as the API says (the
/// operation succeeded, the request was answered, the process is dead);
/// what it may have cost, and until when.
async fn run_event(world: &mut World, event: Event, victims: Victims) -> Option<Risk> {
    match event {
        Event::KillNode { cache, node } => {
            let (instances, _, _) = world.instances(cache).await;
            let victim = match victims {
                Victims::AnyNode => instances[node % instances.len()],
                Victims::PrimaryNodes => *instances
                    .iter()
                    .find(|i| i.is_primary)
                    .expect("a primary node"),
            };
            let pid = world
                .server
                .node_pid(victim.addr)
                .expect("the node's process");
            // Killing the geo-primary's primary node loses what its replica
            // had not received yet; note whether it was behind (a look just
            // before the kill: it may still receive more).
            let loss = if cache == world.primary && victim.is_primary {
                let key = &world.primary().key;
                let offset = node_info(victim.addr, key)
                    .await
                    .ok()
                    .and_then(|i| i.number("master_repl_offset"));
                let mut replica = None;
                for i in instances.iter().filter(|i| !i.is_primary) {
                    replica = node_info(i.addr, key)
                        .await
                        .ok()
                        .and_then(|i| i.number("slave_repl_offset"));
                }
                eprintln!(
                    "chaos:   killing the geo-primary's primary node {} (offset {offset:?}, its replica at {replica:?})",
                    victim.addr
                );
                Some(Loss::PrimaryKilled {
                    replica_behind: replica < offset,
                })
            } else {
                eprintln!(
                    "chaos:   killing {} of {} (primary node: {})",
                    victim.addr, world.caches[cache].name, victim.is_primary
                );
                None
            };
            process::kill(pid);
            eventually("the node to be dead", Duration::from_secs(10), || async {
                (world.server.node_pid(victim.addr) != Some(pid)).then_some(())
            })
            .await;
            // Once it is dead it acknowledges nothing more: later
            // acknowledgements come from the replica that took over.
            loss.map(|loss| Risk {
                loss,
                until: Instant::now() + IN_FLIGHT,
            })
        }
        Event::CrashServer => {
            world.crash_and_restart();
            None
        }
        Event::Failover { forced } => {
            let last = world.fail_over(forced).await;
            eprintln!("chaos:   lastFailover {last}");
            // The old primary's writes were paused before the promotion,
            // and its clients disconnected when the addresses moved: what
            // is acknowledged after the operation came from the new one.
            forced.then(|| Risk {
                loss: Loss::Forced {
                    bytes_possibly_lost: Some(bytes_possibly_lost(&last)),
                },
                until: Instant::now(),
            })
        }
        Event::Reboot { cache, all } => {
            world
                .reboot(cache, if all { "AllNodes" } else { "PrimaryNode" })
                .await;
            None
        }
        Event::Unlink => {
            world.unlink().await;
            None
        }
        Event::Relink => {
            world.link().await;
            None
        }
    }
}

/// `bytesPossiblyLost` of a forced failover's `lastFailover`: known, since
/// the old primary still answers when the chaos forces a failover.
fn bytes_possibly_lost(last: &Value) -> u64 {
    assert_eq!(last["kind"], "Forced", "{last}");
    last["bytesPossiblyLost"]
        .as_u64()
        .unwrap_or_else(|| panic!("a forced failover reported no bytesPossiblyLost: {last}"))
}

/// Waits until the writer gets a new write acknowledged.
async fn resumed(writer: &Writer, world: &World) {
    let before = writer.last_acked();
    let what = format!("writes to resume through the geo-primary URL (last acked w:{before})");
    let deadline = Instant::now() + RESUME;
    while writer.last_acked() == before {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}\nthe server's log:\n{}",
            world.server.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
