//! In-cache high availability: a shard's primary node replaced by its
//! replica, as Azure does behind a cache's one virtual IP.
//!
//! When a shard's primary node is gone, the replica with the most data takes
//! over: it becomes the shard's primary in the store (the nodes swap their
//! numbers, the addresses stay with the nodes), the cache's address (and the
//! geo-primary addresses, if the cache is the geo-primary) move to it, the
//! other replicas follow it, and the dead node starts again as its replica.
//!
//! Geo-replication follows without a full sync where Redis allows: a
//! geo-secondary's new shard primary replicates the geo-primary straight
//! away (it never stands alone, so its replication history carries on), and
//! a geo-primary's new shard primary is what the geo-secondary follows next
//! (its `master_replid2` lets the geo-secondary resync partially).
//!
//! The invariant this keeps: a node that comes back empty is never made a
//! primary that others follow while another node of its shard has data.

use std::net::{Ipv4Addr, SocketAddr};

use super::{Fleet, FleetError, Result};
use crate::dataplane::addresses::socket;
use crate::dataplane::node::{self, Info, Role};
use crate::store::records::{CacheRecord, NodeSlot};

use super::geo::shard_primaries;

/// How long a rebooted primary node's replicas may take to catch up while
/// its writes are paused (see [`Fleet::hand_over`]).
const HANDOVER_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

/// What replacing a shard's primary node did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeReplaced {
    /// The shard.
    pub shard: u32,
    /// The node that was primary and is gone.
    pub old: Ipv4Addr,
    /// The node that is primary now; `None` when no node had data to take
    /// over, and the old one started again empty (a Basic cache, say).
    pub new: Option<Ipv4Addr>,
}

impl Fleet {
    /// Whether the node at `addr` is running: ours and alive, or adoptable.
    pub async fn is_running(&self, addr: Ipv4Addr) -> bool {
        {
            let running = self.running.lock().await;
            if let Some(node) = running.get(&addr) {
                return node.is_alive();
            }
        }
        match self.adopt(addr).await {
            Some(node) => {
                self.running.lock().await.insert(addr, node);
                true
            }
            None => false,
        }
    }

    /// [`Fleet::is_running`], counting a node still starting: a
    /// `redis-server` working in the node's directory that no record names
    /// (a run killed right after starting it, before it answered) is waited
    /// for until it answers, and adopted. For a restart's read-back of an
    /// operation cut short, which must not take a node that is starting for
    /// one that never will.
    pub async fn is_running_or_starting(&self, addr: Ipv4Addr) -> bool {
        if self.is_running(addr).await {
            return true;
        }
        if !redis_server_in(&self.node_dir(addr)) {
            return false;
        }
        match self.adopt_holder(addr).await {
            Some(node) => {
                let _ = self.store.set_node_pid(addr, Some(node.pid()));
                self.running.lock().await.insert(addr, node);
                true
            }
            None => false,
        }
    }

    /// Whether a cache lost everything: none of its nodes runs, and none
    /// left a snapshot to load. Starting it gives an empty cache.
    pub async fn lost_everything(&self, nodes: &[NodeSlot]) -> bool {
        for slot in nodes {
            if self.is_running(slot.addr).await
                || self.node_dir(slot.addr).join(super::DUMP_FILE).is_file()
            {
                return false;
            }
        }
        !nodes.is_empty()
    }

    /// Whether the node at `addr` answers `PING` within `limit`, with a
    /// reply or an error reply.
    pub async fn answers(&self, addr: Ipv4Addr, limit: std::time::Duration) -> bool {
        let ping = async {
            let mut conn = self
                .credentials
                .connect_with_timeouts(socket(addr), limit, limit)
                .await?;
            match redis::cmd("PING").query_async::<()>(&mut conn).await {
                Ok(()) => Ok(()),
                // An error reply is an answer: a geo-secondary cut off its
                // primary answers MASTERDOWN, one loading a snapshot
                // LOADING, and both are alive and must not be replaced.
                Err(error) if error.code().is_some() => Ok(()),
                Err(error) => Err(node::command_error(socket(addr), "PING")(error)),
            }
        };
        matches!(tokio::time::timeout(limit * 2, ping).await, Ok(Ok(())))
    }

