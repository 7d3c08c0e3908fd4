//! Fidelity to Azure's recorded traffic (the az CLI's
//! `test_redis_cache_server_link.yaml`): the polling headers of a link's
//! create and delete, and an unlink that follows the request's api-version
//! (2021-06-01: a synchronous 204; 2024-11-01: a long-running 202).

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{create_pair, Server};

#[tokio::test]
async fn link_polling_headers_and_unlink_per_api_version() {
    let server = Server::start();
    create_pair(&server, "fid-a", "fid-b").await;
    let a = Server::cache_path("fid-a");
    let link = format!("{a}/linkedServers/fid-b");

    // A link's create: 201, Azure-AsyncOperation, Location = the link itself.
    let created = server.put_link("fid-a", "fid-b").await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let location = created.headers()["location"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(
        location.starts_with(&server.url(&link).to_lowercase()),
        "{location}"
    );
    server.wait_succeeded(&created).await;
    // A poll of the status resource names itself, as Azure's do.
    let status_url = created.headers()["azure-asyncoperation"]
        .to_str()
        .unwrap()
        .to_owned();
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
    let links: Value = server.get_json(&format!("{a}/linkedServers")).await;
    assert_eq!(links["value"], serde_json::json!([]), "unlinked at once");

    // 2024-11-01: 202 with both status resources.
    server
        .wait_succeeded(&server.put_link("fid-a", "fid-b").await)
        .await;
    let new = server.delete(&link).await;
    assert_eq!(new.status(), StatusCode::ACCEPTED);
    assert!(new.headers()["azure-asyncoperation"]
        .to_str()
        .unwrap()
        .contains("/asyncOperations/"));
    assert!(new.headers()["location"]
        .to_str()
        .unwrap()
        .contains("/operationResults/"));
    server.wait_succeeded(&new).await;

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
