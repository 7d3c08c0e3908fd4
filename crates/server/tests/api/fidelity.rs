//! Fidelity to Azure's recorded traffic (the az CLI's
//! `test_redis_cache_server_link.yaml`): the polling headers of a link's
//! create and delete, and an unlink that follows the request's api-version
//! (2021-06-01: a synchronous 204; 2024-11-01: a long-running 202); that
//! no answer carries `Retry-After`, and the first poll of an operation
//! already says how it ended; and a cache update
//! (`test_redis_cache_update.yaml`): 202, the cache `Updating`, both
//! headers at its `asyncOperations` status, then polled to its end.

use reqwest::header::HeaderMap;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::support::{create_pair, Server};

/// The polling headers an answer may carry, by name, in order.
const HEADERS: [&str; 3] = ["azure-asyncoperation", "location", "retry-after"];

/// What Azure's recordings send on a create, an update and an unlink.
const POLLING: [&str; 2] = ["azure-asyncoperation", "location"];

fn polling_headers(headers: &HeaderMap) -> Vec<&'static str> {
    HEADERS
        .into_iter()
        .filter(|name| headers.contains_key(*name))
        .collect()
}

/// Asserts the answer's status and its polling headers, exactly.
fn assert_answer(response: &Response, status: StatusCode, headers: &[&str], what: &str) {
    assert_eq!(response.status(), status, "{what}");
    assert_eq!(polling_headers(response.headers()), headers, "{what}");
}

/// Azure's recordings carry no `Retry-After` on any Redis operation, so
/// neither does the server: each long-running answer has the recorded set,
/// synchronous ones none. The SDKs' pollers then poll once at once and
/// every 30 s after, so that first poll waits for the operation to end:
/// sent the moment the create answers, it says `Succeeded`.
#[tokio::test]
async fn long_running_answers_carry_the_recorded_headers_only() {
    let server = Server::start();
    let path = Server::cache_path("ra-a");
    let body = json!({"location": "eastus", "properties": {
        "sku": {"name": "Premium", "family": "P", "capacity": 1}, "enableNonSslPort": true}});
    let created = server.put(&path, body).await;
    assert_answer(
        &created,
        StatusCode::CREATED,
        &POLLING,
        "cache create: Azure-AsyncOperation, Location = the cache",
    );
    let status_url = created.headers()["azure-asyncoperation"]
        .to_str()
        .unwrap()
        .to_owned();
    let first_poll = server.operation_status(&status_url).await;
    assert_eq!(
        first_poll["status"], "Succeeded",
        "the first poll waits for the create to end: {first_poll}"
    );
    let done = server
        .http()
        .get(&status_url)
        .bearer_auth(server.token())
        .send()
        .await
        .unwrap();
    assert_answer(
        &done,
        StatusCode::OK,
        &["azure-asyncoperation"],
        "a finished operation's status: nothing more to wait for",
    );

    let patched = server.patch(&path, json!({"tags": {"team": "ops"}})).await;
    assert_answer(
        &patched,
        StatusCode::ACCEPTED,
        &POLLING,
        "update (PATCH): long-running, as Azure's recording",
    );
    server.wait_succeeded(&patched).await;
    let regenerated = server.regenerate_key(&path, "Secondary").await;
    assert_answer(&regenerated, StatusCode::OK, &[], "regenerateKey");
    let rebooted = server
        .post(
            &format!("{path}/forceReboot"),
            Some(json!({"rebootType": "AllNodes"})),
        )
        .await;
    assert_answer(&rebooted, StatusCode::OK, &[], "forceReboot");

    server
        .create_cache(&Server::cache_path("ra-b"), "westus2", json!({}))
        .await;
    let link = format!("{path}/linkedServers/ra-b");
    let linked = server.put_link("ra-a", "ra-b").await;
    assert_answer(
        &linked,
        StatusCode::CREATED,
        &["azure-asyncoperation"],
        "link create: Azure-AsyncOperation only, as recorded",
    );
    server.wait_succeeded(&linked).await;
    let unlinked = server.delete(&link).await;
    assert_answer(&unlinked, StatusCode::ACCEPTED, &POLLING, "link delete");
    server.wait_succeeded(&unlinked).await;

    let deleted = server.delete(&path).await;
    assert_answer(
        &deleted,
        StatusCode::ACCEPTED,
        &["location"],
        "cache delete: Location (operationResults) only",
    );
    let result_url = deleted.headers()["location"].to_str().unwrap().to_owned();
    server.wait_succeeded(&deleted).await;
    let result = server
        .http()
        .get(&result_url)
        .bearer_auth(server.token())
        .send()
        .await
        .unwrap();
    assert_answer(
        &result,
        StatusCode::OK,
        &[],
        "a finished operation's result",
    );
}

