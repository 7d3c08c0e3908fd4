//! The data plane as the API tests see it: Redis connections to a cache's
//! nodes or a link's endpoints, `SET`/`GET`, waiting for a write to arrive,
//! `INFO` fields, a full sync made slow, and (from `common`) bounded
//! polling and a writer under load.

use std::net::SocketAddr;
use std::time::Duration;

use redis::aio::MultiplexedConnection;

pub use crate::common::{
    assert_all_present, eventually, set_rdb_key_save_delay, writer, OnFailure, Written,
};

/// 127.0.0.1:`port`.
fn local(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// A Redis connection to 127.0.0.1:`port` as `default` with `password`.
pub async fn redis_connection(port: u16, password: &str) -> MultiplexedConnection {
    crate::common::connect(local(port), password, Duration::from_secs(2))
        .await
        .expect("redis connection")
}

/// A Redis connection to 127.0.0.1:`port` as `default` with `password`, or
/// why not (a wrong key, a closed port). It waits longer to connect than
/// [`redis_connection`]: a geo-primary endpoint holds new connections while
/// a failover runs.
pub async fn try_connect(port: u16, password: &str) -> redis::RedisResult<MultiplexedConnection> {
    crate::common::connect(local(port), password, Duration::from_secs(5)).await
}

/// A connection through `port` with whichever of `keys` the cache behind it
/// takes: after a failover a geo-primary endpoint reaches the other cache,
/// whose keys differ (Azure's passive geo-replication guide: "make sure your application can update the
/// access key it's using").
pub async fn connect_with_any(
    port: u16,
    keys: &[String],
) -> redis::RedisResult<MultiplexedConnection> {
    let mut last = None;
    for key in keys {
        match try_connect(port, key).await {
            Ok(connection) => return Ok(connection),
            Err(error) => last = Some(error),
        }
    }
    Err(last.unwrap_or_else(|| redis::RedisError::from((redis::ErrorKind::Io, "no key given"))))
}

/// `SET key value`.
pub async fn set(
    con: &mut MultiplexedConnection,
    key: &str,
    value: &str,
) -> redis::RedisResult<()> {
    redis::cmd("SET").arg(key).arg(value).query_async(con).await
}

/// `GET key`.
pub async fn get(con: &mut MultiplexedConnection, key: &str) -> redis::RedisResult<Option<String>> {
    redis::cmd("GET").arg(key).query_async(con).await
}

/// What [`eventually_get`] makes of a `GET` that fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnGetError {
    /// Asks again: a replica still (re)syncing answers MASTERDOWN.
    Retry,
    /// Fails the test at once.
    Panic,
}

/// `GET key` up to 50 times, 100 ms apart, until it has a value: a write
/// replicating. `None` if it never came.
pub async fn eventually_get(
    con: &mut MultiplexedConnection,
    key: &str,
    on_error: OnGetError,
) -> Option<String> {
    for _ in 0..50 {
        let value = match get(con, key).await {
            Ok(value) => value,
            Err(e) if on_error == OnGetError::Panic => panic!("GET {key}: {e}"),
            Err(_) => None,
        };
        if value.is_some() {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

/// One field of `INFO {section}` on a node.
pub async fn info_field(con: &mut MultiplexedConnection, section: &str, field: &str) -> String {
    let text: String = redis::cmd("INFO")
        .arg(section)
        .query_async(con)
        .await
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("INFO {section} has no {field}"))
        .trim()
        .to_owned()
}

/// Writes `count` keys `{prefix}{i}` = `i` and makes the node spend 1 ms on
/// each when it snapshots them, so a full sync from it lasts about `count` ms.
pub async fn slow_down_full_sync(con: &mut MultiplexedConnection, prefix: &str, count: usize) {
    let mut mset = redis::cmd("MSET");
    for i in 0..count {
        mset.arg(format!("{prefix}{i}")).arg(i);
    }
    let _: () = mset.query_async(con).await.unwrap();
    set_rdb_key_save_delay(con, 1000).await;
}
