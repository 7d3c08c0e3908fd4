//! The harness of the API tests, on the shared test kit
//! (`georep-testkit`): the real `georep-server` binary on a free port with a
//! temporary data directory, real HTTP, real `redis-server` nodes. Dropping
//! a [`Server`] kills it and every node it started.
//!
//! [`data`] holds the Redis data-plane helpers and [`geo`] those of linked
//! pairs; both are re-exported here, so tests name everything as
//! `crate::support::…`.

mod data;
mod geo;

pub use data::*;
pub use geo::*;

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Response, StatusCode};
use serde_json::Value;
use tempfile::TempDir;

pub use georep_testkit::api::{assert_arm_error, cache_path as cache_path_in};
pub use georep_testkit::process::redis_servers_in as processes_under;
pub use georep_testkit::API_VERSION as API;

/// The subscription the tests create caches in.
pub const SUB: &str = "11111111-2222-4333-8444-555555555555";
/// Another subscription.
pub const OTHER_SUB: &str = "99999999-2222-4333-8444-555555555555";
/// The resource group the tests use.
pub const RG: &str = "rg-test";

/// A running `georep-server`: the test kit's [`georep_testkit::Server`]
/// (which it dereferences to, and through it to the kit's
/// [`georep_testkit::Api`]: `get`, `put`, `url`, `http`, `base`, `token`,
/// `pid`, `node_pids`, `terminate`, …) on the binary this package built,
/// in a home directory that outlives it, so another server can start on
/// the same data. Its own methods are the kit's that return a `Result`,
/// panicking instead, and what takes a cache's name in [`SUB`]/[`RG`].
pub struct Server {
    // First, so the processes are killed before the directory goes.
    kit: georep_testkit::Server,
    /// The home directory: `data/` (the data directory) and `server.log`.
    pub dir: Arc<TempDir>,
}

impl Server {
    /// A server on a fresh data directory.
    pub fn start() -> Server {
        Server::start_with(Arc::new(TempDir::new().expect("temp dir")), &[])
    }

    /// A server on `dir` (see [`Server::dir`]), with extra arguments.
    pub fn start_with(dir: Arc<TempDir>, args: &[&str]) -> Server {
        let builder = georep_testkit::Server::builder()
            .binary(env!("CARGO_BIN_EXE_georep-server"))
            .home(dir.path());
        let kit = must(args.iter().fold(builder, |b, arg| b.arg(arg)).start());
        Server { kit, dir }
    }

    /// Kills the server process only (`SIGKILL`), leaving its nodes running.
    pub fn kill_server_only(&mut self) {
        self.kit.kill();
    }

    /// `…/resourceGroups/{RG}/providers/Microsoft.Cache/redis/{name}` in [`SUB`].
    pub fn cache_path(name: &str) -> String {
        cache_path_in(SUB, RG, name)
    }

    /// Follows a long-running operation's `Azure-AsyncOperation` until it
    /// ends (asserting ARM's three operation headers); its status body.
    pub async fn wait_operation(&self, response: &Response) -> Value {
        must(self.kit.wait_operation(response).await)
    }

    /// Polls the operation status at `url` until it is no longer
    /// `InProgress`; its body.
    pub async fn wait_operation_at(&self, url: &str) -> Value {
        must(self.kit.wait_operation_at(url).await)
    }

    /// Waits for the operation `response` started and asserts that it
    /// `Succeeded`; its status body.
    pub async fn wait_succeeded(&self, response: &Response) -> Value {
        must(self.kit.wait_succeeded(response).await)
    }

    /// The body of an operation's `Azure-AsyncOperation` status at `url`.
    pub async fn operation_status(&self, url: &str) -> Value {
        must(self.kit.operation_status(url).await)
    }

    /// Creates a cache from `properties` (merged over a Premium P1) and
    /// waits until it runs; its resource.
    pub async fn create_cache(&self, path: &str, location: &str, properties: Value) -> Value {
        must(self.kit.create_cache(path, location, properties).await)
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

    /// The two access keys of the cache `name`.
    pub async fn keys(&self, name: &str) -> (String, String) {
        must(self.kit.keys(&Self::cache_path(name)).await)
    }

    /// A Redis connection to a cache's address (its first primary), with
    /// its primary key.
    pub async fn redis(&self, name: &str) -> redis::aio::MultiplexedConnection {
        let addr = cache_address(self, name).await;
        let (key, _) = self.keys(name).await;
        redis_connection(addr, &key).await
    }

    /// A connection to the node at `addr` as the control plane's own user,
    /// with its cache's internal password ([`georep_testkit::Server::internal_password`]):
    /// what an operator of this machine can do, and an application (an
    /// access key) can't. Only for what the API has no way to do, such as
    /// making a full sync slow.
    pub async fn operator(&self, addr: std::net::SocketAddr) -> redis::aio::MultiplexedConnection {
        let password = self
            .internal_password(addr)
            .expect("the node's internal password");
        crate::common::connect_as(addr, "georep", &password, Duration::from_secs(2))
            .await
            .unwrap_or_else(|e| panic!("operator connection to {addr}: {e}"))
    }

    /// `CONFIG GET parameter` on the node at `addr`, as the control plane's
    /// own user ([`Server::operator`]).
    pub async fn config_get(&self, addr: std::net::SocketAddr, parameter: &str) -> String {
        let (_, value): (String, String) = redis::cmd("CONFIG")
            .arg("GET")
            .arg(parameter)
            .query_async(&mut self.operator(addr).await)
            .await
            .unwrap_or_else(|e| panic!("CONFIG GET {parameter} on {addr}: {e}"));
        value
    }
}

impl Deref for Server {
    type Target = georep_testkit::Server;

    fn deref(&self) -> &georep_testkit::Server {
        &self.kit
    }
}

impl DerefMut for Server {
    fn deref_mut(&mut self) -> &mut georep_testkit::Server {
        &mut self.kit
    }
}

/// The value of a test kit call, or a panic with its error (and causes).
fn must<T, E: std::fmt::Display>(result: Result<T, E>) -> T {
    result.unwrap_or_else(|e| panic!("{e:#}"))
}

/// The body of a linked-server create naming `secondary` in `sub`/[`RG`].
pub fn link_body(sub: &str, secondary: &str, location: &str) -> Value {
    georep_testkit::api::link_body(
        &format!(
            "/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Cache/Redis/{secondary}"
        ),
        location,
    )
}
