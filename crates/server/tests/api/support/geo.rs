//! Linked pairs through the API: creating and linking them, the failover
//! request, the link's resources and endpoints, a cache's address, its
//! nodes' addresses and processes, who listens on an address, and the
//! metrics and timeline extensions.

use std::net::{Ipv4Addr, SocketAddr};

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{cache_path_in, link_body, loopback, Server, API, RG, SUB};

/// The Azure Monitor api-version the metrics tests speak.
pub const MONITOR_API: &str = "2023-10-01";

/// Creates two Premium P1 caches, `primary` in eastus and `secondary` in
/// westus2, without linking them.
pub async fn create_pair(server: &Server, primary: &str, secondary: &str) {
    server
        .create_cache(&Server::cache_path(primary), "eastus", json!({}))
        .await;
    server
        .create_cache(&Server::cache_path(secondary), "westus2", json!({}))
        .await;
}

/// Creates two Premium P1 caches and links `secondary` to `primary`.
pub async fn linked_pair(server: &Server, primary: &str, secondary: &str) -> Value {
    create_pair(server, primary, secondary).await;
    server.link(primary, secondary).await
}

/// Links `large` (a Premium P2 in westus2) to `small` (a P1 in eastus): a
/// pair that may not fail over.
pub async fn linked_pair_of_different_sizes(server: &Server, small: &str, large: &str) -> Value {
    server
        .create_cache(&Server::cache_path(small), "eastus", json!({}))
        .await;
    server
        .create_cache(
            &Server::cache_path(large),
            "westus2",
            json!({"sku": {"name": "Premium", "family": "P", "capacity": 2}}),
        )
        .await;
    server.link(small, large).await
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
    format!("{}/linkedServers/{peer}", cache_path_in(SUB, RG, owner))
}

/// The failover request: `PUT` on `on` (the current geo-secondary) naming
/// `peer` (the current geo-primary), with the `x-georep-failover` extension
/// naming the `kind`, `planned` or `forced`. (Without it, as the SDK sends
/// it, the request is [`Server::put_link`]`(on, peer)`: a planned failover.)
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

/// The address of an `{"host", "port"}` endpoint in a link's properties.
pub fn endpoint(properties: &Value, field: &str) -> SocketAddr {
    let endpoint = &properties[field];
    loopback(&endpoint["host"], &endpoint["port"], field)
}

/// A cache's address: its `hostName` and `port`, which its (first shard's)
/// primary node serves.
pub async fn cache_address(server: &Server, name: &str) -> SocketAddr {
    let cache = server.get_json(&Server::cache_path(name)).await;
    let p = &cache["properties"];
    loopback(&p["hostName"], &p["port"], &format!("{name}'s hostName"))
}

/// One node of a cache as `instances[]` lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instance {
    /// Its own address: `host` and `nonSslPort`.
    pub addr: SocketAddr,
    /// Its shard (0 when not clustered).
    pub shard: u64,
    /// Whether it is its shard's primary within the cache.
    pub is_primary: bool,
}

/// Every node of a cache, as `instances[]` lists them.
pub async fn instances(server: &Server, name: &str) -> Vec<Instance> {
    let cache = server.get_json(&Server::cache_path(name)).await;
    cache["properties"]["instances"]
        .as_array()
        .unwrap_or_else(|| panic!("{name} has no instances: {cache}"))
        .iter()
        .map(|i| Instance {
            addr: loopback(&i["host"], &i["nonSslPort"], &format!("a node of {name}")),
            shard: i["shardId"].as_u64().unwrap_or(0),
            is_primary: i["isPrimary"] == true,
        })
        .collect()
}

/// Every node address of a cache.
pub async fn node_addresses(server: &Server, name: &str) -> Vec<SocketAddr> {
    instances(server, name)
        .await
        .into_iter()
        .map(|i| i.addr)
        .collect()
}

/// The address of a cache's first shard's primary node: the node that
/// serves the cache's address (and, while the cache is a geo-primary, the
/// link's geo-primary URLs).
pub async fn primary_node(server: &Server, name: &str) -> SocketAddr {
    instances(server, name)
        .await
        .into_iter()
        .find(|i| i.is_primary && i.shard == 0)
        .unwrap_or_else(|| panic!("{name} has no primary node"))
        .addr
}

/// The process serving the node at `addr` (nodes run in `DATA_DIR/nodes/{address}`).
pub fn node_pid(server: &Server, addr: SocketAddr) -> u32 {
    server.node_pid(addr).unwrap_or_else(|| {
        let dir = server.data_dir().join("nodes").join(addr.ip().to_string());
        let pids = super::processes_under(&dir);
        panic!("one process serves node {addr}: {pids:?}")
    })
}

/// `kill -9` of the node at `addr`.
pub fn kill_node(server: &Server, addr: SocketAddr) {
    let pid = node_pid(server, addr);
    let status = std::process::Command::new("kill")
        .arg("-9")
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

/// Sends `signal` (`KILL`, `STOP`, `CONT`) to every node of `cache`.
pub async fn signal_every_node(server: &Server, cache: &str, signal: &str) {
    for addr in node_addresses(server, cache).await {
        let pid = node_pid(server, addr);
        let status = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal} {pid}");
    }
}

/// `kill -9` of every node of `cache`: the whole cache is lost (with one
/// node gone, its replica would take over).
pub async fn kill_every_node(server: &Server, cache: &str) {
    signal_every_node(server, cache, "KILL").await;
}

/// `kill -STOP` of every node of `cache`: the cache stops answering at
/// once, but the in-cache watchdog only gives up on its primary after two
/// missed probes, a second or more later. So a request made right after
/// acts on a cache that is gone as far as anyone can tell, before the
/// watchdog replaces anything; [`kill_every_node`] can follow.
pub async fn freeze_every_node(server: &Server, cache: &str) {
    signal_every_node(server, cache, "STOP").await;
}

/// The processes holding a socket that listens on `addr` (TCP, IPv4), read
/// from `/proc/net/tcp` and each process's `/proc/{pid}/fd`.
pub fn listeners_of(addr: SocketAddr) -> Vec<u32> {
    let SocketAddr::V4(addr) = addr else {
        panic!("{addr} is not IPv4");
    };
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    let inodes: Vec<String> = table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (local, state, inode) = (fields.get(1)?, fields.get(3)?, fields.get(9)?);
            let (ip, port) = local.split_once(':')?;
            // The kernel prints the address as the native-endian number of
            // its network-order bytes, the port as a plain number.
            let ip = Ipv4Addr::from(u32::from_str_radix(ip, 16).ok()?.to_ne_bytes());
            let port = u16::from_str_radix(port, 16).ok()?;
            // 0A: LISTEN.
            (*state == "0A" && ip == *addr.ip() && port == addr.port())
                .then(|| format!("socket:[{inode}]"))
        })
        .collect();
    if inodes.is_empty() {
        return vec![];
    }
    let mut holders: Vec<u32> = std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let fds = std::fs::read_dir(entry.path().join("fd")).ok()?;
            fds.filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
                .any(|target| inodes.iter().any(|i| target.as_os_str() == i.as_str()))
                .then_some(pid)
        })
        .collect();
    holders.sort_unstable();
    georep_testkit::process::without_forks(holders)
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

/// Whether an id in a response is `expected`, compared as ARM compares ids
/// (without regard to case).
pub fn same_id(id: &Value, expected: &str) -> bool {
    id.as_str()
        .is_some_and(|id| id.eq_ignore_ascii_case(expected))
}
