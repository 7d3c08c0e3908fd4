//! Links' health, from the [`Sampler`]'s per-second metrics: which links
//! are sampled, and what each sample means for the rest of the server.
//!
//! Every sample goes to the live stream as a `metric` event. Full syncs it
//! saw start or finish, and the link going unhealthy or healthy again, are
//! steps of the link's timeline. Health is only judged while the link is
//! settled (`Succeeded`): while it links, fails over or unlinks, the link
//! driver records what happens, and a sample taken mid-step says nothing new.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use georep_core::arm::MetricsResponse;
use georep_core::live::{LinkRef, LiveEvent, MetricEvent};
use georep_core::metrics::GeoMetric;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio::sync::broadcast::error::RecvError;

use crate::dataplane::sampler::{build_response, LinkNodes, LinkSample, MetricsQuery, Sampler};
use crate::live::events::Events;
use crate::live::timeline::{Step, Timeline};

/// Samples recorded this soon after a link settles may have been taken
/// before it did (a look at the nodes takes up to two node timeouts).
const SETTLE_GRACE: Duration = Duration::from_secs(2);

/// Whether a link's health is worth a timeline step.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct HealthWatch {
    /// The health the timeline last stated, if any.
    announced: Option<bool>,
    /// Since when samples count; `None` while the link is busy.
    armed_since: Option<OffsetDateTime>,
}

impl HealthWatch {
    /// The link settled `at`; `healthy` is what settling proved, if
    /// anything. Returns `Some(true)` if that is news (it was unhealthy).
    fn arm(&mut self, at: OffsetDateTime, healthy: Option<bool>) -> Option<bool> {
        self.armed_since = Some(at);
        let healthy = healthy?;
        let was = self.announced.replace(healthy);
        (was.is_some_and(|was| was != healthy)).then_some(healthy)
    }

    /// The link is busy: samples don't count until it settles again.
    fn disarm(&mut self) {
        self.armed_since = None;
    }

    /// A sample recorded `at` says the link is `healthy`; returns the new
    /// health if the timeline should say so.
    fn observe(&mut self, at: OffsetDateTime, healthy: bool) -> Option<bool> {
        let since = self.armed_since?;
        if at < since + SETTLE_GRACE || self.announced == Some(healthy) {
            return None;
        }
        let first = self.announced.replace(healthy).is_none();
        // The first look at a link (after a restart) is news only if it is bad.
        (!first || !healthy).then_some(healthy)
    }
}

/// A sampled link.
struct Watched {
    link: LinkRef,
    health: HealthWatch,
}

/// The sampled links. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Monitor {
    inner: Arc<Inner>,
}

struct Inner {
    sampler: Sampler,
    links: Mutex<HashMap<String, Watched>>,
    timeline: Timeline,
    events: Events,
}

impl Monitor {
    /// Watches links with `sampler`, writing to `timeline` and `events`.
    /// Nothing is sampled until [`Monitor::start`].
    pub fn new(sampler: Sampler, timeline: Timeline, events: Events) -> Monitor {
        Monitor {
            inner: Arc::new(Inner {
                sampler,
                links: Mutex::new(HashMap::new()),
                timeline,
                events,
            }),
        }
    }