    /// Kills the node at `addr` (`SIGKILL`), so one that stopped answering
    /// can't come back as a second primary.
    pub async fn kill_node(&self, addr: Ipv4Addr) {
        if let Some(node) = self.take(addr).await {
            if let Err(error) = node.kill().await {
                tracing::warn!(%addr, %error, "could not kill the node");
            }
        }
        let _ = self.store.set_node_pid(addr, None);
    }

    /// Replaces the dead primary node of `shard`: promotes the replica with
    /// the most data, moves the addresses, re-points the cache's replicas,
    /// and starts the dead node again as a replica. Geo-replication toward a
    /// geo-secondary is the caller's to re-point (`replicate`).
    pub async fn replace_primary(&self, cache: &CacheRecord, shard: u32) -> Result<NodeReplaced> {
        let nodes = self.store.nodes(&cache.id)?;
        let old = primary_of(&nodes, shard)?;
        let replaced = self.promote_replica(cache, shard).await?;
        self.kill_node(old.addr).await;
        self.start(cache, &self.store.nodes(&cache.id)?).await?;
        Ok(replaced)
    }

    /// Promotes the replica of `shard` with the most data in place of its
    /// dead primary (steps 1 to 3 of the module's description), if any
    /// replica has data. Starts nothing.
    pub(super) async fn promote_replica(
        &self,
        cache: &CacheRecord,
        shard: u32,
    ) -> Result<NodeReplaced> {
        let nodes = self.store.nodes(&cache.id)?;
        let old = primary_of(&nodes, shard)?;
        let Some((new, _offset)) = self.best_replica(&nodes, shard).await else {
            // Nobody has data: every node of the shard is empty, so starting
            // the old one again empty replaces nothing with emptiness.
            tracing::warn!(cache = %cache.id.name, shard, node = %old.addr, "no replica has data; the primary node starts again empty");
            return Ok(NodeReplaced {
                shard,
                old: old.addr,
                new: None,
            });
        };
        // 1. The replica takes over: from the geo-primary if the cache is a
        //    geo-secondary (keeping its replication history), else alone.
        let upstream = self.geo_upstream(&cache.id, shard)?;
        self.replicaof(
            new.addr,
            upstream.map(|u| match u.ip() {
                std::net::IpAddr::V4(ip) => ip,
                std::net::IpAddr::V6(_) => std::net::Ipv4Addr::UNSPECIFIED,
            }),
        )
        .await?;
        // 2. The store says so: the nodes swap their numbers.
        let swapped: Vec<NodeSlot> = nodes
            .iter()
            .map(|n| match n {
                n if n.addr == old.addr => NodeSlot {
                    replica: new.replica,
                    ..*n
                },
                n if n.addr == new.addr => NodeSlot { replica: 0, ..*n },
                n => *n,
            })
            .collect();
        self.store.set_nodes(&cache.id, &swapped)?;
        // 3. The addresses follow the new primary; the other replicas too.
        self.reconcile_listeners(&[&cache.id]).await?;
        for replica in swapped
            .iter()
            .filter(|n| n.shard == shard && !n.is_primary() && n.addr != old.addr)
        {
            if self.is_running(replica.addr).await {
                self.replicaof(replica.addr, Some(new.addr)).await?;
            }
        }
        tracing::warn!(cache = %cache.id.name, shard, old = %old.addr, new = %new.addr, "the shard's primary node was replaced by its replica");
        Ok(NodeReplaced {
            shard,
            old: old.addr,
            new: Some(new.addr),
        })
    }

    /// The node shard `shard` of `cache` replicates while the cache is a
    /// geo-secondary: the geo-primary's matching shard primary.
    fn geo_upstream(&self, cache: &georep_core::CacheId, shard: u32) -> Result<Option<SocketAddr>> {
        let Some(link) = self.store.link_of(cache)? else {
            return Ok(None);
        };
        if link.secondary() != cache {
            return Ok(None);
        }
        let primary = self.store.nodes(link.primary())?;
        Ok(shard_primaries(&primary).get(shard as usize).copied())
    }

    /// Whether a running replica of `shard` holds data to take over with.
    pub async fn can_take_over(&self, cache: &CacheRecord, shard: u32) -> Result<bool> {
        let nodes = self.store.nodes(&cache.id)?;
        Ok(self.best_replica(&nodes, shard).await.is_some())
    }

