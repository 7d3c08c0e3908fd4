//! The data plane as the API tests see it: the addresses the API names,
//! Redis connections to them (a cache's address, its nodes', a link's
//! endpoints), `SET`/`GET`, waiting for a write to arrive, `INFO` fields, a
//! full sync made slow, and (from `common`) bounded polling and a writer
//! under load.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use redis::aio::MultiplexedConnection;

use super::{primary_node, Server};

pub use crate::common::{
    assert_all_present, eventually, set_rdb_key_save_delay, writer, OnFailure, Written,
};

/// The venv `cargo xtask setup` makes, checked to import `modules` (Python
/// syntax, e.g. `azure.identity, redis`). Set-up installs the clients, so a
/// missing one fails the test rather than skipping it.
pub fn venv_python(modules: &str) -> std::path::PathBuf {
    let python =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.tools/venv/bin/python");
    let found = std::process::Command::new(&python)
        .args(["-c", &format!("import {modules}")])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "this test needs {} with `import {modules}` working: run `cargo xtask setup`",
        python.display()
    );
    python
}

/// The port every node, cache and geo-primary address serves Redis on.
pub const REDIS_PORT: u16 = 6379;

/// `host`:`port` as the API gave them (`what` names where), checked to be
/// what the server hands out: an IPv4 loopback address (127.0.0.0/8) on
/// [`REDIS_PORT`].
pub fn loopback(host: &serde_json::Value, port: &serde_json::Value, what: &str) -> SocketAddr {
    let host = host
        .as_str()
        .unwrap_or_else(|| panic!("{what} has no host: {host}"));
    let ip: Ipv4Addr = host
        .parse()
        .unwrap_or_else(|_| panic!("{what}: {host} is not an IPv4 address"));
    assert!(ip.is_loopback(), "{what}: {ip} is not in 127.0.0.0/8");
    assert_eq!(port.as_u64(), Some(u64::from(REDIS_PORT)), "{what}'s port");
    SocketAddr::from((ip, REDIS_PORT))
}

/// A Redis connection to `addr` as `default` with `password`.
pub async fn redis_connection(addr: SocketAddr, password: &str) -> MultiplexedConnection {
    crate::common::connect(addr, password, Duration::from_secs(2))
        .await
        .unwrap_or_else(|e| panic!("redis connection to {addr}: {e}"))
}

/// A Redis connection to `addr` as `default` with `password`, or why not (a
/// wrong key, nothing listening). It waits longer to connect than
/// [`redis_connection`].
pub async fn try_connect(
    addr: SocketAddr,
    password: &str,
) -> redis::RedisResult<MultiplexedConnection> {
    crate::common::connect(addr, password, Duration::from_secs(5)).await
}

/// A connection to `addr` with whichever of `keys` the cache behind it
/// takes, each tried as [`try_connect`] would: after a failover a geo-primary address reaches the other cache,
/// whose keys differ (Azure's passive geo-replication guide: "make sure
/// your application can update the access key it's using").
pub async fn connect_with_any(
    addr: SocketAddr,
    keys: &[String],
) -> redis::RedisResult<MultiplexedConnection> {
    georep_testkit::redis_client::connect_with_any(addr, keys, Duration::from_secs(5)).await
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
    let info = georep_testkit::redis_client::info(con, section)
        .await
        .unwrap_or_else(|e| panic!("INFO {section}: {e}"));
    info.get(field)
        .unwrap_or_else(|| panic!("INFO {section} has no {field}"))
        .to_owned()
}

/// Writes `count` keys `{prefix}{i}` = `i` into `cache` (with its access
/// key) and makes its primary node spend 1 ms on each when it snapshots
/// them, so a full sync from it lasts about `count` ms. An access key may
/// not run `CONFIG`, so the delay is set as the operator (see
/// [`Server::operator`]); returns that connection, to set it back.
pub async fn slow_down_full_sync(
    server: &Server,
    cache: &str,
    prefix: &str,
    count: usize,
) -> MultiplexedConnection {
    let mut con = server.redis(cache).await;
    let mut mset = redis::cmd("MSET");
    for i in 0..count {
        mset.arg(format!("{prefix}{i}")).arg(i);
    }
    let _: () = mset.query_async(&mut con).await.unwrap();
    let mut operator = server.operator(primary_node(server, cache).await).await;
    set_rdb_key_save_delay(&mut operator, 1000).await;
    operator
}
