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
mod info;
pub mod listen;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{
    AsyncConnectionConfig, Client, ConnectionAddr, IntoConnectionInfo, RedisConnectionInfo,
};
use thiserror::Error;
use tokio::process::{Child, Command};
use tokio::time::{sleep, timeout, Instant};
use tracing::{debug, info, warn};

use crate::store::records::REDIS_PORT;

pub use config::{
    plain_port, replication_port, tls_protocols, NodeConfig, NodeTls, CONFIG_FILE, INTERNAL_USER,
    LOG_FILE, PID_FILE, SOCKET_FILE, STDERR_FILE, TLS_PORT,
};
pub use info::{Info, ReplicaEntry, Role};

/// Where Debian installs the server.
pub const DEFAULT_REDIS_SERVER: &str = "/usr/bin/redis-server";

/// How long a new node may take to answer `PING`.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a node may take to exit after `SHUTDOWN`, and again after `SIGKILL`.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a node may take, retries included, to save its data and exit
/// when it is stopped to be started again ([`Node::save_and_stop`]).
///
/// Generous on purpose: writing a big dataset on a loaded machine takes a
/// while, and the alternative to waiting is losing the data.
pub const SAVE_STOP_LIMIT: Duration = Duration::from_secs(120);
/// The first pause after a `SHUTDOWN SAVE` that did not go through; it
/// doubles after each further failure, up to [`SAVE_RETRY_MAX`].
const SAVE_RETRY_FIRST: Duration = Duration::from_millis(250);
/// The longest pause between two `SHUTDOWN SAVE` attempts.
const SAVE_RETRY_MAX: Duration = Duration::from_secs(5);
/// How often to look again while waiting for a process.
const POLL: Duration = Duration::from_millis(20);
/// How long opening a control connection may take, by default.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a control connection waits for each reply, by default.
pub(crate) const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

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

    /// Stops the node and discards its data: `SHUTDOWN NOSAVE NOW`, then
    /// `SIGKILL` if it lingers. For a node that is going away; one that will
    /// be started again stops with [`Node::save_and_stop`].
    pub async fn stop(mut self) -> Result<(), NodeError> {
        if let Ok(mut conn) = self.connect().await {
            // The server exits instead of answering, so the error is expected.
            let _ = redis::cmd("SHUTDOWN")
                .arg("NOSAVE")
                .arg("NOW")
                .arg("FORCE")
                .query_async::<()>(&mut conn)
                .await;
        }
        if self.wait_exit(STOP_TIMEOUT).await {
            info!(addr = %self.ip(), pid = self.pid, "node stopped");
            return Ok(());
        }
        warn!(
            addr = %self.ip(),
            pid = self.pid,
            "node ignored SHUTDOWN; killing it"
        );
        self.kill().await
    }

    /// Kills the process with `SIGKILL` (as `kill -9` does) and waits until it is gone.
    pub async fn kill(mut self) -> Result<(), NodeError> {
        self.kill_now()?;
        if self.wait_exit(STOP_TIMEOUT).await {
            info!(addr = %self.ip(), pid = self.pid, "node killed");
            Ok(())
        } else {
            Err(NodeError::Timeout {
                addr: self.ip(),
                what: "stop",
                waited: STOP_TIMEOUT,
            })
        }
    }

    /// Sends `SIGKILL` without waiting: for drop guards and crash tests.
    pub fn kill_now(&self) -> Result<(), NodeError> {
        signal(self.pid, libc::SIGKILL)
    }

    /// Saves the node's data to `dump.rdb` in its directory and stops it, in
    /// one step: `SHUTDOWN SAVE NOW`. The next start of the node loads the
    /// data back.
    ///
    /// Why not `SAVE` and then `SHUTDOWN NOSAVE`:
    /// - `SAVE` is refused (`Background save already in progress`) while a
    ///   background save runs, and one runs whenever a replica is fed a full
    ///   sync: `repl-diskless-sync` forks a child to stream the snapshot. A
    ///   cache's own replica does that right after the cache is created or
    ///   started, so a stop soon after either met exactly that.
    /// - A replica whose primary is gone refuses `SAVE` with `MASTERDOWN`
    ///   (`replica-serve-stale-data no`); `SHUTDOWN` is allowed on it.
    /// - Writes landing between the two commands would be lost.
    ///
    /// `SHUTDOWN SAVE` stops a background save if one runs and saves in the
    /// foreground. Without `FORCE` it exits only if the save succeeded:
    /// otherwise it answers an error and keeps running, data and all. `NOW`
    /// skips waiting for lagging replicas, which the next start feeds again
    /// from the saved data. So the process ending after the command confirms
    /// that the data is on disk; for a process this run started, its exit
    /// status must say success too.
    ///
    /// A refused or unanswered attempt is retried, with growing pauses, until
    /// `limit` has passed. The node is never killed here: on `Err` it may still
    /// be running with its data, and the caller decides what to do with it.
    pub async fn save_and_stop(&mut self, limit: Duration) -> Result<(), NodeError> {
        let started = Instant::now();
        let deadline = started + limit;
        let mut pause = SAVE_RETRY_FIRST;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let last = match self.try_save_and_stop(deadline).await {
                SaveAttempt::Saved => {
                    info!(
                        addr = %self.ip(),
                        pid = self.pid,
                        attempts,
                        took_ms = started.elapsed().as_millis(),
                        "node saved its data and stopped"
                    );
                    return Ok(());
                }
                SaveAttempt::Ended(how) => {
                    return Err(NodeError::EndedWithoutSaving {
                        addr: self.ip(),
                        pid: self.pid,
                        how,
                    });
                }
                SaveAttempt::NotYet(why) => why,
            };
            let now = Instant::now();
            if now >= deadline {
                return Err(NodeError::SaveNotConfirmed {
                    addr: self.ip(),
                    pid: self.pid,
                    waited: now - started,
                    attempts,
                    last,
                });
            }
            warn!(
                addr = %self.ip(),
                pid = self.pid,
                attempts,
                reason = %last,
                "the node has not saved its data yet; it keeps running and will be asked again"
            );
            sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(SAVE_RETRY_MAX);
        }
    }

    /// One `SHUTDOWN SAVE NOW` attempt (see [`Node::save_and_stop`]).
    async fn try_save_and_stop(&mut self, deadline: Instant) -> SaveAttempt {
        // Never wait less than this for a step, so a last attempt made just
        // before the deadline still has a chance.
        const FLOOR: Duration = Duration::from_millis(100);
        let remaining = || {
            deadline
                .saturating_duration_since(Instant::now())
                .max(FLOOR)
        };

        // The reply may only come once the whole dataset is written: wait
        // for it as long as the deadline allows, not the usual few seconds.
        let connection = connect_with_timeouts(
            self.addr,
            Via::socket_or_plain(&self.socket()),
            &self.internal_password,
            CONNECT_TIMEOUT.min(remaining()),
            remaining(),
        )
        .await;
        let mut connection = match connection {
            Ok(connection) => connection,
            Err(error) => {
                if let Some(ended) = self.exit_status(Duration::ZERO).await {
                    // Gone before it was asked: it saved nothing now.
                    return SaveAttempt::Ended(describe_end(
                        ended,
                        "before it could be asked to save",
                    ));
                }
                return SaveAttempt::NotYet(format!("it does not answer: {error}"));
            }
        };
        let reply = redis::cmd("SHUTDOWN")
            .arg("SAVE")
            .arg("NOW")
            .query_async::<()>(&mut connection)
            .await;
        match reply {
            // A successful SHUTDOWN never answers. An error reply means the
            // save failed and the node kept running (Redis's log says why).
            Err(error) if error.code().is_some() => {
                return SaveAttempt::NotYet(format!("it refused: {error}"));
            }
            Ok(()) => return SaveAttempt::NotYet("it answered instead of exiting".into()),
            // The connection closed (how a successful SHUTDOWN ends) or the
            // reply timed out: whether the process ends tells which.
            Err(_) => {}
        }
        match self.exit_status(remaining()).await {
            None => SaveAttempt::NotYet("it is still running after SHUTDOWN SAVE".into()),
            // Adopted: not our child, so no status; ending after SHUTDOWN
            // SAVE (without FORCE) is the confirmation.
            Some(None) => SaveAttempt::Saved,
            Some(Some(status)) if status.success() => SaveAttempt::Saved,
            Some(status) => SaveAttempt::Ended(describe_end(status, "during SHUTDOWN SAVE")),
        }
    }

    /// Waits up to `limit` for the process to end; true if it did.
    async fn wait_exit(&mut self, limit: Duration) -> bool {
        self.exit_status(limit).await.is_some()
    }

    /// Waits up to `limit` for the process to end. `None` if it still runs;
    /// `Some(status)` once it has ended, with its exit status when this run
    /// started it (an adopted process is not our child, so its status is
    /// unknown).
    async fn exit_status(&mut self, limit: Duration) -> Option<Option<ExitStatus>> {
        if let Some(child) = self.child.as_mut() {
            // `timeout` polls the wait once even with a zero limit.
            return match timeout(limit, child.wait()).await {
                Ok(Ok(status)) => Some(Some(status)),
                // The status could not be read: fall back to looking at the pid.
                Ok(Err(_)) => (!process_alive(self.pid)).then_some(None),
                Err(_) => None,
            };
        }
        let deadline = Instant::now() + limit;
        while process_alive(self.pid) {
            if Instant::now() >= deadline {
                return None;
            }
            sleep(POLL).await;
        }
        Some(None)
    }
}

