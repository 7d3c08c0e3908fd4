//! Geo-failover: planned (nothing lost) and forced (the primary is gone).

use std::net::SocketAddr;
use std::time::Duration;

use futures::future::join_all;
use redis::aio::MultiplexedConnection;
use tokio::time::{sleep, timeout, Instant};
use tracing::{debug, info, warn};

use super::{check_pairs, replica_of, replica_of_on, request_ack_on, ReplicationError};
use crate::dataplane::credentials::Credentials;
use crate::dataplane::node::{command_error, info_on, Info, Role};

/// How often a failover's progress is read before and after the swap.
const POLL: Duration = Duration::from_millis(20);
/// How often, while Redis waits for the replica to catch up, the replica is
/// nudged to acknowledge and the old primary is asked how far it has come.
const NUDGE: Duration = Duration::from_millis(1);
/// Time allowed, beyond the catch-up timeout, for the promotion and the
/// old primary's partial resync.
const PROMOTION_GRACE: Duration = Duration::from_secs(10);
/// How long a planned failover waits for the replica to be reported online.
const READY_GRACE: Duration = Duration::from_secs(2);
/// How long a forced failover tries to reach the old primary.
const PROBE_CONNECT: Duration = Duration::from_millis(500);
const PROBE_RESPONSE: Duration = Duration::from_secs(1);
/// How long a forced failover holds writes on a reachable old primary.
const FORCED_PAUSE_MS: u64 = 30_000;

/// One shard of a planned failover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardPlannedFailover {
    /// The shard.
    pub shard: usize,
    /// The node that was primary and now replicates.
    pub old_primary: SocketAddr,
    /// The node that was the replica and now takes writes.
    pub new_primary: SocketAddr,
    /// The replication offset both agreed on when roles swapped.
    pub offset: u64,
    /// Whether the old primary rejoined by partial resync: neither node's
    /// `sync_full` grew.
    pub partial_resync: bool,
    /// How long the shard took, writes paused throughout.
    pub elapsed: Duration,
}

/// What a planned failover did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFailoverReport {
    /// Each shard.
    pub shards: Vec<ShardPlannedFailover>,
}

impl PlannedFailoverReport {
    /// Whether every shard rejoined by partial resync.
    pub fn all_partial(&self) -> bool {
        self.shards.iter().all(|s| s.partial_resync)
    }
}

/// Swaps primary and secondary with no loss, shard by shard (concurrently).
///
/// For each shard, Redis's `FAILOVER TO <addr> <port> TIMEOUT <ms>` on the
/// old primary pauses its writes, waits until the replica's offset equals its
/// own, promotes the replica, and makes itself the new primary's replica by
/// partial resync. `catch_up` bounds the wait for the offsets to meet; if it
/// passes, Redis aborts, the old primary takes writes again, and nothing
/// changed.
///
/// Writes held during the pause are answered `READONLY` once the old primary
/// has stepped down: clients connected through the geo-primary addresses
/// must be disconnected so they reconnect to the new primary (moving the
/// addresses does it).
///
/// Writes stay paused until the replica has acknowledged the last offset.
/// Replicas acknowledge once a second by themselves; the replica is nudged
/// every millisecond meanwhile, so the pause is milliseconds.
///
/// If some shards fail over and others do not, the ones that did are failed
/// back, so the pair is never split between two primaries.
pub async fn planned_failover(
    old_primary: &[SocketAddr],
    new_primary: &[SocketAddr],
    credentials: &Credentials,
    catch_up: Duration,
) -> Result<PlannedFailoverReport, ReplicationError> {
    check_pairs(old_primary, new_primary)?;
    let results = join_all(
        old_primary
            .iter()
            .zip(new_primary)
            .enumerate()
            .map(|(shard, (&old, &new))| fail_over_shard(shard, old, new, credentials, catch_up)),
    )
    .await;

    let (done, failed): (Vec<_>, Vec<_>) = results
        .into_iter()
        .enumerate()
        .partition(|(_, r)| r.is_ok());
    let done: Vec<ShardPlannedFailover> = done.into_iter().filter_map(|(_, r)| r.ok()).collect();
    let mut failed: Vec<(usize, ReplicationError)> = failed
        .into_iter()
        .filter_map(|(shard, r)| r.err().map(|e| (shard, e)))
        .collect();
    if failed.is_empty() {
        info!(shards = done.len(), "planned failover complete");
        return Ok(PlannedFailoverReport { shards: done });
    }
    if done.is_empty() && failed.len() == 1 {
        return Err(failed.remove(0).1);
    }

    // Some shards moved: move them back, so one cache stays the primary.
    warn!(
        moved = done.len(),
        failed = failed.len(),
        "planned failover failed on some shards; failing the others back"
    );
    let back =
        join_all(done.iter().map(|s| {
            fail_over_shard(s.shard, s.new_primary, s.old_primary, credentials, catch_up)
        }))
        .await;
    let (mut rolled_back, mut stuck) = (vec![], vec![]);
    for (s, result) in done.iter().zip(back) {
        match result {
            Ok(_) => rolled_back.push(s.shard),
            Err(e) => {
                warn!(shard = s.shard, error = %e, "could not fail the shard back");
                stuck.push(s.shard);
            }
        }
    }
    let failed_shards = failed.iter().map(|(shard, _)| *shard).collect();
    Err(ReplicationError::PartialFailover {
        failed: failed_shards,
        first_error: Box::new(failed.remove(0).1),
        rolled_back,
        stuck,
    })
}

