//! The three addresses of a linked pair (geo-primary, current primary,
//! current secondary), as real Redis endpoints: named by the link, moved by
//! a failover, kept across a restart, gone after unlink; and the
//! geo-primary URL served by the geo-primary's own `redis-server`.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::support::{
    cache_address, endpoint, eventually, fail_over, get, info_field, link_of, linked_pair,
    listeners_of, node_pid, primary_node, set, try_connect, Server,
};
use redis::aio::MultiplexedConnection;
use serde_json::Value;

/// Every endpoint of the pair, as both caches' link resources report it.
struct Endpoints {
    /// `blue`'s geo-primary endpoint (read from `green`'s resource, which describes `blue`).
    blue_geo: SocketAddr,
    /// `green`'s geo-primary endpoint.
    green_geo: SocketAddr,
    primary: SocketAddr,
    secondary: SocketAddr,
}

async fn endpoints(server: &Server) -> Endpoints {
    let about_green: Value = link_of(server, "blue", "green").await;
    let about_blue: Value = link_of(server, "green", "blue").await;
    let (g, b) = (&about_green["properties"], &about_blue["properties"]);
    for p in [g, b] {
        // ARM's names for them (host names, no port): the unchanging
        // geo-primary host, and the current geo-primary's own.
        assert_eq!(
            p["geoReplicatedPrimaryHostName"],
            endpoint(p, "geoPrimaryEndpoint").ip().to_string(),
            "{p}"
        );
        assert_eq!(
            p["primaryHostName"],
            endpoint(p, "currentPrimaryEndpoint").ip().to_string(),
            "{p}"
        );
    }
    assert_eq!(
        endpoint(g, "currentPrimaryEndpoint"),
        endpoint(b, "currentPrimaryEndpoint")
    );
    assert_eq!(
        endpoint(g, "currentSecondaryEndpoint"),
        endpoint(b, "currentSecondaryEndpoint")
    );
    Endpoints {
        green_geo: endpoint(g, "geoPrimaryEndpoint"),
        blue_geo: endpoint(b, "geoPrimaryEndpoint"),
        primary: endpoint(g, "currentPrimaryEndpoint"),
        secondary: endpoint(g, "currentSecondaryEndpoint"),
    }
}

async fn ping(con: &mut MultiplexedConnection) -> String {
    redis::cmd("PING").query_async(con).await.unwrap()
}

#[tokio::test]
async fn the_pairs_endpoints_serve_redis_follow_failover_and_go_with_the_link() {
    let mut server = Server::start();
    linked_pair(&server, "blue", "green").await;
    let (blue_key, _) = server.keys("blue").await;
    let (green_key, _) = server.keys("green").await;

    let before = endpoints(&server).await;
    // Four addresses of their own: neither geo-primary URL is a cache's.
    let all = [
        before.blue_geo.ip(),
        before.green_geo.ip(),
        before.primary.ip(),
        before.secondary.ip(),
    ];
    let distinct: std::collections::BTreeSet<_> = all.iter().collect();
    assert_eq!(distinct.len(), 4, "addresses collide: {all:?}");
    assert_eq!(before.primary, cache_address(&server, "blue").await);
    assert_eq!(before.secondary, cache_address(&server, "green").await);

    // Each address takes real Redis connections: both geo-primary endpoints
    // and the current primary take writes; the secondary serves reads.
    let mut blue_geo = try_connect(before.blue_geo, &blue_key).await.unwrap();
    assert_eq!(ping(&mut blue_geo).await, "PONG");
    set(&mut blue_geo, "via", "blue-geo").await.unwrap();
    let mut green_geo = try_connect(before.green_geo, &blue_key).await.unwrap();
    set(&mut green_geo, "via2", "green-geo").await.unwrap();
    let mut primary = try_connect(before.primary, &blue_key).await.unwrap();
    assert_eq!(
        get(&mut primary, "via").await.unwrap().as_deref(),
        Some("blue-geo")
    );
    let mut secondary = try_connect(before.secondary, &green_key).await.unwrap();
    let value = eventually(
        "the write to replicate",
        std::time::Duration::from_secs(10),
        || {
            let mut secondary = secondary.clone();
            async move { get(&mut secondary, "via2").await.ok().flatten() }
        },
    )
    .await;
    assert_eq!(value, "green-geo");
    let refused = set(&mut secondary, "x", "1").await.unwrap_err();
    assert_eq!(refused.code(), Some("READONLY"));

    // A failover: the geo-primary endpoints stay put and reach green; the
    // connections they had open to blue are closed; the direct ones swap.
    fail_over(&server, "green", "blue").await;
    let after = endpoints(&server).await;
    assert_eq!(
        (after.blue_geo, after.green_geo),
        (before.blue_geo, before.green_geo)
    );
    assert_eq!(
        (after.primary, after.secondary),
        (before.secondary, before.primary)
    );
    assert!(
        ping_fails(&mut blue_geo).await,
        "a connection to the old primary stayed open"
    );
    let mut blue_geo = try_connect(before.blue_geo, &green_key).await.unwrap();
    set(&mut blue_geo, "after", "failover").await.unwrap();
    assert_eq!(
        get(&mut blue_geo, "via").await.unwrap().as_deref(),
        Some("blue-geo")
    );

    // A restart binds the endpoints again on the same addresses.
    let dir = Arc::clone(&server.dir);
    server.terminate();
    let server = Server::start_with(dir, &[]);
    let restarted = endpoints(&server).await;
    assert_eq!(
        (restarted.blue_geo, restarted.green_geo),
        (before.blue_geo, before.green_geo)
    );
    let mut green_geo = try_connect(before.green_geo, &green_key).await.unwrap();
    assert_eq!(
        get(&mut green_geo, "after").await.unwrap().as_deref(),
        Some("failover")
    );
    set(&mut green_geo, "after-restart", "yes").await.unwrap();

    // Unlink: the endpoints are gone.
    let unlink = server
        .delete(&format!(
            "{}/linkedServers/blue",
            Server::cache_path("green")
        ))
        .await;
    assert_eq!(unlink.status(), reqwest::StatusCode::ACCEPTED);
    server.wait_succeeded(&unlink).await;
    assert!(
        ping_fails(&mut green_geo).await,
        "the endpoint's connections closed"
    );
    for addr in [before.blue_geo, before.green_geo] {
        assert!(
            std::net::TcpStream::connect(addr).is_err(),
            "the geo-primary endpoint {addr} still listens"
        );
    }
    let gone = server
        .get(&format!(
            "{}/linkedServers/blue",
            Server::cache_path("green")
        ))
        .await;
    assert_eq!(gone.status(), reqwest::StatusCode::NOT_FOUND);
    // The caches themselves still serve on their own addresses.
    let mut green = try_connect(after.primary, &green_key).await.unwrap();
    set(&mut green, "alone", "yes").await.unwrap();
}

