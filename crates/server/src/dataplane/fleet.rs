//! The fleet: every cache's `redis-server` processes on 127.0.0.1.
//!
//! A cache is one primary node per shard plus `replicasPerPrimary` replicas
//! of it, each on a port the store keeps. The fleet starts nodes through
//! [`crate::dataplane::node`] (or adopts the ones a previous run left running, by the
//! pid the store remembers), wires replicas to their shard's primary,
//! applies the access keys, and runs the replication steps of a
//! geo-replication link shard by shard.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::future::join_all;
use tokio::sync::Mutex;

use crate::dataplane::node::{self, Node, NodeConfig, NodeError};
use crate::dataplane::replication::{
    self, ForcedFailoverReport, PlannedFailoverReport, ReplicationError, SyncState,
};
use crate::dataplane::sampler::{LinkNodes, Sampler, SamplerConfig};
use crate::store::records::{CacheRecord, NodeSlot};
use crate::store::{Store, StoreError};

/// The file in the data directory holding the internal user's password.
pub const INTERNAL_PASSWORD_FILE: &str = "internal-password";

/// Where a node writes its data when it saves, inside its directory
/// (Redis's default `dbfilename`), and loads it from when it starts.
const DUMP_FILE: &str = "dump.rdb";

/// How long a planned failover waits for the secondary to catch up before
/// giving up (and changing nothing).
const FAILOVER_CATCH_UP: std::time::Duration = std::time::Duration::from_secs(30);

