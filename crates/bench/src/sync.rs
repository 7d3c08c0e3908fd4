//! Full sync: linking a geo-primary that holds the dataset, timed from the
//! `PUT` to `Succeeded`, against the raw `REPLICAOF` of the same data
//! between two bare `redis-server`s with Redis's defaults (but
//! `repl-diskless-sync-delay 0`): a diskless sync and a disk-based load,
//! as a user would run it. The raw sync runs before and after the link;
//! the ratio is the link's time over the mean of the two.
//!
//! Then the API under load: the loaded geo-primary is unlinked and linked
//! again to a fresh cache, and while that full sync runs (`Creating`), 200
//! clients read the geo-primary's `GET …/linkedServers`.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use georep_testkit::redis_client::{self, connect};
use redis::aio::MultiplexedConnection;

use crate::api_load::{self, Load};
use crate::arm::{Arm, Tier};
use crate::bare::{self, BareRedis, Settings};
use crate::say;
use crate::stats::{mean, percentile};

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

/// The caches the link benchmark creates (name, region): the loaded
/// geo-primary, the geo-secondary it is timed against, and the one it is
/// linked to with the API under load.
const PRIMARY: (&str, &str) = ("bench-sync-a", "westeurope");
const SECONDARY: (&str, &str) = ("bench-sync-b", "northeurope");
const LOADED: (&str, &str) = ("bench-sync-c", "francecentral");

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

/// What the full-sync benchmark measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Megabytes (10^6 bytes) of values synced.
    pub mb: f64,
    /// Keys synced.
    pub keys: u64,
    /// The link's PUT to `Succeeded`.
    pub linked: Duration,
    /// The raw `REPLICAOF` before the link and after it.
    pub raw: [Duration; 2],
    /// The API under load while the second link synced, or why not.
    pub loaded: Result<api_load::Measured, String>,
}

impl Outcome {
    /// The mean of the two raw syncs, in seconds.
    pub fn raw_seconds(&self) -> f64 {
        mean(&[self.raw[0].as_secs_f64(), self.raw[1].as_secs_f64()]).unwrap_or(f64::NAN)
    }

    /// Link time over raw time.
    pub fn ratio(&self) -> f64 {
        self.linked.as_secs_f64() / self.raw_seconds()
    }

    pub fn link_mb_per_s(&self) -> f64 {
        self.mb / self.linked.as_secs_f64()
    }

    pub fn raw_mb_per_s(&self) -> f64 {
        self.mb / self.raw_seconds()
    }

    /// The loaded API's p99 (ms), or why there is none.
    pub fn loaded_p99(&self) -> Result<f64, String> {
        match &self.loaded {
            Ok(m) => percentile(&m.millis, 99.0).ok_or_else(|| "no requests".to_owned()),
            Err(reason) => Err(reason.clone()),
        }
    }
}

/// Measures the link's full sync against the raw one, then the API while
/// another full sync of the same data runs.
pub async fn run(server: &Arm, work: &Path, dataset: Dataset) -> Result<Outcome> {
    let mb = dataset.bytes() as f64 / 1e6;
    for (name, region) in [PRIMARY, SECONDARY, LOADED] {
        server.create_cache(name, region, Tier::Premium).await?;
    }
    server
        .wait_until_running(
            &[PRIMARY.0, SECONDARY.0, LOADED.0],
            Duration::from_secs(120),
        )
        .await?;

    // The raw peer's primary, loaded with the same data.
    let raw_primary = BareRedis::start(&work.join("raw-primary"), Settings::Defaults).await?;
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

    say(format!(
        "    unlinking, then linking {} to {} with {} API clients reading its links",
        PRIMARY.0,
        LOADED.0,
        api_load::CLIENTS
    ));
    let loaded = loaded_api(server).await.map_err(|e| format!("{e:#}"));
    match &loaded {
        Ok(m) => say(format!(
            "    {} requests during {:.2} s of Creating, p50 {:.1} ms, p99 {:.1} ms, {} errors",
            m.millis.len(),
            m.window.as_secs_f64(),
            percentile(&m.millis, 50.0).unwrap_or(f64::NAN),
            percentile(&m.millis, 99.0).unwrap_or(f64::NAN),
            m.errors
        )),
        Err(reason) => say(format!("    the loaded API was not measured: {reason}")),
    }
    // Whichever link is left (none is, if a step failed before it).
    for name in [LOADED.0, SECONDARY.0] {
        if server
            .link(PRIMARY.0, name)
            .await
            .is_ok_and(|l| l.is_some())
        {
            if let Err(err) = server.unlink(PRIMARY.0, name).await {
                say(format!("    could not unlink {name}: {err:#}"));
            }
        }
    }
    for name in [PRIMARY.0, SECONDARY.0, LOADED.0] {
        if let Err(err) = server.delete_cache(name).await {
            say(format!("    could not delete {name}: {err:#}"));
        }
    }
    Ok(Outcome {
        mb,
        keys: dataset.keys,
        linked,
        raw: [raw_before, raw_after],
        loaded,
    })
}

/// Unlinks the loaded geo-primary, links it to [`LOADED`] with
/// [`api_load::CLIENTS`] clients reading its links, and measures them
/// while the link is `Creating`.
async fn loaded_api(server: &Arm) -> Result<api_load::Measured> {
    server.unlink(PRIMARY.0, SECONDARY.0).await?;
    let load = Load::start(server, server.links_path(PRIMARY.0), api_load::CLIENTS);
    // Let every client open its connection first.
    tokio::time::sleep(Duration::from_secs(1)).await;
    server.put_link(PRIMARY.0, LOADED.0, LOADED.1).await?;
    let measured = load
        .measure_while_creating(server, PRIMARY.0, LOADED.0, SYNC_TIMEOUT)
        .await?;
    server
        .wait_for_link(PRIMARY.0, LOADED.0, LINK_POLL, SYNC_TIMEOUT)
        .await?;
    Ok(measured)
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

/// Starts a fresh, empty replica of `primary` (Redis's defaults) and
/// times `REPLICAOF` until it has loaded the snapshot and its link is up;
/// then stops it.
async fn raw_sync(primary: &BareRedis, dir: &Path) -> Result<Duration> {
    let replica = BareRedis::start(dir, Settings::Defaults).await?;
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
        if let Ok(info) = bare::replication(&mut connection).await {
            if bare::replica_in_sync(&info) {
                return Ok(asked.elapsed());
            }
        }
        if Instant::now() > deadline {
            bail!("the raw REPLICAOF did not finish");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
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
