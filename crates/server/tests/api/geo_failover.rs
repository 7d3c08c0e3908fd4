//! Planned failover through the API and the geo-primary URL: nothing
//! acknowledged is lost under load, every connection through the URL
//! reaches the primary, the roles swap every time, and the old primary
//! rejoins by partial resync.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::{
    assert_all_present, cache_address, connect_with_any, endpoint, fail_over, info_field,
    kill_every_node, link_of, linked_pair, node_addresses, node_pid, primary_node, set,
    try_connect, writer, OnFailure, Server, Written,
};

async fn role(server: &Server, cache: &str) -> String {
    let (key, _) = server.keys(cache).await;
    let mut con = try_connect(cache_address(server, cache).await, &key)
        .await
        .unwrap();
    info_field(&mut con, "replication", "role").await
}

/// Where one connection through the geo-primary URL landed.
#[derive(Clone, Debug)]
struct Landing {
    /// `role` of `INFO replication`: `master` or `slave`.
    role: String,
    /// `process_id` of `INFO server`.
    pid: u32,
}

/// What [`failovers_under_load`] saw.
struct Outcome {
    server: Server,
    reconnects: usize,
    landings: Vec<Landing>,
    /// The processes of east's and west's primary nodes.
    primary_nodes: Vec<u32>,
}

