//! The fleet: every cache's `redis-server` processes on 127.0.0.1.
//!
//! A cache is one primary node per shard plus `replicasPerPrimary` replicas
//! of it, each on a port the store keeps. The fleet starts nodes (or adopts
//! the ones a previous run left running), wires replicas to their shard's
//! primary, applies the access keys, and runs the replication steps of a
//! geo-replication link shard by shard.

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use georep_core::arm::{Endpoint, SyncProgress};
use georep_core::CacheId;
use tokio::process::Command;
use tokio::sync::Mutex;

use crate::cache::{CacheRecord, NodeSlot};
use crate::links::LinkRecord;
use crate::store::Store;

/// The ACL user the control plane and replication use on every node.
pub const INTERNAL_USER: &str = "georep";
/// The file in the data directory holding the internal user's password.
pub const INTERNAL_PASSWORD_FILE: &str = "internal-password";
/// How long a node may take to start or stop.
const NODE_TIMEOUT: Duration = Duration::from_secs(10);

/// A failure of the data plane.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// A node did not answer or refused a command.
    #[error("node 127.0.0.1:{port}: {message}")]
    Node {
        /// The node's port.
        port: u16,
        /// What went wrong.
        message: String,
    },
    /// A file or process operation failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

impl From<FleetError> for crate::api::ApiError {
    fn from(error: FleetError) -> Self {
        crate::api::ApiError::Internal(error.to_string())
    }
}

type Result<T> = std::result::Result<T, FleetError>;

/// The running nodes.
pub struct Fleet {
    nodes_dir: PathBuf,
    redis_server: PathBuf,
    internal_password: String,
    /// Children this run started, so stopping them also reaps them.
    children: Mutex<HashMap<u16, tokio::process::Child>>,
}

impl Fleet {
    /// A fleet keeping its nodes' files under `data_dir/nodes`.
    pub fn new(data_dir: &Path, redis_server: &Path, _store: &Store) -> std::io::Result<Fleet> {
        let nodes_dir = data_dir.join("nodes");
        std::fs::create_dir_all(&nodes_dir)?;
        let path = data_dir.join(INTERNAL_PASSWORD_FILE);
        let internal_password = match std::fs::read_to_string(&path) {
            Ok(text) if !text.trim().is_empty() => text.trim().to_owned(),
            _ => {
                let password = crate::auth::random_hex(32);
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create(true).truncate(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                std::io::Write::write_all(&mut options.open(&path)?, password.as_bytes())?;
                password
            }
        };
        Ok(Fleet {
            nodes_dir,
            redis_server: redis_server.to_owned(),
            internal_password,
            children: Mutex::new(HashMap::new()),
        })
    }

    /// `n` free ports on 127.0.0.1 that no node holds.
    pub fn allocate_ports(
        &self,
        store: &Store,
        n: usize,
    ) -> std::result::Result<Vec<u16>, crate::api::ApiError> {
        let used = store.used_ports()?;
        let mut held = Vec::new();
        let mut ports = Vec::new();
        while ports.len() < n {
            let listener = TcpListener::bind("127.0.0.1:0")
                .map_err(|e| crate::api::ApiError::Internal(format!("no free port: {e}")))?;
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

    async fn connect(&self, port: u16) -> Result<redis::aio::MultiplexedConnection> {
        let url = format!(
            "redis://{INTERNAL_USER}:{}@127.0.0.1:{port}/",
            self.internal_password
        );
        let client = redis::Client::open(url).map_err(|e| node_error(port, e))?;
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(5)));
        client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|e| node_error(port, e))
    }

    /// Runs one command on a node as the internal user.
    async fn command<T: redis::FromRedisValue>(&self, port: u16, cmd: &redis::Cmd) -> Result<T> {
        let mut connection = self.connect(port).await?;
        cmd.query_async(&mut connection)
            .await
            .map_err(|e| node_error(port, e))
    }

    /// Whether our node answers on `port` (so a previous run's node can be adopted).
    async fn is_ours(&self, port: u16) -> bool {
        let dir = self.node_dir(port);
        let Ok(reply) = self
            .command::<Vec<String>>(port, redis::cmd("CONFIG").arg("GET").arg("dir"))
            .await
        else {
            return false;
        };
        reply.get(1).is_some_and(|d| Path::new(d) == dir)
    }

