//! A drill's writer: an application's writes through a link's geo-primary
//! URL, as a client would make them (the `default` user, an access key),
//! with a ledger of what was acknowledged and when.
//!
//! It writes `SET {prefix}{n} {n}` for n = 1, 2, … one at a time, so every
//! acknowledgement has its own time and the longest gap between two is the
//! time the URL took no writes. A failed write is not an acknowledgement:
//! the writer connects again (with whichever access key the URL's node
//! takes now: after a failover it is the other cache's) and writes on.
//! Every key it writes starts with the drill's reserved prefix, and
//! [`remove_keys`] deletes exactly those. It connects over TLS (port 6380,
//! checking the node's certificate against the local CA), as an Azure
//! application does, so a drill runs whether or not the plain port is on.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{
    AsyncConnectionConfig, Client, ConnectionAddr, IntoConnectionInfo, RedisConnectionInfo,
    TlsCertificates,
};

use crate::dataplane::node::TLS_PORT;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// How long a connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// How long one write may wait for its reply: longer than a planned
/// failover's write pause, so a paused write is acknowledged, not retried.
const REPLY_TIMEOUT: Duration = Duration::from_secs(2);
/// The pause before connecting again when nothing answers.
const RETRY_PAUSE: Duration = Duration::from_millis(5);
/// Keys checked or deleted per command.
const BATCH: usize = 1000;

/// What the writer saw, once stopped.
#[derive(Debug, Default, Clone)]
pub struct Ledger {
    /// The numbers acknowledged, in order.
    pub acked: Vec<u64>,
    /// When each was acknowledged, since the writer's start.
    pub ack_times: Vec<Duration>,
    /// How many times a failed write made it connect again.
    pub reconnects: u64,
}

impl Ledger {
    /// The longest time between two acknowledged writes.
    pub fn longest_gap(&self) -> Duration {
        self.longest_gap_ending()
            .map(|(gap, _)| gap)
            .unwrap_or_default()
    }

    /// The longest time between two acknowledged writes, and when it ended.
    pub fn longest_gap_ending(&self) -> Option<(Duration, Duration)> {
        self.ack_times
            .windows(2)
            .map(|w| (w[1].saturating_sub(w[0]), w[1]))
            .max()
    }
}

/// The progress a running writer shares.
#[derive(Debug, Default)]
struct Shared {
    stop: AtomicBool,
    acked: AtomicU64,
    longest_gap_us: AtomicU64,
}

/// A running writer.
pub struct DrillWriter {
    shared: Arc<Shared>,
    task: Option<JoinHandle<Ledger>>,
}

/// How a write connects: where, and with which access keys.
#[derive(Clone)]
pub struct Target {
    /// The geo-primary URL.
    pub addr: SocketAddr,
    /// The access keys to try, most likely first.
    pub keys: Vec<String>,
    /// The local CA's certificate (PEM), which every node's certificate chains to.
    pub ca_pem: Arc<str>,
}

// Hand-written so the keys can never reach a log line.
impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Target {
    /// Connects with the first key the node takes, putting it first for
    /// next time.
    pub async fn connect(&mut self) -> redis::RedisResult<MultiplexedConnection> {
        let mut last = None;
        for i in 0..self.keys.len() {
            match connect(self.addr, &self.keys[i], &self.ca_pem).await {
                Ok(connection) => {
                    self.keys.swap(0, i);
                    return Ok(connection);
                }
                Err(error) => last = Some(error),
            }
        }
        Err(last.unwrap_or_else(|| redis::RedisError::from((redis::ErrorKind::Io, "no key"))))
    }
}

/// Connects to `addr`'s TLS port as the `default` user with `key`, as an
/// application does, checking the certificate names `addr`.
async fn connect(
    addr: SocketAddr,
    key: &str,
    ca_pem: &str,
) -> redis::RedisResult<MultiplexedConnection> {
    let info = ConnectionAddr::TcpTls {
        host: addr.ip().to_string(),
        port: TLS_PORT,
        insecure: false,
        tls_params: None,
    }
    .into_connection_info()?
    .set_redis_settings(
        RedisConnectionInfo::default()
            .set_password(key)
            .set_skip_set_lib_name(),
    );
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(REPLY_TIMEOUT));
    let certificates = TlsCertificates {
        client_tls: None,
        root_cert: Some(ca_pem.as_bytes().to_vec()),
    };
    Client::build_with_tls(info, certificates)?
        .get_multiplexed_async_connection_with_config(&config)
        .await
}

