//! What both test binaries (`api` and `nodes`) use, included by each as
//! `common`: Redis connections as an application makes them, bounded
//! polling, and a writer under load with the check that nothing it was
//! told was written went missing.
#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::{
    AsyncConnectionConfig, Client, ConnectionAddr, IntoConnectionInfo, RedisConnectionInfo,
};

/// Connects to `addr` like `redis-cli -h HOST -p PORT -a PASSWORD` (the
/// `default` user), giving up on connecting after `connect_timeout`.
pub async fn connect(
    addr: SocketAddr,
    password: &str,
    connect_timeout: Duration,
) -> redis::RedisResult<MultiplexedConnection> {
    connect_with(
        addr,
        RedisConnectionInfo::default(),
        password,
        connect_timeout,
    )
    .await
}

/// Connects to `addr` as `user` with `password`, like
/// `redis-cli --user USER --pass PASSWORD`.
pub async fn connect_as(
    addr: SocketAddr,
    user: &str,
    password: &str,
    connect_timeout: Duration,
) -> redis::RedisResult<MultiplexedConnection> {
    let settings = RedisConnectionInfo::default().set_username(user);
    connect_with(addr, settings, password, connect_timeout).await
}

async fn connect_with(
    addr: SocketAddr,
    settings: RedisConnectionInfo,
    password: &str,
    connect_timeout: Duration,
) -> redis::RedisResult<MultiplexedConnection> {
    let info = ConnectionAddr::Tcp(addr.ip().to_string(), addr.port())
        .into_connection_info()?
        .set_redis_settings(settings.set_password(password).set_skip_set_lib_name());
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(connect_timeout))
        .set_response_timeout(Some(Duration::from_secs(10)));
    Client::open(info)?
        .get_multiplexed_async_connection_with_config(&config)
        .await
}

/// Polls `probe` every 100 ms until it returns `Some`, for at most `limit`.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "gave up waiting for {what} after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `CONFIG SET rdb-key-save-delay {micros}`: how long the node spends on
/// each key of a snapshot, so a full sync can be made to last.
pub async fn set_rdb_key_save_delay(con: &mut MultiplexedConnection, micros: u64) {
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("rdb-key-save-delay")
        .arg(micros)
        .query_async(con)
        .await
        .unwrap();
}

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
