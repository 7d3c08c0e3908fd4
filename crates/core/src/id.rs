//! ARM resource ids of caches and of their linked-server resources.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The ARM resource type of a cache, as it appears in ids and `type` fields.
pub const CACHE_TYPE: &str = "Microsoft.Cache/Redis";
/// The ARM resource type of a linked server.
pub const LINKED_SERVER_TYPE: &str = "Microsoft.Cache/Redis/linkedServers";

/// Where a cache lives in ARM: subscription, resource group and name.
///
/// Comparisons ignore case, the way ARM does.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CacheId {
    /// Subscription id (a GUID).
    pub subscription: String,
    /// Resource group name.
    pub resource_group: String,
    /// Cache name.
    pub name: String,
}

/// Why a string is not a cache resource id.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("'{0}' is not a cache resource id of the form /subscriptions/{{sub}}/resourceGroups/{{rg}}/providers/Microsoft.Cache/Redis/{{name}}")]
pub struct BadCacheId(pub String);

impl CacheId {
    /// Builds an id from its three parts.
    pub fn new(
        subscription: impl Into<String>,
        resource_group: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        Self {
            subscription: subscription.into(),
            resource_group: resource_group.into(),
            name: name.into(),
        }
    }

    /// The id of this cache's linked-server resource that points at `linked`.
    pub fn linked_server_id(&self, linked: &str) -> String {
        format!("{self}/linkedServers/{linked}")
    }

    /// Whether two ids name caches in the same subscription.
    pub fn same_subscription(&self, other: &CacheId) -> bool {
        self.subscription.eq_ignore_ascii_case(&other.subscription)
    }
}

impl PartialEq for CacheId {
    fn eq(&self, other: &Self) -> bool {
        self.subscription.eq_ignore_ascii_case(&other.subscription)
            && self
                .resource_group
                .eq_ignore_ascii_case(&other.resource_group)
            && self.name.eq_ignore_ascii_case(&other.name)
    }
}

impl Eq for CacheId {}

impl std::hash::Hash for CacheId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.subscription.to_ascii_lowercase().hash(state);
        self.resource_group.to_ascii_lowercase().hash(state);
        self.name.to_ascii_lowercase().hash(state);
    }
}

impl fmt::Display for CacheId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "/subscriptions/{}/resourceGroups/{}/providers/{CACHE_TYPE}/{}",
            self.subscription, self.resource_group, self.name
        )
    }
}

impl FromStr for CacheId {
    type Err = BadCacheId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadCacheId(s.to_owned());
        let parts: Vec<&str> = s.trim_matches('/').split('/').collect();
        let [subs, sub, rgs, rg, providers, ns, kind, name] = parts.as_slice() else {
            return Err(bad());
        };
        let matches = subs.eq_ignore_ascii_case("subscriptions")
            && rgs.eq_ignore_ascii_case("resourceGroups")
            && providers.eq_ignore_ascii_case("providers")
            && ns.eq_ignore_ascii_case("Microsoft.Cache")
            && kind.eq_ignore_ascii_case("Redis");
        if !matches || [sub, rg, name].iter().any(|p| p.is_empty()) {
            return Err(bad());
        }
        Ok(CacheId::new(*sub, *rg, *name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_its_arm_form() {
        let id = CacheId::new("sub-1", "rg", "cache-a");
        let text = id.to_string();
        assert_eq!(
            text,
            "/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.Cache/Redis/cache-a"
        );
        assert_eq!(text.parse::<CacheId>().unwrap(), id);
    }

    #[test]
    fn parsing_ignores_case_of_fixed_segments() {
        let id: CacheId = "/SUBSCRIPTIONS/s/resourcegroups/r/providers/microsoft.cache/redis/n"
            .parse()
            .unwrap();
        assert_eq!(id, CacheId::new("s", "R", "N"));
    }

    #[test]
    fn rejects_other_resource_types() {
        for bad in [
            "",
            "/subscriptions/s",
            "/subscriptions/s/resourceGroups/r/providers/Microsoft.Storage/storageAccounts/n",
            "/subscriptions//resourceGroups/r/providers/Microsoft.Cache/Redis/n",
        ] {
            assert!(bad.parse::<CacheId>().is_err(), "{bad}");
        }
    }
}
