//! The geo-primary endpoints of linked caches.
//!
//! Each cache of a link gets one [`GeoProxy`]: a listener on 127.0.0.1 that
//! forwards every connection to whichever cache is the geo-primary now. Its
//! port is kept in the store, so the address stays the same across server
//! restarts (the endpoint is bound again on the same port). The endpoints
//! follow the link: opened when it is created, paused while a planned
//! failover swaps the roles, switched to the new primary (closing the
//! connections to the old one), and closed when the link is removed.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard};

use georep_core::arm::Endpoint;
use georep_core::CacheId;

use crate::dataplane::proxy::{GeoProxy, ProxyError};
use crate::store::{self, Store, StoreError};

/// What can go wrong opening an endpoint.
#[derive(Debug, thiserror::Error)]
pub enum GeoError {
    /// No port could be listened on.
    #[error(transparent)]
    Proxy(#[from] ProxyError),
    /// The port could not be recorded.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Every geo-primary endpoint this run serves, by cache.
#[derive(Default)]
pub struct GeoEndpoints {
    proxies: Mutex<HashMap<String, GeoProxy>>,
}

impl GeoEndpoints {
    /// No endpoints yet.
    pub fn new() -> GeoEndpoints {
        GeoEndpoints::default()
    }

    /// Makes sure each of `caches` has an endpoint forwarding to `target`:
    /// an open one is pointed there, a missing one is bound on its recorded
    /// port (or, the first time or if that port is taken, on a new one,
    /// which is recorded).
    pub async fn open(
        &self,
        store: &Store,
        caches: [&CacheId; 2],
        target: SocketAddr,
    ) -> Result<(), GeoError> {
        for cache in caches {
            let key = store::key(cache);
            if let Some(proxy) = self.guard().get(&key) {
                proxy.switch_to(target);
                continue;
            }
            let proxy = bind(store, cache, target).await?;
            // Another caller may have opened it meanwhile: keep theirs.
            self.guard().entry(key).or_insert(proxy).switch_to(target);
        }
        Ok(())
    }

    /// Holds new connections to `caches`' endpoints (a planned failover is
    /// about to swap the roles); open connections keep flowing.
    pub fn pause(&self, caches: [&CacheId; 2]) {
        self.each(caches, GeoProxy::pause);
    }

    /// Lets held and new connections through to the same primary as before.
    pub fn resume(&self, caches: [&CacheId; 2]) {
        self.each(caches, GeoProxy::resume);
    }

    /// Sends new (and held) connections to `target` and closes the ones
    /// still open to the old primary, so their clients reconnect to it.
    pub fn switch(&self, caches: [&CacheId; 2], target: SocketAddr) {
        self.each(caches, |proxy| proxy.switch_to(target));
    }

    /// Stops `caches`' endpoints, closes their connections and forgets their ports.
    pub async fn close(&self, store: &Store, caches: [&CacheId; 2]) {
        for cache in caches {
            let proxy = self.guard().remove(&store::key(cache));
            if let Some(proxy) = proxy {
                proxy.shutdown().await;
            }
            if let Err(error) = store.delete_geo_port(cache) {
                tracing::error!(%error, cache = %cache.name, "could not forget the geo-primary endpoint's port");
            }
        }
    }

    /// Stops every endpoint (on shutdown); their ports stay recorded for the next start.
    pub async fn shutdown(&self) {
        let proxies: Vec<GeoProxy> = self.guard().drain().map(|(_, proxy)| proxy).collect();
        for proxy in proxies {
            proxy.shutdown().await;
        }
    }

    /// Where `cache`'s geo-primary endpoint listens, if it has one.
    pub fn endpoint(&self, cache: &CacheId) -> Option<Endpoint> {
        self.guard().get(&store::key(cache)).map(|proxy| Endpoint {
            host: proxy.local_addr().ip().to_string(),
            port: proxy.port(),
        })
    }

    fn each(&self, caches: [&CacheId; 2], action: impl Fn(&GeoProxy)) {
        let proxies = self.guard();
        for cache in caches {
            if let Some(proxy) = proxies.get(&store::key(cache)) {
                action(proxy);
            }
        }
    }

    fn guard(&self) -> MutexGuard<'_, HashMap<String, GeoProxy>> {
        // Every change is a single insert or remove: a panic elsewhere
        // leaves the map consistent.
        self.proxies.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Binds `cache`'s endpoint on its recorded port, or a new one.
async fn bind(store: &Store, cache: &CacheId, target: SocketAddr) -> Result<GeoProxy, GeoError> {
    let recorded = store.geo_port(cache)?;
    let proxy = match recorded {
        Some(port) => match GeoProxy::bind(Some(port), target).await {
            Ok(proxy) => proxy,
            Err(error) => {
                tracing::warn!(%error, cache = %cache.name, port, "the geo-primary endpoint's port is taken; moving it");
                bind_new(store, target).await?
            }
        },
        None => bind_new(store, target).await?,
    };
    if recorded != Some(proxy.port()) {
        store.set_geo_port(cache, proxy.port())?;
    }
    Ok(proxy)
}

/// Binds on a free port that no node or other endpoint has recorded (one
/// whose owner is down right now must stay free for it).
async fn bind_new(store: &Store, target: SocketAddr) -> Result<GeoProxy, GeoError> {
    let used = store.used_ports()?;
    let mut rejected = Vec::new();
    loop {
        let proxy = GeoProxy::bind(None, target).await?;
        if !used.contains(&proxy.port()) || rejected.len() >= 16 {
            return Ok(proxy);
        }
        // Keep it bound while trying again, so the next port differs.
        rejected.push(proxy);
    }
}
