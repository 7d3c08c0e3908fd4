//! The records the store keeps: caches and their nodes, links, and
//! long-running operations, with the views of a cache that ARM and the
//! rules see. Plain data: nothing here talks to Redis or to HTTP.
//!
//! A cache record has two views: the ARM
//! resource clients see, and the rules' [`georep_core::Cache`].

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use georep_core::arm::{
    AccessKeys, ErrorDetail, FailoverSummary, OperationProperties, OperationState, OperationStatus,
    RedisConfiguration, RedisInstanceDetails, RedisProperties, RedisResource, ResourceRef,
};
use georep_core::id::CACHE_TYPE;
use georep_core::link::{Member, Pair};
use georep_core::live::{LinkRef, LinkStateEvent, LiveEvent};
use georep_core::model::{FirewallRule, LinkEnd, Network};
use georep_core::regions;
use georep_core::ServerRole;
use georep_core::{Cache, CacheId, ProvisioningState, Sku};
use serde::{Deserialize, Serialize};

/// The port every node and cache address serves Redis on.
pub const REDIS_PORT: u16 = 6379;

/// The port every node's TLS listener has on each of its addresses: Azure's `sslPort`.
pub const TLS_PORT: u16 = 6380;

/// Everything the control plane keeps about one cache.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheRecord {
    /// Where the cache lives in ARM.
    pub id: CacheId,
    /// The region, in ARM's form (`westeurope`).
    pub location: String,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Availability zones.
    pub zones: Vec<String>,
    /// Tier and size.
    pub sku: Sku,
    /// The Redis version the cache reports, e.g. `6.0`.
    pub redis_version: String,
    /// Replica nodes per shard primary.
    pub replicas_per_primary: u32,
    /// Shards; 0 when clustering is off.
    pub shard_count: u32,
    /// Redis settings, persistence among them.
    pub redis_configuration: RedisConfiguration,
    /// Whether the non-TLS port is open.
    pub enable_non_ssl_port: bool,
    /// The lowest TLS version accepted.
    pub minimum_tls_version: Option<String>,
    /// `Enabled` or `Disabled`.
    pub public_network_access: Option<String>,
    /// The VNet subnet, if injected.
    pub subnet_id: Option<String>,
    /// The names of the connected private endpoints.
    pub private_endpoints: Vec<String>,
    /// The provisioning state of the cache itself (links add theirs on top).
    pub provisioning_state: ProvisioningState,
    /// The two access keys; both authenticate as the `default` user.
    pub keys: AccessKeys,
}

/// Where one node of a cache runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NodeSlot {
    /// The shard (0 when not clustered).
    pub shard: u32,
    /// 0 for the shard's primary now, 1.. for its replicas. An in-cache
    /// failover swaps these numbers; the addresses stay with their nodes.
    pub replica: u32,
    /// The node's own loopback address; it listens on port 6379 there.
    pub addr: Ipv4Addr,
}

impl NodeSlot {
    /// Whether this node is its shard's primary.
    pub fn is_primary(&self) -> bool {
        self.replica == 0
    }
}

/// What a cache's extra address is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressRole {
    /// The cache's own address (`hostName`), bound by its primary node.
    Cache,
    /// The cache's geo-primary URL while linked, bound by the primary node
    /// of whichever cache of the link is the geo-primary now.
    GeoPrimary,
}

impl AddressRole {
    /// The name the store keeps it under.
    pub fn as_str(self) -> &'static str {
        match self {
            AddressRole::Cache => "cache",
            AddressRole::GeoPrimary => "geo-primary",
        }
    }
}

/// The Redis version a cache reports for the `redisVersion` ARM accepts
/// (`4`, `6` or `latest`). Every cache runs the local `redis-server`; the
/// reported version is what the compatibility rules compare.
pub fn reported_redis_version(requested: Option<&str>) -> Option<String> {
    match requested.map(str::trim) {
        None | Some("") | Some("latest") | Some("Latest") | Some("6") | Some("6.0") => {
            Some("6.0".into())
        }
        Some("4") | Some("4.0") => Some("4.0".into()),
        Some(_) => None,
    }
}

