//! How far a link's full sync has come: each secondary shard's phase, read
//! from its `INFO` (and its primary's), and the bytes read of the snapshot,
//! estimated from key progress when the snapshot is streamed.

use std::net::SocketAddr;

use futures::future::join_all;
use georep_core::arm::SyncProgress;

use super::{check_pairs, request_ack, ReplicationError};
use crate::dataplane::credentials::Credentials;
use crate::dataplane::node::{self, Info};

/// Where one secondary shard's sync stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncPhase {
    /// The secondary shard did not answer.
    Unreachable,
    /// It does not replicate the expected primary shard.
    NotLinked,
    /// It is connecting, handshaking, or waiting for the snapshot to start.
    Connecting,
    /// It is receiving the snapshot.
    Transferring,
    /// It is streaming normally.
    Done,
}

/// One shard of a [`SyncState`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardSync {
    /// The primary shard.
    pub primary: SocketAddr,
    /// The secondary shard.
    pub secondary: SocketAddr,
    /// Where its sync stands.
    pub phase: SyncPhase,
    /// Snapshot bytes read so far.
    pub bytes_read: u64,
    /// The snapshot's size: exact when Redis knows it, estimated from the
    /// primary's snapshot progress for a streamed snapshot, 0 when unknown.
    pub bytes_total: u64,
}

/// How far linking has come, for all shards together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncState {
    /// Every shard is streaming normally: the link is established.
    pub done: bool,
    /// Bytes read of total, summed over shards.
    pub progress: SyncProgress,
    /// Each shard.
    pub shards: Vec<ShardSync>,
}

/// Follows the full sync of a link, poll by poll.
///
/// It remembers each shard's snapshot size, so a shard that has finished
/// keeps counting as complete while others still transfer.
#[derive(Debug)]
pub struct SyncWatch {
    primary: Vec<SocketAddr>,
    secondary: Vec<SocketAddr>,
    credentials: Credentials,
    /// The last (read, total) seen per shard during its transfer.
    seen: Vec<(u64, u64)>,
}

impl SyncWatch {
    /// Watches `secondary` syncing from `primary`, shard by shard.
    pub fn new(
        primary: &[SocketAddr],
        secondary: &[SocketAddr],
        credentials: &Credentials,
    ) -> Result<SyncWatch, ReplicationError> {
        check_pairs(primary, secondary)?;
        Ok(SyncWatch {
            primary: primary.to_vec(),
            secondary: secondary.to_vec(),
            credentials: credentials.clone(),
            seen: vec![(0, 0); primary.len()],
        })
    }

    /// Looks at every shard once.
    ///
    /// A secondary that does not answer is reported as
    /// [`SyncPhase::Unreachable`], not as an error: a replica loading a big
    /// snapshot is briefly deaf. The caller decides how long is too long.
    ///
    /// A shard found [`SyncPhase::Done`] is also asked to acknowledge its
    /// offset to its primary ([`request_ack`]), so that the primary streams
    /// writes to it from now on rather than up to a second later.
    pub async fn poll(&mut self) -> SyncState {
        let credentials = &self.credentials;
        let observations = join_all(self.primary.iter().zip(&self.secondary).map(
            |(&p, &s)| async move {
                let (secondary, primary) = futures::join!(
                    quick_info(s, credentials, &["replication", "persistence"]),
                    credentials.info(p, &["replication", "persistence", "memory"]),
                );
                (p, s, secondary, primary.ok())
            },
        ))
        .await;

        let mut shards = Vec::with_capacity(observations.len());
        for (i, (p, s, secondary, primary)) in observations.into_iter().enumerate() {
            let mut shard = observe_shard(p, s, secondary.as_ref(), primary.as_ref());
            let seen = &mut self.seen[i];
            match shard.phase {
                SyncPhase::Transferring => {
                    // Progress only goes forward within a sync: a secondary
                    // too busy to answer is read from the primary's side,
                    // whose estimate can fall short of what was seen.
                    shard.bytes_read = shard.bytes_read.max(seen.0);
                    if shard.bytes_total != 0 {
                        shard.bytes_total = shard.bytes_total.max(shard.bytes_read);
                    }
                    *seen = (shard.bytes_read, shard.bytes_total);
                }
                SyncPhase::Done => {
                    // The last look mid-transfer is the best size we have.
                    let size = seen.0.max(seen.1);
                    shard.bytes_read = size;
                    shard.bytes_total = size;
                }
                _ => {}
            }
            shards.push(shard);
        }

        // Asked only now that the primary has been seen listing them online
        // (see `request_ack`).
        let done = shards.iter().filter(|s| s.phase == SyncPhase::Done);
        join_all(done.map(|shard| async move {
            if let Err(error) = request_ack(shard.secondary, credentials).await {
                // Not fatal: the replica acknowledges by itself within a second.
                tracing::debug!(secondary = %shard.secondary, %error, "could not ask the secondary to acknowledge");
            }
        }))
        .await;
        summarize(shards)
    }
}

