//! Wire types of the live-status extensions (`/x-georep/`): the events the
//! server streams (server-sent events) and the timeline it keeps per link.
//!
//! ARM has neither; both name a link the way ARM does, by its linked-server
//! ids, and caches by their ARM ids, so a client can match them to the
//! resources it already lists.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::arm::{FailoverSummary, SyncProgress};
use crate::link::LinkState;
use crate::model::ProvisioningState;

/// A link as events and timeline entries name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkRef {
    /// The link's linked-server id on the cache that created it as geo-primary
    /// (`{first}/linkedServers/{second}`); it does not change on failover.
    pub id: String,
    /// The same link as the other cache names it (`{second}/linkedServers/{first}`).
    pub peer_id: String,
    /// The ARM id of the current geo-primary.
    pub primary: String,
    /// The ARM id of the current geo-secondary.
    pub secondary: String,
}

/// One event of the live stream. On the wire (server-sent events) the SSE
/// event name is the `type` field, and the data is this value as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum LiveEvent {
    /// A link's state changed (or, when a stream opens, is as given).
    LinkState(LinkStateEvent),
    /// A full sync moved on.
    SyncProgress(SyncProgressEvent),
    /// A link's metrics were sampled (about once a second).
    Metric(MetricEvent),
    /// A step was added to a link's timeline.
    Timeline(TimelineEvent),
}

impl LiveEvent {
    /// The SSE event name: `linkState`, `syncProgress`, `metric` or `timeline`.
    pub fn name(&self) -> &'static str {
        match self {
            LiveEvent::LinkState(_) => "linkState",
            LiveEvent::SyncProgress(_) => "syncProgress",
            LiveEvent::Metric(_) => "metric",
            LiveEvent::Timeline(_) => "timeline",
        }
    }
}

/// A link's state, as the state machine and ARM see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkStateEvent {
    /// The link.
    pub link: LinkRef,
    /// The state machine's state (`Unlinked` once the link is gone).
    pub link_state: LinkState,
    /// The link resource's `provisioningState`; absent once unlinked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<ProvisioningState>,
}

/// How far a full sync has come.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncProgressEvent {
    /// The link.
    pub link: LinkRef,
    /// Bytes read of total, summed over shards.
    pub progress: SyncProgress,
}

/// One sample of a link's geo-replication metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricEvent {
    /// The link.
    pub link: LinkRef,
    /// When it was sampled (RFC 3339).
    pub time: String,
    /// Each metric's value by its Azure Monitor name (see
    /// [`crate::metrics::GeoMetric`]), e.g. `GeoReplicationHealthy: 1`.
    pub values: BTreeMap<String, f64>,
    /// Whether every shard of the geo-primary answered.
    pub primary_reachable: bool,
    /// Whether every shard of the geo-secondary answered.
    pub secondary_reachable: bool,
    /// The geo-primary's `master_repl_offset`, summed over shards: it grows
    /// with every write the geo-primary takes. Absent until every shard's
    /// primary has answered once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_offset: Option<u64>,
}

/// A step added to a link's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimelineEvent {
    /// The link.
    pub link: LinkRef,
    /// The step.
    pub entry: TimelineEntry,
}

/// What happened to a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TimelineKind {
    /// Someone asked to link the caches.
    LinkRequested,
    /// A full sync of the geo-secondary (or of a cache's own replica) started.
    FullSyncStarted,
    /// A full sync finished.
    FullSyncFinished,
    /// The initial sync is done: the link is `Succeeded`.
    Linked,
    /// Linking could not complete.
    LinkFailed,
    /// Someone asked for a failover: the link is `Deleting`.
    FailoverRequested,
    /// The geo-secondary was promoted and the geo-primary endpoints moved:
    /// the link is `Creating`, and the new primary takes writes.
    Promoted,
    /// The failover stopped before the promotion; nothing changed.
    FailoverAborted,
    /// The old geo-primary caught up as the geo-secondary: `Succeeded` again.
    FailoverCompleted,
    /// The link stopped replicating (a cache is down or unreachable).
    Unhealthy,
    /// The link replicates again.
    HealthyAgain,
    /// Someone asked to unlink.
    UnlinkRequested,
    /// The link is gone; both caches stand alone.
    Unlinked,
    /// A cache's primary node was lost and its replica took over (in-cache
    /// high availability); the cache's address moved with it.
    NodeReplaced,
    /// A fault was injected on purpose (`/x-georep/faults`).
    FaultInjected,
    /// An injected fault was undone.
    FaultCleared,
    /// A disaster-recovery drill started on the link (`/x-georep/drills`).
    DrillStarted,
    /// A drill ended, succeeded or failed, with its measured RTO and loss.
    DrillFinished,
}

/// One step of a link's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimelineEntry {
    /// Increases with every entry the server records.
    pub id: u64,
    /// When it happened (RFC 3339).
    pub time: String,
    /// What happened.
    pub kind: TimelineKind,
    /// The same, as a sentence.
    pub message: String,
    /// The ARM id of the geo-primary at the time.
    pub primary: String,
    /// The ARM id of the geo-secondary at the time.
    pub secondary: String,
    /// For `Promoted`: what the failover did and may have lost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover: Option<FailoverSummary>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn link() -> LinkRef {
        LinkRef {
            id: "/a/linkedServers/b".into(),
            peer_id: "/b/linkedServers/a".into(),
            primary: "/a".into(),
            secondary: "/b".into(),
        }
    }

    #[test]
    fn events_carry_their_type_and_round_trip() {
        let event = LiveEvent::LinkState(LinkStateEvent {
            link: link(),
            link_state: LinkState::Linked,
            provisioning_state: Some(ProvisioningState::Succeeded),
        });
        let value = serde_json::to_value(&event).unwrap();
        assert_eq!(value["type"], "linkState");
        assert_eq!(value["type"], event.name());
        assert_eq!(value["linkState"], json!({"state": "Linked"}));
        assert_eq!(value["link"]["peerId"], "/b/linkedServers/a");
        let back: LiveEvent = serde_json::from_value(value).unwrap();
        assert_eq!(back, event);
    }

    #[test]
    fn every_event_name_is_its_type() {
        let events = [
            LiveEvent::SyncProgress(SyncProgressEvent {
                link: link(),
                progress: SyncProgress {
                    bytes_read: 1,
                    bytes_total: 2,
                },
            }),
            LiveEvent::Metric(MetricEvent {
                link: link(),
                time: "2024-01-01T00:00:00Z".into(),
                values: BTreeMap::from([("GeoReplicationHealthy".into(), 1.0)]),
                primary_reachable: true,
                secondary_reachable: true,
                primary_offset: Some(14),
            }),
        ];
        for event in events {
            assert_eq!(serde_json::to_value(&event).unwrap()["type"], event.name());
        }
    }
}
