//! The addresses of a linked pair, as Azure's passive geo-replication
//! guide names them.

use georep_core::arm::{Endpoint, LinkedServerResource};
use georep_core::CacheId;

use super::{CacheEntry, Fleet, LinkView};

/// Where an endpoint listens: a host, its TLS port, and its non-TLS port
/// while the cache that serves it keeps one open (`enableNonSslPort`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointAddress {
    /// The host (an address of its own here).
    pub host: String,
    /// The TLS port, 6380 as on Azure.
    pub tls_port: u16,
    /// The non-TLS port, only while it is open.
    pub plain_port: Option<u16>,
}

impl EndpointAddress {
    /// `host:tls_port`, the address applications use (TLS, as Azure's default).
    pub fn tls(&self) -> String {
        format!("{}:{}", self.host, self.tls_port)
    }

    /// `host:plain_port`, while the non-TLS port is open.
    pub fn plain(&self) -> Option<String> {
        self.plain_port.map(|port| format!("{}:{port}", self.host))
    }

    /// An endpoint object of a linked-server resource, served by `serving`.
    fn of(endpoint: &Endpoint, serving: Option<&CacheEntry>) -> Self {
        let cache_ssl_port = serving.map(|e| e.resource.properties.ssl_port);
        Self {
            host: endpoint.host.clone(),
            tls_port: endpoint
                .ssl_port
                .or(cache_ssl_port.filter(|&p| p != 0))
                .unwrap_or(TLS_PORT),
            plain_port: serving
                .is_some_and(|e| e.resource.properties.enable_non_ssl_port)
                .then_some(endpoint.port),
        }
    }

    /// A cache's own address.
    fn of_cache(entry: &CacheEntry) -> Self {
        let p = &entry.resource.properties;
        Self {
            host: p.host_name.clone(),
            tls_port: if p.ssl_port != 0 {
                p.ssl_port
            } else {
                TLS_PORT
            },
            plain_port: p.enable_non_ssl_port.then_some(p.port),
        }
    }
}

/// Azure's TLS port, for resources that leave it out.
const TLS_PORT: u16 = 6380;

/// The three addresses of Azure's passive geo-replication guide for a
/// linked pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// Each cache's geo-primary URL, which always reaches the current
    /// geo-primary: `(cache name, address)`, primary first.
    pub geo_primary: Vec<(String, Option<EndpointAddress>)>,
    /// The current geo-primary's own address.
    pub current_primary: Option<EndpointAddress>,
    /// The current geo-secondary's own address.
    pub current_secondary: Option<EndpointAddress>,
}

impl Endpoints {
    /// The endpoints of a pair, from both caches' linked-server resources.
    ///
    /// A linked-server resource describes the *linked* cache, so a cache's
    /// own geo-primary URL is read from its peer's resource. The server's
    /// endpoint extensions win over ARM's host-name fields. The geo-primary
    /// URLs are served by the current geo-primary, so its `enableNonSslPort`
    /// says whether their non-TLS port is open.
    pub fn of(link: &LinkView, fleet: &Fleet) -> Self {
        let primary = fleet.get(&link.primary);
        let secondary = fleet.get(&link.secondary);
        let links = || {
            [primary, secondary]
                .into_iter()
                .flatten()
                .filter_map(|e| e.link.as_ref())
        };
        let geo_of = |id: &CacheId| {
            links()
                .find(|l| l.linked_cache_id().ok().as_ref() == Some(id))
                .and_then(|l| {
                    let p = &l.properties;
                    p.geo_primary_endpoint
                        .as_ref()
                        .map(|e| EndpointAddress::of(e, primary))
                        .or_else(|| {
                            let host = p.geo_replicated_primary_host_name.as_deref()?;
                            let host = host.split_once(':').map_or(host, |(h, _)| h);
                            let endpoint = Endpoint {
                                host: host.to_owned(),
                                port: 6379,
                                ssl_port: None,
                            };
                            Some(EndpointAddress::of(&endpoint, primary))
                        })
                })
        };
        let current = |endpoint: fn(&LinkedServerResource) -> Option<&Endpoint>,
                       serving: Option<&CacheEntry>| {
            links()
                .find_map(endpoint)
                .map(|e| EndpointAddress::of(e, serving))
                .or_else(|| serving.map(EndpointAddress::of_cache))
        };
        Endpoints {
            geo_primary: vec![
                (link.primary.name.clone(), geo_of(&link.primary)),
                (link.secondary.name.clone(), geo_of(&link.secondary)),
            ],
            current_primary: current(|l| l.properties.current_primary_endpoint.as_ref(), primary),
            current_secondary: current(
                |l| l.properties.current_secondary_endpoint.as_ref(),
                secondary,
            ),
        }
    }
}
