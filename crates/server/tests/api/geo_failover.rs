//! Planned failover through the API and the geo-primary endpoint: nothing
//! acknowledged is lost under load, the roles swap every time, and the old
//! primary rejoins by partial resync.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::support::geo::*;
use crate::support::Server;
use redis::aio::MultiplexedConnection;

/// What the writer saw.
struct Written {
    /// The numbers the server acknowledged.
    acked: Vec<u64>,
    /// How many times it had to connect again.
    reconnects: usize,
}

/// Writes numbered keys through `port` until told to stop, reconnecting
/// (with whichever key the cache behind the endpoint takes) whenever a write
/// fails.
fn writer(port: u16, keys: Vec<String>, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<Written> {
    tokio::spawn(async move {
        let mut written = Written {
            acked: Vec::new(),
            reconnects: 0,
        };
        let mut connection: Option<MultiplexedConnection> = None;
        let mut n = 0u64;
        while !stop.load(Ordering::Relaxed) {
            let Some(con) = connection.as_mut() else {
                match connect_with_any(port, &keys).await {
                    Ok(con) => connection = Some(con),
                    Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
                }
                continue;
            };
            n += 1;
            match set(con, &format!("w:{n}"), &n.to_string()).await {
                Ok(()) => written.acked.push(n),
                // READONLY from the old primary, or the endpoint closed the
                // connection: not acknowledged, so not owed. Reconnect.
                Err(_) => {
                    connection = None;
                    written.reconnects += 1;
                }
            }
        }
        written
    })
}

async fn role(server: &Server, cache: &str) -> String {
    let (key, _) = server.keys(cache).await;
    let mut con = try_connect(cache_port(server, cache).await, &key)
        .await
        .unwrap();
    info_field(&mut con, "replication", "role").await
}

#[tokio::test]
async fn ten_planned_failovers_under_load_lose_no_acknowledged_write() {
    let server = Server::start();
    linked_pair(&server, "east", "west").await;
    // East's own geo-primary endpoint; it follows the pair's primary.
    let endpoint = port(
        &link_of(&server, "west", "east").await["properties"],
        "geoPrimaryEndpoint",
    );
    let keys = vec![server.keys("east").await.0, server.keys("west").await.0];
    let stop = Arc::new(AtomicBool::new(false));
    let writes = writer(endpoint, keys.clone(), stop.clone());

    let (mut primary, mut secondary) = ("east", "west");
    for round in 0..10 {
        // Let some writes through before each failover.
        tokio::time::sleep(Duration::from_millis(100)).await;
        fail_over(&server, secondary, primary).await;
        std::mem::swap(&mut primary, &mut secondary);

        let seen_from_secondary = link_of(&server, secondary, primary).await;
        let properties = &seen_from_secondary["properties"];
        assert_eq!(properties["serverRole"], "Primary", "round {round}");
        assert_eq!(properties["provisioningState"], "Succeeded");
        assert_eq!(properties["lastFailover"]["kind"], "Planned");
        assert_eq!(properties["lastFailover"]["bytesPossiblyLost"], 0);
        assert_eq!(role(&server, primary).await, "master", "round {round}");
        assert_eq!(role(&server, secondary).await, "slave", "round {round}");
        // The endpoint stays where it was.
        assert_eq!(
            port(
                &link_of(&server, "west", "east").await["properties"],
                "geoPrimaryEndpoint"
            ),
            endpoint
        );
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.store(true, Ordering::Relaxed);
    let Written { acked, reconnects } = writes.await.unwrap();

    // Ten swaps end where they began.
    assert_eq!(primary, "east");
    assert!(
        acked.len() > 10,
        "only {} writes were acknowledged",
        acked.len()
    );
    // Every failover closed the writer's connection to the old primary, and
    // it wrote on through the same endpoint.
    assert!(reconnects >= 10, "only {reconnects} reconnections");
    let (key, _) = server.keys("east").await;
    let mut east = try_connect(cache_port(&server, "east").await, &key)
        .await
        .unwrap();
    for chunk in acked.chunks(1000) {
        let names: Vec<String> = chunk.iter().map(|n| format!("w:{n}")).collect();
        let values: Vec<Option<u64>> = redis::cmd("MGET")
            .arg(&names)
            .query_async(&mut east)
            .await
            .unwrap();
        for (n, value) in chunk.iter().zip(values) {
            assert_eq!(value, Some(*n), "acknowledged write w:{n} is missing");
        }
    }
}

async fn sync_full_of(server: &Server, cache: &str) -> Vec<(u16, u64)> {
    let (key, _) = server.keys(cache).await;
    let mut counts = Vec::new();
    for port in node_ports(server, cache).await {
        let mut con = try_connect(port, &key).await.unwrap();
        let count = info_field(&mut con, "stats", "sync_full").await;
        counts.push((port, count.parse().unwrap()));
    }
    counts
}

#[tokio::test]
async fn a_planned_failover_resyncs_partially() {
    let server = Server::start();
    linked_pair(&server, "north", "south").await;
    let (key, _) = server.keys("north").await;
    let mut north = try_connect(cache_port(&server, "north").await, &key)
        .await
        .unwrap();
    for i in 0..500 {
        set(&mut north, &format!("k{i}"), &"x".repeat(64))
            .await
            .unwrap();
    }
    let before = (
        sync_full_of(&server, "north").await,
        sync_full_of(&server, "south").await,
    );

    fail_over(&server, "south", "north").await;
    let after = (
        sync_full_of(&server, "north").await,
        sync_full_of(&server, "south").await,
    );
    assert_eq!(after, before, "a node served a full sync");

    // And back: still no full sync anywhere.
    fail_over(&server, "north", "south").await;
    let back = (
        sync_full_of(&server, "north").await,
        sync_full_of(&server, "south").await,
    );
    assert_eq!(back, before, "a node served a full sync");
}