/// A failure of the data plane.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// A node failed.
    #[error(transparent)]
    Node(#[from] NodeError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file operation failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A replication step failed.
    #[error(transparent)]
    Replication(#[from] ReplicationError),
    /// No port could be reserved for a new node.
    #[error("no free port: {0}")]
    NoFreePort(#[source] std::io::Error),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

type Result<T> = std::result::Result<T, FleetError>;

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// A cache's shard primaries, in shard order, as replication addresses them.
pub fn shard_primaries(nodes: &[NodeSlot]) -> Vec<SocketAddr> {
    let mut primaries: Vec<&NodeSlot> = nodes.iter().filter(|n| n.is_primary()).collect();
    primaries.sort_by_key(|n| n.shard);
    primaries.into_iter().map(|n| addr(n.port)).collect()
}

/// The node a cache's geo-primary endpoint forwards to when the cache is
/// the geo-primary: its first shard's primary (the address ARM's `port`
/// names; the local nodes don't run Redis Cluster).
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

/// The running nodes.
pub struct Fleet {
    store: Arc<Store>,
    nodes_dir: PathBuf,
    redis_server: PathBuf,
    internal_password: String,
    /// The nodes this run started or adopted, by port.
    running: Mutex<HashMap<u16, Node>>,
}

impl Fleet {
    /// A fleet keeping its nodes' files under `data_dir/nodes`, with the
    /// fleet-wide internal password kept (owner-readable) in the data dir.
    pub fn new(data_dir: &Path, redis_server: &Path, store: Arc<Store>) -> std::io::Result<Fleet> {
        let nodes_dir = data_dir.join("nodes");
        std::fs::create_dir_all(&nodes_dir)?;
        let path = data_dir.join(INTERNAL_PASSWORD_FILE);
        let internal_password = match std::fs::read_to_string(&path) {
            Ok(text) if !text.trim().is_empty() => text.trim().to_owned(),
            _ => {
                let password = crate::secrets::random_hex(32);
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create(true).truncate(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                std::io::Write::write_all(&mut options.open(&path)?, password.as_bytes())?;
                password
            }
        };
        Ok(Fleet {
            store,
            nodes_dir,
            redis_server: redis_server.to_owned(),
            internal_password,
            running: Mutex::new(HashMap::new()),
        })
    }

    /// `n` free ports on 127.0.0.1 that no node holds.
    pub fn allocate_ports(&self, n: usize) -> Result<Vec<u16>> {
        let used = self.store.used_ports()?;
        // Hold every listener until all are chosen, so the OS can't hand out one twice.
        let mut held = Vec::new();
        let mut ports = Vec::new();
        while ports.len() < n {
            let listener = TcpListener::bind("127.0.0.1:0").map_err(FleetError::NoFreePort)?;
            let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
            if port != 0 && !used.contains(&port) && !ports.contains(&port) {
                ports.push(port);
            }
            held.push(listener);
        }
        Ok(ports)
    }

    fn node_dir(&self, port: u16) -> PathBuf {
        self.nodes_dir.join(port.to_string())
    }

    /// Runs one command on a node as the internal user.
    async fn command<T: redis::FromRedisValue>(&self, port: u16, cmd: &redis::Cmd) -> Result<T> {
        let mut connection = node::connect(addr(port), &self.internal_password).await?;
        cmd.query_async(&mut connection)
            .await
            .map_err(|e| FleetError::Other(format!("node 127.0.0.1:{port}: {e}")))
    }

    /// Starts each node, or adopts it if a previous run left it running,
    /// then wires replicas to their shard's primary and applies the keys.
    pub async fn start(&self, cache: &CacheRecord, nodes: &[NodeSlot]) -> Result<()> {
        for slot in nodes {
            let primary = nodes
                .iter()
                .find(|p| p.is_primary() && p.shard == slot.shard && !slot.is_primary())
                .map(|p| addr(p.port));
            self.start_node(cache, slot.port, primary).await?;
        }
        self.configure(cache, nodes).await
    }

    /// Ensures the node on `port` runs: already ours, adopted, or started.
    async fn start_node(
        &self,
        cache: &CacheRecord,
        port: u16,
        replica_of: Option<SocketAddr>,
    ) -> Result<()> {
        let mut running = self.running.lock().await;
        if running.get(&port).is_some_and(Node::is_alive) {
            return Ok(());
        }
        if let Some(pid) = self.store.node_pid(port)? {
            match Node::adopt(port, pid, &self.internal_password).await {
                Ok(node) => {
                    running.insert(port, node);
                    return Ok(());
                }
                Err(error) => tracing::info!(port, %error, "starting the node again"),
            }
        }
        let config = NodeConfig {
            port,
            dir: self.node_dir(port),
            access_keys: [
                cache.keys.primary_key.clone(),
                cache.keys.secondary_key.clone(),
            ],
            internal_password: self.internal_password.clone(),
            replica_of,
        };
        let node = Node::start(&self.redis_server, &config).await?;
        self.store.set_node_pid(port, Some(node.pid()))?;
        running.insert(port, node);
        if replica_of.is_none() {
            // The node has loaded the dump its last stop (or a reboot, or an
            // import) left. Nodes keep no data on disk, so that snapshot must
            // not come back at some later start, after a crash say, in place
            // of newer data. A replica's dump is replaced by its first full
            // sync and removed by Redis itself (`rdb-del-sync-files`);
            // removing it here could race with that sync.
            self.discard_dump(port);
        }
        Ok(())
    }

    /// Removes the `dump.rdb` in a node's directory, if there is one.
    fn discard_dump(&self, port: u16) {
        let dump = self.node_dir(port).join(DUMP_FILE);
        match std::fs::remove_file(&dump) {
            Ok(()) => tracing::debug!(port, "removed the node's loaded dump"),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                tracing::warn!(port, %error, "could not remove the node's loaded dump");
            }
        }
    }

    /// Applies the keys, and points each replica at its shard's primary.
    async fn configure(&self, cache: &CacheRecord, nodes: &[NodeSlot]) -> Result<()> {
        self.set_keys(cache, nodes).await?;
        for slot in nodes.iter().filter(|n| !n.is_primary()) {
            if let Some(primary) = nodes
                .iter()
                .find(|p| p.is_primary() && p.shard == slot.shard)
            {
                self.replicaof(slot.port, Some(primary.port)).await?;
            }
        }
        Ok(())
    }

    /// Makes both access keys (and only they) authenticate as `default` on every node.
    pub async fn set_keys(&self, cache: &CacheRecord, nodes: &[NodeSlot]) -> Result<()> {
        let keys = [
            cache.keys.primary_key.clone(),
            cache.keys.secondary_key.clone(),
        ];
        for slot in nodes {
            node::set_access_keys(addr(slot.port), &self.internal_password, &keys).await?;
        }
        Ok(())
    }

    async fn replicaof(&self, port: u16, primary: Option<u16>) -> Result<()> {
        let mut cmd = redis::cmd("REPLICAOF");
        match primary {
            Some(p) => cmd.arg("127.0.0.1").arg(p),
            None => cmd.arg("NO").arg("ONE"),
        };
        self.command::<String>(port, &cmd).await.map(|_| ())
    }

    /// Takes the node on `port` out of the running set, adopting it first
    /// if this run never touched it.
    async fn take(&self, port: u16) -> Option<Node> {
        if let Some(node) = self.running.lock().await.remove(&port) {
            return Some(node);
        }
        let pid = self.store.node_pid(port).ok()??;
        Node::adopt(port, pid, &self.internal_password).await.ok()
    }

    /// Stops one node and discards its data.
    async fn stop_node(&self, port: u16) {
        let Some(node) = self.take(port).await else {
            return;
        };
        if let Err(error) = node.stop().await {
            tracing::warn!(port, %error, "could not stop the node");
        }
        let _ = self.store.set_node_pid(port, None);
    }

    /// Stops one node that will be started again: it saves its data to
    /// `dump.rdb` in its directory and exits, and its next start loads the
    /// data back (see [`Node::save_and_stop`]).
    ///
    /// A node that cannot confirm its save within [`node::SAVE_STOP_LIMIT`]
    /// is not killed, which would lose its data: it is left running and
    /// recorded, so the next start adopts it, data and all, and the error is
    /// returned. A node that is not running (a lost node, say) has nothing
    /// to save: that is not an error, and its next start begins empty.
    async fn save_and_stop_node(&self, port: u16) -> Result<()> {
        let Some(mut node) = self.take(port).await else {
            // Neither ours nor adoptable: no running process holds data to save.
            return Ok(());
        };
        if !node.is_alive() {
            tracing::warn!(
                port,
                pid = node.pid(),
                "the node was not running, so it had no data to save"
            );
            self.store.set_node_pid(port, None)?;
            return Ok(());
        }
        match node.save_and_stop(node::SAVE_STOP_LIMIT).await {
            Ok(()) => {
                self.store.set_node_pid(port, None)?;
                Ok(())
            }
            Err(error) if node.is_alive() => {
                tracing::error!(
                    port,
                    pid = node.pid(),
                    %error,
                    "the node did not save its data; it is left running, so the next start adopts it with its data"
                );
                self.running.lock().await.insert(port, node);
                Err(error.into())
            }
            Err(error) => {
                // It died while being asked: nothing is left to save or to
                // keep, and whoever stops it to start it again should.
                tracing::error!(
                    port,
                    pid = node.pid(),
                    %error,
                    "the node ended without saving its data; its next start begins empty"
                );
                self.store.set_node_pid(port, None)?;
                Ok(())
            }
        }
    }

    /// Stops nodes without saving and removes their files.
    pub async fn stop_nodes(&self, nodes: &[NodeSlot]) {
        for slot in nodes {
            self.stop_node(slot.port).await;
            let _ = std::fs::remove_dir_all(self.node_dir(slot.port));
        }
    }

    /// Stops every node this run knows, each saving its data first (on a
    /// graceful shutdown); the next start loads the data back. A node whose
    /// save can't be confirmed is left running for the next start to adopt.
    pub async fn shutdown(&self) {
        let ports: Vec<u16> = self.running.lock().await.keys().copied().collect();
        // All at once: each node's deadline then runs on its own, and the
        // whole stop takes as long as the slowest save, not their sum.
        let results = join_all(ports.iter().map(|&port| self.save_and_stop_node(port))).await;
        let kept = results.iter().filter(|result| result.is_err()).count();
        if kept > 0 {
            // Each one was logged with its reason.
            tracing::error!(
                nodes = ports.len(),
                failed = kept,
                "not every node confirmed saving its data"
            );
        }
    }

    /// Restarts `chosen` nodes of a cache, keeping their data, and rewires the cache.
    ///
    /// If a node can't confirm its save it keeps running and the reboot
    /// fails; the nodes already stopped are started again all the same.
    pub async fn reboot(
        &self,
        cache: &CacheRecord,
        nodes: &[NodeSlot],
        chosen: &[NodeSlot],
    ) -> Result<()> {
        let mut saved = Ok(());
        for slot in chosen {
            saved = self.save_and_stop_node(slot.port).await;
            if saved.is_err() {
                break;
            }
        }
        self.start(cache, nodes).await?;
        for slot in chosen {
            let _ = std::fs::remove_file(self.node_dir(slot.port).join(DUMP_FILE));
        }
        saved
    }

    /// Writes one RDB file per shard into `dir`: `{prefix}.rdb`, or
    /// `{prefix}-shard{n}.rdb` for a clustered cache.
    pub async fn export(
        &self,
        cache: &CacheRecord,
        nodes: &[NodeSlot],
        dir: &Path,
        prefix: &str,
    ) -> Result<()> {
        std::fs::create_dir_all(dir)?;
        for slot in nodes.iter().filter(|n| n.is_primary()) {
            self.command::<String>(slot.port, &redis::cmd("SAVE"))
                .await?;
            let dump = self.node_dir(slot.port).join(DUMP_FILE);
            let name = if cache.shard_count > 0 {
                format!("{prefix}-shard{}.rdb", slot.shard)
            } else {
                format!("{prefix}.rdb")
            };
            std::fs::copy(&dump, dir.join(name))?;
            // The snapshot was for the export; a restart must not reload it.
            let _ = std::fs::remove_file(&dump);
        }
        Ok(())
    }

    /// Replaces each shard's data with an RDB file (in shard order) by
    /// restarting its primary on the file; its replicas then resync.
    pub async fn import(
        &self,
        cache: &CacheRecord,
        nodes: &[NodeSlot],
        files: &[PathBuf],
    ) -> Result<()> {
        for (slot, file) in nodes.iter().filter(|n| n.is_primary()).zip(files) {
            self.stop_node(slot.port).await;
            let dump = self.node_dir(slot.port).join(DUMP_FILE);
            std::fs::copy(file, &dump)?;
            self.start_node(cache, slot.port, None).await?;
            let _ = std::fs::remove_file(&dump);
        }
        self.configure(cache, nodes).await
    }

    // ----- geo-replication -----

    /// Makes each shard primary of the secondary a replica of the primary's
    /// (see [`replication::link`]); the secondary's data is replaced.
    pub async fn replicate(&self, primary: &[NodeSlot], secondary: &[NodeSlot]) -> Result<()> {
        replication::link(
            &shard_primaries(primary),
            &shard_primaries(secondary),
            &self.internal_password,
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
            &self.internal_password,
        )
        .await?)
    }

    /// Makes the secondary's shard primaries stand alone again; they keep their data.
    pub async fn stop_replicating(&self, secondary: &[NodeSlot]) -> Result<()> {
        replication::unlink(&shard_primaries(secondary), &self.internal_password).await?;
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
            &self.internal_password,
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
            &self.internal_password,
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
            &self.internal_password,
        )
        .await?;
        Ok(rejoined.iter().all(|r| *r))
    }

    /// Whether the first shard primary of `nodes` is a Redis primary now.
    pub async fn is_primary(&self, nodes: &[NodeSlot]) -> Result<bool> {
        let Some(first) = shard_primaries(nodes).first().copied() else {
            return Ok(false);
        };
        let info = node::info(first, &self.internal_password, &["replication"]).await?;
        Ok(info.role() == Some(node::Role::Primary))
    }

    /// A metrics sampler that reads the nodes as the internal user.
    pub fn sampler(&self, config: SamplerConfig) -> Sampler {
        Sampler::new(&self.internal_password, config)
    }
}
