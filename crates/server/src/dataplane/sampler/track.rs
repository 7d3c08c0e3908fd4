//! From one look at a link's nodes to one [`Sample`]: the pure part of the
//! sampler, with the memory it needs between looks (edges, deltas, last
//! known offsets, when the link was last healthy).

use std::net::SocketAddr;

use georep_core::metrics::GeoMetric;
use serde::{Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::dataplane::node::{Info, Role};

/// One second's reading of a link's health, in Azure Monitor's terms.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sample {
    /// When it was taken (UTC).
    #[serde(serialize_with = "rfc3339")]
    pub time: OffsetDateTime,
    /// GeoReplicationHealthy: every shard's secondary streams from a
    /// reachable primary.
    pub healthy: bool,
    /// GeoReplicationConnectivityLag, in seconds: the secondary's
    /// `master_last_io_seconds_ago` while healthy, else the time since the
    /// link was last healthy. The largest over shards.
    pub connectivity_lag_seconds: f64,
    /// GeoReplicationDataSyncOffset, in bytes: the primary's
    /// `master_repl_offset` minus the secondary's `slave_repl_offset`, summed
    /// over shards. A side that does not answer counts with its last known
    /// offset, so while the primary is down this is what a forced failover
    /// may lose.
    pub data_sync_offset_bytes: u64,
    /// GeoReplicationFullSyncEventStarted: full syncs started since the last sample.
    pub full_sync_started: u64,
    /// GeoReplicationFullSyncEventFinished: full syncs finished since the last sample.
    pub full_sync_finished: u64,
    /// Whether every primary shard answered.
    pub primary_reachable: bool,
    /// Whether every secondary shard answered.
    pub secondary_reachable: bool,
    /// Whether any secondary shard is receiving a full sync.
    pub full_sync_in_progress: bool,
}

impl Sample {
    /// The sample's value for `metric`, as Azure Monitor counts it.
    pub fn value(&self, metric: GeoMetric) -> f64 {
        match metric {
            GeoMetric::GeoReplicationHealthy => f64::from(u8::from(self.healthy)),
            GeoMetric::GeoReplicationConnectivityLag => self.connectivity_lag_seconds,
            GeoMetric::GeoReplicationDataSyncOffset => self.data_sync_offset_bytes as f64,
            GeoMetric::GeoReplicationFullSyncEventStarted => self.full_sync_started as f64,
            GeoMetric::GeoReplicationFullSyncEventFinished => self.full_sync_finished as f64,
        }
    }
}

fn rfc3339<S: Serializer>(time: &OffsetDateTime, serializer: S) -> Result<S::Ok, S::Error> {
    let text = time.format(&Rfc3339).map_err(serde::ser::Error::custom)?;
    serializer.serialize_str(&text)
}

/// What one look at a shard's primary node found; `None` if it did not answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PrimaryObs {
    /// `role:master`.
    pub is_primary: bool,
    /// `master_repl_offset`.
    pub repl_offset: Option<u64>,
    /// `sync_full`.
    pub sync_full: Option<u64>,
}

/// What one look at a shard's secondary node found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SecondaryObs {
    /// It is a replica of the expected primary node.
    pub follows_primary: bool,
    /// `master_link_status:up`.
    pub link_up: bool,
    /// `master_last_io_seconds_ago`.
    pub last_io_seconds: Option<u64>,
    /// `master_link_down_since_seconds`.
    pub down_since_seconds: Option<u64>,
    /// `master_sync_in_progress:1`.
    pub sync_in_progress: bool,
    /// How much of the primary's stream it has processed.
    pub repl_offset: Option<u64>,
}

/// One shard, both sides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ShardObs {
    pub primary: Option<PrimaryObs>,
    pub secondary: Option<SecondaryObs>,
}

