//! One cache as the console sees it: its resource, the rules' view of it,
//! its side of a link, and its nodes.

use georep_core::arm::{LinkedServerResource, RedisResource};
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

    /// Whether the cache is in a geo-replication link.
    pub fn is_linked(&self) -> bool {
        self.link.is_some()
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
