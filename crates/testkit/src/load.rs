//! A writer under load, and the check that nothing it was told was
//! written went missing: the ledger of acknowledged writes that failover
//! and crash tests keep.
//!
//! The writer writes `SET w:{n} {n}` for n = 1, 2, … through connections
//! it makes itself, so a test can aim it at a geo-primary endpoint and
//! fail over underneath it.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use redis::aio::MultiplexedConnection;

/// What a writer under load saw.
#[derive(Debug, Default)]
pub struct Written {
    /// The numbers the server acknowledged.
    pub acked: Vec<u64>,
    /// How many times a failed write made it connect again.
    pub reconnects: usize,
}

/// What a writer does when a write fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnFailure {
    /// Connects again and writes on: READONLY from the old primary, or a
    /// geo-primary endpoint closing the connection, is not an
    /// acknowledgement, so nothing is owed.
    Reconnect,
    /// Stops writing (READONLY once the node stepped down, or a dropped
    /// connection). The first connection must succeed.
    Stop,
}

/// Writes `SET w:{n} {n}` for n = 1, 2, … until `stop` is set, through
/// connections that `connect` makes.
pub fn writer<C, Fut>(
    mut connect: C,
    on_failure: OnFailure,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<Written>
where
    C: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = redis::RedisResult<MultiplexedConnection>> + Send,
{
    tokio::spawn(async move {
        let mut written = Written::default();
        let mut connection: Option<MultiplexedConnection> = None;
        let mut n = 0u64;
        while !stop.load(Ordering::Relaxed) {
            let Some(con) = connection.as_mut() else {
                match connect().await {
                    Ok(con) => connection = Some(con),
                    Err(e) if on_failure == OnFailure::Stop => {
                        panic!("the writer cannot connect: {e}")
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
                }
                continue;
            };
            n += 1;
            let set: redis::RedisResult<()> = redis::cmd("SET")
                .arg(format!("w:{n}"))
                .arg(n)
                .query_async(con)
                .await;
            match (set, on_failure) {
                (Ok(()), _) => written.acked.push(n),
                (Err(_), OnFailure::Reconnect) => {
                    connection = None;
                    written.reconnects += 1;
                }
                (Err(_), OnFailure::Stop) => break,
            }
        }
        written
    })
}

/// Asserts that every acknowledged `w:{n}` holds `n` on `con` (`on` names it).
pub async fn assert_all_present(con: &mut MultiplexedConnection, acked: &[u64], on: &str) {
    for chunk in acked.chunks(1000) {
        let names: Vec<String> = chunk.iter().map(|n| format!("w:{n}")).collect();
        let values: Vec<Option<u64>> = redis::cmd("MGET")
            .arg(&names)
            .query_async(con)
            .await
            .unwrap();
        for (n, value) in chunk.iter().zip(values) {
            assert_eq!(
                value,
                Some(*n),
                "acknowledged write w:{n} is missing on {on}"
            );
        }
    }
}
