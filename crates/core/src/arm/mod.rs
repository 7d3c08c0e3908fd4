//! Azure Resource Manager wire types of `Microsoft.Cache/redis`, its
//! `linkedServers`, long-running operations, metrics and errors.
//!
//! Field names follow the public REST specification. Fields this project adds
//! beside ARM's are marked as extensions; clients that don't know them ignore them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::id::{BadCacheId, CacheId};
use crate::link::FailoverKind;
use crate::model::{
    Cache, FirewallRule, LinkEnd, Network, Persistence, ProvisioningState, ServerRole, Sku,
    SkuFamily,
};

/// A list in ARM's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListResult<T> {
    /// The items.
    pub value: Vec<T>,
    /// Where the next page is; we never page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_link: Option<String>,
}

impl<T> ListResult<T> {
    /// A single-page list.
    pub fn of(value: Vec<T>) -> Self {
        ListResult {
            value,
            next_link: None,
        }
    }
}

/// ARM's error body: `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// The error.
    pub error: ErrorDetail,
}

/// One ARM error, with optional nested details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// A stable, machine-readable code.
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// What the error is about, such as a field or resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The individual problems, when there are several.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<ErrorDetail>,
}

impl ErrorDetail {
    /// An error with a code and a message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        ErrorDetail {
            code: code.into(),
            message: message.into(),
            target: None,
            details: vec![],
        }
    }
}

/// A subscription, as `GET /subscriptions` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// `/subscriptions/{subscriptionId}`.
    pub id: String,
    /// The GUID.
    pub subscription_id: String,
    /// A human name.
    pub display_name: String,
    /// `Enabled`.
    pub state: String,
    /// The tenant's GUID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
}

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

/// A firewall rule resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirewallRuleResource {
    /// The ARM id.
    pub id: String,
    /// The rule's name.
    pub name: String,
    /// `Microsoft.Cache/Redis/firewallRules`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The address range.
    pub properties: FirewallRuleProperties,
}

/// The body of a firewall rule create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirewallRuleParameters {
    /// The address range.
    pub properties: FirewallRuleProperties,
}

/// A firewall rule's address range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirewallRuleProperties {
    /// First allowed IPv4 address.
    #[serde(rename = "startIP")]
    pub start_ip: String,
    /// Last allowed IPv4 address.
    #[serde(rename = "endIP")]
    pub end_ip: String,
}

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

/// The state of a long-running operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OperationState {
    /// Still running.
    InProgress,
    /// Done.
    Succeeded,
    /// Ended in an error.
    Failed,
    /// Cancelled.
    Canceled,
}

/// The status resource of a long-running operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationStatus {
    /// The status resource's id.
    pub id: String,
    /// The operation's id.
    pub name: String,
    /// Its state.
    pub status: OperationState,
    /// When it started (RFC 3339). This and the fields below are always
    /// sent, `null` when unknown, as Azure sends them.
    #[serde(default)]
    pub start_time: Option<String>,
    /// When it ended (RFC 3339).
    #[serde(default)]
    pub end_time: Option<String>,
    /// How much is done, from 0 to 100.
    #[serde(default)]
    pub percent_complete: Option<f64>,
    /// Why it failed.
    #[serde(default)]
    pub error: Option<ErrorDetail>,
    /// What the operation found, when it has something to report.
    #[serde(default)]
    pub properties: Option<OperationProperties>,
}

/// What `operationResults` (the `Location` of a delete) answers: 202 with
/// this while the operation runs, 200 once it is done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationResult {
    /// The result resource's id.
    pub id: String,
    /// The operation's id.
    pub name: String,
    /// Its state.
    pub status: OperationState,
}

/// Extension: what a long-running operation reports beside its status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationProperties {
    /// For a failover, once the roles have swapped: what it did and may have lost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover: Option<FailoverSummary>,
}

/// Azure Monitor's response to a metrics query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricsResponse {
    /// Always 0 here.
    pub cost: u32,
    /// `start/end` in ISO 8601.
    pub timespan: String,
    /// The grain, e.g. `PT1M`.
    pub interval: String,
    /// One entry per metric asked for.
    pub value: Vec<Metric>,
    /// `Microsoft.Cache/redis`.
    pub namespace: String,
    /// The cache's region.
    pub resourceregion: String,
}

