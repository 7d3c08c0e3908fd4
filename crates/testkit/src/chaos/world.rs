//! The pair under chaos as the API and the nodes describe it: requests
//! that may be refused while something is busy (409, retried) but never
//! fail (5xx), and the check that everything converged after an event.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use crate::api::{cache_path, link_body};
use crate::redis_client::{connect, Info};
use crate::wait::{self, Poll};
use crate::{Server, API_VERSION};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

/// The resource group of the two caches.
pub const RG: &str = "rg-chaos";
/// How long a request may keep being refused with 409 (something busy).
const BUSY: Duration = Duration::from_secs(90);
/// How long the pair may take to converge after an event.
const CONVERGE: Duration = Duration::from_secs(90);

/// One of the two caches.
#[derive(Clone, Debug)]
pub struct Cache {
    pub name: String,
    pub path: String,
    pub id: String,
    pub location: String,
    /// Its primary access key.
    pub key: String,
}

/// A node as `instances[]` lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instance {
    pub addr: SocketAddr,
    pub is_primary: bool,
}

/// The server, the two caches, and what the test expects of the pair.
pub struct World {
    pub server: Server,
    /// `[a, b]`; the link is always read from `a`'s side.
    pub caches: [Cache; 2],
    /// Which of `caches` is the geo-primary.
    pub primary: usize,
    /// Whether the pair is linked.
    pub linked: bool,
}

/// What a converged pair looks like from outside.
#[derive(Clone, Debug)]
pub struct Converged {
    /// The geo-primary URL, while linked.
    pub geo: Option<SocketAddr>,
    /// The link as `a` sees it, while linked.
    pub link: Option<Value>,
}

impl World {
    /// Two linked Premium P1 caches, one replica each, on `server` (a
    /// fresh one: the chaos owns it, kills it and restarts it).
    pub async fn start(server: Server) -> World {
        let subscription = server
            .api()
            .subscription_ids()
            .await
            .expect("subscriptions")[0]
            .clone();
        let mut caches = Vec::new();
        for (name, location) in [("chaos-a", "westeurope"), ("chaos-b", "northeurope")] {
            let path = cache_path(&subscription, RG, name);
            let cache = server
                .api()
                .create_cache(&path, location, json!({"replicasPerPrimary": 1}))
                .await
                .expect("the cache is created");
            let key = server.api().keys(&path).await.expect("listKeys").0;
            caches.push(Cache {
                name: name.to_owned(),
                path,
                id: cache["id"].as_str().unwrap().to_owned(),
                location: cache["location"].as_str().unwrap().to_owned(),
                key,
            });
        }
        let caches: [Cache; 2] = caches.try_into().unwrap();
        let mut world = World {
            server,
            caches,
            primary: 0,
            linked: false,
        };
        world.link().await;
        world
    }

    pub fn primary(&self) -> &Cache {
        &self.caches[self.primary]
    }

    pub fn secondary(&self) -> &Cache {
        &self.caches[1 - self.primary]
    }

    pub fn keys(&self) -> Vec<String> {
        self.caches.iter().map(|c| c.key.clone()).collect()
    }

