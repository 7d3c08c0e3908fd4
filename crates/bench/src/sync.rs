//! Full sync: linking a geo-primary that holds the dataset, timed from the
//! `PUT` to `Succeeded`, against the raw `REPLICAOF` of the same data
//! between two bare `redis-server` processes with the nodes' replication
//! settings. The raw sync runs before and after the link; the ratio is the
//! link's time over the mean of the two.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use georep_testkit::redis_client::{self, connect, connect_info, connection_info};
use redis::aio::MultiplexedConnection;

use crate::arm::{Arm, Tier};
use crate::report::{Figure, Figures, Key};
use crate::say;
use crate::stats::mean;

/// Bytes in each value of the dataset.
const VALUE_BYTES: usize = 1000;
/// SETs per pipelined batch while loading.
const BATCH: u64 = 1000;
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a full sync may take before we give up on it.
const SYNC_TIMEOUT: Duration = Duration::from_secs(900);
/// How often the link's state is read while it syncs.
const LINK_POLL: Duration = Duration::from_millis(25);

/// The two caches the link benchmark creates (name, region).
const PRIMARY: (&str, &str) = ("bench-sync-a", "westeurope");
const SECONDARY: (&str, &str) = ("bench-sync-b", "northeurope");

/// The benchmark's data: `keys` strings of [`VALUE_BYTES`] pseudo-random
/// printable bytes each, the same on every run, that Redis's LZF
/// compression of the snapshot cannot shrink much.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dataset {
    keys: u64,
}

impl Dataset {
    /// About `bytes` of values.
    pub fn of_bytes(bytes: u64) -> Self {
        Dataset {
            keys: bytes / VALUE_BYTES as u64,
        }
    }

    /// The bytes of values it holds.
    pub fn bytes(self) -> u64 {
        self.keys * VALUE_BYTES as u64
    }

    /// Writes every key through `connection`, in pipelined batches.
    pub async fn load(self, connection: &mut MultiplexedConnection) -> Result<()> {
        let mut value = vec![0; VALUE_BYTES];
        let mut start = 0;
        while start < self.keys {
            let end = (start + BATCH).min(self.keys);
            let mut pipe = redis::pipe();
            for i in start..end {
                fill_value(i, &mut value);
                pipe.set(key(i), value.as_slice()).ignore();
            }
            pipe.query_async::<()>(connection).await?;
            start = end;
        }
        Ok(())
    }
}

/// The name of key `i`.
fn key(i: u64) -> String {
    format!("bench:sync:{i:010}")
}

/// Fills `out` with key `i`'s value: xorshift64* output, six bits a byte,
/// mapped onto 64 printable characters.
fn fill_value(i: u64, out: &mut [u8]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut state = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for chunk in out.chunks_mut(8) {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let mut bits = state.wrapping_mul(0x2545_F491_4F6C_DD1D);
        for byte in chunk {
            *byte = ALPHABET[(bits & 63) as usize];
            bits >>= 6;
        }
    }
}

/// Measures the link's full sync against the raw one.
pub async fn run(server: &Arm, work: &Path, dataset: Dataset) -> Result<(Figures, String)> {
    let mb = dataset.bytes() as f64 / 1e6;
    server
        .create_cache(PRIMARY.0, PRIMARY.1, Tier::Premium)
        .await?;
    server
        .create_cache(SECONDARY.0, SECONDARY.1, Tier::Premium)
        .await?;
    server
        .wait_until_running(&[PRIMARY.0, SECONDARY.0], Duration::from_secs(120))
        .await?;

    // The raw peer's primary, loaded with the same data.
    let raw_primary = BareRedis::start(&work.join("raw-primary")).await?;
    say(format!("    loading {mb:.0} MB into a bare redis-server"));
    dataset.load(&mut raw_primary.connect().await?).await?;

    // The link's primary, loaded through its own access key, and its own
    // replica caught up, so the link's clock times the link alone.
    let addr = server.node_addr(PRIMARY.0).await?;
    let key = server.primary_key(PRIMARY.0).await?;
    say(format!("    loading {mb:.0} MB into {}", PRIMARY.0));
    let mut cache = connect(addr, &key, CONNECT_TIMEOUT).await?;
    dataset.load(&mut cache).await?;
    wait_for_replicas(&mut cache).await?;

    let raw_before = raw_sync(&raw_primary, &work.join("raw-replica-1")).await?;
    say(format!(
        "    raw REPLICAOF: {:.2} s",
        raw_before.as_secs_f64()
    ));

    let asked = Instant::now();
    server.put_link(PRIMARY.0, SECONDARY.0, SECONDARY.1).await?;
    server
        .wait_for_link(PRIMARY.0, SECONDARY.0, LINK_POLL, SYNC_TIMEOUT)
        .await?;
    let linked = asked.elapsed();
    say(format!(
        "    link PUT → Succeeded: {:.2} s",
        linked.as_secs_f64()
    ));

    // The secondary's own replica resyncs from it after the link is up:
    // let that finish, so it doesn't slow the second raw sync down.
    let secondary_addr = server.node_addr(SECONDARY.0).await?;
    let secondary_key = server.primary_key(SECONDARY.0).await?;
    wait_for_replicas(&mut connect(secondary_addr, &secondary_key, CONNECT_TIMEOUT).await?).await?;

    let raw_after = raw_sync(&raw_primary, &work.join("raw-replica-2")).await?;
    say(format!(
        "    raw REPLICAOF: {:.2} s",
        raw_after.as_secs_f64()
    ));
    drop(raw_primary);
    if let Err(err) = server.remove_pair(PRIMARY.0, SECONDARY.0).await {
        say(format!("    could not remove the sync caches: {err:#}"));
    }

    let raw = mean(&[raw_before.as_secs_f64(), raw_after.as_secs_f64()]).unwrap_or(f64::NAN);
    let seconds = linked.as_secs_f64();
    let note = format!(
        "full sync of {mb:.0} MB ({} keys of {VALUE_BYTES} B): link {seconds:.2} s (PUT to Succeeded, polled every {} ms), raw REPLICAOF {:.2} s and {:.2} s",
        dataset.keys,
        LINK_POLL.as_millis(),
        raw_before.as_secs_f64(),
        raw_after.as_secs_f64()
    );
    Ok((
        vec![
            (Key::LinkRatio, Figure::Measured(seconds / raw)),
            (Key::LinkMbPerS, Figure::Measured(mb / seconds)),
        ],
        note,
    ))
}

