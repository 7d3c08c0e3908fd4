//! Failover: planned failovers through the API while a client writes at a
//! steady pace, each failover timed from the request until the first write
//! the new primary acknowledges; then every acknowledged write is looked
//! for on the final primary.
//!
//! The writer appends sequence numbers to one list (`RPUSH`), one write a
//! millisecond, one at a time. It asks each connection which node it
//! reached (`INFO server`'s `run_id`, unique to each `redis-server`
//! process, whatever address it answers on), so an acknowledgement is
//! known to come from the new primary. A write
//! that fails is never retried with the same number: only acknowledged
//! numbers must survive.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use georep_testkit::redis_client::{connect_blocking, Info};
use redis::Connection;

use crate::arm::Arm;
use crate::say;
use crate::stats::percentile;

/// The list the writer appends to.
const LIST: &str = "bench:failover";
/// Time between two writes.
const PACE: Duration = Duration::from_millis(1);
/// How long one command may take before the writer reconnects.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// How long to wait for the new primary's first acknowledgement.
const FAILOVER_TIMEOUT: Duration = Duration::from_secs(60);

/// One linked pair, as the benchmark sees it.
#[derive(Debug, Clone)]
pub struct Pair {
    /// The caches' names and regions, the geo-primary first.
    pub caches: [(String, String); 2],
    /// Their primary access keys, in the same order.
    pub keys: [String; 2],
}

/// What the failovers measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Request to first acknowledged write on the new primary, per failover.
    pub millis: Vec<f64>,
    /// Acknowledged writes missing from the final primary.
    pub lost: usize,
    /// Writes acknowledged in all.
    pub acknowledged: usize,
    /// Writes that failed (and were not counted).
    pub failed: usize,
    /// Acknowledged writes per second over the whole run.
    pub rate: f64,
}

impl Outcome {
    /// The median failover time.
    pub fn p50(&self) -> Option<f64> {
        percentile(&self.millis, 50.0)
    }

    /// The slowest failover.
    pub fn max(&self) -> Option<f64> {
        self.millis.iter().copied().reduce(f64::max)
    }
}

/// Runs `count` planned failovers of `pair` with the writer aimed at
/// `targets`: the geo-primary endpoint, or else both caches' nodes, tried
/// in turn (a client that follows the primary itself).
pub async fn run(
    server: &Arm,
    pair: &Pair,
    targets: Vec<SocketAddr>,
    count: usize,
) -> Result<Outcome> {
    let writer = Writer::start(targets, pair.keys.clone());
    let started = Instant::now();
    let result = failovers(server, pair, &writer, count).await;
    let log = writer.stop();
    let seconds = started.elapsed().as_secs_f64();
    let millis = result?;
    // The pair may have swapped any number of times: ask which is primary now.
    let primary = count % 2;
    let (name, _) = &pair.caches[primary];
    let addr = server.node_addr(name).await?;
    let mut connection = connect_blocking(addr, Some(&pair.keys[primary]), IO_TIMEOUT)?;
    let stored = stored_numbers(&mut connection)?;
    let lost = log
        .acknowledged
        .iter()
        .filter(|n| !stored.contains(n))
        .count();
    Ok(Outcome {
        millis,
        lost,
        acknowledged: log.acknowledged.len(),
        failed: log.failed,
        rate: log.acknowledged.len() as f64 / seconds,
    })
}

/// The failovers themselves, with the writer running.
async fn failovers(server: &Arm, pair: &Pair, writer: &Writer, count: usize) -> Result<Vec<f64>> {
    let mut millis = Vec::new();
    for round in 0..count {
        let (primary, secondary) = if round % 2 == 0 { (0, 1) } else { (1, 0) };
        let (primary_name, primary_location) = &pair.caches[primary];
        let (secondary_name, _) = &pair.caches[secondary];
        server
            .wait_for_link(
                primary_name,
                secondary_name,
                Duration::from_millis(100),
                Duration::from_secs(300),
            )
            .await?;
        // Let the steady load run on the settled link first.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let new_primary = run_id_of(server, secondary_name, &pair.keys[secondary]).await?;
        let asked = Instant::now();
        server
            .put_link(secondary_name, primary_name, primary_location)
            .await?;
        let acknowledged = writer
            .first_ack_after(asked, &new_primary, FAILOVER_TIMEOUT)
            .await
            .with_context(|| {
                format!(
                    "failover {} to {secondary_name}: no write acknowledged by the new primary within {FAILOVER_TIMEOUT:?}",
                    round + 1
                )
            })?;
        let ms = acknowledged.duration_since(asked).as_secs_f64() * 1000.0;
        say(format!(
            "    failover {} ({primary_name} → {secondary_name}): {ms:.0} ms to the first acknowledged write",
            round + 1
        ));
        millis.push(ms);
    }
    let last = count % 2;
    server
        .wait_for_link(
            &pair.caches[last].0,
            &pair.caches[1 - last].0,
            Duration::from_millis(100),
            Duration::from_secs(300),
        )
        .await?;
    Ok(millis)
}

