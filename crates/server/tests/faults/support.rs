//! What the fault tests share: a server, caches and links made through the
//! API, the roles the nodes report, and a writer through an address.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use georep_testkit::api::{cache_path, link_body};
use georep_testkit::load::{writer, OnFailure, Written};
use georep_testkit::redis_client::{connect, info};
use georep_testkit::Server;
use serde_json::{json, Value};

pub const RG: &str = "rg-faults";

/// A fresh server on the binary this package built.
pub fn server() -> Server {
    Server::builder()
        .binary(env!("CARGO_BIN_EXE_georep-server"))
        .start()
        .expect("the server starts")
}

/// The subscription a fresh server makes.
pub async fn subscription(server: &Server) -> String {
    server
        .api()
        .subscription_ids()
        .await
        .expect("subscriptions")[0]
        .clone()
}

/// Creates a Premium P1 cache with one replica; its ARM path.
pub async fn premium(server: &Server, name: &str, location: &str) -> String {
    let path = cache_path(&subscription(server).await, RG, name);
    server
        .api()
        .create_cache(&path, location, json!({"replicasPerPrimary": 1}))
        .await
        .expect("the cache is created");
    path
}

/// Links `secondary` as the geo-secondary of `primary` and waits for `Succeeded`.
pub async fn link(server: &Server, primary: &str, secondary: &str) {
    let cache = server.api().get_json(secondary).await;
    let name = cache["name"].as_str().unwrap().to_owned();
    let body = link_body(
        cache["id"].as_str().unwrap(),
        cache["location"].as_str().unwrap(),
    );
    let response = server
        .api()
        .put(&format!("{primary}/linkedServers/{name}"), body)
        .await;
    assert_eq!(response.status(), 201, "link {primary} → {secondary}");
    server
        .api()
        .wait_succeeded(&response)
        .await
        .expect("the link succeeds");
}

/// The linked server resource `primary` has for `secondary`.
pub async fn linked_server(server: &Server, primary: &str, secondary_name: &str) -> Value {
    server
        .api()
        .get_json(&format!("{primary}/linkedServers/{secondary_name}"))
        .await
}

/// `host:port` of an `{"host", "port"}` endpoint.
pub fn endpoint(value: &Value) -> SocketAddr {
    format!("{}:{}", value["host"].as_str().unwrap(), value["port"])
        .parse()
        .unwrap_or_else(|_| panic!("not an endpoint: {value}"))
}

/// The cache's own address (`hostName:port`).
pub async fn address(server: &Server, path: &str) -> SocketAddr {
    let cache = server.api().get_json(path).await;
    format!(
        "{}:{}",
        cache["properties"]["hostName"].as_str().unwrap(),
        cache["properties"]["port"]
    )
    .parse()
    .unwrap()
}

/// The cache's nodes as the API lists them: (address, is primary).
pub async fn instances(server: &Server, path: &str) -> Vec<(SocketAddr, bool)> {
    let cache = server.api().get_json(path).await;
    cache["properties"]["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let addr = format!("{}:{}", i["host"].as_str().unwrap(), i["nonSslPort"]);
            (addr.parse().unwrap(), i["isPrimary"] == true)
        })
        .collect()
}

/// The primary access key.
pub async fn key(server: &Server, path: &str) -> String {
    server.api().keys(path).await.expect("listKeys").0
}

/// `role` from `INFO replication` at `addr` with `key`: `master` or `slave`.
pub async fn role(addr: SocketAddr, key: &str) -> String {
    role_if_up(addr, key)
        .await
        .unwrap_or_else(|| panic!("no role from {addr}"))
}

/// [`role`], or `None` while the node does not answer (it is starting, say).
pub async fn role_if_up(addr: SocketAddr, key: &str) -> Option<String> {
    let mut con = connect(addr, key, Duration::from_secs(2)).await.ok()?;
    let info = info(&mut con, "replication").await.ok()?;
    Some(info.get("role").unwrap_or_default().to_owned())
}

/// Every node's role matches what the API says of it.
pub async fn assert_roles_match(server: &Server, path: &str, key: &str) {
    for (addr, primary) in instances(server, path).await {
        let expected = if primary { "master" } else { "slave" };
        assert_eq!(role(addr, key).await, expected, "{addr} of {path}");
    }
}

/// Writes `count` keys `k:{i}` through `addr`.
pub async fn fill(addr: SocketAddr, key: &str, count: usize) {
    let mut con = connect(addr, key, Duration::from_secs(2)).await.unwrap();
    let mut pipe = redis::pipe();
    for i in 0..count {
        pipe.cmd("SET").arg(format!("k:{i}")).arg(i).ignore();
    }
    pipe.query_async::<()>(&mut con).await.expect("fill");
}

/// `DBSIZE` at `addr`, if it answers.
pub async fn dbsize(addr: SocketAddr, key: &str) -> Option<u64> {
    let mut con = connect(addr, key, Duration::from_secs(2)).await.ok()?;
    redis::cmd("DBSIZE").query_async(&mut con).await.ok()
}

/// A writer through `addr` (reconnecting when a write fails), and how to stop it.
pub fn start_writer(
    addr: SocketAddr,
    key: String,
) -> (Arc<AtomicBool>, tokio::task::JoinHandle<Written>) {
    let stop = Arc::new(AtomicBool::new(false));
    let handle = writer(
        move || {
            let key = key.clone();
            async move { connect(addr, &key, Duration::from_millis(500)).await }
        },
        OnFailure::Reconnect,
        stop.clone(),
    );
    (stop, handle)
}

/// Stops a writer and returns what it wrote.
pub async fn stop_writer(
    stop: Arc<AtomicBool>,
    handle: tokio::task::JoinHandle<Written>,
) -> Written {
    stop.store(true, Ordering::Relaxed);
    handle.await.expect("the writer ends")
}

/// Waits until every node of the cache at `path` holds `keys` keys (a
/// replica has caught up, or a restarted node has resynced).
pub async fn every_node_holds(server: &Server, path: &str, key: &str, keys: u64) {
    for (addr, _) in instances(server, path).await {
        georep_testkit::wait::eventually(
            &format!("{addr} holds {keys} keys"),
            Duration::from_secs(30),
            || async { (dbsize(addr, key).await == Some(keys)).then_some(()) },
        )
        .await;
    }
}

/// The cache's primary node now, as the API names it.
pub async fn primary_node(server: &Server, path: &str) -> SocketAddr {
    instances(server, path)
        .await
        .into_iter()
        .find(|(_, primary)| *primary)
        .map(|(addr, _)| addr)
        .unwrap_or_else(|| panic!("{path} has no primary node"))
}

/// A Premium cache with `keys` keys that every node holds: its path, its
/// primary access key and its address.
pub async fn loaded_premium(
    server: &Server,
    name: &str,
    location: &str,
    keys: usize,
) -> (String, String, SocketAddr) {
    let path = premium(server, name, location).await;
    let key = key(server, &path).await;
    let cache = address(server, &path).await;
    fill(cache, &key, keys).await;
    every_node_holds(server, &path, &key, keys as u64).await;
    (path, key, cache)
}
