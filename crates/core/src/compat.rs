//! Which caches can become the geo-secondary of a given primary, and why not.
//!
//! The Azure portal hides incompatible caches; we list them with every reason,
//! because "why isn't my cache in the list?" is the question users ask.

use serde::Serialize;
use thiserror::Error;

use crate::model::{Cache, ProvisioningState, ServerRole, Sku, SkuName};

/// The largest number of replicas per primary that geo-replication allows.
pub const MAX_REPLICAS_PER_PRIMARY: u32 = 1;

/// A prerequisite in Azure's passive geo-replication guide that a pair of caches does not meet.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[serde(tag = "code")]
pub enum Reason {
    /// A cache cannot be linked to itself.
    #[error("{cache} is the primary itself.")]
    Itself {
        /// The cache's name.
        cache: String,
    },
    /// Geo-replication is a Premium feature.
    #[error("{cache} is a {tier:?} cache; geo-replication needs both caches on the Premium tier.")]
    NotPremium {
        /// The cache's name.
        cache: String,
        /// Which side of the would-be link it is.
        role: ServerRole,
        /// Its tier.
        tier: SkuName,
    },
    /// Both caches must be in one subscription.
    #[error(
        "{cache} is in subscription {subscription}; both caches must be in the same subscription."
    )]
    DifferentSubscription {
        /// The candidate's name.
        cache: String,
        /// The candidate's subscription.
        subscription: String,
    },
    /// Both caches must be set to the same Redis version (`redisVersion`).
    #[error("{cache} is set to Redis {secondary} but the primary to Redis {primary}; both must be set to the same version.")]
    DifferentRedisVersion {
        /// The candidate's name.
        cache: String,
        /// The primary's version.
        primary: String,
        /// The candidate's version.
        secondary: String,
    },
    /// The secondary must be at least as large as the primary.
    #[error("{cache} ({secondary}) is smaller than the primary ({primary}); the secondary must be the same size or larger.")]
    SecondarySmaller {
        /// The candidate's name.
        cache: String,
        /// The primary's SKU.
        primary: Sku,
        /// The candidate's SKU.
        secondary: Sku,
    },
    /// Caches with more than one replica can't be geo-replicated.
    #[error("{cache} has {replicas} replicas per primary; geo-replication allows only one.")]
    TooManyReplicas {
        /// The cache's name.
        cache: String,
        /// Which side of the would-be link it is.
        role: ServerRole,
        /// Its replicas per primary.
        replicas: u32,
    },
    /// Persistence isn't supported with geo-replication.
    #[error(
        "{cache} has data persistence enabled; persistence isn't supported with geo-replication."
    )]
    PersistenceEnabled {
        /// The cache's name.
        cache: String,
        /// Which side of the would-be link it is.
        role: ServerRole,
    },
    /// Both caches must be created and running.
    #[error("{cache} is {state}, not running; both caches must be created and running.")]
    NotRunning {
        /// The cache's name.
        cache: String,
        /// Which side of the would-be link it is.
        role: ServerRole,
        /// Its provisioning state.
        state: ProvisioningState,
    },
    /// Only two caches can be linked together.
    #[error(
        "{cache} is already geo-replicated with {peer}; only two caches can be linked together."
    )]
    AlreadyLinked {
        /// The cache's name.
        cache: String,
        /// Which side of the would-be link it is.
        role: ServerRole,
        /// The cache it is linked with.
        peer: String,
    },
    /// Clustering must be enabled on both caches or on neither.
    #[error("{cache} has clustering {}, the primary has it {}; clustering must be enabled on both caches or on neither.", on_off(*.secondary_clustered), on_off(!*.secondary_clustered))]
    ClusteringMismatch {
        /// The candidate's name.
        cache: String,
        /// Whether the candidate is clustered (the primary is the opposite).
        secondary_clustered: bool,
    },
    /// Clustered caches must have the same number of shards.
    #[error("{cache} has {secondary} shards but the primary has {primary}; clustered caches must have the same number of shards.")]
    ShardCountMismatch {
        /// The candidate's name.
        cache: String,
        /// The primary's shard count.
        primary: u32,
        /// The candidate's shard count.
        secondary: u32,
    },
}

fn on_off(on: bool) -> &'static str {
    if on {
        "enabled"
    } else {
        "disabled"
    }
}

impl Reason {
    /// A stable, machine-readable code for this reason.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::Itself { .. } => "Itself",
            Reason::NotPremium { .. } => "NotPremium",
            Reason::DifferentSubscription { .. } => "DifferentSubscription",
            Reason::DifferentRedisVersion { .. } => "DifferentRedisVersion",
            Reason::SecondarySmaller { .. } => "SecondarySmaller",
            Reason::TooManyReplicas { .. } => "TooManyReplicas",
            Reason::PersistenceEnabled { .. } => "PersistenceEnabled",
            Reason::NotRunning { .. } => "NotRunning",
            Reason::AlreadyLinked { .. } => "AlreadyLinked",
            Reason::ClusteringMismatch { .. } => "ClusteringMismatch",
            Reason::ShardCountMismatch { .. } => "ShardCountMismatch",
        }
    }
}