/// One metric's series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metric {
    /// The metric's id under the resource.
    pub id: String,
    /// `Microsoft.Insights/metrics`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its name.
    pub name: LocalizableString,
    /// Its unit, e.g. `Bytes`.
    pub unit: String,
    /// The series; we emit one, with no dimensions.
    pub timeseries: Vec<TimeSeries>,
}

/// A name with its display form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalizableString {
    /// The invariant name.
    pub value: String,
    /// The display name.
    pub localized_value: String,
}

/// One dimension value of a series, in Azure Monitor's shape (a typed
/// struct rather than `serde_json::Value`, which would bring a JSON value
/// parser into the console's wasm).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataValue {
    /// The dimension, e.g. `ShardId`.
    pub name: LocalizableString,
    /// Its value for this series.
    pub value: String,
}

/// One series of data points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeSeries {
    /// Dimension values; none here.
    #[serde(default)]
    pub metadatavalues: Vec<MetadataValue>,
    /// The points, oldest first.
    pub data: Vec<MetricValue>,
}

/// One aggregated data point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricValue {
    /// The start of the interval (RFC 3339).
    pub time_stamp: String,
    /// The mean over the interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average: Option<f64>,
    /// The smallest sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<f64>,
    /// The largest sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<f64>,
    /// The sum of the samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<f64>,
    /// How many samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<f64>,
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

/// The cache a linked-server id points at: the last segment names it, and
/// linked caches share the subscription; the resource group is unknown from
/// the id alone, so the owning cache's is used.
fn linked_cache_of(linked_server_id: &str) -> Result<CacheId, BadCacheId> {
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

/// ARM's cloud metadata document (`GET /metadata/endpoints`, the
/// `2022-09-01` shape: one cloud), which `az cloud register
/// --endpoint-resource-manager` reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudMetadata {
    /// The cloud's name.
    pub name: String,
    /// The ARM endpoint, with a trailing slash.
    pub resource_manager: String,
    /// The portal; here, the console.
    pub portal: String,
    /// How tokens for this cloud are obtained.
    pub authentication: CloudAuthentication,
    /// Host-name suffixes of the cloud's services; this one has none.
    pub suffixes: BTreeMap<String, String>,
}

/// The `authentication` block of [`CloudMetadata`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudAuthentication {
    /// The authority for interactive sign-in.
    pub login_endpoint: String,
    /// The resources a token for ARM may name; the az CLI asks for the first.
    pub audiences: Vec<String>,
    /// The default tenant.
    pub tenant: String,
    /// `AAD`.
    pub identity_provider: String,
}

impl CloudMetadata {
    /// The document for a server whose API is at `resource_manager` and
    /// console at `portal`, accepting tokens for `audiences`.
    pub fn new(resource_manager: &str, portal: &str, audiences: &[&str]) -> Self {
        let with_slash = |url: &str| format!("{}/", url.trim_end_matches('/'));
        CloudMetadata {
            name: "georep".into(),
            resource_manager: with_slash(resource_manager),
            portal: with_slash(portal),
            authentication: CloudAuthentication {
                login_endpoint: with_slash(resource_manager),
                audiences: audiences.iter().map(|a| (*a).to_owned()).collect(),
                tenant: "common".into(),
                identity_provider: "AAD".into(),
            },
            suffixes: BTreeMap::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_a_cache_as_azure_returns_it() {
        let body = json!({
            "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Cache/Redis/a",
            "name": "a", "type": "Microsoft.Cache/Redis", "location": "West Europe",
            "tags": {},
            "properties": {
                "sku": {"name": "Premium", "family": "P", "capacity": 1},
                "redisVersion": "6.0.14", "provisioningState": "Succeeded",
                "hostName": "a.redis.cache.windows.net", "port": 6379, "sslPort": 6380,
                "enableNonSslPort": false, "replicasPerMaster": 1,
                "redisConfiguration": {"rdb-backup-enabled": "true", "maxmemory-reserved": "30"},
                "linkedServers": [{"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Cache/Redis/a/linkedServers/b"}],
                "instances": [{"sslPort": 15000, "isMaster": true, "isPrimary": true}],
                "someFutureField": {"x": 1}
            }
        });
        let resource: RedisResource = serde_json::from_value(body).unwrap();
        let cache = resource.to_cache(vec![]).unwrap();
        assert_eq!(cache.sku, Sku::premium(1));
        assert!(cache.persistence.rdb);
        assert_eq!(cache.replicas_per_primary, 1);
        assert_eq!(cache.link.unwrap().peer.name, "b");
    }

    #[test]
    fn error_body_has_arms_shape() {
        let body = ErrorResponse {
            error: ErrorDetail::new("NotFound", "gone"),
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"error": {"code": "NotFound", "message": "gone"}})
        );
    }

