//! Crash safety of the operations on a linked pair, swept with the test
//! kit's `killpoint::pair` (the bench runs the same sweeps, denser): link,
//! planned and forced failover, unlink, `forceReboot` of the geo-primary's
//! primary node and `regenerateKey`, each with the control plane `kill -9`ed
//! at every step its log names and at ten evenly spaced points over its
//! first 500 ms, then started again. After each restart the pair settles
//! and converges: every node's role, the caches' addresses and the
//! geo-primary URL are what the API says, and the `redis-server` processes
//! are exactly the nodes it lists, none started twice. A writer through the
//! geo-primary URL keeps a ledger for the whole sweep: at the end every
//! acknowledged write is on the geo-primary (a forced failover may lose
//! writes, never more bytes than it reported).

use georep_testkit::chaos::World;
use georep_testkit::killpoint::pair::{self, PairOp, SUITE};

use crate::sweep_check::logging_server;

async fn swept(op: PairOp) {
    let mut world = World::start(logging_server()).await;
    let outcome = pair::sweep(&mut world, op, SUITE).await;
    eprintln!(
        "{} sweep: {} runs, {} writes acknowledged, {} missing, failures: {:#?}",
        op.name(),
        outcome.runs,
        outcome.acked,
        outcome.missing,
        outcome.failures
    );
    assert!(
        outcome.runs >= SUITE.points as usize,
        "{} runs",
        outcome.runs
    );
    assert!(
        outcome.failures.is_empty(),
        "{}",
        outcome.failures.join("\n")
    );
    if op != PairOp::Link {
        // Writes went through the geo-primary URL while the pair was linked.
        assert!(outcome.acked > 0, "nothing was written");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn links_killed_at_every_point_converge_and_lose_nothing() {
    swept(PairOp::Link).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn planned_failovers_killed_at_every_point_converge_and_lose_nothing() {
    swept(PairOp::PlannedFailover).await;
}

/// A forced failover with the old primary still there (it is paused, then
/// demoted) may lose what it had not replicated; never more than it reports.
#[tokio::test(flavor = "multi_thread")]
async fn forced_failovers_killed_at_every_point_converge_and_lose_no_more_than_reported() {
    swept(PairOp::ForcedFailover).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unlinks_killed_at_every_point_converge_and_keep_the_data() {
    swept(PairOp::Unlink).await;
}

/// A geo-primary's primary node rebooted hands over to its replica; the
/// geo-primary URL and the geo-secondary follow the new primary.
#[tokio::test(flavor = "multi_thread")]
async fn geo_primary_reboots_killed_at_every_point_keep_the_geo_url_on_a_primary() {
    swept(PairOp::Reboot).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn key_regenerations_on_a_linked_pair_killed_at_every_point_apply_what_list_keys_says() {
    swept(PairOp::RegenerateKey).await;
}
