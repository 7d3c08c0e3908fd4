//! Redis-level replication steps for a geo-replicated pair of caches.
//!
//! A cache is seen here as the addresses of its shard primaries, in shard
//! order; shard `i` of the geo-secondary replicates shard `i` of the
//! geo-primary. Each cache's own replicas hang off its shard primaries and
//! follow along (Redis chains replication), so they need no step here.
//!
//! The steps, and what Azure's passive geo-replication guide says each must look like:
//! - [`link`]: `REPLICAOF` on the secondary's shards. Their old data is
//!   replaced by the full sync, and until it finishes they answer
//!   `MASTERDOWN` (nodes run with `replica-serve-stale-data no`); afterwards
//!   they serve reads and answer writes with `READONLY`.
//! - [`SyncWatch`] / [`sync_state`]: whether the full sync is done, and how
//!   far it has come in bytes.
//! - [`unlink`]: `REPLICAOF NO ONE`; the secondary keeps its data and takes writes.
//! - [`planned_failover`]: no write is lost (`FAILOVER TO … TIMEOUT …`).
//! - [`forced_failover`]: promote now, report what may be lost, and
//!   [`rejoin`] the old primary once it is back.
//!
//! Every step connects as the internal user, with the password of each node
//! it reaches ([`Credentials`]).
//!
//! The geo-primary addresses move with a failover, once it has swapped the
//! roles; the fleet does that (`fleet/listeners.rs`).

mod promotion;
mod sync;

use std::net::SocketAddr;

use futures::future::try_join_all;
use redis::aio::{ConnectionLike, MultiplexedConnection};
use thiserror::Error;
use tracing::info;

use crate::dataplane::credentials::Credentials;
use crate::dataplane::node::{command_error, NodeError, Role};

pub use promotion::{
    forced_failover, planned_failover, rejoin, ForcedFailoverReport, PlannedFailoverReport,
    ShardForcedFailover, ShardPlannedFailover,
};
pub use sync::{sync_state, ShardSync, SyncPhase, SyncState, SyncWatch};