/// Whether a command on `con` fails (its connection was closed).
async fn ping_fails(con: &mut MultiplexedConnection) -> bool {
    // The close may still be on its way: allow it a moment.
    for _ in 0..50 {
        if redis::cmd("PING").query_async::<String>(con).await.is_err() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}

/// Asserts that `addr` is served by the `redis-server` of `cache`'s primary
/// node and by no other process, georep-server least of all.
async fn assert_served_by_primary_node(server: &Server, addr: SocketAddr, cache: &str) {
    let node = primary_node(server, cache).await;
    let pid = node_pid(server, node);
    let holders = listeners_of(addr);
    assert_eq!(
        holders,
        vec![pid],
        "{addr} should be served by {cache}'s primary node {node} (pid {pid}) alone"
    );
    assert_ne!(Some(pid), server.pid(), "a node is not the control plane");
    let command = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    let command = String::from_utf8_lossy(&command);
    assert!(
        command
            .split(['\0', ' '])
            .next()
            .is_some_and(|program| program.ends_with("redis-server")),
        "{addr} is served by {command:?}"
    );
}

#[tokio::test]
async fn the_geo_primary_url_is_served_by_the_geo_primarys_primary_node() {
    let server = Server::start();
    linked_pair(&server, "blue", "green").await;
    let before = endpoints(&server).await;
    // Both geo-primary URLs, and blue's address, are blue's primary node's;
    // green's address is green's primary node's.
    for addr in [before.blue_geo, before.green_geo, before.primary] {
        assert_served_by_primary_node(&server, addr, "blue").await;
    }
    assert_served_by_primary_node(&server, before.secondary, "green").await;

    // After a planned failover the geo-primary URLs are green's primary
    // node's; each cache keeps its own address.
    fail_over(&server, "green", "blue").await;
    let after = endpoints(&server).await;
    assert_eq!(
        (after.blue_geo, after.green_geo),
        (before.blue_geo, before.green_geo)
    );
    for addr in [before.blue_geo, before.green_geo] {
        assert_served_by_primary_node(&server, addr, "green").await;
    }
    assert_served_by_primary_node(&server, cache_address(&server, "blue").await, "blue").await;
    assert_served_by_primary_node(&server, cache_address(&server, "green").await, "green").await;
    // And the process behind the URL is the primary.
    let (green_key, _) = server.keys("green").await;
    let mut geo = try_connect(before.blue_geo, &green_key).await.unwrap();
    assert_eq!(info_field(&mut geo, "replication", "role").await, "master");
}