impl ShardObs {
    /// Reads the fields the metrics need from `INFO replication stats`.
    pub fn from_info(
        primary_addr: SocketAddr,
        primary: Option<&Info>,
        secondary: Option<&Info>,
    ) -> ShardObs {
        ShardObs {
            primary: primary.map(|info| PrimaryObs {
                is_primary: info.role() == Some(Role::Primary),
                repl_offset: info.master_repl_offset(),
                sync_full: info.sync_full(),
            }),
            secondary: secondary.map(|info| SecondaryObs {
                follows_primary: info.is_replica_of(primary_addr),
                link_up: info.master_link_up(),
                last_io_seconds: info.master_last_io_seconds_ago(),
                down_since_seconds: info.master_link_down_since_seconds(),
                sync_in_progress: info.master_sync_in_progress(),
                repl_offset: info.slave_repl_offset().or(info.master_repl_offset()),
            }),
        }
    }

    fn healthy(&self) -> bool {
        let primary_ok = self.primary.as_ref().is_some_and(|p| p.is_primary);
        let secondary_ok = self
            .secondary
            .as_ref()
            .is_some_and(|s| s.follows_primary && s.link_up && !s.sync_in_progress);
        primary_ok && secondary_ok
    }
}

/// What the tracker remembers about one shard between samples.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct ShardTrack {
    /// The primary's `sync_full` at the last look.
    sync_full: Option<u64>,
    /// Whether the secondary was in a full sync at the last look.
    in_progress: Option<bool>,
    /// Full syncs the primary's counter showed starting that the secondary
    /// has not yet been seen starting.
    counted_unmatched: u64,
    /// Full syncs the secondary was seen starting that the primary's counter
    /// has not shown yet (the two nodes are read at about the same time, in
    /// either order).
    edges_unmatched: u64,
    /// The last offsets each side reported.
    primary_offset: Option<u64>,
    secondary_offset: Option<u64>,
}

impl ShardTrack {
    /// Full syncs started and finished since the last look.
    ///
    /// Two signals, because a small sync starts and ends between two looks:
    /// the primary's `sync_full` counter, and the secondary's
    /// `master_sync_in_progress` edges. Each start is counted from whichever
    /// signal shows it first and matched against the other one later, so one
    /// sync is not counted twice; a start only the counter showed is over
    /// once the secondary is streaming again.
    ///
    /// The counter counts every replica of the primary, so a full sync of
    /// the primary cache's own replica is counted too.
    fn full_sync_events(
        &mut self,
        sync_full: Option<u64>,
        in_progress: Option<bool>,
        streaming: bool,
    ) -> (u64, u64) {
        let (mut started, mut finished) = (0, 0);
        if let Some(now) = sync_full {
            // A smaller count means the primary restarted: a new baseline.
            if let Some(delta) = self.sync_full.and_then(|before| now.checked_sub(before)) {
                let already_seen = delta.min(self.edges_unmatched);
                self.edges_unmatched -= already_seen;
                started += delta - already_seen;
                self.counted_unmatched += delta - already_seen;
            }
            self.sync_full = Some(now);
        }
        if let Some(now) = in_progress {
            let before = self.in_progress.unwrap_or(false);
            if now && !before {
                if self.counted_unmatched > 0 {
                    self.counted_unmatched -= 1;
                } else {
                    started += 1;
                    self.edges_unmatched += 1;
                }
            }
            if before && !now {
                finished += 1;
            }
            self.in_progress = Some(now);
            if !now && streaming {
                // Starts only the counter saw ended between two looks.
                finished += std::mem::take(&mut self.counted_unmatched);
                // Every sync so far is over and counted; an edge the counter
                // never matched (its primary restarted) must not swallow a
                // later start.
                self.edges_unmatched = 0;
            }
        }
        (started, finished)
    }
}

/// A link's memory between samples.
#[derive(Debug, Clone)]
pub(crate) struct LinkTracker {
    shards: Vec<ShardTrack>,
    /// When (on the tracker's clock, in seconds) the link last carried data.
    last_healthy_at: f64,
}

impl LinkTracker {
    /// A tracker for `shards` shards, starting at `now`.
    pub fn new(shards: usize, now: f64) -> LinkTracker {
        LinkTracker {
            shards: vec![ShardTrack::default(); shards],
            last_healthy_at: now,
        }
    }