    /// Sends a request; retries it while it is refused with 409 (busy);
    /// panics on a 5xx. The first answer that is not a 409.
    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        let what = format!("{method} {path} to be accepted (not 409)");
        let mut refusals = 0u32;
        let response = wait::poll(&what, BUSY, Duration::from_millis(200), || {
            let (method, body) = (method.clone(), body.clone());
            refusals += 1;
            async move {
                let response = self.server.api().request(method.clone(), path, body).await;
                let status = response.status();
                if status.is_server_error() {
                    let text = response.text().await.unwrap_or_default();
                    panic!(
                        "{method} {path} answered {status}: {text}\nthe server's log:\n{}",
                        self.server.log_tail()
                    );
                }
                if status == StatusCode::CONFLICT {
                    let text = response.text().await.unwrap_or_default();
                    Poll::Pending(format!("409 {text}"))
                } else {
                    Poll::Ready(response)
                }
            }
        })
        .await
        .unwrap_or_else(|e| panic!("{e}\nthe server's log:\n{}", self.server.log_tail()));
        if refusals > 1 {
            eprintln!(
                "chaos:   {method} {path} was refused 409 {} time(s) first",
                refusals - 1
            );
        }
        response
    }

    /// Sends a request that starts a long-running operation, expecting
    /// `status`, and waits until the operation succeeds; its status body.
    pub async fn operation(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        status: StatusCode,
    ) -> Value {
        let response = self.send(method.clone(), path, body).await;
        let got = response.status();
        if got != status {
            let text = response.text().await.unwrap_or_default();
            panic!("{method} {path}: expected {status}, got {got}: {text}");
        }
        let op = self
            .server
            .api()
            .wait_operation(&response)
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e:#}"));
        assert_eq!(
            op["status"],
            "Succeeded",
            "{method} {path}: {op}\nthe server's log:\n{}",
            self.server.log_tail()
        );
        op
    }

    /// `GET path`'s status and JSON body (never a 5xx).
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self.send(Method::GET, path, None).await;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// The link's path as `a` sees it.
    fn link_path(&self) -> String {
        format!(
            "{}/linkedServers/{}",
            self.caches[0].path, self.caches[1].name
        )
    }

    /// The link as `a` sees it, if there is one.
    pub async fn link_view(&self) -> Option<Value> {
        let (status, body) = self.get(&self.link_path()).await;
        (status == StatusCode::OK).then_some(body)
    }

    /// Links the secondary to the primary and waits until it succeeds.
    pub async fn link(&mut self) {
        let (primary, secondary) = (self.primary(), self.secondary());
        let path = format!("{}/linkedServers/{}", primary.path, secondary.name);
        let body = link_body(&secondary.id, &secondary.location);
        self.operation(Method::PUT, &path, Some(body), StatusCode::CREATED)
            .await;
        self.linked = true;
    }

    /// Unlinks the pair and waits until it is done.
    pub async fn unlink(&mut self) {
        let (primary, secondary) = (self.primary(), self.secondary());
        let path = format!("{}/linkedServers/{}", primary.path, secondary.name);
        self.operation(Method::DELETE, &path, None, StatusCode::ACCEPTED)
            .await;
        self.linked = false;
    }

    /// Fails over to the secondary (the link created in reverse), planned
    /// or forced, and waits until it succeeds; the link's `lastFailover`.
    pub async fn fail_over(&mut self, forced: bool) -> Value {
        let (primary, secondary) = (self.primary(), self.secondary());
        let kind = if forced { "forced" } else { "planned" };
        let path = format!(
            "{}/linkedServers/{}?api-version={API_VERSION}&x-georep-failover={kind}",
            secondary.path, primary.name
        );
        let body = link_body(&primary.id, &primary.location);
        self.operation(Method::PUT, &path, Some(body), StatusCode::CREATED)
            .await;
        self.primary = 1 - self.primary;
        let link = self.link_view().await.expect("the link after a failover");
        link["properties"]["lastFailover"].clone()
    }

    /// `forceReboot` of `cache`'s nodes of `kind` (`PrimaryNode`, `AllNodes`).
    pub async fn reboot(&self, cache: usize, kind: &str) {
        let path = format!("{}/forceReboot", self.caches[cache].path);
        let response = self
            .send(Method::POST, &path, Some(json!({"rebootType": kind})))
            .await;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert_eq!(status, StatusCode::OK, "POST {path} {kind}: {text}");
    }

    /// The cache's nodes as the API lists them, and its own address.
    pub async fn instances(&self, cache: usize) -> (Vec<Instance>, Option<SocketAddr>, Value) {
        let (_, body) = self.get(&self.caches[cache].path).await;
        let properties = &body["properties"];
        let instances = properties["instances"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| {
                let addr = format!("{}:{}", i["host"].as_str()?, i["nonSslPort"]);
                Some(Instance {
                    addr: addr.parse().ok()?,
                    is_primary: i["isPrimary"] == true,
                })
            })
            .collect();
        let address = properties["hostName"]
            .as_str()
            .and_then(|h| format!("{h}:{}", properties["port"]).parse().ok());
        (instances, address, properties["provisioningState"].clone())
    }

    /// Waits until the pair has converged (see [`World::probe`]).
    pub async fn converge(&self, what: &str) -> Converged {
        let what = format!("the pair to converge after {what}");
        wait::poll(&what, CONVERGE, Duration::from_millis(200), || async {
            match self.probe().await {
                Ok(converged) => Poll::Ready(converged),
                Err(seen) => Poll::Pending(seen),
            }
        })
        .await
        .unwrap_or_else(|e| panic!("{e}\nthe server's log:\n{}", self.server.log_tail()))
    }

    /// One look: the link is `Succeeded` (or gone, while unlinked) with the
    /// roles the test expects; both caches are `Succeeded`; every node the
    /// API lists runs (one process each, and no other node runs), answers,
    /// and has the role the API gives it, replicas following their primary
    /// with the link up; each cache's address and the geo-primary URL reach
    /// the right primary node's process.
    pub async fn probe(&self) -> Result<Converged, String> {
        let mut converged = Converged {
            geo: None,
            link: None,
        };
        let link = self.link_view().await;
        match (&link, self.linked) {
            (Some(link), true) => {
                let properties = &link["properties"];
                if properties["provisioningState"] != "Succeeded" {
                    return Err(format!("link {}", properties["provisioningState"]));
                }
                // `a`'s view names `b`: `b`'s role tells who is primary.
                let b_role = if self.primary == 0 {
                    "Secondary"
                } else {
                    "Primary"
                };
                if properties["serverRole"] != b_role {
                    return Err(format!("b's role is {}", properties["serverRole"]));
                }
                let geo = &properties["geoPrimaryEndpoint"];
                let geo = format!("{}:{}", geo["host"].as_str().unwrap_or("?"), geo["port"]);
                converged.geo = Some(
                    geo.parse()
                        .map_err(|_| format!("geoPrimaryEndpoint {geo}"))?,
                );
            }
            (None, false) => {}
            (Some(_), false) => return Err("the link is still there".into()),
            (None, true) => return Err("no link".into()),
        }
        converged.link = link;

        let mut listed_pids = BTreeSet::new();
        // The primary node of each cache (by index in `caches`).
        let mut primary_nodes: [Option<(SocketAddr, u32)>; 2] = [None, None];
        let mut listed = Vec::new();
        for (cache, primary_node) in primary_nodes.iter_mut().enumerate() {
            let (instances, address, state) = self.instances(cache).await;
            if state != "Succeeded" {
                return Err(format!("{} is {state}", self.caches[cache].name));
            }
            if instances.len() != 2 || instances.iter().filter(|i| i.is_primary).count() != 1 {
                return Err(format!("{} lists {instances:?}", self.caches[cache].name));
            }
            for i in &instances {
                let pid = self
                    .server
                    .node_pid(i.addr)
                    .ok_or_else(|| format!("no single process serves {}", i.addr))?;
                if !listed_pids.insert(pid) {
                    return Err(format!("process {pid} listed twice"));
                }
                if i.is_primary {
                    *primary_node = Some((i.addr, pid));
                }
            }
            listed.push((cache, instances, address));
        }
        let running: BTreeSet<u32> = self.server.node_pids().into_iter().collect();
        if running != listed_pids {
            return Err(format!(
                "redis-server processes {running:?}, the API lists {listed_pids:?}"
            ));
        }

        for (cache, instances, address) in listed {
            let key = &self.caches[cache].key;
            let (own_primary, own_pid) = primary_nodes[cache].unwrap();
            for i in instances {
                let info = node_info(i.addr, key).await?;
                let expected_upstream = match (i.is_primary, self.linked && cache != self.primary) {
                    (true, false) => None,
                    (true, true) => Some(primary_nodes[self.primary].unwrap().0),
                    (false, _) => Some(own_primary),
                };
                check_role(&info, i.addr, expected_upstream)?;
            }
            let address = address.ok_or("no hostName")?;
            let pid = node_info(address, key).await?.number("process_id");
            if pid != Some(u64::from(own_pid)) {
                return Err(format!(
                    "{address} ({}) reaches process {pid:?}, not its primary node {own_pid}",
                    self.caches[cache].name
                ));
            }
        }

        if let Some(geo) = converged.geo {
            let (_, pid) = primary_nodes[self.primary].unwrap();
            let mut reached = None;
            for key in self.keys() {
                if let Ok(info) = node_info(geo, &key).await {
                    reached = Some(info);
                    break;
                }
            }
            let info =
                reached.ok_or_else(|| format!("the geo-primary URL {geo} answers no key"))?;
            if info.get("role") != Some("master") || info.number("process_id") != Some(pid.into()) {
                return Err(format!(
                    "the geo-primary URL {geo} reaches process {:?} ({:?}), not {pid}",
                    info.number("process_id"),
                    info.get("role")
                ));
            }
        }
        Ok(converged)
    }

    /// `kill -9` of the server, and a start on the same data.
    pub fn crash_and_restart(&mut self) {
        crate::killpoint::crash_and_restart(&mut self.server);
    }
}

