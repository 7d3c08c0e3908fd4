//! Crash safety, swept: the control plane is killed (`kill -9`) at evenly
//! spaced points over the first 500 ms of an operation, started again, and
//! must converge from what it reads back from Redis, never by replaying a
//! command blindly. After each restart: every node's role matches the API,
//! the geo-primary URL reaches a primary, and at the end every acknowledged
//! write is present and no `redis-server` runs that the API doesn't list.

use std::time::Duration;

use georep_testkit::api::link_body;
use georep_testkit::load::assert_all_present;
use georep_testkit::redis_client::connect;
use georep_testkit::wait::eventually;
use georep_testkit::Server;
use serde_json::Value;

use crate::support::*;
use crate::sweep_check::{POINTS, SPREAD};

/// The link as the first cache sees it, once it is `Succeeded` again.
pub(crate) async fn settled(server: &Server, first: &str, second_name: &str) -> Value {
    eventually("the link settles", Duration::from_secs(90), || async {
        let response = server
            .api()
            .get(&format!("{first}/linkedServers/{second_name}"))
            .await;
        assert!(
            !response.status().is_server_error(),
            "{}",
            response.status()
        );
        let link: Value = response.json().await.ok()?;
        (link["properties"]["provisioningState"] == "Succeeded").then_some(link)
    })
    .await
}

/// How many of the acknowledged writes `w:{n}` are missing on `con`.
async fn missing_writes(con: &mut redis::aio::MultiplexedConnection, acked: &[u64]) -> usize {
    let mut missing = 0;
    for chunk in acked.chunks(1000) {
        let names: Vec<String> = chunk.iter().map(|n| format!("w:{n}")).collect();
        let values: Vec<Option<u64>> = redis::cmd("MGET")
            .arg(&names)
            .query_async(con)
            .await
            .unwrap();
        missing += values.iter().filter(|v| v.is_none()).count();
    }
    missing
}

/// The bytes every failover on the link's timeline reported as possibly lost.
async fn reported_loss(server: &Server, first: &str) -> u64 {
    let link = server
        .api()
        .get_json(&format!("{first}/linkedServers/sweep-b"))
        .await;
    let id = link["id"].as_str().unwrap_or_default().to_owned();
    let timeline = server
        .api()
        .get_json(&format!("/x-georep/timeline?link={id}"))
        .await;
    timeline["value"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .filter_map(|e| e["failover"]["bytesPossiblyLost"].as_u64())
                .sum()
        })
        .unwrap_or(0)
}

