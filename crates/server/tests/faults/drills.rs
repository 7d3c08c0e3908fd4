//! Disaster-recovery drills (`/x-georep/drills`) against real nodes: a
//! planned drill (with failback) loses nothing, measures a gap and leaves
//! no key behind; a forced drill after `cut-link` loses writes, within what
//! the failover reported, as a writer of the test's own confirms; bad input
//! gets ARM's errors; a drill cut short by a crash of the control plane is
//! failed on restart and its keys removed; a node killed during a drill
//! leaves it ended, one way or the other, never hanging.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use georep_testkit::api::assert_arm_error;
use georep_testkit::load::{writer, OnFailure};
use georep_testkit::redis_client::{connect, connect_with_any};
use georep_testkit::wait::eventually;
use georep_testkit::Server;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

/// How long any drill of these tests may take to end.
const DRILL_LIMIT: Duration = Duration::from_secs(300);

/// A linked Premium pair (`{prefix}-primary` in westeurope, `{prefix}-secondary`
/// in northeurope) holding `keys` keys on both sides: the caches' paths,
/// their access keys and the link's linked-server id.
async fn linked_pair(server: &Server, prefix: &str, keys: usize) -> Pair {
    let primary = premium(server, &format!("{prefix}-primary"), "westeurope").await;
    let secondary = premium(server, &format!("{prefix}-secondary"), "northeurope").await;
    link(server, &primary, &secondary).await;
    let primary_key = key(server, &primary).await;
    let secondary_key = key(server, &secondary).await;
    fill(address(server, &primary).await, &primary_key, keys).await;
    every_node_holds(server, &secondary, &secondary_key, keys as u64).await;
    let linked = linked_server(server, &primary, &format!("{prefix}-secondary")).await;
    Pair {
        link: linked["id"].as_str().unwrap().to_owned(),
        geo_primary: endpoint(&linked["properties"]["geoPrimaryEndpoint"]),
        primary,
        secondary,
        keys: [primary_key, secondary_key],
    }
}

struct Pair {
    link: String,
    geo_primary: SocketAddr,
    primary: String,
    secondary: String,
    keys: [String; 2],
}

/// Starts a drill; asserts the 202 and the resource's shape; its id.
async fn start_drill(
    server: &Server,
    link: &str,
    kind: &str,
    seconds: u32,
    failback: bool,
) -> String {
    let response = server
        .api()
        .post(
            "/x-georep/drills",
            Some(json!({"link": link, "kind": kind, "seconds": seconds, "failback": failback})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let drill: Value = response.json().await.unwrap();
    assert_eq!(drill["status"], "Running", "{drill}");
    assert_eq!(drill["kind"], kind, "{drill}");
    assert_eq!(drill["link"], link, "{drill}");
    assert!(drill["startedAt"].is_string(), "{drill}");
    assert!(drill["finishedAt"].is_null(), "{drill}");
    assert!(drill["report"]["steps"].is_array(), "{drill}");
    let id = drill["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/x-georep/drills/{id}"));
    id
}

async fn drill(server: &Server, id: &str) -> Value {
    server
        .api()
        .get_json(&format!("/x-georep/drills/{id}"))
        .await
}

/// Waits until the drill is no longer `Running`; the drill.
async fn finished(server: &Server, id: &str) -> Value {
    let drill = eventually("the drill ends", DRILL_LIMIT, || async {
        let drill = drill(server, id).await;
        (drill["status"] != "Running").then_some(drill)
    })
    .await;
    // What it measured, for whoever reads the test's output.
    eprintln!("drill {id} ended: {drill}");
    drill
}

/// How many keys under drill `id`'s prefix the node at `addr` holds.
async fn drill_keys(addr: SocketAddr, key: &str, id: &str) -> Option<usize> {
    let mut con = connect(addr, key, Duration::from_secs(2)).await.ok()?;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("georep:drill:{id}:*"))
        .query_async(&mut con)
        .await
        .ok()?;
    Some(keys.len())
}

