//! Bare `redis-server` processes, the peers of the product's own: no
//! auth, on 127.0.0.1 and a free port, in a scratch directory; each is
//! killed (and its directory removed) when dropped.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use georep_testkit::redis_client::{self, connect_info, connection_info, Info};
use redis::aio::MultiplexedConnection;

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Which replication settings a bare `redis-server` runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settings {
    /// The ones georep's nodes use (`crates/server/src/dataplane/node/config.rs`):
    /// diskless sync and diskless `swapdb` load, no delay, a ping a second,
    /// no persistence.
    Nodes,
    /// Redis's defaults, as a user would run it, except
    /// `repl-diskless-sync-delay 0`: diskless sync (7.0's default) and a
    /// disk-based load (the replica writes the snapshot to disk, then
    /// loads it). Persistence is off (`save ""`) so no snapshot of its own
    /// competes with the sync.
    Defaults,
}

impl Settings {
    fn args(self) -> &'static [&'static str] {
        match self {
            Settings::Nodes => &[
                "--save",
                "",
                "--appendonly",
                "no",
                "--rdb-del-sync-files",
                "yes",
                "--replica-read-only",
                "yes",
                "--replica-serve-stale-data",
                "no",
                "--repl-diskless-sync",
                "yes",
                "--repl-diskless-sync-delay",
                "0",
                "--repl-diskless-load",
                "swapdb",
                "--loading-process-events-interval-bytes",
                "262144",
                "--repl-ping-replica-period",
                "1",
            ],
            Settings::Defaults => &["--save", "", "--repl-diskless-sync-delay", "0"],
        }
    }
}

/// A bare `redis-server`; stopped when dropped.
pub struct BareRedis {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    dir: PathBuf,
}

impl BareRedis {
    /// Starts one in `dir` (created) and waits until it answers.
    pub async fn start(dir: &Path, settings: Settings) -> Result<BareRedis> {
        std::fs::create_dir_all(dir)?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let log = dir.join("redis.log");
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--protected-mode", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(dir)
            .arg("--logfile")
            .arg(&log)
            .args(settings.args())
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start redis-server")?;
        let server = BareRedis {
            child,
            addr,
            dir: dir.to_owned(),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while server.connect().await.is_err() {
            if Instant::now() > deadline {
                bail!("redis-server did not start (see {})", log.display());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(server)
    }

    /// A new connection, checked with a `PING`.
    pub async fn connect(&self) -> Result<MultiplexedConnection> {
        let info = connection_info(self.addr, None)?;
        let mut connection = connect_info(info, CONNECT_TIMEOUT).await?;
        redis::cmd("PING")
            .query_async::<()>(&mut connection)
            .await?;
        Ok(connection)
    }
}

impl Drop for BareRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `INFO replication` of the node behind `connection`.
pub async fn replication(connection: &mut MultiplexedConnection) -> Result<Info> {
    Ok(redis_client::info(connection, "replication").await?)
}

/// Whether `info` (`INFO replication`) is a replica whose link to its
/// primary is up and whose sync is done.
pub fn replica_in_sync(info: &Info) -> bool {
    info.get("role") == Some("slave")
        && info.get("master_link_status") == Some("up")
        && info.get("master_sync_in_progress") == Some("0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_change_only_the_delay_and_persistence() {
        assert_eq!(
            Settings::Defaults.args(),
            ["--save", "", "--repl-diskless-sync-delay", "0"]
        );
        assert!(Settings::Nodes
            .args()
            .windows(2)
            .any(|w| w == ["--repl-diskless-load", "swapdb"]));
    }

    #[test]
    fn reads_a_replica_in_sync() {
        let info =
            Info("role:slave\r\nmaster_link_status:up\r\nmaster_sync_in_progress:0\r\n".into());
        assert!(replica_in_sync(&info));
        let info = Info("role:slave\r\nmaster_link_status:down\r\n".into());
        assert!(!replica_in_sync(&info));
    }
}
