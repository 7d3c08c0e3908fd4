//! The shape of a cache: which tiers allow which replica and shard counts,
//! and how its nodes are laid out, shard by shard.

use std::net::Ipv4Addr;

use georep_core::model::SkuName;
use georep_core::Sku;

use crate::control::ControlError;
use crate::store::records::NodeSlot;

/// The most shards a local cache may have.
pub const MAX_SHARDS: u32 = 10;
/// The most replicas per primary ARM allows.
pub const MAX_REPLICAS: u32 = 3;

/// The node layout of a cache shape: per shard, a primary then its
/// replicas, on `addrs` in that order.
pub fn layout(shards: u32, replicas: u32, addrs: &[Ipv4Addr]) -> Vec<NodeSlot> {
    let mut addrs = addrs.iter().copied();
    let mut nodes = Vec::new();
    for shard in 0..shards.max(1) {
        for replica in 0..=replicas {
            if let Some(addr) = addrs.next() {
                nodes.push(NodeSlot {
                    shard,
                    replica,
                    addr,
                });
            }
        }
    }
    nodes
}

/// Checks a requested `minimumTlsVersion`.
pub fn validate_minimum_tls(value: Option<&str>) -> Result<(), ControlError> {
    match value {
        Some(v) if !georep_core::arm::is_minimum_tls_version(v) => Err(ControlError::invalid(
            "properties.minimumTlsVersion",
            format!(
                "'{v}' is not a TLS version a cache can require: use one of {}.",
                georep_core::arm::MINIMUM_TLS_VERSIONS.join(", ")
            ),
        )),
        _ => Ok(()),
    }
}

/// Checks a requested shape and returns its replica count.
pub fn validate_shape(
    sku: &Sku,
    replicas: Option<u32>,
    shard_count: u32,
    persistence: bool,
) -> Result<u32, ControlError> {
    if !sku.is_valid() {
        return Err(ControlError::invalid(
            "properties.sku",
            format!("{sku} is not a size Azure Cache for Redis offers: Basic and Standard are family C with capacity 0 to 6, Premium is family P with capacity 1 to 5."),
        ));
    }
    let premium = sku.name == SkuName::Premium;
    if !premium && shard_count > 0 {
        return Err(ControlError::invalid(
            "properties.shardCount",
            "Clustering is available on the Premium tier only.",
        ));
    }
    if !premium && persistence {
        return Err(ControlError::invalid(
            "properties.redisConfiguration",
            "Data persistence is available on the Premium tier only.",
        ));
    }
    if shard_count > MAX_SHARDS {
        return Err(ControlError::invalid(
            "properties.shardCount",
            format!("A cache may have at most {MAX_SHARDS} shards here."),
        ));
    }
    match sku.name {
        SkuName::Basic => match replicas {
            None | Some(0) => Ok(0),
            Some(_) => Err(ControlError::invalid(
                "properties.replicasPerPrimary",
                "A Basic cache has no replicas.",
            )),
        },
        SkuName::Standard => match replicas {
            None | Some(1) => Ok(1),
            Some(_) => Err(ControlError::invalid(
                "properties.replicasPerPrimary",
                "A Standard cache has exactly one replica.",
            )),
        },
        SkuName::Premium => match replicas.unwrap_or(1) {
            n @ 1..=MAX_REPLICAS => Ok(n),
            _ => Err(ControlError::invalid(
                "properties.replicasPerPrimary",
                format!("A Premium cache has 1 to {MAX_REPLICAS} replicas per primary."),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_puts_the_primary_first_in_each_shard() {
        let addrs: Vec<Ipv4Addr> = (1..=4).map(|d| Ipv4Addr::new(127, 9, 0, d)).collect();
        let nodes = layout(2, 1, &addrs);
        assert_eq!(nodes.len(), 4);
        assert!(nodes[0].is_primary() && nodes[0].shard == 0);
        assert!(!nodes[1].is_primary());
        assert!(nodes[2].is_primary() && nodes[2].shard == 1);
    }

    #[test]
    fn shapes_follow_the_tiers() {
        assert_eq!(validate_shape(&Sku::premium(1), None, 0, false).unwrap(), 1);
        assert_eq!(
            validate_shape(&Sku::standard(1), None, 0, false).unwrap(),
            1
        );
        assert!(validate_shape(&Sku::standard(1), None, 2, false).is_err());
        assert!(validate_shape(&Sku::premium(1), Some(4), 0, false).is_err());
        assert!(validate_shape(&Sku::standard(1), None, 0, true).is_err());
    }
}
