//! A cache resource: what ARM returns, what a create or update asks for,
//! and the bodies of the cache's actions (keys, export, import, reboot).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::link::linked_cache_of;
use crate::id::{BadCacheId, CacheId};
use crate::model::{
    Cache, FirewallRule, LinkEnd, Network, Persistence, ProvisioningState, Sku, SkuFamily,
};

/// A cache resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RedisResource {
    /// The ARM id.
    pub id: String,
    /// The cache's name.
    pub name: String,
    /// `Microsoft.Cache/Redis`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The region.
    pub location: String,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Availability zones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zones: Vec<String>,
    /// The properties.
    pub properties: RedisProperties,
}

/// The properties of a cache resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RedisProperties {
    /// Tier and size.
    pub sku: Sku,
    /// The Redis version.
    pub redis_version: String,
    /// The provisioning state.
    pub provisioning_state: ProvisioningState,
    /// The host to connect to.
    pub host_name: String,
    /// The non-TLS port.
    pub port: u16,
    /// The TLS port.
    pub ssl_port: u16,
    /// Whether the non-TLS port is open.
    pub enable_non_ssl_port: bool,
    /// The lowest TLS version accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_tls_version: Option<String>,
    /// Replicas per primary (the older name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas_per_master: Option<u32>,
    /// Replicas per primary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas_per_primary: Option<u32>,
    /// Shards; absent or 0 when not clustered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard_count: Option<u32>,
    /// Redis settings, including persistence.
    #[serde(default)]
    pub redis_configuration: RedisConfiguration,
    /// `Enabled` or `Disabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_network_access: Option<String>,
    /// The VNet subnet, if injected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<String>,
    /// The cache's geo-replication links, by id.
    #[serde(default)]
    pub linked_servers: Vec<ResourceRef>,
    /// The nodes.
    #[serde(default)]
    pub instances: Vec<RedisInstanceDetails>,
    /// Connected private endpoints.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub private_endpoint_connections: Vec<ResourceRef>,
    /// The keys: in the response to a create, `null` everywhere else (as
    /// Azure sends it).
    #[serde(default)]
    pub access_keys: Option<AccessKeys>,
    /// The settings Azure reports on every cache that this server only
    /// reports (update channel, zonal allocation, key auth, tenant settings).
    #[serde(flatten, default)]
    pub azure: AzureSettings,
}

/// What Azure reports on every cache beside its size and state, with
/// Azure's defaults; this server accepts and reports them but acts on none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AzureSettings {
    /// `Stable` or `Preview`: when Azure applies Redis updates.
    #[serde(default = "AzureSettings::default_update_channel")]
    pub update_channel: String,
    /// `Automatic`, `UserDefined` or `NoZones`.
    #[serde(default = "AzureSettings::default_zonal_allocation_policy")]
    pub zonal_allocation_policy: String,
    /// Whether access keys are refused (Entra ID only); always false here.
    #[serde(default)]
    pub disable_access_key_authentication: bool,
    /// Tenant settings, a free-form string map.
    #[serde(default)]
    pub tenant_settings: BTreeMap<String, String>,
}

impl AzureSettings {
    fn default_update_channel() -> String {
        "Stable".into()
    }

    fn default_zonal_allocation_policy() -> String {
        "Automatic".into()
    }
}

impl Default for AzureSettings {
    fn default() -> Self {
        AzureSettings {
            update_channel: Self::default_update_channel(),
            zonal_allocation_policy: Self::default_zonal_allocation_policy(),
            disable_access_key_authentication: false,
            tenant_settings: BTreeMap::new(),
        }
    }
}

impl RedisProperties {
    /// Replicas per primary, from whichever of the two names is set.
    pub fn replicas(&self) -> u32 {
        self.replicas_per_primary
            .or(self.replicas_per_master)
            .unwrap_or(1)
    }
}

/// Redis settings ARM exposes as strings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedisConfiguration {
    /// `"true"` when RDB persistence is on.
    #[serde(
        rename = "rdb-backup-enabled",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub rdb_backup_enabled: Option<String>,
    /// `"true"` when AOF persistence is on.
    #[serde(
        rename = "aof-backup-enabled",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub aof_backup_enabled: Option<String>,
    /// The eviction policy.
    #[serde(
        rename = "maxmemory-policy",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub maxmemory_policy: Option<String>,
    /// The most clients the cache accepts.
    #[serde(
        rename = "maxclients",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub maxclients: Option<String>,
    /// Memory (MB) held back for non-cache operations.
    #[serde(
        rename = "maxmemory-reserved",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub maxmemory_reserved: Option<String>,
    /// Memory (MB) held back for fragmentation.
    #[serde(
        rename = "maxfragmentationmemory-reserved",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub maxfragmentationmemory_reserved: Option<String>,
    /// The older name of `maxmemory-reserved`, which Azure still reports.
    #[serde(
        rename = "maxmemory-delta",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub maxmemory_delta: Option<String>,
}

