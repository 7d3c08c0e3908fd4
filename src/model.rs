//! What the console knows about the fleet, built from ARM resources.
//!
//! Pure data and derivations, no HTTP and no signals, so components and
//! tests can build a [`Fleet`] from fixtures. Every geo-replication rule
//! comes from `georep-core`; this module only joins ARM's separate resources
//! (cache, firewall rules, linked servers) into the views the pages show.

use georep_core::arm::{
    Endpoint, FailoverSummary, LinkedServerResource, RedisResource, SyncProgress,
};
use georep_core::link::LinkState;
use georep_core::model::{Cache, LinkEnd, ServerRole};
use georep_core::CacheId;

/// One cache: its ARM resource, the rules' view of it, and its side of a link.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheEntry {
    /// The resource as the backend returned it.
    pub resource: RedisResource,
    /// The rules' view, with the link role filled in from `link`.
    pub cache: Cache,
    /// This cache's linked-server resource (describing its peer), if linked.
    pub link: Option<LinkedServerResource>,
    /// Its region's ARM name (the location as given when the region table
    /// doesn't know it), worked out once: filters compare it per click.
    region: String,
}

impl CacheEntry {
    /// Joins a cache resource with its firewall rules and linked servers.
    ///
    /// Returns `None` for a resource whose id is not a cache id.
    pub fn new(
        resource: RedisResource,
        firewall_rules: Vec<georep_core::model::FirewallRule>,
        links: Vec<LinkedServerResource>,
    ) -> Option<Self> {
        let mut cache = resource.to_cache(firewall_rules).ok()?;
        let link = links.into_iter().next();
        if let Some(link) = &link {
            // The linked-server resource names the *peer's* role.
            let peer = link
                .linked_cache_id()
                .ok()
                .or_else(|| cache.link.as_ref().map(|l| l.peer.clone()))?;
            cache.link = Some(LinkEnd {
                peer,
                role: Some(link.properties.server_role.opposite()),
            });
        }
        let region = crate::regions::normalize(&cache.location);
        Some(Self {
            resource,
            cache,
            link,
            region,
        })
    }

    /// The cache's own address, `hostName:port`: the TLS port when it has
    /// one, else the plain one (the local backend serves plain Redis on
    /// 6379, each cache on an address of its own).
    pub fn address(&self) -> String {
        format!("{}:{}", self.host(), self.port())
    }

    /// The cache's host name: its own address.
    pub fn host(&self) -> &str {
        &self.resource.properties.host_name
    }

    /// Whether the cache has a TLS port.
    pub fn has_tls(&self) -> bool {
        self.resource.properties.ssl_port != 0
    }

    /// The port clients use: TLS when the cache has it, else plain.
    pub fn port(&self) -> u16 {
        let p = &self.resource.properties;
        if p.ssl_port != 0 {
            p.ssl_port
        } else {
            p.port
        }
    }

    /// The cache's nodes as `instances[]` lists them, shard by shard, each
    /// shard's primary first.
    pub fn nodes(&self) -> Vec<Node> {
        let port = self.port();
        let mut nodes: Vec<Node> = self
            .resource
            .properties
            .instances
            .iter()
            .enumerate()
            .map(|(i, n)| Node {
                address: n.host.as_ref().map(|host| {
                    let port = n.non_ssl_port.or(n.ssl_port).unwrap_or(port);
                    format!("{host}:{port}")
                }),
                shard: n.shard_id.unwrap_or(0),
                primary: n.is_primary || n.is_master,
                index: i,
            })
            .collect();
        nodes.sort_by_key(|n| (n.shard, !n.primary, n.index));
        nodes
    }

    /// Its region's ARM name, e.g. `westeurope` (see [`crate::regions`]).
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The cache's id.
    pub fn id(&self) -> &CacheId {
        &self.cache.id
    }

    /// The cache's name.
    pub fn name(&self) -> &str {
        self.cache.name()
    }

    /// This cache's geo-replication role, if linked.
    pub fn role(&self) -> Option<ServerRole> {
        self.cache.link.as_ref().and_then(|l| l.role)
    }

    /// The link's state as the server reports it, if linked.
    pub fn link_state(&self) -> Option<LinkState> {
        let link = self.link.as_ref()?;
        Some(LinkState::from_provisioning_states(
            link.properties.provisioning_state,
            self.cache.provisioning_state,
        ))
    }
}

/// One node of a cache: a `redis-server` on an address of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// `host:port`, when the server names the node's address.
    pub address: Option<String>,
    /// The shard it belongs to (0 when not clustered).
    pub shard: u32,
    /// Whether it is its shard's primary now.
    pub primary: bool,
    /// Its place in `instances[]`.
    pub index: usize,
}

/// How a link is doing, for colours and badges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Linked and replicating.
    Healthy,
    /// An operation (linking, failover, unlinking) is in progress.
    Busy,
    /// Failed, or the health metric says the link is down.
    Unhealthy,
}

