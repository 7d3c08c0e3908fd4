//! Planned failover through the API and the geo-primary endpoint: nothing
//! acknowledged is lost under load, the roles swap every time, and the old
//! primary rejoins by partial resync.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::support::{
    assert_all_present, cache_port, connect_with_any, fail_over, info_field, link_of, linked_pair,
    node_ports, port, set, try_connect, writer, OnFailure, Server, Written,
};

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
    // It writes through the endpoint, connecting again (with whichever key
    // the cache behind it takes) whenever a write fails.
    let writes = writer(
        move || {
            let keys = keys.clone();
            async move { connect_with_any(endpoint, &keys).await }
        },
        OnFailure::Reconnect,
        stop.clone(),
    );

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
    assert_all_present(&mut east, &acked, "east").await;
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
