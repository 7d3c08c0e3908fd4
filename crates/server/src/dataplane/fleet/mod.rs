//! The fleet: every cache's `redis-server` processes, each on its own
//! loopback address.
//!
//! A cache is one primary node per shard plus `replicasPerPrimary` replicas
//! of it, each on an address the store keeps ([`super::addresses`]). The
//! fleet starts nodes through [`crate::dataplane::node`] (or adopts the ones
//! a previous run left running, by the pid the store remembers), wires
//! replicas to their shard's primary, applies the access keys, keeps each
//! node's listeners as the store says ([`listeners`]), and runs the
//! replication steps of a geo-replication link shard by shard ([`geo`]).
//! Stopping nodes is in [`stop`], reboots, exports and imports (a cache's
//! data through files) in [`data`], and in-cache failover in [`ha`].

mod certs;
mod data;
mod geo;
mod ha;
mod listeners;
mod stop;

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::Mutex;

use super::addresses::{socket, AddressBlock, AddressError};
use crate::dataplane::credentials::Credentials;
use crate::dataplane::node::{self, Node, NodeConfig, NodeError};
use crate::dataplane::replication::ReplicationError;
use crate::store::records::{CacheRecord, NodeSlot};
use crate::store::{Store, StoreError};

pub use geo::{geo_target, link_nodes, shard_primaries};
pub use ha::NodeReplaced;

/// Where an older server kept one internal password for every cache. A
/// store that still has it gives it to the caches it ran, whose nodes were
/// started with it; the file then goes.
const FLEET_PASSWORD_FILE: &str = "internal-password";

/// Where a node writes its data when it saves, inside its directory
/// (Redis's default `dbfilename`), and loads it from when it starts.
const DUMP_FILE: &str = "dump.rdb";

/// Where the store keeps the second octet of this server's address block.
const ADDRESS_BLOCK_KEY: &str = "address-block";

/// How many fresh addresses a node or a listener tries before giving up.
const BIND_ATTEMPTS: usize = 4;

