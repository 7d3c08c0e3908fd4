//! The fleet's side of geo-replication: the replication steps of a link,
//! run on each side's shard primaries, and the nodes the sampler watches.

use std::net::SocketAddr;

use super::{Fleet, Result};
use crate::dataplane::addresses::socket;
use crate::dataplane::node;
use crate::dataplane::replication::{self, ForcedFailoverReport, PlannedFailoverReport, SyncState};
use crate::dataplane::sampler::{LinkNodes, Sampler, SamplerConfig};
use crate::store::records::NodeSlot;

/// How long a planned failover waits for the secondary to catch up before
/// giving up (and changing nothing).
const FAILOVER_CATCH_UP: std::time::Duration = std::time::Duration::from_secs(30);

/// A cache's shard primaries, in shard order, as replication addresses them.
pub fn shard_primaries(nodes: &[NodeSlot]) -> Vec<SocketAddr> {
    let mut primaries: Vec<&NodeSlot> = nodes.iter().filter(|n| n.is_primary()).collect();
    primaries.sort_by_key(|n| n.shard);
    primaries.into_iter().map(|n| socket(n.addr)).collect()
}

/// The node that serves a cache's address and, while the cache is the
/// geo-primary, the link's geo-primary URLs: its first shard's primary (the
/// local nodes don't run Redis Cluster).
pub fn geo_target(nodes: &[NodeSlot]) -> Option<SocketAddr> {
    shard_primaries(nodes).first().copied()
}

/// A link's nodes as the sampler watches them: each side's shard primaries.
pub fn link_nodes(primary: &[NodeSlot], secondary: &[NodeSlot]) -> LinkNodes {
    LinkNodes {
        primary: shard_primaries(primary),
        secondary: shard_primaries(secondary),
    }
}

impl Fleet {
    /// Makes each shard primary of the secondary a replica of the primary's
    /// (see [`replication::link`]); the secondary's data is replaced.
    pub async fn replicate(&self, primary: &[NodeSlot], secondary: &[NodeSlot]) -> Result<()> {
        replication::link(
            &shard_primaries(primary),
            &shard_primaries(secondary),
            &self.credentials,
        )
        .await?;
        Ok(())
    }

    /// Where the full sync of the secondary from the primary stands.
    pub async fn sync_state(
        &self,
        primary: &[NodeSlot],
        secondary: &[NodeSlot],
    ) -> Result<SyncState> {
        Ok(replication::sync_state(
            &shard_primaries(primary),
            &shard_primaries(secondary),
            &self.credentials,
        )
        .await?)
    }

    /// Cuts the geo-secondary off its geo-primary: its shard primaries follow
    /// an address nobody listens on, so they keep their data and their
    /// replication history (a later `replicate` resyncs partially when the
    /// primary's backlog still holds the gap).
    pub async fn cut(&self, secondary: &[NodeSlot]) -> Result<()> {
        for slot in secondary.iter().filter(|n| n.is_primary()) {
            self.replicaof(slot.addr, Some(self.block.nowhere()))
                .await?;
        }
        Ok(())
    }

    /// Makes the secondary's shard primaries stand alone again; they keep their data.
    pub async fn stop_replicating(&self, secondary: &[NodeSlot]) -> Result<()> {
        replication::unlink(&shard_primaries(secondary), &self.credentials).await?;
        Ok(())
    }

    /// Swaps the roles with no loss, shard by shard (see
    /// [`replication::planned_failover`]); the old primary becomes a replica
    /// of the new one by partial resync. On error nothing moved.
    pub async fn planned_failover(
        &self,
        old: &[NodeSlot],
        new: &[NodeSlot],
    ) -> Result<PlannedFailoverReport> {
        Ok(replication::planned_failover(
            &shard_primaries(old),
            &shard_primaries(new),
            &self.credentials,
            FAILOVER_CATCH_UP,
        )
        .await?)
    }

    /// Promotes the secondary at once (see [`replication::forced_failover`]).
    /// `last_known_primary_offsets` (per shard, e.g. the sampler's) count
    /// what may be lost when the old primary no longer answers.
    pub async fn forced_failover(
        &self,
        old: &[NodeSlot],
        new: &[NodeSlot],
        last_known_primary_offsets: &[Option<u64>],
    ) -> Result<ForcedFailoverReport> {
        Ok(replication::forced_failover(
            &shard_primaries(old),
            &shard_primaries(new),
            &self.credentials,
            last_known_primary_offsets,
        )
        .await?)
    }

    /// Makes the old primary's shards that answer replicas of the new
    /// primary's; true once every shard does.
    pub async fn rejoin(&self, old: &[NodeSlot], new: &[NodeSlot]) -> Result<bool> {
        let rejoined = replication::rejoin(
            &shard_primaries(old),
            &shard_primaries(new),
            &self.credentials,
        )
        .await?;
        Ok(rejoined.iter().all(|r| *r))
    }

    /// Waits until no node of `nodes` is in the middle of a Redis `FAILOVER`
    /// (one the last run started before it died may still be running);
    /// Redis then has decided, and its roles can be read back.
    pub async fn failover_settled(&self, nodes: &[NodeSlot]) -> Result<()> {
        let deadline = tokio::time::Instant::now() + FAILOVER_CATCH_UP * 2;
        for slot in nodes {
            loop {
                let info = self
                    .credentials
                    .info(socket(slot.addr), &["replication"])
                    .await;
                match info.as_ref().ok().and_then(|i| i.failover_state()) {
                    Some(state)
                        if state != "no-failover" && tokio::time::Instant::now() < deadline =>
                    {
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    }
                    _ => break,
                }
            }
        }
        Ok(())
    }

    /// Compares the geo-secondary's data with the geo-primary's (see
    /// [`crate::dataplane::verify`]).
    pub async fn verify(
        &self,
        primary: &[NodeSlot],
        secondary: &[NodeSlot],
    ) -> Result<crate::dataplane::verify::Verification> {
        Ok(crate::dataplane::verify::verify(
            &shard_primaries(primary),
            &shard_primaries(secondary),
            &self.credentials,
        )
        .await?)
    }

    /// Whether the first shard primary of `nodes` is a Redis primary now.
    pub async fn is_primary(&self, nodes: &[NodeSlot]) -> Result<bool> {
        let Some(first) = shard_primaries(nodes).first().copied() else {
            return Ok(false);
        };
        let info = self.credentials.info(first, &["replication"]).await?;
        Ok(info.role() == Some(node::Role::Primary))
    }

    /// A metrics sampler that reads the nodes as the internal user.
    pub fn sampler(&self, config: SamplerConfig) -> Sampler {
        Sampler::new(&self.credentials, config)
    }
}