/// One look at a link's sync, without history (see [`SyncWatch`]).
pub async fn sync_state(
    primary: &[SocketAddr],
    secondary: &[SocketAddr],
    credentials: &Credentials,
) -> Result<SyncState, ReplicationError> {
    Ok(SyncWatch::new(primary, secondary, credentials)?
        .poll()
        .await)
}

/// Where one shard's sync stands, from both sides' `INFO replication
/// persistence`.
///
/// A shard is done when the secondary's link is up *and* the primary lists
/// it as online: right after a streamed snapshot the primary notices the end
/// of the transfer only on its next cron tick, and `FAILOVER` needs an
/// online replica.
fn observe_shard(
    primary: SocketAddr,
    secondary: SocketAddr,
    secondary_info: Option<&Info>,
    primary_info: Option<&Info>,
) -> ShardSync {
    let mut shard = ShardSync {
        primary,
        secondary,
        phase: SyncPhase::Unreachable,
        bytes_read: 0,
        bytes_total: 0,
    };
    let Some(info) = secondary_info else {
        // A secondary loading from the socket answers only between chunks;
        // the primary still says it is feeding it.
        let feeding = primary_info
            .and_then(|p| p.replica(secondary))
            .is_some_and(|r| !r.is_online());
        if feeding {
            shard.phase = SyncPhase::Transferring;
            if let Some((read, total)) = primary_info.and_then(primary_side_progress) {
                shard.bytes_read = read;
                shard.bytes_total = total;
            }
        }
        return shard;
    };
    shard.phase = if !info.is_replica_of(primary) {
        SyncPhase::NotLinked
    } else if info.master_sync_in_progress() {
        SyncPhase::Transferring
    } else if info.master_link_up()
        && primary_info
            .and_then(|p| p.replica(secondary))
            .is_some_and(|r| r.is_online())
    {
        SyncPhase::Done
    } else {
        SyncPhase::Connecting
    };
    if shard.phase == SyncPhase::Transferring {
        // A socket-to-socket load (`repl-diskless-load`) counts what it has
        // loaded, not what it has read into a file.
        shard.bytes_read = info
            .master_sync_read_bytes()
            .max(info.get_u64("loading_loaded_bytes").unwrap_or(0));
        shard.bytes_total = match info.master_sync_total_bytes() {
            Some(total) => total,
            None => primary_info
                .and_then(Info::snapshot_keys)
                .map_or(0, |(done, total)| {
                    estimate_total(shard.bytes_read, done, total)
                }),
        };
        if shard.bytes_read == 0 {
            // The secondary loads from the socket and counts nothing until it
            // has loaded a few megabytes (it is deaf in between): count from
            // the primary's side, its dataset times the share of keys sent.
            if let Some((read, total)) = primary_info.and_then(primary_side_progress) {
                shard.bytes_read = read;
                shard.bytes_total = total;
            }
        }
    }
    shard
}

/// `INFO` from a node that may be busy loading: a short wait, then `None`.
async fn quick_info(
    addr: SocketAddr,
    credentials: &Credentials,
    sections: &[&str],
) -> Option<Info> {
    let mut conn = credentials
        .connect_with_timeouts(addr, QUICK_TIMEOUT, QUICK_TIMEOUT)
        .await
        .ok()?;
    node::info_on(&mut conn, addr, sections).await.ok()
}

/// How long a sync's look at a secondary waits for it.
const QUICK_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(500);

/// How far the primary's snapshot has come, in bytes of its dataset.
fn primary_side_progress(primary: &Info) -> Option<(u64, u64)> {
    let (done, keys) = primary.snapshot_keys()?;
    let total = primary.get_u64("used_memory_dataset")?;
    if keys == 0 || total == 0 {
        return None;
    }
    let read = u128::from(total) * u128::from(done.min(keys)) / u128::from(keys);
    Some((u64::try_from(read).unwrap_or(total), total))
}

/// The size of a streamed snapshot, from the bytes read so far and the share
/// of keys the primary has written: `read × total_keys ÷ keys_done`.
///
/// Redis reports the key count about once a second, in steps of 1024 keys;
/// the first report (1 key) says nothing about the size, so the size stays 0
/// (unknown) until a later one. Never less than `read`.
fn estimate_total(read: u64, keys_done: u64, keys_total: u64) -> u64 {
    if keys_done < MIN_KEYS_FOR_ESTIMATE || keys_total == 0 || read == 0 {
        return 0;
    }
    let keys_done = keys_done.min(keys_total);
    let estimate = u128::from(read) * u128::from(keys_total) / u128::from(keys_done);
    u64::try_from(estimate).unwrap_or(u64::MAX).max(read)
}

/// Fewer keys written than this make too rough a sample to extrapolate from.
const MIN_KEYS_FOR_ESTIMATE: u64 = 1000;

