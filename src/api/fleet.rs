//! The fleet's loads: every cache of every subscription joined with its
//! linked servers and firewall rules, the requests side by side.

use std::future::Future;
use std::pin::Pin;

use futures::future::join_all;
use georep_core::arm::RedisResource;
use georep_core::CacheId;

use super::{Api, ApiError};
use crate::model::{CacheEntry, Fleet};

impl Api {
    /// One cache of a list, joined with its linked servers and with the
    /// firewall rules `known` (a previous load) has for it (see
    /// [`Api::with_firewall_rules`]).
    pub async fn load_entry(
        &self,
        resource: RedisResource,
        known: &Fleet,
    ) -> Result<Option<CacheEntry>, ApiError> {
        let Ok(id) = resource.id.parse::<CacheId>() else {
            return Ok(None);
        };
        let links = if resource.properties.linked_servers.is_empty() {
            Vec::new()
        } else {
            self.linked_servers(&id).await?
        };
        let rules = known
            .get(&id)
            .map(|e| e.cache.firewall_rules.clone())
            .unwrap_or_default();
        Ok(CacheEntry::new(resource, rules, links))
    }

    /// Every cache in every subscription, joined with its linked servers:
    /// what the lists need, in one request per subscription and one per
    /// linked cache. Firewall rules are carried over from `known` (a
    /// previous load) and fetched by [`Api::with_firewall_rules`], so a
    /// thousand caches show without a thousand requests first.
    pub async fn load_fleet_quick(&self, known: &Fleet) -> Result<Fleet, ApiError> {
        let subscriptions = self.list_subscriptions().await?;
        let mut lists: Vec<Vec<RedisResource>> = slots(subscriptions.len());
        all(lists.iter_mut().zip(&subscriptions).map(|(list, s)| {
            Box::pin(async move {
                *list = self.list_caches(&s.subscription_id).await?;
                Ok(())
            }) as Step<'_>
        }))
        .await?;
        let resources: Vec<RedisResource> = lists.into_iter().flatten().collect();
        let mut entries: Vec<Option<CacheEntry>> = slots(resources.len());
        all(entries.iter_mut().zip(resources).map(|(entry, r)| {
            Box::pin(async move {
                *entry = self.load_entry(r, known).await?;
                Ok(())
            }) as Step<'_>
        }))
        .await?;
        Ok(Fleet::new(entries.into_iter().flatten().collect()))
    }

    /// `fleet` with the firewall rules of its linked caches, which the
    /// failover checklist compares. Nothing else in a load reads them: the
    /// link wizard asks for its own primary's, so a poll over a thousand
    /// caches does not ask for a hundred Premium caches' rules each time.
    pub async fn with_firewall_rules(&self, fleet: Fleet) -> Result<Fleet, ApiError> {
        let mut caches = fleet.caches;
        all(caches.iter_mut().filter(|e| e.is_linked()).map(|entry| {
            Box::pin(async move {
                entry.cache.firewall_rules = self.firewall_rules(entry.id()).await?;
                Ok(())
            }) as Step<'_>
        }))
        .await?;
        Ok(Fleet::new(caches))
    }

    /// Every cache in every subscription, joined with its firewall rules and
    /// linked servers.
    pub async fn load_fleet(&self) -> Result<Fleet, ApiError> {
        let fleet = self.load_fleet_quick(&Fleet::default()).await?;
        self.with_firewall_rules(fleet).await
    }
}

/// Requests run side by side, each writing its answer where it belongs;
/// the first failure in their order is the answer. One future type for
/// every caller, so `join_all` is compiled once.
type Step<'a> = Pin<Box<dyn Future<Output = Result<(), ApiError>> + 'a>>;

fn slots<T: Default>(n: usize) -> Vec<T> {
    std::iter::repeat_with(T::default).take(n).collect()
}

async fn all<'a>(steps: impl IntoIterator<Item = Step<'a>>) -> Result<(), ApiError> {
    join_all(steps).await.into_iter().collect()
}
