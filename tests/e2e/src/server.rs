//! The real `georep-server` binary with its `--demo` fleet, serving the
//! built console, on a free port and a temporary data directory.
//!
//! Dropping a [`Server`] stops it with SIGTERM and waits: the server saves
//! and stops its Redis nodes itself. Anything still running in its data
//! directory afterwards is killed by pid.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

use crate::process;
use crate::wait::{self, Poll};
use crate::workspace;

/// The ARM api-version the harness speaks.
const API_VERSION: &str = "2024-11-01";
/// How long the server may take to start and seed the demo fleet.
const STARTUP: Duration = Duration::from_secs(120);
/// How long it may take to save and stop its nodes.
const SHUTDOWN: Duration = Duration::from_secs(90);

/// A running `georep-server --demo`.
pub struct Server {
    child: Option<Child>,
    base: String,
    login_url: String,
    token: String,
    http: reqwest::Client,
    // Last, so the directory outlives the process that writes in it.
    data: TempDir,
}

/// A cache as the API describes it, reduced to what the walkthrough needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cache {
    /// Its ARM resource id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// `hostName:port` of its first shard primary.
    pub address: String,
    /// `properties.provisioningState`.
    pub provisioning_state: String,
}

impl Cache {
    fn from_arm(resource: &Value) -> Self {
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        let props = &resource["properties"];
        Cache {
            id: text(&resource["id"]),
            name: text(&resource["name"]),
            address: format!("{}:{}", text(&props["hostName"]), props["port"]),
            provisioning_state: text(&props["provisioningState"]),
        }
    }
}

impl Server {
    /// Starts the server binary with `--demo`, serving `static_dir`, and
    /// waits for its login URL.
    pub fn start(static_dir: &Path) -> Server {
        let bin = workspace::server_binary();
        let data = TempDir::with_prefix("georep-e2e-").expect("a temporary data directory");
        let log = File::create(data.path().join("server.log")).expect("the server log");
        let mut child = Command::new(&bin)
            .arg("--demo")
            .arg("--static-dir")
            .arg(static_dir)
            .arg("--data-dir")
            .arg(data.path().join("data"))
            // Port 0: the kernel picks a free port, and the server prints it.
            .args(["--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{} does not start: {e}", bin.display()));
        let login_url = read_login_url(&mut child);
        let mut server = Server {
            child: Some(child),
            base: String::new(),
            token: String::new(),
            login_url: String::new(),
            http: reqwest::Client::new(),
            data,
        };
        let Some(login_url) = login_url else {
            server.stop();
            panic!(
                "georep-server printed no login URL; its log:\n{}",
                server.log_tail()
            );
        };
        let (base, token) = login_url
            .split_once("/#token=")
            .expect("the login URL carries the token in its fragment");
        server.base = base.to_owned();
        server.token = token.to_owned();
        server.login_url = login_url;
        server
    }

    /// `http://127.0.0.1:PORT/#token=…`, as printed.
    pub fn login_url(&self) -> &str {
        &self.login_url
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The server's log so far, last lines only, without the line per
    /// request.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.data.path().join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = log
            .lines()
            .filter(|line| !line.contains("finished processing request"))
            .collect();
        lines[lines.len().saturating_sub(80)..].join("\n")
    }

    fn data_dir(&self) -> PathBuf {
        self.data.path().join("data")
    }

    async fn call(&self, method: reqwest::Method, path_and_query: &str) -> Value {
        let url = format!("{}{path_and_query}", self.base);
        let response = self
            .http
            .request(method, &url)
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{path_and_query}: {status}: {body}");
        body
    }

    /// Every cache in every subscription.
    pub async fn caches(&self) -> Vec<Cache> {
        let subscriptions = self
            .call(
                reqwest::Method::GET,
                "/subscriptions?api-version=2022-12-01",
            )
            .await;
        let mut caches = Vec::new();
        for subscription in subscriptions["value"].as_array().into_iter().flatten() {
            let id = subscription["subscriptionId"].as_str().unwrap_or_default();
            let list = self
                .call(
                    reqwest::Method::GET,
                    &format!(
                        "/subscriptions/{id}/providers/Microsoft.Cache/redis?api-version={API_VERSION}"
                    ),
                )
                .await;
            caches.extend(
                list["value"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(Cache::from_arm),
            );
        }
        caches
    }

    /// The cache called `name`.
    pub async fn cache(&self, name: &str) -> Cache {
        self.caches()
            .await
            .into_iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("the API lists no cache {name}"))
    }

    /// Waits until the demo fleet is seeded and every cache is running;
    /// returns the caches.
    pub async fn wait_for_fleet(&self) -> Vec<Cache> {
        wait::until("every demo cache to be Succeeded", STARTUP, || async {
            let caches = self.caches().await;
            let states: Vec<_> = caches
                .iter()
                .map(|c| format!("{}: {}", c.name, c.provisioning_state))
                .collect();
            let ready =
                caches.len() > 1 && caches.iter().all(|c| c.provisioning_state == "Succeeded");
            Poll::from_option(ready.then_some(caches), states)
        })
        .await
    }

    /// A cache's primary access key, from the API's `listKeys` (called
    /// with the token, as any API client would).
    pub async fn access_key(&self, cache: &Cache) -> String {
        let keys = self
            .call(
                reqwest::Method::POST,
                &format!("{}/listKeys?api-version={API_VERSION}", cache.id),
            )
            .await;
        keys["primaryKey"]
            .as_str()
            .expect("listKeys returns a primaryKey")
            .to_owned()
    }

    /// Stops the server with SIGTERM, waits for it to save and stop its
    /// nodes, and asserts it exited cleanly and left no node running.
    pub fn shutdown(mut self) {
        let status = self.stop();
        assert!(
            status.is_some_and(|s| s.success()),
            "georep-server did not stop cleanly ({status:?}); its log:\n{}",
            self.log_tail()
        );
        let left = process::working_in(&self.data_dir());
        assert!(
            left.is_empty(),
            "georep-server left nodes running: pids {left:?}"
        );
    }

    fn stop(&mut self) -> Option<std::process::ExitStatus> {
        let status = self
            .child
            .take()
            .and_then(|mut child| process::terminate(&mut child, SHUTDOWN));
        // Nodes of a server that had to be killed.
        for pid in process::working_in(&self.data_dir()) {
            process::signal(pid, libc::SIGKILL);
        }
        status
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.child.is_none() {
            return;
        }
        if std::thread::panicking() {
            eprintln!("georep-server's log (last lines):\n{}", self.log_tail());
        }
        self.stop();
    }
}

/// Reads the server's stdout until `Open the console: URL`; the rest of its
/// output is drained in the background so the server never blocks on it.
fn read_login_url(child: &mut Child) -> Option<String> {
    let stdout = child.stdout.take()?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("Open the console: ") {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        }
    });
    rx.recv_timeout(STARTUP).ok()
}
