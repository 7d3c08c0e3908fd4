//! What a cache may not do while it is geo-replicated.

use serde::Serialize;
use thiserror::Error;

use crate::model::{Cache, ServerRole};

/// A change someone asks of a cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Change {
    /// A new SKU (size or tier).
    Scale,
    /// A new shard count.
    ChangeShardCount,
    /// Turning on RDB or AOF persistence.
    EnablePersistence,
    /// Exporting the data to an RDB file; always allowed.
    Export,
    /// Importing an RDB file.
    Import,
    /// Deleting the cache.
    Delete,
    /// Deleting the resource group that holds the cache.
    DeleteResourceGroup,
    /// Connecting a private endpoint.
    AddPrivateEndpoint,
    /// A data-plane write.
    Write,
}

/// A change refused because the cache is linked. The message names the link.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[serde(tag = "code")]
pub enum Restriction {
    /// Neither cache of a link can be scaled.
    #[error("Cache '{cache}' can't be scaled while it is geo-replicated with '{peer}'. Unlink the caches first.")]
    Scale {
        /// The cache asked to change.
        cache: String,
        /// The other cache of its link.
        peer: String,
    },
    /// Neither cache of a link can change its shard count.
    #[error("The shard count of cache '{cache}' can't change while it is geo-replicated with '{peer}'. Unlink the caches first.")]
    ShardCount {
        /// The cache asked to change.
        cache: String,
        /// The other cache of its link.
        peer: String,
    },
    /// Persistence isn't supported with geo-replication.
    #[error(
        "Persistence can't be enabled on cache '{cache}' while it is geo-replicated with '{peer}'."
    )]
    Persistence {
        /// The cache asked to change.
        cache: String,
        /// The other cache of its link.
        peer: String,
    },
    /// The secondary's data comes from the primary only.
    #[error("Cache '{cache}' is the geo-secondary of '{peer}' and can't import data. Import into the geo-primary '{peer}' instead.")]
    ImportIntoSecondary {
        /// The cache asked to change.
        cache: String,
        /// The other cache of its link.
        peer: String,
    },
    /// A linked cache must be unlinked before deletion.
    #[error("Cache '{cache}' can't be deleted while it is geo-replicated with '{peer}'. Unlink the caches first.")]
    Delete {
        /// The cache asked to change.
        cache: String,
        /// The other cache of its link.
        peer: String,
    },
    /// A resource group holding a linked cache can't be deleted.
    #[error("The resource group can't be deleted while its cache '{cache}' is geo-replicated with '{peer}'. Unlink the caches first.")]
    DeleteResourceGroup {
        /// The linked cache in the group.
        cache: String,
        /// The other cache of its link.
        peer: String,
    },
    /// Private links can't be added to a geo-replicated cache.
    #[error("A private endpoint can't be added to cache '{cache}' while it is geo-replicated with '{peer}'. Unlink, add the private endpoint, then link again.")]
    PrivateEndpoint {
        /// The cache asked to change.
        cache: String,
        /// The other cache of its link.
        peer: String,
    },
    /// The secondary is read-only.
    #[error(
        "Cache '{cache}' is the read-only geo-secondary of '{peer}'. Write to the geo-primary."
    )]
    WriteToSecondary {
        /// The cache written to.
        cache: String,
        /// The other cache of its link.
        peer: String,
    },
}

impl Restriction {
    /// A stable, machine-readable error code.
    pub fn code(&self) -> &'static str {
        match self {
            Restriction::Scale { .. } => "LinkedCacheCannotScale",
            Restriction::ShardCount { .. } => "LinkedCacheCannotChangeShardCount",
            Restriction::Persistence { .. } => "LinkedCacheCannotEnablePersistence",
            Restriction::ImportIntoSecondary { .. } => "LinkedSecondaryCannotImport",
            Restriction::Delete { .. } => "LinkedCacheCannotBeDeleted",
            Restriction::DeleteResourceGroup { .. } => "LinkedCacheBlocksResourceGroupDelete",
            Restriction::PrivateEndpoint { .. } => "LinkedCacheCannotAddPrivateEndpoint",
            Restriction::WriteToSecondary { .. } => "LinkedSecondaryIsReadOnly",
        }
    }
}