#[tokio::test]
async fn link_polling_headers_and_unlink_per_api_version() {
    let server = Server::start();
    create_pair(&server, "fid-a", "fid-b").await;
    let a = Server::cache_path("fid-a");
    let link = format!("{a}/linkedServers/fid-b");

    // A link's create: 201 and Azure-AsyncOperation only, as recorded.
    let created = server.put_link("fid-a", "fid-b").await;
    assert_answer(
        &created,
        StatusCode::CREATED,
        &["azure-asyncoperation"],
        "link create",
    );
    // Its body: the link resource, `Creating`, with host names (no port)
    // as the spec's example and the recording give them.
    let status_url = created.headers()["azure-asyncoperation"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = created.json().await.unwrap();
    assert_eq!(body["name"], "fid-b", "{body}");
    assert_eq!(body["type"], "Microsoft.Cache/Redis/linkedServers");
    assert!(body["id"]
        .as_str()
        .unwrap()
        .ends_with("/linkedServers/fid-b"));
    let p = &body["properties"];
    assert_eq!(p["provisioningState"], "Creating", "{body}");
    assert_eq!(p["serverRole"], "Secondary");
    assert!(p["linkedRedisCacheId"]
        .as_str()
        .unwrap()
        .ends_with("/Redis/fid-b"));
    for field in ["geoReplicatedPrimaryHostName", "primaryHostName"] {
        let host = p[field].as_str().unwrap_or_default();
        assert!(
            host.parse::<std::net::Ipv4Addr>().is_ok(),
            "{field} is a host name without a port: {body}"
        );
    }
    let done = server.operation_status(&status_url).await;
    let done = if done["status"] == "InProgress" {
        georep_testkit::wait::eventually("the link", std::time::Duration::from_secs(60), || async {
            let op = server.operation_status(&status_url).await;
            (op["status"] != "InProgress").then_some(op)
        })
        .await
    } else {
        done
    };
    assert_eq!(done["status"], "Succeeded", "{done}");
    // A poll of the status resource names itself, as Azure's do.
    let poll = server
        .http()
        .get(&status_url)
        .bearer_auth(server.token())
        .send()
        .await
        .unwrap();
    assert_eq!(
        poll.headers()["azure-asyncoperation"].to_str().unwrap(),
        status_url
    );

    // 2021-06-01: answered once unlinked, with no operation to poll.
    let old = server
        .http()
        .delete(format!("{}{link}?api-version=2021-06-01", server.base()))
        .bearer_auth(server.token())
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), StatusCode::NO_CONTENT);
    assert!(old.headers().get("azure-asyncoperation").is_none());
    assert!(old.bytes().await.unwrap().is_empty(), "a 204 has no body");
    let links: Value = server.get_json(&format!("{a}/linkedServers")).await;
    assert_eq!(links["value"], serde_json::json!([]), "unlinked at once");

    server
        .wait_succeeded(&server.put_link("fid-a", "fid-b").await)
        .await;
    // 2024-11-01: 202, both headers naming the same asyncOperations status.
    let new = server.delete(&link).await;
    assert_answer(&new, StatusCode::ACCEPTED, &POLLING, "unlink");
    let status = new.headers()["azure-asyncoperation"].to_str().unwrap();
    assert!(status.contains("/asyncOperations/"), "{status}");
    assert_eq!(new.headers()["location"].to_str().unwrap(), status);
    server.wait_succeeded(&new).await;
    assert!(
        new.bytes().await.unwrap().is_empty(),
        "the recorded 202 has no body"
    );

    // The old version is the unlink's alone: elsewhere it is refused.
    let refused = server
        .http()
        .get(format!("{}{a}?api-version=2021-06-01", server.base()))
        .bearer_auth(server.token())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
}

