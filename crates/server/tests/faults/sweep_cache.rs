//! Crash safety of a cache's own operations, swept: create, update,
//! delete, regenerateKey and import, each with the control plane `kill -9`ed at
//! every step its log names and at ten evenly spaced points over its first
//! 500 ms, then started again. After each restart the cache converges (see
//! `sweep_check`), the operation ends coherently with what Redis holds, and
//! a follow-up operation works.

use std::time::Duration;

use georep_testkit::api::cache_path;
use georep_testkit::killpoint::{log_mark, KillPoint};
use georep_testkit::redis_client::connect;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::time::Instant;

use crate::support::*;
use crate::sweep_check::*;

fn premium_body(location: &str) -> Value {
    json!({"location": location, "properties": {
        "sku": {"name": "Premium", "family": "P", "capacity": 1},
        "replicasPerPrimary": 1, "enableNonSslPort": true}})
}

#[tokio::test(flavor = "multi_thread")]
async fn creates_killed_at_every_point_end_running_and_serve() {
    let mut server = logging_server();
    let subscription = subscription(&server).await;
    let sweep = points(&[
        ("creating cache", 1),
        ("node is up", 1),
        ("node is up", 2),
        ("access keys updated", 1),
        ("cache created", 1),
    ]);
    for (i, point) in sweep.iter().enumerate() {
        let path = cache_path(&subscription, RG, &format!("sweep-create-{i}"));
        let mark = log_mark(&server);
        let asked = Instant::now();
        let response = server.api().put(&path, premium_body("westeurope")).await;
        assert_eq!(response.status(), StatusCode::CREATED, "create {point}");
        let url = operation_url(&response);
        crash_at(&mut server, point, mark, asked).await;

        // A create cut short is finished from where it stood: the cache
        // runs, and the operation says so.
        let op = operation_end(&server, &url).await;
        assert_eq!(op["status"], "Succeeded", "create killed {point}: {op}");
        let key = key(&server, &path).await;
        let cache = settled(&server, &path, &key).await;
        assert_eq!(
            cache["properties"]["provisioningState"], "Succeeded",
            "{point}"
        );
        follow_up(&server, &path).await;
        // Keep the fleet small: the next point starts from one cache less.
        delete_cache(&server, &path).await;
    }
    assert!(server.node_pids().is_empty(), "{:?}", server.node_pids());
}

#[tokio::test(flavor = "multi_thread")]
async fn deletes_killed_at_every_point_leave_nothing_behind() {
    let mut server = logging_server();
    let subscription = subscription(&server).await;
    // A neighbour that must come through every restart untouched.
    let (other, other_key, _) =
        loaded_premium(&server, "sweep-delete-keep", "westeurope", 500).await;
    let sweep = points(&[
        ("deleting cache", 1),
        ("node stopped", 1),
        ("node stopped", 2),
        ("cache deleted", 1),
    ]);
    for (i, point) in sweep.iter().enumerate() {
        let name = format!("sweep-delete-{i}");
        let path = cache_path(&subscription, RG, &name);
        server
            .api()
            .create_cache(&path, "northeurope", json!({"replicasPerPrimary": 1}))
            .await
            .expect("the cache is created");
        let nodes = instances(&server, &path).await;
        fill(
            address(&server, &path).await,
            &key(&server, &path).await,
            200,
        )
        .await;
        let mark = log_mark(&server);
        let asked = Instant::now();
        let response = server.api().delete(&path).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED, "delete {point}");
        let url = operation_url(&response);
        crash_at(&mut server, point, mark, asked).await;

        // A delete cut short is finished: the cache is gone, its nodes stopped
        // and their files removed.
        let op = operation_end(&server, &url).await;
        assert_eq!(op["status"], "Succeeded", "delete killed {point}: {op}");
        let status = server.api().get(&path).await.status();
        assert_eq!(status, StatusCode::NOT_FOUND, "{name} after {point}");
        for (addr, _) in &nodes {
            assert_eq!(server.node_pid(*addr), None, "{addr} runs after {point}");
            let dir = server.data_dir().join("nodes").join(addr.ip().to_string());
            assert!(!dir.exists(), "{} is left after {point}", dir.display());
        }
        settled(&server, &other, &other_key).await;
        assert_eq!(
            dbsize(address(&server, &other).await, &other_key).await,
            Some(500)
        );
    }
    follow_up(&server, &other).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn key_regenerations_killed_at_every_point_apply_what_list_keys_says() {
    let mut server = logging_server();
    let path = premium(&server, "sweep-keys", "westeurope").await;
    let sweep = points(&[("access keys updated", 1), ("access keys updated", 2)]);
    for (i, point) in sweep.iter().enumerate() {
        let before = server.api().keys(&path).await.expect("listKeys");
        let kind = if i % 2 == 0 { "Primary" } else { "Secondary" };
        let mark = log_mark(&server);
        let asked = Instant::now();
        let answer = send_detached(
            &server,
            Method::POST,
            format!("{path}/regenerateKey"),
            Some(json!({"keyType": kind})),
        );
        crash_at(&mut server, point, mark, asked).await;
        let answer = answer.await.expect("the request task");

        let (primary, secondary) = server.api().keys(&path).await.expect("listKeys");
        settled(&server, &path, &primary).await;
        let (old, new, kept) = if kind == "Primary" {
            (&before.0, &primary, (&before.1, &secondary))
        } else {
            (&before.1, &secondary, (&before.0, &primary))
        };
        assert_eq!(
            kept.0, kept.1,
            "{kind} regenerated {point}: the other key changed"
        );
        if let Some((status, body)) = &answer {
            assert_eq!(*status, StatusCode::OK, "{point}: {body}");
            // Answered: what it answered is what listKeys names.
            assert_eq!(
                body[format!("{}Key", kind.to_lowercase())],
                **new,
                "{point}"
            );
        }
        // Whatever listKeys names authenticates on every node and the
        // cache's address; a replaced key authenticates nowhere.
        let mut addrs: Vec<_> = instances(&server, &path)
            .await
            .into_iter()
            .map(|(a, _)| a)
            .collect();
        addrs.push(address(&server, &path).await);
        for addr in addrs {
            for key in [&primary, &secondary] {
                assert!(
                    connect(addr, key, Duration::from_secs(2)).await.is_ok(),
                    "{point}: a key listKeys names fails at {addr}"
                );
            }
            if old != new {
                assert!(
                    connect(addr, old, Duration::from_secs(2)).await.is_err(),
                    "{point}: the replaced {kind} key still works at {addr}"
                );
            }
        }
    }
    follow_up(&server, &path).await;
}

