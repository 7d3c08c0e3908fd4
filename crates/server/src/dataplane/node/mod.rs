//! One `redis-server` process: starting it, adopting it after a control-plane
//! restart, talking to it, and stopping it.
//!
//! Every node follows the same conventions (see [`NodeConfig::render`]): it
//! listens on its own loopback address (port 6380 with TLS, 6379 plain when
//! the cache allows it), keeps no data on disk, refuses writes and stale
//! reads as a replica, lets the cache's two access keys authenticate its
//! `default` user, and has an internal user, [`INTERNAL_USER`], whose password is its
//! cache's own (see [`crate::dataplane::credentials`]). The control plane and
//! replication links authenticate as that user, so changing a cache's access
//! keys never disturbs either. The control plane reaches every node on its
//! unix socket, in the node's directory ([`Via::Socket`]), so no port or TLS
//! setting a cache is given can shut it out.
//!
//! A [`Node`] does not stop its process when dropped: nodes outlive the
//! control plane, which adopts them again when it restarts
//! ([`Node::adopt`]). They run in their own process group, so a Ctrl-C aimed
//! at the control plane does not reach them.

mod config;
mod connect;
mod info;
pub mod listen;
mod stop;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use thiserror::Error;
use tokio::process::{Child, Command};
use tokio::time::{sleep, Instant};
use tracing::{debug, info};

use crate::store::records::REDIS_PORT;

pub use config::{
    housekeeping_hz, plain_port, replication_port, tls_protocols, NodeConfig, NodeTls, CONFIG_FILE,
    INTERNAL_USER, LOG_FILE, PID_FILE, SOCKET_FILE, STDERR_FILE, TLS_PORT,
};
use connect::server_pid;
pub(crate) use connect::{command_error, CONNECT_TIMEOUT, RESPONSE_TIMEOUT};
pub use connect::{connect, connect_with_timeouts, info, info_on, set_access_keys, Via};
pub use info::{Info, ReplicaEntry, Role};
pub use stop::{process_alive, SAVE_STOP_LIMIT};

/// Where Debian installs the server.
pub const DEFAULT_REDIS_SERVER: &str = "/usr/bin/redis-server";

/// How long a new node may take to answer `PING`.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// How often to look again while waiting for a process.
const POLL: Duration = Duration::from_millis(20);

/// What can go wrong with a node.
#[derive(Debug, Error)]
pub enum NodeError {
    /// A secret cannot be used in a node's config.
    #[error("the {what} cannot be used: {reason}")]
    InvalidSecret {
        /// Which secret (never its value).
        what: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// The node's directory cannot be named in a config file.
    #[error("the node directory {0:?} must be valid UTF-8 without control characters")]
    InvalidDir(PathBuf),
    /// The config file could not be written.
    #[error("could not write the node config {path:?}: {source}")]
    Config {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `redis-server` could not be run.
    #[error("could not run {path:?}: {source}")]
    Spawn {
        /// The executable.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The process ended while starting.
    #[error(
        "redis-server at {addr} exited while starting ({status}); its log ends with:\n{log_tail}"
    )]
    Exited {
        /// Its address.
        addr: Ipv4Addr,
        /// How it ended.
        status: String,
        /// The last lines of its log and stderr, secrets removed.
        log_tail: String,
    },
    /// Another process already listens on the address.
    #[error("{addr} is already taken by another process (pid {other_pid:?})")]
    AddressInUse {
        /// The node's address.
        addr: Ipv4Addr,
        /// The other process, if it said.
        other_pid: Option<u32>,
    },
    /// The process did not come up or go down in time.
    #[error("redis-server at {addr} did not {what} within {waited:?}")]
    Timeout {
        /// Its address.
        addr: Ipv4Addr,
        /// `start` or `stop`.
        what: &'static str,
        /// How long we waited.
        waited: Duration,
    },
    /// The process to adopt is gone, or is not the node on that port.
    #[error("cannot adopt pid {pid} at {addr}: {reason}")]
    NotAdoptable {
        /// The node's address.
        addr: Ipv4Addr,
        /// The pid the store remembered.
        pid: u32,
        /// Why.
        reason: String,
    },
    /// The control plane knows no internal password for the node.
    #[error("no internal credential for the node at {addr}: {reason}")]
    NoCredential {
        /// The node.
        addr: SocketAddr,
        /// Why.
        reason: String,
    },
    /// No control connection could be opened.
    #[error("cannot connect to the node at {addr}: {source}")]
    Connect {
        /// The node.
        addr: SocketAddr,
        /// Why.
        source: redis::RedisError,
    },
    /// A command failed or the node answered with an error.
    #[error("{command} on the node at {addr} failed: {source}")]
    Command {
        /// The node.
        addr: SocketAddr,
        /// The command's name (never its arguments, which may be secrets).
        command: &'static str,
        /// The error, or the node's error reply.
        source: redis::RedisError,
    },
    /// The node did not confirm in time that it had saved its data and
    /// exited. It was not killed: it may still be running, data and all.
    #[error("redis-server at {addr} (pid {pid}) did not confirm saving its data within {waited:?} ({attempts} attempt(s)); last: {last}")]
    SaveNotConfirmed {
        /// Its address.
        addr: Ipv4Addr,
        /// Its process.
        pid: u32,
        /// How long we tried.
        waited: Duration,
        /// How many `SHUTDOWN SAVE` attempts were made.
        attempts: u32,
        /// What the last attempt came to.
        last: String,
    },
    /// The process ended without having saved its data.
    #[error("redis-server at {addr} (pid {pid}) ended without saving its data: {how}")]
    EndedWithoutSaving {
        /// Its address.
        addr: Ipv4Addr,
        /// Its process.
        pid: u32,
        /// How it ended, as far as is known.
        how: String,
    },
    /// A signal could not be sent.
    #[error("cannot signal pid {pid}: {source}")]
    Signal {
        /// The process.
        pid: u32,
        /// Why.
        source: std::io::Error,
    },
}

/// A running `redis-server` process.
pub struct Node {
    addr: SocketAddr,
    pid: u32,
    dir: PathBuf,
    internal_password: String,
    /// Present when this control plane started the process, so it can reap it.
    child: Option<Child>,
}

// Hand-written so the internal password can never reach a log line.
impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("addr", &self.addr)
            .field("pid", &self.pid)
            .field("dir", &self.dir)
            .field("internal_password", &"<redacted>")
            .field("child", &self.child)
            .finish()
    }
}

