//! The real `georep-server --demo` (through `georep-testkit`), serving the
//! built console, and the few things the walkthroughs ask its API: the
//! demo fleet, one cache, a cache's access key.
//!
//! Dropping a [`Server`] kills it and its nodes; [`Server::shutdown`]
//! stops it gracefully and checks that it left nothing running.

use std::path::Path;
use std::time::Duration;

use georep_testkit::redis_client::RedisClient;
use georep_testkit::wait::{self, Poll};
use serde_json::Value;

/// How long the server may take to start and create the demo fleet.
const STARTUP: Duration = Duration::from_secs(120);
/// How long it may take to save and stop its nodes.
const SHUTDOWN: Duration = Duration::from_secs(90);
/// The subscription of caches the tests create themselves.
const SUBSCRIPTION: &str = "0e2e0e2e-0000-4000-8000-000000000001";

/// A running `georep-server --demo`.
pub struct Server {
    inner: georep_testkit::Server,
}

/// A cache as the API describes it, reduced to what the walkthrough needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cache {
    /// Its ARM resource id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// `hostName:port`: its address on the non-TLS port (open on the demo's
    /// and the tests' caches).
    pub address: String,
    /// `hostName:sslPort`: its address on the TLS port, as the console
    /// shows it.
    pub tls_address: String,
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
            tls_address: format!("{}:{}", text(&props["hostName"]), props["sslPort"]),
            provisioning_state: text(&props["provisioningState"]),
        }
    }
}

impl Server {
    /// Starts the server binary with `--demo`, serving `static_dir`, and
    /// waits until it serves.
    pub fn start(static_dir: &Path) -> Server {
        let inner = georep_testkit::Server::builder()
            .demo()
            .static_dir(static_dir)
            .startup_timeout(STARTUP)
            .shutdown_timeout(SHUTDOWN)
            .start()
            .expect("georep-server --demo starts");
        Server { inner }
    }

    /// Starts the server without the demo fleet, serving `static_dir` at
    /// `/` as ever and answering calls from `origin` too
    /// (`--allow-origin`): the backend of a console hosted elsewhere.
    pub fn start_for_origin(static_dir: &Path, origin: &str) -> Server {
        let inner = georep_testkit::Server::builder()
            .static_dir(static_dir)
            .arg("--allow-origin")
            .arg(origin)
            .startup_timeout(STARTUP)
            .shutdown_timeout(SHUTDOWN)
            .start()
            .expect("georep-server starts");
        Server { inner }
    }

    /// The API, called with the token.
    pub fn api(&self) -> &georep_testkit::api::Api {
        self.inner.api()
    }

    /// The token the login URL carries.
    pub fn token(&self) -> &str {
        self.inner.token()
    }

    /// Creates a Premium P1 cache `name` in `location` through the API and
    /// waits until it runs.
    pub async fn create_cache(&self, name: &str, location: &str) -> Cache {
        let path = georep_testkit::api::cache_path(SUBSCRIPTION, "e2e", name);
        let resource = self
            .inner
            .api()
            .create_cache(&path, location, serde_json::json!({}))
            .await
            .unwrap_or_else(|e| panic!("creating {name}: {e:#}"));
        Cache::from_arm(&resource)
    }

    /// `http://127.0.0.1:PORT/#token=…`, as printed.
    pub fn login_url(&self) -> String {
        self.inner.login_url()
    }

    /// The console served at `site` (another origin's URL, ending in `/`),
    /// signed in to this server: `{site}#api=…&token=…`.
    pub fn login_url_at(&self, site: &str) -> String {
        format!("{site}#api={}&token={}", self.base(), self.token())
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> &str {
        self.inner.base()
    }

    /// Every cache in every subscription.
    pub async fn caches(&self) -> Vec<Cache> {
        let mut caches = Vec::new();
        let subscriptions = self.inner.subscription_ids().await.expect("subscriptions");
        for id in subscriptions {
            let list = self.inner.caches_in(&id).await.expect("the cache list");
            caches.extend(list.iter().map(Cache::from_arm));
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

    /// Waits until the demo fleet is created and every cache is running;
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
        let (primary, _) = self.inner.keys(&cache.id).await.expect("listKeys");
        primary
    }

    /// The server's local CA certificate (`ca.pem` in its data directory).
    pub fn ca_pem(&self) -> String {
        std::fs::read_to_string(self.inner.ca_pem()).expect("the server's ca.pem")
    }

    /// What a plain GET of `url` answers, without the token, as a browser
    /// following a link does: the status and the body.
    pub async fn download(&self, url: &str) -> (u16, String) {
        let response = self
            .inner
            .api()
            .http()
            .get(url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    /// Connects over TLS to `address` (a `host:sslPort` the console shows)
    /// with `key`, checking the certificate against the server's local CA,
    /// as `redis-cli --tls --cacert ca.pem` does.
    pub async fn connect_tls(&self, address: &str, key: &str) -> RedisClient {
        RedisClient::connect_tls(address, key, &self.ca_pem())
            .await
            .unwrap_or_else(|e| panic!("connecting over TLS to {address}: {e}"))
    }

    /// Adds the firewall rule `name` to `cache` through the API, letting in
    /// the one address `ip`.
    pub async fn add_firewall_rule(&self, cache: &Cache, name: &str, ip: &str) {
        let path = format!("{}/firewallRules/{name}", cache.id);
        let body = serde_json::json!({"properties": {"startIP": ip, "endIP": ip}});
        let response = self.inner.api().put(&path, body).await;
        let status = response.status();
        let answer = response.text().await.unwrap_or_default();
        assert!(
            status.is_success(),
            "adding a firewall rule to {}: {status} {answer}",
            cache.name
        );
    }

    /// Links `secondary` to `primary` through the API and waits until the
    /// link has succeeded.
    pub async fn link(&self, primary: &Cache, secondary: &Cache) {
        let api = self.inner.api();
        let resource = api.get_json(&secondary.id).await;
        let location = resource["location"].as_str().unwrap_or_default();
        let body = georep_testkit::api::link_body(&secondary.id, location);
        let path = format!("{}/linkedServers/{}", primary.id, secondary.name);
        let response = api.put(&path, body).await;
        api.wait_succeeded(&response)
            .await
            .unwrap_or_else(|e| panic!("linking {} to {}: {e:#}", secondary.name, primary.name));
    }

    /// Stops the server with SIGTERM, waits for it to save and stop its
    /// nodes, and asserts it exited cleanly and left no node running.
    pub fn shutdown(self) {
        if let Err(e) = self.inner.shutdown() {
            panic!("{e:#}");
        }
    }
}
