//! The steady writer the failover and HA benchmarks run: one thread
//! appending sequence numbers to one list (`RPUSH`), one write a
//! millisecond, one at a time, through connections it makes itself.
//!
//! It asks each connection which node it reached (`INFO server`'s
//! `run_id`, unique to each `redis-server` process, whatever address it
//! answers on), and logs each acknowledgement with when it came (when the
//! reply was read: a write that blocks counts until it returns) and from
//! which node. A write that fails is never retried with the same number:
//! only acknowledged numbers must survive.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use georep_testkit::redis_client::{connect_blocking, Info};
use redis::Connection;

/// Time between two writes.
const PACE: Duration = Duration::from_millis(1);
/// How long one command may take before the writer gives up on it and
/// reconnects.
pub const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// The pause before trying again after a connection could not be made.
const RETRY: Duration = Duration::from_millis(1);

/// Where the writer writes.
#[derive(Debug, Clone)]
pub struct Target {
    /// The addresses it connects to, tried in turn after a failure.
    pub addrs: Vec<SocketAddr>,
    /// The passwords it tries on each connection, the last one that
    /// worked first (`None`: no auth).
    pub passwords: Vec<Option<String>>,
    /// Whether a connection must reach a primary (`INFO replication`'s
    /// `role:master`), as a client that finds the primary itself does;
    /// otherwise it writes to whatever answers, as a client of one URL.
    pub require_primary: bool,
}

/// One acknowledged write.
#[derive(Debug, Clone)]
pub struct Ack {
    /// When its reply was read.
    pub at: Instant,
    /// Its sequence number.
    pub seq: u64,
    /// The `run_id` of the node that acknowledged it.
    pub node: Arc<str>,
}

/// What the writer saw.
#[derive(Debug, Default)]
pub struct Log {
    /// Every acknowledged write, in order.
    pub acks: Vec<Ack>,
    /// Writes that got an error or no answer (not counted as written).
    pub failed: usize,
}

impl Log {
    /// The acknowledged sequence numbers missing from `stored`, leaving
    /// out those in `excused`.
    pub fn missing(&self, stored: &HashSet<u64>, excused: &HashSet<u64>) -> usize {
        self.acks
            .iter()
            .filter(|a| !stored.contains(&a.seq) && !excused.contains(&a.seq))
            .count()
    }
}

