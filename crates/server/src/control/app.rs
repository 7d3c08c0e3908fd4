//! The control plane's shared state, and the views every handler needs:
//! a cache as ARM shows it and as the rules see it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use georep_core::arm::{RedisResource, ResourceRef, SyncProgress};
use georep_core::model::LinkEnd;
use georep_core::{Cache, CacheId, ProvisioningState};
use tokio::sync::{Mutex, MutexGuard};

use crate::control::ControlError;
use crate::dataplane::fleet::{self, Fleet};
use crate::dataplane::sampler::{LinkNodes, SamplerConfig};
use crate::live::events::Events;
use crate::live::health::Monitor;
use crate::live::tickets::Tickets;
use crate::live::timeline::Timeline;
use crate::store::records::CacheRecord;
use crate::store::records::LinkRecord;
use crate::store::{Snapshot, Store, StoreError, StoredCache};

/// Everything the handlers and background tasks share.
pub struct App {
    /// The control-plane database.
    pub store: Arc<Store>,
    /// The running `redis-server` nodes.
    pub fleet: Fleet,
    /// Where exports and imports live.
    pub data_dir: PathBuf,
    /// The links' metrics.
    pub monitor: Monitor,
    /// The links' timelines.
    pub timeline: Timeline,
    /// The live-status hub the event streams read.
    pub events: Events,
    /// The event streams' single-use tickets.
    pub tickets: Tickets,
    /// The candidates answers of the store's current snapshot, by primary.
    pub candidates: SnapshotMemo,
    /// Each running full sync's last progress, by link key, as its driver
    /// saw it: what GETs report, so they never wait on Redis.
    sync_progress: std::sync::Mutex<std::collections::HashMap<String, SyncProgress>>,
    /// Set once the server begins to stop its nodes on purpose.
    shutting_down: std::sync::atomic::AtomicBool,
    /// Serializes every check-then-change, so two requests can't both pass
    /// a rule that only one of them may (such as linking the same cache twice).
    changes: Mutex<()>,
}

/// The handle handlers get.
pub type SharedApp = Arc<App>;

impl App {
    /// Puts the pieces together. Nothing is sampled until
    /// [`Monitor::start`] (`app.monitor.start()`).
    pub fn new(store: Arc<Store>, fleet: Fleet, data_dir: PathBuf) -> App {
        let events = Events::new();
        let timeline = Timeline::new(store.clone(), events.clone());
        let monitor = Monitor::new(
            fleet.sampler(SamplerConfig::default()),
            timeline.clone(),
            events.clone(),
        );
        App {
            store,
            fleet,
            data_dir,
            monitor,
            timeline,
            events,
            tickets: Tickets::new(),
            candidates: SnapshotMemo::default(),
            sync_progress: Default::default(),
            shutting_down: Default::default(),
            changes: Mutex::new(()),
        }
    }

    /// A link's nodes as the sampler watches them, on its current roles.
    pub fn link_nodes(&self, link: &LinkRecord) -> Result<LinkNodes, StoreError> {
        Ok(fleet::link_nodes(
            &self.store.nodes(link.primary())?,
            &self.store.nodes(link.secondary())?,
        ))
    }

    /// Says the server is stopping: automatic actions stand down.
    pub fn shutting_down(&self) {
        self.shutting_down
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether the server is stopping.
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The last progress of the link's running full sync, if it reported any.
    pub fn sync_progress(&self, link_key: &str) -> Option<SyncProgress> {
        self.sync_progress
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(link_key)
            .copied()
    }

    /// Keeps the link's latest full-sync progress.
    pub fn set_sync_progress(&self, link_key: &str, progress: SyncProgress) {
        self.sync_progress
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(link_key.to_owned(), progress);
    }

    /// Takes the change lock; hold it from the first check to the last write.
    pub async fn lock_changes(&self) -> MutexGuard<'_, ()> {
        self.changes.lock().await
    }

    /// The cache with this id, or a 404.
    pub fn cache(&self, id: &CacheId) -> Result<CacheRecord, ControlError> {
        self.store
            .cache(id)?
            .ok_or_else(|| ControlError::cache_not_found(&id.name))
    }

    /// The state ARM reports for a cache: its own operation's, or else its link's.
    pub fn provisioning_state(
        &self,
        cache: &CacheRecord,
        link: Option<&LinkRecord>,
    ) -> ProvisioningState {
        match (cache.provisioning_state, link) {
            (ProvisioningState::Succeeded, Some(link)) => {
                link.pair.state.cache_provisioning_state()
            }
            (own, _) => own,
        }
    }

    /// The ARM resource of a cache.
    pub fn resource(&self, cache: &CacheRecord) -> Result<RedisResource, ControlError> {
        Ok(self.resource_of(&self.stored(cache)?))
    }

