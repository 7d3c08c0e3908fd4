//! The cache resource and its actions, against the real server and real nodes.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use crate::support::{
    assert_arm_error, cache_address, cache_path_in, eventually_get, get, info_field, instances,
    redis_connection, set, try_connect, OnGetError, Server, RG, SUB,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn every_api_request_needs_the_token() {
    let server = Server::start();
    let path = "/subscriptions?api-version=2022-12-01";
    let none = server.http().get(server.url(path)).send().await.unwrap();
    assert_arm_error(none, StatusCode::UNAUTHORIZED, "AuthenticationFailed").await;
    let wrong = server
        .http()
        .get(server.url(path))
        .bearer_auth("not-the-token")
        .send()
        .await
        .unwrap();
    assert_arm_error(wrong, StatusCode::UNAUTHORIZED, "AuthenticationFailed").await;
    // Unknown API paths are refused before anything else.
    let unknown = server
        .http()
        .get(server.url("/x-georep/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let ok = server.get(path).await;
    assert_eq!(ok.status(), StatusCode::OK);
}

#[tokio::test]
async fn subscriptions_are_listed_in_arms_shape() {
    let server = Server::start();
    let list: Value = server
        .get_json("/subscriptions?api-version=2022-12-01")
        .await;
    let first = &list["value"][0];
    let id = first["subscriptionId"].as_str().unwrap();
    assert_eq!(first["id"], format!("/subscriptions/{id}"));
    assert_eq!(first["state"], "Enabled");
    let one = server
        .get(&format!("/subscriptions/{id}?api-version=2022-12-01"))
        .await;
    assert_eq!(one.status(), StatusCode::OK);
    // A subscription a cache was created in is listed too.
    server
        .create_cache(&Server::cache_path("c"), "westeurope", json!({}))
        .await;
    let list: Value = server
        .get_json("/subscriptions?api-version=2022-12-01")
        .await;
    assert!(list["value"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["subscriptionId"] == SUB));
}

#[tokio::test]
async fn a_cache_is_created_with_real_nodes_and_both_keys_work() {
    let server = Server::start();
    let path = Server::cache_path("orders");
    let body = json!({"location": "West Europe", "tags": {"team": "a"}, "properties": {
        "sku": {"name": "Premium", "family": "P", "capacity": 1}, "replicasPerPrimary": 1,
        "enableNonSslPort": true}});
    let response = server.put(&path, body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let op = server.wait_operation(&response).await;
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["properties"]["provisioningState"], "Creating");
    let keys = &created["properties"]["accessKeys"];
    assert!(keys["primaryKey"].is_string() && keys["secondaryKey"].is_string());
    assert_eq!(op["status"], "Succeeded");

    let cache: Value = server.get_json(&path).await;
    let p = &cache["properties"];
    assert_eq!(cache["location"], "westeurope");
    assert_eq!(cache["type"], "Microsoft.Cache/Redis");
    assert_eq!(p["provisioningState"], "Succeeded");
    // The cache's own loopback address, on 6379.
    let address = cache_address(&server, "orders").await;
    assert!(
        p["accessKeys"].is_null() && p.get("accessKeys").is_some(),
        "keys only in the create response; null on a GET, as Azure sends it"
    );
    // Azure's settings and configuration defaults, as on a real P1.
    assert_eq!(p["updateChannel"], "Stable");
    assert_eq!(p["zonalAllocationPolicy"], "Automatic");
    assert_eq!(p["disableAccessKeyAuthentication"], false);
    assert_eq!(p["tenantSettings"], json!({}));
    assert_eq!(p["redisConfiguration"]["maxclients"], "7500");
    assert_eq!(p["redisConfiguration"]["maxmemory-reserved"], "642");
    assert_eq!(
        p["redisConfiguration"]["maxfragmentationmemory-reserved"],
        "642"
    );
    assert_eq!(p["redisConfiguration"]["maxmemory-delta"], "642");
    let instances = instances(&server, "orders").await;
    assert_eq!(instances.len(), 2, "a primary and one replica");
    assert!(instances[0].is_primary);
    assert!(!instances[1].is_primary);
    // Each node has an address of its own, and the cache another.
    let nodes: BTreeSet<SocketAddr> = instances.iter().map(|i| i.addr).collect();
    assert_eq!(nodes.len(), 2, "{instances:?}");
    assert!(
        !nodes.contains(&address),
        "{address} is a node's: {instances:?}"
    );

    // Both access keys authenticate, on every node and on the cache's address.
    let (k1, k2) = server.keys("orders").await;
    for addr in nodes.iter().chain([&address]) {
        for key in [&k1, &k2] {
            let mut con = redis_connection(*addr, key).await;
            let pong: String = redis::cmd("PING").query_async(&mut con).await.unwrap();
            assert_eq!(pong, "PONG");
        }
    }
    // The replica follows the primary.
    let mut con = server.redis("orders").await;
    set(&mut con, "k", "v").await.unwrap();
    let mut replica = redis_connection(instances[1].addr, &k1).await;
    let seen = eventually_get(&mut replica, "k", OnGetError::Retry).await;
    assert_eq!(seen.as_deref(), Some("v"));
}

#[tokio::test]
async fn each_cache_answers_on_its_own_host_name_with_its_own_keys() {
    let server = Server::start();
    server
        .create_cache(&Server::cache_path("red"), "westeurope", json!({}))
        .await;
    server
        .create_cache(
            &Server::cache_path("green"),
            "eastus",
            json!({"sku": {"name": "Standard", "family": "C", "capacity": 1}}),
        )
        .await;
    // `hostName`:`port` is a loopback address of the cache's own, on 6379.
    let red = cache_address(&server, "red").await;
    let green = cache_address(&server, "green").await;
    assert_ne!(red.ip(), green.ip(), "two caches share a hostName");
    let (red_keys, green_keys) = (server.keys("red").await, server.keys("green").await);

    for (name, addr, (primary_key, secondary_key), other) in [
        ("red", red, &red_keys, &green_keys),
        ("green", green, &green_keys, &red_keys),
    ] {
        // Either of its keys opens it; the other cache's don't.
        for key in [primary_key, secondary_key] {
            let mut con = redis_connection(addr, key).await;
            let pong: String = redis::cmd("PING").query_async(&mut con).await.unwrap();
            assert_eq!(pong, "PONG");
        }
        assert!(
            try_connect(addr, &other.0).await.is_err(),
            "{name}'s address took the other cache's key"
        );
        // It reaches the cache's primary node, which takes writes.
        let mut con = redis_connection(addr, primary_key).await;
        assert_eq!(info_field(&mut con, "replication", "role").await, "master");
        set(&mut con, "owner", name).await.unwrap();
    }
    // Two caches, two data sets.
    for (name, addr, key) in [("red", red, &red_keys.0), ("green", green, &green_keys.0)] {
        let mut con = redis_connection(addr, key).await;
        assert_eq!(get(&mut con, "owner").await.unwrap().as_deref(), Some(name));
    }
    // No node address is another's, nor a cache's.
    let mut all: Vec<SocketAddr> = vec![red, green];
    for name in ["red", "green"] {
        all.extend(instances(&server, name).await.iter().map(|i| i.addr));
    }
    let distinct: BTreeSet<SocketAddr> = all.iter().copied().collect();
    assert_eq!(distinct.len(), all.len(), "addresses collide: {all:?}");
}

#[tokio::test]
async fn caches_are_listed_by_group_and_subscription() {
    let server = Server::start();
    server
        .create_cache(&Server::cache_path("a"), "westeurope", json!({}))
        .await;
    server
        .create_cache(
            &cache_path_in(SUB, "other-rg", "b"),
            "eastus",
            json!({"sku": {"name": "Basic", "family": "C", "capacity": 0}}),
        )
        .await;
    let by_group: Value = server
        .get_json(&format!(
            "/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Cache/redis"
        ))
        .await;
    assert_eq!(by_group["value"].as_array().unwrap().len(), 1);
    let by_sub: Value = server
        .get_json(&format!(
            "/subscriptions/{SUB}/providers/Microsoft.Cache/Redis"
        ))
        .await;
    let mut names: Vec<&str> = by_sub["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["a", "b"]);
    // A Basic cache runs one node, with no replica.
    let basic: Value = server.get_json(&cache_path_in(SUB, "other-rg", "b")).await;
    let basic = &basic["properties"];
    assert_eq!(basic["instances"].as_array().unwrap().len(), 1);
    assert_eq!(basic["replicasPerPrimary"], 0);
}

#[tokio::test]
async fn standard_and_clustered_caches_run_every_node() {
    let server = Server::start();
    let standard = server
        .create_cache(
            &Server::cache_path("std"),
            "eastus",
            json!({"sku": {"name": "Standard", "family": "C", "capacity": 1}}),
        )
        .await;
    assert_eq!(
        standard["properties"]["instances"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let clustered = server
        .create_cache(
            &Server::cache_path("clu"),
            "eastus",
            json!({"shardCount": 2}),
        )
        .await;
    let instances = clustered["properties"]["instances"].as_array().unwrap();
    assert_eq!(
        instances.len(),
        4,
        "two shards, each a primary and a replica"
    );
    assert_eq!(clustered["properties"]["shardCount"], 2);
    assert_eq!(
        instances.iter().filter(|i| i["isPrimary"] == true).count(),
        2
    );
    assert_eq!(instances[2]["shardId"], 1);
}

#[tokio::test]
async fn a_basic_node_keeps_house_once_a_second_until_it_has_a_replica() {
    let server = Server::start();
    let path = Server::cache_path("quiet");
    server
        .create_cache(
            &path,
            "westeurope",
            json!({"sku": {"name": "Basic", "family": "C", "capacity": 0}}),
        )
        .await;
    let nodes = instances(&server, "quiet").await;
    assert_eq!(nodes.len(), 1);
    assert_eq!(server.config_get(nodes[0].addr, "hz").await, "1");

    // Scaled to Standard, it has a replica to feed: every node beats at 10.
    let scaled = server
        .patch(
            &path,
            json!({"properties": {"sku": {"name": "Standard", "family": "C", "capacity": 0}}}),
        )
        .await;
    assert_eq!(scaled.status(), StatusCode::ACCEPTED);
    server.wait_succeeded(&scaled).await;
    let nodes = instances(&server, "quiet").await;
    assert_eq!(nodes.len(), 2, "{nodes:?}");
    for node in nodes {
        assert_eq!(server.config_get(node.addr, "hz").await, "10", "{node:?}");
    }
}

#[tokio::test]
async fn patch_changes_size_tags_and_shape_of_an_unlinked_cache() {
    let server = Server::start();
    let path = Server::cache_path("p");
    server.create_cache(&path, "westeurope", json!({})).await;
    let response = server
        .patch(&path, json!({"tags": {"env": "prod"}, "properties": {"sku": {"name": "Premium", "family": "P", "capacity": 2}, "replicasPerPrimary": 2}}))
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    server.wait_succeeded(&response).await;
    let cache: Value = server.get_json(&path).await;
    assert_eq!(cache["tags"]["env"], "prod");
    assert_eq!(cache["properties"]["sku"]["capacity"], 2);
    assert_eq!(
        cache["properties"]["instances"].as_array().unwrap().len(),
        3
    );
    // A PUT on an existing cache updates it (ARM's create-or-update).
    let again = server
        .put(&path, json!({"location": "westeurope", "properties": {"sku": {"name": "Premium", "family": "P", "capacity": 2}, "replicasPerPrimary": 1}}))
        .await;
    assert_eq!(again.status(), StatusCode::OK);
    server.wait_succeeded(&again).await;
    let cache: Value = server.get_json(&path).await;
    assert_eq!(
        cache["properties"]["instances"].as_array().unwrap().len(),
        2
    );
    assert_eq!(
        server.node_pids().len(),
        2,
        "the replica no longer wanted was stopped"
    );
}

#[tokio::test]
async fn regenerating_a_key_replaces_it_and_keeps_the_other() {
    let server = Server::start();
    let path = Server::cache_path("keys");
    server.create_cache(&path, "westeurope", json!({})).await;
    let addr = cache_address(&server, "keys").await;
    let (old1, old2) = server.keys("keys").await;
    let response = server.regenerate_key(&path, "Primary").await;
    assert_eq!(response.status(), StatusCode::OK);
    let keys: Value = response.json().await.unwrap();
    let new1 = keys["primaryKey"].as_str().unwrap();
    assert_ne!(new1, old1);
    assert_eq!(keys["secondaryKey"], old2.as_str());
    let mut con = redis_connection(addr, new1).await;
    let _: String = redis::cmd("PING").query_async(&mut con).await.unwrap();
    let mut con = redis_connection(addr, &old2).await;
    let _: String = redis::cmd("PING").query_async(&mut con).await.unwrap();
    let old = redis::Client::open(format!("redis://:{}@{addr}/", urlencode(&old1)))
        .unwrap()
        .get_multiplexed_async_connection()
        .await;
    assert!(old.is_err(), "the old primary key no longer authenticates");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn firewall_rules_can_be_created_read_listed_and_deleted() {
    let server = Server::start();
    let path = Server::cache_path("fw");
    server.create_cache(&path, "westeurope", json!({})).await;
    let rule = format!("{path}/firewallRules/office_1");
    let body = json!({"properties": {"startIP": "10.0.0.1", "endIP": "10.0.0.9"}});
    assert_eq!(
        server.put(&rule, body.clone()).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(server.put(&rule, body).await.status(), StatusCode::OK);
    let got: Value = server.get_json(&rule).await;
    assert_eq!(got["properties"]["startIP"], "10.0.0.1");
    assert_eq!(got["type"], "Microsoft.Cache/Redis/firewallRules");
    let list: Value = server.get_json(&format!("{path}/firewallRules")).await;
    assert_eq!(list["value"].as_array().unwrap().len(), 1);
    let backwards = server
        .put(
            &format!("{path}/firewallRules/bad"),
            json!({"properties": {"startIP": "10.0.0.9", "endIP": "10.0.0.1"}}),
        )
        .await;
    assert_arm_error(backwards, StatusCode::BAD_REQUEST, "InvalidParameter").await;
    let not_ip = server
        .put(
            &format!("{path}/firewallRules/bad"),
            json!({"properties": {"startIP": "x", "endIP": "10.0.0.1"}}),
        )
        .await;
    assert_arm_error(not_ip, StatusCode::BAD_REQUEST, "InvalidParameter").await;
    assert_eq!(server.delete(&rule).await.status(), StatusCode::OK);
    assert_eq!(server.delete(&rule).await.status(), StatusCode::NO_CONTENT);
    assert_arm_error(
        server.get(&rule).await,
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
    )
    .await;
}

#[tokio::test]
async fn export_then_import_brings_the_data_back() {
    let server = Server::start();
    let path = Server::cache_path("data");
    server.create_cache(&path, "westeurope", json!({})).await;
    let mut con = server.redis("data").await;
    set(&mut con, "saved", "1").await.unwrap();
    let response = server
        .post(
            &format!("{path}/export"),
            Some(json!({"prefix": "backup", "container": "nightly", "format": "RDB"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    server.wait_succeeded(&response).await;
    assert!(server
        .data_dir()
        .join("exports/nightly/backup.rdb")
        .is_file());

    let _: () = redis::cmd("FLUSHALL").query_async(&mut con).await.unwrap();
    let response = server
        .post(
            &format!("{path}/import"),
            Some(json!({"files": ["nightly/backup.rdb"], "format": "RDB"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    server.wait_succeeded(&response).await;
    let mut con = server.redis("data").await;
    let value = get(&mut con, "saved").await.unwrap();
    assert_eq!(value.as_deref(), Some("1"));

    let missing = server
        .post(
            &format!("{path}/import"),
            Some(json!({"files": ["nightly/none.rdb"]})),
        )
        .await;
    assert_arm_error(missing, StatusCode::BAD_REQUEST, "InvalidParameter").await;
    let escape = server
        .post(
            &format!("{path}/export"),
            Some(json!({"prefix": "../x", "container": "c"})),
        )
        .await;
    assert_arm_error(escape, StatusCode::BAD_REQUEST, "InvalidParameter").await;
}

#[tokio::test]
async fn force_reboot_restarts_nodes_and_keeps_serving() {
    let server = Server::start();
    let path = Server::cache_path("reboot");
    server.create_cache(&path, "westeurope", json!({})).await;
    let before = server.node_pids();
    let response = server
        .post(
            &format!("{path}/forceReboot"),
            Some(json!({"rebootType": "AllNodes"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("2 node(s)"));
    let after = server.node_pids();
    assert_eq!(after.len(), 2);
    assert!(after.iter().all(|p| !before.contains(p)), "new processes");
    let mut con = server.redis("reboot").await;
    let _: String = redis::cmd("PING").query_async(&mut con).await.unwrap();
    let bad = server
        .post(
            &format!("{path}/forceReboot"),
            Some(json!({"rebootType": "Everything"})),
        )
        .await;
    assert_arm_error(bad, StatusCode::BAD_REQUEST, "InvalidParameter").await;
}

#[tokio::test]
async fn delete_stops_the_nodes_and_forgets_the_cache() {
    let server = Server::start();
    let path = Server::cache_path("gone");
    server.create_cache(&path, "westeurope", json!({})).await;
    assert_eq!(server.node_pids().len(), 2);
    let response = server.delete(&path).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    server.wait_succeeded(&response).await;
    assert_arm_error(
        server.get(&path).await,
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
    )
    .await;
    assert!(server.node_pids().is_empty(), "no node left running");
    assert_eq!(server.delete(&path).await.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn polling_headers_and_the_operation_result_are_azures() {
    let server = Server::start();
    let path = Server::cache_path("lro");
    let response = server
        .put(&path, json!({"location": "westeurope", "properties": {"sku": {"name": "Premium", "family": "P", "capacity": 1}}}))
        .await;
    // A create's Location is the new cache itself, as Azure's recordings show.
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location.to_lowercase(), server.url(&path).to_lowercase());
    let status = server.wait_operation(&response).await;
    for key in [
        "startTime",
        "endTime",
        "percentComplete",
        "error",
        "properties",
    ] {
        assert!(
            status.get(key).is_some(),
            "asyncOperations carries {key}: {status}"
        );
    }
    // A delete's Location is the operation result, and it is the only header.
    let deleted = server.delete(&path).await;
    assert_eq!(deleted.status(), StatusCode::ACCEPTED);
    assert!(deleted.headers().get("azure-asyncoperation").is_none());
    let location = deleted.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("/operationResults/"), "{location}");
    let done = server.wait_operation(&deleted).await;
    assert_eq!(done["status"], "Succeeded");
    let result = server
        .http()
        .get(&location)
        .bearer_auth(server.token())
        .send()
        .await
        .unwrap();
    assert_eq!(result.status(), StatusCode::OK);
    let body: Value = result.json().await.unwrap();
    assert_eq!(body["status"], "Succeeded");
    assert!(body["id"]
        .as_str()
        .unwrap()
        .ends_with(body["name"].as_str().unwrap()));
    let unknown = server
        .get(&format!("/subscriptions/{SUB}/providers/Microsoft.Cache/locations/westeurope/asyncOperations/nope"))
        .await;
    assert_arm_error(unknown, StatusCode::NOT_FOUND, "ResourceNotFound").await;
}

#[tokio::test]
async fn logs_never_contain_the_token_keys_or_query_strings() {
    let server = Server::start();
    let path = Server::cache_path("secret");
    server.create_cache(&path, "westeurope", json!({})).await;
    let (k1, k2) = server.keys("secret").await;
    let regenerated: Value = server
        .regenerate_key(&path, "Secondary")
        .await
        .json()
        .await
        .unwrap();
    let k3 = regenerated["secondaryKey"].as_str().unwrap().to_owned();
    let _ = server
        .get(&format!("{path}?api-version=2024-11-01&secret=hunter2"))
        .await;
    let _ = server
        .http()
        .get(server.url(&path))
        .bearer_auth("wrong-token-value")
        .send()
        .await;
    let log = std::fs::read_to_string(server.dir.path().join("server.log")).unwrap();
    // Changes are logged with their request, and so is the refused read
    // (successful reads only at debug): the secrets must be in none of them.
    assert!(log.contains("regenerateKey"), "requests are logged: {log}");
    assert!(
        log.contains("answered a read"),
        "the refused read is logged: {log}"
    );
    for secret in [
        server.token(),
        &k1,
        &k2,
        &k3,
        "hunter2",
        "wrong-token-value",
    ] {
        assert!(!log.contains(secret), "the log leaks a secret");
    }
    assert!(!log.contains("api-version="), "query strings aren't logged");
}
