//! Linked servers: the link create body, the link resource, and what a
//! link reports of its failovers, endpoints and sync.

use serde::{Deserialize, Serialize};

use crate::id::{BadCacheId, CacheId};
use crate::link::FailoverKind;
use crate::model::{ProvisioningState, ServerRole};

/// The body of a linked-server create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedServerCreateParameters {
    /// The properties.
    pub properties: LinkedServerCreateProperties,
}

/// The properties of a linked-server create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkedServerCreateProperties {
    /// The id of the cache to link.
    pub linked_redis_cache_id: String,
    /// Its region.
    pub linked_redis_cache_location: String,
    /// The role the linked cache takes.
    pub server_role: ServerRole,
}

/// A linked-server resource: one cache's view of its geo-replication link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkedServerResource {
    /// The ARM id.
    pub id: String,
    /// The linked cache's name.
    pub name: String,
    /// `Microsoft.Cache/Redis/linkedServers`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The properties.
    pub properties: LinkedServerProperties,
}

/// The properties of a linked-server resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkedServerProperties {
    /// The id of the linked cache.
    pub linked_redis_cache_id: String,
    /// Its region.
    pub linked_redis_cache_location: String,
    /// The linked cache's role.
    pub server_role: ServerRole,
    /// The link's provisioning state.
    pub provisioning_state: ProvisioningState,
    /// The geo-primary host name of the linked cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo_replicated_primary_host_name: Option<String>,
    /// The linked cache's own host name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_host_name: Option<String>,
    /// Extension: the address that always reaches the current geo-primary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo_primary_endpoint: Option<Endpoint>,
    /// Extension: the current geo-primary's direct address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_primary_endpoint: Option<Endpoint>,
    /// Extension: the current geo-secondary's direct address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_secondary_endpoint: Option<Endpoint>,
    /// Extension: full-sync progress while the link is `Creating`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_progress: Option<SyncProgress>,
    /// Extension: what the link's last failover did, with what it may have lost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failover: Option<FailoverSummary>,
}

/// Extension: what a failover did, once the roles have swapped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailoverSummary {
    /// Planned (nothing lost) or forced.
    pub kind: FailoverKind,
    /// The ARM id of the cache that was the geo-primary.
    pub from: String,
    /// The ARM id of the cache that is the geo-primary now.
    pub to: String,
    /// When the roles swapped (RFC 3339).
    pub time: String,
    /// Bytes of the replication stream the new geo-primary never received:
    /// 0 for a planned failover; for a forced one, the old primary's last
    /// known offset minus the offset the new primary had reached. Absent
    /// when it can't be known (the old primary's offset was never seen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_possibly_lost: Option<u64>,
    /// Whether the old geo-primary rejoined by partial resync, as a planned
    /// failover sees at once; absent when the failover can't tell (a forced
    /// one, whose old primary rejoins later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial_resync: Option<bool>,
}

/// A TCP address a Redis client can connect to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Endpoint {
    /// Host name or IP address.
    pub host: String,
    /// The plain port, as a cache's `port` (open only while `enableNonSslPort` is).
    pub port: u16,
    /// The TLS port, as a cache's `sslPort`.
    #[serde(rename = "sslPort", default, skip_serializing_if = "Option::is_none")]
    pub ssl_port: Option<u16>,
}

/// How far a full sync has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncProgress {
    /// Bytes of the snapshot the secondary has read.
    pub bytes_read: u64,
    /// The snapshot's size in bytes, once known.
    pub bytes_total: u64,
}

impl SyncProgress {
    /// Progress as a fraction from 0 to 1.
    pub fn fraction(&self) -> f64 {
        if self.bytes_total == 0 {
            0.0
        } else {
            (self.bytes_read as f64 / self.bytes_total as f64).clamp(0.0, 1.0)
        }
    }
}

/// The cache a linked-server id points at: the last segment names it, and
/// linked caches share the subscription; the resource group is unknown from
/// the id alone, so the owning cache's is used.
pub(super) fn linked_cache_of(linked_server_id: &str) -> Result<CacheId, BadCacheId> {
    let bad = || BadCacheId(linked_server_id.to_owned());
    let (owner, linked) = linked_server_id
        .rsplit_once("/linkedServers/")
        .ok_or_else(bad)?;
    let owner: CacheId = owner.parse()?;
    if linked.is_empty() {
        return Err(bad());
    }
    Ok(CacheId::new(
        owner.subscription,
        owner.resource_group,
        linked,
    ))
}

impl LinkedServerResource {
    /// The linked cache's id, as the link names it.
    pub fn linked_cache_id(&self) -> Result<CacheId, BadCacheId> {
        self.properties.linked_redis_cache_id.parse()
    }
}

/// The `api-version`s whose linked-server delete was synchronous (204 once
/// unlinked, as the az CLI's 2021-06-01 recording shows); from 2022-06-01
/// on it is a long-running operation (202).
pub const SYNCHRONOUS_UNLINK_API_VERSIONS: [&str; 3] = ["2020-06-01", "2020-12-01", "2021-06-01"];

/// Whether an unlink asked with `api_version` answers only once done.
pub fn unlink_is_synchronous(api_version: &str) -> bool {
    SYNCHRONOUS_UNLINK_API_VERSIONS.contains(&api_version)
}