/// Something a pair may be linked despite, but the user should know first.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[serde(tag = "code")]
pub enum Warning {
    /// Linking wipes whatever the secondary holds.
    #[error("All data in {secondary} will be removed and replaced with the data of {primary}.")]
    SecondaryDataRemoved {
        /// The primary's name.
        primary: String,
        /// The secondary's name.
        secondary: String,
    },
    /// Different sizes can be linked, but then cannot fail over.
    #[error("The caches differ in size ({primary} and {secondary}): they can be linked, but the pair cannot fail over.")]
    SizeMismatch {
        /// The primary's SKU.
        primary: Sku,
        /// The secondary's SKU.
        secondary: Sku,
    },
    /// Replication across regions is billed as network egress.
    #[error("The caches are in different regions ({from} and {to}): data replicated between them is charged at standard bandwidth rates.")]
    CrossRegionEgress {
        /// The primary's region.
        from: String,
        /// The secondary's region.
        to: String,
    },
    /// A firewalled primary must let the secondary in.
    #[error("{primary} has firewall rules: add a rule allowing {secondary}'s IP address, or replication cannot connect.")]
    FirewallRuleNeeded {
        /// The primary's name.
        primary: String,
        /// The secondary's name.
        secondary: String,
    },
}

impl Warning {
    /// A stable, machine-readable code for this warning.
    pub fn code(&self) -> &'static str {
        match self {
            Warning::SecondaryDataRemoved { .. } => "SecondaryDataRemoved",
            Warning::SizeMismatch { .. } => "SizeMismatch",
            Warning::CrossRegionEgress { .. } => "CrossRegionEgress",
            Warning::FirewallRuleNeeded { .. } => "FirewallRuleNeeded",
        }
    }
}

/// One cache judged as a secondary for a given primary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate<'a> {
    /// The cache judged.
    pub cache: &'a Cache,
    /// Every prerequisite it fails; empty means compatible.
    pub reasons: Vec<Reason>,
    /// What linking would entail; only filled in for compatible caches.
    pub warnings: Vec<Warning>,
}

impl Candidate<'_> {
    /// Whether the cache can be linked as the secondary.
    pub fn is_compatible(&self) -> bool {
        self.reasons.is_empty()
    }
}

/// Judges every cache in `caches` as a secondary for `primary`: compatible
/// ones first, each group in the order given.
pub fn candidates<'a>(primary: &Cache, caches: &'a [Cache]) -> Vec<Candidate<'a>> {
    let (mut compatible, incompatible): (Vec<_>, Vec<_>) = caches
        .iter()
        .map(|cache| match check_pair(primary, cache) {
            Ok(warnings) => Candidate {
                cache,
                reasons: vec![],
                warnings,
            },
            Err(reasons) => Candidate {
                cache,
                reasons,
                warnings: vec![],
            },
        })
        .partition(Candidate::is_compatible);
    compatible.extend(incompatible);
    compatible
}

/// Checks every prerequisite for linking `secondary` to `primary`.
///
/// Returns the warnings when the pair may be linked, or every unmet
/// prerequisite when it may not.
pub fn check_pair(primary: &Cache, secondary: &Cache) -> Result<Vec<Warning>, Vec<Reason>> {
    if primary.id == secondary.id {
        return Err(vec![Reason::Itself {
            cache: secondary.name().to_owned(),
        }]);
    }
    let mut reasons = Vec::new();
    for (cache, role) in [
        (primary, ServerRole::Primary),
        (secondary, ServerRole::Secondary),
    ] {
        reasons.extend(eligibility(cache, role));
    }
    reasons.extend(pairing(primary, secondary));
    if reasons.is_empty() {
        Ok(warnings(primary, secondary))
    } else {
        Err(reasons)
    }
}

/// What one cache must meet on its own, whichever side it is on.
fn eligibility(cache: &Cache, role: ServerRole) -> Vec<Reason> {
    let name = || cache.name().to_owned();
    let mut reasons = Vec::new();
    if cache.sku.name != SkuName::Premium {
        reasons.push(Reason::NotPremium {
            cache: name(),
            role,
            tier: cache.sku.name,
        });
    }
    if cache.replicas_per_primary > MAX_REPLICAS_PER_PRIMARY {
        reasons.push(Reason::TooManyReplicas {
            cache: name(),
            role,
            replicas: cache.replicas_per_primary,
        });
    }
    if cache.persistence.enabled() {
        reasons.push(Reason::PersistenceEnabled {
            cache: name(),
            role,
        });
    }
    if !cache.provisioning_state.is_running() {
        reasons.push(Reason::NotRunning {
            cache: name(),
            role,
            state: cache.provisioning_state,
        });
    }
    if let Some(link) = &cache.link {
        reasons.push(Reason::AlreadyLinked {
            cache: name(),
            role,
            peer: link.peer.name.clone(),
        });
    }
    reasons
}

