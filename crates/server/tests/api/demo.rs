//! `--demo` seeds a fleet once: at least 8 caches in 5 regions and 2
//! subscriptions, two compatible Premium pairs, and an incompatible cache
//! for each reason in Azure's passive geo-replication guide.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::support::Server;
use serde_json::Value;

async fn all_caches(server: &Server) -> Vec<Value> {
    let subs: Value = server
        .get_json("/subscriptions?api-version=2022-12-01")
        .await;
    let mut caches = Vec::new();
    for sub in subs["value"].as_array().unwrap() {
        let id = sub["subscriptionId"].as_str().unwrap();
        let list: Value = server
            .get_json(&format!(
                "/subscriptions/{id}/providers/Microsoft.Cache/redis"
            ))
            .await;
        caches.extend(list["value"].as_array().unwrap().iter().cloned());
    }
    caches
}

async fn reasons(server: &Server, primary: &Value) -> Vec<(String, Vec<String>)> {
    let judged: Value = server
        .get_json(&format!(
            "/x-georep/candidates?primary={}",
            primary["id"].as_str().unwrap()
        ))
        .await;
    judged["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let codes = c["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["code"].as_str().unwrap().to_owned())
                .collect();
            (c["name"].as_str().unwrap().to_owned(), codes)
        })
        .collect()
}

#[tokio::test]
async fn the_demo_fleet_is_seeded_once_and_covers_every_reason() {
    let mut server = Server::start_with(
        std::sync::Arc::new(tempfile::TempDir::new().unwrap()),
        &["--demo"],
    );
    let mut caches = all_caches(&server).await;
    for _ in 0..200 {
        if caches
            .iter()
            .all(|c| c["properties"]["provisioningState"] == "Succeeded")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        caches = all_caches(&server).await;
    }
    assert!(caches
        .iter()
        .all(|c| c["properties"]["provisioningState"] == "Succeeded"));
    assert!(caches.len() >= 8, "{} caches", caches.len());
    let regions: BTreeSet<&str> = caches
        .iter()
        .map(|c| c["location"].as_str().unwrap())
        .collect();
    assert!(regions.len() >= 5, "{regions:?}");
    let subscriptions: BTreeSet<&str> = caches
        .iter()
        .map(|c| c["id"].as_str().unwrap().split('/').nth(2).unwrap())
        .collect();
    assert_eq!(subscriptions.len(), 2);

    let by_name = |name: &str| caches.iter().find(|c| c["name"] == name).unwrap().clone();
    // Two compatible pairs.
    let orders = reasons(&server, &by_name("orders-weu")).await;
    let sessions = reasons(&server, &by_name("sessions-eus")).await;
    assert!(orders
        .iter()
        .any(|(n, r)| n == "orders-neu" && r.is_empty()));
    assert!(sessions
        .iter()
        .any(|(n, r)| n == "sessions-wus" && r.is_empty()));
    // Every reason, somewhere.
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for list in [
        &orders,
        &sessions,
        &reasons(&server, &by_name("cart-c1")).await,
    ] {
        for (_, codes) in list.iter() {
            seen.extend(codes.iter().cloned());
        }
    }
    for code in [
        "NotPremium",
        "DifferentRedisVersion",
        "PersistenceEnabled",
        "TooManyReplicas",
        "SecondarySmaller",
        "ShardCountMismatch",
        "ClusteringMismatch",
        "DifferentSubscription",
    ] {
        assert!(seen.contains(code), "{code} missing from {seen:?}");
    }

    // A later start keeps the fleet as it is: nothing seeded or started again.
    let pids: BTreeSet<u32> = server.node_pids().into_iter().collect();
    server.kill_server_only();
    let again = Server::start_with(server.dir.clone(), &["--demo"]);
    assert_eq!(all_caches(&again).await.len(), caches.len());
    let after: BTreeSet<u32> = again.node_pids().into_iter().collect();
    assert_eq!(after, pids);
    drop(server);
}
