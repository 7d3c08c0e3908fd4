//! The kit against the real server: start, the API with its token, a cache
//! with a real node reached through the `redis` crate, `kill -9` and a
//! restart that adopts the node, and a clean shutdown.

use std::time::Duration;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use georep_testkit::api::cache_path;
use georep_testkit::load::{assert_all_present, writer, OnFailure};
use georep_testkit::redis_client::{connect, info};
use georep_testkit::wait;
use georep_testkit::Server;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "current_thread")]
async fn starts_serves_survives_a_crash_and_shuts_down_cleanly() {
    let mut server = Server::start().expect("georep-server starts");
    let stored = std::fs::read_to_string(server.data_dir().join("api-token")).unwrap();
    assert_eq!(stored.trim(), server.token(), "the token is the stored one");
    assert!(server
        .login_url()
        .ends_with(&format!("/#token={}", server.token())));

    let unauthenticated = server.http().get(server.url("/subscriptions")).send().await;
    assert_eq!(unauthenticated.unwrap().status(), StatusCode::UNAUTHORIZED);
    let subscription = server.subscription_ids().await.unwrap().remove(0);

    let path = cache_path(&subscription, "rg-kit", "kit-basic");
    let sku = json!({"sku": {"name": "Basic", "family": "C", "capacity": 0}});
    let cache = server.create_cache(&path, "westeurope", sku).await.unwrap();
    assert_eq!(cache["properties"]["provisioningState"], "Succeeded");
    let props = &cache["properties"];
    let addr: SocketAddr = format!("{}:{}", props["hostName"].as_str().unwrap(), props["port"])
        .parse()
        .expect("hostName:port is an address");
    let (key, _) = server.keys(&path).await.unwrap();
    let mut con = connect(addr, &key, Duration::from_secs(5))
        .await
        .expect("the cache's node takes its access key");
    let role = info(&mut con, "replication").await.unwrap();
    assert_eq!(role.get("role"), Some("master"));

    let stop = Arc::new(AtomicBool::new(false));
    let writing = writer(
        {
            let api = server.api().clone();
            let path = path.clone();
            move || {
                let (api, path) = (api.clone(), path.clone());
                async move { api.redis(&path).await.map_err(|e| redis_error(&e)) }
            }
        },
        OnFailure::Stop,
        stop.clone(),
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let written = writing.await.unwrap();
    assert!(!written.acked.is_empty(), "the writer wrote");
    assert_all_present(&mut con, &written.acked, "kit-basic").await;

    let nodes = server.node_pids();
    assert_eq!(nodes.len(), 1, "one node for a Basic cache: {nodes:?}");
    let instance = &props["instances"][0];
    let node: SocketAddr = format!(
        "{}:{}",
        instance["host"].as_str().unwrap(),
        instance["nonSslPort"]
    )
    .parse()
    .expect("an instance's host:nonSslPort is an address");
    assert_eq!(server.node_pid(node), Some(nodes[0]), "the node at {node}");
    let token = server.token().to_owned();
    server.kill();
    assert_eq!(
        server.node_pids(),
        nodes,
        "the node outlives the control plane"
    );

    server.restart().expect("georep-server starts again");
    assert_eq!(server.token(), token, "the token is kept");
    let adopted = wait::eventually(
        "the cache to run again",
        Duration::from_secs(60),
        || async {
            let cache = server.get_json(&path).await;
            (cache["properties"]["provisioningState"] == "Succeeded").then_some(())
        },
    );
    adopted.await;
    assert_eq!(
        server.node_pids(),
        nodes,
        "the node was adopted, not started again"
    );

    server.shutdown().expect("a clean shutdown");
}

/// An error of the kit as a Redis error, for the writer's connector.
fn redis_error(error: &anyhow::Error) -> redis::RedisError {
    redis::RedisError::from((redis::ErrorKind::Io, "connect", format!("{error:#}")))
}
