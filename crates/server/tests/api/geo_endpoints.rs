//! The three addresses of a linked pair (geo-primary, current primary,
//! current secondary), as real Redis endpoints: named by the link, moved by
//! a failover, kept across a restart, gone after unlink.

use std::sync::Arc;

use crate::support::{
    cache_port, eventually, fail_over, get, link_of, linked_pair, port, set, try_connect, Server,
};
use redis::aio::MultiplexedConnection;
use serde_json::Value;

/// Every endpoint of the pair, as both caches' link resources report it.
struct Endpoints {
    /// `blue`'s geo-primary endpoint (read from `green`'s resource, which describes `blue`).
    blue_geo: u16,
    /// `green`'s geo-primary endpoint.
    green_geo: u16,
    primary: u16,
    secondary: u16,
}

async fn endpoints(server: &Server) -> Endpoints {
    let about_green: Value = link_of(server, "blue", "green").await;
    let about_blue: Value = link_of(server, "green", "blue").await;
    let (g, b) = (&about_green["properties"], &about_blue["properties"]);
    for p in [g, b] {
        // ARM's names for them: the unchanging geo-primary host, and the
        // current geo-primary's own.
        assert_eq!(
            p["geoReplicatedPrimaryHostName"],
            format!("127.0.0.1:{}", port(p, "geoPrimaryEndpoint")),
            "{p}"
        );
        assert_eq!(
            p["primaryHostName"],
            format!("127.0.0.1:{}", port(p, "currentPrimaryEndpoint")),
            "{p}"
        );
    }
    assert_eq!(
        port(g, "currentPrimaryEndpoint"),
        port(b, "currentPrimaryEndpoint")
    );
    assert_eq!(
        port(g, "currentSecondaryEndpoint"),
        port(b, "currentSecondaryEndpoint")
    );
    Endpoints {
        green_geo: port(g, "geoPrimaryEndpoint"),
        blue_geo: port(b, "geoPrimaryEndpoint"),
        primary: port(g, "currentPrimaryEndpoint"),
        secondary: port(g, "currentSecondaryEndpoint"),
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
    assert_ne!(before.blue_geo, before.green_geo);
    assert_eq!(before.primary, cache_port(&server, "blue").await);
    assert_eq!(before.secondary, cache_port(&server, "green").await);

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

    // A restart binds the endpoints again on the same ports.
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
    for port in [before.blue_geo, before.green_geo] {
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
            "the geo-primary endpoint on {port} still listens"
        );
    }
    let gone = server
        .get(&format!(
            "{}/linkedServers/blue",
            Server::cache_path("green")
        ))
        .await;
    assert_eq!(gone.status(), reqwest::StatusCode::NOT_FOUND);
    // The caches themselves still serve on their own ports.
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
