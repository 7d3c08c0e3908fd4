//! Every node, cache and geo-primary URL on a loopback address of its own:
//! servers side by side don't collide, and after a restart (graceful, or
//! after the control plane was killed) each address is served by the node
//! the API says.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use futures::future::join_all;
use serde_json::json;

use crate::support::{
    cache_address, connect_with_any, endpoint, eventually, fail_over, get, info_field, instances,
    kill_node, link_of, linked_pair, listeners_of, node_pid, primary_node, redis_connection, set,
    Server,
};

/// Every address the API names for `caches`: each cache's and each node's.
async fn addresses_of(server: &Server, caches: &[&str]) -> Vec<SocketAddr> {
    let mut all = Vec::new();
    for name in caches {
        all.push(cache_address(server, name).await);
        all.extend(instances(server, name).await.iter().map(|i| i.addr));
    }
    all
}

/// The process behind a connection, as the node itself says (`INFO server`).
async fn process_behind(con: &mut redis::aio::MultiplexedConnection) -> u32 {
    info_field(con, "server", "process_id")
        .await
        .parse()
        .unwrap()
}

#[tokio::test]
async fn two_servers_side_by_side_bring_up_every_cache_on_addresses_of_their_own() {
    // Both start at once, each on its own data directory.
    let (first, second) = tokio::join!(
        tokio::task::spawn_blocking(Server::start),
        tokio::task::spawn_blocking(Server::start),
    );
    let servers = [first.unwrap(), second.unwrap()];
    let names = ["c1", "c2", "c3"];

    // A few caches on each, all created at once.
    join_all(servers.iter().flat_map(|server| {
        names.iter().map(move |name| async move {
            let path = Server::cache_path(name);
            server.create_cache(&path, "westeurope", json!({})).await
        })
    }))
    .await;

    let mut everything = Vec::new();
    for server in &servers {
        for name in names {
            let cache = server.get_json(&Server::cache_path(name)).await;
            assert_eq!(
                cache["properties"]["provisioningState"], "Succeeded",
                "{cache}"
            );
            // Each cache answers on its own address with its own key.
            let (key, _) = server.keys(name).await;
            let mut con = redis_connection(cache_address(server, name).await, &key).await;
            assert_eq!(info_field(&mut con, "replication", "role").await, "master");
            let pid = node_pid(server, primary_node(server, name).await);
            assert_eq!(process_behind(&mut con).await, pid);
        }
        everything.extend(addresses_of(server, &names).await);
    }
    // No address is handed out twice, on one server or across both.
    let distinct: BTreeSet<SocketAddr> = everything.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        everything.len(),
        "addresses collide: {everything:?}"
    );
}

/// What the API says of a linked pair `one`/`two` and a lone cache, checked
/// against who answers on each address; returns the addresses.
async fn assert_addresses_served_as_the_api_says(server: &Server) -> Vec<SocketAddr> {
    let caches = ["one", "two", "lone"];
    for name in caches {
        let (primary_key, secondary_key) = server.keys(name).await;
        // The cache's address reaches its primary node, and only that node listens there.
        let addr = cache_address(server, name).await;
        let pid = node_pid(server, primary_node(server, name).await);
        let mut con = redis_connection(addr, &primary_key).await;
        assert_eq!(process_behind(&mut con).await, pid, "{name}'s address");
        assert_eq!(listeners_of(addr), vec![pid], "{name}'s address");
        // Each node's own address reaches that node.
        for instance in instances(server, name).await {
            let mut con = redis_connection(instance.addr, &secondary_key).await;
            assert_eq!(
                process_behind(&mut con).await,
                node_pid(server, instance.addr),
                "{name}'s node {}",
                instance.addr
            );
        }
    }
    // The lone cache's primary is a primary; of the pair, the geo-primary's
    // is, and the geo-secondary's replicates it.
    let about_two = &link_of(server, "one", "two").await["properties"];
    let about_one = &link_of(server, "two", "one").await["properties"];
    let (geo_primary, geo_secondary) = if about_two["serverRole"] == "Secondary" {
        ("one", "two")
    } else {
        ("two", "one")
    };
    for (name, role) in [
        ("lone", "master"),
        (geo_primary, "master"),
        (geo_secondary, "slave"),
    ] {
        let mut con = server.redis(name).await;
        assert_eq!(
            info_field(&mut con, "replication", "role").await,
            role,
            "{name}"
        );
    }
    // Both geo-primary URLs reach the geo-primary's primary node.
    let keys = vec![server.keys("one").await.0, server.keys("two").await.0];
    let pid = node_pid(server, primary_node(server, geo_primary).await);
    let urls = [
        endpoint(about_one, "geoPrimaryEndpoint"),
        endpoint(about_two, "geoPrimaryEndpoint"),
    ];
    for url in urls {
        let mut con = connect_with_any(url, &keys).await.unwrap();
        assert_eq!(
            info_field(&mut con, "replication", "role").await,
            "master",
            "{url}"
        );
        assert_eq!(process_behind(&mut con).await, pid, "{url}");
        assert_eq!(listeners_of(url), vec![pid], "{url}");
    }
    let mut all = addresses_of(server, &caches).await;
    all.extend(urls);
    all
}

