//! A client for the server's ARM API: plain HTTP on loopback, the Bearer
//! token on every request, `api-version` added to paths without a query,
//! and long-running operations followed to their end.
//!
//! The verbs ([`Api::get`], [`Api::put`], …) return the response whatever
//! its status, for tests that look at statuses and error bodies, and panic
//! only when the request cannot be sent. [`Api::send`] is the same without
//! the panic, and [`Api::call`] also turns a non-2xx answer into an error
//! naming the ARM error code.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use redis::aio::MultiplexedConnection;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::redis_client;
use crate::wait::{self, Poll};

/// The api-version the kit speaks (the server's newest).
pub const API_VERSION: &str = "2024-11-01";
/// The api-version of the subscriptions list.
pub const SUBSCRIPTIONS_API_VERSION: &str = "2022-12-01";
/// How long a long-running operation may run.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(120);

/// An authenticated client of one server. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Api {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Api {
    /// A client of the server at `base` (`http://127.0.0.1:PORT`) with the
    /// API `token`.
    pub fn new(base: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            base: base.into(),
            token: token.into(),
            http: reqwest::Client::new(),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The API token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The underlying client, for requests the helpers don't make (e.g.
    /// without the token).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The URL of `path`, with `?api-version=`[`API_VERSION`] added unless
    /// `path` already has a query (which then says everything itself).
    pub fn url(&self, path: &str) -> String {
        if path.contains('?') {
            format!("{}{path}", self.base)
        } else {
            format!("{}{path}?api-version={API_VERSION}", self.base)
        }
    }

    /// Sends an authenticated request to `path` (see [`Api::url`]), with
    /// `body` as JSON; the response whatever its status.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> reqwest::Result<Response> {
        let mut request = self
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await
    }

    /// [`Api::send`], panicking if the request cannot be sent.
    pub async fn request(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        let shown = format!("{method} {path}");
        self.send(method, path, body.as_ref())
            .await
            .unwrap_or_else(|e| panic!("{shown}: {e}"))
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path, None).await
    }

    /// `PUT path` with a JSON body.
    pub async fn put(&self, path: &str, body: Value) -> Response {
        self.request(Method::PUT, path, Some(body)).await
    }

    /// `PATCH path` with a JSON body.
    pub async fn patch(&self, path: &str, body: Value) -> Response {
        self.request(Method::PATCH, path, Some(body)).await
    }

    /// `POST path`, with a JSON body if given.
    pub async fn post(&self, path: &str, body: Option<Value>) -> Response {
        self.request(Method::POST, path, body).await
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> Response {
        self.request(Method::DELETE, path, None).await
    }

    /// `GET path`'s body as JSON, whatever its status; panics if it is not
    /// JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        let text = self.get(path).await.text().await.expect("a response body");
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("GET {path}: not JSON: {text}"))
    }

    /// The `kind` of each step of a link's timeline
    /// (`/x-georep/timeline?link=…`, by either linked-server id), oldest first.
    pub async fn timeline_kinds(&self, linked_server_id: &str) -> Vec<String> {
        let body = self
            .get_json(&format!("/x-georep/timeline?link={linked_server_id}"))
            .await;
        let steps = body["value"]
            .as_array()
            .unwrap_or_else(|| panic!("a timeline has a value list: {body}"));
        steps
            .iter()
            .map(|step| {
                step["kind"]
                    .as_str()
                    .unwrap_or_else(|| panic!("every step has a kind: {step}"))
                    .to_owned()
            })
            .collect()
    }

    /// Sends a request and returns its JSON body (`null` when empty) if the
    /// status is 2xx; otherwise an error with the status and the ARM
    /// error's code and message.
    pub async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Value> {
        let shown = format!("{method} {path}");
        let response = self
            .send(method, path, body)
            .await
            .with_context(|| shown.clone())?;
        success_json(response).await.with_context(|| shown)
    }

    /// Follows the long-running operation `response` started (its
    /// `Azure-AsyncOperation` header, or its `Location` where Azure sends
    /// only that, as on a cache delete) until it is no longer `InProgress`;
    /// its final status body, whichever status it ended in. Fails if the
    /// response names neither.
    pub async fn wait_operation(&self, response: &Response) -> Result<Value> {
        let header = |name: &str| response.headers().get(name);
        let url = header("azure-asyncoperation")
            .or_else(|| header("location"))
            .context("the response has neither Azure-AsyncOperation nor Location")?
            .to_str()?
            .to_owned();
        self.wait_operation_at(&url).await
    }

    /// Polls the operation status at `url` (absolute, as the server gives
    /// it) until it is no longer `InProgress`; its body.
    pub async fn wait_operation_at(&self, url: &str) -> Result<Value> {
        let what = format!("the operation {url} to end");
        let status = wait::poll(
            &what,
            OPERATION_TIMEOUT,
            Duration::from_millis(100),
            || async {
                match self.operation_status(url).await {
                    Ok(body) if body["status"] != "InProgress" => Poll::Ready(Ok(body)),
                    Ok(body) => Poll::Pending(body.to_string()),
                    Err(e) => Poll::Ready(Err(e)),
                }
            },
        )
        .await??;
        Ok(status)
    }

    /// Waits for the operation `response` started and fails unless it
    /// `Succeeded`; its status body.
    pub async fn wait_succeeded(&self, response: &Response) -> Result<Value> {
        let op = self.wait_operation(response).await?;
        if op["status"] != "Succeeded" {
            bail!("the operation did not succeed: {op}");
        }
        Ok(op)
    }

    /// The body of an operation status at `url`.
    pub async fn operation_status(&self, url: &str) -> Result<Value> {
        let response = self.http.get(url).bearer_auth(&self.token).send().await?;
        Ok(response.json().await?)
    }

    /// The ids of every subscription, as the API lists them.
    pub async fn subscription_ids(&self) -> Result<Vec<String>> {
        let path = format!("/subscriptions?api-version={SUBSCRIPTIONS_API_VERSION}");
        let list = self.call(Method::GET, &path, None).await?;
        Ok(list["value"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["subscriptionId"].as_str().map(str::to_owned))
            .collect())
    }

    /// Every cache resource of subscription `subscription`.
    pub async fn caches_in(&self, subscription: &str) -> Result<Vec<Value>> {
        let path = format!("/subscriptions/{subscription}/providers/Microsoft.Cache/redis");
        let list = self.call(Method::GET, &path, None).await?;
        Ok(list["value"].as_array().cloned().unwrap_or_default())
    }

    /// Creates a cache at `path` (a cache's ARM path) from `properties`,
    /// merged over a Premium P1 with its plain port on, and waits until its
    /// operation succeeds; the cache's resource.
    ///
    /// The plain port is on (`enableNonSslPort`, off by Azure's default) as
    /// the demo fleet has it, so tests reach caches with plain clients; the
    /// TLS tests turn it off.
    pub async fn create_cache(
        &self,
        path: &str,
        location: &str,
        properties: Value,
    ) -> Result<Value> {
        let mut props = json!({"sku": {"name": "Premium", "family": "P", "capacity": 1},
                               "enableNonSslPort": true});
        merge(&mut props, properties);
        let body = json!({"location": location, "properties": props});
        let response = self.send(Method::PUT, path, Some(&body)).await?;
        let status = response.status();
        if status != StatusCode::CREATED {
            bail!("create {path}: {status} {}", response.text().await?);
        }
        self.wait_succeeded(&response).await?;
        self.call(Method::GET, path, None).await
    }

    /// `POST path/regenerateKey` for the `Primary` or `Secondary` key; the
    /// answer is left to the caller, since tests check refusals too.
    pub async fn regenerate_key(&self, path: &str, key_type: &str) -> Response {
        let body = json!({ "keyType": key_type });
        self.post(&format!("{path}/regenerateKey"), Some(body))
            .await
    }

    /// The primary and secondary access keys of the cache at `path` (its
    /// ARM path or id), from `listKeys`.
    pub async fn keys(&self, path: &str) -> Result<(String, String)> {
        let keys = self
            .call(Method::POST, &format!("{path}/listKeys"), None)
            .await?;
        let key = |name: &str| {
            keys[name]
                .as_str()
                .map(str::to_owned)
                .with_context(|| format!("listKeys of {path} gave no {name}"))
        };
        Ok((key("primaryKey")?, key("secondaryKey")?))
    }
}