    /// Forgets per-shard history (the nodes changed, e.g. after a failover)
    /// but keeps when the link was last healthy.
    pub fn reset_shards(&mut self, shards: usize) {
        self.shards = vec![ShardTrack::default(); shards];
    }

    /// The last offset each primary shard reported.
    pub fn primary_offsets(&self) -> Vec<Option<u64>> {
        self.shards.iter().map(|s| s.primary_offset).collect()
    }

    /// Turns one look at every shard into a sample. `now` is a monotonic
    /// clock in seconds; `time` the wall clock to stamp the sample with.
    pub fn step(&mut self, now: f64, time: OffsetDateTime, shards: &[ShardObs]) -> Sample {
        let healthy = !shards.is_empty() && shards.iter().all(ShardObs::healthy);
        let mut sample = Sample {
            time,
            healthy,
            connectivity_lag_seconds: 0.0,
            data_sync_offset_bytes: 0,
            full_sync_started: 0,
            full_sync_finished: 0,
            primary_reachable: shards.iter().all(|s| s.primary.is_some()),
            secondary_reachable: shards.iter().all(|s| s.secondary.is_some()),
            full_sync_in_progress: shards
                .iter()
                .any(|s| s.secondary.as_ref().is_some_and(|s| s.sync_in_progress)),
        };
        let mut last_io: u64 = 0;
        let mut reported_down: u64 = 0;

        for (track, obs) in self.shards.iter_mut().zip(shards) {
            if let Some(p) = &obs.primary {
                track.primary_offset = p.repl_offset.or(track.primary_offset);
            }
            if let Some(s) = &obs.secondary {
                track.secondary_offset = s.repl_offset.or(track.secondary_offset);
                if s.follows_primary && s.link_up {
                    last_io = last_io.max(s.last_io_seconds.unwrap_or(0));
                }
                reported_down = reported_down.max(s.down_since_seconds.unwrap_or(0));
            }
            if let (Some(p), Some(s)) = (track.primary_offset, track.secondary_offset) {
                sample.data_sync_offset_bytes += p.saturating_sub(s);
            }
            let streaming = obs.healthy();
            let (started, finished) = track.full_sync_events(
                obs.primary.as_ref().and_then(|p| p.sync_full),
                obs.secondary.as_ref().map(|s| s.sync_in_progress),
                streaming,
            );
            sample.full_sync_started += started;
            sample.full_sync_finished += finished;
        }

        sample.connectivity_lag_seconds = connectivity_lag(
            healthy,
            last_io,
            reported_down,
            now,
            &mut self.last_healthy_at,
        );
        sample
    }
}

