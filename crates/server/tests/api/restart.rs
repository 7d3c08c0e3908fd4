//! A server restart: caches and links are still there, their nodes serve
//! again, nothing is orphaned and nothing is started twice.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::support::{eventually_get, get, link_of, set, slow_down_full_sync, OnGetError, Server};
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn after_a_crash_the_running_nodes_are_adopted_not_started_again() {
    let mut server = Server::start();
    server
        .create_cache(&Server::cache_path("keep-a"), "westeurope", json!({}))
        .await;
    server
        .create_cache(&Server::cache_path("keep-b"), "northeurope", json!({}))
        .await;
    server
        .create_cache(
            &Server::cache_path("alone"),
            "eastus",
            json!({"shardCount": 2}),
        )
        .await;
    server.link("keep-a", "keep-b").await;
    let mut pa = server.redis("keep-a").await;
    set(&mut pa, "survives", "yes").await.unwrap();
    // Replication is asynchronous: let both replicas (the cache's own and the
    // geo-secondary) acknowledge the write before the control plane dies.
    let _acked: i64 = redis::cmd("WAIT")
        .arg(2)
        .arg(5000)
        .query_async(&mut pa)
        .await
        .unwrap();
    let before: BTreeSet<u32> = server.node_pids().into_iter().collect();
    assert_eq!(before.len(), 8);

    // kill -9 the control plane: the nodes keep running.
    server.kill_server_only();
    let after_kill: BTreeSet<u32> = server.node_pids().into_iter().collect();
    assert_eq!(after_kill, before, "the nodes outlive the control plane");

    let restarted = Server::start_with(server.dir.clone(), &[]);
    assert_eq!(
        restarted.token(),
        server.token(),
        "the token is kept in the data dir"
    );
    let after: BTreeSet<u32> = restarted.node_pids().into_iter().collect();
    assert_eq!(
        after, before,
        "the same processes were adopted, none started twice"
    );

    for name in ["keep-a", "keep-b", "alone"] {
        let cache: Value = restarted.get_json(&Server::cache_path(name)).await;
        assert_eq!(cache["properties"]["provisioningState"], "Succeeded");
        let links = cache["properties"]["linkedServers"]
            .as_array()
            .unwrap()
            .len();
        assert_eq!(links, usize::from(name != "alone"));
    }
    let link = link_of(&restarted, "keep-a", "keep-b").await;
    assert_eq!(link["properties"]["provisioningState"], "Succeeded");
    let mut sb = restarted.redis("keep-b").await;
    assert_eq!(
        get(&mut sb, "survives").await.unwrap().as_deref(),
        Some("yes")
    );
    assert_eq!(
        set(&mut sb, "x", "1").await.unwrap_err().code(),
        Some("READONLY")
    );
    let mut pa = restarted.redis("keep-a").await;
    set(&mut pa, "after", "restart").await.unwrap();
    let arrived = eventually_get(&mut sb, "after", OnGetError::Panic).await;
    assert_eq!(arrived.as_deref(), Some("restart"));
    drop(server);
}

#[tokio::test]
async fn a_link_syncing_when_the_server_died_finishes_after_the_restart() {
    let mut server = Server::start();
    server
        .create_cache(&Server::cache_path("slow"), "westeurope", json!({}))
        .await;
    server
        .create_cache(&Server::cache_path("catching-up"), "eastus", json!({}))
        .await;
    slow_down_full_sync(&server, "slow", "k", 2000).await;
    let response = server.put_link("slow", "catching-up").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    server.kill_server_only();

    let restarted = Server::start_with(server.dir.clone(), &[]);
    let link_path = format!("{}/linkedServers/catching-up", Server::cache_path("slow"));
    let mut state = Value::Null;
    for _ in 0..300 {
        let link: Value = restarted.get_json(&link_path).await;
        state = link["properties"]["provisioningState"].clone();
        if state == "Succeeded" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(state, "Succeeded", "the resumed link finished its sync");
    let mut sb = restarted.redis("catching-up").await;
    assert_eq!(
        get(&mut sb, "k1999").await.unwrap().as_deref(),
        Some("1999")
    );
    drop(server);
}

#[tokio::test]
async fn a_graceful_stop_stops_the_nodes_and_the_next_start_brings_the_data_back() {
    let mut server = Server::start();
    server
        .create_cache(&Server::cache_path("graceful"), "westeurope", json!({}))
        .await;
    let mut con = server.redis("graceful").await;
    set(&mut con, "kept", "across restarts").await.unwrap();
    server.terminate();
    assert!(server.node_pids().is_empty(), "SIGTERM stops every node");

    let restarted = Server::start_with(server.dir.clone(), &[]);
    assert_eq!(restarted.node_pids().len(), 2);
    let mut con = restarted.redis("graceful").await;
    assert_eq!(
        get(&mut con, "kept").await.unwrap().as_deref(),
        Some("across restarts")
    );
    drop(server);
}
