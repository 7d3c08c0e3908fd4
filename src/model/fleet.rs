//! Every cache and link of a load, indexed once.

use std::collections::HashMap;

use georep_core::model::Cache;
use georep_core::CacheId;

use super::link::{id_key, links_of};
use super::{CacheEntry, LinkView};

/// Every cache the caller can see, and its links, joined once per load.
///
/// The links are derived when the fleet is built, so views that ask for a
/// cache's link (every row of a list) look it up instead of rebuilding every
/// link each time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fleet {
    /// The caches, in the order the backend listed them.
    pub caches: Vec<CacheEntry>,
    /// Every link once, from [`links_of`].
    links: Vec<LinkView>,
    /// Lower-cased cache id → index in `links`, for both ends of each link.
    link_index: HashMap<String, usize>,
    /// Lower-cased cache id → index in `caches`: a reload looks up every
    /// cache of the previous load (its firewall rules), which a scan made
    /// a million comparisons over a thousand caches.
    cache_index: HashMap<String, usize>,
}

impl Fleet {
    /// A fleet of these caches.
    pub fn new(caches: Vec<CacheEntry>) -> Self {
        let links = links_of(&caches);
        let mut link_index = HashMap::new();
        for (i, link) in links.iter().enumerate() {
            for end in [&link.primary, &link.secondary] {
                link_index.entry(id_key(end)).or_insert(i);
            }
        }
        let mut cache_index = HashMap::with_capacity(caches.len());
        for (i, entry) in caches.iter().enumerate() {
            cache_index.entry(id_key(entry.id())).or_insert(i);
        }
        Self {
            caches,
            links,
            link_index,
            cache_index,
        }
    }

    /// The cache with this id.
    pub fn get(&self, id: &CacheId) -> Option<&CacheEntry> {
        self.cache_index
            .get(&id_key(id))
            .and_then(|&i| self.caches.get(i))
            .filter(|e| e.id() == id)
    }

    /// The caches that have firewall rules, alone: all a reload carries
    /// over from the last load (`Api::load_fleet_quick`), at the cost of a
    /// copy of those caches rather than of the whole fleet.
    pub fn firewalled(&self) -> Fleet {
        Fleet::new(
            self.caches
                .iter()
                .filter(|e| !e.cache.firewall_rules.is_empty())
                .cloned()
                .collect(),
        )
    }

    /// The rules' view of every cache, for `georep_core::candidates`.
    pub fn cores(&self) -> Vec<Cache> {
        self.caches.iter().map(|e| e.cache.clone()).collect()
    }

    /// Every link once, seen from its geo-primary (or from whichever side
    /// the fleet has, when only one is visible).
    pub fn links(&self) -> Vec<LinkView> {
        self.links.clone()
    }

    /// Whether any cache is linked: the ones whose firewall rules a load
    /// fetches ([`crate::api::Api::with_firewall_rules`]).
    pub fn any_linked(&self) -> bool {
        self.caches.iter().any(CacheEntry::is_linked)
    }

    /// Whether any link is linking, failing over or unlinking.
    pub fn any_link_busy(&self) -> bool {
        self.links.iter().any(|l| l.state.is_busy())
    }

    /// The link a cache belongs to, seen from its primary.
    pub fn link_of(&self, id: &CacheId) -> Option<LinkView> {
        self.link_ref(id).cloned()
    }

    /// [`Fleet::link_of`], borrowed.
    pub fn link_ref(&self, id: &CacheId) -> Option<&LinkView> {
        self.link_index
            .get(&id_key(id))
            .and_then(|&i| self.links.get(i))
            .filter(|l| &l.primary == id || &l.secondary == id)
    }
}
