//! Failover through the API: the link created in reverse on the current
//! geo-secondary, planned (nothing lost) or forced (the extension).

use crate::support::{
    assert_arm_error, create_pair, eventually_get, get, link_of, linked_pair,
    linked_pair_of_different_sizes, request_failover, set, slow_down_full_sync, OnGetError, Server,
};
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn a_planned_failover_swaps_the_roles_and_loses_nothing() {
    let server = Server::start();
    linked_pair(&server, "east", "west").await;
    let mut east = server.redis("east").await;
    for i in 0..100 {
        set(&mut east, &format!("k{i}"), &i.to_string())
            .await
            .unwrap();
    }

    // The failover request as the SDK sends it: the link PUT in reverse, on
    // the current geo-secondary.
    let response = server.put_link("west", "east").await;
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
    let op = server.wait_operation_at(&operation).await;
    assert_eq!(op["status"], "Succeeded", "{op}");

    let from_west = link_of(&server, "west", "east").await;
    assert_eq!(from_west["properties"]["serverRole"], "Secondary");
    assert_eq!(from_west["properties"]["provisioningState"], "Succeeded");
    let from_east = link_of(&server, "east", "west").await;
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
        eventually_get(&mut east, "after", OnGetError::Retry)
            .await
            .as_deref(),
        Some("failover")
    );

    // And back again, with the SDK's request on the new secondary.
    let back = server.put_link("east", "west").await;
    assert_eq!(back.status(), StatusCode::CREATED);
    server.wait_succeeded(&back).await;
    let mut east = server.redis("east").await;
    set(&mut east, "home", "again")
        .await
        .expect("east is the primary again");
}

#[tokio::test]
async fn a_forced_failover_promotes_at_once() {
    let server = Server::start();
    linked_pair(&server, "f-a", "f-b").await;
    let response = request_failover(&server, "f-b", "f-a", "forced").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    server.wait_succeeded(&response).await;
    let mut b = server.redis("f-b").await;
    set(&mut b, "k", "v")
        .await
        .expect("the promoted cache takes writes");
    let mut a = server.redis("f-a").await;
    assert_eq!(
        eventually_get(&mut a, "k", OnGetError::Retry)
            .await
            .as_deref(),
        Some("v"),
        "the old primary rejoined"
    );

    let bad = request_failover(&server, "f-a", "f-b", "sideways").await;
    assert_arm_error(bad, StatusCode::BAD_REQUEST, "InvalidParameter").await;
}

#[tokio::test]
async fn failover_is_refused_for_different_sizes_and_while_creating() {
    let server = Server::start();
    linked_pair_of_different_sizes(&server, "small", "large").await;
    // The SDK's failover request, on the geo-secondary: the link PUT in reverse.
    let refused = server.put_link("large", "small").await;
    assert_arm_error(refused, StatusCode::CONFLICT, "FailoverSizeMismatch").await;

    create_pair(&server, "slow", "slower").await;
    slow_down_full_sync(&server, "slow", "k", 3000).await;
    let linking = server.put_link("slow", "slower").await;
    assert_eq!(linking.status(), StatusCode::CREATED);
    let refused = server.put_link("slower", "slow").await;
    assert_arm_error(refused, StatusCode::CONFLICT, "LinkNotSucceeded").await;
}
