//! Failovers the state machine refuses, through the API: caches of
//! different sizes, a link still `Creating`, and a link busy with another
//! failover. Each refusal is an ARM error and changes nothing.

use std::time::Duration;

use crate::support::{
    assert_arm_error, create_pair, eventually, fail_over, freeze_every_node, kill_every_node,
    link_of, linked_pair, linked_pair_of_different_sizes, request_failover, set_rdb_key_save_delay,
    slow_down_full_sync, Server,
};
use reqwest::StatusCode;

#[tokio::test]
async fn failover_between_different_sizes_is_refused() {
    let server = Server::start();
    linked_pair_of_different_sizes(&server, "small", "large").await;

    for kind in ["planned", "forced"] {
        let refused = request_failover(&server, "large", "small", kind).await;
        let body = assert_arm_error(refused, StatusCode::CONFLICT, "FailoverSizeMismatch").await;
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("same size"),
            "{body}"
        );
    }
    // Nothing changed.
    let link = link_of(&server, "small", "large").await;
    assert_eq!(link["properties"]["serverRole"], "Secondary");
    assert_eq!(link["properties"]["provisioningState"], "Succeeded");
    assert!(link["properties"].get("lastFailover").is_none());
}

#[tokio::test]
async fn failover_while_creating_is_refused() {
    let server = Server::start();
    create_pair(&server, "slow", "slower").await;
    // A snapshot that takes a while to write keeps the link Creating.
    let mut slow = slow_down_full_sync(&server, "slow", "k", 3000).await;

    let linking = server.put_link("slow", "slower").await;
    assert_eq!(linking.status(), StatusCode::CREATED);
    assert_eq!(
        link_of(&server, "slow", "slower").await["properties"]["provisioningState"],
        "Creating"
    );
    for kind in ["planned", "forced"] {
        let refused = request_failover(&server, "slower", "slow", kind).await;
        assert_arm_error(refused, StatusCode::CONFLICT, "LinkNotSucceeded").await;
    }
    let link = link_of(&server, "slow", "slower").await;
    assert_eq!(link["properties"]["serverRole"], "Secondary");

    // Let the sync finish; then the failover is allowed.
    set_rdb_key_save_delay(&mut slow, 0).await;
    server.wait_succeeded(&linking).await;
    fail_over(&server, "slower", "slow").await;
}

#[tokio::test]
async fn failover_and_unlink_are_refused_while_a_failover_runs() {
    let server = Server::start();
    linked_pair(&server, "one", "two").await;
    // With every node of the primary gone, a forced failover promotes "two"
    // and then waits (Creating) for "one" to come back. (Frozen before the
    // request, killed after: see `freeze_every_node`.)
    freeze_every_node(&server, "one").await;
    let forced = request_failover(&server, "two", "one", "forced").await;
    assert_eq!(forced.status(), StatusCode::CREATED);
    kill_every_node(&server, "one").await;
    eventually("the promotion", Duration::from_secs(60), || async {
        let link = link_of(&server, "one", "two").await;
        (link["properties"]["provisioningState"] == "Creating"
            && link["properties"]["serverRole"] == "Primary")
            .then_some(())
    })
    .await;

    // "one" is the geo-secondary now: asking it to take over again is refused.
    let again = request_failover(&server, "one", "two", "planned").await;
    assert_arm_error(again, StatusCode::CONFLICT, "OperationInProgress").await;
    let unlink = server
        .delete(&format!("{}/linkedServers/two", Server::cache_path("one")))
        .await;
    assert_arm_error(unlink, StatusCode::CONFLICT, "OperationInProgress").await;
    // The same request as the promotion again is idempotent, not a new failover.
    let same = request_failover(&server, "two", "one", "forced").await;
    assert_eq!(same.status(), StatusCode::OK);
}