/// A thread writing at a steady pace until stopped.
pub struct Writer {
    log: Arc<Mutex<Log>>,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl Writer {
    /// Starts writing to `list` at `target`.
    pub fn start(list: &'static str, target: Target) -> Writer {
        let log = Arc::new(Mutex::new(Log::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (log, stop) = (log.clone(), stop.clone());
            std::thread::spawn(move || write_until_stopped(list, target, &log, &stop))
        };
        Writer { log, stop, thread }
    }

    /// The first acknowledgement read after `after` that `wanted` accepts,
    /// waiting at most `timeout` for one.
    pub async fn first_ack(
        &self,
        after: Instant,
        wanted: impl Fn(&Ack) -> bool,
        timeout: Duration,
    ) -> Option<Ack> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(log) = self.log.lock() {
                let found = log
                    .acks
                    .iter()
                    .rev()
                    .take_while(|a| a.at > after)
                    .filter(|a| wanted(a))
                    .last()
                    .cloned();
                if found.is_some() {
                    return found;
                }
            }
            if Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// The longest time without an acknowledgement that starts between
    /// `from` and `until`: counted from `from`, and, for the gap that is
    /// still open at `until`, until the next acknowledgement (waited for,
    /// at most `timeout`).
    pub async fn longest_gap(
        &self,
        from: Instant,
        until: Instant,
        timeout: Duration,
    ) -> Result<Duration> {
        let next = self
            .first_ack(until, |_| true, timeout)
            .await
            .with_context(|| format!("no write was acknowledged within {timeout:?}"))?;
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        let times: Vec<Instant> = log.acks.iter().map(|a| a.at).collect();
        Ok(longest_gap(&times, from, until, next.at))
    }

    /// The last acknowledgement so far.
    pub fn last_ack(&self) -> Option<Ack> {
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        log.acks.last().cloned()
    }

    /// Stops the thread; what it saw.
    pub fn stop(self) -> Log {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        std::mem::take(&mut *self.log.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// The longest interval between `from`, the acknowledgements after it up
/// to `until`, and `next` (the first one after `until`). `times` is in
/// order.
fn longest_gap(times: &[Instant], from: Instant, until: Instant, next: Instant) -> Duration {
    let inside = times.iter().copied().filter(|&t| t > from && t <= until);
    let points: Vec<Instant> = std::iter::once(from)
        .chain(inside)
        .chain(std::iter::once(next.max(from)))
        .collect();
    points
        .windows(2)
        .map(|w| w[1].saturating_duration_since(w[0]))
        .max()
        .unwrap_or_default()
}

/// Every number in `list`, read through `connection`.
pub fn stored_numbers(connection: &mut Connection, list: &str) -> Result<HashSet<u64>> {
    let items: Vec<u64> = redis::cmd("LRANGE")
        .arg(list)
        .arg(0)
        .arg(-1)
        .query(connection)
        .with_context(|| format!("LRANGE {list}"))?;
    Ok(items.into_iter().collect())
}

/// The writer's loop.
fn write_until_stopped(list: &str, mut target: Target, log: &Mutex<Log>, stop: &AtomicBool) {
    let mut at = 0;
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
            match connect(target.addrs[at], &mut target) {
                Ok(opened) => connection = Some(opened),
                Err(_) => {
                    // Down, refusing, or not the primary: try the next
                    // address after a pause.
                    at = (at + 1) % target.addrs.len();
                    std::thread::sleep(RETRY);
                    continue;
                }
            }
        }
        let Some((link, node)) = connection.as_mut() else {
            continue;
        };
        sequence += 1;
        let answer: redis::RedisResult<i64> =
            redis::cmd("RPUSH").arg(list).arg(sequence).query(link);
        let read = Instant::now();
        let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
        match answer {
            Ok(_) => log.acks.push(Ack {
                at: read,
                seq: sequence,
                node: node.clone(),
            }),
            Err(_) => {
                // READONLY from a demoted primary, or a closed connection:
                // reconnect (to the next address, when there are several).
                log.failed += 1;
                connection = None;
                at = (at + 1) % target.addrs.len();
            }
        }
    }
}

/// Opens a connection to `addr`, authenticates with the first of the
/// target's passwords that works (and tries that one first next time),
/// checks it reached a primary if the target says so, and learns which
/// node it reached (its `run_id`).
fn connect(addr: SocketAddr, target: &mut Target) -> Result<(Connection, Arc<str>)> {
    let mut opened = None;
    for (i, password) in target.passwords.iter().enumerate() {
        match connect_blocking(addr, password.as_deref(), IO_TIMEOUT) {
            Ok(connection) => {
                opened = Some((i, connection));
                break;
            }
            // Nothing listens there: no other password will help.
            Err(e) if e.is_connection_refusal() => break,
            Err(_) => {}
        }
    }
    let Some((worked, mut connection)) = opened else {
        bail!("cannot open {addr} with any of the passwords");
    };
    target.passwords.swap(0, worked);
    if target.require_primary {
        let info: String = redis::cmd("INFO")
            .arg("replication")
            .query(&mut connection)?;
        if Info(info).get("role") != Some("master") {
            bail!("{addr} is not a primary");
        }
    }
    let node = run_id(&mut connection)?;
    Ok((connection, node))
}

/// `INFO server`'s `run_id`: which `redis-server` a connection reached.
pub fn run_id(connection: &mut Connection) -> Result<Arc<str>> {
    let info: String = redis::cmd("INFO").arg("server").query(connection)?;
    Ok(Info(info)
        .get("run_id")
        .context("INFO server has no run_id")?
        .into())
}

/// The `run_id` of the node at `addr`, asked directly with `password`.
pub async fn run_id_at(addr: SocketAddr, password: Option<String>) -> Result<Arc<str>> {
    tokio::task::spawn_blocking(move || {
        let mut connection = connect_blocking(addr, password.as_deref(), IO_TIMEOUT)?;
        run_id(&mut connection)
    })
    .await?
}

/// Every number in `list` on the node at `addr`.
pub async fn stored_at(
    addr: SocketAddr,
    password: Option<String>,
    list: &'static str,
) -> Result<HashSet<u64>> {
    tokio::task::spawn_blocking(move || {
        let mut connection = connect_blocking(addr, password.as_deref(), IO_TIMEOUT)?;
        stored_numbers(&mut connection, list)
    })
    .await?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_gap_starts_at_the_request_and_ends_at_an_ack() {
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        let times = [ms(1), ms(9), ms(11), ms(12), ms(40), ms(41)];
        // From 10: 10→11, 11→12, 12→40 (the writer got nothing for 28 ms).
        assert_eq!(
            longest_gap(&times, ms(10), ms(45), ms(46)),
            Duration::from_millis(28)
        );
        // The gap still open at `until` runs to the next acknowledgement.
        assert_eq!(
            longest_gap(&times, ms(10), ms(20), ms(40)),
            Duration::from_millis(28)
        );
        // Nothing acknowledged inside: from the request to the next one.
        assert_eq!(
            longest_gap(&[], ms(10), ms(20), ms(70)),
            Duration::from_millis(60)
        );
    }
}