impl CacheRecord {
    /// The ARM resource, with the nodes' addresses and the links by id.
    ///
    /// `state` is the provisioning state to report (the cache's own, or its
    /// link's mapping while a link operation runs).
    /// `address` is the cache's own address, where its primary node listens.
    pub fn to_resource(
        &self,
        state: ProvisioningState,
        nodes: &[NodeSlot],
        address: Option<Ipv4Addr>,
        linked_servers: Vec<ResourceRef>,
    ) -> RedisResource {
        RedisResource {
            id: self.id.to_string(),
            name: self.id.name.clone(),
            kind: CACHE_TYPE.to_owned(),
            location: self.location.clone(),
            tags: self.tags.clone(),
            zones: self.zones.clone(),
            properties: RedisProperties {
                sku: self.sku,
                redis_version: self.redis_version.clone(),
                provisioning_state: state,
                host_name: address.map(|a| a.to_string()).unwrap_or_default(),
                port: REDIS_PORT,
                // TLS isn't offered locally: 0 says "no TLS port".
                ssl_port: TLS_PORT,
                enable_non_ssl_port: self.enable_non_ssl_port,
                minimum_tls_version: self.minimum_tls_version.clone(),
                replicas_per_master: Some(self.replicas_per_primary),
                replicas_per_primary: Some(self.replicas_per_primary),
                shard_count: (self.shard_count > 0).then_some(self.shard_count),
                redis_configuration: self
                    .redis_configuration
                    .clone()
                    .with_azure_defaults(self.sku),
                public_network_access: self.public_network_access.clone(),
                subnet_id: self.subnet_id.clone(),
                linked_servers,
                instances: nodes
                    .iter()
                    .map(|n| RedisInstanceDetails {
                        host: Some(n.addr.to_string()),
                        ssl_port: Some(TLS_PORT),
                        non_ssl_port: Some(REDIS_PORT),
                        shard_id: (self.shard_count > 0).then_some(n.shard),
                        is_master: n.is_primary(),
                        is_primary: n.is_primary(),
                    })
                    .collect(),
                private_endpoint_connections: self
                    .private_endpoints
                    .iter()
                    .map(|name| ResourceRef {
                        id: format!("{}/privateEndpointConnections/{name}", self.id),
                    })
                    .collect(),
                access_keys: None,
                azure: Default::default(),
            },
        }
    }

    /// The rules' view of this cache.
    pub fn to_core(
        &self,
        state: ProvisioningState,
        firewall_rules: Vec<FirewallRule>,
        link: Option<LinkEnd>,
    ) -> Cache {
        Cache {
            id: self.id.clone(),
            location: self.location.clone(),
            sku: self.sku,
            redis_version: self.redis_version.clone(),
            replicas_per_primary: self.replicas_per_primary,
            shard_count: self.shard_count,
            persistence: self.redis_configuration.persistence(),
            network: Network {
                public_network_access: georep_core::arm::public_network_enabled(
                    self.public_network_access.as_deref(),
                ),
                subnet_id: self.subnet_id.clone(),
                private_endpoints: self.private_endpoints.len() as u32,
            },
            firewall_rules,
            enable_non_ssl_port: self.enable_non_ssl_port,
            minimum_tls_version: georep_core::arm::minimum_tls_or_default(
                self.minimum_tls_version.as_deref(),
            ),
            provisioning_state: state,
            link,
        }
    }

    /// Whether each shard has replicas (every tier but Basic): its nodes
    /// fail over to one another, and a primary forks to feed a replica.
    pub fn has_replicas(&self) -> bool {
        self.replicas_per_primary > 0
    }

    /// How many nodes the cache runs: a primary and its replicas per shard.
    pub fn node_count(&self) -> u32 {
        self.shard_count.max(1) * (1 + self.replicas_per_primary)
    }
}

/// A link as the store keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkRecord {
    /// The cache that was the geo-primary when the link was created.
    pub first: CacheId,
    /// The cache that was the geo-secondary when the link was created.
    pub second: CacheId,
    /// The link's state and which member is the geo-primary now.
    pub pair: Pair,
    /// The operation running on the link, if any.
    pub operation: Option<String>,
    /// When the link was created (RFC 3339).
    pub created: String,
    /// What the last failover did, once its roles swapped.
    #[serde(default)]
    pub last_failover: Option<FailoverSummary>,
    /// Since when the replication link is cut on purpose
    /// (`/x-georep/faults`), if it is: nothing automatic restores it.
    #[serde(default)]
    pub cut_since: Option<String>,
}

impl LinkRecord {
    /// Which member `id` is.
    pub fn member(&self, id: &CacheId) -> Member {
        if *id == self.first {
            Member::First
        } else {
            Member::Second
        }
    }

    /// The cache that is `member`.
    pub fn cache_of(&self, member: Member) -> &CacheId {
        match member {
            Member::First => &self.first,
            Member::Second => &self.second,
        }
    }

    /// The other cache of the pair.
    pub fn peer_of(&self, id: &CacheId) -> &CacheId {
        self.cache_of(self.member(id).other())
    }