impl Api {
    /// A Redis connection to the first shard primary of the cache at
    /// `path` (its `hostName` and `port`), with its primary access key.
    pub async fn redis(&self, path: &str) -> Result<MultiplexedConnection> {
        let cache = self.call(Method::GET, path, None).await?;
        let host = cache["properties"]["hostName"]
            .as_str()
            .with_context(|| format!("{path} has no hostName"))?;
        let port = cache["properties"]["port"]
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .with_context(|| format!("{path} has no port"))?;
        let (key, _) = self.keys(path).await?;
        let info = redis_client::host_connection_info(host, port, Some(&key))?;
        Ok(redis_client::connect_info(info, Duration::from_secs(5)).await?)
    }
}

/// A response's JSON body (`null` when empty) if its status is 2xx;
/// otherwise an error with the status and the ARM error's code and
/// message.
pub async fn success_json(response: Response) -> Result<Value> {
    let status = response.status();
    let text = response.text().await?;
    let body = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text)
            .with_context(|| format!("answered {status} with non-JSON: {text}"))?
    };
    if !status.is_success() {
        let code = body["error"]["code"].as_str().unwrap_or("?");
        let message = body["error"]["message"].as_str().unwrap_or("");
        bail!("HTTP {status} {code}: {message}");
    }
    Ok(body)
}