/// What one `SHUTDOWN SAVE` attempt came to.
enum SaveAttempt {
    /// The process ended as a successful `SHUTDOWN SAVE` ends it: the data is on disk.
    Saved,
    /// Not confirmed: refused, unanswered, or still running. Why, for the logs.
    NotYet(String),
    /// The process ended some other way, without saving. How, for the logs.
    Ended(String),
}

/// How a process ended, `when` something happened, for an error message.
fn describe_end(status: Option<ExitStatus>, when: &str) -> String {
    match status {
        Some(status) => format!("it ended {when} ({status})"),
        None => format!("it ended {when}"),
    }
}

/// Where a control connection to a node goes.
#[derive(Debug, Clone, Copy)]
pub enum Via<'a> {
    /// The node's unix socket ([`NodeConfig::socket_path`]): the control
    /// plane's own way in, open whatever the node's ports and TLS are.
    Socket(&'a Path),
    /// Its plain port on its own address, for nodes started by hand.
    Plain,
}

impl<'a> Via<'a> {
    /// The socket at `path` if there is one, else the plain port: a node
    /// started by an older control plane, which gave nodes no socket, is
    /// still reached (and adopted, never doubled) until it restarts.
    pub fn socket_or_plain(path: &'a Path) -> Via<'a> {
        if path.exists() {
            Via::Socket(path)
        } else {
            Via::Plain
        }
    }
}

/// Opens a control connection to the node at `addr`, on its plain port, as
/// the internal user.
pub async fn connect(
    addr: SocketAddr,
    internal_password: &str,
) -> Result<MultiplexedConnection, NodeError> {
    connect_with_timeouts(
        addr,
        Via::Plain,
        internal_password,
        CONNECT_TIMEOUT,
        RESPONSE_TIMEOUT,
    )
    .await
}

/// Opens a control connection to the node at `addr` (reached `via` its
/// socket or its plain port), bounding the connect and each reply.
pub async fn connect_with_timeouts(
    addr: SocketAddr,
    via: Via<'_>,
    internal_password: &str,
    connect_timeout: Duration,
    response_timeout: Duration,
) -> Result<MultiplexedConnection, NodeError> {
    let connect_error = |source| NodeError::Connect { addr, source };
    let target = match via {
        Via::Socket(path) => ConnectionAddr::Unix(path.to_owned()),
        Via::Plain => ConnectionAddr::Tcp(addr.ip().to_string(), addr.port()),
    };
    let info = target
        .into_connection_info()
        .map_err(connect_error)?
        .set_redis_settings(
            RedisConnectionInfo::default()
                .set_username(INTERNAL_USER)
                .set_password(internal_password)
                // Redis 7.0 does not know CLIENT SETINFO.
                .set_skip_set_lib_name(),
        );
    let client = Client::open(info).map_err(connect_error)?;
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(connect_timeout))
        .set_response_timeout(Some(response_timeout));
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .map_err(connect_error)
}