/// Waits until every replica of the node behind `connection` has its
/// primary's offset.
async fn wait_for_replicas(connection: &mut MultiplexedConnection) -> Result<()> {
    let deadline = Instant::now() + SYNC_TIMEOUT;
    loop {
        let info = redis_client::info(connection, "replication").await?;
        let target = info.number("master_repl_offset").unwrap_or(0);
        let caught_up = info
            .lines_starting("slave")
            .filter(|line| line.contains("ip="))
            .all(|line| replica_offset(line) == Some(target));
        if caught_up {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the primary's replicas did not catch up");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The `offset=` of an `INFO replication` `slaveN:` line.
fn replica_offset(line: &str) -> Option<u64> {
    line.split([',', ':'])
        .find_map(|field| field.strip_prefix("offset="))
        .and_then(|n| n.parse().ok())
}

/// Starts a fresh, empty replica of `primary` and times `REPLICAOF` until
/// it has loaded the snapshot and its link is up; then stops it.
async fn raw_sync(primary: &BareRedis, dir: &Path) -> Result<Duration> {
    let replica = BareRedis::start(dir).await?;
    let mut connection = replica.connect().await?;
    let port = primary.addr.port();
    let asked = Instant::now();
    redis::cmd("REPLICAOF")
        .arg("127.0.0.1")
        .arg(port)
        .query_async::<()>(&mut connection)
        .await?;
    let deadline = asked + SYNC_TIMEOUT;
    loop {
        // A replica loading its snapshot answers LOADING: keep asking.
        if let Ok(info) = redis_client::info(&mut connection, "replication").await {
            if info.get("master_link_status") == Some("up")
                && info.get("master_sync_in_progress") == Some("0")
            {
                return Ok(asked.elapsed());
            }
        }
        if Instant::now() > deadline {
            bail!("the raw REPLICAOF did not finish");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A bare `redis-server` with the replication settings georep's nodes use
/// (`crates/server/src/dataplane/node/config.rs`: diskless sync and load,
/// no delay), and no auth; stopped when dropped.
struct BareRedis {
    child: Child,
    addr: SocketAddr,
    dir: PathBuf,
}

impl BareRedis {
    async fn start(dir: &Path) -> Result<BareRedis> {
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
            .args([
                "--save",
                "",
                "--appendonly",
                "no",
                "--rdb-del-sync-files",
                "yes",
            ])
            .args([
                "--replica-read-only",
                "yes",
                "--replica-serve-stale-data",
                "no",
            ])
            .args([
                "--repl-diskless-sync",
                "yes",
                "--repl-diskless-sync-delay",
                "0",
                "--repl-diskless-load",
                "swapdb",
                "--loading-process-events-interval-bytes",
                "262144",
            ])
            .args(["--repl-ping-replica-period", "1"])
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

    async fn connect(&self) -> Result<MultiplexedConnection> {
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

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn values_are_fixed_printable_and_differ_by_key() {
        let (mut a, mut b, mut again) = (vec![0; 1000], vec![0; 1000], vec![0; 1000]);
        fill_value(1, &mut a);
        fill_value(2, &mut b);
        fill_value(1, &mut again);
        assert_eq!(a, again);
        assert_ne!(a, b);
        assert!(a.iter().all(u8::is_ascii_graphic));
        let distinct: HashSet<u8> = a.iter().copied().collect();
        assert!(distinct.len() > 50, "{}", distinct.len());
    }

    #[test]
    fn sizes_and_replica_offsets() {
        assert_eq!(Dataset::of_bytes(256_000_000).bytes(), 256_000_000);
        assert_eq!(key(7), "bench:sync:0000000007");
        assert_eq!(
            replica_offset("slave0:ip=127.0.0.1,port=7001,state=online,offset=1234,lag=0"),
            Some(1234)
        );
        assert_eq!(replica_offset("slave0:ip=127.0.0.1"), None);
    }
}