impl Node {
    /// Writes the node's config and starts `redis-server`, then waits until
    /// it answers `PING` as the internal user.
    ///
    /// The process is not killed when the `Node` is dropped.
    pub async fn start(redis_server: &Path, config: &NodeConfig) -> Result<Node, NodeError> {
        let config_path = config.write()?;
        let stderr = std::fs::File::create(config.dir.join(STDERR_FILE)).map_err(|source| {
            NodeError::Config {
                path: config.dir.join(STDERR_FILE),
                source,
            }
        })?;
        let mut child = Command::new(redis_server)
            .arg(&config_path)
            .current_dir(&config.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            // Its own process group: a Ctrl-C for the control plane must not
            // take the caches down with it.
            .process_group(0)
            .kill_on_drop(false)
            .spawn()
            .map_err(|source| NodeError::Spawn {
                path: redis_server.to_owned(),
                source,
            })?;
        let pid = child.id().unwrap_or_default();
        let addr = config.socket();
        let socket = config.socket_path();
        debug!(
            addr = %config.addr,
            pid, "started redis-server, waiting for it to answer"
        );

        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().map_err(|source| NodeError::Spawn {
                path: redis_server.to_owned(),
                source,
            })? {
                let log_tail = log_tail(config);
                if log_tail.contains("Address already in use") {
                    return Err(NodeError::AddressInUse {
                        addr: config.addr,
                        other_pid: None,
                    });
                }
                return Err(NodeError::Exited {
                    addr: config.addr,
                    status: status.to_string(),
                    log_tail,
                });
            }
            match server_pid(
                addr,
                Via::socket_or_plain(&socket),
                &config.internal_password,
            )
            .await
            {
                Ok(found) if found == Some(pid) => break,
                Ok(other_pid) => {
                    // Another process answers: a node left running in our
                    // directory, or whatever holds our address. Ours will
                    // fail to bind.
                    let _ = child.start_kill();
                    let _ = child.wait().await;
                    return Err(NodeError::AddressInUse {
                        addr: config.addr,
                        other_pid,
                    });
                }
                Err(_) if Instant::now() < deadline => sleep(POLL).await,
                Err(_) => {
                    let _ = child.start_kill();
                    let _ = child.wait().await;
                    return Err(NodeError::Timeout {
                        addr: config.addr,
                        what: "start",
                        waited: START_TIMEOUT,
                    });
                }
            }
        }
        info!(addr = %config.addr, pid, replica_of = ?config.replica_of, "node is up");
        Ok(Node {
            addr,
            pid,
            dir: config.dir.clone(),
            internal_password: config.internal_password.clone(),
            child: Some(child),
        })
    }