/// One shard's planned failover; on error the shard is as it was.
async fn fail_over_shard(
    shard: usize,
    old: SocketAddr,
    new: SocketAddr,
    credentials: &Credentials,
    catch_up: Duration,
) -> Result<ShardPlannedFailover, ReplicationError> {
    let started = Instant::now();
    let failed = |reason: String| ReplicationError::FailoverFailed {
        shard,
        from: old,
        to: new,
        reason,
    };

    // Preconditions, checked before anything changes. Right after a full
    // sync the primary may still list the replica as receiving the snapshot
    // for a moment (it notices the end of the transfer on its next cron
    // tick), so give it a short while to report it online.
    let mut old_conn = credentials.connect(old).await?;
    let mut new_conn = credentials.connect(new).await?;
    let ready_by = Instant::now() + READY_GRACE;
    let (old_before, new_before) = loop {
        let old_info = info_on(&mut old_conn, old, &["replication", "stats"]).await?;
        let new_info = info_on(&mut new_conn, new, &["replication", "stats"]).await?;
        if old_info.role() != Some(Role::Primary) {
            return Err(ReplicationError::NotPrimary(old));
        }
        if is_streaming(&old_info, &new_info, old, new) {
            break (old_info, new_info);
        }
        if Instant::now() >= ready_by {
            return Err(ReplicationError::NotReplicaOf {
                node: new,
                primary: old,
            });
        }
        sleep(POLL).await;
    };

    // Redis does the pause, the catch-up, the promotion and the partial
    // resync. It answers at once; the work happens in its event loop. The
    // old primary will then replicate from the new one, so it authenticates
    // with the new one's cache's password.
    credentials.replicate_from(&mut old_conn, old, new).await?;
    let timeout_ms = u64::try_from(catch_up.as_millis())
        .unwrap_or(u64::MAX)
        .max(1);
    // Named as the replica announced itself: by the port it replicates on.
    let target = credentials.replication_addr(new);
    redis::cmd("FAILOVER")
        .arg("TO")
        .arg(target.ip().to_string())
        .arg(target.port())
        .arg("TIMEOUT")
        .arg(timeout_ms)
        .query_async::<()>(&mut old_conn)
        .await
        .map_err(command_error(old, "FAILOVER"))?;
    info!(shard, %old, %new, "failover started: writes paused on the old primary");

    let deadline = Instant::now() + catch_up + PROMOTION_GRACE;
    let old_after = loop {
        // Redis's FAILOVER waits for the replica's `REPLCONF ACK`, which a
        // replica sends once a second, and a paused primary asks for none.
        // `REPLCONF GETACK` sent to the replica makes it acknowledge at once
        // (Redis 7.0 `replconfCommand`), so the wait is milliseconds.
        nudge(&mut new_conn, new).await;
        sleep(NUDGE).await;
        match info_on(&mut old_conn, old, &["replication", "stats"]).await {
            Ok(info) => match (info.role(), info.failover_state()) {
                (Some(Role::Replica), Some("no-failover"))
                    if info.is_replica_of(new) && info.master_link_up() =>
                {
                    break info;
                }
                (Some(Role::Primary), Some("no-failover")) => {
                    // Redis gave up (the replica did not catch up in time,
                    // or refused the handoff) and unpaused writes.
                    return Err(failed(
                        "the secondary did not catch up before the timeout; nothing changed".into(),
                    ));
                }
                _ => {}
            },
            Err(e) => debug!(shard, error = %e, "old primary did not answer; still waiting"),
        }
        if Instant::now() >= deadline {
            let aborted = redis::cmd("FAILOVER")
                .arg("ABORT")
                .query_async::<()>(&mut old_conn)
                .await;
            return Err(failed(format!(
                "no outcome within {:?} (abort: {})",
                catch_up + PROMOTION_GRACE,
                if aborted.is_ok() { "done" } else { "failed" }
            )));
        }
    };

    let new_after = info_on(&mut new_conn, new, &["replication", "stats"]).await?;
    if new_after.role() != Some(Role::Primary) {
        return Err(failed("the secondary was not promoted".into()));
    }
    let partial_resync = old_after.sync_full() == old_before.sync_full()
        && new_after.sync_full() == new_before.sync_full();
    let offset = new_after.master_repl_offset().unwrap_or_default();
    let elapsed = started.elapsed();
    info!(shard, %old, %new, offset, partial_resync, ?elapsed, "shard failed over");
    Ok(ShardPlannedFailover {
        shard,
        old_primary: old,
        new_primary: new,
        offset,
        partial_resync,
        elapsed,
    })
}