/// Waits until neither cache holds a key of drill `id`.
async fn no_drill_keys_left(server: &Server, pair: &Pair, id: &str) {
    for (path, key) in [
        (&pair.primary, &pair.keys[0]),
        (&pair.secondary, &pair.keys[1]),
    ] {
        let addr = address(server, path).await;
        eventually(
            &format!("{path} holds no key of the drill"),
            Duration::from_secs(60),
            || async { (drill_keys(addr, key, id).await == Some(0)).then_some(()) },
        )
        .await;
    }
}

fn step_names(drill: &Value) -> Vec<String> {
    drill["report"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_planned_drill_loses_nothing_measures_its_gap_and_leaves_no_key() {
    let server = server();
    let pair = linked_pair(&server, "drill-planned", 300).await;
    let id = start_drill(&server, &pair.link, "planned", 3, true).await;

    // One drill at a time per link.
    let again = server
        .api()
        .post(
            "/x-georep/drills",
            Some(json!({"link": pair.link, "kind": "planned", "seconds": 3})),
        )
        .await;
    assert_arm_error(again, StatusCode::CONFLICT, "DrillInProgress").await;

    let done = finished(&server, &id).await;
    assert_eq!(done["status"], "Succeeded", "{done}");
    assert!(done["error"].is_null(), "{done}");
    assert!(done["finishedAt"].is_string(), "{done}");
    let report = &done["report"];
    assert!(report["ackedWrites"].as_u64().unwrap() > 0, "{done}");
    assert_eq!(report["lostWrites"], 0, "{done}");
    assert!(report["rtoMs"].as_u64().unwrap() > 0, "{done}");
    assert_eq!(report["bytesPossiblyLost"], 0, "{done}");
    assert!(report["partialResync"].is_boolean(), "{done}");
    assert_eq!(report["verification"]["consistent"], true, "{done}");
    let steps = step_names(&done);
    for expected in [
        "writer started",
        "failover requested (planned)",
        "failover completed",
        "failback requested (planned)",
        "failback completed",
        "writer stopped",
        "ledger checked",
        "verified",
    ] {
        assert!(steps.iter().any(|s| s == expected), "{expected}: {steps:?}");
    }
    assert!(
        steps.last().unwrap().starts_with("keys removed"),
        "{steps:?}"
    );
    let times: Vec<u64> = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["atMs"].as_u64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    no_drill_keys_left(&server, &pair, &id).await;
    // The data the caches held is untouched, on both sides.
    assert_eq!(
        dbsize(address(&server, &pair.primary).await, &pair.keys[0]).await,
        Some(300)
    );

    // Listed from either side, newest first; on the timeline.
    let peer = linked_server(&server, &pair.secondary, "drill-planned-primary").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for link in [&pair.link, &peer] {
        let listed = server
            .api()
            .get_json(&format!("/x-georep/drills?link={link}"))
            .await;
        assert_eq!(listed["value"][0]["id"], id.as_str(), "{listed}");
    }
    let kinds = server.api().timeline_kinds(&pair.link).await;
    assert!(kinds.iter().any(|k| k == "DrillStarted"), "{kinds:?}");
    assert!(kinds.iter().any(|k| k == "DrillFinished"), "{kinds:?}");

    // Bad input: ARM's error bodies, 4xx.
    let post = |body: Value| {
        let api = server.api().clone();
        async move { api.post("/x-georep/drills", Some(body)).await }
    };
    let unknown = format!("{}/linkedServers/nope", pair.primary);
    for (body, status, code) in [
        (
            json!({"link": unknown, "kind": "planned", "seconds": 3}),
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
        ),
        (
            json!({"link": pair.link, "kind": "sideways", "seconds": 3}),
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
        ),
        (
            json!({"link": pair.link, "kind": "planned", "seconds": 0}),
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
        ),
        (
            json!({"link": pair.link, "kind": "planned", "seconds": 301}),
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
        ),
        (
            json!({"link": pair.link, "kind": "planned", "seconds": -1}),
            StatusCode::BAD_REQUEST,
            "InvalidRequestContent",
        ),
        (json!({}), StatusCode::BAD_REQUEST, "InvalidRequestContent"),
        (
            json!({"link": "nonsense", "kind": "planned", "seconds": 3}),
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
        ),
    ] {
        assert_arm_error(post(body).await, status, code).await;
    }
    assert_arm_error(
        server.api().get("/x-georep/drills/nope").await,
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
    )
    .await;
    assert_arm_error(
        server.api().get("/x-georep/drills?other=1").await,
        StatusCode::BAD_REQUEST,
        "InvalidParameter",
    )
    .await;
    assert_arm_error(
        server
            .api()
            .get(&format!("/x-georep/drills?link={unknown}"))
            .await,
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
    )
    .await;
}

/// The bytes `SET w:{n} {n}` takes in the replication stream (RESP).
fn set_bytes(n: u64) -> u64 {
    let bulk = |len: usize| (1 + len.to_string().len() + 2 + len + 2) as u64;
    4 + bulk(3) + bulk(format!("w:{n}").len()) + bulk(n.to_string().len())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forced_drill_after_a_cut_loses_writes_within_what_the_failover_reported() {
    let server = server();
    let pair = linked_pair(&server, "drill-forced", 100).await;
    let cut = server
        .api()
        .post(
            "/x-georep/faults",
            Some(json!({"link": pair.link, "kind": "cut-link"})),
        )
        .await;
    assert_eq!(cut.status(), 200);

    // Writes of the test's own in flight through the geo-primary URL, with
    // its own ledger: the cut secondary never sees them.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (addr, keys) = (pair.geo_primary, pair.keys.clone());
    let ours = writer(
        move || {
            let keys = keys.clone();
            async move { connect_with_any(addr, &keys, Duration::from_millis(500)).await }
        },
        OnFailure::Reconnect,
        stop.clone(),
    );
    // A short drill: it fails over well before the watchdog's probes of
    // the cut node (which answers MASTERDOWN) could count it as hung.
    let id = start_drill(&server, &pair.link, "forced", 1, false).await;
    // Ours stop once the failover is done, so they are not in flight while
    // the drill verifies the sides (which compares key counts).
    eventually("the drill fails over", DRILL_LIMIT, || async {
        let drill = drill(&server, &id).await;
        (drill["status"] != "Running"
            || step_names(&drill).iter().any(|s| s == "failover completed"))
        .then_some(())
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    let written = ours.await.unwrap();
    let done = finished(&server, &id).await;

    assert_eq!(done["status"], "Succeeded", "{done}");
    let report = &done["report"];
    let lost = report["lostWrites"].as_u64().unwrap();
    assert!(lost > 0, "{done}");
    assert!(lost <= report["ackedWrites"].as_u64().unwrap(), "{done}");
    let reported = report["bytesPossiblyLost"]
        .as_u64()
        .unwrap_or_else(|| panic!("the old primary answered, so the loss is known: {done}"));
    let drill_lost_bytes = report["lostBytes"].as_u64().unwrap();
    assert!(
        drill_lost_bytes > 0 && drill_lost_bytes <= reported,
        "{done}"
    );
    assert_eq!(report["verification"]["consistent"], true, "{done}");

    // The test's ledger confirms a loss, and the drill's and the test's
    // lost writes together fit in what the failover reported.
    let mut con = connect_with_any(pair.geo_primary, &pair.keys, Duration::from_secs(2))
        .await
        .unwrap();
    let mut our_lost_bytes = 0;
    let mut our_lost = 0;
    for chunk in written.acked.chunks(1000) {
        let names: Vec<String> = chunk.iter().map(|n| format!("w:{n}")).collect();
        let values: Vec<Option<u64>> = redis::cmd("MGET")
            .arg(&names)
            .query_async(&mut con)
            .await
            .unwrap();
        for (n, value) in chunk.iter().zip(values) {
            if value != Some(*n) {
                our_lost += 1;
                our_lost_bytes += set_bytes(*n);
            }
        }
    }
    assert!(our_lost > 0, "the test's writes during the cut were lost");
    assert!(
        drill_lost_bytes + our_lost_bytes <= reported,
        "{drill_lost_bytes} + {our_lost_bytes} > {reported}: {done}"
    );
    no_drill_keys_left(&server, &pair, &id).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_drill_cut_short_by_a_crash_is_failed_on_restart_and_its_keys_removed() {
    let mut server = server();
    let pair = linked_pair(&server, "drill-crash", 10).await;
    let earlier = start_drill(&server, &pair.link, "planned", 1, false).await;
    assert_eq!(finished(&server, &earlier).await["status"], "Succeeded");
    let id = start_drill(&server, &pair.link, "planned", 60, false).await;
    let primary_addr = address(&server, &pair.primary).await;
    eventually("the drill has written", Duration::from_secs(60), || async {
        (drill_keys(primary_addr, &pair.keys[0], &id).await? > 0).then_some(())
    })
    .await;
    // While it runs, GET shows its progress.
    eventually(
        "the running drill's progress",
        Duration::from_secs(60),
        || async {
            let running = drill(&server, &id).await;
            (running["status"] == "Running"
                && running["report"]["ackedWrites"].as_u64()? > 0
                && running["report"]["writesPerSecond"].as_f64()? > 0.0)
                .then_some(())
        },
    )
    .await;

    server.kill();
    server.restart().expect("the server starts again");
    let after = drill(&server, &id).await;
    assert_eq!(after["status"], "Failed", "{after}");
    assert_eq!(after["error"]["code"], "DrillInterrupted", "{after}");
    assert!(
        after["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("restart")),
        "{after}"
    );
    assert!(after["finishedAt"].is_string(), "{after}");
    // Past drills are kept across the restart, newest first.
    let listed = server
        .api()
        .get_json(&format!("/x-georep/drills?link={}", pair.link))
        .await;
    let listed: Vec<(&str, &str)> = listed["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["id"].as_str().unwrap(), d["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        listed,
        [(id.as_str(), "Failed"), (earlier.as_str(), "Succeeded")]
    );
    no_drill_keys_left(&server, &pair, &id).await;
    assert_eq!(dbsize(primary_addr, &pair.keys[0]).await, Some(10));
    // The link takes a drill again.
    let next = start_drill(&server, &pair.link, "planned", 1, false).await;
    let next = finished(&server, &next).await;
    assert_eq!(next["status"], "Succeeded", "{next}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_killed_during_a_drill_ends_it_honestly() {
    let server = server();
    let pair = linked_pair(&server, "drill-kill", 10).await;
    let id = start_drill(&server, &pair.link, "planned", 6, false).await;
    let primary_addr = address(&server, &pair.primary).await;
    eventually("the drill has written", Duration::from_secs(60), || async {
        (drill_keys(primary_addr, &pair.keys[0], &id).await? > 0).then_some(())
    })
    .await;
    let node = primary_node(&server, &pair.primary).await;
    georep_testkit::process::kill(server.node_pid(node).expect("the primary node's process"));

    let done = finished(&server, &id).await;
    assert!(done["finishedAt"].is_string(), "{done}");
    match done["status"].as_str() {
        Some("Succeeded") => {
            assert_eq!(done["report"]["lostWrites"], 0, "{done}");
            assert_eq!(done["report"]["verification"]["consistent"], true, "{done}");
        }
        Some("Failed") => {
            assert!(
                done["error"]["code"]
                    .as_str()
                    .is_some_and(|c| c.starts_with("Drill")),
                "{done}"
            );
            assert!(
                done["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()),
                "{done}"
            );
        }
        other => panic!("a drill ends Succeeded or Failed, not {other:?}: {done}"),
    }

    // A link whose geo-primary lost every node takes no drill.
    let killed = server
        .api()
        .post(
            "/x-georep/faults",
            // The geo-primary's region, wherever the drill left it.
            Some(json!({"link": pair.link, "kind": "kill-region"})),
        )
        .await;
    assert_eq!(killed.status(), 200);
    eventually("the link fails", Duration::from_secs(60), || async {
        let link = linked_server(&server, &pair.primary, "drill-kill-secondary").await;
        // Failed once the geo-primary is known lost.
        (link["properties"]["provisioningState"] != "Succeeded").then_some(())
    })
    .await;
    let refused = server
        .api()
        .post(
            "/x-georep/drills",
            Some(json!({"link": pair.link, "kind": "planned", "seconds": 3})),
        )
        .await;
    assert!(refused.status().is_client_error(), "{}", refused.status());
    let body: Value = refused.json().await.unwrap();
    assert!(body["error"]["code"].is_string(), "{body}");
}