impl Health {
    /// The CSS class suffix for this health.
    pub fn class(self) -> &'static str {
        match self {
            Health::Healthy => "healthy",
            Health::Busy => "busy",
            Health::Unhealthy => "unhealthy",
        }
    }

    /// A word for people.
    pub fn label(self) -> &'static str {
        match self {
            Health::Healthy => "Healthy",
            Health::Busy => "In progress",
            Health::Unhealthy => "Unhealthy",
        }
    }

    /// Health from the link's state and, when known, the latest
    /// `GeoReplicationHealthy` sample (1 up, 0 down).
    pub fn of(state: LinkState, healthy_metric: Option<f64>) -> Self {
        match state {
            LinkState::Failed | LinkState::PrimaryLost => Health::Unhealthy,
            s if s.is_busy() => Health::Busy,
            _ if healthy_metric.is_some_and(|v| v < 0.5) => Health::Unhealthy,
            _ => Health::Healthy,
        }
    }
}

/// A linked pair, seen from its geo-primary.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkView {
    /// The current geo-primary.
    pub primary: CacheId,
    /// The current geo-secondary.
    pub secondary: CacheId,
    /// The primary's region.
    pub primary_location: String,
    /// The secondary's region.
    pub secondary_location: String,
    /// The link's state.
    pub state: LinkState,
    /// Full-sync progress while linking, when the server reports it.
    pub progress: Option<SyncProgress>,
    /// What the last failover did, when the server reports it.
    pub last_failover: Option<FailoverSummary>,
}

impl LinkView {
    /// A key that names the pair whichever side it is seen from.
    pub fn key(&self) -> String {
        pair_key(&self.primary, &self.secondary)
    }
}

/// A key naming a pair of caches regardless of order or case (ASCII case,
/// as `CacheId` compares).
pub fn pair_key(a: &CacheId, b: &CacheId) -> String {
    let (a, b) = (id_key(a), id_key(b));
    if a <= b {
        format!("{a}|{b}")
    } else {
        format!("{b}|{a}")
    }
}

/// One reading of a link's geo-primary replication offset, from the live
/// stream's `metric` events.
#[derive(Debug, Clone, PartialEq)]
pub struct PrimaryOffset {
    /// The geo-primary it was read from.
    pub primary: CacheId,
    /// When the server sampled it (ms since the epoch).
    pub at_ms: f64,
    /// Its `master_repl_offset`, summed over shards.
    pub offset: u64,
}

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

/// Every cache the caller can see, and its links, joined once per load.
///
/// The links are derived when the fleet is built, so views that ask for a
/// cache's link (every row of a list) look it up instead of rebuilding every
/// link each time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fleet {
    /// The caches, in the order the backend listed them.
    pub caches: Vec<CacheEntry>,
    /// Every link once, from [`links_of`].
    links: Vec<LinkView>,
    /// Lower-cased cache id → index in `links`, for both ends of each link.
    link_index: std::collections::HashMap<String, usize>,
    /// Lower-cased cache id → index in `caches`: a reload looks up every
    /// cache of the previous load (its firewall rules), which a scan made
    /// a million comparisons over a thousand caches.
    cache_index: std::collections::HashMap<String, usize>,
}

impl Fleet {
    /// A fleet of these caches.
    pub fn new(caches: Vec<CacheEntry>) -> Self {
        let links = links_of(&caches);
        let mut link_index = std::collections::HashMap::new();
        for (i, link) in links.iter().enumerate() {
            for end in [&link.primary, &link.secondary] {
                link_index.entry(id_key(end)).or_insert(i);
            }
        }
        let mut cache_index = std::collections::HashMap::with_capacity(caches.len());
        for (i, entry) in caches.iter().enumerate() {
            cache_index.entry(id_key(entry.id())).or_insert(i);
        }
        Self {
            caches,
            links,
            link_index,
            cache_index,
        }
    }

    /// The cache with this id.
    pub fn get(&self, id: &CacheId) -> Option<&CacheEntry> {
        self.cache_index
            .get(&id_key(id))
            .and_then(|&i| self.caches.get(i))
            .filter(|e| e.id() == id)
    }

    /// The caches that have firewall rules, alone: all a reload carries
    /// over from the last load (`Api::load_fleet_quick`), at the cost of a
    /// copy of those caches rather than of the whole fleet.
    pub fn firewalled(&self) -> Fleet {
        Fleet::new(
            self.caches
                .iter()
                .filter(|e| !e.cache.firewall_rules.is_empty())
                .cloned()
                .collect(),
        )
    }

    /// The rules' view of every cache, for `georep_core::candidates`.
    pub fn cores(&self) -> Vec<Cache> {
        self.caches.iter().map(|e| e.cache.clone()).collect()
    }

    /// Every link once, seen from its geo-primary (or from whichever side
    /// the fleet has, when only one is visible).
    pub fn links(&self) -> Vec<LinkView> {
        self.links.clone()
    }