/// Asks the replica to acknowledge its offset to its primary now.
async fn nudge(replica: &mut MultiplexedConnection, addr: SocketAddr) {
    if let Err(error) = request_ack_on(replica, addr).await {
        // Only a hint: the wait still ends with Redis's own acknowledgement.
        debug!(%addr, %error, "could not nudge the replica");
    }
}

/// Whether `new` follows `old` with its link up, and `old` streams to it
/// (which `FAILOVER TO` requires).
fn is_streaming(old_info: &Info, new_info: &Info, old: SocketAddr, new: SocketAddr) -> bool {
    old_info.replica(new).is_some_and(|r| r.is_online())
        && new_info.is_replica_of(old)
        && new_info.master_link_up()
}

/// One shard of a forced failover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardForcedFailover {
    /// The shard.
    pub shard: usize,
    /// The node that was primary.
    pub old_primary: SocketAddr,
    /// The node now taking writes.
    pub new_primary: SocketAddr,
    /// The replication offset the new primary had reached when promoted.
    pub promoted_at_offset: u64,
    /// The old primary's offset: read now if it answered, else the last known one.
    pub primary_offset: Option<u64>,
    /// Replication stream bytes the new primary never received, when known:
    /// only when the old primary still answered on the same history (a last
    /// sample would understate what it took after it).
    pub bytes_maybe_lost: Option<u64>,
    /// Whether the old primary now replicates the new one; if not, call
    /// [`rejoin`] once it is back.
    pub old_primary_rejoined: bool,
}

/// What a forced failover did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForcedFailoverReport {
    /// Each shard.
    pub shards: Vec<ShardForcedFailover>,
}

impl ForcedFailoverReport {
    /// Bytes of replication stream that may be lost, summed over the shards
    /// where it is known.
    pub fn bytes_maybe_lost(&self) -> u64 {
        self.shards.iter().filter_map(|s| s.bytes_maybe_lost).sum()
    }

    /// Whether the loss is known for every shard.
    pub fn loss_is_known(&self) -> bool {
        self.shards.iter().all(|s| s.bytes_maybe_lost.is_some())
    }

    /// The shards whose old primary must still [`rejoin`].
    pub fn pending_rejoin(&self) -> Vec<usize> {
        self.shards
            .iter()
            .filter(|s| !s.old_primary_rejoined)
            .map(|s| s.shard)
            .collect()
    }
}