/// `INFO replication` and `INFO server` of the node at `addr`.
pub async fn node_info(addr: SocketAddr, key: &str) -> Result<Info, String> {
    let mut con = connect(addr, key, Duration::from_secs(1))
        .await
        .map_err(|e| format!("{addr}: {e}"))?;
    let text: String = redis::cmd("INFO")
        .arg("replication")
        .arg("server")
        .query_async(&mut con)
        .await
        .map_err(|e| format!("INFO at {addr}: {e}"))?;
    Ok(Info(text))
}

/// The node is a primary (`upstream` `None`), or a replica of `upstream`
/// whose link is up.
pub fn check_role(
    info: &Info,
    addr: SocketAddr,
    upstream: Option<SocketAddr>,
) -> Result<(), String> {
    let role = info.get("role");
    match upstream {
        None if role == Some("master") => Ok(()),
        None => Err(format!("{addr} is {role:?}, not master")),
        Some(upstream) => {
            let host = info.get("master_host");
            let link = info.get("master_link_status");
            if role == Some("slave")
                && host == Some(upstream.ip().to_string().as_str())
                && link == Some("up")
            {
                Ok(())
            } else {
                Err(format!(
                    "{addr} is {role:?} of {host:?} (link {link:?}), not a replica of {upstream}"
                ))
            }
        }
    }
}