    /// Whether any link is linking, failing over or unlinking.
    pub fn any_link_busy(&self) -> bool {
        self.links.iter().any(|l| l.state.is_busy())
    }

    /// The link a cache belongs to, seen from its primary.
    pub fn link_of(&self, id: &CacheId) -> Option<LinkView> {
        self.link_ref(id).cloned()
    }

    /// [`Fleet::link_of`], borrowed.
    pub fn link_ref(&self, id: &CacheId) -> Option<&LinkView> {
        self.link_index
            .get(&id_key(id))
            .and_then(|&i| self.links.get(i))
            .filter(|l| &l.primary == id || &l.secondary == id)
    }
}

/// A cache id as the link index keys it.
fn id_key(id: &CacheId) -> String {
    id.to_string().to_ascii_lowercase()
}

/// Every link of `caches` once, seen from its geo-primary.
fn links_of(caches: &[CacheEntry]) -> Vec<LinkView> {
    let get = |id: &CacheId| caches.iter().find(|e| e.id() == id);
    let mut seen = std::collections::HashSet::new();
    let mut links = Vec::new();
    // Primaries first, so each pair is described from its primary.
    let (primaries, secondaries): (Vec<&CacheEntry>, Vec<&CacheEntry>) = caches
        .iter()
        .filter(|e| e.link.is_some())
        .partition(|e| e.role() == Some(ServerRole::Primary));
    for entry in primaries.into_iter().chain(secondaries) {
        let Some(link) = &entry.link else { continue };
        let Ok(peer) = link.linked_cache_id() else {
            continue;
        };
        if !seen.insert(pair_key(entry.id(), &peer)) {
            continue;
        }
        let peer_location = link.properties.linked_redis_cache_location.clone();
        let own_location = entry.cache.location.clone();
        let state = entry.link_state().unwrap_or(LinkState::Failed);
        let peer_link = get(&peer).and_then(|p| p.link.as_ref());
        let progress = link
            .properties
            .sync_progress
            .or_else(|| peer_link.and_then(|l| l.properties.sync_progress));
        let last_failover = link
            .properties
            .last_failover
            .clone()
            .or_else(|| peer_link.and_then(|l| l.properties.last_failover.clone()));
        let view = if entry.role() == Some(ServerRole::Secondary) {
            LinkView {
                primary: peer,
                secondary: entry.id().clone(),
                primary_location: peer_location,
                secondary_location: own_location,
                state,
                progress,
                last_failover,
            }
        } else {
            LinkView {
                primary: entry.id().clone(),
                secondary: peer,
                primary_location: own_location,
                secondary_location: peer_location,
                state,
                progress,
                last_failover,
            }
        };
        links.push(view);
    }
    links
}

/// An RFC 3339 UTC time for people, to the second: `2026-11-26 06:05:15 UTC`.
/// Anything else is shown as it came.
pub fn format_time(rfc3339: &str) -> String {
    match rfc3339.split_once('T') {
        Some((date, time)) if rfc3339.ends_with('Z') => {
            let time = time.trim_end_matches('Z');
            let seconds = time.split('.').next().unwrap_or(time);
            format!("{date} {seconds} UTC")
        }
        _ => rfc3339.to_owned(),
    }
}

/// A byte count for people: `0 B`, `1.5 KB`, `12 MB`.
pub fn format_bytes(bytes: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes.max(0.0);
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    let decimals = if unit == 0 || value >= 100.0 { 0 } else { 1 };
    format!("{} {}", crate::numbers::fixed(value, decimals), UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn health_follows_state_then_metric() {
        assert_eq!(Health::of(LinkState::Linked, None), Health::Healthy);
        assert_eq!(Health::of(LinkState::Linked, Some(0.0)), Health::Unhealthy);
        assert_eq!(Health::of(LinkState::Linking, Some(0.0)), Health::Busy);
        assert_eq!(Health::of(LinkState::Failed, Some(1.0)), Health::Unhealthy);
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn pair_keys_ignore_order_and_case() {
        let a = CacheId::new("s", "rg", "A");
        let b = CacheId::new("s", "rg", "b");
        assert_eq!(
            pair_key(&a, &b),
            pair_key(&b, &CacheId::new("S", "RG", "a"))
        );
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn times_read_to_the_second() {
        assert_eq!(
            format_time("2026-11-26T06:05:15.553996777Z"),
            "2026-11-26 06:05:15 UTC"
        );
        assert_eq!(
            format_time("2026-11-26T06:05:15Z"),
            "2026-11-26 06:05:15 UTC"
        );
        assert_eq!(format_time("yesterday"), "yesterday");
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn bytes_read_like_people_write_them() {
        assert_eq!(format_bytes(0.0), "0 B");
        assert_eq!(format_bytes(13.0), "13 B");
        assert_eq!(format_bytes(1536.0), "1.5 KB");
        assert_eq!(format_bytes(512.0 * 1024.0), "512 KB");
        assert_eq!(format_bytes(3.0 * 1024.0 * 1024.0 * 1024.0), "3.0 GB");
    }
}
