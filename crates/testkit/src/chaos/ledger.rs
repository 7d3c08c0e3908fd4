//! The writer under chaos and its ledger: every acknowledged write with the
//! moment it was acknowledged, so the end can tell a write lost in a
//! failover's (or a primary node's death's) window from one lost for no
//! reason.
//!
//! It writes as the test kit's `load::writer` does (`SET w:{n} {n}` for
//! n = 1, 2, …, one at a time, a failed write is not acknowledged and makes
//! it connect again), but that writer hands its ledger over only at the
//! end and without times; the chaos run needs to know *when* each write was
//! acknowledged, and to wait for writes to resume after each event.
//! It is paced ([`PACE`]) so the nodes' data stays small enough for the
//! many full syncs and snapshots a chaos run makes on two cores.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use tokio::time::Instant;

/// The pause between two writes.
pub const PACE: Duration = Duration::from_millis(2);
/// How long connecting through the geo-primary URL may take.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);

/// Where the writer writes: the geo-primary URL, `None` while the pair is
/// unlinked (there is no geo-primary URL then).
pub type Target = Arc<Mutex<Option<SocketAddr>>>;

/// What the writer saw.
#[derive(Debug, Default)]
pub struct Written {
    /// Each acknowledged `n`, with when its acknowledgement arrived.
    pub acked: Vec<(u64, Instant)>,
    /// How many times a failed write made it connect again.
    pub reconnects: usize,
}

/// A running writer.
pub struct Writer {
    stop: Arc<AtomicBool>,
    last_acked: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<Written>,
}

impl Writer {
    /// Starts writing through whatever `target` names, with whichever of
    /// `keys` the cache behind it takes (after a failover the geo-primary
    /// URL reaches the other cache, whose keys differ).
    pub fn start(target: Target, keys: Vec<String>) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let last_acked = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(write(target, keys, stop.clone(), last_acked.clone()));
        Writer {
            stop,
            last_acked,
            task,
        }
    }

    /// The last `n` acknowledged so far (0 before the first).
    pub fn last_acked(&self) -> u64 {
        self.last_acked.load(Ordering::Relaxed)
    }

    /// Stops it; what it wrote.
    pub async fn stop(self) -> Written {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.expect("the writer ends")
    }
}

async fn write(
    target: Target,
    keys: Vec<String>,
    stop: Arc<AtomicBool>,
    last_acked: Arc<AtomicU64>,
) -> Written {
    let mut written = Written::default();
    let mut connection: Option<MultiplexedConnection> = None;
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let Some(con) = connection.as_mut() else {
            let addr = *target.lock().unwrap();
            match addr {
                Some(addr) => match connect_with_any(addr, &keys).await {
                    Ok(con) => connection = Some(con),
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                },
                None => tokio::time::sleep(Duration::from_millis(20)).await,
            }
            continue;
        };
        n += 1;
        let set: redis::RedisResult<()> = redis::cmd("SET")
            .arg(format!("w:{n}"))
            .arg(n)
            .query_async(con)
            .await;
        match set {
            Ok(()) => {
                written.acked.push((n, Instant::now()));
                last_acked.store(n, Ordering::Relaxed);
            }
            // READONLY from a demoted node, a closed connection, a paused
            // node timing out: not an acknowledgement, so nothing is owed.
            Err(_) => {
                connection = None;
                written.reconnects += 1;
            }
        }
        tokio::time::sleep(PACE).await;
    }
    written
}

/// A connection to `addr` with whichever of `keys` the cache behind it takes.
pub async fn connect_with_any(
    addr: SocketAddr,
    keys: &[String],
) -> redis::RedisResult<MultiplexedConnection> {
    crate::redis_client::connect_with_any(addr, keys, CONNECT_TIMEOUT).await
}

/// The acknowledged writes missing on `con`: `w:{n}` absent or not `n`.
pub async fn missing_on(con: &mut MultiplexedConnection, acked: &[(u64, Instant)]) -> Vec<u64> {
    let mut missing = Vec::new();
    for chunk in acked.chunks(1000) {
        let names: Vec<String> = chunk.iter().map(|(n, _)| format!("w:{n}")).collect();
        let values: Vec<Option<u64>> = redis::cmd("MGET")
            .arg(&names)
            .query_async(con)
            .await
            .expect("MGET on the final geo-primary");
        for ((n, _), value) in chunk.iter().zip(values) {
            if value != Some(*n) {
                missing.push(*n);
            }
        }
    }
    missing
}

/// The bytes `SET w:{n} {n}` takes in the replication stream: the command
/// exactly as the client sent it, in RESP (`*3\r\n$3\r\nSET\r\n$…`), which
/// is how a primary propagates a plain `SET` (about 40 bytes for the n of
/// a chaos run).
///
/// This is a lower bound on what losing the write lost: the stream also
/// carries the primary's `PING`s (14 bytes every ten seconds) and a
/// `SELECT` after each resync, which are lost with it and not counted here.
/// So "reported ≥ Σ set_bytes(missing)" can only fail if the server really
/// reported fewer bytes than it lost.
pub fn set_bytes(n: u64) -> u64 {
    fn bulk(len: usize) -> u64 {
        // `$len\r\n` + the bytes + `\r\n`.
        (1 + len.to_string().len() + 2 + len + 2) as u64
    }
    let key = format!("w:{n}").len();
    let value = n.to_string().len();
    "*3\r\n".len() as u64 + bulk(3) + bulk(key) + bulk(value)
}

#[cfg(test)]
mod tests {
    use super::set_bytes;

    #[test]
    fn counts_a_set_as_resp() {
        // *3\r\n $3\r\nSET\r\n $3\r\nw:7\r\n $1\r\n7\r\n
        assert_eq!(set_bytes(7), 4 + 9 + 9 + 7);
        assert_eq!(set_bytes(12_345), 4 + 9 + 13 + 11);
        assert_eq!(set_bytes(12_345_678), 4 + 9 + 17 + 14);
    }
}