    /// `cache` with what the store keeps beside it, from the store's
    /// snapshot when it has the cache (so listing a thousand caches reads no
    /// table a thousand times), else read now.
    fn stored(&self, cache: &CacheRecord) -> Result<StoredCache, ControlError> {
        let snapshot: std::sync::Arc<Snapshot> = self.store.snapshot()?;
        Ok(match snapshot.cache(&cache.id) {
            Some(stored) => StoredCache {
                record: cache.clone(),
                nodes: stored.nodes.clone(),
                address: stored.address,
                geo_primary: stored.geo_primary,
                link: stored.link.clone(),
                firewall_rules: stored.firewall_rules.clone(),
            },
            None => self.store.stored(cache)?,
        })
    }

    /// The ARM resource of a stored cache (from a [`Snapshot`], say).
    fn resource_of(&self, stored: &StoredCache) -> RedisResource {
        let cache = &stored.record;
        let linked_servers = stored
            .link
            .iter()
            .map(|l| ResourceRef {
                id: cache.id.linked_server_id(&l.peer_of(&cache.id).name),
            })
            .collect();
        cache.to_resource(
            self.provisioning_state(cache, stored.link.as_ref()),
            &stored.nodes,
            stored.address,
            linked_servers,
        )
    }

    /// The rules' view of a cache, with its firewall rules and its link's role.
    pub fn core_view(&self, cache: &CacheRecord) -> Result<Cache, ControlError> {
        Ok(self.core_view_of(&self.stored(cache)?))
    }

    /// The rules' view of every cache in `snapshot`, in its order.
    pub fn core_views(&self, snapshot: &Snapshot) -> Vec<Cache> {
        snapshot
            .caches
            .iter()
            .map(|c| self.core_view_of(c))
            .collect()
    }

    /// The rules' view of the cache `id` as `snapshot` holds it, or a 404.
    pub fn core_view_in(&self, snapshot: &Snapshot, id: &CacheId) -> Result<Cache, ControlError> {
        snapshot
            .cache(id)
            .map(|c| self.core_view_of(c))
            .ok_or_else(|| ControlError::cache_not_found(&id.name))
    }

    /// The rules' view of a stored cache (from a [`Snapshot`], say).
    fn core_view_of(&self, stored: &StoredCache) -> Cache {
        let cache = &stored.record;
        let end = stored.link.as_ref().map(|l| LinkEnd {
            peer: l.peer_of(&cache.id).clone(),
            role: Some(l.role_of(&cache.id)),
        });
        cache.to_core(
            self.provisioning_state(cache, stored.link.as_ref()),
            stored.firewall_rules.clone(),
            end,
        )
    }
}

/// How many answers a [`SnapshotMemo`] keeps for one snapshot.
const MEMO_ENTRIES: usize = 16;

/// Serialized answers computed from one store snapshot alone, by key,
/// kept until the store takes a new snapshot. Judging a thousand caches as
/// candidates and writing the answer out takes milliseconds, and nothing in
/// it can change before a write to the store does, which makes a new
/// snapshot. An answer is filed under the snapshot it was computed from
/// (the same `Arc`, held here), so one from an older snapshot is never
/// served for a newer one.
#[derive(Default)]
pub struct SnapshotMemo {
    kept: std::sync::Mutex<Option<Memoized>>,
}

/// The snapshot the answers were computed from, and the answers by key.
type Memoized = (Arc<Snapshot>, HashMap<String, Arc<[u8]>>);

impl SnapshotMemo {
    /// The answer kept for `key` in `snapshot`, or `make`'s, kept. `make`
    /// runs outside the lock, so a slow one holds up no other key.
    pub fn get_or_make<E>(
        &self,
        snapshot: &Arc<Snapshot>,
        key: &str,
        make: impl FnOnce() -> Result<Vec<u8>, E>,
    ) -> Result<Arc<[u8]>, E> {
        if let Some(kept) = self
            .lock()
            .as_ref()
            .filter(|(at, _)| Arc::ptr_eq(at, snapshot))
            .and_then(|(_, answers)| answers.get(key).cloned())
        {
            return Ok(kept);
        }
        let made: Arc<[u8]> = make()?.into();
        let mut kept = self.lock();
        match kept.as_mut() {
            Some((at, answers)) if Arc::ptr_eq(at, snapshot) => {
                if answers.len() >= MEMO_ENTRIES {
                    answers.clear();
                }
                answers.insert(key.to_owned(), made.clone());
            }
            _ => {
                *kept = Some((
                    snapshot.clone(),
                    HashMap::from([(key.to_owned(), made.clone())]),
                ))
            }
        }
        Ok(made)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Memoized>> {
        self.kept.lock().unwrap_or_else(|p| p.into_inner())
    }
}