    #[test]
    fn linked_server_create_body_matches_the_sdk() {
        let body = json!({"properties": {
            "linkedRedisCacheId": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Cache/Redis/b",
            "linkedRedisCacheLocation": "East US",
            "serverRole": "Secondary"
        }});
        let params: LinkedServerCreateParameters = serde_json::from_value(body).unwrap();
        assert_eq!(params.properties.server_role, ServerRole::Secondary);
    }

    #[test]
    fn a_field_of_the_wrong_type_is_an_error() {
        let body = json!({"properties": {
            "linkedRedisCacheId": 7, "linkedRedisCacheLocation": "x", "serverRole": "Secondary"
        }});
        assert!(serde_json::from_value::<LinkedServerCreateParameters>(body).is_err());
    }

    #[test]
    fn progress_fraction_is_bounded() {
        assert_eq!(
            SyncProgress {
                bytes_read: 5,
                bytes_total: 0
            }
            .fraction(),
            0.0
        );
        assert_eq!(
            SyncProgress {
                bytes_read: 50,
                bytes_total: 100
            }
            .fraction(),
            0.5
        );
        assert_eq!(
            SyncProgress {
                bytes_read: 150,
                bytes_total: 100
            }
            .fraction(),
            1.0
        );
    }

    #[test]
    fn status_resources_carry_every_key_as_azure_does() {
        let status = OperationStatus {
            id: "/x".into(),
            name: "x".into(),
            status: OperationState::InProgress,
            start_time: None,
            end_time: None,
            percent_complete: None,
            error: None,
            properties: None,
        };
        assert_eq!(
            serde_json::to_value(&status).unwrap(),
            json!({"id": "/x", "name": "x", "status": "InProgress", "startTime": null,
                   "endTime": null, "percentComplete": null, "error": null, "properties": null})
        );
    }

    #[test]
    fn azure_configuration_defaults_fill_only_what_is_unset() {
        let config = RedisConfiguration {
            maxclients: Some("100".into()),
            ..RedisConfiguration::default()
        }
        .with_azure_defaults(Sku::premium(1));
        assert_eq!(config.maxclients.as_deref(), Some("100"));
        assert_eq!(config.maxmemory_reserved.as_deref(), Some("642"));
        assert_eq!(
            config.maxfragmentationmemory_reserved.as_deref(),
            Some("642")
        );
        assert_eq!(config.maxmemory_delta.as_deref(), Some("642"));
        let p1 = RedisConfiguration::default().with_azure_defaults(Sku::premium(1));
        assert_eq!(p1.maxclients.as_deref(), Some("7500"));
        let p2 = RedisConfiguration::default().with_azure_defaults(Sku::premium(2));
        assert_eq!(p2.maxclients.as_deref(), Some("15000"));
    }

    #[test]
    fn cloud_metadata_has_the_shape_the_az_cli_reads() {
        let doc = CloudMetadata::new(
            "https://127.0.0.1:8443",
            "http://127.0.0.1:8080",
            &["https://management.core.windows.net/"],
        );
        let value = serde_json::to_value(&doc).unwrap();
        assert_eq!(value["resourceManager"], "https://127.0.0.1:8443/");
        assert_eq!(
            value["authentication"]["audiences"][0],
            "https://management.core.windows.net/"
        );
        assert_eq!(value["authentication"]["identityProvider"], "AAD");
        assert!(value["authentication"]["loginEndpoint"].is_string());
        assert!(value["suffixes"].is_object());
    }

    #[test]
    fn a_cache_reports_azures_settings_and_null_keys() {
        let settings = serde_json::to_value(AzureSettings::default()).unwrap();
        assert_eq!(
            settings,
            json!({"updateChannel": "Stable", "zonalAllocationPolicy": "Automatic",
                   "disableAccessKeyAuthentication": false, "tenantSettings": {}})
        );
    }

    #[test]
    fn only_the_old_api_versions_unlink_synchronously() {
        assert!(unlink_is_synchronous("2021-06-01"));
        assert!(!unlink_is_synchronous("2024-11-01"));
        assert!(!unlink_is_synchronous(crate::names::OLDEST_API_VERSION));
    }
}
