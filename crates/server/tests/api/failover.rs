//! Failover through the API: the link created in reverse on the current
//! geo-secondary, planned (nothing lost) or forced (the extension).

use std::time::Duration;

use crate::support::{self, assert_arm_error, link_body, Server, SUB};
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn set(
    con: &mut redis::aio::MultiplexedConnection,
    key: &str,
    value: &str,
) -> redis::RedisResult<()> {
    redis::cmd("SET").arg(key).arg(value).query_async(con).await
}

async fn get(
    con: &mut redis::aio::MultiplexedConnection,
    key: &str,
) -> redis::RedisResult<Option<String>> {
    redis::cmd("GET").arg(key).query_async(con).await
}

async fn eventually_get(con: &mut redis::aio::MultiplexedConnection, key: &str) -> Option<String> {
    for _ in 0..50 {
        if let Ok(Some(value)) = get(con, key).await {
            return Some(value);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

/// `PUT` on `on` naming `peer` as the secondary: the failover request.
async fn reverse(server: &Server, on: &str, peer: &str, query: &str) -> reqwest::Response {
    let path = format!(
        "{}/linkedServers/{peer}?api-version={}{query}",
        Server::cache_path(on),
        support::API
    );
    server.put(&path, link_body(SUB, peer, "westeurope")).await
}

#[tokio::test]
async fn a_planned_failover_swaps_the_roles_and_loses_nothing() {
    let server = Server::start();
    server
        .create_cache(&Server::cache_path("east"), "eastus", json!({}))
        .await;
    server
        .create_cache(&Server::cache_path("west"), "westus2", json!({}))
        .await;
    server.link("east", "west").await;
    let mut east = server.redis("east").await;
    for i in 0..100 {
        set(&mut east, &format!("k{i}"), &i.to_string())
            .await
            .unwrap();
    }

    let response = reverse(&server, "west", "east", "").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let operation = response.headers()["azure-asyncoperation"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["properties"]["provisioningState"], "Deleting",
        "{body}"
    );
    let mut op = Value::Null;
    for _ in 0..300 {
        op = server
            .http()
            .get(&operation)
            .bearer_auth(&server.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if op["status"] != "InProgress" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(op["status"], "Succeeded", "{op}");

    let from_west: Value = server
        .get(&format!(
            "{}/linkedServers/east",
            Server::cache_path("west")
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(from_west["properties"]["serverRole"], "Secondary");
    assert_eq!(from_west["properties"]["provisioningState"], "Succeeded");
    let from_east: Value = server
        .get(&format!(
            "{}/linkedServers/west",
            Server::cache_path("east")
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(from_east["properties"]["serverRole"], "Primary");

    let mut west = server.redis("west").await;
    assert_eq!(
        get(&mut west, "k99").await.unwrap().as_deref(),
        Some("99"),
        "every write arrived"
    );
    set(&mut west, "after", "failover")
        .await
        .expect("the new primary takes writes");
    let mut east = server.redis("east").await;
    assert_eq!(
        set(&mut east, "x", "1").await.unwrap_err().code(),
        Some("READONLY")
    );
    assert_eq!(
        eventually_get(&mut east, "after").await.as_deref(),
        Some("failover")
    );

    // And back again, with the SDK's request on the new secondary.
    let back = reverse(&server, "east", "west", "").await;
    assert_eq!(back.status(), StatusCode::CREATED);
    assert_eq!(server.wait_operation(&back).await["status"], "Succeeded");
    let mut east = server.redis("east").await;
    set(&mut east, "home", "again")
        .await
        .expect("east is the primary again");
}

#[tokio::test]
async fn a_forced_failover_promotes_at_once() {
    let server = Server::start();
    server
        .create_cache(&Server::cache_path("f-a"), "eastus", json!({}))
        .await;
    server
        .create_cache(&Server::cache_path("f-b"), "westus2", json!({}))
        .await;
    server.link("f-a", "f-b").await;
    let response = reverse(&server, "f-b", "f-a", "&x-georep-failover=forced").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        server.wait_operation(&response).await["status"],
        "Succeeded"
    );
    let mut b = server.redis("f-b").await;
    set(&mut b, "k", "v")
        .await
        .expect("the promoted cache takes writes");
    let mut a = server.redis("f-a").await;
    assert_eq!(
        eventually_get(&mut a, "k").await.as_deref(),
        Some("v"),
        "the old primary rejoined"
    );

    let bad = reverse(&server, "f-a", "f-b", "&x-georep-failover=sideways").await;
    assert_arm_error(bad, StatusCode::BAD_REQUEST, "InvalidParameter").await;
}

#[tokio::test]
async fn failover_is_refused_for_different_sizes_and_while_creating() {
    let server = Server::start();
    server
        .create_cache(&Server::cache_path("small"), "eastus", json!({}))
        .await;
    server
        .create_cache(
            &Server::cache_path("large"),
            "westus2",
            json!({"sku": {"name": "Premium", "family": "P", "capacity": 2}}),
        )
        .await;
    server.link("small", "large").await;
    let refused = reverse(&server, "large", "small", "").await;
    assert_arm_error(refused, StatusCode::CONFLICT, "FailoverSizeMismatch").await;

    server
        .create_cache(&Server::cache_path("slow"), "eastus", json!({}))
        .await;
    server
        .create_cache(&Server::cache_path("slower"), "westus2", json!({}))
        .await;
    let mut slow = server.redis("slow").await;
    let mut mset = redis::cmd("MSET");
    for i in 0..3000 {
        mset.arg(format!("k{i}")).arg(i);
    }
    let _: () = mset.query_async(&mut slow).await.unwrap();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("rdb-key-save-delay")
        .arg(1000)
        .query_async(&mut slow)
        .await
        .unwrap();
    let linking = server.put_link("slow", "slower").await;
    assert_eq!(linking.status(), StatusCode::CREATED);
    let refused = reverse(&server, "slower", "slow", "").await;
    assert_arm_error(refused, StatusCode::CONFLICT, "LinkNotSucceeded").await;
}