/// How long a node just started may be loading its dump before a command
/// that must wait for it (REPLICAOF) gives up.
const LOADING_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

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
    /// A node refused to listen where it should (the address is taken).
    #[error("a node could not listen on its addresses: {0}")]
    Bind(#[source] Box<NodeError>),
    /// No address could be handed out.
    #[error(transparent)]
    Address(#[from] AddressError),
    /// A node's certificate could not be issued or written.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

type Result<T> = std::result::Result<T, FleetError>;

/// What starting a cache's nodes found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Started {
    /// Every node started afresh, with no snapshot to load: the cache is
    /// empty (a new cache, or one that lost every node).
    pub came_back_empty: bool,
}

/// The running nodes.
pub struct Fleet {
    store: Arc<Store>,
    block: AddressBlock,
    nodes_dir: PathBuf,
    redis_server: PathBuf,
    credentials: Credentials,
    /// The local CA, which issues each node's certificate.
    ca: crate::tls::LocalCa,
    /// The addresses each node's certificate names, as issued by this run.
    certified: std::sync::Mutex<HashMap<Ipv4Addr, std::collections::BTreeSet<Ipv4Addr>>>,
    /// The nodes this run started or adopted, by address.
    running: Mutex<HashMap<Ipv4Addr, Node>>,
}

impl Fleet {
    /// A fleet keeping its nodes' files under `data_dir/nodes`, each cache's
    /// internal password in the store, on the block of addresses it had last
    /// time (or a new one).
    pub fn new(data_dir: &Path, redis_server: &Path, store: Arc<Store>) -> Result<Fleet> {
        let block = AddressBlock::claim(store.meta_record(ADDRESS_BLOCK_KEY)?)?;
        store.set_meta_record(ADDRESS_BLOCK_KEY, &block.second_octet())?;
        let nodes_dir = data_dir.join("nodes");
        std::fs::create_dir_all(&nodes_dir)?;
        let legacy = data_dir.join(FLEET_PASSWORD_FILE);
        if let Ok(text) = std::fs::read_to_string(&legacy) {
            if !text.trim().is_empty() {
                let adopted = store.adopt_fleet_password(text.trim())?;
                tracing::info!(
                    caches = adopted,
                    "gave the old fleet-wide internal password to the caches started with it"
                );
            }
            std::fs::remove_file(&legacy)?;
        }
        Ok(Fleet {
            ca: crate::tls::LocalCa::load_or_create(data_dir)?,
            certified: Default::default(),
            credentials: Credentials::per_cache(store.clone(), nodes_dir.clone()),
            store,
            block,
            nodes_dir,
            redis_server: redis_server.to_owned(),
            running: Mutex::new(HashMap::new()),
        })
    }

    /// The passwords that open the fleet's nodes.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The cache's internal password: its own, made when it first starts.
    fn cache_password(&self, id: &georep_core::CacheId) -> Result<String> {
        Ok(self
            .store
            .ensure_internal_password(id, || crate::secrets::random_hex(32))?)
    }

    /// The internal password of the node at `addr`.
    fn password(&self, addr: Ipv4Addr) -> Result<String> {
        Ok(self.credentials.of(socket(addr))?)
    }

    /// `n` free addresses of this server's block that nothing holds.
    pub fn allocate(&self, n: usize) -> Result<Vec<Ipv4Addr>> {
        Ok(self.block.allocate(&self.store.used_addresses()?, n)?)
    }

    fn node_dir(&self, addr: Ipv4Addr) -> PathBuf {
        self.nodes_dir.join(addr.to_string())
    }

    /// Runs one command on a node as the internal user.
    async fn command<T: redis::FromRedisValue>(
        &self,
        addr: Ipv4Addr,
        cmd: &redis::Cmd,
    ) -> Result<T> {
        let mut connection = self.credentials.connect(socket(addr)).await?;
        cmd.query_async(&mut connection)
            .await
            .map_err(|e| FleetError::Other(format!("node {addr}: {e}")))
    }

    /// Starts each node, or adopts it if a previous run left it running,
    /// then wires replicas to their shard's primary, applies the keys and
    /// sets every node's listeners.
    ///
    /// A node whose address turns out to be taken gets a new one (recorded),
    /// so `nodes` is only where to begin: read them again from the store.
    ///
    /// A shard whose primary node is gone while a replica still has the
    /// data gets that replica as its primary first, and the old node starts
    /// as its replica: a node that comes back empty never becomes a primary
    /// others follow while another node has data. The answer says whether
    /// the whole cache came back empty (every node started afresh with no
    /// snapshot to load), which a geo-secondary must never be pointed at.
    pub async fn start(&self, cache: &CacheRecord, given: &[NodeSlot]) -> Result<Started> {
        self.cache_password(&cache.id)?;
        let shards: std::collections::BTreeSet<u32> = given.iter().map(|n| n.shard).collect();
        for shard in shards {
            let Some(primary) = given.iter().find(|n| n.shard == shard && n.is_primary()) else {
                continue;
            };
            let mut replica_running = false;
            for replica in given.iter().filter(|n| n.shard == shard && !n.is_primary()) {
                replica_running |= self.is_running(replica.addr).await;
            }
            if replica_running && !self.is_running(primary.addr).await {
                self.promote_replica(cache, shard).await?;
            }
        }
        // Promotions renumbered the nodes in the store.
        let mut nodes = self.store.nodes(&cache.id)?;
        if nodes.is_empty() {
            nodes = given.to_vec();
        }
        // Nodes that run (or are adopted) keep the beat their config gave
        // them; a new replica must not ask a primary started for a Basic
        // cache for its full sync before the primary beats at 10. A Basic
        // cache's running nodes are left alone: a beat left at 10 costs
        // only CPU, and a restart over a thousand caches skips as many calls.
        if cache.has_replicas() {
            self.set_housekeeping(cache, &nodes).await?;
        }
        let mut kept_data = false;
        for slot in &nodes {
            kept_data |= self.is_running(slot.addr).await
                || self.node_dir(slot.addr).join(DUMP_FILE).is_file();
        }
        for i in 0..nodes.len() {
            let slot = nodes[i];
            let primary = nodes
                .iter()
                .find(|p| p.is_primary() && p.shard == slot.shard && !slot.is_primary())
                .map(|p| socket(p.addr));
            nodes[i].addr = self.start_node(cache, slot, primary).await?;
        }
        self.configure(cache, &nodes).await?;
        Ok(Started {
            came_back_empty: !kept_data,
        })
    }

    /// Ensures the node of `slot` runs: already ours, adopted, or started
    /// (on a new address if its own is taken). Returns its address.
    async fn start_node(
        &self,
        cache: &CacheRecord,
        slot: NodeSlot,
        replica_of: Option<SocketAddr>,
    ) -> Result<Ipv4Addr> {
        let mut running = self.running.lock().await;
        if running.get(&slot.addr).is_some_and(Node::is_alive) {
            return Ok(slot.addr);
        }
        if let Some(node) = self.adopt(slot.addr).await {
            running.insert(slot.addr, node);
            return Ok(slot.addr);
        }
        let password = self.cache_password(&cache.id)?;
        let mut addr = slot.addr;
        let mut attempts = 0;
        let minimum_tls =
            georep_core::arm::minimum_tls_or_default(cache.minimum_tls_version.as_deref());
        let node = loop {
            let tls = self.issue_certificate(&cache.id, addr, &minimum_tls)?;
            let config = NodeConfig {
                addr,
                plain_port: cache.enable_non_ssl_port,
                extra_binds: self.extra_binds(&cache.id, &NodeSlot { addr, ..slot })?,
                dir: self.node_dir(addr),
                access_keys: [
                    cache.keys.primary_key.clone(),
                    cache.keys.secondary_key.clone(),
                ],
                internal_password: password.clone(),
                replica_of,
                replicated: cache.has_replicas(),
                tls: Some(tls),
            };
            match Node::start(&self.redis_server, &config).await {
                Ok(node) => break node,
                Err(NodeError::AddressInUse { addr: taken, .. }) if attempts < BIND_ATTEMPTS => {
                    if let Some(node) = self.adopt_holder(taken).await {
                        break node;
                    }
                    attempts += 1;
                    let fresh = self.allocate(1)?[0];
                    tracing::warn!(%taken, %fresh, "the node's address is taken; moving it");
                    self.store.move_node(taken, fresh)?;
                    let _ = std::fs::remove_dir_all(self.node_dir(taken));
                    addr = fresh;
                }
                Err(error) => return Err(error.into()),
            }
        };
        self.store.set_node_pid(addr, Some(node.pid()))?;
        running.insert(addr, node);
        if replica_of.is_none() {
            // The node has loaded the dump its last stop (or a reboot, or an
            // import) left. Nodes keep no data on disk, so that snapshot must
            // not come back at some later start, after a crash say, in place
            // of newer data. A replica's dump is replaced by its first full
            // sync and removed by Redis itself (`rdb-del-sync-files`);
            // removing it here could race with that sync.
            self.discard_dump(addr);
        }
        Ok(addr)
    }

    /// Removes the `dump.rdb` in a node's directory, if there is one.
    fn discard_dump(&self, addr: Ipv4Addr) {
        self.discard_node_file(addr, DUMP_FILE, "the node's loaded dump");
    }

    /// Removes `name` from a node's directory, if it is there; `what` says
    /// in the log what it was.
    fn discard_node_file(&self, addr: Ipv4Addr, name: &str, what: &str) {
        match std::fs::remove_file(self.node_dir(addr).join(name)) {
            Ok(()) => tracing::debug!(%addr, what, "removed a node's file"),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                tracing::warn!(%addr, what, %error, "could not remove a node's file");
            }
        }
    }

    /// Applies the keys and the plain port's setting, points each replica at
    /// its shard's primary, and sets every node's listeners as the store says.
    async fn configure(&self, cache: &CacheRecord, nodes: &[NodeSlot]) -> Result<()> {
        self.set_keys(cache, nodes).await?;
        // An adopted node keeps the port its last run gave it, which a
        // crash may have left behind the store.
        self.set_plain_port(nodes, cache.enable_non_ssl_port)
            .await?;
        for slot in nodes.iter().filter(|n| !n.is_primary()) {
            if let Some(primary) = nodes
                .iter()
                .find(|p| p.is_primary() && p.shard == slot.shard)
            {
                self.replicaof(slot.addr, Some(primary.addr)).await?;
            }
        }
        self.reconcile_listeners(&[&cache.id]).await
    }

    /// Sets how often each running node keeps house for what its cache is
    /// now ([`node::housekeeping_hz`]): a node's config is written only
    /// when it starts, and a cache's shape changes while its nodes run
    /// (a Basic cache scaled to Standard keeps its primary running).
    async fn set_housekeeping(&self, cache: &CacheRecord, nodes: &[NodeSlot]) -> Result<()> {
        let hz = node::housekeeping_hz(cache.has_replicas());
        self.config_set_running(nodes, "hz", &hz.to_string()).await
    }

    /// Makes both access keys (and only they) authenticate as `default` on every node.
    pub async fn set_keys(&self, cache: &CacheRecord, nodes: &[NodeSlot]) -> Result<()> {
        let keys = [
            cache.keys.primary_key.clone(),
            cache.keys.secondary_key.clone(),
        ];
        for slot in nodes {
            let mut conn = self.credentials.connect(socket(slot.addr)).await?;
            node::set_access_keys(&mut conn, socket(slot.addr), &keys).await?;
        }
        Ok(())
    }

    async fn replicaof(&self, addr: Ipv4Addr, primary: Option<Ipv4Addr>) -> Result<()> {
        // A node just started (rebooted, imported) answers LOADING until it
        // has read its dump, and refuses REPLICAOF meanwhile: wait for it,
        // rather than fail the operation with the node half wired.
        let deadline = tokio::time::Instant::now() + LOADING_LIMIT;
        loop {
            let done = crate::dataplane::replication::replica_of(
                socket(addr),
                primary.map(socket),
                &self.credentials,
            )
            .await;
            match done {
                Err(NodeError::Command { ref source, .. })
                    if source.code() == Some("LOADING")
                        && tokio::time::Instant::now() < deadline =>
                {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                done => return Ok(done?),
            }
        }
    }

    /// Takes the node at `addr` out of the running set, adopting it first
    /// if this run never touched it.
    async fn take(&self, addr: Ipv4Addr) -> Option<Node> {
        if let Some(node) = self.running.lock().await.remove(&addr) {
            return Some(node);
        }
        self.adopt(addr).await
    }

    /// The process holding `addr`, adopted if it is this slot's own node: a
    /// run killed right after starting it left it running before it wrote
    /// its pid file, and it answers with its cache's password and its own
    /// pid. Anything else holding the address is not ours.
    pub(super) async fn adopt_holder(&self, addr: Ipv4Addr) -> Option<Node> {
        let password = self.password(addr).ok()?;
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(2);
        loop {
            let pid = self
                .credentials
                .info(socket(addr), &["server"])
                .await
                .ok()
                .and_then(|info| info.process_id());
            if let Some(pid) = pid {
                if let Ok(node) = Node::adopt(addr, &self.node_dir(addr), pid, &password).await {
                    tracing::warn!(%addr, pid, "adopted the node holding the address, which the store had not recorded");
                    return Some(node);
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Adopts the node at `addr` that an earlier run left running, if one
    /// does: by the pid the store recorded, or else by the pid the node
    /// wrote itself (its `redis.pid`). A node started just before the
    /// control plane was killed, before the store recorded its pid, runs and
    /// holds its address all the same: it must be adopted, never doubled by
    /// a second process started beside it on another address. Records the
    /// pid it was adopted by.
    async fn adopt(&self, addr: Ipv4Addr) -> Option<Node> {
        let password = self.password(addr).ok()?;
        let recorded = self.store.node_pid(addr).ok().flatten();
        let written = std::fs::read_to_string(self.node_dir(addr).join(node::PID_FILE))
            .ok()
            .and_then(|text| text.trim().parse::<u32>().ok());
        for pid in [recorded, written.filter(|w| Some(*w) != recorded)]
            .into_iter()
            .flatten()
        {
            match Node::adopt(addr, &self.node_dir(addr), pid, &password).await {
                Ok(node) => {
                    if recorded != Some(pid) {
                        tracing::warn!(%addr, pid, "adopted a node the store had not recorded");
                        let _ = self.store.set_node_pid(addr, Some(pid));
                    }
                    return Some(node);
                }
                Err(error) => tracing::info!(%addr, %error, "the node is not running"),
            }
        }
        tracing::info!(%addr, ?recorded, ?written, "no node process to adopt");
        None
    }
}