/// The data of a cache before an import, `gen:{round}:{i}`, or the
/// imported one, `imp:{i}`: which one every node holds, if all hold the
/// same one whole.
async fn holds(
    server: &georep_testkit::Server,
    path: &str,
    key: &str,
    round: usize,
) -> Option<&'static str> {
    let mut seen = None;
    for (addr, _) in instances(server, path).await {
        let mut con = connect(addr, key, Duration::from_secs(2)).await.ok()?;
        let size: u64 = redis::cmd("DBSIZE").query_async(&mut con).await.ok()?;
        let old: Option<u64> = redis::cmd("GET")
            .arg(format!("gen:{round}:299"))
            .query_async(&mut con)
            .await
            .ok()?;
        let new: Option<u64> = redis::cmd("GET")
            .arg("imp:499")
            .query_async(&mut con)
            .await
            .ok()?;
        let which = match (size, old, new) {
            (300, Some(_), None) => "old",
            (500, None, Some(_)) => "imported",
            _ => return None,
        };
        if seen.is_some_and(|s| s != which) {
            return None;
        }
        seen = Some(which);
    }
    seen
}

async fn fill_with(addr: std::net::SocketAddr, key: &str, prefix: &str, count: usize) {
    let mut con = connect(addr, key, Duration::from_secs(2)).await.unwrap();
    let mut pipe = redis::pipe();
    pipe.cmd("FLUSHALL").ignore();
    for i in 0..count {
        pipe.cmd("SET").arg(format!("{prefix}{i}")).arg(i).ignore();
    }
    pipe.query_async::<()>(&mut con).await.expect("fill");
}