/// Adds the shards up.
fn summarize(shards: Vec<ShardSync>) -> SyncState {
    let done = !shards.is_empty() && shards.iter().all(|s| s.phase == SyncPhase::Done);
    let progress = SyncProgress {
        bytes_read: shards.iter().map(|s| s.bytes_read).sum(),
        bytes_total: shards.iter().map(|s| s.bytes_total).sum(),
    };
    SyncState {
        done,
        progress,
        shards,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The node at 127.0.0.`n`: nodes are told apart by address.
    fn addr(n: u8) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, n], 6379))
    }

    fn replica(fields: &str) -> Info {
        Info::parse(&format!(
            "role:slave\nmaster_host:127.0.0.70\nmaster_port:6380\n{fields}"
        ))
    }

    #[test]
    fn phases_follow_the_secondarys_info() {
        let online = Info::parse(
            "role:master\nslave0:ip=127.0.0.71,port=6380,state=online,offset=1,lag=0\n",
        );
        let phase =
            |info: Option<&Info>| observe_shard(addr(70), addr(71), info, Some(&online)).phase;
        assert_eq!(phase(None), SyncPhase::Unreachable);
        assert_eq!(
            phase(Some(&Info::parse("role:master\n"))),
            SyncPhase::NotLinked
        );
        assert_eq!(
            phase(Some(&Info::parse(
                "role:slave\nmaster_host:127.0.0.79\nmaster_port:6380\nmaster_link_status:up\n"
            ))),
            SyncPhase::NotLinked
        );
        assert_eq!(
            phase(Some(&replica(
                "master_link_status:down\nmaster_sync_in_progress:0\n"
            ))),
            SyncPhase::Connecting
        );
        assert_eq!(
            phase(Some(&replica(
                "master_link_status:down\nmaster_sync_in_progress:1\n"
            ))),
            SyncPhase::Transferring
        );
        let up = replica("master_link_status:up\nmaster_sync_in_progress:0\n");
        assert_eq!(phase(Some(&up)), SyncPhase::Done);
        // Not done until the primary, too, sees the replica online.
        let sending = Info::parse(
            "role:master\nslave0:ip=127.0.0.71,port=6380,state=wait_bgsave,offset=0,lag=0\n",
        );
        for primary in [None, Some(&sending)] {
            assert_eq!(
                observe_shard(addr(70), addr(71), Some(&up), primary).phase,
                SyncPhase::Connecting
            );
        }
    }

    #[test]
    fn a_known_snapshot_size_is_used_as_is() {
        let info = replica(
            "master_link_status:down\nmaster_sync_in_progress:1\n\
             master_sync_total_bytes:1000\nmaster_sync_read_bytes:250\n",
        );
        let shard = observe_shard(addr(70), addr(71), Some(&info), None);
        assert_eq!((shard.bytes_read, shard.bytes_total), (250, 1000));
    }

    #[test]
    fn a_streamed_snapshot_size_is_estimated_from_key_progress() {
        let info = replica(
            "master_sync_in_progress:1\nmaster_sync_total_bytes:0\nmaster_sync_read_bytes:300\n",
        );
        let primary = Info::parse(
            "rdb_bgsave_in_progress:1\ncurrent_save_keys_processed:2500\ncurrent_save_keys_total:10000\n",
        );
        let shard = observe_shard(addr(70), addr(71), Some(&info), Some(&primary));
        assert_eq!((shard.bytes_read, shard.bytes_total), (300, 1200));
        // Without the primary's progress the size is unknown.
        let shard = observe_shard(addr(70), addr(71), Some(&info), None);
        assert_eq!(shard.bytes_total, 0);
    }

    #[test]
    fn estimates_are_never_below_what_was_read() {
        assert_eq!(estimate_total(500, 0, 100_000), 0);
        // The first report, one key in, is too early to extrapolate from.
        assert_eq!(estimate_total(500, 1, 100_000), 0);
        assert_eq!(estimate_total(0, 10_000, 100_000), 0);
        assert_eq!(estimate_total(500, 10_000, 100_000), 5_000);
        assert_eq!(estimate_total(500, 100_000, 100_000), 500);
        assert_eq!(estimate_total(500, 200_000, 100_000), 500);
        assert_eq!(estimate_total(u64::MAX, 2_000, u64::MAX), u64::MAX);
    }

    #[test]
    fn a_link_is_done_when_every_shard_is() {
        let shard = |phase, read, total| ShardSync {
            primary: addr(1),
            secondary: addr(2),
            phase,
            bytes_read: read,
            bytes_total: total,
        };
        let state = summarize(vec![
            shard(SyncPhase::Done, 100, 100),
            shard(SyncPhase::Transferring, 50, 200),
        ]);
        assert!(!state.done);
        assert_eq!(
            state.progress,
            SyncProgress {
                bytes_read: 150,
                bytes_total: 300
            }
        );
        assert!(summarize(vec![shard(SyncPhase::Done, 0, 0)]).done);
        assert!(!summarize(vec![]).done);
    }
}