/// Checks whether `cache` may undergo `change` given its link, if any.
pub fn check_change(cache: &Cache, change: Change) -> Result<(), Restriction> {
    let Some(link) = &cache.link else {
        return Ok(());
    };
    let cache_name = cache.name().to_owned();
    let peer = link.peer.name.clone();
    let is_secondary = link.role == Some(ServerRole::Secondary);
    let refusal = match change {
        Change::Export => return Ok(()),
        Change::Import | Change::Write if !is_secondary => return Ok(()),
        Change::Scale => Restriction::Scale {
            cache: cache_name,
            peer,
        },
        Change::ChangeShardCount => Restriction::ShardCount {
            cache: cache_name,
            peer,
        },
        Change::EnablePersistence => Restriction::Persistence {
            cache: cache_name,
            peer,
        },
        Change::Import => Restriction::ImportIntoSecondary {
            cache: cache_name,
            peer,
        },
        Change::Delete => Restriction::Delete {
            cache: cache_name,
            peer,
        },
        Change::DeleteResourceGroup => Restriction::DeleteResourceGroup {
            cache: cache_name,
            peer,
        },
        Change::AddPrivateEndpoint => Restriction::PrivateEndpoint {
            cache: cache_name,
            peer,
        },
        Change::Write => Restriction::WriteToSecondary {
            cache: cache_name,
            peer,
        },
    };
    Err(refusal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixtures::premium;
    use crate::model::LinkEnd;

    fn linked(name: &str, role: ServerRole) -> Cache {
        let mut cache = premium(name);
        cache.link = Some(LinkEnd {
            peer: premium("peer").id,
            role: Some(role),
        });
        cache
    }

    fn refused(cache: &Cache, change: Change) -> &'static str {
        check_change(cache, change).unwrap_err().code()
    }

    const ALL: [Change; 9] = [
        Change::Scale,
        Change::ChangeShardCount,
        Change::EnablePersistence,
        Change::Export,
        Change::Import,
        Change::Delete,
        Change::DeleteResourceGroup,
        Change::AddPrivateEndpoint,
        Change::Write,
    ];

    #[test]
    fn an_unlinked_cache_may_do_anything() {
        let cache = premium("free");
        for change in ALL {
            assert_eq!(check_change(&cache, change), Ok(()), "{change:?}");
        }
    }

    #[test]
    fn scale_is_refused_on_both_sides() {
        for role in [ServerRole::Primary, ServerRole::Secondary] {
            assert_eq!(
                refused(&linked("a", role), Change::Scale),
                "LinkedCacheCannotScale"
            );
        }
    }

    #[test]
    fn shard_count_change_is_refused() {
        let cache = linked("a", ServerRole::Primary);
        assert_eq!(
            refused(&cache, Change::ChangeShardCount),
            "LinkedCacheCannotChangeShardCount"
        );
    }

    #[test]
    fn enabling_persistence_is_refused() {
        let cache = linked("a", ServerRole::Secondary);
        assert_eq!(
            refused(&cache, Change::EnablePersistence),
            "LinkedCacheCannotEnablePersistence"
        );
    }

    #[test]
    fn export_is_allowed_from_either_side() {
        for role in [ServerRole::Primary, ServerRole::Secondary] {
            assert_eq!(check_change(&linked("a", role), Change::Export), Ok(()));
        }
    }

    #[test]
    fn import_is_refused_into_the_secondary_only() {
        assert_eq!(
            check_change(&linked("p", ServerRole::Primary), Change::Import),
            Ok(())
        );
        assert_eq!(
            refused(&linked("s", ServerRole::Secondary), Change::Import),
            "LinkedSecondaryCannotImport"
        );
    }

    #[test]
    fn delete_is_refused_on_both_sides() {
        for role in [ServerRole::Primary, ServerRole::Secondary] {
            assert_eq!(
                refused(&linked("a", role), Change::Delete),
                "LinkedCacheCannotBeDeleted"
            );
        }
    }

    #[test]
    fn resource_group_delete_is_refused() {
        let cache = linked("a", ServerRole::Primary);
        assert_eq!(
            refused(&cache, Change::DeleteResourceGroup),
            "LinkedCacheBlocksResourceGroupDelete"
        );
    }

    #[test]
    fn private_endpoint_is_refused() {
        let cache = linked("a", ServerRole::Secondary);
        assert_eq!(
            refused(&cache, Change::AddPrivateEndpoint),
            "LinkedCacheCannotAddPrivateEndpoint"
        );
    }

    #[test]
    fn writes_are_refused_on_the_secondary_only() {
        assert_eq!(
            check_change(&linked("p", ServerRole::Primary), Change::Write),
            Ok(())
        );
        assert_eq!(
            refused(&linked("s", ServerRole::Secondary), Change::Write),
            "LinkedSecondaryIsReadOnly"
        );
    }

    #[test]
    fn messages_name_the_link() {
        let message = check_change(&linked("orders", ServerRole::Primary), Change::Delete)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("'orders'") && message.contains("'peer'"),
            "{message}"
        );
    }
}
