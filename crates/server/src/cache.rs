//! A cache as the control plane records it, and its two views: the ARM
//! resource clients see, and the rules' [`georep_core::Cache`].

use std::collections::BTreeMap;

use georep_core::arm::{
    AccessKeys, RedisConfiguration, RedisInstanceDetails, RedisProperties, RedisResource,
    ResourceRef,
};
use georep_core::id::CACHE_TYPE;
use georep_core::model::{FirewallRule, LinkEnd, Network};
use georep_core::{Cache, CacheId, ProvisioningState, Sku};
use serde::{Deserialize, Serialize};

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
    /// 0 for the shard's primary, 1.. for its replicas.
    pub replica: u32,
    /// The TCP port on 127.0.0.1.
    pub port: u16,
}

impl NodeSlot {
    /// Whether this node is its shard's primary.
    pub fn is_primary(&self) -> bool {
        self.replica == 0
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
    pub fn to_resource(
        &self,
        state: ProvisioningState,
        nodes: &[NodeSlot],
        linked_servers: Vec<ResourceRef>,
    ) -> RedisResource {
        let first_primary = nodes
            .iter()
            .filter(|n| n.is_primary())
            .min_by_key(|n| n.shard);
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
                host_name: "127.0.0.1".to_owned(),
                port: first_primary.map_or(0, |n| n.port),
                // TLS isn't offered locally: 0 says "no TLS port".
                ssl_port: 0,
                enable_non_ssl_port: self.enable_non_ssl_port,
                minimum_tls_version: self.minimum_tls_version.clone(),
                replicas_per_master: Some(self.replicas_per_primary),
                replicas_per_primary: Some(self.replicas_per_primary),
                shard_count: (self.shard_count > 0).then_some(self.shard_count),
                redis_configuration: self.redis_configuration.clone(),
                public_network_access: self.public_network_access.clone(),
                subnet_id: self.subnet_id.clone(),
                linked_servers,
                instances: nodes
                    .iter()
                    .map(|n| RedisInstanceDetails {
                        ssl_port: None,
                        non_ssl_port: Some(n.port),
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

    /// How many nodes the cache runs: a primary and its replicas per shard.
    pub fn node_count(&self) -> u32 {
        self.shard_count.max(1) * (1 + self.replicas_per_primary)
    }
}
