//! Geo-replication metrics sampled from the real nodes.
//!
//! Every second the [`Sampler`] reads `INFO replication stats` from both
//! sides of every registered link and turns it into one [`Sample`] of the
//! five Azure Monitor metrics (see [`georep_core::metrics::GeoMetric`]):
//!
//! | metric | from |
//! |---|---|
//! | GeoReplicationHealthy | the secondary's `master_link_status`; 0 if either side does not answer |
//! | GeoReplicationConnectivityLag | the secondary's `master_last_io_seconds_ago`, or the time since the link was last up |
//! | GeoReplicationDataSyncOffset | the primary's `master_repl_offset` minus the secondary's `slave_repl_offset` |
//! | GeoReplicationFullSyncEventStarted / Finished | the primary's `sync_full` and the secondary's `master_sync_in_progress` edges |
//!
//! Samples are kept in memory for at least an hour per link and served in
//! Azure Monitor's shape by [`Sampler::query`]; each one is also broadcast
//! ([`Sampler::subscribe`]) for the live event stream.
//!
//! The API registers a link when linking starts (before `REPLICAOF`, so the
//! first full sync is counted), registers it again with the roles swapped
//! after a failover (history is kept), and unregisters it on unlink. A link
//! is named by any stable key the caller chooses.

mod query;
mod track;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures::future::join_all;
use georep_core::arm::MetricsResponse;
use redis::aio::MultiplexedConnection;
use serde::Serialize;
use thiserror::Error;
use time::OffsetDateTime;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio::time::{timeout, Instant, MissedTickBehavior};
use tracing::{debug, info};

use crate::dataplane::credentials::Credentials;
use crate::dataplane::node::{self, Info};
use track::{LinkTracker, ShardObs};

pub use query::{
    build_response, format_duration, parse_duration, unit_name, Aggregation, Interval,
    MetricsQuery, QueryError, MAX_POINTS,
};
pub use track::Sample;

/// How the sampler runs.
#[derive(Debug, Clone)]
pub struct SamplerConfig {
    /// Time between samples.
    pub period: Duration,
    /// How long samples are kept.
    pub retention: Duration,
    /// How long a node may take to connect, and to answer `INFO`, before it
    /// counts as unreachable for this sample.
    pub node_timeout: Duration,
    /// How many samples the live channel buffers for a slow subscriber.
    pub channel_capacity: usize,
}

impl Default for SamplerConfig {
    fn default() -> Self {
        SamplerConfig {
            period: Duration::from_secs(1),
            retention: Duration::from_secs(65 * 60),
            node_timeout: Duration::from_millis(800),
            channel_capacity: 1024,
        }
    }
}

/// A link's nodes: the shard primaries of each side, in shard order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LinkNodes {
    /// The geo-primary cache's shard primaries.
    pub primary: Vec<SocketAddr>,
    /// The geo-secondary cache's shard primaries; shard `i` follows `primary[i]`.
    pub secondary: Vec<SocketAddr>,
}

/// One sample of one link, as the live stream carries it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkSample {
    /// The link's key, as registered.
    pub link: String,
    /// The sample.
    pub sample: Sample,
    /// Whether health flipped since the previous sample (for the link's
    /// timeline: "unhealthy", "healthy again").
    pub health_changed: bool,
}

/// What the sampler refuses.
#[derive(Debug, Error)]
pub enum SamplerError {
    /// No link is registered under this key.
    #[error("no link '{0}' is being sampled")]
    UnknownLink(String),
    /// The nodes do not pair up shard by shard.
    #[error("a link needs the same number of shard primaries on both sides, at least one (got {primary} and {secondary})")]
    BadNodes {
        /// Primary shards given.
        primary: usize,
        /// Secondary shards given.
        secondary: usize,
    },
    /// The metrics query is malformed.
    #[error(transparent)]
    Query(#[from] QueryError),
}

/// Samples every registered link, keeps the history, serves queries.
///
/// Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Sampler {
    inner: Arc<Inner>,
}

struct Inner {
    credentials: Credentials,
    config: SamplerConfig,
    links: Mutex<HashMap<String, LinkEntry>>,
    /// One control connection per node, reused from sample to sample.
    connections: Mutex<HashMap<SocketAddr, MultiplexedConnection>>,
    events: broadcast::Sender<LinkSample>,
    /// The origin of the trackers' monotonic clock.
    origin: Instant,
}

struct LinkEntry {
    nodes: LinkNodes,
    /// Bumped when the nodes change, so a sample taken of the old nodes is dropped.
    generation: u64,
    tracker: LinkTracker,
    history: VecDeque<Sample>,
}

impl std::fmt::Debug for Sampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sampler")
            .field("config", &self.inner.config)
            .field("links", &self.links())
            .finish_non_exhaustive()
    }
}