    /// Takes charge of a node started in `dir` by an earlier run of the
    /// control plane.
    ///
    /// Succeeds only if the process is alive and the server on the
    /// directory's socket answers the internal user and reports `pid` as
    /// its own.
    pub async fn adopt(
        ip: Ipv4Addr,
        dir: &Path,
        pid: u32,
        internal_password: &str,
    ) -> Result<Node, NodeError> {
        let not = |reason: String| NodeError::NotAdoptable {
            addr: ip,
            pid,
            reason,
        };
        if !process_alive(pid) {
            return Err(not("the process is not running".into()));
        }
        let addr = SocketAddr::from((ip, REDIS_PORT));
        let socket = dir.join(SOCKET_FILE);
        match server_pid(addr, Via::socket_or_plain(&socket), internal_password).await {
            Ok(Some(found)) if found == pid => {}
            Ok(found) => {
                return Err(not(format!(
                    "the server on its socket reports pid {found:?}"
                )));
            }
            Err(e) => return Err(not(format!("it does not answer: {e}"))),
        }
        info!(addr = %ip, pid, "adopted running node");
        Ok(Node {
            addr,
            pid,
            dir: dir.to_owned(),
            internal_password: internal_password.to_owned(),
            child: None,
        })
    }

    /// Where the node listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its own loopback address.
    pub fn ip(&self) -> Ipv4Addr {
        match self.addr.ip() {
            std::net::IpAddr::V4(ip) => ip,
            std::net::IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
        }
    }

    /// Its process id, for the store.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Its directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Its unix socket, where the control plane reaches it.
    fn socket(&self) -> PathBuf {
        self.dir.join(SOCKET_FILE)
    }

    /// A control connection, as the internal user, over the node's socket.
    pub async fn connect(&self) -> Result<MultiplexedConnection, NodeError> {
        connect_with_timeouts(
            self.addr,
            Via::socket_or_plain(&self.socket()),
            &self.internal_password,
            CONNECT_TIMEOUT,
            RESPONSE_TIMEOUT,
        )
        .await
    }

    /// `INFO` for the given sections (e.g. `["replication", "stats"]`).
    pub async fn info(&self, sections: &[&str]) -> Result<Info, NodeError> {
        let mut conn = self.connect().await?;
        info_on(&mut conn, self.addr, sections).await
    }

    /// Whether the node answers `PING`.
    pub async fn ping(&self) -> Result<(), NodeError> {
        let mut conn = self.connect().await?;
        redis::cmd("PING")
            .query_async::<()>(&mut conn)
            .await
            .map_err(command_error(self.addr, "PING"))
    }

    /// Makes exactly these two keys the passwords of the `default` user.
    pub async fn set_access_keys(&self, keys: &[String; 2]) -> Result<(), NodeError> {
        let mut conn = self.connect().await?;
        set_access_keys(&mut conn, self.addr, keys).await
    }

    /// Whether the process is still running.
    pub fn is_alive(&self) -> bool {
        process_alive(self.pid)
    }
}

/// The last lines of a node's log and stderr, with its secrets blanked out.
fn log_tail(config: &NodeConfig) -> String {
    let mut text = String::new();
    for file in [LOG_FILE, STDERR_FILE] {
        if let Ok(content) = std::fs::read_to_string(config.dir.join(file)) {
            let lines: Vec<&str> = content.lines().collect();
            let start = lines.len().saturating_sub(10);
            for line in &lines[start..] {
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    let secrets = [
        config.access_keys[0].as_str(),
        config.access_keys[1].as_str(),
        config.internal_password.as_str(),
    ];
    redact(&text, &secrets)
}

/// `text` with every non-empty secret replaced.
fn redact(text: &str, secrets: &[&str]) -> String {
    secrets
        .iter()
        .filter(|s| !s.is_empty())
        .fold(text.to_owned(), |text, secret| {
            text.replace(secret, "<redacted>")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_removes_every_secret() {
        assert_eq!(
            redact(">k1 >k2 masterauth pw", &["k1", "k2", "pw", ""]),
            "><redacted> ><redacted> masterauth <redacted>"
        );
    }
}
