//! In-cache high availability: the replica takes over from a lost primary
//! node, writes through the cache's address resume, and nothing the
//! replica had is lost.

use std::time::Duration;

use georep_testkit::load::assert_all_present;
use georep_testkit::process;
use georep_testkit::redis_client::connect;
use georep_testkit::wait::eventually;

use crate::support::*;

/// Waits until the API names a primary node other than `old`.
async fn new_primary(
    server: &georep_testkit::Server,
    path: &str,
    old: std::net::SocketAddr,
) -> std::net::SocketAddr {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let found = instances(server, path)
            .await
            .into_iter()
            .find(|(addr, primary)| *primary && *addr != old);
        if let Some((addr, _)) = found {
            return addr;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no replica took over from {old}; the server's log:\n{}",
            server.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_primary_node_is_replaced_by_its_replica_under_load() {
    let server = server();
    // What the replica has is what must survive: it has every key.
    let (path, key, cache) = loaded_premium(&server, "ha-kill", "westeurope", 1_000).await;
    let old = primary_node(&server, &path).await;

    let (stop, writes) = start_writer(cache, key.clone());
    tokio::time::sleep(Duration::from_millis(300)).await;
    process::kill(server.node_pid(old).expect("the primary node's process"));
    let new = new_primary(&server, &path, old).await;
    // Writes through the cache's one address reach the new primary.
    writes_resume("writes resume through the cache's address", cache, &key).await;
    let written = stop_writer(stop, writes).await;

    assert_eq!(role(cache, &key).await, "master");
    assert_eq!(role(new, &key).await, "master");
    // Every key written before, and every acknowledged write but those the
    // replica had not received when its primary died, is there: the writer
    // writes one at a time, so at most the last one.
    assert!(dbsize(cache, &key).await >= Some(1_000));
    let mut con = connect(cache, &key, Duration::from_secs(2)).await.unwrap();
    let acked = &written.acked[..written.acked.len().saturating_sub(1)];
    assert_all_present(&mut con, acked, "the promoted replica").await;
    // The old node is back, as a replica of the new primary.
    eventually(
        "the old node rejoins as a replica",
        Duration::from_secs(30),
        || async { (role_if_up(old, &key).await? == "slave").then_some(()) },
    )
    .await;
    assert_roles_match(&server, &path, &key).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn force_reboot_of_the_primary_node_loses_nothing() {
    let server = server();
    let path = premium(&server, "ha-reboot", "westeurope").await;
    let key = key(&server, &path).await;
    let cache = address(&server, &path).await;
    fill(cache, &key, 2_000).await;

    let response = server
        .api()
        .post(
            &format!("{path}/forceReboot"),
            Some(serde_json::json!({"rebootType": "PrimaryNode"})),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(dbsize(cache, &key).await, Some(2_000));
    every_node_holds(&server, &path, &key, 2_000).await;
    assert_roles_match(&server, &path, &key).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_lost_while_the_server_is_down_comes_back_as_a_replica() {
    let mut server = server();
    // The replica has every key before anything dies.
    let (path, key, cache) = loaded_premium(&server, "ha-restart", "westeurope", 2_000).await;
    let old = primary_node(&server, &path).await;

    server.kill();
    process::kill(server.node_pid(old).expect("the primary node's process"));
    server.restart().expect("the server starts again");

    assert_eq!(
        dbsize(cache, &key).await,
        Some(2_000),
        "the restart kept every key"
    );
    every_node_holds(&server, &path, &key, 2_000).await;
    assert_roles_match(&server, &path, &key).await;
    let primary = new_primary(&server, &path, old).await;
    assert_eq!(role(primary, &key).await, "master");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_geo_primary_url_follows_a_replaced_primary_node_and_the_secondary_follows_too() {
    let server = server();
    let primary = premium(&server, "ha-geo-primary", "westeurope").await;
    let secondary = premium(&server, "ha-geo-secondary", "northeurope").await;
    link(&server, &primary, &secondary).await;
    let link = linked_server(&server, &primary, "ha-geo-secondary").await;
    let geo = endpoint(&link["properties"]["geoPrimaryEndpoint"]);
    let key = key(&server, &primary).await;
    let secondary_key = crate::support::key(&server, &secondary).await;
    fill(geo, &key, 1_000).await;
    every_node_holds(&server, &primary, &key, 1_000).await;
    let old = primary_node(&server, &primary).await;

    let (stop, writes) = start_writer(geo, key.clone());
    tokio::time::sleep(Duration::from_millis(300)).await;
    process::kill(server.node_pid(old).expect("the primary node's process"));
    new_primary(&server, &primary, old).await;
    writes_resume("writes resume through the geo-primary URL", geo, &key).await;
    let written = stop_writer(stop, writes).await;
    let mut con = connect(geo, &key, Duration::from_secs(2)).await.unwrap();
    let acked = &written.acked[..written.acked.len().saturating_sub(1)];
    assert_all_present(&mut con, acked, "the geo-primary's new primary node").await;

    // The geo-secondary follows the new primary node and gets every write.
    let secondary_addr = address(&server, &secondary).await;
    let mut on_secondary = connect(secondary_addr, &secondary_key, Duration::from_secs(2))
        .await
        .unwrap();
    eventually(
        "the geo-secondary has the write made after the takeover",
        Duration::from_secs(30),
        || async {
            let value: Option<String> = redis::cmd("GET")
                .arg("after")
                .query_async(&mut on_secondary.clone())
                .await
                .ok()?;
            value
        },
    )
    .await;
    assert_all_present(&mut on_secondary, acked, "the geo-secondary").await;
    assert_roles_match(&server, &primary, &key).await;
}

/// Waits until a write through `addr` is acknowledged again.
async fn writes_resume(what: &str, addr: std::net::SocketAddr, key: &str) {
    eventually(what, Duration::from_secs(30), || async {
        let mut con = connect(addr, key, Duration::from_millis(500)).await.ok()?;
        redis::cmd("SET")
            .arg("after")
            .arg(1)
            .query_async::<()>(&mut con)
            .await
            .ok()
    })
    .await;
}
