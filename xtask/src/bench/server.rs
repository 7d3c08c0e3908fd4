//! A `georep-server` of our own (release build, its own data directory,
//! a free port) and a small client for its ARM API.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::cmd::{say, Cmd};

/// The API version every request names.
const API_VERSION: &str = "2024-11-01";
/// The resource group every benchmark cache lives in.
pub const GROUP: &str = "bench";
/// How long the server may take to start (it starts no nodes when fresh).
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a graceful stop may take: the server saves every node first.
const STOP_TIMEOUT: Duration = Duration::from_secs(120);

/// The size and kind of a cache to create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// Basic C0: one node.
    Basic,
    /// Premium P1 with one replica: two nodes, and geo-replication.
    Premium,
}

/// A running `georep-server`, stopped (with its nodes) when dropped.
pub struct Server {
    child: Child,
    data_dir: PathBuf,
    base: String,
    token: String,
    subscription: String,
    agent: ureq::Agent,
}

impl Server {
    /// Starts `binary` on a free port with `data_dir` (created fresh) and
    /// the console in `static_dir`, and waits until it answers.
    pub fn start(binary: &Path, data_dir: &Path, static_dir: Option<&Path>) -> Result<Server> {
        std::fs::create_dir_all(data_dir)?;
        let data_dir = data_dir.canonicalize()?;
        let log = std::fs::File::create(data_dir.join("server.log"))?;
        let mut command = Command::new(binary);
        command
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&data_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log);
        if let Some(dir) = static_dir {
            command.arg("--static-dir").arg(dir);
        }
        say(format!(
            "$ {} --listen 127.0.0.1:0 --data-dir {}{}",
            binary.display(),
            data_dir.display(),
            static_dir.map_or(String::new(), |d| format!(" --static-dir {}", d.display()))
        ));
        let mut child = command.spawn().context("cannot start georep-server")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (lines, received) = mpsc::channel();
        // Keeps draining stdout for as long as the server runs.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // Once nobody listens, keep reading so the server never blocks.
                let _ = lines.send(line);
            }
        });
        let mut server = Server {
            child,
            data_dir: data_dir.clone(),
            base: String::new(),
            token: String::new(),
            subscription: String::new(),
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(120)))
                .build()
                .into(),
        };
        let deadline = Instant::now() + START_TIMEOUT;
        while server.base.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = received.recv_timeout(left).with_context(|| {
                format!(
                    "georep-server did not say where it listens (see {})",
                    data_dir.join("server.log").display()
                )
            })?;
            if let Some(address) = line.strip_prefix("georep-server listening on ") {
                server.base = address.trim().to_owned();
            }
        }
        server.token = std::fs::read_to_string(data_dir.join("api-token"))
            .context("reading the API token")?
            .trim()
            .to_owned();
        let subscriptions = server.get("/subscriptions?api-version=2022-12-01")?;
        server.subscription = subscriptions["value"][0]["subscriptionId"]
            .as_str()
            .context("the server lists no subscription")?
            .to_owned();
        say(format!("    georep-server is serving on {}", server.base));
        Ok(server)
    }

    /// The server's base URL, e.g. `http://127.0.0.1:40123`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The API token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The ARM id of the benchmark cache `name`.
    pub fn cache_id(&self, name: &str) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{GROUP}/providers/Microsoft.Cache/Redis/{name}",
            self.subscription
        )
    }

    /// The path that lists every cache of the subscription.
    pub fn list_path(&self) -> String {
        format!(
            "/subscriptions/{}/providers/Microsoft.Cache/redis?api-version={API_VERSION}",
            self.subscription
        )
    }

    /// The path of the candidates extension for `primary`.
    pub fn candidates_path(&self, primary: &str) -> String {
        format!("/x-georep/candidates?primary={}", self.cache_id(primary))
    }

    fn cache_path(&self, name: &str, rest: &str) -> String {
        let separator = if rest.contains('?') { '&' } else { '?' };
        format!(
            "{}{rest}{separator}api-version={API_VERSION}",
            self.cache_id(name)
        )
    }

    /// `GET path`, timed; fails unless the answer is a 2xx.
    pub fn timed_get(&self, path: &str) -> Result<Duration> {
        let started = Instant::now();
        let mut response = self
            .agent
            .get(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {}", self.token))
            .call()?;
        // The body is part of the answer: read it all before stopping the clock.
        let body = response
            .body_mut()
            .with_config()
            .limit(u64::MAX)
            .read_to_vec()?;
        let elapsed = started.elapsed();
        if !response.status().is_success() {
            bail!(
                "GET {path}: {} {}",
                response.status(),
                String::from_utf8_lossy(&body)
            );
        }
        Ok(elapsed)
    }

    /// `GET path` as JSON; fails unless the answer is a 2xx.
    pub fn get(&self, path: &str) -> Result<Value> {
        self.send("GET", path, None).and_then(success)
    }

    /// Sends a request and returns the status and the JSON body (`null`
    /// when empty), whatever the status.
    fn send(&self, method: &str, path: &str, body: Option<&Value>) -> Result<(u16, Value)> {
        let url = format!("{}{path}", self.base);
        let auth = format!("Bearer {}", self.token);
        let response = match (method, body) {
            ("GET", _) => self.agent.get(&url).header("Authorization", &auth).call(),
            ("DELETE", _) => self
                .agent
                .delete(&url)
                .header("Authorization", &auth)
                .call(),
            ("PUT", Some(body)) => self
                .agent
                .put(&url)
                .header("Authorization", &auth)
                .send_json(body),
            ("POST", body) => self
                .agent
                .post(&url)
                .header("Authorization", &auth)
                .send_json(body.cloned().unwrap_or_else(|| json!({}))),
            _ => bail!("unsupported request {method} {path}"),
        };
        let mut response = response.with_context(|| format!("{method} {path}"))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(u64::MAX)
            .read_to_string()?;
        let value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)
                .with_context(|| format!("{method} {path} answered {status} with non-JSON"))?
        };
        Ok((status, value))
    }

    /// Starts creating a cache; [`Server::wait_until_running`] waits for it.
    pub fn create_cache(&self, name: &str, location: &str, tier: Tier) -> Result<()> {
        let sku = match tier {
            Tier::Basic => json!({"sku": {"name": "Basic", "family": "C", "capacity": 0}}),
            Tier::Premium => json!({"sku": {"name": "Premium", "family": "P", "capacity": 1},
                                    "replicasPerPrimary": 1, "shardCount": 0}),
        };
        let mut properties = sku;
        properties["redisVersion"] = json!("6");
        let body = json!({"location": location, "properties": properties});
        let path = self.cache_path(name, "");
        self.send("PUT", &path, Some(&body))
            .and_then(success)
            .with_context(|| format!("creating cache {name}"))?;
        Ok(())
    }

    /// Waits until every cache named is `Succeeded`.
    pub fn wait_until_running(&self, names: &[&str], timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        for name in names {
            loop {
                let cache = self.cache(name)?;
                match cache["properties"]["provisioningState"].as_str() {
                    Some("Succeeded") => break,
                    Some("Failed") => bail!("cache {name} failed to start"),
                    _ if Instant::now() > deadline => {
                        bail!("cache {name} was not running after {timeout:?}")
                    }
                    _ => std::thread::sleep(Duration::from_millis(100)),
                }
            }
        }
        Ok(())
    }

    /// A cache's resource.
    pub fn cache(&self, name: &str) -> Result<Value> {
        self.get(&self.cache_path(name, ""))
    }

    /// The address of a cache's (first) primary node.
    pub fn node_addr(&self, name: &str) -> Result<SocketAddr> {
        let cache = self.cache(name)?;
        let port = cache["properties"]["port"]
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .with_context(|| format!("cache {name} has no port"))?;
        Ok(SocketAddr::from(([127, 0, 0, 1], port)))
    }

    /// A cache's primary access key.
    pub fn primary_key(&self, name: &str) -> Result<String> {
        let path = self.cache_path(name, "/listKeys");
        let keys = self.send("POST", &path, None).and_then(success)?;
        Ok(keys["primaryKey"]
            .as_str()
            .with_context(|| format!("no primaryKey for {name}"))?
            .to_owned())
    }

    /// `PUT {primary}/linkedServers/{secondary}` naming `secondary` as the
    /// geo-secondary: a new link, or (the other way round) a planned
    /// failover, which is how ARM clients ask for one.
    pub fn put_link(&self, primary: &str, secondary: &str, secondary_location: &str) -> Result<()> {
        let body = json!({"properties": {
            "linkedRedisCacheId": self.cache_id(secondary),
            "linkedRedisCacheLocation": secondary_location,
            "serverRole": "Secondary",
        }});
        let path = self.cache_path(primary, &format!("/linkedServers/{secondary}"));
        self.send("PUT", &path, Some(&body))
            .and_then(success)
            .with_context(|| format!("PUT {primary}/linkedServers/{secondary}"))?;
        Ok(())
    }

    /// The link as `cache` sees it (`None` once it is gone).
    pub fn link(&self, cache: &str, peer: &str) -> Result<Option<Value>> {
        let path = self.cache_path(cache, &format!("/linkedServers/{peer}"));
        match self.send("GET", &path, None)? {
            (404, _) => Ok(None),
            answer => success(answer).map(Some),
        }
    }

    /// Polls the link every `every` until its `provisioningState` is
    /// `Succeeded`; returns the link.
    pub fn wait_for_link(
        &self,
        cache: &str,
        peer: &str,
        every: Duration,
        timeout: Duration,
    ) -> Result<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let link = self
                .link(cache, peer)?
                .with_context(|| format!("the link {cache} ↔ {peer} is gone"))?;
            match link["properties"]["provisioningState"].as_str() {
                Some("Succeeded") => return Ok(link),
                Some("Failed") => bail!("the link {cache} ↔ {peer} failed"),
                _ if Instant::now() > deadline => {
                    bail!("the link {cache} ↔ {peer} did not succeed within {timeout:?}")
                }
                _ => std::thread::sleep(every),
            }
        }
    }

    /// Unlinks, waits until the link is gone, then deletes both caches (to
    /// give their memory back); best effort.
    pub fn remove_pair(&self, primary: &str, secondary: &str) -> Result<()> {
        let path = self.cache_path(primary, &format!("/linkedServers/{secondary}"));
        self.send("DELETE", &path, None).and_then(success)?;
        let deadline = Instant::now() + Duration::from_secs(120);
        while self.link(primary, secondary)?.is_some() {
            if Instant::now() > deadline {
                bail!("unlinking {primary} and {secondary} took over 2 minutes");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        for name in [primary, secondary] {
            self.send("DELETE", &self.cache_path(name, ""), None)
                .and_then(success)?;
        }
        Ok(())
    }

    /// Stops the server gracefully (it saves and stops its nodes), then
    /// ends any node still running from its data directory.
    fn stop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let pid = self.child.id().to_string();
            let _ = Cmd::new("kill").args(["-TERM", &pid]).probe();
            let deadline = Instant::now() + STOP_TIMEOUT;
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
            }
            if matches!(self.child.try_wait(), Ok(None)) {
                say("    georep-server did not stop in time; killing it");
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
        for pid in processes_in(&self.data_dir) {
            say(format!("    ending leftover node process {pid}"));
            let _ = Cmd::new("kill").args(["-KILL", &pid.to_string()]).probe();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Turns an answer into its JSON, or an error naming the status and the
/// ARM error message.
fn success((status, body): (u16, Value)) -> Result<Value> {
    if (200..300).contains(&status) {
        return Ok(body);
    }
    let code = body["error"]["code"].as_str().unwrap_or("?");
    let message = body["error"]["message"].as_str().unwrap_or("");
    bail!("HTTP {status} {code}: {message}")
}

/// The processes whose working directory is inside `dir`: the nodes a
/// server started there (each `redis-server` runs in its node directory).
pub fn processes_in(dir: &Path) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let cwd = std::fs::read_link(entry.path().join("cwd")).ok()?;
            (cwd.starts_with(dir) && pid != std::process::id()).then_some(pid)
        })
        .collect()
}
