//! The benchmark's `georep-server` (through `georep-testkit`: release
//! build, its own home under `target/bench/run/`, a free port) and the
//! ARM operations the benchmarks make on it.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use georep_testkit::api::{link_body, success_json, API_VERSION};
use georep_testkit::wait::{self, Poll};
use georep_testkit::Server;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::say;

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

/// A running `georep-server` and the subscription the benchmarks use.
pub struct Arm {
    server: Server,
    subscription: String,
}

impl Arm {
    /// Starts `binary` on a free port in `home` (created fresh) with the
    /// console in `static_dir`, and waits until it answers.
    pub async fn start(binary: &Path, home: &Path, static_dir: Option<&Path>) -> Result<Arm> {
        let mut builder = Server::builder()
            .binary(binary)
            .home(home)
            .startup_timeout(START_TIMEOUT)
            .shutdown_timeout(STOP_TIMEOUT);
        if let Some(dir) = static_dir {
            builder = builder.static_dir(dir);
        }
        say(format!(
            "$ {} --listen 127.0.0.1:0 --data-dir {}{}",
            binary.display(),
            home.join("data").display(),
            static_dir.map_or(String::new(), |d| format!(" --static-dir {}", d.display()))
        ));
        let server = builder.start().context("cannot start georep-server")?;
        let subscription = server
            .subscription_ids()
            .await?
            .into_iter()
            .next()
            .context("the server lists no subscription")?;
        say(format!("    georep-server is serving on {}", server.base()));
        Ok(Arm {
            server,
            subscription,
        })
    }

    /// The console's login URL.
    pub fn login_url(&self) -> String {
        self.server.login_url()
    }

