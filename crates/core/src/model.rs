//! The cache as the geo-replication rules see it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::id::CacheId;

/// A pricing tier. ARM compares names without regard to case, and the az
/// CLI sends them as typed (`premium`), so every casing is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SkuName {
    /// Single node, no SLA.
    #[serde(alias = "basic", alias = "BASIC")]
    Basic,
    /// Primary and replica.
    #[serde(alias = "standard", alias = "STANDARD")]
    Standard,
    /// Clustering, persistence, VNet and geo-replication.
    #[serde(alias = "premium", alias = "PREMIUM")]
    Premium,
}

/// A SKU family: `C` for Basic and Standard, `P` for Premium. `az redis
/// create` sends it lower-case (`"family": "p"`), which is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SkuFamily {
    /// Basic and Standard sizes C0 to C6.
    #[serde(alias = "c")]
    C,
    /// Premium sizes P1 to P5.
    #[serde(alias = "p")]
    P,
}

/// A cache's tier and size, e.g. Premium P1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Sku {
    /// The tier.
    pub name: SkuName,
    /// The family, `C` or `P`.
    pub family: SkuFamily,
    /// The size within the family.
    pub capacity: u8,
}

impl Sku {
    /// A Premium SKU of the given capacity (P1 to P5).
    pub const fn premium(capacity: u8) -> Self {
        Sku {
            name: SkuName::Premium,
            family: SkuFamily::P,
            capacity,
        }
    }

    /// A Standard SKU of the given capacity (C0 to C6).
    pub const fn standard(capacity: u8) -> Self {
        Sku {
            name: SkuName::Standard,
            family: SkuFamily::C,
            capacity,
        }
    }

    /// Memory per shard in megabytes, or `None` for a size Azure doesn't offer.
    pub fn memory_mb(&self) -> Option<u32> {
        let mb = match (self.family, self.capacity) {
            (SkuFamily::C, 0) => 250,
            (SkuFamily::C, 1) => 1024,
            (SkuFamily::C, 2) => 2560,
            (SkuFamily::C, 3) | (SkuFamily::P, 1) => 6144,
            (SkuFamily::C, 4) | (SkuFamily::P, 2) => 13312,
            (SkuFamily::C, 5) | (SkuFamily::P, 3) => 26624,
            (SkuFamily::C, 6) | (SkuFamily::P, 4) => 54272,
            (SkuFamily::P, 5) => 122_880,
            _ => return None,
        };
        Some(mb)
    }

    /// Whether the tier, family and capacity form a size Azure offers.
    pub fn is_valid(&self) -> bool {
        let family_fits = match self.name {
            SkuName::Premium => self.family == SkuFamily::P,
            SkuName::Basic | SkuName::Standard => self.family == SkuFamily::C,
        };
        family_fits && self.memory_mb().is_some()
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let family = match self.family {
            SkuFamily::C => 'C',
            SkuFamily::P => 'P',
        };
        write!(f, "{:?} {family}{}", self.name, self.capacity)
    }
}

/// ARM's `provisioningState` of a cache or of a linked server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ProvisioningState {
    /// Being created.
    Creating,
    /// Being deleted.
    Deleting,
    /// Disabled by the platform.
    Disabled,
    /// The last operation failed.
    Failed,
    /// Joining a geo-replication link.
    Linking,
    /// Being provisioned.
    Provisioning,
    /// Recovering from a failed scale.
    RecoveringScaleFailure,
    /// Changing size or shard count.
    Scaling,
    /// Running, with no operation in progress.
    Succeeded,
    /// Leaving a geo-replication link.
    Unlinking,
    /// Being deprovisioned.
    Unprovisioning,
    /// Applying an update, such as a geo-failover.
    Updating,
}

impl ProvisioningState {
    /// Whether a cache in this state is created and running with nothing in progress.
    pub fn is_running(self) -> bool {
        self == ProvisioningState::Succeeded
    }

    /// The state's name, as ARM writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "Creating",
            Self::Deleting => "Deleting",
            Self::Disabled => "Disabled",
            Self::Failed => "Failed",
            Self::Linking => "Linking",
            Self::Provisioning => "Provisioning",
            Self::RecoveringScaleFailure => "RecoveringScaleFailure",
            Self::Scaling => "Scaling",
            Self::Succeeded => "Succeeded",
            Self::Unlinking => "Unlinking",
            Self::Unprovisioning => "Unprovisioning",
            Self::Updating => "Updating",
        }
    }
}

impl fmt::Display for ProvisioningState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A cache's role in a geo-replication link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ServerRole {
    /// The geo-primary: takes reads and writes.
    Primary,
    /// The geo-secondary: read-only.
    Secondary,
}

impl ServerRole {
    /// The role of the other cache in the pair.
    pub fn opposite(self) -> Self {
        match self {
            ServerRole::Primary => ServerRole::Secondary,
            ServerRole::Secondary => ServerRole::Primary,
        }
    }
}

impl fmt::Display for ServerRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Data persistence settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Persistence {
    /// RDB snapshots (`rdb-backup-enabled`).
    pub rdb: bool,
    /// Append-only file (`aof-backup-enabled`).
    pub aof: bool,
}

