//! The harness of the API tests: the real `georep-server` binary on a free
//! port with a temporary data directory, real HTTP, real `redis-server`
//! nodes. Dropping a [`Server`] kills it and every node it started.
//!
//! [`data`] holds the Redis data-plane helpers and [`geo`] those of linked
//! pairs; both are re-exported here, so tests name everything as
//! `crate::support::…`.

mod data;
mod geo;

pub use data::*;
pub use geo::*;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use tempfile::TempDir;

/// The api-version the tests speak.
pub const API: &str = "2024-11-01";
/// The subscription the tests create caches in.
pub const SUB: &str = "11111111-2222-4333-8444-555555555555";
/// Another subscription.
pub const OTHER_SUB: &str = "99999999-2222-4333-8444-555555555555";
/// The resource group the tests use.
pub const RG: &str = "rg-test";

/// A running `georep-server`.
pub struct Server {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The API token.
    pub token: String,
    /// The data directory (kept alive across restarts).
    pub dir: Arc<TempDir>,
    http: reqwest::Client,
}

impl Server {
    /// A server on a fresh data directory.
    pub fn start() -> Server {
        Server::start_with(Arc::new(TempDir::new().expect("temp dir")), &[])
    }

    /// A server on `dir`, with extra arguments.
    pub fn start_with(dir: Arc<TempDir>, args: &[&str]) -> Server {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.path().join("server.log"))
            .expect("log file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_georep-server"))
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path().join("data"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("georep-server starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("Open the console: ") {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(rest.to_owned());
                    }
                }
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                let status = child.wait();
                let log =
                    std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
                panic!("georep-server did not print its login URL ({status:?}); its log:\n{log}");
            }
        };
        let (base, token) = url.split_once("/#token=").expect("login URL has a token");
        let stored =
            std::fs::read_to_string(dir.path().join("data").join("api-token")).expect("token file");
        assert_eq!(stored.trim(), token, "the printed token is the stored one");
        Server {
            child: Some(child),
            base: base.to_owned(),
            token: token.to_owned(),
            dir,
            http: reqwest::Client::new(),
        }
    }

    /// The data directory the server was given.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Kills the server process only (`SIGKILL`), leaving its nodes running.
    pub fn kill_server_only(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the server with `SIGTERM` and waits for it; it stops its nodes.
    pub fn terminate(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let _ = child.wait();
        }
    }

    /// The server process's id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The ids of the processes running in the data directory (the nodes).
    pub fn node_pids(&self) -> Vec<u32> {
        processes_under(&self.data_dir())
    }

    /// `…/resourceGroups/{RG}/providers/Microsoft.Cache/redis/{name}` in [`SUB`].
    pub fn cache_path(name: &str) -> String {
        cache_path_in(SUB, RG, name)
    }

    /// An authenticated request to `path` (which may carry a query).
    pub async fn request(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        let url = self.url(path);
        let mut request = self.http.request(method, url).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request sent")
    }

    /// The URL of `path`, with `api-version` added unless it has a query.
    pub fn url(&self, path: &str) -> String {
        if path.contains('?') {
            format!("{}{path}", self.base)
        } else {
            format!("{}{path}?api-version={API}", self.base)
        }
    }

    /// A raw client, for requests the helpers don't make.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path, None).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Response {
        self.request(Method::PUT, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Response {
        self.request(Method::PATCH, path, Some(body)).await
    }

    pub async fn post(&self, path: &str, body: Option<Value>) -> Response {
        self.request(Method::POST, path, body).await
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.request(Method::DELETE, path, None).await
    }

    /// `GET path`'s body as JSON, whatever its status.
    pub async fn get_json(&self, path: &str) -> Value {
        self.get(path).await.json().await.unwrap()
    }

    /// Follows a long-running operation's `Azure-AsyncOperation` until it ends; returns its status body.
    pub async fn wait_operation(&self, response: &Response) -> Value {
        let url = response
            .headers()
            .get("azure-asyncoperation")
            .expect("Azure-AsyncOperation header")
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            response.headers().get("location").is_some(),
            "Location header"
        );
        assert!(
            response.headers().get("retry-after").is_some(),
            "Retry-After header"
        );
        self.wait_operation_at(&url).await
    }

    /// Polls the operation status at `url` until it is no longer `InProgress`; returns its body.
    pub async fn wait_operation_at(&self, url: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let status = self.operation_status(url).await;
            if status["status"] != "InProgress" {
                return status;
            }
            assert!(Instant::now() < deadline, "operation did not end: {status}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits for the operation `response` started and asserts that it `Succeeded`.
    pub async fn wait_succeeded(&self, response: &Response) -> Value {
        let op = self.wait_operation(response).await;
        assert_eq!(op["status"], "Succeeded", "{op}");
        op
    }

    /// The body of an operation's `Azure-AsyncOperation` status at `url`.
    pub async fn operation_status(&self, url: &str) -> Value {
        self.http
            .get(url)
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Creates a cache from `properties` (merged over a Premium P1) and waits until it runs.
    pub async fn create_cache(&self, path: &str, location: &str, properties: Value) -> Value {
        let mut props = json!({"sku": {"name": "Premium", "family": "P", "capacity": 1}});
        merge(&mut props, properties);
        let response = self
            .put(path, json!({"location": location, "properties": props}))
            .await;
        let status = response.status();
        if status != StatusCode::CREATED {
            panic!("create {path}: {status} {}", response.text().await.unwrap());
        }
        self.wait_succeeded(&response).await;
        self.get_json(path).await
    }

    /// Links `secondary` to `primary` (both in [`SUB`]/[`RG`]) and waits for `Succeeded`.
    pub async fn link(&self, primary: &str, secondary: &str) -> Value {
        let response = self.put_link(primary, secondary).await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "link {primary} -> {secondary}"
        );
        self.wait_succeeded(&response).await;
        link_of(self, primary, secondary).await
    }

    /// The `PUT` that links `secondary` to `primary`, without waiting.
    pub async fn put_link(&self, primary: &str, secondary: &str) -> Response {
        self.put(
            &format!("{}/linkedServers/{secondary}", Self::cache_path(primary)),
            link_body(SUB, secondary, "westeurope"),
        )
        .await
    }

    /// The two access keys of a cache.
    pub async fn keys(&self, name: &str) -> (String, String) {
        let keys: Value = self
            .post(&format!("{}/listKeys", Self::cache_path(name)), None)
            .await
            .json()
            .await
            .unwrap();
        (
            keys["primaryKey"].as_str().unwrap().to_owned(),
            keys["secondaryKey"].as_str().unwrap().to_owned(),
        )
    }

    /// A Redis connection to a cache's address (its first primary), with
    /// its primary key.
    pub async fn redis(&self, name: &str) -> redis::aio::MultiplexedConnection {
        let addr = cache_address(self, name).await;
        let (key, _) = self.keys(name).await;
        redis_connection(addr, &key).await
    }
}

impl Server {
    /// A connection to the node at `addr` as the control plane's own user,
    /// with the password the server keeps in its data directory: what an
    /// operator of this machine can do, and an application (an access key)
    /// can't. Only for what the API has no way to do, such as making a full
    /// sync slow.
    pub async fn operator(&self, addr: std::net::SocketAddr) -> redis::aio::MultiplexedConnection {
        let password = std::fs::read_to_string(self.data_dir().join("internal-password"))
            .expect("the internal password file");
        crate::common::connect_as(addr, "georep", password.trim(), Duration::from_secs(2))
            .await
            .unwrap_or_else(|e| panic!("operator connection to {addr}: {e}"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill_server_only();
        for pid in processes_under(&self.data_dir()) {
            // SAFETY-free: plain kill(2) of a process we started, by pid.
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
        }
    }
}

/// Processes whose working directory is inside `dir` (every node runs in its own folder there).
pub fn processes_under(dir: &Path) -> Vec<u32> {
    let Ok(dir) = std::fs::canonicalize(dir) else {
        return vec![];
    };
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    entries
        .filter_map(|e| {
            let e = e.ok()?;
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let cwd = std::fs::read_link(e.path().join("cwd")).ok()?;
            // A node's short-lived forks (e.g. `redis-rdb-to-slaves` streaming
            // a full sync) share its cwd but are not nodes.
            let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
            let program = cmdline.split(|b| *b == 0 || *b == b' ').next()?;
            (cwd.starts_with(&dir) && program.ends_with(b"redis-server")).then_some(pid)
        })
        .collect()
}

/// A cache path in any subscription and group.
pub fn cache_path_in(sub: &str, rg: &str, name: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Cache/redis/{name}")
}

/// The body of a linked-server create naming `secondary` in `sub`/[`RG`].
pub fn link_body(sub: &str, secondary: &str, location: &str) -> Value {
    json!({"properties": {
        "linkedRedisCacheId": format!("/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Cache/Redis/{secondary}"),
        "linkedRedisCacheLocation": location,
        "serverRole": "Secondary"
    }})
}

/// Merges `patch` into `base`, object by object.
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

/// Asserts an ARM error: the status, `error.code`, and a message.
pub async fn assert_arm_error(response: Response, status: StatusCode, code: &str) -> Value {
    let got = response.status();
    let text = response.text().await.unwrap();
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
