//! Operations that would meet a busy cache half-done (being created,
//! updated or deleted) are refused, response
//! URLs come from the server's own address, and secrets stay the owner's.

use std::os::unix::fs::PermissionsExt;

use georep_testkit::api::{assert_arm_error, cache_path};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;
use georep_testkit::redis_client::connect_as;

#[tokio::test(flavor = "multi_thread")]
async fn a_cache_being_created_or_deleted_refuses_keys_and_reboots() {
    let server = server();
    let path = cache_path(&subscription(&server).await, RG, "busy");
    let body = json!({"location": "westeurope", "properties": {
        "sku": {"name": "Premium", "family": "P", "capacity": 1}, "enableNonSslPort": true}});
    let created = server.api().put(&path, body).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    // At once, while it is Creating:
    let response = server.api().regenerate_key(&path, "Primary").await;
    if response.status() != StatusCode::OK {
        assert_arm_error(response, StatusCode::CONFLICT, "OperationInProgress").await;
    }
    server
        .api()
        .wait_succeeded(&created)
        .await
        .expect("created");
    // The key listKeys names is the one the nodes take.
    let key = key(&server, &path).await;
    assert_eq!(role(address(&server, &path).await, &key).await, "master");

    let deleted = server.api().delete(&path).await;
    assert_eq!(deleted.status(), StatusCode::ACCEPTED);
    let response = server
        .api()
        .post(
            &format!("{path}/forceReboot"),
            Some(json!({"rebootType": "AllNodes"})),
        )
        .await;
    assert!(
        response.status() == StatusCode::CONFLICT || response.status() == StatusCode::NOT_FOUND,
        "{}",
        response.status()
    );
    server
        .api()
        .wait_operation(&deleted)
        .await
        .expect("deleted");
    // Nothing of the cache is left running.
    assert!(server.node_pids().is_empty(), "{:?}", server.node_pids());
}

/// A cache update (`PATCH`) is long-running: while the cache is `Updating`
/// (it is, right after the 202: adding a replica to a cache with data
/// takes a start and a sync), a key regeneration, a reboot and another
/// update are refused with 409 and change nothing; once it ends, the cache
/// has the new shape and all its data on every node.
#[tokio::test(flavor = "multi_thread")]
async fn a_cache_being_updated_refuses_other_operations() {
    let server = server();
    let (path, key, cache) = loaded_premium(&server, "updating", "westeurope", 5_000).await;
    let patched = server
        .api()
        .patch(&path, json!({"properties": {"replicasPerPrimary": 2}}))
        .await;
    assert_eq!(patched.status(), StatusCode::ACCEPTED);
    let regenerated = server.api().regenerate_key(&path, "Primary").await;
    assert_arm_error(regenerated, StatusCode::CONFLICT, "OperationInProgress").await;
    // The next ones may find the update done; refused or not, never a 5xx.
    for (method, target, body) in [
        (
            reqwest::Method::POST,
            format!("{path}/forceReboot"),
            json!({"rebootType": "AllNodes"}),
        ),
        (
            reqwest::Method::PATCH,
            path.clone(),
            json!({"tags": {"second": "update"}}),
        ),
    ] {
        let response = server
            .api()
            .request(method.clone(), &target, Some(body))
            .await;
        if response.status() == StatusCode::CONFLICT {
            assert_arm_error(response, StatusCode::CONFLICT, "OperationInProgress").await;
        } else {
            assert!(
                response.status().is_success(),
                "{method} {target}: {}",
                response.status()
            );
        }
    }
    server
        .api()
        .wait_succeeded(&patched)
        .await
        .expect("the update succeeds");
    let settled = georep_testkit::wait::eventually(
        "the cache to be Succeeded",
        std::time::Duration::from_secs(60),
        || async {
            let cache = server.api().get_json(&path).await;
            (cache["properties"]["provisioningState"] == "Succeeded").then_some(cache)
        },
    )
    .await;
    assert_eq!(
        settled["properties"]["instances"].as_array().unwrap().len(),
        3
    );
    // The refused regeneration changed nothing: the key still works.
    assert_eq!(server.api().keys(&path).await.expect("listKeys").0, key);
    assert_eq!(dbsize(cache, &key).await, Some(5_000));
    every_node_holds(&server, &path, &key, 5_000).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn response_urls_never_come_from_the_host_header() {
    let server = server();
    let path = cache_path(&subscription(&server).await, RG, "hosted");
    let body = json!({"location": "westeurope", "properties": {
        "sku": {"name": "Basic", "family": "C", "capacity": 0}}});
    let response = server
        .api()
        .http()
        .put(server.api().url(&path))
        .bearer_auth(server.token())
        .header("Host", "attacker.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    for header in ["location", "azure-asyncoperation"] {
        let value = response.headers()[header].to_str().unwrap().to_owned();
        assert!(value.starts_with(server.base()), "{header}: {value}");
        assert!(!value.contains("attacker"), "{header}: {value}");
    }
    server
        .api()
        .wait_succeeded(&response)
        .await
        .expect("created");
}

#[tokio::test(flavor = "multi_thread")]
async fn files_holding_secrets_are_the_owners_only() {
    let server = server();
    let path = premium(&server, "secret", "westeurope").await;
    let _ = key(&server, &path).await;
    let data = server.data_dir();
    let mut checked = 0;
    for entry in walk(&data) {
        let mode = std::fs::metadata(&entry).unwrap().permissions().mode() & 0o777;
        if entry.is_file() {
            assert_eq!(mode & 0o077, 0, "{} is {mode:o}", entry.display());
            checked += 1;
        }
    }
    // The store, the token, and each node's config and log at least.
    assert!(
        checked >= 6,
        "only {checked} files under {}",
        data.display()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn each_cache_has_its_own_internal_credential_even_while_linked() {
    let server = server();
    let primary = premium(&server, "cred-p", "westeurope").await;
    let secondary = premium(&server, "cred-s", "northeurope").await;
    link(&server, &primary, &secondary).await;
    let p_node = primary_node(&server, &primary).await;
    let s_node = primary_node(&server, &secondary).await;
    let p_password = server.internal_password(p_node).unwrap();
    let s_password = server.internal_password(s_node).unwrap();
    assert_ne!(p_password, s_password, "two caches share a credential");
    let limit = std::time::Duration::from_secs(2);
    // Each opens its own cache and not the other, though the two replicate.
    assert!(connect_as(p_node, "georep", &p_password, limit)
        .await
        .is_ok());
    assert!(connect_as(s_node, "georep", &p_password, limit)
        .await
        .is_err());
    assert!(connect_as(p_node, "georep", &s_password, limit)
        .await
        .is_err());
    // An access key opens neither the other cache nor the credential.
    let p_key = key(&server, &primary).await;
    assert!(georep_testkit::redis_client::connect(s_node, &p_key, limit)
        .await
        .is_err());
    let mut app = georep_testkit::redis_client::connect(p_node, &p_key, limit)
        .await
        .unwrap();
    let refused: redis::RedisResult<Vec<String>> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("masterauth")
        .query_async(&mut app)
        .await;
    assert!(refused.is_err(), "{refused:?}");
    // Nothing fleet-wide is left lying in the data directory.
    assert!(!server.data_dir().join("internal-password").exists());
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        }
        found.push(path);
    }
    found
}