    /// The server's log.
    pub fn log_path(&self) -> std::path::PathBuf {
        self.server.log_path()
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

    /// `GET path`, timed until its whole body is read; fails unless the
    /// answer is a 2xx.
    pub async fn timed_get(&self, path: &str) -> Result<Duration> {
        let started = Instant::now();
        let response = self.server.send(Method::GET, path, None).await?;
        let status = response.status();
        // The body is part of the answer: read it all before stopping the clock.
        let body = response.bytes().await?;
        let elapsed = started.elapsed();
        if !status.is_success() {
            bail!("GET {path}: {status} {}", String::from_utf8_lossy(&body));
        }
        Ok(elapsed)
    }

    /// `GET path` as JSON; fails unless the answer is a 2xx.
    pub async fn get(&self, path: &str) -> Result<Value> {
        self.server.call(Method::GET, path, None).await
    }

    /// Starts creating a cache; [`Arm::wait_until_running`] waits for it.
    pub async fn create_cache(&self, name: &str, location: &str, tier: Tier) -> Result<()> {
        let mut properties = match tier {
            Tier::Basic => json!({"sku": {"name": "Basic", "family": "C", "capacity": 0}}),
            Tier::Premium => json!({"sku": {"name": "Premium", "family": "P", "capacity": 1},
                                    "replicasPerPrimary": 1, "shardCount": 0}),
        };
        properties["redisVersion"] = json!("6");
        // redis-benchmark and the bench's writers are plain clients.
        properties["enableNonSslPort"] = json!(true);
        let body = json!({"location": location, "properties": properties});
        self.server
            .call(Method::PUT, &self.cache_path(name, ""), Some(&body))
            .await
            .with_context(|| format!("creating cache {name}"))?;
        Ok(())
    }

    /// Waits until every cache named is `Succeeded`.
    pub async fn wait_until_running(&self, names: &[&str], timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        for name in names {
            let left = deadline.saturating_duration_since(Instant::now());
            let what = format!("cache {name} to run");
            wait::poll(&what, left, Duration::from_millis(100), || async {
                match self.cache(name).await {
                    Err(e) => Poll::Ready(Err(e)),
                    Ok(cache) => match cache["properties"]["provisioningState"].as_str() {
                        Some("Succeeded") => Poll::Ready(Ok(())),
                        Some("Failed") => {
                            Poll::Ready(Err(anyhow::anyhow!("cache {name} failed to start")))
                        }
                        state => Poll::Pending(format!("{state:?}")),
                    },
                }
            })
            .await??;
        }
        Ok(())
    }

    /// A cache's resource.
    pub async fn cache(&self, name: &str) -> Result<Value> {
        self.get(&self.cache_path(name, "")).await
    }

    /// The address of a cache's (first) primary node: its `hostName` and
    /// `port`.
    pub async fn node_addr(&self, name: &str) -> Result<SocketAddr> {
        let cache = self.cache(name).await?;
        let host = cache["properties"]["hostName"]
            .as_str()
            .with_context(|| format!("cache {name} has no hostName"))?;
        let port = cache["properties"]["port"]
            .as_u64()
            .with_context(|| format!("cache {name} has no port"))?;
        format!("{host}:{port}")
            .parse()
            .with_context(|| format!("cache {name}'s address {host}:{port}"))
    }

    /// A cache's nodes as its `instances[]` list them: each one's own
    /// address (`host`, `nonSslPort`) and whether it is a primary.
    pub async fn instances(&self, name: &str) -> Result<Vec<(SocketAddr, bool)>> {
        let cache = self.cache(name).await?;
        let instances = cache["properties"]["instances"]
            .as_array()
            .with_context(|| format!("cache {name} lists no instances"))?;
        instances
            .iter()
            .map(|i| {
                let host = i["host"]
                    .as_str()
                    .with_context(|| format!("an instance of {name} has no host: {i}"))?;
                let port = i["nonSslPort"].as_u64().unwrap_or(6379);
                let addr = format!("{host}:{port}")
                    .parse()
                    .with_context(|| format!("instance address {host}:{port}"))?;
                Ok((addr, i["isPrimary"] == true))
            })
            .collect()
    }

    /// The own address of a cache's (first) primary node.
    pub async fn primary_instance(&self, name: &str) -> Result<SocketAddr> {
        self.instances(name)
            .await?
            .into_iter()
            .find_map(|(addr, primary)| primary.then_some(addr))
            .with_context(|| format!("cache {name} lists no primary instance"))
    }

    /// The `redis-server` serving the node whose own address is `addr`.
    pub fn node_pid(&self, addr: SocketAddr) -> Option<u32> {
        self.server.node_pid(addr)
    }

    /// The API client (kept-alive connections, the token).
    pub fn api(&self) -> &georep_testkit::Api {
        self.server.api()
    }

    /// The path listing a cache's links (`GET …/linkedServers`).
    pub fn links_path(&self, name: &str) -> String {
        self.cache_path(name, "/linkedServers")
    }

    /// A cache's primary access key.
    pub async fn primary_key(&self, name: &str) -> Result<String> {
        let (primary, _) = self.server.keys(&self.cache_id(name)).await?;
        Ok(primary)
    }

    /// `PUT {primary}/linkedServers/{secondary}` naming `secondary` as the
    /// geo-secondary: a new link, or (the other way round) a planned
    /// failover, which is how ARM clients ask for one.
    pub async fn put_link(
        &self,
        primary: &str,
        secondary: &str,
        secondary_location: &str,
    ) -> Result<()> {
        let body = link_body(&self.cache_id(secondary), secondary_location);
        let path = self.cache_path(primary, &format!("/linkedServers/{secondary}"));
        self.server
            .call(Method::PUT, &path, Some(&body))
            .await
            .with_context(|| format!("PUT {primary}/linkedServers/{secondary}"))?;
        Ok(())
    }

    /// The link as `cache` sees it (`None` once it is gone).
    pub async fn link(&self, cache: &str, peer: &str) -> Result<Option<Value>> {
        let path = self.cache_path(cache, &format!("/linkedServers/{peer}"));
        let response = self.server.send(Method::GET, &path, None).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        success_json(response)
            .await
            .with_context(|| format!("GET {path}"))
            .map(Some)
    }

    /// Polls the link every `every` until its `provisioningState` is
    /// `Succeeded`; returns the link.
    pub async fn wait_for_link(
        &self,
        cache: &str,
        peer: &str,
        every: Duration,
        timeout: Duration,
    ) -> Result<Value> {
        let what = format!("the link {cache} ↔ {peer} to succeed");
        wait::poll(&what, timeout, every, || async {
            let link = match self.link(cache, peer).await {
                Ok(Some(link)) => link,
                Ok(None) => {
                    return Poll::Ready(Err(anyhow::anyhow!("the link {cache} ↔ {peer} is gone")))
                }
                Err(e) => return Poll::Ready(Err(e)),
            };
            match link["properties"]["provisioningState"].as_str() {
                Some("Succeeded") => Poll::Ready(Ok(link)),
                Some("Failed") => {
                    Poll::Ready(Err(anyhow::anyhow!("the link {cache} ↔ {peer} failed")))
                }
                state => Poll::Pending(format!("{state:?}")),
            }
        })
        .await?
    }

    /// Polls `cache`'s link to `peer` every `every` until it is
    /// `Succeeded` with `peer` as its geo-secondary (after a failover: the
    /// roles swapped).
    pub async fn wait_for_roles(
        &self,
        cache: &str,
        peer: &str,
        every: Duration,
        timeout: Duration,
    ) -> Result<()> {
        let what = format!("{cache} to be the geo-primary of {peer}, Succeeded");
        wait::poll(&what, timeout, every, || async {
            let link = match self.link(cache, peer).await {
                Ok(Some(link)) => link,
                Ok(None) => {
                    return Poll::Ready(Err(anyhow::anyhow!("the link {cache} ↔ {peer} is gone")))
                }
                Err(e) => return Poll::Ready(Err(e)),
            };
            let properties = &link["properties"];
            match (
                properties["provisioningState"].as_str(),
                properties["serverRole"].as_str(),
            ) {
                (Some("Succeeded"), Some("Secondary")) => Poll::Ready(Ok(())),
                (Some("Failed"), _) => {
                    Poll::Ready(Err(anyhow::anyhow!("the link {cache} ↔ {peer} failed")))
                }
                seen => Poll::Pending(format!("{seen:?}")),
            }
        })
        .await?
    }

    /// Deletes a cache (it stops its nodes).
    pub async fn delete_cache(&self, name: &str) -> Result<()> {
        self.server
            .call(Method::DELETE, &self.cache_path(name, ""), None)
            .await?;
        Ok(())
    }

    /// Unlinks `primary` from `secondary` and waits until the link is gone.
    pub async fn unlink(&self, primary: &str, secondary: &str) -> Result<()> {
        let path = self.cache_path(primary, &format!("/linkedServers/{secondary}"));
        self.server.call(Method::DELETE, &path, None).await?;
        let what = format!("{primary} and {secondary} to be unlinked");
        wait::poll(
            &what,
            Duration::from_secs(120),
            Duration::from_millis(200),
            || async {
                match self.link(primary, secondary).await {
                    Ok(None) => Poll::Ready(Ok(())),
                    Ok(Some(_)) => Poll::Pending("still linked".into()),
                    Err(e) => Poll::Ready(Err(e)),
                }
            },
        )
        .await??;
        Ok(())
    }

    /// Stops the server gracefully (it saves and stops its nodes); whatever
    /// still runs in its data directory is killed when it is dropped.
    pub fn stop(mut self) {
        if self.server.terminate().is_none() {
            say("    georep-server had already stopped");
        }
        let left = self.server.node_pids();
        if !left.is_empty() {
            say(format!("    ending leftover node processes {left:?}"));
        }
    }
}