    /// Before a shard's primary node stops for a reboot: pauses its writes
    /// and waits until every running replica of the shard has applied all
    /// it acknowledged, so the replica that takes over (see
    /// [`Fleet::promote_replica`]) has every acknowledged write, as Azure's
    /// reboot fails over first. The pause lasts until the node exits. If a
    /// replica does not catch up within [`HANDOVER_LIMIT`], writes resume and
    /// the reboot fails before anything stopped.
    pub(super) async fn hand_over(&self, nodes: &[NodeSlot], primary: NodeSlot) -> Result<()> {
        let mut replicas = Vec::new();
        for n in nodes
            .iter()
            .filter(|n| n.shard == primary.shard && !n.is_primary())
        {
            if self.is_running(n.addr).await {
                replicas.push(socket(n.addr));
            }
        }
        if replicas.is_empty() {
            return Ok(());
        }
        let addr = socket(primary.addr);
        let mut conn = self.credentials.connect(addr).await?;
        let pause_ms = u64::try_from(node::SAVE_STOP_LIMIT.as_millis()).unwrap_or(u64::MAX);
        redis::cmd("CLIENT")
            .arg("PAUSE")
            .arg(pause_ms)
            .arg("WRITE")
            .query_async::<()>(&mut conn)
            .await
            .map_err(node::command_error(addr, "CLIENT PAUSE"))?;
        // Read after the pause: no acknowledged write lies beyond it.
        let target = node::info_on(&mut conn, addr, &["replication"])
            .await?
            .master_repl_offset()
            .unwrap_or(0);
        let deadline = tokio::time::Instant::now() + HANDOVER_LIMIT;
        for replica in replicas {
            loop {
                let applied = self
                    .credentials
                    .info(replica, &["replication"])
                    .await
                    .ok()
                    .and_then(|i| i.get_u64("slave_repl_offset"))
                    .unwrap_or(0);
                if applied >= target {
                    break;
                }
                if tokio::time::Instant::now() >= deadline {
                    let _ = redis::cmd("CLIENT")
                        .arg("UNPAUSE")
                        .query_async::<()>(&mut conn)
                        .await;
                    return Err(FleetError::Other(format!(
                        "the replica {replica} did not catch up with {addr} (offset {applied} of {target}); nothing was rebooted"
                    )));
                }
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
        }
        Ok(())
    }

    /// The running replica of `shard` with the highest replication offset,
    /// if any has data (an offset above zero).
    async fn best_replica(&self, nodes: &[NodeSlot], shard: u32) -> Option<(NodeSlot, u64)> {
        let mut best: Option<(NodeSlot, u64)> = None;
        for replica in nodes.iter().filter(|n| n.shard == shard && !n.is_primary()) {
            if !self.is_running(replica.addr).await {
                continue;
            }
            let Ok(info) = self
                .credentials
                .info(socket(replica.addr), &["replication"])
                .await
            else {
                continue;
            };
            let offset = data_offset(&info);
            tracing::debug!(replica = %replica.addr, offset, "a replica that could take over");
            if offset > 0 && best.is_none_or(|(_, o)| offset > o) {
                best = Some((*replica, offset));
            }
        }
        best
    }
}

/// The primary node of `shard`.
fn primary_of(nodes: &[NodeSlot], shard: u32) -> Result<NodeSlot> {
    nodes
        .iter()
        .find(|n| n.shard == shard && n.is_primary())
        .copied()
        .ok_or_else(|| FleetError::Other(format!("shard {shard} has no primary node")))
}

/// How much of the replication stream a node has applied. A replica whose
/// primary is gone reports `slave_repl_offset:0`, but its own
/// `master_repl_offset` still counts what it received.
fn data_offset(info: &Info) -> u64 {
    let replica = match info.role() {
        Some(Role::Replica) => info.get_u64("slave_repl_offset").unwrap_or(0),
        _ => 0,
    };
    replica.max(info.master_repl_offset().unwrap_or(0))
}

/// Whether a `redis-server` process works in `dir` (Linux's `/proc`).
fn redis_server_in(dir: &std::path::Path) -> bool {
    let Ok(dir) = dir.canonicalize() else {
        return false;
    };
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.filter_map(|e| e.ok()).any(|entry| {
        let proc_dir = entry.path();
        std::fs::read_link(proc_dir.join("cwd")).is_ok_and(|cwd| cwd == dir)
            && std::fs::read(proc_dir.join("cmdline")).is_ok_and(|cmdline| {
                cmdline
                    .split(|b| *b == 0 || *b == b' ')
                    .next()
                    .is_some_and(|program| program.ends_with(b"redis-server"))
            })
    })
}
