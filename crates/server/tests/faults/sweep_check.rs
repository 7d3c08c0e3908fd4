//! What every kill-point sweep of a cache operation shares: the kill
//! points, following an operation across a restart, and the check that a
//! cache converged — its state settled, every node's role as the API says,
//! its address on its primary node's process, and the processes running
//! exactly the nodes the API lists (none twice, none unlisted).

use std::net::SocketAddr;
use std::time::Duration;

use georep_testkit::chaos::{check_role, node_info};
pub use georep_testkit::killpoint::send_detached;
use georep_testkit::killpoint::{self, KillPoint};
use georep_testkit::wait::{self, Poll};
use georep_testkit::Server;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::time::Instant;

use crate::support::*;

/// Evenly spaced kill points per operation, over its first [`SPREAD`].
pub const POINTS: u32 = 10;
pub const SPREAD: Duration = Duration::from_millis(500);
/// How long a cache may take to settle after a restart.
const SETTLE: Duration = Duration::from_secs(90);

/// The sweep of an operation whose log names `steps`.
pub fn points(steps: &[(&'static str, usize)]) -> Vec<KillPoint> {
    killpoint::sweep(steps, POINTS, SPREAD)
}

/// A fresh server that logs every node's steps (started, stopped, keys
/// applied), which the sweeps kill at.
pub fn logging_server() -> Server {
    Server::builder()
        .binary(env!("CARGO_BIN_EXE_georep-server"))
        .env("RUST_LOG", "info")
        .start()
        .expect("the server starts")
}

/// Kills the server at `point` of an operation asked for at `asked` (its
/// log counted from `mark`), and starts it again.
pub async fn crash_at(server: &mut Server, point: &KillPoint, mark: u64, asked: Instant) {
    if let Err(e) = killpoint::crash_at(server, point, mark, asked).await {
        panic!("{point}: {e}");
    }
}

/// The path of an operation-status URL the server gave (its port may have
/// changed since: a restart listens elsewhere).
fn status_path(url: &str) -> &str {
    let from = url.find("/subscriptions/").unwrap_or(0);
    &url[from..]
}

/// Follows the operation whose `Azure-AsyncOperation` URL is `url` until it
/// is no longer `InProgress`; its status body.
pub async fn operation_end(server: &Server, url: &str) -> Value {
    let path = status_path(url).to_owned();
    wait::until(&format!("{path} to end"), SETTLE, || async {
        let response = server.api().get(&path).await;
        let status = response.status();
        assert!(!status.is_server_error(), "{path}: {status}");
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if body["status"] == "InProgress" || body.is_null() {
            Poll::Pending(body.to_string())
        } else {
            Poll::Ready(body)
        }
    })
    .await
}

/// The status URL of the operation a response started: its
/// `Azure-AsyncOperation`, or for a cache delete (which, as on Azure, names
/// only its `operationResults` in `Location`) the status beside it.
pub fn operation_url(response: &reqwest::Response) -> String {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    header("azure-asyncoperation")
        .or_else(|| {
            header("location").map(|l| l.replace("/operationResults/", "/asyncOperations/"))
        })
        .expect("an operation's status URL")
}

/// Deletes the cache at `path` and waits until the operation succeeded.
pub async fn delete_cache(server: &Server, path: &str) {
    let response = server.api().delete(path).await;
    let status = response.status();
    assert_eq!(status, StatusCode::ACCEPTED, "DELETE {path}");
    let op = operation_end(server, &operation_url(&response)).await;
    assert_eq!(op["status"], "Succeeded", "DELETE {path}: {op}");
}

/// Every node of every cache of the server's subscription, as the API
/// lists them.
pub async fn all_nodes(server: &Server) -> Vec<SocketAddr> {
    let subscription = subscription(server).await;
    let caches = server
        .api()
        .caches_in(&subscription)
        .await
        .expect("the caches");
    let mut nodes = Vec::new();
    for cache in caches {
        let path = cache["id"].as_str().unwrap_or_default().to_owned();
        nodes.extend(instances(server, &path).await.into_iter().map(|(a, _)| a));
    }
    nodes
}

/// One look at a standalone cache: its state settled (`Succeeded` or
/// `Failed`), every node the API lists answering `key` with the role the
/// API gives it (replicas following the primary, link up), the cache's
/// address reaching the primary node's process, and the processes exactly
/// the listed nodes of the whole server. The cache's resource.
async fn probe(server: &Server, path: &str, key: &str) -> Result<Value, String> {
    let response = server.api().get(path).await;
    let status = response.status();
    if status.is_server_error() {
        panic!("GET {path}: {status}");
    }
    let cache: Value = response.json().await.map_err(|e| e.to_string())?;
    let state = &cache["properties"]["provisioningState"];
    if state != "Succeeded" && state != "Failed" {
        return Err(format!("{path} is {state}"));
    }
    let nodes = instances(server, path).await;
    let primaries: Vec<SocketAddr> = nodes.iter().filter(|(_, p)| *p).map(|(a, _)| *a).collect();
    let [primary] = primaries[..] else {
        return Err(format!("{path} lists {nodes:?}"));
    };
    for (addr, is_primary) in &nodes {
        let info = node_info(*addr, key).await?;
        check_role(&info, *addr, (!is_primary).then_some(primary))?;
    }
    let pid = server
        .node_pid(primary)
        .ok_or_else(|| format!("no single process serves {primary}"))?;
    let reached = node_info(address(server, path).await, key).await?;
    if reached.number("process_id") != Some(u64::from(pid)) {
        return Err(format!(
            "{path}'s address reaches process {:?}, not its primary node {pid}",
            reached.number("process_id")
        ));
    }
    killpoint::processes_match(server, &all_nodes(server).await)?;
    Ok(cache)
}

/// Waits until [`probe`] holds for the cache at `path` with `key`; its
/// resource.
pub async fn settled(server: &Server, path: &str, key: &str) -> Value {
    wait::poll(
        &format!("{path} to converge"),
        SETTLE,
        Duration::from_millis(200),
        || async {
            match probe(server, path, key).await {
                Ok(cache) => Poll::Ready(cache),
                Err(seen) => Poll::Pending(seen),
            }
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}\nthe server's log:\n{}", server.log_tail()))
}

/// A follow-up operation on a converged cache: regenerating its secondary
/// key works, and the new key writes through the cache's address.
pub async fn follow_up(server: &Server, path: &str) {
    let response = server.api().regenerate_key(path, "Secondary").await;
    assert_eq!(response.status(), StatusCode::OK, "regenerateKey of {path}");
    let keys: Value = response.json().await.expect("the keys");
    let key = keys["secondaryKey"].as_str().expect("a secondary key");
    let mut con = georep_testkit::redis_client::connect(
        address(server, path).await,
        key,
        Duration::from_secs(2),
    )
    .await
    .expect("the new key authenticates");
    let _: () = redis::cmd("SET")
        .arg("follow-up")
        .arg(1)
        .query_async(&mut con)
        .await
        .expect("a write with the new key");
}