impl Sampler {
    /// A sampler that authenticates to each node as the internal user.
    /// Nothing runs until [`Sampler::spawn`] (or [`Sampler::tick`]).
    pub fn new(credentials: &Credentials, config: SamplerConfig) -> Sampler {
        let (events, _) = broadcast::channel(config.channel_capacity.max(1));
        Sampler {
            inner: Arc::new(Inner {
                credentials: credentials.clone(),
                config,
                links: Mutex::new(HashMap::new()),
                connections: Mutex::new(HashMap::new()),
                events,
                origin: Instant::now(),
            }),
        }
    }

    /// Samples every `period` until every clone of this sampler is dropped
    /// (or the handle is aborted).
    pub fn spawn(&self) -> JoinHandle<()> {
        let weak = Arc::downgrade(&self.inner);
        let period = self.inner.config.period;
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(period);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                Sampler { inner }.tick().await;
            }
            debug!("sampler stopped");
        })
    }

    /// Starts sampling `link`, or, if it is registered, points it at new
    /// nodes (after a failover) while keeping its history. Takes a first
    /// sample at once and returns it: register before linking, and the
    /// first full sync is counted.
    pub async fn register(&self, link: &str, nodes: LinkNodes) -> Result<Sample, SamplerError> {
        if nodes.primary.is_empty() || nodes.primary.len() != nodes.secondary.len() {
            return Err(SamplerError::BadNodes {
                primary: nodes.primary.len(),
                secondary: nodes.secondary.len(),
            });
        }
        let observation = self.observe(&nodes).await;
        let now = self.clock();
        let event = {
            let mut links = self.links_guard();
            let entry = links.entry(link.to_owned()).or_insert_with(|| {
                info!(link, "sampling link");
                LinkEntry {
                    nodes: nodes.clone(),
                    generation: 0,
                    tracker: LinkTracker::new(nodes.primary.len(), now),
                    history: VecDeque::new(),
                }
            });
            if entry.nodes != nodes {
                info!(link, "link's nodes changed; sampling the new ones");
                entry.nodes = nodes.clone();
                entry.generation += 1;
                entry.tracker.reset_shards(nodes.primary.len());
            }
            entry.record(link, now, &observation, &self.inner.config)
        };
        let sample = event.sample.clone();
        let _ = self.inner.events.send(event);
        Ok(sample)
    }

    /// Stops sampling `link` and drops its history. False if it was not registered.
    pub fn unregister(&self, link: &str) -> bool {
        let removed = self.links_guard().remove(link).is_some();
        if removed {
            info!(link, "stopped sampling link");
            self.forget_unused_connections();
        }
        removed
    }

    /// The links being sampled.
    pub fn links(&self) -> Vec<String> {
        let mut links: Vec<String> = self.links_guard().keys().cloned().collect();
        links.sort();
        links
    }

    /// The link's most recent sample.
    pub fn latest(&self, link: &str) -> Option<Sample> {
        self.links_guard().get(link)?.history.back().cloned()
    }

    /// The link's samples, oldest first.
    pub fn history(&self, link: &str) -> Option<Vec<Sample>> {
        Some(
            self.links_guard()
                .get(link)?
                .history
                .iter()
                .cloned()
                .collect(),
        )
    }

    /// The last `master_repl_offset` each primary shard reported: what a
    /// forced failover compares against (see
    /// [`crate::dataplane::replication::forced_failover`]).
    pub fn last_primary_offsets(&self, link: &str) -> Option<Vec<Option<u64>>> {
        Some(self.links_guard().get(link)?.tracker.primary_offsets())
    }

    /// Every sample of every link, as taken.
    pub fn subscribe(&self) -> broadcast::Receiver<LinkSample> {
        self.inner.events.subscribe()
    }

    /// The link's metrics in Azure Monitor's shape, for the cache resource
    /// `resource_id` in `region`.
    pub fn query(
        &self,
        link: &str,
        query: &MetricsQuery,
        resource_id: &str,
        region: &str,
    ) -> Result<MetricsResponse, SamplerError> {
        let links = self.links_guard();
        let entry = links
            .get(link)
            .ok_or_else(|| SamplerError::UnknownLink(link.to_owned()))?;
        let (older, newer) = entry.history.as_slices();
        // The ring buffer is usually one slice; join it only when it wraps.
        let response = if newer.is_empty() {
            build_response(older, query, resource_id, region)
        } else {
            let samples: Vec<Sample> = entry.history.iter().cloned().collect();
            build_response(&samples, query, resource_id, region)
        };
        Ok(response)
    }

    /// Takes one sample of every link now.
    pub async fn tick(&self) {
        let snapshot: Vec<(String, u64, LinkNodes)> = self
            .links_guard()
            .iter()
            .map(|(id, entry)| (id.clone(), entry.generation, entry.nodes.clone()))
            .collect();
        let observations = join_all(snapshot.iter().map(|(_, _, nodes)| self.observe(nodes))).await;
        let now = self.clock();
        let events: Vec<LinkSample> = {
            let mut links = self.links_guard();
            snapshot
                .iter()
                .zip(&observations)
                .filter_map(|((id, generation, _), observation)| {
                    let entry = links.get_mut(id)?;
                    // Re-registered with other nodes meanwhile: this look is stale.
                    (entry.generation == *generation)
                        .then(|| entry.record(id, now, observation, &self.inner.config))
                })
                .collect()
        };
        for event in events {
            if event.health_changed {
                info!(link = %event.link, healthy = event.sample.healthy, "link health changed");
            }
            // No subscriber is fine.
            let _ = self.inner.events.send(event);
        }
    }

    /// Reads every shard of a link, shards at once.
    async fn observe(&self, nodes: &LinkNodes) -> Vec<ShardObs> {
        join_all(
            nodes
                .primary
                .iter()
                .zip(&nodes.secondary)
                .map(|(&p, &s)| async move {
                    // The secondary first: a full sync it shows as started or done
                    // is then always in the primary's `sync_full` too (the primary
                    // counts a sync before it sends anything), and the offset read
                    // second from the primary is never behind the secondary's.
                    let secondary = self.node_info(s).await;
                    let primary = self.node_info(p).await;
                    ShardObs::from_info(p, primary.as_ref(), secondary.as_ref())
                }),
        )
        .await
    }

    /// `INFO replication stats` from one node, or `None` if it does not
    /// answer in time. A cached connection that fails is replaced once, so
    /// a restarted node is not reported down.
    async fn node_info(&self, addr: SocketAddr) -> Option<Info> {
        let cached = self.connections_guard().get(&addr).cloned();
        if let Some(mut conn) = cached {
            if let Some(info) = self.info_on(&mut conn, addr).await {
                return Some(info);
            }
            self.connections_guard().remove(&addr);
        }
        let limit = self.inner.config.node_timeout;
        let connecting = self
            .inner
            .credentials
            .connect_with_timeouts(addr, limit, limit);
        let mut conn = timeout(limit, connecting).await.ok()?.ok()?;
        let info = self.info_on(&mut conn, addr).await?;
        self.connections_guard().insert(addr, conn);
        Some(info)
    }

    async fn info_on(&self, conn: &mut MultiplexedConnection, addr: SocketAddr) -> Option<Info> {
        let asking = node::info_on(conn, addr, &["replication", "stats"]);
        match timeout(self.inner.config.node_timeout, asking).await {
            Ok(Ok(info)) => Some(info),
            Ok(Err(e)) => {
                debug!(%addr, error = %e, "node did not answer INFO");
                None
            }
            Err(_) => None,
        }
    }

    /// Drops cached connections to nodes no link uses any more.
    fn forget_unused_connections(&self) {
        let used: std::collections::HashSet<SocketAddr> = self
            .links_guard()
            .values()
            .flat_map(|e| e.nodes.primary.iter().chain(&e.nodes.secondary).copied())
            .collect();
        self.connections_guard()
            .retain(|addr, _| used.contains(addr));
    }

    /// Seconds since the sampler was made, on a monotonic clock.
    fn clock(&self) -> f64 {
        self.inner.origin.elapsed().as_secs_f64()
    }

    fn links_guard(&self) -> MutexGuard<'_, HashMap<String, LinkEntry>> {
        // A panic elsewhere must not stop the metrics: the data stays consistent
        // because every update is a single push or replace.
        self.inner.links.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn connections_guard(&self) -> MutexGuard<'_, HashMap<SocketAddr, MultiplexedConnection>> {
        self.inner
            .connections
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}

impl LinkEntry {
    /// Turns a look into a sample, keeps it, and says what to broadcast.
    fn record(
        &mut self,
        link: &str,
        now: f64,
        observation: &[ShardObs],
        config: &SamplerConfig,
    ) -> LinkSample {
        let was_healthy = self.history.back().map(|s| s.healthy);
        let sample = self
            .tracker
            .step(now, OffsetDateTime::now_utc(), observation);
        // Keep `retention` worth of samples, and never more than twice the
        // count that should take (in case the clock jumps).
        let keep_from = sample.time - config.retention;
        let max_len =
            (config.retention.as_secs_f64() / config.period.as_secs_f64().max(0.001)) as usize * 2
                + 16;
        while self
            .history
            .front()
            .is_some_and(|s| s.time < keep_from || self.history.len() >= max_len)
        {
            self.history.pop_front();
        }
        self.history.push_back(sample.clone());
        LinkSample {
            link: link.to_owned(),
            health_changed: was_healthy.is_some_and(|was| was != sample.healthy),
            sample,
        }
    }
}