    fn config_text(&self, cache: &CacheRecord, port: u16) -> String {
        let dir = self.node_dir(port);
        let persistence = cache.redis_configuration.persistence();
        format!(
            "# Written by georep-server for cache {name}; rewritten on every start.\n\
             bind 127.0.0.1\nport {port}\nprotected-mode no\ndaemonize no\n\
             dir {dir}\npidfile {dir}/redis.pid\nlogfile {dir}/redis.log\n\
             dbfilename dump.rdb\nsave {save}\nappendonly {aof}\n\
             replica-read-only yes\nreplica-serve-stale-data no\n\
             repl-diskless-sync yes\nrepl-diskless-sync-delay 0\n\
             masteruser {INTERNAL_USER}\nmasterauth {internal}\n\
             user default on >{k1} >{k2} ~* &* +@all -@admin -@dangerous +info +client|setname +client|getname +client|id +config|get\n\
             user {INTERNAL_USER} on >{internal} ~* &* +@all\n",
            name = cache.id.name,
            dir = dir.display(),
            save = if persistence.rdb { "\"3600 1 300 100 60 10000\"" } else { "\"\"" },
            aof = if persistence.aof { "yes" } else { "no" },
            internal = self.internal_password,
            k1 = cache.keys.primary_key,
            k2 = cache.keys.secondary_key,
        )
    }

    /// Starts each node, or adopts it if it is already running, then wires
    /// replicas to their shard's primary and applies the cache's settings.
    pub async fn start(&self, cache: &CacheRecord, nodes: &[NodeSlot]) -> Result<()> {
        for node in nodes {
            self.start_node(cache, node.port).await?;
        }
        self.configure(cache, nodes).await
    }