impl DrillWriter {
    /// Starts writing `{prefix}{n}` through `target`; times count from `start`.
    pub fn start(mut target: Target, prefix: String, start: Instant) -> DrillWriter {
        let shared = Arc::new(Shared::default());
        let state = shared.clone();
        let task = tokio::spawn(async move {
            let mut ledger = Ledger::default();
            let mut connection: Option<MultiplexedConnection> = None;
            let mut n = 0u64;
            while !state.stop.load(Ordering::Relaxed) {
                let Some(con) = connection.as_mut() else {
                    match target.connect().await {
                        Ok(con) => connection = Some(con),
                        Err(_) => tokio::time::sleep(RETRY_PAUSE).await,
                    }
                    continue;
                };
                n += 1;
                let set: redis::RedisResult<()> = redis::cmd("SET")
                    .arg(format!("{prefix}{n}"))
                    .arg(n)
                    .query_async(con)
                    .await;
                if set.is_err() {
                    connection = None;
                    ledger.reconnects += 1;
                    continue;
                }
                let at = start.elapsed();
                if let Some(previous) = ledger.ack_times.last() {
                    let gap =
                        u64::try_from(at.saturating_sub(*previous).as_micros()).unwrap_or(u64::MAX);
                    state.longest_gap_us.fetch_max(gap, Ordering::Relaxed);
                }
                ledger.acked.push(n);
                ledger.ack_times.push(at);
                state.acked.fetch_add(1, Ordering::Relaxed);
            }
            ledger
        });
        DrillWriter {
            shared,
            task: Some(task),
        }
    }

    /// Writes acknowledged so far, and the longest gap between two.
    pub fn progress(&self) -> (u64, Duration) {
        (
            self.shared.acked.load(Ordering::Relaxed),
            Duration::from_micros(self.shared.longest_gap_us.load(Ordering::Relaxed)),
        )
    }

    /// Stops writing (the write in flight, if any, finishes or times out)
    /// and returns the ledger.
    pub async fn stop(mut self) -> Ledger {
        self.shared.stop.store(true, Ordering::Relaxed);
        match self.task.take() {
            Some(task) => task.await.unwrap_or_default(),
            None => Ledger::default(),
        }
    }
}

impl Drop for DrillWriter {
    fn drop(&mut self) {
        // A drill that ends early must not leave its writer running.
        self.shared.stop.store(true, Ordering::Relaxed);
    }
}

/// The bytes `SET {prefix}{n} {n}` takes in the replication stream (RESP).
pub fn set_bytes(prefix: &str, n: u64) -> u64 {
    let bulk = |len: usize| (1 + len.to_string().len() + 2 + len + 2) as u64;
    let key = format!("{prefix}{n}").len();
    let value = n.to_string().len();
    "*3\r\n".len() as u64 + bulk(3) + bulk(key) + bulk(value)
}

/// The acknowledged numbers of `ledger` whose keys `{prefix}{n}` no longer
/// hold `n` through `target` (the final geo-primary).
pub async fn missing(
    target: &mut Target,
    prefix: &str,
    ledger: &Ledger,
) -> redis::RedisResult<Vec<u64>> {
    let mut con = target.connect().await?;
    let mut missing = Vec::new();
    for chunk in ledger.acked.chunks(BATCH) {
        let names: Vec<String> = chunk.iter().map(|n| format!("{prefix}{n}")).collect();
        let values: Vec<Option<u64>> = redis::cmd("MGET").arg(&names).query_async(&mut con).await?;
        missing.extend(
            chunk
                .iter()
                .zip(values)
                .filter(|(n, value)| *value != Some(**n))
                .map(|(n, _)| *n),
        );
    }
    Ok(missing)
}

/// Deletes every key under `prefix` through `target` (so the deletion
/// replicates); how many there were. `prefix` must end the drill's
/// reserved namespace (`georep:drill:{id}:`), which holds no glob
/// characters.
pub async fn remove_keys(target: &mut Target, prefix: &str) -> redis::RedisResult<u64> {
    debug_assert!(!prefix.contains(['*', '?', '[', '\\']));
    let mut con = target.connect().await?;
    let pattern = format!("{prefix}*");
    let mut removed = 0u64;
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(BATCH)
            .query_async(&mut con)
            .await?;
        if !keys.is_empty() {
            let n: u64 = redis::cmd("UNLINK")
                .arg(&keys)
                .query_async(&mut con)
                .await?;
            removed += n;
        }
        if next == 0 {
            return Ok(removed);
        }
        cursor = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_costs_its_resp_encoding() {
        // *3\r\n $3\r\nSET\r\n $4\r\np:12\r\n $2\r\n12\r\n
        assert_eq!(set_bytes("p:", 12), 4 + 9 + 10 + 8);
    }

    #[test]
    fn the_longest_gap_is_between_two_acknowledgements() {
        let ledger = Ledger {
            acked: vec![1, 2, 3],
            ack_times: vec![
                Duration::from_millis(5),
                Duration::from_millis(6),
                Duration::from_millis(30),
            ],
            reconnects: 0,
        };
        assert_eq!(ledger.longest_gap(), Duration::from_millis(24));
        assert_eq!(
            ledger.longest_gap_ending(),
            Some((Duration::from_millis(24), Duration::from_millis(30)))
        );
        assert_eq!(Ledger::default().longest_gap(), Duration::ZERO);
    }
}