/// Promotes the secondary now, for when the primary is gone.
///
/// Each new-primary shard gets `REPLICAOF NO ONE` at once. What may be lost
/// is the old primary's replication offset minus the offset the new primary
/// had reached: the old primary's offset is read if it still answers (its
/// writes are then paused first), else taken from
/// `last_known_primary_offsets` (shard by shard, e.g. from the sampler's
/// last sample; shorter or `None` means unknown).
///
/// An old primary that answers is made a replica of the new one straight
/// away; one that does not is reported, for [`rejoin`] once it is back.
///
/// Shards are promoted concurrently. If one fails (its new primary does not
/// answer), the error is returned and the others may already be promoted:
/// calling again is safe, since a shard that is already a primary stays one.
pub async fn forced_failover(
    old_primary: &[SocketAddr],
    new_primary: &[SocketAddr],
    credentials: &Credentials,
    last_known_primary_offsets: &[Option<u64>],
) -> Result<ForcedFailoverReport, ReplicationError> {
    check_pairs(old_primary, new_primary)?;
    let results = join_all(old_primary.iter().zip(new_primary).enumerate().map(
        |(shard, (&old, &new))| {
            let last_known = last_known_primary_offsets.get(shard).copied().flatten();
            force_shard(shard, old, new, credentials, last_known)
        },
    ))
    .await;
    let shards = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    let report = ForcedFailoverReport { shards };
    info!(
        bytes_maybe_lost = report.bytes_maybe_lost(),
        loss_is_known = report.loss_is_known(),
        pending_rejoin = ?report.pending_rejoin(),
        "forced failover complete"
    );
    Ok(report)
}

async fn force_shard(
    shard: usize,
    old: SocketAddr,
    new: SocketAddr,
    credentials: &Credentials,
    last_known: Option<u64>,
) -> Result<ShardForcedFailover, ReplicationError> {
    let mut new_conn = credentials.connect(new).await?;
    let new_before = info_on(&mut new_conn, new, &["replication"]).await?;

    // If the old primary still answers as a primary, stop its writes first:
    // anything it accepted from now on would be lost when it steps down.
    let mut old_conn = probe(old, credentials).await;
    let mut fresh_offset = None;
    if let Some(conn) = old_conn.as_mut() {
        match info_on(conn, old, &["replication"]).await {
            Ok(info) if info.role() == Some(Role::Primary) => {
                let paused = redis::cmd("CLIENT")
                    .arg("PAUSE")
                    .arg(FORCED_PAUSE_MS)
                    .arg("WRITE")
                    .query_async::<()>(conn)
                    .await;
                if let Err(e) = paused {
                    warn!(shard, %old, error = %e, "could not pause the old primary's writes");
                }
                // Re-read after the pause so no write slips past the offset.
                let info = info_on(conn, old, &["replication"]).await.unwrap_or(info);
                fresh_offset = same_history_offset(&info, &new_before);
            }
            Ok(_) => {}
            Err(e) => {
                debug!(shard, %old, error = %e, "old primary answers but not INFO");
                old_conn = None;
            }
        }
    }

    // Promote. A node that already is a primary (a retried failover) stays one.
    if new_before.role() != Some(Role::Primary) {
        replica_of_on(&mut new_conn, new, None, credentials).await?;
    }
    let promoted = info_on(&mut new_conn, new, &["replication"]).await?;
    // After a promotion, `second_repl_offset` is one past the last byte shared
    // with the old primary.
    let promoted_at_offset = promoted
        .second_repl_offset()
        .map(|o| o.saturating_sub(1))
        .or_else(|| promoted.master_repl_offset())
        .unwrap_or_default();
    let primary_offset = match (fresh_offset, last_known) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    // Only an offset read from the old primary itself, on the history the
    // secondary followed, bounds the loss. A last sample is older than the
    // last writes, so it would understate it: then the loss is unknown.
    let bytes_maybe_lost = fresh_offset.map(|p| p.saturating_sub(promoted_at_offset));
    info!(shard, %old, %new, promoted_at_offset, ?bytes_maybe_lost, "secondary promoted");

    // Demote the old primary if it is there; it resyncs from the new one.
    let mut old_primary_rejoined = false;
    if let Some(conn) = old_conn.as_mut() {
        match replica_of_on(conn, old, Some(new), credentials).await {
            Ok(()) => {
                old_primary_rejoined = true;
                info!(shard, %old, %new, "old primary now replicates the new primary");
            }
            Err(e) => warn!(shard, %old, error = %e, "could not demote the old primary"),
        }
        // Held writes now meet a replica and are answered READONLY.
        let _ = redis::cmd("CLIENT")
            .arg("UNPAUSE")
            .query_async::<()>(conn)
            .await;
    }
    Ok(ShardForcedFailover {
        shard,
        old_primary: old,
        new_primary: new,
        promoted_at_offset,
        primary_offset,
        bytes_maybe_lost,
        old_primary_rejoined,
    })
}