/// `test_redis_cache_update.yaml`: the PATCH answers 202 with the cache as
/// it was (`provisioningState: Updating`) and `Azure-AsyncOperation` and
/// `Location` both naming the `asyncOperations` status; the status says
/// `InProgress`, then `Succeeded`, and a GET of the cache then has the
/// change and `Succeeded`. A `PUT` on the existing cache is the same
/// update: 200 with the cache `Updating` and an operation to poll.
#[tokio::test]
async fn update_answers_202_updating_and_polls_to_the_change() {
    let server = Server::start();
    let path = Server::cache_path("upd");
    server
        .create_cache(&path, "westeurope", json!({"replicasPerPrimary": 1}))
        .await;
    let patched = server
        .patch(
            &path,
            json!({"tags": {"team": "ops"}, "properties": {"replicasPerPrimary": 2}}),
        )
        .await;
    assert_answer(&patched, StatusCode::ACCEPTED, &POLLING, "update (PATCH)");
    let status_url = patched.headers()["azure-asyncoperation"]
        .to_str()
        .unwrap()
        .to_owned();
    let location = patched.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, status_url, "Location names the same status");
    assert!(status_url.contains("/asyncOperations/"), "{status_url}");
    let body: Value = server.get_json(&path).await;
    let answered: Value = patched.json().await.unwrap();
    assert_eq!(answered["properties"]["provisioningState"], "Updating");
    assert_eq!(answered["id"], body["id"]);
    // As Azure's recording: the cache as it was, `Updating` (it asked for
    // publicNetworkAccess Disabled and was answered Enabled).
    assert!(
        answered["tags"].get("team").is_none(),
        "the body is the cache before the change: {answered}"
    );
    assert_eq!(
        answered["properties"]["replicasPerPrimary"], 1,
        "{answered}"
    );
    assert!(
        answered["properties"]["accessKeys"].is_null(),
        "no keys in an update's answer: {answered}"
    );

    let end = server.operation_status(&status_url).await;
    let done = if end["status"] == "InProgress" {
        let response = server
            .http()
            .get(&status_url)
            .bearer_auth(server.token())
            .send()
            .await
            .unwrap();
        assert_answer(
            &response,
            StatusCode::OK,
            &["azure-asyncoperation"],
            "an update's status while it runs",
        );
        georep_testkit::wait::eventually(
            "the update ends",
            std::time::Duration::from_secs(60),
            || async {
                let op = server.operation_status(&status_url).await;
                (op["status"] != "InProgress").then_some(op)
            },
        )
        .await
    } else {
        end
    };
    assert_eq!(done["status"], "Succeeded", "{done}");
    for key in ["id", "name", "status", "startTime", "endTime", "error"] {
        assert!(done.get(key).is_some(), "{key} in {done}");
    }
    let cache: Value = server.get_json(&path).await;
    assert_eq!(cache["properties"]["provisioningState"], "Succeeded");
    assert_eq!(cache["properties"]["replicasPerPrimary"], 2);
    assert_eq!(
        cache["properties"]["instances"].as_array().unwrap().len(),
        3
    );
    assert_eq!(cache["tags"]["team"], "ops");
    assert_eq!(server.node_pids().len(), 3, "the new replica runs");

    let put = server
        .put(
            &path,
            json!({"location": "westeurope", "properties": {
                "sku": {"name": "Premium", "family": "P", "capacity": 1},
                "replicasPerPrimary": 1, "enableNonSslPort": true}}),
        )
        .await;
    assert_answer(&put, StatusCode::OK, &POLLING, "PUT on an existing cache");
    server.wait_succeeded(&put).await;
    let cache: Value = server.get_json(&path).await;
    assert_eq!(
        cache["properties"]["instances"].as_array().unwrap().len(),
        2
    );
    assert_eq!(
        server.node_pids().len(),
        2,
        "the replica no longer wanted stopped"
    );
}
