//! Linked pairs through the API: creating and linking them, the failover
//! request, the link's resources and endpoints, a cache's node ports and
//! processes, and the metrics and timeline extensions.

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{cache_path_in, link_body, Server, API, RG, SUB};

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
    let cache = server.get_json(&Server::cache_path(name)).await;
    cache["properties"]["port"].as_u64().unwrap() as u16
}

/// Every node port of a cache.
pub async fn node_ports(server: &Server, name: &str) -> Vec<u16> {
    let cache = server.get_json(&Server::cache_path(name)).await;
    cache["properties"]["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["nonSslPort"].as_u64().unwrap() as u16)
        .collect()
}

/// The process serving a node port (nodes run in `DATA_DIR/nodes/{port}`).
pub fn node_pid(server: &Server, port: u16) -> u32 {
    let pids = super::processes_under(&server.data_dir().join("nodes").join(port.to_string()));
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

/// Whether an id in a response is `expected`, compared as ARM compares ids
/// (without regard to case).
pub fn same_id(id: &Value, expected: &str) -> bool {
    id.as_str()
        .is_some_and(|id| id.eq_ignore_ascii_case(expected))
}