/// `INFO` of the given sections from the node at `addr`, over a fresh
/// connection to its plain port.
pub async fn info(
    addr: SocketAddr,
    internal_password: &str,
    sections: &[&str],
) -> Result<Info, NodeError> {
    let mut conn = connect(addr, internal_password).await?;
    info_on(&mut conn, addr, sections).await
}

/// `INFO` of the given sections over an existing connection to `addr`.
pub async fn info_on(
    conn: &mut MultiplexedConnection,
    addr: SocketAddr,
    sections: &[&str],
) -> Result<Info, NodeError> {
    let text: String = redis::cmd("INFO")
        .arg(sections)
        .query_async(conn)
        .await
        .map_err(command_error(addr, "INFO"))?;
    Ok(Info::parse(&text))
}

/// Makes exactly `keys` the passwords of the `default` user of the node at
/// `addr`, on `conn` (`ACL SETUSER default resetpass >k1 >k2`). Open
/// connections stay authenticated; replication is unaffected because it
/// uses the internal user.
pub async fn set_access_keys(
    conn: &mut MultiplexedConnection,
    addr: SocketAddr,
    keys: &[String; 2],
) -> Result<(), NodeError> {
    config::check_secret("primary access key", &keys[0])?;
    config::check_secret("secondary access key", &keys[1])?;
    redis::cmd("ACL")
        .arg("SETUSER")
        .arg("default")
        .arg("on")
        .arg("resetpass")
        .arg(format!(">{}", keys[0]))
        .arg(format!(">{}", keys[1]))
        .query_async::<()>(conn)
        .await
        .map_err(|e| {
            // Redis may quote the failing argument, which would be a key:
            // keep only the error's kind and code.
            let detail = e.code().unwrap_or("failed").to_owned();
            NodeError::Command {
                addr,
                command: "ACL SETUSER",
                source: redis::RedisError::from((e.kind(), "ACL SETUSER refused", detail)),
            }
        })?;
    info!(%addr, "access keys updated");
    Ok(())
}