/// A linked pair east/west with a writer on east's geo-primary URL, through
/// `rounds` planned failovers alternating direction. Checks every round's
/// roles on the way, and that every acknowledged write is on both caches
/// at the end.
async fn failovers_under_load(rounds: usize) -> Outcome {
    let server = Server::start();
    linked_pair(&server, "east", "west").await;
    // East's own geo-primary URL; it follows the pair's primary.
    let geo = endpoint(
        &link_of(&server, "west", "east").await["properties"],
        "geoPrimaryEndpoint",
    );
    let keys = vec![server.keys("east").await.0, server.keys("west").await.0];
    let stop = Arc::new(AtomicBool::new(false));
    let landings: Arc<Mutex<Vec<Landing>>> = Arc::default();
    // It writes through the URL, connecting again (with whichever key the
    // cache behind it takes) whenever a write fails, and notes where each
    // connection landed.
    let writes = writer(
        {
            let landings = landings.clone();
            move || {
                let (keys, landings) = (keys.clone(), landings.clone());
                async move {
                    let mut con = connect_with_any(geo, &keys).await?;
                    let text: String = redis::cmd("INFO")
                        .arg("replication")
                        .arg("server")
                        .query_async(&mut con)
                        .await?;
                    let field = |name: &str| {
                        text.lines()
                            .find_map(|l| l.strip_prefix(&format!("{name}:")))
                            .unwrap_or_default()
                            .trim()
                            .to_owned()
                    };
                    let landing = Landing {
                        role: field("role"),
                        pid: field("process_id").parse().unwrap_or(0),
                    };
                    landings.lock().unwrap().push(landing);
                    Ok(con)
                }
            }
        },
        OnFailure::Reconnect,
        stop.clone(),
    );

    let (mut primary, mut secondary) = ("east", "west");
    for round in 0..rounds {
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
        // The URL stays where it was.
        assert_eq!(
            endpoint(
                &link_of(&server, "west", "east").await["properties"],
                "geoPrimaryEndpoint"
            ),
            geo
        );
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.store(true, Ordering::Relaxed);
    let Written { acked, reconnects } = writes.await.unwrap();
    assert!(
        acked.len() > rounds,
        "only {} writes were acknowledged",
        acked.len()
    );

    // Every acknowledged write is on the primary, and on the secondary
    // once it has caught up.
    let (key, _) = server.keys(primary).await;
    let mut on_primary = try_connect(cache_address(&server, primary).await, &key)
        .await
        .unwrap();
    assert_all_present(&mut on_primary, &acked, primary).await;
    let _: i64 = redis::cmd("WAIT")
        .arg(2)
        .arg(5000)
        .query_async(&mut on_primary)
        .await
        .unwrap();
    let (key, _) = server.keys(secondary).await;
    let mut on_secondary = try_connect(cache_address(&server, secondary).await, &key)
        .await
        .unwrap();
    assert_all_present(&mut on_secondary, &acked, secondary).await;

    let primary_nodes = vec![
        node_pid(&server, primary_node(&server, "east").await),
        node_pid(&server, primary_node(&server, "west").await),
    ];
    let landings = landings.lock().unwrap().clone();
    Outcome {
        server,
        reconnects,
        landings,
        primary_nodes,
    }
}

#[tokio::test]
async fn twenty_planned_failovers_under_load_lose_no_acknowledged_write() {
    let rounds = 20;
    let outcome = failovers_under_load(rounds).await;
    // Every failover closed the writer's connection to the old primary, and
    // it wrote on through the same URL.
    assert!(
        outcome.reconnects >= rounds,
        "only {} reconnections",
        outcome.reconnects
    );
    assert!(outcome.landings.len() > rounds);
    // Every connection reached one of the two caches' primary nodes: no
    // cache replica, and no process but a node (no proxy).
    for landing in &outcome.landings {
        assert!(
            outcome.primary_nodes.contains(&landing.pid),
            "a connection landed on process {} (primary nodes: {:?})",
            landing.pid,
            outcome.primary_nodes
        );
    }
    drop(outcome.server);
}

/// A connection through the geo-primary URL reaches the geo-primary, never
/// the geo-secondary, however a failover's steps interleave with it.
#[tokio::test]
async fn every_connection_through_the_geo_primary_url_lands_on_a_primary() {
    let outcome = failovers_under_load(20).await;
    let on_replicas: Vec<&Landing> = outcome
        .landings
        .iter()
        .filter(|l| l.role != "master")
        .collect();
    assert!(
        on_replicas.is_empty(),
        "{} of {} connections through the geo-primary URL reached a replica",
        on_replicas.len(),
        outcome.landings.len()
    );
}

async fn sync_full_of(server: &Server, cache: &str) -> Vec<(std::net::SocketAddr, u64)> {
    let (key, _) = server.keys(cache).await;
    let mut counts = Vec::new();
    for addr in node_addresses(server, cache).await {
        let mut con = try_connect(addr, &key).await.unwrap();
        let count = info_field(&mut con, "stats", "sync_full").await;
        counts.push((addr, count.parse().unwrap()));
    }
    counts
}

#[tokio::test]
async fn a_planned_failover_resyncs_partially() {
    let server = Server::start();
    linked_pair(&server, "north", "south").await;
    let (key, _) = server.keys("north").await;
    let mut north = try_connect(cache_address(&server, "north").await, &key)
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

/// No automatic action replaces data with emptiness: when every node of the
/// geo-primary dies, the geo-secondary keeps what it had (for a forced
/// failover to take over with).
#[tokio::test]
async fn losing_every_node_of_the_geo_primary_keeps_the_geo_secondarys_data() {
    let server = Server::start();
    linked_pair(&server, "main", "backup").await;
    let mut main = server.redis("main").await;
    for i in 0..200 {
        set(&mut main, &format!("before:{i}"), "v").await.unwrap();
    }
    // Both of main's replicas (its own and backup) have every write.
    let replicas: i64 = redis::cmd("WAIT")
        .arg(2)
        .arg(5000)
        .query_async(&mut main)
        .await
        .unwrap();
    assert_eq!(replicas, 2);
    let backup_addr = cache_address(&server, "backup").await;
    let (backup_key, _) = server.keys("backup").await;
    // The keys the geo-secondary holds, or None while it holds them back
    // (MASTERDOWN: its link is down and it serves no stale data).
    let held = || async {
        let mut con = try_connect(backup_addr, &backup_key).await.unwrap();
        match redis::cmd("DBSIZE").query_async::<i64>(&mut con).await {
            Ok(n) => Some(n),
            Err(e) if e.code() == Some("MASTERDOWN") => None,
            Err(e) => panic!("DBSIZE on the geo-secondary: {e}"),
        }
    };
    assert_eq!(held().await, Some(200));

    kill_every_node(&server, "main").await;
    // Whatever the server does about main (it may start its nodes again),
    // backup keeps its data while nobody asked for anything. Watch it until
    // main's address answers again (or ten seconds), and five seconds after.
    let (key, _) = server.keys("main").await;
    let main_addr = cache_address(&server, "main").await;
    for _ in 0..100 {
        if try_connect(main_addr, &key).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for _ in 0..50 {
        if let Some(n) = held().await {
            assert_eq!(
                n, 200,
                "the geo-secondary lost its data after the geo-primary lost every node"
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
