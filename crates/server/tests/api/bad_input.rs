//! Bad requests get the right 4xx and an ARM error body; nothing gets a 5xx.

use crate::support::{assert_arm_error, cache_path_in, Server, API, RG, SUB};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn premium() -> Value {
    json!({"location": "westeurope", "properties": {"sku": {"name": "Premium", "family": "P", "capacity": 1}}})
}

#[tokio::test]
async fn malformed_and_wrong_typed_bodies_are_400() {
    let server = Server::start();
    let path = Server::cache_path("c");
    let url = server.url(&path);
    let send = |body: &'static str, content_type: &'static str| {
        server
            .http()
            .put(&url)
            .bearer_auth(server.token())
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let malformed = send("{\"location\": ", "application/json").await.unwrap();
    assert_arm_error(malformed, StatusCode::BAD_REQUEST, "InvalidRequestContent").await;
    let wrong_type = send(r#"{"location": "westeurope", "properties": {"sku": {"name": "Premium", "family": "P", "capacity": "big"}}}"#, "application/json").await.unwrap();
    let body = assert_arm_error(wrong_type, StatusCode::BAD_REQUEST, "InvalidRequestContent").await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("capacity"),
        "{body}"
    );
    let wrong_enum = send(r#"{"location": "westeurope", "properties": {"sku": {"name": "Gold", "family": "P", "capacity": 1}}}"#, "application/json").await.unwrap();
    assert_arm_error(wrong_enum, StatusCode::BAD_REQUEST, "InvalidRequestContent").await;
    let missing_field = send(
        r#"{"properties": {"sku": {"name": "Premium", "family": "P", "capacity": 1}}}"#,
        "application/json",
    )
    .await
    .unwrap();
    assert_arm_error(
        missing_field,
        StatusCode::BAD_REQUEST,
        "InvalidRequestContent",
    )
    .await;
    let not_object = send("[1, 2]", "application/json").await.unwrap();
    assert_arm_error(not_object, StatusCode::BAD_REQUEST, "InvalidRequestContent").await;
    let no_json = send("{}", "text/plain").await.unwrap();
    assert_arm_error(
        no_json,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UnsupportedMediaType",
    )
    .await;
    let huge = "x".repeat(3 * 1024 * 1024);
    // Its own client: the server closes the connection after refusing the
    // body, so it must not go back to the shared pool.
    let too_big = reqwest::Client::new()
        .put(&url)
        .bearer_auth(server.token())
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_arm_error(
        too_big,
        StatusCode::PAYLOAD_TOO_LARGE,
        "InvalidRequestContent",
    )
    .await;
    // Linked-server and action bodies too.
    server.create_cache(&path, "westeurope", json!({})).await;
    let link = server
        .put(
            &format!("{path}/linkedServers/x"),
            json!({"properties": {"linkedRedisCacheId": 7}}),
        )
        .await;
    assert_arm_error(link, StatusCode::BAD_REQUEST, "InvalidRequestContent").await;
    let key = server.regenerate_key(&path, "Tertiary").await;
    assert_arm_error(key, StatusCode::BAD_REQUEST, "InvalidRequestContent").await;
    let reboot = server
        .post(
            &format!("{path}/forceReboot"),
            Some(json!({"shardId": "one"})),
        )
        .await;
    assert_arm_error(reboot, StatusCode::BAD_REQUEST, "InvalidRequestContent").await;
    let no_body = server.post(&format!("{path}/export"), None).await;
    assert_eq!(no_body.status().as_u16() / 100, 4);
}

#[tokio::test]
async fn bad_values_are_400_with_the_field_named() {
    let server = Server::start();
    let path = Server::cache_path("v");
    let cases = [
        (
            json!({"location": "atlantis", "properties": {"sku": {"name": "Premium", "family": "P", "capacity": 1}}}),
            "location",
        ),
        (
            json!({"location": "westeurope", "properties": {"sku": {"name": "Premium", "family": "C", "capacity": 1}}}),
            "properties.sku",
        ),
        (
            json!({"location": "westeurope", "properties": {"sku": {"name": "Premium", "family": "P", "capacity": 9}}}),
            "properties.sku",
        ),
        (
            json!({"location": "westeurope", "properties": {"sku": {"name": "Standard", "family": "C", "capacity": 1}, "shardCount": 2}}),
            "properties.shardCount",
        ),
        (
            json!({"location": "westeurope", "properties": {"sku": {"name": "Premium", "family": "P", "capacity": 1}, "replicasPerPrimary": 9}}),
            "properties.replicasPerPrimary",
        ),
        (
            json!({"location": "westeurope", "properties": {"sku": {"name": "Premium", "family": "P", "capacity": 1}, "redisVersion": "5"}}),
            "properties.redisVersion",
        ),
    ];
    for (body, target) in cases {
        let response = server.put(&path, body).await;
        let error = assert_arm_error(response, StatusCode::BAD_REQUEST, "InvalidParameter").await;
        assert_eq!(error["error"]["target"], target, "{error}");
    }
    assert!(server.node_pids().is_empty(), "nothing was started");
}

#[tokio::test]
async fn bad_names_and_api_versions_are_400() {
    let server = Server::start();
    for name in ["bad_name", "-x", "a--b", &"x".repeat(64)] {
        let response = server.put(&Server::cache_path(name), premium()).await;
        assert_arm_error(response, StatusCode::BAD_REQUEST, "InvalidResourceName").await;
    }
    let bad_group = server.get(&cache_path_in(SUB, "rg.", "c")).await;
    assert_arm_error(bad_group, StatusCode::BAD_REQUEST, "InvalidResourceName").await;
    let bad_sub = server.get(&cache_path_in("not-a-guid", RG, "c")).await;
    assert_arm_error(bad_sub, StatusCode::BAD_REQUEST, "InvalidSubscriptionId").await;
    let rule = server
        .get(&format!(
            "{}/firewallRules/no-dashes",
            Server::cache_path("c")
        ))
        .await;
    assert_arm_error(rule, StatusCode::BAD_REQUEST, "InvalidResourceName").await;

    let path = Server::cache_path("c");
    for version in ["2021-06-01", "latest", "2024-11-01x"] {
        let response = server.get(&format!("{path}?api-version={version}")).await;
        let body = assert_arm_error(
            response,
            StatusCode::BAD_REQUEST,
            "InvalidApiVersionParameter",
        )
        .await;
        assert!(body["error"]["message"].as_str().unwrap().contains(API));
    }
    let missing = server.get(&format!("{path}?foo=bar")).await;
    assert_arm_error(
        missing,
        StatusCode::BAD_REQUEST,
        "MissingApiVersionParameter",
    )
    .await;
    let subscriptions = server.get("/subscriptions").await;
    assert_eq!(
        subscriptions.status(),
        StatusCode::OK,
        "{API} is fine there too"
    );
    let no_version = server
        .http()
        .get(format!("{}/subscriptions", server.base()))
        .bearer_auth(server.token())
        .send()
        .await
        .unwrap();
    assert_arm_error(
        no_version,
        StatusCode::BAD_REQUEST,
        "MissingApiVersionParameter",
    )
    .await;
    // Every version since 2022-06-01 is accepted.
    for version in ["2022-06-01", "2023-08-01", "2024-03-01", "2024-11-01"] {
        let response = server.get(&format!("{path}?api-version={version}")).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{version}");
    }
}

#[tokio::test]
async fn wrong_verbs_unknown_routes_and_missing_resources() {
    let server = Server::start();
    let path = Server::cache_path("m");
    let post = server.request(Method::POST, &path, Some(json!({}))).await;
    assert_arm_error(post, StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed").await;
    let patch_link = server
        .request(
            Method::PATCH,
            &format!("{path}/linkedServers/x"),
            Some(json!({})),
        )
        .await;
    assert_arm_error(
        patch_link,
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
    )
    .await;
    let get_keys = server.get(&format!("{path}/listKeys")).await;
    assert_arm_error(get_keys, StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed").await;
    let unknown = server.get(&format!("{path}/nothingHere")).await;
    assert_arm_error(unknown, StatusCode::NOT_FOUND, "InvalidResourceType").await;
    let unknown = server
        .get(&format!(
            "/subscriptions/{SUB}/providers/Microsoft.Storage/storageAccounts"
        ))
        .await;
    assert_arm_error(unknown, StatusCode::NOT_FOUND, "InvalidResourceType").await;

    for (method, suffix) in [
        (Method::GET, ""),
        (Method::PATCH, ""),
        (Method::POST, "/listKeys"),
        (Method::POST, "/regenerateKey"),
        (Method::GET, "/linkedServers"),
        (Method::GET, "/linkedServers/x"),
        (Method::GET, "/firewallRules"),
        (Method::PUT, "/firewallRules/r1"),
        (Method::POST, "/export"),
        (Method::POST, "/forceReboot"),
    ] {
        let body = match suffix {
            "/regenerateKey" => Some(json!({"keyType": "Primary"})),
            "/firewallRules/r1" => {
                Some(json!({"properties": {"startIP": "1.1.1.1", "endIP": "1.1.1.1"}}))
            }
            "/export" => Some(json!({"prefix": "p", "container": "c"})),
            "" | "/forceReboot" => Some(json!({})),
            _ => None,
        };
        let response = server
            .request(method.clone(), &format!("{path}{suffix}"), body)
            .await;
        assert_arm_error(response, StatusCode::NOT_FOUND, "ResourceNotFound").await;
    }
}

#[tokio::test]
async fn paths_are_case_insensitive_like_arms() {
    let server = Server::start();
    server
        .create_cache(&Server::cache_path("Mixed"), "westeurope", json!({}))
        .await;
    let odd =
        format!("/SUBSCRIPTIONS/{SUB}/resourcegroups/{RG}/PROVIDERS/microsoft.cache/REDIS/mixed");
    let response = server.get(&odd).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cache: Value = response.json().await.unwrap();
    assert_eq!(cache["name"], "Mixed");
    let keys = server.post(&format!("{odd}/LISTKEYS"), None).await;
    assert_eq!(keys.status(), StatusCode::OK);
}

#[tokio::test]
async fn no_garbage_gets_a_5xx() {
    let server = Server::start();
    let path = Server::cache_path("g");
    server.create_cache(&path, "westeurope", json!({})).await;
    let garbage: Vec<(Method, String, Option<&str>)> = vec![
        (Method::PUT, path.clone(), Some("null")),
        (Method::PUT, path.clone(), Some("\"text\"")),
        (Method::PATCH, path.clone(), Some("{\"properties\": null}")),
        (Method::PATCH, path.clone(), Some("{\"properties\": {\"shardCount\": -1}}")),
        (Method::PATCH, path.clone(), Some("{\"properties\": {\"shardCount\": 99999999999}}")),
        (Method::PUT, format!("{path}/linkedServers/g"), Some("{\"properties\": {\"linkedRedisCacheId\": \"\", \"linkedRedisCacheLocation\": \"\", \"serverRole\": \"Secondary\"}}")),
        (Method::PUT, format!("{path}/linkedServers/%FF"), Some("{}")),
        (Method::GET, format!("{path}/linkedServers/%00"), None),
        (Method::POST, format!("{path}/import"), Some("{\"files\": []}")),
        (Method::POST, format!("{path}/import"), Some("{\"files\": [\"../../etc/passwd\"]}")),
        (Method::POST, format!("{path}/forceReboot"), Some("{\"ports\": [1]}")),
        (Method::DELETE, format!("{path}/firewallRules/%2e%2e"), None),
        (Method::GET, format!("/subscriptions/{SUB}/providers/Microsoft.Cache/locations/x/asyncOperations/%20"), None),
        (Method::GET, "/x-georep/candidates?primary=%FF".into(), None),
        (Method::DELETE, format!("/subscriptions/{SUB}/resourceGroups/empty"), None),
    ];
    for (method, path, body) in garbage {
        let mut request = server
            .http()
            .request(method.clone(), server.url(&path))
            .bearer_auth(server.token());
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.as_u16() < 500, "{method} {path}: {status} {text}");
        if status.is_client_error() {
            let body: Value = serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("{method} {path}: not ARM: {text}"));
            assert!(body["error"]["code"].is_string(), "{method} {path}: {text}");
        }
    }
}

#[tokio::test]
async fn the_console_is_served_beside_the_api_with_cors_for_configured_origins_only() {
    let dir = std::sync::Arc::new(tempfile::TempDir::new().unwrap());
    let dist = dir.path().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("index.html"), "<html>console</html>").unwrap();
    std::fs::write(dist.join("app.js"), "console.log(1)").unwrap();
    let server = Server::start_with(
        dir.clone(),
        &[
            "--static-dir",
            dist.to_str().unwrap(),
            "--allow-origin",
            "http://127.0.0.1:9999",
        ],
    );
    let page = server
        .http()
        .get(format!("{}/", server.base()))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("console"));
    let route = server
        .http()
        .get(format!("{}/caches/orders/geo", server.base()))
        .send()
        .await
        .unwrap();
    assert!(
        route.text().await.unwrap().contains("console"),
        "client-side routes get index.html"
    );
    let script = server
        .http()
        .get(format!("{}/app.js", server.base()))
        .send()
        .await
        .unwrap();
    assert_eq!(script.text().await.unwrap(), "console.log(1)");
    // API paths never fall back to the console.
    let api = server.get(&format!("/subscriptions/{SUB}/nothing")).await;
    assert_arm_error(api, StatusCode::NOT_FOUND, "InvalidResourceType").await;

    let preflight = |origin: &'static str| {
        server
            .http()
            .request(Method::OPTIONS, format!("{}/subscriptions", server.base()))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let allowed = preflight("http://127.0.0.1:9999").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "http://127.0.0.1:9999"
    );
    let other = preflight("http://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}