/// Maps a redis error to [`NodeError::Command`].
pub(crate) fn command_error(
    addr: SocketAddr,
    command: &'static str,
) -> impl FnOnce(redis::RedisError) -> NodeError {
    move |source| NodeError::Command {
        addr,
        command,
        source,
    }
}

/// The pid the server at `addr` (reached `via`) reports, if it answers the internal user.
async fn server_pid(
    addr: SocketAddr,
    via: Via<'_>,
    internal_password: &str,
) -> Result<Option<u32>, NodeError> {
    let mut conn = connect_with_timeouts(
        addr,
        via,
        internal_password,
        Duration::from_millis(500),
        Duration::from_secs(2),
    )
    .await?;
    Ok(info_on(&mut conn, addr, &["server"]).await?.process_id())
}

/// Sends `signal` to `pid`.
fn signal(pid: u32, signal: libc::c_int) -> Result<(), NodeError> {
    let raw = libc::pid_t::try_from(pid).unwrap_or(0);
    if raw <= 0 {
        // kill(0 or negative) would hit whole process groups.
        return Err(NodeError::Signal {
            pid,
            source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
        });
    }
    // SAFETY: kill(2) has no memory-safety preconditions.
    if unsafe { libc::kill(raw, signal) } == 0 {
        return Ok(());
    }
    let source = std::io::Error::last_os_error();
    if source.raw_os_error() == Some(libc::ESRCH) {
        // Already gone: what the caller wanted.
        return Ok(());
    }
    Err(NodeError::Signal { pid, source })
}

/// Whether `pid` is a running process (a zombie counts as ended).
pub fn process_alive(pid: u32) -> bool {
    let Ok(raw) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if raw <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks that the process exists.
    let exists = unsafe { libc::kill(raw, 0) } == 0
        || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    if !exists {
        return false;
    }
    // /proc/<pid>/stat is "pid (comm) S ...": the state follows the last ')'.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next())
            .is_some_and(|state| state != 'Z' && state != 'X'),
        Err(_) => true,
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

    #[test]
    fn own_process_is_alive_and_pid_zero_is_not() {
        assert!(process_alive(std::process::id()));
        assert!(!process_alive(0));
        assert!(!process_alive(u32::MAX));
    }

    #[test]
    fn refuses_to_signal_process_groups() {
        assert!(signal(0, 0).is_err());
    }
}