/// Every number in the writer's list.
fn stored_numbers(connection: &mut Connection) -> Result<HashSet<u64>> {
    let items: Vec<u64> = redis::cmd("LRANGE")
        .arg(LIST)
        .arg(0)
        .arg(-1)
        .query(connection)
        .with_context(|| format!("LRANGE {LIST}"))?;
    Ok(items.into_iter().collect())
}

/// What the writer saw.
#[derive(Debug, Default)]
struct WriterLog {
    /// Acknowledged sequence numbers.
    acknowledged: Vec<u64>,
    /// When each acknowledgement came, and from which node (its `run_id`).
    acks: Vec<(Instant, Arc<str>)>,
    /// Writes that got an error or no answer.
    failed: usize,
}

/// A thread writing at a steady pace until stopped.
struct Writer {
    log: Arc<Mutex<WriterLog>>,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl Writer {
    fn start(targets: Vec<SocketAddr>, keys: [String; 2]) -> Writer {
        let log = Arc::new(Mutex::new(WriterLog::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (log, stop) = (log.clone(), stop.clone());
            std::thread::spawn(move || write_until_stopped(&targets, &keys, &log, &stop))
        };
        Writer { log, stop, thread }
    }

    /// When the first write acknowledged by the node `run_id` at or after
    /// `since` came, waiting at most `timeout` for one.
    async fn first_ack_after(
        &self,
        since: Instant,
        run_id: &str,
        timeout: Duration,
    ) -> Option<Instant> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(log) = self.log.lock() {
                let found = log
                    .acks
                    .iter()
                    .rev()
                    .take_while(|(at, _)| *at >= since)
                    .filter(|(_, node)| &**node == run_id)
                    .map(|(at, _)| *at)
                    .last();
                if found.is_some() {
                    return found;
                }
            }
            if Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    fn stop(self) -> WriterLog {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        std::mem::take(&mut *self.log.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// The writer's loop.
fn write_until_stopped(
    targets: &[SocketAddr],
    keys: &[String; 2],
    log: &Mutex<WriterLog>,
    stop: &AtomicBool,
) {
    let mut target = 0;
    let mut connection: Option<(Connection, Arc<str>)> = None;
    let mut sequence = 0_u64;
    let mut next = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        }
        next = (next + PACE).max(Instant::now());
        if connection.is_none() {
            match connect(targets[target], keys) {
                Ok(opened) => connection = Some(opened),
                Err(_) => {
                    // Down or refusing: try the next address after a pause.
                    target = (target + 1) % targets.len();
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                }
            }
        }
        let Some((link, node)) = connection.as_mut() else {
            continue;
        };
        let node = node.clone();
        sequence += 1;
        let answer: redis::RedisResult<i64> =
            redis::cmd("RPUSH").arg(LIST).arg(sequence).query(link);
        let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
        match answer {
            Ok(_) => {
                log.acknowledged.push(sequence);
                log.acks.push((Instant::now(), node));
            }
            _ => {
                // READONLY from a demoted primary, or a closed connection:
                // reconnect (to the next address, when there are several).
                log.failed += 1;
                connection = None;
                target = (target + 1) % targets.len();
            }
        }
    }
}

/// Opens a connection, authenticates with whichever cache's key the node
/// behind `addr` takes, and learns which node it reached (its `run_id`).
fn connect(addr: SocketAddr, keys: &[String; 2]) -> Result<(Connection, Arc<str>)> {
    let mut connection = None;
    for key in keys {
        if let Ok(opened) = connect_blocking(addr, Some(key), IO_TIMEOUT) {
            connection = Some(opened);
            break;
        }
    }
    let Some(mut connection) = connection else {
        bail!("neither access key opens {addr}");
    };
    let node = run_id(&mut connection)?;
    Ok((connection, node))
}

/// `INFO server`'s `run_id`: which `redis-server` a connection reached.
fn run_id(connection: &mut Connection) -> Result<Arc<str>> {
    let info: String = redis::cmd("INFO").arg("server").query(connection)?;
    Ok(Info(info)
        .get("run_id")
        .context("INFO server has no run_id")?
        .into())
}

/// The `run_id` of cache `name`'s primary node, asked directly with `key`.
async fn run_id_of(server: &Arm, name: &str, key: &str) -> Result<Arc<str>> {
    let addr = server.node_addr(name).await?;
    let key = key.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut connection = connect_blocking(addr, Some(&key), IO_TIMEOUT)?;
        run_id(&mut connection)
    })
    .await?
}