/// What can go wrong with a replication step.
#[derive(Debug, Error)]
pub enum ReplicationError {
    /// A step needs at least one shard.
    #[error("no shards were given")]
    NoShards,
    /// Shard `i` replicates shard `i`, so the counts must match.
    #[error("the primary has {primary} shard(s) but the secondary has {secondary}")]
    ShardMismatch {
        /// The primary's shard count.
        primary: usize,
        /// The secondary's shard count.
        secondary: usize,
    },
    /// A node was named on both sides.
    #[error("the node at {0} cannot replicate itself")]
    SameNode(SocketAddr),
    /// A node could not be reached or refused a command.
    #[error(transparent)]
    Node(#[from] NodeError),
    /// Replicating from a replica would chain caches or close a loop.
    #[error("the node at {0} is not a primary")]
    NotPrimary(SocketAddr),
    /// A failover needs a secondary that is streaming from the primary.
    #[error("the node at {node} is not an up-to-date replica of {primary}")]
    NotReplicaOf {
        /// The would-be new primary.
        node: SocketAddr,
        /// The primary it should follow.
        primary: SocketAddr,
    },
    /// One shard's failover did not happen; that shard is as it was.
    #[error("failover of shard {shard} from {from} to {to} did not happen: {reason}")]
    FailoverFailed {
        /// The shard.
        shard: usize,
        /// Its primary.
        from: SocketAddr,
        /// The replica that was to take over.
        to: SocketAddr,
        /// Why.
        reason: String,
    },
    /// Some shards failed over and others did not; the ones that did were
    /// failed back where possible.
    #[error("failover failed on shard(s) {failed:?} ({first_error}); shard(s) {rolled_back:?} were failed back, shard(s) {stuck:?} could not be")]
    PartialFailover {
        /// The shards that did not fail over.
        failed: Vec<usize>,
        /// The first of their errors.
        first_error: Box<ReplicationError>,
        /// The shards that failed over and were then failed back.
        rolled_back: Vec<usize>,
        /// The shards that failed over and could not be failed back: they
        /// are now primaries on the new side.
        stuck: Vec<usize>,
    },
}

/// Makes each secondary shard a replica of the matching primary shard.
///
/// The secondary's data is replaced by a full sync (or, when its history
/// allows it, a partial resync that ends in the same data). Until the sync
/// is done the secondary answers `MASTERDOWN`; watch it with [`SyncWatch`].
pub async fn link(
    primary: &[SocketAddr],
    secondary: &[SocketAddr],
    credentials: &Credentials,
) -> Result<(), ReplicationError> {
    check_pairs(primary, secondary)?;
    // Refuse before changing anything: replicating from a replica would chain
    // the two caches behind a third node, or close a loop.
    try_join_all(primary.iter().map(|&p| async move {
        let info = credentials.info(p, &["replication"]).await?;
        match info.role() {
            Some(Role::Primary) => Ok(()),
            _ => Err(ReplicationError::NotPrimary(p)),
        }
    }))
    .await?;
    try_join_all(
        primary
            .iter()
            .zip(secondary)
            .enumerate()
            .map(|(shard, (&p, &s))| async move {
                replica_of(s, Some(p), credentials).await?;
                info!(shard, primary = %p, secondary = %s, "secondary shard now replicates the primary");
                Ok::<_, ReplicationError>(())
            }),
    )
    .await?;
    Ok(())
}

/// Stops each secondary shard replicating (`REPLICAOF NO ONE`). It keeps the
/// data it has and takes writes at once.
pub async fn unlink(
    secondary: &[SocketAddr],
    credentials: &Credentials,
) -> Result<(), ReplicationError> {
    if secondary.is_empty() {
        return Err(ReplicationError::NoShards);
    }
    try_join_all(secondary.iter().enumerate().map(|(shard, &s)| async move {
        replica_of(s, None, credentials).await?;
        info!(shard, node = %s, "shard no longer replicates; it takes writes");
        Ok::<_, ReplicationError>(())
    }))
    .await?;
    Ok(())
}

/// Asks the replica at `node_addr` to acknowledge its replication offset to
/// its primary now (`REPLCONF GETACK *`), as it otherwise does once a second.
///
/// Why: after a streamed (diskless) full sync, the primary lists the replica
/// as `online` at once but holds the stream of new writes back until an
/// acknowledgement from the replica reaches it *after* it has reaped the
/// child that streamed the snapshot. The replica sends one as soon as it has
/// loaded the snapshot; on a loaded machine the primary reaps its child
/// later than that, the early acknowledgement is spent, and the stream waits
/// for the replica's next periodic one: writes made in between, though
/// accepted and kept, reach the secondary up to a second late. Asked for
/// once the primary has been seen listing the replica online, the
/// acknowledgement starts the stream at once. It is harmless otherwise.
///
/// `REPLCONF GETACK` has no reply, so it is sent together with a `PING` and
/// only the `PING`'s reply is read.
pub(crate) async fn request_ack(
    node_addr: SocketAddr,
    credentials: &Credentials,
) -> Result<(), NodeError> {
    let mut conn = credentials.connect(node_addr).await?;
    request_ack_on(&mut conn, node_addr).await
}

/// [`request_ack`] over an existing connection to `node_addr`.
pub(crate) async fn request_ack_on(
    conn: &mut MultiplexedConnection,
    node_addr: SocketAddr,
) -> Result<(), NodeError> {
    let mut commands = redis::pipe();
    commands.cmd("REPLCONF").arg("GETACK").arg("*").cmd("PING");
    // Skip no reply and read one: the PING's, which comes after GETACK ran.
    conn.req_packed_commands(&commands, 0, 1)
        .await
        .map_err(command_error(node_addr, "REPLCONF GETACK"))?;
    Ok(())
}

/// `REPLICAOF addr port`, or `REPLICAOF NO ONE` for `None`, authenticating
/// to the new primary with its own cache's password.
///
/// The primary is always named by IP: Redis compares replica addresses as
/// strings (`FAILOVER TO` needs `127.0.0.1`, never `localhost`).
pub(crate) async fn replica_of(
    node_addr: SocketAddr,
    primary: Option<SocketAddr>,
    credentials: &Credentials,
) -> Result<(), NodeError> {
    let mut conn = credentials.connect(node_addr).await?;
    replica_of_on(&mut conn, node_addr, primary, credentials).await
}

/// [`replica_of`] over an open connection.
pub(crate) async fn replica_of_on(
    conn: &mut MultiplexedConnection,
    node_addr: SocketAddr,
    primary: Option<SocketAddr>,
    credentials: &Credentials,
) -> Result<(), NodeError> {
    if let Some(primary) = primary {
        credentials.replicate_from(conn, node_addr, primary).await?;
    }
    let mut cmd = redis::cmd("REPLICAOF");
    match primary.map(|p| credentials.replication_addr(p)) {
        Some(p) => cmd.arg(p.ip().to_string()).arg(p.port()),
        None => cmd.arg("NO").arg("ONE"),
    };
    cmd.query_async::<()>(conn)
        .await
        .map_err(command_error(node_addr, "REPLICAOF"))
}

/// Shard `i` pairs with shard `i`: same count, at least one, no node twice.
fn check_pairs(primary: &[SocketAddr], secondary: &[SocketAddr]) -> Result<(), ReplicationError> {
    if primary.is_empty() {
        return Err(ReplicationError::NoShards);
    }
    if primary.len() != secondary.len() {
        return Err(ReplicationError::ShardMismatch {
            primary: primary.len(),
            secondary: secondary.len(),
        });
    }
    if let Some(&same) = primary.iter().find(|p| secondary.contains(p)) {
        return Err(ReplicationError::SameNode(same));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_must_match() {
        let addr = |n: u8| SocketAddr::from(([127, 0, 0, n], 6379));
        assert!(matches!(
            check_pairs(&[], &[]),
            Err(ReplicationError::NoShards)
        ));
        assert!(matches!(
            check_pairs(&[addr(1), addr(2)], &[addr(3)]),
            Err(ReplicationError::ShardMismatch {
                primary: 2,
                secondary: 1
            })
        ));
        assert!(matches!(
            check_pairs(&[addr(1)], &[addr(1)]),
            Err(ReplicationError::SameNode(_))
        ));
        assert!(check_pairs(&[addr(1), addr(2)], &[addr(3), addr(4)]).is_ok());
    }
}
