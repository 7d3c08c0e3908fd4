//! Faults survived, nothing lost: a bounded, seeded chaos run
//! (`georep_testkit::chaos`, which the bench's `chaos_*` figures run too).
//!
//! Two linked Premium P1 caches under a writer through the geo-primary
//! URL, and a random sequence of node kills, server crashes, planned and
//! forced failovers, reboots, unlinks and relinks; after each the pair must
//! converge. At the end every acknowledged write must be on the final
//! geo-primary, except writes acknowledged shortly before a forced failover
//! or a primary node's death; those actually missing must be covered by the
//! bytes the failovers reported.
//!
//! The seed is `GEOREP_CHAOS_SEED` or random, and is printed first:
//! `GEOREP_CHAOS_SEED=… cargo test -p georep-server --test chaos --
//! --nocapture` replays the same sequence of events (the timing, and so
//! what each event meets, varies).

use std::time::Duration;

use georep_testkit::chaos::{self, Config, Victims};
use georep_testkit::Server;

/// Events per run (at most), and the fewest a run must get through.
const EVENTS: usize = 50;
const MIN_EVENTS: usize = 20;
/// No new event starts after this much chaos.
const CHAOS_TIME: Duration = Duration::from_secs(150);

fn seed() -> u64 {
    match std::env::var("GEOREP_CHAOS_SEED") {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("GEOREP_CHAOS_SEED={text:?} is not a u64")),
        Err(_) => rand::random(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_survived_nothing_lost() {
    run(Victims::PrimaryNodes).await;
}

/// The same with replica nodes killed too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_survived_nothing_lost_replicas_killed_too() {
    run(Victims::AnyNode).await;
}

async fn run(victims: Victims) {
    let server = Server::builder()
        .binary(env!("CARGO_BIN_EXE_georep-server"))
        .start()
        .expect("the server starts");
    let config = Config {
        seed: seed(),
        events: EVENTS,
        time: CHAOS_TIME,
        victims,
    };
    let outcome = chaos::run(server, config).await;
    let seed = outcome.seed;
    assert!(
        outcome.happened.len() >= MIN_EVENTS,
        "only {} events in {CHAOS_TIME:?} (seed {seed})",
        outcome.happened.len()
    );
    assert!(
        outcome.unreported.is_empty(),
        "seed {seed}: acknowledged writes missing on the final geo-primary outside any loss \
         window: {:?}",
        &outcome.unreported[..outcome.unreported.len().min(20)]
    );
    // Missing writes cost at least `set_bytes` each in the replication
    // stream (a lower bound, see there), so a failover that reported fewer
    // bytes than that under-reported. Writes lost to a primary node's death
    // are not counted here: in-cache HA reports no bytes (nor does Azure).
    assert!(
        outcome.reported_bytes >= outcome.lost_bytes,
        "seed {seed}: forced failovers reported {} bytes possibly lost, but {} writes \
         ({} bytes) acknowledged in their windows are missing",
        outcome.reported_bytes,
        outcome.lost_in_forced.len(),
        outcome.lost_bytes
    );
    // No redis-server runs that the API doesn't list, and none twice.
    if let Err(differs) = &outcome.processes {
        panic!("seed {seed}: {differs}");
    }
}