/// What the two caches must have in common.
fn pairing(primary: &Cache, secondary: &Cache) -> Vec<Reason> {
    let name = || secondary.name().to_owned();
    let mut reasons = Vec::new();
    if !primary.id.same_subscription(&secondary.id) {
        reasons.push(Reason::DifferentSubscription {
            cache: name(),
            subscription: secondary.id.subscription.clone(),
        });
    }
    if primary.redis_major_version() != secondary.redis_major_version() {
        reasons.push(Reason::DifferentRedisVersion {
            cache: name(),
            primary: primary.redis_version.clone(),
            secondary: secondary.redis_version.clone(),
        });
    }
    if secondary.sku.memory_mb() < primary.sku.memory_mb() {
        reasons.push(Reason::SecondarySmaller {
            cache: name(),
            primary: primary.sku,
            secondary: secondary.sku,
        });
    }
    match (primary.is_clustered(), secondary.is_clustered()) {
        (true, true) if primary.shard_count != secondary.shard_count => {
            reasons.push(Reason::ShardCountMismatch {
                cache: name(),
                primary: primary.shard_count,
                secondary: secondary.shard_count,
            });
        }
        (p, s) if p != s => {
            reasons.push(Reason::ClusteringMismatch {
                cache: name(),
                secondary_clustered: s,
            });
        }
        _ => {}
    }
    reasons
}

/// What linking a compatible pair entails.
fn warnings(primary: &Cache, secondary: &Cache) -> Vec<Warning> {
    let mut warnings = vec![Warning::SecondaryDataRemoved {
        primary: primary.name().to_owned(),
        secondary: secondary.name().to_owned(),
    }];
    if !same_size(primary, secondary) {
        warnings.push(Warning::SizeMismatch {
            primary: primary.sku,
            secondary: secondary.sku,
        });
    }
    if !primary.location.eq_ignore_ascii_case(&secondary.location) {
        warnings.push(Warning::CrossRegionEgress {
            from: primary.location.clone(),
            to: secondary.location.clone(),
        });
    }
    if !primary.firewall_rules.is_empty() {
        warnings.push(Warning::FirewallRuleNeeded {
            primary: primary.name().to_owned(),
            secondary: secondary.name().to_owned(),
        });
    }
    warnings
}