    async fn start_node(&self, cache: &CacheRecord, port: u16) -> Result<()> {
        let dir = self.node_dir(port);
        std::fs::create_dir_all(&dir)?;
        let conf = dir.join("redis.conf");
        write_private(&conf, &self.config_text(cache, port))?;
        if self.is_ours(port).await {
            tracing::debug!(port, cache = %cache.id.name, "adopted a running node");
            return Ok(());
        }
        let mut command = Command::new(&self.redis_server);
        command
            .arg(&conf)
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Its own process group: a Ctrl-C meant for the server doesn't kill
        // the nodes behind its back; the server stops them itself.
        #[cfg(unix)]
        command.process_group(0);
        let child = command.spawn().map_err(|e| {
            FleetError::Other(format!(
                "could not run {}: {e}",
                self.redis_server.display()
            ))
        })?;
        self.children.lock().await.insert(port, child);
        let deadline = tokio::time::Instant::now() + NODE_TIMEOUT;
        loop {
            if self
                .command::<String>(port, &redis::cmd("PING"))
                .await
                .is_ok()
            {
                tracing::debug!(port, cache = %cache.id.name, "node started");
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                return Err(FleetError::Node {
                    port,
                    message: format!("did not start; see {}", dir.join("redis.log").display()),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Applies keys and persistence, and points each replica at its shard's primary.
    async fn configure(&self, cache: &CacheRecord, nodes: &[NodeSlot]) -> Result<()> {
        self.set_keys(cache, nodes).await?;
        for node in nodes.iter().filter(|n| !n.is_primary()) {
            if let Some(primary) = nodes
                .iter()
                .find(|p| p.is_primary() && p.shard == node.shard)
            {
                self.replicaof(node.port, Some(primary.port)).await?;
            }
        }
        Ok(())
    }

    /// Makes both access keys (and only they) authenticate as `default` on every node.
    pub async fn set_keys(&self, cache: &CacheRecord, nodes: &[NodeSlot]) -> Result<()> {
        for node in nodes {
            self.command::<()>(
                node.port,
                redis::cmd("ACL")
                    .arg("SETUSER")
                    .arg("default")
                    .arg("resetpass")
                    .arg(format!(">{}", cache.keys.primary_key))
                    .arg(format!(">{}", cache.keys.secondary_key)),
            )
            .await?;
            // Keep the config file in step, so a restart has the same keys.
            let conf = self.node_dir(node.port).join("redis.conf");
            write_private(&conf, &self.config_text(cache, node.port))?;
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

    /// Stops nodes without saving and removes their files.
    pub async fn stop_nodes(&self, _cache: &CacheId, nodes: &[NodeSlot]) {
        for node in nodes {
            self.stop_node(node.port, false).await;
            let _ = std::fs::remove_dir_all(self.node_dir(node.port));
        }
    }

    /// Stops one node, saving its data first if asked, and waits until it is gone.
    async fn stop_node(&self, port: u16, save: bool) {
        let mode = if save { "SAVE" } else { "NOSAVE" };
        // SHUTDOWN closes the connection instead of replying.
        let _ = self
            .command::<()>(port, redis::cmd("SHUTDOWN").arg(mode))
            .await;
        if let Some(mut child) = self.children.lock().await.remove(&port) {
            if tokio::time::timeout(NODE_TIMEOUT, child.wait())
                .await
                .is_err()
            {
                let _ = child.kill().await;
            }
        }
        let deadline = tokio::time::Instant::now() + NODE_TIMEOUT;
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Nothing to forget beyond the nodes' files, which `stop_nodes` removed.
    pub async fn forget(&self, _cache: &CacheId) {}

    /// Saves and stops every node this server knows of (on shutdown); the
    /// next start loads their data back.
    pub async fn shutdown(&self) {
        let ports: Vec<u16> = std::fs::read_dir(&self.nodes_dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        for port in ports {
            self.stop_node(port, true).await;
        }
    }

    /// Restarts `chosen` nodes of a cache, keeping their data, and rewires the cache.
    pub async fn reboot(
        &self,
        cache: &CacheRecord,
        nodes: &[NodeSlot],
        chosen: &[NodeSlot],
    ) -> Result<()> {
        for node in chosen {
            self.stop_node(node.port, true).await;
            self.start_node(cache, node.port).await?;
        }
        self.configure(cache, nodes).await
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
        for node in nodes.iter().filter(|n| n.is_primary()) {
            self.command::<String>(node.port, &redis::cmd("SAVE"))
                .await?;
            let dump = self.node_dir(node.port).join("dump.rdb");
            let name = if cache.shard_count > 0 {
                format!("{prefix}-shard{}.rdb", node.shard)
            } else {
                format!("{prefix}.rdb")
            };
            std::fs::copy(&dump, dir.join(name))?;
            // The snapshot was for the export; don't reload it on a restart.
            let _ = std::fs::remove_file(&dump);
        }
        Ok(())
    }

    /// Replaces each shard's data with an RDB file (in shard order) by
    /// restarting its primary on the file; its replicas resync.
    pub async fn import(
        &self,
        cache: &CacheRecord,
        nodes: &[NodeSlot],
        files: &[PathBuf],
    ) -> Result<()> {
        for (node, file) in nodes.iter().filter(|n| n.is_primary()).zip(files) {
            self.stop_node(node.port, false).await;
            std::fs::copy(file, self.node_dir(node.port).join("dump.rdb"))?;
            self.start_node(cache, node.port).await?;
            let _ = std::fs::remove_file(self.node_dir(node.port).join("dump.rdb"));
        }
        self.configure(cache, nodes).await
    }

    // ----- geo-replication -----

    /// Makes each shard primary of the secondary a replica of the primary's.
    /// The secondary's data is replaced by the primary's (a full sync).
    pub async fn replicate(&self, primary: &[NodeSlot], secondary: &[NodeSlot]) -> Result<()> {
        for node in secondary.iter().filter(|n| n.is_primary()) {
            let source = primary
                .iter()
                .find(|p| p.is_primary() && p.shard == node.shard)
                .ok_or_else(|| {
                    FleetError::Other(format!("the primary has no shard {}", node.shard))
                })?;
            self.replicaof(node.port, Some(source.port)).await?;
        }
        Ok(())
    }

    /// Whether every shard of the secondary has finished its full sync.
    pub async fn sync_done(&self, secondary: &[NodeSlot]) -> Result<bool> {
        for node in secondary.iter().filter(|n| n.is_primary()) {
            let info = self.replication_info(node.port).await?;
            let up = info.get("master_link_status").is_some_and(|s| s == "up");
            let syncing = info
                .get("master_sync_in_progress")
                .is_some_and(|s| s == "1");
            if !up || syncing {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Bytes of the full sync read so far, over every shard.
    pub async fn sync_progress(&self, secondary: &[NodeSlot]) -> Option<SyncProgress> {
        let mut progress = SyncProgress {
            bytes_read: 0,
            bytes_total: 0,
        };
        for node in secondary.iter().filter(|n| n.is_primary()) {
            let info = self.replication_info(node.port).await.ok()?;
            let number = |k: &str| {
                info.get(k)
                    .and_then(|v| v.parse::<i64>().ok())
                    .unwrap_or(0)
                    .max(0) as u64
            };
            progress.bytes_read += number("master_sync_read_bytes");
            progress.bytes_total += number("master_sync_total_bytes");
        }
        Some(progress)
    }

    /// Makes the secondary's shard primaries stand alone again; they keep their data.
    pub async fn stop_replicating(&self, secondary: &[NodeSlot]) -> Result<()> {
        for node in secondary.iter().filter(|n| n.is_primary()) {
            self.replicaof(node.port, None).await?;
        }
        Ok(())
    }

    /// The geo-primary endpoint of a link, once geo-primary proxies run.
    pub fn geo_primary_endpoint(&self, _link: &LinkRecord) -> Option<Endpoint> {
        None
    }

    async fn replication_info(&self, port: u16) -> Result<HashMap<String, String>> {
        let text: String = self
            .command(port, redis::cmd("INFO").arg("replication"))
            .await?;
        Ok(text
            .lines()
            .filter_map(|line| line.split_once(':'))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect())
    }
}

fn node_error(port: u16, error: impl std::fmt::Display) -> FleetError {
    FleetError::Node {
        port,
        message: error.to_string(),
    }
}

/// Writes a file readable by its owner only: node configs hold the keys.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(path)?, text.as_bytes())
}