#[tokio::test]
async fn after_a_restart_every_address_is_served_by_the_node_the_api_says() {
    let mut server = Server::start();
    linked_pair(&server, "one", "two").await;
    server
        .create_cache(
            &Server::cache_path("lone"),
            "eastus",
            json!({"replicasPerPrimary": 2}),
        )
        .await;
    // The geo-primary URLs are away from where linking put them.
    fail_over(&server, "two", "one").await;
    let before = assert_addresses_served_as_the_api_says(&server).await;
    let distinct: BTreeSet<SocketAddr> = before.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        before.len(),
        "addresses collide: {before:?}"
    );

    // kill -9 of the control plane only: the nodes keep their listeners and
    // are adopted.
    server.kill_server_only();
    let mut restarted = Server::start_with(server.dir.clone(), &[]);
    let after_crash = assert_addresses_served_as_the_api_says(&restarted).await;
    assert_eq!(after_crash, before, "the addresses moved across the crash");

    // A graceful stop stops the nodes; the next start gives them their
    // listeners again from the store.
    restarted.terminate();
    assert!(restarted.node_pids().is_empty(), "SIGTERM stops every node");
    let again = Server::start_with(server.dir.clone(), &[]);
    let after_stop = assert_addresses_served_as_the_api_says(&again).await;
    assert_eq!(after_stop, before, "the addresses moved across the restart");
}

#[tokio::test]
async fn when_a_primary_node_dies_the_cache_address_follows_its_replica() {
    let server = Server::start();
    server
        .create_cache(&Server::cache_path("ha"), "westeurope", json!({}))
        .await;
    let addr = cache_address(&server, "ha").await;
    let old = primary_node(&server, "ha").await;
    let (key, _) = server.keys("ha").await;
    let mut con = redis_connection(addr, &key).await;
    set(&mut con, "kept", "yes").await.unwrap();
    let _: i64 = redis::cmd("WAIT")
        .arg(1)
        .arg(5000)
        .query_async(&mut con)
        .await
        .unwrap();

    kill_node(&server, old);
    // The replica takes over: the API names it the primary, and the
    // cache's address (unchanged) reaches it.
    let new = eventually(
        "the replica to take over",
        std::time::Duration::from_secs(30),
        || async {
            let new = primary_node(&server, "ha").await;
            (new != old).then_some(new)
        },
    )
    .await;
    assert_eq!(cache_address(&server, "ha").await, addr);
    let pid = node_pid(&server, new);
    let mut con = eventually(
        "the cache's address to reach the new primary",
        std::time::Duration::from_secs(30),
        || async {
            let mut con = crate::support::try_connect(addr, &key).await.ok()?;
            (process_behind(&mut con).await == pid).then_some(con)
        },
    )
    .await;
    assert_eq!(listeners_of(addr), vec![pid]);
    assert_eq!(info_field(&mut con, "replication", "role").await, "master");
    assert_eq!(get(&mut con, "kept").await.unwrap().as_deref(), Some("yes"));
    set(&mut con, "after", "takeover").await.unwrap();
}