/// Whether two caches are the same size, which failover requires.
pub fn same_size(a: &Cache, b: &Cache) -> bool {
    a.sku.memory_mb() == b.sku.memory_mb() && a.shards() == b.shards()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::CacheId;
    use crate::model::fixtures::premium;
    use crate::model::{LinkEnd, Sku};

    fn reasons(primary: &Cache, secondary: &Cache) -> Vec<&'static str> {
        match check_pair(primary, secondary) {
            Ok(_) => vec![],
            Err(reasons) => reasons.iter().map(Reason::code).collect(),
        }
    }

    #[test]
    fn two_plain_premium_caches_are_compatible() {
        let warnings = check_pair(&premium("a"), &premium("b")).unwrap();
        assert_eq!(
            warnings.len(),
            1,
            "only the data-removal warning: {warnings:?}"
        );
        assert_eq!(warnings[0].code(), "SecondaryDataRemoved");
    }

    #[test]
    fn itself() {
        let a = premium("a");
        assert_eq!(reasons(&a, &a), ["Itself"]);
    }

    #[test]
    fn not_premium_on_either_side() {
        let mut standard = premium("s");
        standard.sku = Sku::standard(3);
        assert_eq!(reasons(&premium("a"), &standard), ["NotPremium"]);
        assert_eq!(reasons(&standard, &premium("a")), ["NotPremium"]);
    }

    #[test]
    fn different_subscription() {
        let mut other = premium("b");
        other.id = CacheId::new("00000000-0000-0000-0000-000000000002", "rg", "b");
        assert_eq!(reasons(&premium("a"), &other), ["DifferentSubscription"]);
    }

    #[test]
    fn different_redis_version() {
        let mut old = premium("b");
        old.redis_version = "4.0.14".into();
        assert_eq!(reasons(&premium("a"), &old), ["DifferentRedisVersion"]);
    }

    #[test]
    fn same_major_version_is_the_same_version() {
        let mut patch = premium("b");
        patch.redis_version = "6.0.20".into();
        assert!(check_pair(&premium("a"), &patch).is_ok());
    }

    #[test]
    fn secondary_smaller_than_primary() {
        let mut big = premium("a");
        big.sku = Sku::premium(2);
        assert_eq!(reasons(&big, &premium("b")), ["SecondarySmaller"]);
    }

    #[test]
    fn larger_secondary_is_allowed_with_a_size_warning() {
        let mut big = premium("b");
        big.sku = Sku::premium(3);
        let warnings = check_pair(&premium("a"), &big).unwrap();
        assert!(warnings.iter().any(|w| w.code() == "SizeMismatch"));
    }

    #[test]
    fn more_than_one_replica() {
        let mut two = premium("b");
        two.replicas_per_primary = 2;
        assert_eq!(reasons(&premium("a"), &two), ["TooManyReplicas"]);
        assert_eq!(reasons(&two, &premium("a")), ["TooManyReplicas"]);
    }

    #[test]
    fn persistence_enabled() {
        let mut rdb = premium("b");
        rdb.persistence.rdb = true;
        let mut aof = premium("c");
        aof.persistence.aof = true;
        assert_eq!(reasons(&premium("a"), &rdb), ["PersistenceEnabled"]);
        assert_eq!(reasons(&aof, &premium("a")), ["PersistenceEnabled"]);
    }

    #[test]
    fn not_running() {
        let mut creating = premium("b");
        creating.provisioning_state = ProvisioningState::Creating;
        assert_eq!(reasons(&premium("a"), &creating), ["NotRunning"]);
    }

    #[test]
    fn already_linked() {
        let mut linked = premium("b");
        linked.link = Some(LinkEnd {
            peer: premium("c").id,
            role: Some(ServerRole::Primary),
        });
        assert_eq!(reasons(&premium("a"), &linked), ["AlreadyLinked"]);
        assert_eq!(reasons(&linked, &premium("a")), ["AlreadyLinked"]);
    }

    #[test]
    fn clustering_on_one_side_only() {
        let mut clustered = premium("b");
        clustered.shard_count = 2;
        assert_eq!(reasons(&premium("a"), &clustered), ["ClusteringMismatch"]);
        assert_eq!(reasons(&clustered, &premium("a")), ["ClusteringMismatch"]);
    }

    #[test]
    fn different_shard_count() {
        let mut two = premium("a");
        two.shard_count = 2;
        let mut three = premium("b");
        three.shard_count = 3;
        assert_eq!(reasons(&two, &three), ["ShardCountMismatch"]);
        let mut also_two = premium("c");
        also_two.shard_count = 2;
        assert!(check_pair(&two, &also_two).is_ok());
    }

    #[test]
    fn every_reason_is_reported_not_just_the_first() {
        let mut bad = premium("b");
        bad.sku = Sku::standard(1);
        bad.replicas_per_primary = 2;
        bad.persistence.aof = true;
        bad.redis_version = "4".into();
        let found = reasons(&premium("a"), &bad);
        for code in [
            "NotPremium",
            "TooManyReplicas",
            "PersistenceEnabled",
            "DifferentRedisVersion",
            "SecondarySmaller",
        ] {
            assert!(found.contains(&code), "{code} missing from {found:?}");
        }
    }

    #[test]
    fn cross_region_and_firewall_warnings() {
        let mut primary = premium("a");
        primary.firewall_rules.push(crate::model::FirewallRule {
            name: "office".into(),
            start_ip: "10.0.0.1".into(),
            end_ip: "10.0.0.9".into(),
        });
        let mut secondary = premium("b");
        secondary.location = "eastus".into();
        let codes: Vec<_> = check_pair(&primary, &secondary)
            .unwrap()
            .iter()
            .map(Warning::code)
            .collect();
        assert!(codes.contains(&"CrossRegionEgress"));
        assert!(codes.contains(&"FirewallRuleNeeded"));
    }

    #[test]
    fn candidates_lists_compatible_first_and_keeps_everyone() {
        let primary = premium("a");
        let mut standard = premium("s");
        standard.sku = Sku::standard(3);
        let all = vec![standard, primary.clone(), premium("b")];
        let judged = candidates(&primary, &all);
        assert_eq!(judged.len(), 3);
        assert_eq!(judged[0].cache.name(), "b");
        assert!(judged[0].is_compatible());
        assert!(judged[1..].iter().all(|c| !c.is_compatible()));
    }

    #[test]
    fn reasons_read_as_sentences() {
        let mut rdb = premium("orders-eu");
        rdb.persistence.rdb = true;
        let err = check_pair(&premium("a"), &rdb).unwrap_err();
        assert_eq!(
            err[0].to_string(),
            "orders-eu has data persistence enabled; persistence isn't supported with geo-replication."
        );
    }
}