/// The old primary's offset, if it still carries the history the secondary
/// was replicating (a restarted, emptied node starts a new one).
fn same_history_offset(old_primary: &Info, secondary: &Info) -> Option<u64> {
    let history = old_primary.get("master_replid")?;
    (secondary.get("master_replid") == Some(history))
        .then(|| old_primary.master_repl_offset())
        .flatten()
}

/// After a forced failover, makes each old primary shard that answers a
/// replica of the new primary shard. Returns, per shard, whether the old
/// primary now replicates the new one.
///
/// An old primary that kept writes the new primary never got loses them in
/// the full sync this starts; a restarted, empty one simply syncs.
pub async fn rejoin(
    old_primary: &[SocketAddr],
    new_primary: &[SocketAddr],
    credentials: &Credentials,
) -> Result<Vec<bool>, ReplicationError> {
    check_pairs(old_primary, new_primary)?;
    let results = join_all(old_primary.iter().zip(new_primary).enumerate().map(
        |(shard, (&old, &new))| async move {
            // Never point a node at a replica: that could close a loop.
            let new_info = credentials.info(new, &["replication"]).await?;
            if new_info.role() != Some(Role::Primary) {
                return Err(ReplicationError::NotPrimary(new));
            }
            let Some(mut conn) = probe(old, credentials).await else {
                return Ok(false);
            };
            let Ok(old_info) = info_on(&mut conn, old, &["replication"]).await else {
                return Ok(false);
            };
            if !old_info.is_replica_of(new) {
                replica_of(old, Some(new), credentials).await?;
                info!(shard, %old, %new, "old primary rejoined as replica");
            }
            Ok(true)
        },
    ))
    .await;
    results.into_iter().collect()
}

/// A control connection if the node answers quickly, else `None`.
async fn probe(addr: SocketAddr, credentials: &Credentials) -> Option<MultiplexedConnection> {
    let attempt = credentials.connect_with_timeouts(addr, PROBE_CONNECT, PROBE_RESPONSE);
    match timeout(PROBE_CONNECT + PROBE_RESPONSE, attempt).await {
        Ok(Ok(conn)) => Some(conn),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_count_only_on_the_same_history() {
        let old = Info::parse("role:master\nmaster_replid:abc\nmaster_repl_offset:500\n");
        let follower = Info::parse("role:slave\nmaster_replid:abc\nmaster_repl_offset:480\n");
        let stranger = Info::parse("role:slave\nmaster_replid:xyz\nmaster_repl_offset:480\n");
        assert_eq!(same_history_offset(&old, &follower), Some(500));
        assert_eq!(same_history_offset(&old, &stranger), None);
    }

    #[test]
    fn report_sums_known_losses() {
        let shard = |shard, lost, rejoined| ShardForcedFailover {
            shard,
            old_primary: SocketAddr::from(([127, 0, 0, 1], 1)),
            new_primary: SocketAddr::from(([127, 0, 0, 1], 2)),
            promoted_at_offset: 0,
            primary_offset: lost,
            bytes_maybe_lost: lost,
            old_primary_rejoined: rejoined,
        };
        let report = ForcedFailoverReport {
            shards: vec![
                shard(0, Some(10), true),
                shard(1, None, false),
                shard(2, Some(4), false),
            ],
        };
        assert_eq!(report.bytes_maybe_lost(), 14);
        assert!(!report.loss_is_known());
        assert_eq!(report.pending_rejoin(), vec![1, 2]);
    }
}