/// Azure's `maxclients` for a size (C0 to C6, P1 to P5).
fn azure_maxclients(sku: Sku) -> u32 {
    match (sku.family, sku.capacity) {
        (SkuFamily::C, 0) => 256,
        (SkuFamily::C, 1) => 1000,
        (SkuFamily::C, 2) => 2000,
        (SkuFamily::C, 3) => 5000,
        (SkuFamily::C, 4) => 10_000,
        (SkuFamily::C, 5) => 15_000,
        (SkuFamily::C, _) => 20_000,
        (SkuFamily::P, 1) => 7500,
        (SkuFamily::P, 2) => 15_000,
        (SkuFamily::P, 3) => 30_000,
        (SkuFamily::P, _) => 40_000,
    }
}

impl RedisConfiguration {
    /// These settings with Azure's defaults filled in where unset, as a
    /// cache of `sku` reports them: `maxclients` by size, and the memory
    /// reservations at the share of memory Azure reserves on a P1 (642 MB
    /// of 6 GB).
    pub fn with_azure_defaults(mut self, sku: Sku) -> Self {
        let reserved = sku
            .memory_mb()
            .map(|mb| (u64::from(mb) * 642 + 3072) / 6144)
            .unwrap_or(0)
            .to_string();
        let fill = |field: &mut Option<String>, value: String| {
            if field.is_none() {
                *field = Some(value);
            }
        };
        fill(&mut self.maxclients, azure_maxclients(sku).to_string());
        fill(&mut self.maxmemory_reserved, reserved.clone());
        fill(&mut self.maxfragmentationmemory_reserved, reserved.clone());
        fill(&mut self.maxmemory_delta, reserved);
        self
    }

    /// The persistence these settings describe.
    pub fn persistence(&self) -> Persistence {
        let on = |v: &Option<String>| v.as_deref().is_some_and(|v| v.eq_ignore_ascii_case("true"));
        Persistence {
            rdb: on(&self.rdb_backup_enabled),
            aof: on(&self.aof_backup_enabled),
        }
    }
}

/// A reference to another resource by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRef {
    /// The ARM id.
    pub id: String,
}

/// One node of a cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RedisInstanceDetails {
    /// The node's own address (an extension: Azure hides its nodes behind
    /// the cache's one address; here each node has its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The node's TLS port, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssl_port: Option<u16>,
    /// The node's non-TLS port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub non_ssl_port: Option<u16>,
    /// The shard the node belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard_id: Option<u32>,
    /// Whether the node is a primary (the older name).
    pub is_master: bool,
    /// Whether the node is a primary.
    pub is_primary: bool,
}

/// A cache's two access keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessKeys {
    /// The primary key.
    pub primary_key: String,
    /// The secondary key.
    pub secondary_key: String,
}

/// The body of a cache create (`PUT`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RedisCreateParameters {
    /// The region.
    pub location: String,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Availability zones.
    #[serde(default)]
    pub zones: Vec<String>,
    /// The properties.
    pub properties: RedisCreateProperties,
}

/// The properties of a cache create.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RedisCreateProperties {
    /// Tier and size.
    pub sku: Sku,
    /// The Redis version: `4`, `6` or `latest`.
    #[serde(default)]
    pub redis_version: Option<String>,
    /// Whether to open the non-TLS port.
    #[serde(default)]
    pub enable_non_ssl_port: Option<bool>,
    /// The lowest TLS version accepted.
    #[serde(default)]
    pub minimum_tls_version: Option<String>,
    /// Replicas per primary (the older name).
    #[serde(default)]
    pub replicas_per_master: Option<u32>,
    /// Replicas per primary.
    #[serde(default)]
    pub replicas_per_primary: Option<u32>,
    /// Shards, for a clustered cache.
    #[serde(default)]
    pub shard_count: Option<u32>,
    /// Redis settings.
    #[serde(default)]
    pub redis_configuration: Option<RedisConfiguration>,
    /// `Enabled` or `Disabled`.
    #[serde(default)]
    pub public_network_access: Option<String>,
    /// A VNet subnet to inject into.
    #[serde(default)]
    pub subnet_id: Option<String>,
}