/// The ARM path of cache `name` in subscription `subscription` and
/// resource group `group`.
pub fn cache_path(subscription: &str, group: &str, name: &str) -> String {
    format!(
        "/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.Cache/redis/{name}"
    )
}

/// The body of a `PUT …/linkedServers/{name}` that names the cache
/// `secondary_id` (an ARM id) in `location` as the geo-secondary.
pub fn link_body(secondary_id: &str, location: &str) -> Value {
    json!({"properties": {
        "linkedRedisCacheId": secondary_id,
        "linkedRedisCacheLocation": location,
        "serverRole": "Secondary"
    }})
}

/// Merges `patch` into `base`, object by object; anything else replaces.
pub fn merge(base: &mut Value, patch: Value) {
    match (base, patch) {
        (Value::Object(base), Value::Object(patch)) => {
            for (k, v) in patch {
                merge(base.entry(k).or_insert(Value::Null), v);
            }
        }
        (base, patch) => *base = patch,
    }
}

/// Asserts an ARM error: the status, `error.code`, and a non-empty
/// message; the body.
pub async fn assert_arm_error(response: Response, status: StatusCode, code: &str) -> Value {
    let got = response.status();
    let text = response.text().await.expect("a response body");
    assert_eq!(got, status, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_the_api_version_only_to_paths_without_a_query() {
        let api = Api::new("http://127.0.0.1:1", "t");
        assert_eq!(
            api.url("/x"),
            format!("http://127.0.0.1:1/x?api-version={API_VERSION}")
        );
        assert_eq!(api.url("/x?a=b"), "http://127.0.0.1:1/x?a=b");
    }

    #[test]
    fn merges_objects_and_replaces_the_rest() {
        let mut base = json!({"sku": {"name": "Premium", "capacity": 1}, "a": 1});
        merge(&mut base, json!({"sku": {"capacity": 2}, "a": [1]}));
        assert_eq!(
            base,
            json!({"sku": {"name": "Premium", "capacity": 2}, "a": [1]})
        );
        assert_eq!(
            cache_path("s", "g", "c"),
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.Cache/redis/c"
        );
    }
}
