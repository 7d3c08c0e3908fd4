//! Geo-replication metrics through Azure Monitor's API, across the loss of
//! the primary's node, a forced failover and the node's return; and the
//! metrics query's refusals.

use std::time::Duration;

use crate::support::{
    assert_arm_error, cache_address, endpoint, eventually, freeze_every_node, get, kill_every_node,
    link_of, linked_pair, linked_server_id, metrics, points, request_failover, set, try_connect,
    Server, MONITOR_API,
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const WAIT: Duration = Duration::from_secs(60);

/// The per-second points of one metric over the last two minutes.
async fn per_second(server: &Server, cache: &str, metric: &str) -> Vec<Value> {
    let response = metrics(
        server,
        cache,
        &format!(
            "metricnames={metric}&timespan=PT2M&interval=PT1S&aggregation=minimum,maximum,total,count"
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["value"][0]["name"]["value"], metric, "{body}");
    points(&body)
}

/// Points with samples in them, in whole seconds that began at or after `from`.
fn sampled_since(points: &[Value], from: OffsetDateTime) -> Vec<Value> {
    points
        .iter()
        .filter(|p| p["count"].as_f64().unwrap_or(0.0) > 0.0)
        .filter(|p| {
            let at = OffsetDateTime::parse(p["timeStamp"].as_str().unwrap(), &Rfc3339).unwrap();
            at >= from
        })
        .cloned()
        .collect()
}

fn field(point: &Value, name: &str) -> f64 {
    point[name].as_f64().unwrap()
}

/// The start of the next whole second: the per-second points from then on
/// hold only samples taken after now.
fn next_whole_second() -> OffsetDateTime {
    OffsetDateTime::now_utc().replace_nanosecond(0).unwrap() + time::Duration::SECOND
}

/// Waits for two per-second points of `cache`'s GeoReplicationHealthy with
/// samples taken from now on, and asserts that every one says healthy.
async fn assert_healthy_from_now(server: &Server, cache: &str, what: &str) {
    let from = next_whole_second();
    let healthy = eventually(what, WAIT, || async {
        let since = sampled_since(
            &per_second(server, cache, "GeoReplicationHealthy").await,
            from,
        );
        (since.len() >= 2).then_some(since)
    })
    .await;
    assert!(
        healthy.iter().all(|p| field(p, "minimum") == 1.0),
        "{healthy:?}"
    );
}

#[tokio::test]
async fn metrics_follow_node_loss_forced_failover_and_recovery() {
    let server = Server::start();
    linked_pair(&server, "main", "backup").await;
    let (main_key, _) = server.keys("main").await;
    let (backup_key, _) = server.keys("backup").await;
    let main_addr = cache_address(&server, "main").await;
    let mut main = try_connect(main_addr, &main_key).await.unwrap();
    for i in 0..200 {
        set(&mut main, &format!("before:{i}"), "v").await.unwrap();
    }

    // Healthy, and caught up, before the loss.
    eventually("a healthy, caught-up link", WAIT, || async {
        let health = per_second(&server, "backup", "GeoReplicationHealthy").await;
        let offset = per_second(&server, "backup", "GeoReplicationDataSyncOffset").await;
        let healthy = health.iter().rev().find(|p| p["count"].is_number())?;
        let synced = offset.iter().rev().find(|p| p["count"].is_number())?;
        (field(healthy, "minimum") == 1.0 && field(synced, "maximum") == 0.0).then_some(())
    })
    .await;

    // The whole geo-primary is lost (one node would be replaced by its replica).
    kill_every_node(&server, "main").await;
    // Whole seconds that began after the kill hold only samples taken after it.
    let after_kill = next_whole_second();

    // GeoReplicationHealthy reads 0 within two samples: of the samples since
    // the kill, at most the first may still say healthy, and it stays 0.
    let since = eventually("three samples after the kill", WAIT, || async {
        let since = sampled_since(
            &per_second(&server, "backup", "GeoReplicationHealthy").await,
            after_kill,
        );
        let samples: f64 = since.iter().map(|p| field(p, "count")).sum();
        (samples >= 3.0).then_some(since)
    })
    .await;
    let healthy_samples: f64 = since.iter().map(|p| field(p, "total")).sum();
    assert!(
        healthy_samples <= 1.0,
        "still healthy after two samples: {since:?}"
    );
    assert_eq!(field(since.last().unwrap(), "maximum"), 0.0);

    // The lag keeps rising while the node is gone.
    let lag_now = |points: Vec<Value>| {
        sampled_since(&points, after_kill)
            .last()
            .map(|p| field(p, "maximum"))
    };
    let first_lag = eventually("a lag sample", WAIT, || async {
        lag_now(per_second(&server, "backup", "GeoReplicationConnectivityLag").await)
    })
    .await;
    eventually("the lag to rise", WAIT, || async {
        let lag = lag_now(per_second(&server, "backup", "GeoReplicationConnectivityLag").await)?;
        (lag > first_lag).then_some(())
    })
    .await;

    // A forced failover makes the secondary writable through the geo-primary endpoint.
    let geo = endpoint(
        &link_of(&server, "backup", "main").await["properties"],
        "geoPrimaryEndpoint",
    );
    let response = request_failover(&server, "backup", "main", "forced").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let operation = response.headers()["azure-asyncoperation"]
        .to_str()
        .unwrap()
        .to_owned();
    // The operation reports what may have been lost as soon as the
    // secondary is promoted; it runs on until the old primary's nodes (which
    // the in-cache watchdog starts again, empty) rejoin as the secondary.
    let failover = eventually("the failover's report", WAIT, || async {
        let status = server.operation_status(&operation).await;
        let failover = status["properties"]["failover"].clone();
        failover.is_object().then(|| {
            assert_ne!(status["status"], "Failed", "{status}");
            failover
        })
    })
    .await;
    assert_eq!(failover["kind"], "Forced", "{failover}");
    // Every node of the old primary is gone: nothing bounds what it took
    // after its last sample, so the loss is reported unknown (null), never
    // understated.
    assert!(
        failover["bytesPossiblyLost"].is_null(),
        "a loss that nothing bounds is unknown: {failover}"
    );
    let link = link_of(&server, "main", "backup").await;
    let state = &link["properties"]["provisioningState"];
    assert!(state == "Creating" || state == "Succeeded", "{link}");
    assert_eq!(link["properties"]["lastFailover"], failover);
    let mut through_endpoint = try_connect(geo, &backup_key).await.unwrap();
    set(&mut through_endpoint, "after", "forced")
        .await
        .expect("the promoted secondary takes writes through the geo-primary endpoint");
    assert_eq!(
        get(&mut through_endpoint, "before:199")
            .await
            .unwrap()
            .as_deref(),
        Some("v")
    );

    // The lost nodes come back (the in-cache watchdog starts them again);
    // the old primary rejoins as the secondary and the metrics recover. A
    // reboot meanwhile would meet the failover half-done: it is refused.
    let reboot = server
        .post(
            &format!("{}/forceReboot", Server::cache_path("main")),
            Some(json!({"rebootType": "PrimaryNode"})),
        )
        .await;
    // Refused while the failover runs; done already, it simply reboots.
    assert!(
        reboot.status() == StatusCode::CONFLICT || reboot.status() == StatusCode::OK,
        "{}",
        reboot.status()
    );
    let done = eventually("the failover to complete", WAIT, || async {
        let status = server.operation_status(&operation).await;
        (status["status"] != "InProgress").then_some(status)
    })
    .await;
    assert_eq!(done["status"], "Succeeded", "{done}");
    assert_healthy_from_now(&server, "main", "healthy samples again").await;
    // Each cache keeps its own keys.
    let mut main = try_connect(main_addr, &main_key).await.unwrap();
    assert_eq!(
        get(&mut main, "after").await.unwrap().as_deref(),
        Some("forced"),
        "the old primary replicates the new one"
    );
    let refused = set(&mut main, "x", "1").await.unwrap_err();
    assert_eq!(refused.code(), Some("READONLY"));

    // The timeline tells the story.
    let kinds = server
        .timeline_kinds(&linked_server_id("main", "backup"))
        .await;
    let position = |kind: &str| {
        kinds
            .iter()
            .position(|k| k == kind)
            .unwrap_or_else(|| panic!("no {kind} in {kinds:?}"))
    };
    assert!(position("Unhealthy") < position("FailoverRequested"));
    assert!(position("Promoted") < position("FailoverCompleted"));
    assert!(
        position("FailoverCompleted") < kinds.iter().rposition(|k| k == "HealthyAgain").unwrap()
    );
}

#[tokio::test]
async fn metrics_queries_speak_azure_monitor() {
    let server = Server::start();
    linked_pair(&server, "left", "right").await;
    server
        .create_cache(&Server::cache_path("alone"), "eastus", json!({}))
        .await;

    // Every metric, with its unit, in Azure Monitor's shape. The span ends
    // a minute from now, so the minute the link was sampled in is inside
    // it whenever the clock turns over.
    let now = OffsetDateTime::now_utc();
    let span = format!(
        "{}/{}",
        (now - time::Duration::minutes(10))
            .format(&Rfc3339)
            .unwrap(),
        (now + time::Duration::minutes(1)).format(&Rfc3339).unwrap()
    );
    let names = "GeoReplicationHealthy,GeoReplicationConnectivityLag,GeoReplicationDataSyncOffset,GeoReplicationFullSyncEventStarted,GeoReplicationFullSyncEventFinished";
    let response = metrics(
        &server,
        "left",
        &format!("metricnames={names}&timespan={span}&interval=PT1M&aggregation=Average,Maximum"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["interval"], "PT1M");
    assert_eq!(body["namespace"], "Microsoft.Cache/redis");
    let units: Vec<&str> = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["unit"].as_str().unwrap())
        .collect();
    assert_eq!(units, ["Count", "Seconds", "Bytes", "Count", "Count"]);
    let data = points(&body);
    // Eleven minutes, in whole minutes (the first one may start before the span).
    assert!((11..=12).contains(&data.len()), "{body}");
    assert!(
        data.iter().any(|p| p["maximum"] == 1.0),
        "the link was sampled healthy: {body}"
    );
    // The full sync of linking was counted.
    let started: f64 = body["value"][3]["timeseries"][0]["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["maximum"].as_f64())
        .sum();
    assert!(started >= 1.0, "{body}");

    // A cache that isn't linked has the metrics, without data.
    let alone: Value = metrics(&server, "alone", "metricnames=GeoReplicationHealthy")
        .await
        .json()
        .await
        .unwrap();
    assert!(points(&alone).iter().all(|p| p.get("average").is_none()));

    // Refusals, in ARM's error shape.
    let bad = metrics(&server, "left", "metricnames=UsedMemory").await;
    let body = assert_arm_error(bad, StatusCode::BAD_REQUEST, "BadRequest").await;
    assert_eq!(body["error"]["target"], "metricnames");
    let bad = metrics(&server, "left", "timespan=yesterday").await;
    let body = assert_arm_error(bad, StatusCode::BAD_REQUEST, "BadRequest").await;
    assert_eq!(body["error"]["target"], "timespan");
    let bad = metrics(&server, "left", "interval=sometimes").await;
    assert_arm_error(bad, StatusCode::BAD_REQUEST, "BadRequest").await;
    let bad = metrics(&server, "left", "aggregation=median").await;
    assert_arm_error(bad, StatusCode::BAD_REQUEST, "BadRequest").await;
    let bad = metrics(&server, "left", "timespan=P30D&interval=PT1S").await;
    assert_arm_error(bad, StatusCode::BAD_REQUEST, "BadRequest").await;
    let bad = metrics(
        &server,
        "left",
        "metricnamespace=Microsoft.Storage/accounts",
    )
    .await;
    assert_arm_error(bad, StatusCode::BAD_REQUEST, "InvalidParameter").await;
    let wrong_version = server
        .get(&format!(
            "{}/providers/Microsoft.Insights/metrics?api-version=1999-01-01",
            Server::cache_path("left")
        ))
        .await;
    assert_arm_error(
        wrong_version,
        StatusCode::BAD_REQUEST,
        "InvalidApiVersionParameter",
    )
    .await;
    let missing = metrics(&server, "nowhere", "metricnames=GeoReplicationHealthy").await;
    assert_arm_error(missing, StatusCode::NOT_FOUND, "ResourceNotFound").await;
    // Case-insensitive fixed segments, as in ARM.
    let path = format!(
        "{}/PROVIDERS/microsoft.insights/Metrics?api-version={MONITOR_API}",
        Server::cache_path("left")
    );
    assert_eq!(server.get(&path).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_forced_failover_completes_when_a_restart_brings_the_node_back() {
    let mut server = Server::start();
    linked_pair(&server, "first", "second").await;
    let (second_key, _) = server.keys("second").await;
    // Every node of the primary is lost (frozen before the request, killed
    // after: see `freeze_every_node`).
    freeze_every_node(&server, "first").await;
    let response = request_failover(&server, "second", "first", "forced").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    kill_every_node(&server, "first").await;
    eventually("the promotion", WAIT, || async {
        let link = link_of(&server, "first", "second").await;
        (link["properties"]["serverRole"] == "Primary").then_some(())
    })
    .await;
    assert_eq!(
        link_of(&server, "first", "second").await["properties"]["provisioningState"],
        "Creating"
    );

    // The control plane restarts: it starts the lost node again, and the
    // failover it left waiting completes.
    let dir = std::sync::Arc::clone(&server.dir);
    server.terminate();
    let server = Server::start_with(dir, &[]);
    eventually("the relink", WAIT, || async {
        let link = link_of(&server, "first", "second").await;
        (link["properties"]["provisioningState"] == "Succeeded").then_some(())
    })
    .await;
    let link = link_of(&server, "first", "second").await;
    assert_eq!(link["properties"]["serverRole"], "Primary");
    assert_eq!(link["properties"]["lastFailover"]["kind"], "Forced");
    assert_healthy_from_now(&server, "first", "healthy samples after the restart").await;
    let geo = endpoint(&link["properties"], "geoPrimaryEndpoint");
    let mut through = try_connect(geo, &second_key).await.unwrap();
    set(&mut through, "k", "v").await.unwrap();
}