/// The connectivity lag, in seconds.
///
/// Healthy: the secondary's own measure, `master_last_io_seconds_ago`, and
/// the link counts as healthy up to that long ago. Not healthy: the time
/// since then, or what the secondary reports as the link's downtime if that
/// is longer (the link may have gone down before the tracker started).
fn connectivity_lag(
    healthy: bool,
    last_io: u64,
    reported_down: u64,
    now: f64,
    last_healthy_at: &mut f64,
) -> f64 {
    if healthy {
        let lag = last_io as f64;
        *last_healthy_at = now - lag;
        lag
    } else {
        (now - *last_healthy_at).max(reported_down as f64).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap()
    }

    fn healthy_shard(primary_offset: u64, secondary_offset: u64, sync_full: u64) -> ShardObs {
        ShardObs {
            primary: Some(PrimaryObs {
                is_primary: true,
                repl_offset: Some(primary_offset),
                sync_full: Some(sync_full),
            }),
            secondary: Some(SecondaryObs {
                follows_primary: true,
                link_up: true,
                last_io_seconds: Some(0),
                down_since_seconds: None,
                sync_in_progress: false,
                repl_offset: Some(secondary_offset),
            }),
        }
    }

    fn syncing_shard(sync_full: u64) -> ShardObs {
        let mut shard = healthy_shard(1000, 1, sync_full);
        let s = shard.secondary.as_mut().unwrap();
        s.link_up = false;
        s.sync_in_progress = true;
        shard
    }

    #[test]
    fn a_streaming_link_is_healthy_with_its_offset() {
        let mut tracker = LinkTracker::new(2, 0.0);
        let sample = tracker.step(
            0.0,
            t0(),
            &[healthy_shard(500, 486, 1), healthy_shard(100, 100, 1)],
        );
        assert!(sample.healthy);
        assert_eq!(sample.data_sync_offset_bytes, 14);
        assert_eq!(sample.connectivity_lag_seconds, 0.0);
        assert_eq!(sample.value(GeoMetric::GeoReplicationHealthy), 1.0);
        assert_eq!(sample.value(GeoMetric::GeoReplicationDataSyncOffset), 14.0);
    }

    #[test]
    fn a_dead_primary_makes_the_link_unhealthy_and_the_lag_grow() {
        let mut tracker = LinkTracker::new(1, 0.0);
        let mut up = healthy_shard(500, 480, 1);
        up.secondary.as_mut().unwrap().last_io_seconds = Some(1);
        tracker.step(10.0, t0(), &[up]);

        let down = ShardObs {
            primary: None,
            secondary: Some(SecondaryObs {
                follows_primary: true,
                link_up: false,
                repl_offset: Some(490),
                ..SecondaryObs::default()
            }),
        };
        let first = tracker.step(11.0, t0(), std::slice::from_ref(&down));
        assert!(!first.healthy);
        assert!(!first.primary_reachable);
        // Healthy until 9.0 (1 s since the last byte at 10.0), now 11.0.
        assert_eq!(first.connectivity_lag_seconds, 2.0);
        // The primary's last known offset stands in while it is gone.
        assert_eq!(first.data_sync_offset_bytes, 10);
        let later = tracker.step(15.0, t0(), &[down]);
        assert_eq!(later.connectivity_lag_seconds, 6.0);
        assert_eq!(tracker.primary_offsets(), vec![Some(500)]);
    }

    #[test]
    fn the_secondarys_own_downtime_counts_when_longer() {
        let mut tracker = LinkTracker::new(1, 100.0);
        let down = ShardObs {
            primary: Some(PrimaryObs {
                is_primary: true,
                ..PrimaryObs::default()
            }),
            secondary: Some(SecondaryObs {
                follows_primary: true,
                down_since_seconds: Some(42),
                ..SecondaryObs::default()
            }),
        };
        let sample = tracker.step(101.0, t0(), &[down]);
        assert_eq!(sample.connectivity_lag_seconds, 42.0);
    }

    #[test]
    fn a_secondary_following_another_node_is_unhealthy() {
        let mut shard = healthy_shard(1, 1, 0);
        shard.secondary.as_mut().unwrap().follows_primary = false;
        assert!(!LinkTracker::new(1, 0.0).step(0.0, t0(), &[shard]).healthy);
        let mut shard = healthy_shard(1, 1, 0);
        shard.primary.as_mut().unwrap().is_primary = false;
        assert!(!LinkTracker::new(1, 0.0).step(0.0, t0(), &[shard]).healthy);
        assert!(!LinkTracker::new(0, 0.0).step(0.0, t0(), &[]).healthy);
    }

    /// Started and finished counts over a run of looks.
    fn events(looks: &[ShardObs]) -> Vec<(u64, u64)> {
        let mut tracker = LinkTracker::new(1, 0.0);
        looks
            .iter()
            .enumerate()
            .map(|(i, look)| {
                let s = tracker.step(i as f64, t0(), std::slice::from_ref(look));
                (s.full_sync_started, s.full_sync_finished)
            })
            .collect()
    }

    #[test]
    fn a_slow_full_sync_is_counted_once_from_both_signals() {
        let counts = events(&[
            healthy_shard(0, 0, 0),
            syncing_shard(1),
            syncing_shard(1),
            healthy_shard(9, 9, 1),
        ]);
        assert_eq!(counts, vec![(0, 0), (1, 0), (0, 0), (0, 1)]);
    }

    #[test]
    fn a_full_sync_between_two_looks_is_started_and_finished() {
        let counts = events(&[healthy_shard(0, 0, 0), healthy_shard(9, 9, 1)]);
        assert_eq!(counts, vec![(0, 0), (1, 1)]);
    }

    #[test]
    fn a_counted_start_waits_for_the_secondarys_edge() {
        // The primary counts the sync before the secondary shows it.
        let mut waiting = syncing_shard(1);
        waiting.secondary.as_mut().unwrap().sync_in_progress = false;
        let counts = events(&[
            healthy_shard(0, 0, 0),
            waiting,
            syncing_shard(1),
            healthy_shard(9, 9, 1),
        ]);
        assert_eq!(counts, vec![(0, 0), (1, 0), (0, 0), (0, 1)]);
    }

    #[test]
    fn a_secondarys_edge_seen_before_the_counter_is_counted_once() {
        // The primary was read just before it counted the sync.
        let counts = events(&[
            healthy_shard(0, 0, 0),
            syncing_shard(0),
            healthy_shard(9, 9, 1),
            healthy_shard(9, 9, 1),
        ]);
        assert_eq!(counts, vec![(0, 0), (1, 0), (0, 1), (0, 0)]);
    }

    #[test]
    fn a_sync_seen_from_the_secondary_only_still_counts() {
        // The primary is not answering, so its counter is unknown.
        let mut blind = syncing_shard(0);
        blind.primary = None;
        let counts = events(&[blind, healthy_shard(9, 9, 1)]);
        // The first look sees a sync running; when it ends, the counter is
        // only a new baseline.
        assert_eq!(counts, vec![(1, 0), (0, 1)]);
    }

    #[test]
    fn a_restarted_primary_resets_the_baseline() {
        let counts = events(&[
            healthy_shard(0, 0, 5),
            healthy_shard(0, 0, 0),
            healthy_shard(0, 0, 1),
        ]);
        assert_eq!(counts, vec![(0, 0), (0, 0), (1, 1)]);
    }

    #[test]
    fn finished_never_outruns_started() {
        let mut tracker = LinkTracker::new(1, 0.0);
        let looks = [
            syncing_shard(3),
            healthy_shard(0, 0, 3),
            healthy_shard(0, 0, 5),
            syncing_shard(6),
            syncing_shard(7),
            healthy_shard(0, 0, 7),
        ];
        let (mut started, mut finished) = (0, 0);
        for (i, look) in looks.iter().enumerate() {
            let s = tracker.step(i as f64, t0(), std::slice::from_ref(look));
            started += s.full_sync_started;
            finished += s.full_sync_finished;
            assert!(
                finished <= started,
                "after look {i}: {finished} > {started}"
            );
        }
        assert_eq!(started, finished);
    }

    #[test]
    fn reads_the_fields_from_info() {
        let primary = Info::parse("role:master\nmaster_repl_offset:500\nsync_full:2\n");
        let secondary = Info::parse(
            "role:slave\nmaster_host:127.0.0.1\nmaster_port:7000\nmaster_link_status:up\n\
             master_last_io_seconds_ago:3\nmaster_sync_in_progress:0\nslave_repl_offset:480\n",
        );
        let obs = ShardObs::from_info(
            "127.0.0.1:7000".parse().unwrap(),
            Some(&primary),
            Some(&secondary),
        );
        assert!(obs.healthy());
        assert_eq!(obs.primary.as_ref().unwrap().sync_full, Some(2));
        let s = obs.secondary.unwrap();
        assert_eq!(
            (s.last_io_seconds, s.repl_offset, s.down_since_seconds),
            (Some(3), Some(480), None)
        );
    }

    #[test]
    fn serializes_for_the_event_stream() {
        let sample = LinkTracker::new(1, 0.0).step(0.0, t0(), &[healthy_shard(5, 5, 0)]);
        let json = serde_json::to_value(&sample).unwrap();
        assert_eq!(json["time"], "2023-11-14T22:13:20Z");
        assert_eq!(json["healthy"], true);
        assert_eq!(json["dataSyncOffsetBytes"], 0);
    }
}
