//! Faults on purpose (`/x-georep/faults`): a cut link stops replicating and
//! keeps the secondary's data, survives a restart, and comes back when
//! restored; a killed node is healed; each shows on the timeline.

use std::time::Duration;

use georep_testkit::wait::eventually;
use serde_json::{json, Value};

use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_cut_link_stops_replicating_until_restored_and_each_fault_is_on_the_timeline() {
    let mut server = server();
    let primary = premium(&server, "fault-primary", "westeurope").await;
    let secondary = premium(&server, "fault-secondary", "northeurope").await;
    link(&server, &primary, &secondary).await;
    let (primary_key, secondary_key) =
        (key(&server, &primary).await, key(&server, &secondary).await);
    let (p_addr, s_addr) = (
        address(&server, &primary).await,
        address(&server, &secondary).await,
    );
    fill(p_addr, &primary_key, 500).await;
    eventually(
        "the secondary has the data",
        Duration::from_secs(30),
        || async { (dbsize(s_addr, &secondary_key).await == Some(500)).then_some(()) },
    )
    .await;
    let link_id = linked_server(&server, &primary, "fault-secondary").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let fault = |kind: &str, extra: Value| {
        let mut body = json!({"link": link_id, "kind": kind});
        georep_testkit::api::merge(&mut body, extra);
        body
    };

    let response = server
        .api()
        .post("/x-georep/faults", Some(fault("cut-link", json!({}))))
        .await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["active"][0]["kind"], "cut-link", "{answer}");
    // A write on the primary no longer reaches the secondary, which keeps
    // what it had, across a restart of the control plane too.
    let mut con =
        georep_testkit::redis_client::connect(p_addr, &primary_key, Duration::from_secs(2))
            .await
            .unwrap();
    let _: () = redis::cmd("SET")
        .arg("during-cut")
        .arg(1)
        .query_async(&mut con)
        .await
        .unwrap();
    // Verification sees the write the cut held back.
    let verified = server
        .api()
        .post("/x-georep/verify", Some(json!({"link": link_id})))
        .await;
    let status = verified.status();
    let verified: Value = verified.json().await.unwrap();
    assert_eq!(status, 200, "{verified}");
    assert_eq!(verified["consistent"], false, "{verified}");
    assert!(
        verified["mismatches"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k == "during-cut"),
        "{verified}"
    );
    server.kill();
    server.restart().expect("the server starts again");
    tokio::time::sleep(Duration::from_secs(2)).await;
    // Cut off, it answers MASTERDOWN (stale reads are off), keeping its data.
    let mut cut =
        georep_testkit::redis_client::connect(s_addr, &secondary_key, Duration::from_secs(2))
            .await
            .unwrap();
    let refused = redis::cmd("DBSIZE")
        .query_async::<u64>(&mut cut)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("MASTERDOWN"), "{refused}");
    let listed: Value = server
        .api()
        .get_json(&format!("/x-georep/faults?link={link_id}"))
        .await;
    assert_eq!(listed["active"][0]["kind"], "cut-link", "{listed}");
    // Azure Monitor's view: the link is sampled unhealthy while cut.
    let healthy_sampled = |value: f64| {
        let server = &server;
        let primary = primary.clone();
        async move {
            let body: Value = server
                .api()
                .get_json(&format!(
                    "{primary}/providers/Microsoft.Insights/metrics?api-version=2023-10-01&metricnames=GeoReplicationHealthy&timespan=PT2M&interval=PT1S&aggregation=minimum,maximum,count"
                ))
                .await;
            let points = body["value"][0]["timeseries"][0]["data"]
                .as_array()?
                .clone();
            points
                .iter()
                .any(|p| p["count"].as_f64().unwrap_or(0.0) > 0.0 && p["maximum"] == value)
                .then_some(())
        }
    };
    eventually(
        "GeoReplicationHealthy is sampled 0 while cut",
        Duration::from_secs(30),
        || healthy_sampled(0.0),
    )
    .await;
    // A second cut is refused.
    let again = server
        .api()
        .post("/x-georep/faults", Some(fault("cut-link", json!({}))))
        .await;
    assert_eq!(again.status(), 409);

    let response = server
        .api()
        .post("/x-georep/faults", Some(fault("restore-link", json!({}))))
        .await;
    assert_eq!(response.status(), 200);
    // Verification right after the restore answers (it waits for the
    // resync a bounded while) and finds the sides equal once it is done.
    eventually(
        "verification finds the restored link consistent",
        Duration::from_secs(60),
        || async {
            let verified: Value = server
                .api()
                .post("/x-georep/verify", Some(json!({"link": link_id})))
                .await
                .json()
                .await
                .ok()?;
            (verified["consistent"] == true).then_some(())
        },
    )
    .await;
    eventually(
        "GeoReplicationHealthy is sampled 1 again once restored",
        Duration::from_secs(30),
        || healthy_sampled(1.0),
    )
    .await;
    eventually(
        "the write made during the cut arrives",
        Duration::from_secs(30),
        || async {
            let mut con = georep_testkit::redis_client::connect(
                s_addr,
                &secondary_key,
                Duration::from_secs(1),
            )
            .await
            .ok()?;
            let value: Option<String> = redis::cmd("GET")
                .arg("during-cut")
                .query_async(&mut con)
                .await
                .ok()?;
            value
        },
    )
    .await;
    assert_eq!(dbsize(s_addr, &secondary_key).await, Some(501));

    // A killed replica of the geo-secondary is healed by the watchdog.
    let response = server
        .api()
        .post(
            "/x-georep/faults",
            Some(fault(
                "kill-node",
                json!({"cache": "secondary", "role": "replica"}),
            )),
        )
        .await;
    assert_eq!(response.status(), 200);
    every_node_holds(&server, &secondary, &secondary_key, 501).await;

    // Bad input is a 400 with ARM's body.
    let response = server
        .api()
        .post("/x-georep/faults", Some(fault("flood", json!({}))))
        .await;
    georep_testkit::api::assert_arm_error(
        response,
        reqwest::StatusCode::BAD_REQUEST,
        "InvalidParameter",
    )
    .await;

    let kinds = server.api().timeline_kinds(&link_id).await;
    assert!(kinds.iter().any(|k| k == "FaultInjected"), "{kinds:?}");
    assert!(kinds.iter().any(|k| k == "FaultCleared"), "{kinds:?}");
}
