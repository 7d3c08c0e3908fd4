//! Links seen from their geo-primary, and the keys that name a pair.

use georep_core::arm::{FailoverSummary, SyncProgress};
use georep_core::link::LinkState;
use georep_core::model::ServerRole;
use georep_core::CacheId;

use super::CacheEntry;

/// A linked pair, seen from its geo-primary.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkView {
    /// The current geo-primary.
    pub primary: CacheId,
    /// The current geo-secondary.
    pub secondary: CacheId,
    /// The primary's region.
    pub primary_location: String,
    /// The secondary's region.
    pub secondary_location: String,
    /// The link's state.
    pub state: LinkState,
    /// Full-sync progress while linking, when the server reports it.
    pub progress: Option<SyncProgress>,
    /// What the last failover did, when the server reports it.
    pub last_failover: Option<FailoverSummary>,
}

impl LinkView {
    /// A key that names the pair whichever side it is seen from.
    pub fn key(&self) -> String {
        pair_key(&self.primary, &self.secondary)
    }
}

/// A key naming a pair of caches regardless of order or case (ASCII case,
/// as `CacheId` compares).
pub fn pair_key(a: &CacheId, b: &CacheId) -> String {
    let (a, b) = (id_key(a), id_key(b));
    if a <= b {
        format!("{a}|{b}")
    } else {
        format!("{b}|{a}")
    }
}

/// One reading of a link's geo-primary replication offset, from the live
/// stream's `metric` events.
#[derive(Debug, Clone, PartialEq)]
pub struct PrimaryOffset {
    /// The geo-primary it was read from.
    pub primary: CacheId,
    /// When the server sampled it (ms since the epoch).
    pub at_ms: f64,
    /// Its `master_repl_offset`, summed over shards.
    pub offset: u64,
}

/// A cache id as the link index keys it.
pub(super) fn id_key(id: &CacheId) -> String {
    id.to_string().to_ascii_lowercase()
}

/// Every link of `caches` once, seen from its geo-primary.
pub(super) fn links_of(caches: &[CacheEntry]) -> Vec<LinkView> {
    let get = |id: &CacheId| caches.iter().find(|e| e.id() == id);
    let mut seen = std::collections::HashSet::new();
    let mut links = Vec::new();
    // Primaries first, so each pair is described from its primary.
    let (primaries, secondaries): (Vec<&CacheEntry>, Vec<&CacheEntry>) = caches
        .iter()
        .filter(|e| e.is_linked())
        .partition(|e| e.role() == Some(ServerRole::Primary));
    for entry in primaries.into_iter().chain(secondaries) {
        let Some(link) = &entry.link else { continue };
        let Ok(peer) = link.linked_cache_id() else {
            continue;
        };
        if !seen.insert(pair_key(entry.id(), &peer)) {
            continue;
        }
        let peer_location = link.properties.linked_redis_cache_location.clone();
        let own_location = entry.cache.location.clone();
        let state = entry.link_state().unwrap_or(LinkState::Failed);
        let peer_link = get(&peer).and_then(|p| p.link.as_ref());
        let progress = link
            .properties
            .sync_progress
            .or_else(|| peer_link.and_then(|l| l.properties.sync_progress));
        let last_failover = link
            .properties
            .last_failover
            .clone()
            .or_else(|| peer_link.and_then(|l| l.properties.last_failover.clone()));
        let view = if entry.role() == Some(ServerRole::Secondary) {
            LinkView {
                primary: peer,
                secondary: entry.id().clone(),
                primary_location: peer_location,
                secondary_location: own_location,
                state,
                progress,
                last_failover,
            }
        } else {
            LinkView {
                primary: entry.id().clone(),
                secondary: peer,
                primary_location: own_location,
                secondary_location: peer_location,
                state,
                progress,
                last_failover,
            }
        };
        links.push(view);
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn pair_keys_ignore_order_and_case() {
        let a = CacheId::new("s", "rg", "A");
        let b = CacheId::new("s", "rg", "b");
        assert_eq!(
            pair_key(&a, &b),
            pair_key(&b, &CacheId::new("S", "RG", "a"))
        );
    }
}
