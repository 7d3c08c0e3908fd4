//! Helpers of the geo-replication API tests (`geo_*.rs`), on top of the
//! API harness in `support`: linked pairs, failover requests, the link's
//! endpoints, Redis clients that find the right access key, node processes,
//! and bounded waits.
#![allow(dead_code)]

use std::future::Future;
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::IntoConnectionInfo;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{self, link_body, Server, API, SUB};

/// The Azure Monitor api-version the metrics tests speak.
pub const MONITOR_API: &str = "2023-10-01";

/// Creates two Premium P1 caches and links `secondary` to `primary`.
pub async fn linked_pair(server: &Server, primary: &str, secondary: &str) -> Value {
    server
        .create_cache(&Server::cache_path(primary), "eastus", json!({}))
        .await;
    server
        .create_cache(&Server::cache_path(secondary), "westus2", json!({}))
        .await;
    server.link(primary, secondary).await
}

/// `GET {owner}/linkedServers/{peer}`'s body.
pub async fn link_of(server: &Server, owner: &str, peer: &str) -> Value {
    let response = server
        .get(&format!(
            "{}/linkedServers/{peer}",
            Server::cache_path(owner)
        ))
        .await;
    assert_eq!(response.status(), StatusCode::OK, "link {owner} -> {peer}");
    response.json().await.unwrap()
}

/// The linked-server id of `{owner}/linkedServers/{peer}`.
pub fn linked_server_id(owner: &str, peer: &str) -> String {
    format!(
        "{}/linkedServers/{peer}",
        support::cache_path_in(SUB, support::RG, owner)
    )
}

/// The failover request: `PUT` on `on` (the current geo-secondary) naming
/// `peer` (the current geo-primary), `planned` or `forced`.
pub async fn request_failover(
    server: &Server,
    on: &str,
    peer: &str,
    kind: &str,
) -> reqwest::Response {
    let path = format!(
        "{}/linkedServers/{peer}?api-version={API}&x-georep-failover={kind}",
        Server::cache_path(on)
    );
    server.put(&path, link_body(SUB, peer, "westeurope")).await
}

/// A planned failover to `on`, waited for until it succeeds.
pub async fn fail_over(server: &Server, on: &str, peer: &str) {
    let response = request_failover(server, on, peer, "planned").await;
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "failover to {on}: {}",
        response.text().await.unwrap_or_default()
    );
    let op = server.wait_operation(&response).await;
    assert_eq!(op["status"], "Succeeded", "failover to {on}: {op}");
}

/// The port of an `{"host", "port"}` endpoint in a link's properties.
pub fn port(properties: &Value, field: &str) -> u16 {
    let endpoint = &properties[field];
    assert_eq!(endpoint["host"], "127.0.0.1", "{field}: {properties}");
    endpoint["port"]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} has no port: {properties}")) as u16
}

/// A cache's direct port (its first shard's primary node).
pub async fn cache_port(server: &Server, name: &str) -> u16 {
    let cache: Value = server
        .get(&Server::cache_path(name))
        .await
        .json()
        .await
        .unwrap();
    cache["properties"]["port"].as_u64().unwrap() as u16
}

/// Every node port of a cache.
pub async fn node_ports(server: &Server, name: &str) -> Vec<u16> {
    let cache: Value = server
        .get(&Server::cache_path(name))
        .await
        .json()
        .await
        .unwrap();
    cache["properties"]["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["nonSslPort"].as_u64().unwrap() as u16)
        .collect()
}

/// A Redis connection to 127.0.0.1:`port` as `default` with `password`, or
/// why not (a wrong key, a closed port).
pub async fn try_connect(port: u16, password: &str) -> redis::RedisResult<MultiplexedConnection> {
    let info = redis::ConnectionAddr::Tcp("127.0.0.1".into(), port)
        .into_connection_info()?
        .set_redis_settings(
            redis::RedisConnectionInfo::default()
                .set_password(password)
                .set_skip_set_lib_name(),
        );
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(5)))
        .set_response_timeout(Some(Duration::from_secs(10)));
    redis::Client::open(info)?
        .get_multiplexed_async_connection_with_config(&config)
        .await
}

/// A connection through `port` with whichever of `keys` the cache behind it
/// takes: after a failover a geo-primary endpoint reaches the other cache,
/// whose keys differ (the seed: "make sure your application can update the
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

/// The process serving a node port (nodes run in `DATA_DIR/nodes/{port}`).
pub fn node_pid(server: &Server, port: u16) -> u32 {
    let pids = support::processes_under(&server.data_dir().join("nodes").join(port.to_string()));
    assert_eq!(pids.len(), 1, "one process serves node {port}: {pids:?}");
    pids[0]
}

/// `kill -9` of the node on `port`.
pub fn kill_node(server: &Server, port: u16) {
    let pid = node_pid(server, port);
    let status = std::process::Command::new("kill")
        .arg("-9")
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

/// Polls `probe` until it returns `Some`, for at most `limit`.
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
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The body of an operation's `Azure-AsyncOperation` status.
pub async fn operation_status(server: &Server, url: &str) -> Value {
    server
        .http()
        .get(url)
        .bearer_auth(&server.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// `GET {cache}/providers/Microsoft.Insights/metrics?{query}`.
pub async fn metrics(server: &Server, cache: &str, query: &str) -> reqwest::Response {
    server
        .get(&format!(
            "{}/providers/Microsoft.Insights/metrics?api-version={MONITOR_API}&{query}",
            Server::cache_path(cache)
        ))
        .await
}

/// The data points of the first metric of a metrics response.
pub fn points(response: &Value) -> Vec<Value> {
    response["value"][0]["timeseries"][0]["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data points: {response}"))
        .clone()
}

/// A link's timeline, as its `kind`s.
pub async fn timeline_kinds(server: &Server, linked_server_id: &str) -> Vec<String> {
    let response = server
        .get(&format!("/x-georep/timeline?link={linked_server_id}"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}