    /// Starts sampling every second, and handling the samples.
    pub fn start(&self) {
        self.inner.sampler.spawn();
        let monitor = self.clone();
        let mut samples = self.inner.sampler.subscribe();
        tokio::spawn(async move {
            loop {
                match samples.recv().await {
                    Ok(sample) => monitor.absorb(sample),
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(
                            missed,
                            "metric samples were handled too slowly; some were skipped"
                        );
                    }
                    Err(RecvError::Closed) => break,
                }
            }
        });
    }

    /// Samples `link` (named `key`) on `nodes` from now on, or points its
    /// sampling at new nodes (after a failover), keeping its history. Takes
    /// a sample at once, so a full sync that is about to start, or has just
    /// finished, is counted before the caller goes on.
    pub async fn watch(&self, key: &str, link: LinkRef, nodes: LinkNodes) {
        self.guard()
            .entry(key.to_owned())
            .and_modify(|w| w.link = link.clone())
            .or_insert_with(|| Watched {
                link,
                health: HealthWatch::default(),
            });
        if let Err(error) = self.inner.sampler.register(key, nodes).await {
            tracing::error!(%error, "could not sample the link");
        }
    }

    /// Stops sampling a link (it is gone) and drops its history.
    pub fn forget(&self, key: &str) {
        self.guard().remove(key);
        self.inner.sampler.unregister(key);
    }

    /// The link settled (`Succeeded`): its health counts again. `healthy`
    /// is what settling proved (a finished sync proves it replicates).
    pub fn settled(&self, key: &str, healthy: Option<bool>) {
        let news = {
            let mut links = self.guard();
            let Some(watched) = links.get_mut(key) else {
                return;
            };
            watched
                .health
                .arm(OffsetDateTime::now_utc(), healthy)
                .map(|h| (watched.link.clone(), h))
        };
        if let Some((link, healthy)) = news {
            self.inner.timeline.record(&link, health_step(healthy));
        }
    }

    /// The link is busy (failing over, unlinking): its health doesn't count.
    pub fn busy(&self, key: &str) {
        if let Some(watched) = self.guard().get_mut(key) {
            watched.health.disarm();
        }
    }

    /// The last replication offset each primary shard of the link reported,
    /// for a forced failover to count what may be lost.
    pub fn last_primary_offsets(&self, key: &str) -> Vec<Option<u64>> {
        self.inner
            .sampler
            .last_primary_offsets(key)
            .unwrap_or_default()
    }

    /// The link's metrics in Azure Monitor's shape, for the cache
    /// `resource_id` in `region`; a link not (or no longer) sampled has no data.
    pub fn query(
        &self,
        key: Option<&str>,
        query: &MetricsQuery,
        resource_id: &str,
        region: &str,
    ) -> MetricsResponse {
        key.and_then(|key| {
            self.inner
                .sampler
                .query(key, query, resource_id, region)
                .ok()
        })
        .unwrap_or_else(|| build_response(&[], query, resource_id, region))
    }

    /// One sample: to the live stream, and to the timeline if it says something new.
    fn absorb(&self, event: LinkSample) {
        let LinkSample {
            link: key, sample, ..
        } = event;
        let (link, health) = {
            let mut links = self.guard();
            // Samples of a link that is gone are stale.
            let Some(watched) = links.get_mut(&key) else {
                return;
            };
            let health = watched.health.observe(sample.time, sample.healthy);
            (watched.link.clone(), health)
        };
        let timeline = &self.inner.timeline;
        if sample.full_sync_started > 0 {
            timeline.record_at(
                &link,
                sample.time,
                Step::FullSyncStarted(sample.full_sync_started),
            );
        }
        if sample.full_sync_finished > 0 {
            timeline.record_at(
                &link,
                sample.time,
                Step::FullSyncFinished(sample.full_sync_finished),
            );
        }
        if let Some(healthy) = health {
            timeline.record_at(&link, sample.time, health_step(healthy));
        }
        // The console sees a write through the geo-primary URL by this growing.
        let offsets = self.last_primary_offsets(&key);
        let primary_offset = (!offsets.is_empty())
            .then(|| offsets.into_iter().sum::<Option<u64>>())
            .flatten();
        self.inner.events.publish(LiveEvent::Metric(MetricEvent {
            time: sample.time.format(&Rfc3339).unwrap_or_default(),
            values: GeoMetric::ALL
                .iter()
                .map(|m| (m.name().to_owned(), sample.value(*m)))
                .collect(),
            primary_reachable: sample.primary_reachable,
            secondary_reachable: sample.secondary_reachable,
            primary_offset,
            link,
        }));
    }

    fn guard(&self) -> MutexGuard<'_, HashMap<String, Watched>> {
        // Every change is a single insert, remove or field update.
        self.inner.links.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn health_step(healthy: bool) -> Step {
    if healthy {
        Step::HealthyAgain
    } else {
        Step::Unhealthy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_700_000_000 + seconds).unwrap()
    }

    #[test]
    fn health_counts_only_while_settled() {
        let mut watch = HealthWatch::default();
        // Linking: nothing counts.
        assert_eq!(watch.observe(at(0), false), None);
        // Linked: the finished sync proved it healthy; that is not news.
        assert_eq!(watch.arm(at(1), Some(true)), None);
        // Within the grace, a sample may predate settling.
        assert_eq!(watch.observe(at(2), false), None);
        assert_eq!(watch.observe(at(5), true), None);
        assert_eq!(watch.observe(at(6), false), Some(false));
        assert_eq!(watch.observe(at(7), false), None);
        // A failover: nothing counts until it settles, healthy again.
        watch.disarm();
        assert_eq!(watch.observe(at(8), true), None);
        assert_eq!(watch.arm(at(9), Some(true)), Some(true));
        assert_eq!(watch.observe(at(20), true), None);
    }

    #[test]
    fn after_a_restart_only_bad_news_is_news() {
        let mut healthy = HealthWatch::default();
        assert_eq!(healthy.arm(at(0), None), None);
        assert_eq!(healthy.observe(at(5), true), None);
        assert_eq!(healthy.observe(at(6), false), Some(false));

        let mut down = HealthWatch::default();
        down.arm(at(0), None);
        assert_eq!(down.observe(at(5), false), Some(false));
        assert_eq!(down.observe(at(6), true), Some(true));
    }
}