/// Fills the cache with `imp:0..500` and exports it to `sweep/sweep.rdb`:
/// the body of an import of that file.
async fn export_to_import(server: &georep_testkit::Server, path: &str, key: &str) -> Value {
    fill_with(address(server, path).await, key, "imp:", 500).await;
    let response = server
        .api()
        .post(
            &format!("{path}/export"),
            Some(json!({"prefix": "sweep", "container": "sweep", "format": "RDB"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    server
        .api()
        .wait_succeeded(&response)
        .await
        .expect("exported");
    json!({"files": ["sweep/sweep.rdb"], "format": "RDB"})
}

/// What an import holds once it ended: the imported data if it succeeded,
/// else (cut short before it loaded the file) the old data and `Failed`.
fn assert_import_outcome(op: &Value, which: &str, point: &str) {
    let expected = if op["status"] == "Succeeded" {
        "imported"
    } else {
        "old"
    };
    assert_eq!(which, expected, "import killed {point}: {op}");
    if expected == "old" {
        assert_eq!(op["status"], "Failed", "import killed {point}: {op}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn imports_killed_at_every_point_hold_the_old_data_or_the_new_never_none() {
    let mut server = logging_server();
    let path = premium(&server, "sweep-import", "westeurope").await;
    let key = key(&server, &path).await;
    let import = export_to_import(&server, &path, &key).await;

    let sweep = points(&[
        ("node stopped", 1),
        ("node is up", 1),
        ("access keys updated", 1),
    ]);
    for (round, point) in sweep.iter().enumerate() {
        fill_with(
            address(&server, &path).await,
            &key,
            &format!("gen:{round}:"),
            300,
        )
        .await;
        every_node_holds(&server, &path, &key, 300).await;
        let mark = log_mark(&server);
        let asked = Instant::now();
        let response = server
            .api()
            .post(&format!("{path}/import"), Some(import.clone()))
            .await;
        assert_eq!(response.status(), StatusCode::ACCEPTED, "import {point}");
        let url = operation_url(&response);
        crash_at(&mut server, point, mark, asked).await;

        let op = operation_end(&server, &url).await;
        settled(&server, &path, &key).await;
        let which = georep_testkit::wait::eventually(
            &format!("every node of {path} to hold the old data or the imported one"),
            Duration::from_secs(60),
            || holds(&server, &path, &key, round),
        )
        .await;
        eprintln!(
            "import killed {point}: {} and the cache holds the {which} data",
            op["status"]
        );
        // The operation says what the cache holds. Never empty, never mixed.
        assert_import_outcome(&op, which, &point.to_string());
    }
    // A follow-up import works.
    fill_with(address(&server, &path).await, &key, "gen:x:", 300).await;
    let response = server
        .api()
        .post(&format!("{path}/import"), Some(import))
        .await;
    server
        .api()
        .wait_succeeded(&response)
        .await
        .expect("a last import");
    settled(&server, &path, &key).await;
    follow_up(&server, &path).await;
}

/// The worst moment of an import: the control plane dies while it copies
/// the file beside the stopped primary's dump. The kill comes as the node
/// stops, and the half-written copy such a kill leaves is put in place (a
/// copy of 500 keys is over before a kill could land in it). The restart
/// removes the copy, and the cache holds the old data or the new.
#[tokio::test(flavor = "multi_thread")]
async fn an_import_killed_mid_copy_leaves_no_partial_copy() {
    let mut server = logging_server();
    let path = premium(&server, "import-mid-copy", "westeurope").await;
    let key = key(&server, &path).await;
    let import = export_to_import(&server, &path, &key).await;
    fill_with(address(&server, &path).await, &key, "gen:0:", 300).await;
    every_node_holds(&server, &path, &key, 300).await;
    let primary = primary_node(&server, &path).await;
    let copy = server
        .data_dir()
        .join("nodes")
        .join(primary.ip().to_string())
        .join(".dump.rdb.partial");
    let file = std::fs::read(server.data_dir().join("exports/sweep/sweep.rdb")).expect("export");

    let (mark, asked) = (log_mark(&server), Instant::now());
    let response = server
        .api()
        .post(&format!("{path}/import"), Some(import))
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let url = operation_url(&response);
    let point = KillPoint::Logged {
        step: "node stopped",
        nth: 1,
    };
    point.kill(&mut server, mark, asked).await.expect("killed");
    std::fs::write(&copy, &file[..file.len() / 2]).expect("a half-written copy");
    tokio::task::block_in_place(|| server.restart()).expect("the server starts again");

    let op = operation_end(&server, &url).await;
    settled(&server, &path, &key).await;
    assert!(
        !copy.exists(),
        "{} is left after the restart",
        copy.display()
    );
    let which = georep_testkit::wait::eventually(
        &format!("every node of {path} to hold the old data or the imported one"),
        Duration::from_secs(60),
        || holds(&server, &path, &key, 0),
    )
    .await;
    assert_import_outcome(&op, which, "mid-copy");
    follow_up(&server, &path).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn exports_killed_at_every_point_write_a_whole_file_or_fail() {
    let mut server = logging_server();
    let path = premium(&server, "sweep-export", "westeurope").await;
    let key = key(&server, &path).await;
    fill_with(address(&server, &path).await, &key, "imp:", 500).await;
    every_node_holds(&server, &path, &key, 500).await;
    for (i, point) in points(&[("saved a snapshot to export", 1)])
        .iter()
        .enumerate()
    {
        let container = format!("sweep-{i}");
        let mark = log_mark(&server);
        let asked = Instant::now();
        let response = server
            .api()
            .post(
                &format!("{path}/export"),
                Some(json!({"prefix": "x", "container": container, "format": "RDB"})),
            )
            .await;
        assert_eq!(response.status(), StatusCode::ACCEPTED, "export {point}");
        let url = operation_url(&response);
        crash_at(&mut server, point, mark, asked).await;
        let op = operation_end(&server, &url).await;
        settled(&server, &path, &key).await;
        assert_eq!(dbsize(address(&server, &path).await, &key).await, Some(500));
        let file = server
            .data_dir()
            .join("exports")
            .join(&container)
            .join("x.rdb");
        eprintln!(
            "export killed {point}: {}, file {}",
            op["status"],
            file.is_file()
        );
        if op["status"] == "Succeeded" {
            // A whole file: importing it brings back all 500 keys.
            assert!(file.is_file(), "export killed {point}: {op}");
        } else {
            assert_eq!(op["status"], "Failed", "export killed {point}: {op}");
        }
        // No snapshot is left in a node's directory for a later start to
        // load in place of newer data.
        for (addr, _) in instances(&server, &path).await {
            let dump = server
                .data_dir()
                .join("nodes")
                .join(addr.ip().to_string())
                .join("dump.rdb");
            assert!(
                !dump.exists(),
                "export killed {point}: {} is left",
                dump.display()
            );
        }
    }
    follow_up(&server, &path).await;
}

/// A cache update (`PATCH`, long-running) killed at every point: adding a
/// replica, then removing it again, turn by turn, on a cache holding data.
/// Answered 202, its operation ends `Succeeded` with the shape it asked
/// for; cut short before it was answered, the cache has the old shape or
/// the new one. Either way the cache converges (roles, address, processes
/// exactly its nodes) and every node holds all the data.
#[tokio::test(flavor = "multi_thread")]
async fn updates_killed_at_every_point_end_in_the_shape_asked_and_keep_the_data() {
    let mut server = logging_server();
    let (path, key, cache) = loaded_premium(&server, "sweep-update", "westeurope", 1_000).await;
    // "updating cache" (the update's commit) twice: once adding a replica,
    // once removing one, whose node must still be stopped after a restart
    // although the new shape no longer lists it.
    let sweep = points(&[
        ("updating cache", 1),
        ("updating cache", 1),
        ("node is up", 1),
        ("node stopped", 1),
        ("cache updated", 1),
    ]);
    let mut swept = std::collections::HashSet::new();
    for (i, point) in sweep.iter().enumerate() {
        // Removing a replica at "node stopped", at a step's second point and
        // at every other timed point, adding one otherwise: from the shape
        // that allows it, reached by an update that is not killed.
        let removing = match point {
            KillPoint::Logged { step, .. } => *step == "node stopped" || !swept.insert(*step),
            KillPoint::After(_) => i % 2 == 1,
        };
        let replicas: u32 = if removing { 1 } else { 2 };
        let from = 3 - replicas;
        if instances(&server, &path).await.len() as u32 != from + 1 {
            let response = server
                .api()
                .patch(&path, json!({"properties": {"replicasPerPrimary": from}}))
                .await;
            server
                .api()
                .wait_succeeded(&response)
                .await
                .expect("an update not killed");
            settled(&server, &path, &key).await;
        }
        let before = instances(&server, &path).await.len();
        let mark = log_mark(&server);
        let asked = Instant::now();
        let answer = send_detached(
            &server,
            Method::PATCH,
            path.clone(),
            Some(
                json!({"tags": {"round": i.to_string()}, "properties": {"replicasPerPrimary": replicas}}),
            ),
        );
        crash_at(&mut server, point, mark, asked).await;
        let answer = answer.await.expect("the request task");

        let settled_cache = settled(&server, &path, &key).await;
        let shape = settled_cache["properties"]["replicasPerPrimary"].clone();
        let nodes = instances(&server, &path).await.len();
        assert_eq!(
            nodes as u64,
            shape.as_u64().unwrap() + 1,
            "update killed {point}: the nodes are the shape the API gives"
        );
        match &answer {
            Some((status, body)) => {
                assert_eq!(*status, StatusCode::ACCEPTED, "{point}: {body}");
                assert_eq!(body["properties"]["provisioningState"], "Updating");
                assert_eq!(shape, replicas, "answered {point}, so applied");
                assert_eq!(settled_cache["tags"]["round"], i.to_string());
            }
            None => assert!(
                nodes == before || nodes as u32 == replicas + 1,
                "update killed {point} before its answer: {nodes} nodes"
            ),
        }
        assert_eq!(
            settled_cache["properties"]["provisioningState"], "Succeeded",
            "{point}"
        );
        every_node_holds(&server, &path, &key, 1_000).await;
        assert_eq!(dbsize(cache, &key).await, Some(1_000), "{point}");
    }
    follow_up(&server, &path).await;
}