    /// The geo-replication role of `id`.
    pub fn role_of(&self, id: &CacheId) -> ServerRole {
        self.pair.role(self.member(id))
    }

    /// The current geo-primary.
    pub fn primary(&self) -> &CacheId {
        self.cache_of(self.pair.primary)
    }

    /// The current geo-secondary.
    pub fn secondary(&self) -> &CacheId {
        self.cache_of(self.pair.primary.other())
    }

    /// Both caches, first then second.
    pub fn caches(&self) -> [&CacheId; 2] {
        [&self.first, &self.second]
    }

    /// The link's stable internal name (for the sampler): its linked-server
    /// id on the first cache, lower-cased as ARM compares ids.
    pub fn key(&self) -> String {
        self.first
            .linked_server_id(&self.second.name)
            .to_ascii_lowercase()
    }

    /// The link as events and the timeline name it.
    pub fn reference(&self) -> LinkRef {
        LinkRef {
            id: self.first.linked_server_id(&self.second.name),
            peer_id: self.second.linked_server_id(&self.first.name),
            primary: self.primary().to_string(),
            secondary: self.secondary().to_string(),
        }
    }

    /// Its state, as the live stream carries it.
    pub fn state_event(&self) -> LiveEvent {
        LiveEvent::LinkState(LinkStateEvent {
            link: self.reference(),
            link_state: self.pair.state,
            provisioning_state: self.pair.state.link_provisioning_state(),
        })
    }
}

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OperationKind {
    /// Starting a new cache's nodes.
    CreateCache,
    /// Stopping a cache's nodes and forgetting it.
    DeleteCache,
    /// Applying a cache update (`PATCH`) to its nodes.
    UpdateCache,
    /// Linking a secondary and waiting for its full sync.
    CreateLink,
    /// Unlinking a pair.
    DeleteLink,
    /// Writing an RDB file.
    Export,
    /// Loading an RDB file.
    Import,
}

/// One operation, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationRecord {
    /// A random id.
    pub id: String,
    /// The subscription it ran in.
    pub subscription: String,
    /// The region it ran in, in ARM's form.
    pub location: String,
    /// What it does.
    pub kind: OperationKind,
    /// The ARM id of the resource it works on.
    pub target: String,
    /// Where it is.
    pub status: OperationState,
    /// When it started (RFC 3339).
    pub start_time: String,
    /// When it ended (RFC 3339).
    pub end_time: Option<String>,
    /// Why it failed.
    pub error: Option<ErrorDetail>,
    /// What it found, such as what a failover may have lost.
    #[serde(default)]
    pub properties: Option<OperationProperties>,
}

/// Now, in RFC 3339.
pub fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl OperationRecord {
    /// A new operation, in progress.
    pub fn start(subscription: &str, location: &str, kind: OperationKind, target: String) -> Self {
        OperationRecord {
            id: crate::secrets::random_hex(16),
            subscription: subscription.to_owned(),
            location: regions::normalize(location),
            kind,
            target,
            status: OperationState::InProgress,
            start_time: now(),
            end_time: None,
            error: None,
            properties: None,
        }
    }

    /// Whether it has ended, one way or the other.
    pub fn is_finished(&self) -> bool {
        self.status != OperationState::InProgress
    }

    /// Marks it done.
    pub fn succeed(&mut self) {
        self.status = OperationState::Succeeded;
        self.end_time = Some(now());
    }

    /// Marks it failed with `error`.
    pub fn fail(&mut self, error: ErrorDetail) {
        self.status = OperationState::Failed;
        self.end_time = Some(now());
        self.error = Some(error);
    }

    /// The status resource's path (without host or query).
    pub fn status_path(&self) -> String {
        format!(
            "/subscriptions/{}/providers/Microsoft.Cache/locations/{}/asyncOperations/{}",
            self.subscription, self.location, self.id
        )
    }

    /// The operation-result path `Location` points at.
    pub fn result_path(&self) -> String {
        format!(
            "/subscriptions/{}/providers/Microsoft.Cache/locations/{}/operationResults/{}",
            self.subscription, self.location, self.id
        )
    }

    /// The status resource.
    pub fn to_status(&self, percent_complete: Option<f64>) -> OperationStatus {
        OperationStatus {
            id: self.status_path(),
            name: self.id.clone(),
            status: self.status,
            start_time: Some(self.start_time.clone()),
            end_time: self.end_time.clone(),
            percent_complete: match self.status {
                OperationState::Succeeded => Some(100.0),
                _ => percent_complete,
            },
            error: self.error.clone(),
            properties: self.properties.clone(),
        }
    }
}