/// The role of the *other* cache of `path`'s link, as `path` sees it.
async fn linked_role(server: &Server, path: &str) -> String {
    let cache = server.api().get_json(path).await;
    let id = cache["properties"]["linkedServers"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let peer = id.rsplit('/').next().unwrap_or_default().to_owned();
    let link = server
        .api()
        .get_json(&format!("{path}/linkedServers/{peer}"))
        .await;
    link["properties"]["serverRole"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// After a restart: roles as the API says, and the geo URL on a primary.
pub(crate) async fn assert_converged(
    server: &Server,
    caches: [(&str, &str); 2],
    geo: std::net::SocketAddr,
) {
    for (path, key) in caches {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let mut seen = Vec::new();
            for (addr, primary) in instances(server, path).await {
                let role = match connect(addr, key, Duration::from_secs(1)).await {
                    Ok(mut con) => georep_testkit::redis_client::info(&mut con, "replication")
                        .await
                        .ok()
                        .and_then(|i| i.get("role").map(str::to_owned)),
                    Err(_) => None,
                };
                seen.push((addr, primary, role));
            }
            // The geo-secondary's shard primary is itself a replica (of the
            // geo-primary): every node of it reports `slave`.
            let geo_secondary = server.api().get_json(path).await["properties"]["linkedServers"]
                .as_array()
                .is_some_and(|l| !l.is_empty())
                && linked_role(server, path).await == "Primary";
            let agree = seen.iter().all(|(_, primary, role)| {
                let expected = if *primary && !geo_secondary {
                    "master"
                } else {
                    "slave"
                };
                role.as_deref() == Some(expected)
            });
            if agree {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the roles of {path} never matched the API: {seen:?}; the server's log:\n{}",
                server.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let keys = [caches[0].1, caches[1].1];
    eventually(
        "the geo-primary URL reaches a primary",
        Duration::from_secs(60),
        || async {
            for key in keys {
                if let Ok(mut con) = connect(geo, key, Duration::from_secs(1)).await {
                    let info = georep_testkit::redis_client::info(&mut con, "replication")
                        .await
                        .ok()?;
                    return (info.get("role") == Some("master")).then_some(());
                }
            }
            None
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn planned_failovers_killed_at_every_point_converge_and_lose_nothing() {
    failovers_killed_at_every_point(false).await;
}

/// A forced failover with the old primary still there (it is paused, then
/// demoted) may lose what it had not replicated; never more than it reports.
#[tokio::test(flavor = "multi_thread")]
async fn forced_failovers_killed_at_every_point_converge_and_lose_no_more_than_reported() {
    failovers_killed_at_every_point(true).await;
}

async fn failovers_killed_at_every_point(forced: bool) {
    let mut server = server();
    let a = premium(&server, "sweep-a", "westeurope").await;
    let b = premium(&server, "sweep-b", "northeurope").await;
    link(&server, &a, &b).await;
    let (key_a, key_b) = (key(&server, &a).await, key(&server, &b).await);
    let link = linked_server(&server, &a, "sweep-b").await;
    let geo = endpoint(&link["properties"]["geoPrimaryEndpoint"]);

    // A writer through the geo-primary URL for the whole sweep, with either key.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let keys = [key_a.clone(), key_b.clone()];
    let writes = georep_testkit::load::writer(
        move || {
            let keys = keys.clone();
            async move {
                let mut last = None;
                for key in &keys {
                    match connect(geo, key, Duration::from_millis(500)).await {
                        Ok(con) => return Ok(con),
                        Err(e) => last = Some(e),
                    }
                }
                Err(last.expect("two keys"))
            }
        },
        georep_testkit::load::OnFailure::Reconnect,
        stop.clone(),
    );

    let caches = [(a.as_str(), key_a.as_str()), (b.as_str(), key_b.as_str())];
    let names = ["sweep-a", "sweep-b"];
    for point in 0..POINTS {
        // Who is the geo-secondary now: the failover is the link made on it.
        let link = settled(&server, &a, "sweep-b").await;
        let b_is_primary = link["properties"]["serverRole"] == "Primary";
        let (on, other) = if b_is_primary { (0, 1) } else { (1, 0) };
        let secondary = server.api().get_json(caches[other].0).await;
        let body = link_body(
            secondary["id"].as_str().unwrap(),
            secondary["location"].as_str().unwrap(),
        );
        let response = server
            .api()
            .put(
                &format!("{}/linkedServers/{}", caches[on].0, names[other]),
                body,
            )
            .await;
        assert_eq!(response.status(), 201, "failover {point}");
        tokio::time::sleep(SPREAD * point / POINTS).await;
        server.kill();
        server.restart().expect("the server starts again");
        settled(&server, &a, "sweep-b").await;
        assert_converged(&server, caches, geo).await;
    }

    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written = writes.await.expect("the writer ends");
    assert!(!written.acked.is_empty(), "nothing was written");
    // Every acknowledged write is on the final geo-primary.
    let link = settled(&server, &a, "sweep-b").await;
    let (primary, key) = if link["properties"]["serverRole"] == "Primary" {
        (b.as_str(), key_b.as_str())
    } else {
        (a.as_str(), key_a.as_str())
    };
    let mut con = connect(address(&server, primary).await, key, Duration::from_secs(2))
        .await
        .unwrap();
    if forced {
        // Each missing write is one SET in the replication stream, at least
        // 30 bytes: the reported bytes must cover them.
        let missing = missing_writes(&mut con, &written.acked).await;
        let reported = reported_loss(&server, &a).await;
        assert!(
            missing as u64 * 30 <= reported,
            "{missing} writes missing, {reported} bytes reported"
        );
    } else {
        assert_all_present(&mut con, &written.acked, "the final geo-primary").await;
    }
    // No node runs that the API doesn't list, and none twice.
    let listed = instances(&server, &a).await.len() + instances(&server, &b).await.len();
    assert_eq!(server.node_pids().len(), listed, "{:?}", server.node_pids());
}

/// Waits until the API and Redis agree on an unlinked pair: no link on
/// either cache, and every node's role as the API says.
async fn settled_apart(server: &Server, caches: [(&str, &str); 2]) {
    for (path, key) in caches {
        eventually(
            "the cache stands alone",
            Duration::from_secs(90),
            || async {
                let cache = server.api().get_json(path).await;
                let linked = cache["properties"]["linkedServers"]
                    .as_array()
                    .is_some_and(|l| !l.is_empty());
                (!linked && cache["properties"]["provisioningState"] == "Succeeded").then_some(())
            },
        )
        .await;
        eventually(
            "its roles match the API",
            Duration::from_secs(60),
            || async {
                for (addr, primary) in instances(server, path).await {
                    let mut con = connect(addr, key, Duration::from_secs(1)).await.ok()?;
                    let info = georep_testkit::redis_client::info(&mut con, "replication")
                        .await
                        .ok()?;
                    let expected = if primary { "master" } else { "slave" };
                    if info.get("role") != Some(expected) {
                        return None;
                    }
                }
                Some(())
            },
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn links_and_unlinks_killed_at_every_point_converge_and_keep_the_data() {
    let mut server = server();
    let a = premium(&server, "sweep-link-a", "westeurope").await;
    let b = premium(&server, "sweep-link-b", "northeurope").await;
    let (key_a, key_b) = (key(&server, &a).await, key(&server, &b).await);
    fill(address(&server, &a).await, &key_a, 2_000).await;
    let caches = [(a.as_str(), key_a.as_str()), (b.as_str(), key_b.as_str())];
    let secondary = server.api().get_json(&b).await;
    let body = link_body(
        secondary["id"].as_str().unwrap(),
        secondary["location"].as_str().unwrap(),
    );

    for point in 0..POINTS {
        let pause = SPREAD * point / POINTS;
        // Link, and kill the control plane somewhere in its first 500 ms.
        let response = server
            .api()
            .put(&format!("{a}/linkedServers/sweep-link-b"), body.clone())
            .await;
        assert_eq!(response.status(), 201, "link {point}");
        tokio::time::sleep(pause).await;
        server.kill();
        server.restart().expect("the server starts again");
        settled(&server, &a, "sweep-link-b").await;
        let geo = endpoint(
            &linked_server(&server, &a, "sweep-link-b").await["properties"]["geoPrimaryEndpoint"],
        );
        assert_converged(&server, caches, geo).await;
        // The geo-secondary has the geo-primary's data, the primary kept it.
        let b_addr = address(&server, &b).await;
        eventually(
            "the secondary has the data",
            Duration::from_secs(60),
            || async { (dbsize(b_addr, &key_b).await >= Some(2_000)).then_some(()) },
        )
        .await;

        // Unlink, and kill it the same way.
        let response = server
            .api()
            .delete(&format!("{a}/linkedServers/sweep-link-b"))
            .await;
        assert!(
            response.status().is_success(),
            "unlink {point}: {}",
            response.status()
        );
        tokio::time::sleep(pause).await;
        server.kill();
        server.restart().expect("the server starts again");
        settled_apart(&server, caches).await;
        // Unlinked, both keep their data, and the former secondary takes writes.
        assert_eq!(
            dbsize(address(&server, &a).await, &key_a).await,
            Some(2_000)
        );
        assert!(dbsize(address(&server, &b).await, &key_b).await >= Some(2_000));
    }
    // No node runs that the API doesn't list, and none twice.
    let listed = instances(&server, &a).await.len() + instances(&server, &b).await.len();
    assert_eq!(server.node_pids().len(), listed, "{:?}", server.node_pids());
}
