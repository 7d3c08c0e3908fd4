//! Crash safety of `forceReboot`, swept for each reboot type: the control
//! plane `kill -9`ed at every step its log names and at ten evenly spaced
//! points over the first 500 ms of the reboot, under a writer through the
//! cache's address, then started again. After each restart the cache
//! converges (see `sweep_check`); at the end every acknowledged write is
//! there and one more reboot, not killed, works. (A linked geo-primary's
//! reboot is swept with the pair's operations, in `sweep`.)

use georep_testkit::killpoint::log_mark;
use georep_testkit::load::assert_all_present;
use georep_testkit::redis_client::connect;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;
use tokio::time::Instant;

use crate::support::*;
use crate::sweep_check::*;

async fn reboots_killed_at_every_point(kind: &str, steps: &[(&'static str, usize)]) {
    let mut server = logging_server();
    let name = format!("sweep-reboot-{}", kind.to_lowercase());
    let (path, key, cache) = loaded_premium(&server, &name, "westeurope", 1_000).await;
    let (stop, writes) = start_writer(cache, key.clone());
    let body = json!({"rebootType": kind});
    for point in points(steps) {
        let mark = log_mark(&server);
        let asked = Instant::now();
        let answer = send_detached(
            &server,
            Method::POST,
            format!("{path}/forceReboot"),
            Some(body.clone()),
        );
        crash_at(&mut server, &point, mark, asked).await;
        if let Some((status, body)) = answer.await.expect("the request task") {
            assert_eq!(
                status,
                StatusCode::OK,
                "{kind} reboot killed {point}: {body}"
            );
        }
        settled(&server, &path, &key).await;
        // The data came through: nothing was replaced with emptiness.
        assert!(
            dbsize(cache, &key).await >= Some(1_000),
            "{kind} reboot killed {point}: the cache lost its data"
        );
    }
    // One more, not killed: it works, and the cache converges again.
    let response = server
        .api()
        .post(&format!("{path}/forceReboot"), Some(body))
        .await;
    assert_eq!(response.status(), StatusCode::OK, "a last {kind} reboot");
    settled(&server, &path, &key).await;
    let written = stop_writer(stop, writes).await;
    assert!(!written.acked.is_empty(), "nothing was written");
    let mut con = connect(cache, &key, Duration::from_secs(2)).await.unwrap();
    assert_all_present(
        &mut con,
        &written.acked,
        &format!("{path} after the {kind} sweep"),
    )
    .await;
    follow_up(&server, &path).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn primary_node_reboots_killed_at_every_point_converge_and_lose_nothing() {
    reboots_killed_at_every_point(
        "PrimaryNode",
        &[
            ("node saved its data and stopped", 1),
            ("the shard's primary node was replaced by its replica", 1),
            ("node is up", 1),
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn secondary_node_reboots_killed_at_every_point_converge_and_lose_nothing() {
    reboots_killed_at_every_point(
        "SecondaryNode",
        &[("node saved its data and stopped", 1), ("node is up", 1)],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn all_node_reboots_killed_at_every_point_converge_and_lose_nothing() {
    reboots_killed_at_every_point(
        "AllNodes",
        &[
            ("node saved its data and stopped", 1),
            ("node saved its data and stopped", 2),
            ("node is up", 1),
            ("node is up", 2),
        ],
    )
    .await;
}