/// The body of a cache update (`PATCH`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RedisUpdateParameters {
    /// New tags.
    #[serde(default)]
    pub tags: Option<BTreeMap<String, String>>,
    /// Properties to change.
    #[serde(default)]
    pub properties: Option<RedisUpdateProperties>,
}

/// The properties of a cache update; absent ones stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RedisUpdateProperties {
    /// A new size or tier.
    #[serde(default)]
    pub sku: Option<Sku>,
    /// A new shard count.
    #[serde(default)]
    pub shard_count: Option<u32>,
    /// New Redis settings, such as persistence.
    #[serde(default)]
    pub redis_configuration: Option<RedisConfiguration>,
    /// Open or close the non-TLS port.
    #[serde(default)]
    pub enable_non_ssl_port: Option<bool>,
    /// A new minimum TLS version.
    #[serde(default)]
    pub minimum_tls_version: Option<String>,
    /// A new replica count (the older name).
    #[serde(default)]
    pub replicas_per_master: Option<u32>,
    /// A new replica count.
    #[serde(default)]
    pub replicas_per_primary: Option<u32>,
    /// `Enabled` or `Disabled`.
    #[serde(default)]
    pub public_network_access: Option<String>,
}

/// Which access key to regenerate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyType {
    /// The primary key.
    Primary,
    /// The secondary key.
    Secondary,
}

/// The body of `regenerateKey`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegenerateKeyParameters {
    /// Which key.
    pub key_type: KeyType,
}

/// The body of `export`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportParameters {
    /// The file name prefix.
    pub prefix: String,
    /// Where to put the file; locally, a folder name under the data dir.
    pub container: String,
    /// `RDB`.
    #[serde(default)]
    pub format: Option<String>,
}

/// The body of `import`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportParameters {
    /// The files to import; locally, paths returned by an export.
    pub files: Vec<String>,
    /// `RDB`.
    #[serde(default)]
    pub format: Option<String>,
}

/// The body of `forceReboot`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RebootParameters {
    /// `PrimaryNode`, `SecondaryNode` or `AllNodes`.
    #[serde(default)]
    pub reboot_type: Option<String>,
    /// Which shard.
    #[serde(default)]
    pub shard_id: Option<u32>,
    /// Which node ports.
    #[serde(default)]
    pub ports: Option<Vec<u16>>,
}

impl RedisResource {
    /// The rules' view of this cache.
    ///
    /// A cache resource lists its links by id only, so the view knows the
    /// peer but not the role; pass the firewall rules, which ARM serves as
    /// separate resources.
    pub fn to_cache(&self, firewall_rules: Vec<FirewallRule>) -> Result<Cache, BadCacheId> {
        let id: CacheId = self.id.parse()?;
        let p = &self.properties;
        let link = match p.linked_servers.first() {
            Some(linked) => Some(LinkEnd {
                peer: linked_cache_of(&linked.id)?,
                role: None,
            }),
            None => None,
        };
        Ok(Cache {
            id,
            location: self.location.clone(),
            sku: p.sku,
            redis_version: p.redis_version.clone(),
            replicas_per_primary: p.replicas(),
            shard_count: p.shard_count.unwrap_or(0),
            persistence: p.redis_configuration.persistence(),
            network: Network {
                public_network_access: public_network_enabled(p.public_network_access.as_deref()),
                subnet_id: p.subnet_id.clone(),
                private_endpoints: p.private_endpoint_connections.len() as u32,
            },
            firewall_rules,
            enable_non_ssl_port: p.enable_non_ssl_port,
            minimum_tls_version: minimum_tls_or_default(p.minimum_tls_version.as_deref()),
            provisioning_state: p.provisioning_state,
            link,
        })
    }
}

/// The minimum TLS version ARM assumes when a cache doesn't set one.
pub const DEFAULT_MINIMUM_TLS_VERSION: &str = "1.2";

/// Whether ARM's `publicNetworkAccess` value leaves the public endpoint on
/// (anything but `Disabled`, including absent).
pub fn public_network_enabled(value: Option<&str>) -> bool {
    !value.is_some_and(|v| v.eq_ignore_ascii_case("Disabled"))
}

/// The values ARM accepts for `minimumTlsVersion`.
pub const MINIMUM_TLS_VERSIONS: [&str; 3] = ["1.0", "1.1", "1.2"];

/// Whether `value` is a `minimumTlsVersion` ARM accepts.
pub fn is_minimum_tls_version(value: &str) -> bool {
    MINIMUM_TLS_VERSIONS.contains(&value)
}

/// A cache's minimum TLS version, or ARM's default when unset.
pub fn minimum_tls_or_default(value: Option<&str>) -> String {
    value.unwrap_or(DEFAULT_MINIMUM_TLS_VERSION).to_owned()
}