impl Persistence {
    /// Whether any form of persistence is on.
    pub fn enabled(&self) -> bool {
        self.rdb || self.aof
    }
}

/// How a cache is reached on the network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    /// Whether the public endpoint is enabled.
    pub public_network_access: bool,
    /// The VNet subnet the cache is injected into, if any.
    pub subnet_id: Option<String>,
    /// How many private endpoints are connected.
    pub private_endpoints: u32,
}

/// A firewall rule: clients from `start_ip` to `end_ip` may connect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirewallRule {
    /// The rule's name.
    pub name: String,
    /// First allowed IPv4 address.
    pub start_ip: String,
    /// Last allowed IPv4 address.
    pub end_ip: String,
}

/// This cache's side of a geo-replication link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkEnd {
    /// The other cache of the pair.
    pub peer: CacheId,
    /// This cache's own role, when known. A cache resource lists its linked
    /// servers by id only, so a view built from it alone doesn't know the role.
    pub role: Option<ServerRole>,
}

/// A cache, with every property the geo-replication rules look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cache {
    /// Where the cache lives in ARM.
    pub id: CacheId,
    /// The Azure region name, e.g. `westeurope`.
    pub location: String,
    /// Tier and size.
    pub sku: Sku,
    /// The Redis server version, e.g. `6.0`.
    pub redis_version: String,
    /// Replicas per primary node.
    pub replicas_per_primary: u32,
    /// Number of shards; 0 means clustering is off.
    pub shard_count: u32,
    /// Persistence settings.
    pub persistence: Persistence,
    /// Network settings.
    pub network: Network,
    /// Firewall rules; none means every client may connect.
    pub firewall_rules: Vec<FirewallRule>,
    /// Whether the non-TLS port 6379 is open.
    pub enable_non_ssl_port: bool,
    /// The lowest TLS version clients may use, e.g. `1.2`.
    pub minimum_tls_version: String,
    /// The cache's ARM provisioning state.
    pub provisioning_state: ProvisioningState,
    /// The cache's geo-replication link, if any.
    pub link: Option<LinkEnd>,
}

impl Cache {
    /// The cache's name.
    pub fn name(&self) -> &str {
        &self.id.name
    }

    /// Whether clustering is enabled.
    pub fn is_clustered(&self) -> bool {
        self.shard_count > 0
    }

    /// Number of primary nodes: one per shard, or one when not clustered.
    pub fn shards(&self) -> u32 {
        self.shard_count.max(1)
    }

    /// The Redis major version, which is what "same version" compares.
    pub fn redis_major_version(&self) -> &str {
        self.redis_version.split('.').next().unwrap_or_default()
    }

    /// Whether this cache is in a geo-replication link.
    pub fn is_linked(&self) -> bool {
        self.link.is_some()
    }

    /// Whether this cache is the geo-secondary of its link.
    pub fn is_geo_secondary(&self) -> bool {
        matches!(
            &self.link,
            Some(LinkEnd {
                role: Some(ServerRole::Secondary),
                ..
            })
        )
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! A well-formed Premium cache that each test bends to its case.

    use super::*;

    /// A running, unlinked Premium P1 cache in `westeurope`.
    pub fn premium(name: &str) -> Cache {
        Cache {
            id: CacheId::new("00000000-0000-0000-0000-000000000001", "rg", name),
            location: "westeurope".into(),
            sku: Sku::premium(1),
            redis_version: "6.0".into(),
            replicas_per_primary: 1,
            shard_count: 0,
            persistence: Persistence::default(),
            network: Network {
                public_network_access: true,
                ..Network::default()
            },
            firewall_rules: vec![],
            enable_non_ssl_port: false,
            minimum_tls_version: "1.2".into(),
            provisioning_state: ProvisioningState::Succeeded,
            link: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_grow_with_capacity_and_premium_p1_matches_standard_c3() {
        assert_eq!(Sku::premium(1).memory_mb(), Sku::standard(3).memory_mb());
        assert!(Sku::premium(2).memory_mb() > Sku::premium(1).memory_mb());
        assert_eq!(Sku::premium(9).memory_mb(), None);
    }

    #[test]
    fn a_premium_sku_must_be_of_family_p() {
        assert!(Sku::premium(3).is_valid());
        let wrong = Sku {
            name: SkuName::Premium,
            family: SkuFamily::C,
            capacity: 1,
        };
        assert!(!wrong.is_valid());
    }

    #[test]
    fn major_version_is_the_first_component() {
        let mut cache = fixtures::premium("a");
        cache.redis_version = "6.0.14".into();
        assert_eq!(cache.redis_major_version(), "6");
    }

    #[test]
    fn sku_names_and_families_are_read_in_any_case_the_az_cli_sends() {
        let sku: Sku =
            serde_json::from_str(r#"{"name": "premium", "family": "p", "capacity": 1}"#).unwrap();
        assert_eq!(sku, Sku::premium(1));
        let sku: Sku =
            serde_json::from_str(r#"{"name": "Standard", "family": "c", "capacity": 1}"#).unwrap();
        assert_eq!(sku, Sku::standard(1));
    }
}
