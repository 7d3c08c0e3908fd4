//! A link's timeline: the steps of linking, a failover and unlinking, in
//! order, from either side, and still there once the link is gone.

use std::time::Duration;

use crate::support::{
    assert_arm_error, cache_path_in, eventually, fail_over, linked_pair, linked_server_id, same_id,
    Server, RG, SUB,
};
use reqwest::StatusCode;
use serde_json::Value;

/// The steps a link, a planned failover and an unlink go through, in order.
/// (`FullSyncStarted` and `FullSyncFinished` come from the per-second
/// samples, so a loaded machine can miss a short sync's; the metrics tests
/// check the full-sync counts themselves.)
const STEPS: [&str; 7] = [
    "LinkRequested",
    "Linked",
    "FailoverRequested",
    "Promoted",
    "FailoverCompleted",
    "UnlinkRequested",
    "Unlinked",
];

/// Whether `wanted` appears in `kinds` in order (other steps may come between).
fn in_order(kinds: &[String], wanted: &[&str]) -> bool {
    let mut rest = kinds.iter();
    wanted.iter().all(|w| rest.any(|k| k == w))
}

#[tokio::test]
async fn the_timeline_lists_link_failover_and_unlink() {
    let server = Server::start();
    linked_pair(&server, "here", "there").await;
    fail_over(&server, "there", "here").await;
    let unlink = server
        .delete(&format!(
            "{}/linkedServers/here",
            Server::cache_path("there")
        ))
        .await;
    assert_eq!(unlink.status(), StatusCode::ACCEPTED);
    server.wait_succeeded(&unlink).await;

    let id = linked_server_id("here", "there");
    let kinds = eventually("every step", Duration::from_secs(30), || async {
        let kinds = server.timeline_kinds(&id).await;
        in_order(&kinds, &STEPS).then_some(kinds)
    })
    .await;

    // The same link, named from the other side.
    assert_eq!(
        server
            .timeline_kinds(&linked_server_id("there", "here"))
            .await,
        kinds
    );

    let body: Value = server
        .get_json(&format!("/x-georep/timeline?link={id}"))
        .await;
    let entries = body["value"].as_array().unwrap();
    let entry = |kind: &str| {
        entries
            .iter()
            .find(|e| e["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind}"))
    };
    let here = cache_path_in(SUB, RG, "here");
    let there = cache_path_in(SUB, RG, "there");
    assert!(same_id(&entry("Linked")["primary"], &here));
    let promoted = entry("Promoted");
    assert!(same_id(&promoted["primary"], &there), "{promoted}");
    assert_eq!(promoted["failover"]["kind"], "Planned");
    assert_eq!(promoted["failover"]["bytesPossiblyLost"], 0);
    assert!(same_id(&promoted["failover"]["from"], &here), "{promoted}");
    assert!(entry("Unlinked")["message"]
        .as_str()
        .unwrap()
        .contains("stand alone"));
    let ids: Vec<u64> = entries.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    assert!(ids.iter().all(|id| *id > 0));
    assert!(entries.iter().all(|e| e["time"].is_string()));
}

#[tokio::test]
async fn timeline_queries_name_a_link() {
    let server = Server::start();
    linked_pair(&server, "up", "down").await;

    let missing = server.get("/x-georep/timeline").await;
    assert_arm_error(missing, StatusCode::BAD_REQUEST, "InvalidParameter").await;
    let bad = server.get("/x-georep/timeline?link=orders").await;
    assert_arm_error(bad, StatusCode::BAD_REQUEST, "InvalidParameter").await;
    let unknown = server
        .get(&format!(
            "/x-georep/timeline?link={}",
            linked_server_id("up", "sideways")
        ))
        .await;
    assert_arm_error(unknown, StatusCode::NOT_FOUND, "ResourceNotFound").await;
    // Ids compare as ARM compares them: without regard to case.
    let kinds = server
        .timeline_kinds(&linked_server_id("UP", "Down").to_lowercase())
        .await;
    assert!(in_order(&kinds, &["LinkRequested", "Linked"]), "{kinds:?}");
    // Only with the token.
    let anonymous = reqwest::Client::new()
        .get(format!(
            "{}/x-georep/timeline?link={}",
            server.base(),
            linked_server_id("up", "down")
        ))
        .send()
        .await
        .unwrap();
    assert_arm_error(anonymous, StatusCode::UNAUTHORIZED, "AuthenticationFailed").await;
}
