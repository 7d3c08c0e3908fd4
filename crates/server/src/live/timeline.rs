//! Every link's timeline: the steps of its life (linked, full syncs,
//! failover steps, health changes, unlinked), kept in the store and sent to
//! the live stream as they happen.
//!
//! A step is recorded beside the change it describes and never decides
//! anything; failing to record one is logged and otherwise ignored.

use std::sync::Arc;

use georep_core::arm::FailoverSummary;
use georep_core::link::FailoverKind;
use georep_core::live::{LinkRef, LiveEvent, TimelineEntry, TimelineEvent, TimelineKind};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::live::events::Events;
use crate::store::{Store, StoreError};

/// One step of a link's life, with what its sentence needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Someone asked to link the caches.
    LinkRequested,
    /// Full syncs started (how many, in one sample).
    FullSyncStarted(u64),
    /// Full syncs finished (how many, in one sample).
    FullSyncFinished(u64),
    /// The link is `Succeeded`.
    Linked,
    /// Linking failed, and why.
    LinkFailed(String),
    /// A failover of this kind was asked for.
    FailoverRequested(FailoverKind),
    /// The secondary was promoted; what the failover did and may have lost.
    Promoted(FailoverSummary),
    /// The failover stopped before the promotion, and why.
    FailoverAborted(String),
    /// The old primary follows the new one: `Succeeded` again.
    FailoverCompleted,
    /// The link stopped replicating.
    Unhealthy,
    /// The link replicates again.
    HealthyAgain,
    /// Someone asked to unlink.
    UnlinkRequested,
    /// Both caches stand alone.
    Unlinked,
    /// A cache's primary node was lost: which cache, and the node that
    /// took over (`None`: no node had data, and the cache starts empty).
    NodeReplaced {
        /// The cache's name.
        cache: String,
        /// The lost node's address.
        old: String,
        /// The node now primary.
        new: Option<String>,
    },
    /// A fault injected on purpose, in words.
    FaultInjected(String),
    /// An injected fault undone, in words.
    FaultCleared(String),
    /// A disaster-recovery drill started: its id and failover kind.
    DrillStarted {
        /// The drill's id.
        id: String,
        /// The failover it rehearses.
        kind: FailoverKind,
    },
    /// A drill ended: its id, and its outcome in words.
    DrillFinished {
        /// The drill's id.
        id: String,
        /// What it measured, or why it failed.
        outcome: String,
    },
}

/// The last segment of an ARM id: the cache's name.
fn name(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

fn times(n: u64) -> String {
    if n == 1 {
        String::new()
    } else {
        format!(" ({n})")
    }
}

impl Step {
    /// The step's kind on the wire.
    pub fn kind(&self) -> TimelineKind {
        match self {
            Step::LinkRequested => TimelineKind::LinkRequested,
            Step::FullSyncStarted(_) => TimelineKind::FullSyncStarted,
            Step::FullSyncFinished(_) => TimelineKind::FullSyncFinished,
            Step::Linked => TimelineKind::Linked,
            Step::LinkFailed(_) => TimelineKind::LinkFailed,
            Step::FailoverRequested(_) => TimelineKind::FailoverRequested,
            Step::Promoted(_) => TimelineKind::Promoted,
            Step::FailoverAborted(_) => TimelineKind::FailoverAborted,
            Step::FailoverCompleted => TimelineKind::FailoverCompleted,
            Step::Unhealthy => TimelineKind::Unhealthy,
            Step::HealthyAgain => TimelineKind::HealthyAgain,
            Step::UnlinkRequested => TimelineKind::UnlinkRequested,
            Step::Unlinked => TimelineKind::Unlinked,
            Step::NodeReplaced { .. } => TimelineKind::NodeReplaced,
            Step::FaultInjected(_) => TimelineKind::FaultInjected,
            Step::FaultCleared(_) => TimelineKind::FaultCleared,
            Step::DrillStarted { .. } => TimelineKind::DrillStarted,
            Step::DrillFinished { .. } => TimelineKind::DrillFinished,
        }
    }

    /// The step as a sentence about `link`.
    pub fn message(&self, link: &LinkRef) -> String {
        let (primary, secondary) = (name(&link.primary), name(&link.secondary));
        match self {
            Step::LinkRequested => {
                format!("Linking {secondary} as the geo-secondary of {primary}; its data is being replaced.")
            }
            Step::FullSyncStarted(n) => format!("A full sync started{}.", times(*n)),
            Step::FullSyncFinished(n) => format!("A full sync finished{}.", times(*n)),
            Step::Linked => format!("{secondary} replicates {primary}: the link is Succeeded."),
            Step::LinkFailed(why) => format!("Linking failed: {why}"),
            Step::FailoverRequested(kind) => format!(
                "A {} failover from {primary} to {secondary} was requested: the link is Deleting.",
                kind_name(*kind)
            ),
            Step::Promoted(summary) => {
                let loss = match (summary.kind, summary.bytes_possibly_lost) {
                    (FailoverKind::Planned, _) => "nothing was lost".to_owned(),
                    (FailoverKind::Forced, Some(bytes)) => {
                        format!("{bytes} byte(s) of the replication stream may have been lost")
                    }
                    (FailoverKind::Forced, None) => "what may have been lost is unknown".to_owned(),
                };
                format!(
                    "{primary} was promoted and the geo-primary endpoints now reach it; {loss}. The link is Creating while {secondary} catches up."
                )
            }
            Step::FailoverAborted(why) => {
                format!("The failover did not happen and nothing changed: {why}")
            }
            Step::FailoverCompleted => {
                format!("{secondary} replicates {primary}: the failover is complete.")
            }
            Step::Unhealthy => format!("{secondary} stopped replicating {primary}."),
            Step::HealthyAgain => format!("{secondary} replicates {primary} again."),
            Step::UnlinkRequested => format!("Unlinking {secondary} from {primary}."),
            Step::Unlinked => {
                format!("Unlinked: {primary} and {secondary} stand alone, and {secondary} keeps its data.")
            }
            Step::NodeReplaced { cache, old, new: Some(new) } => format!(
                "{cache}'s primary node {old} was lost; its replica {new} took over, and {cache}'s address now reaches it. {old} rejoins as a replica."
            ),
            Step::NodeReplaced { cache, old, new: None } => format!(
                "{cache}'s primary node {old} was lost with no replica holding data; {cache} starts again empty."
            ),
            Step::FaultInjected(what) => format!("Fault injected: {what}"),
            Step::FaultCleared(what) => format!("Fault undone: {what}"),
            Step::DrillStarted { id, kind } => format!(
                "Drill {id} started: a writer through the geo-primary URL, then a {} failover from {primary} to {secondary}.",
                kind_name(*kind)
            ),
            Step::DrillFinished { id, outcome } => format!("Drill {id} finished: {outcome}"),
        }
    }

    fn failover(&self) -> Option<FailoverSummary> {
        match self {
            Step::Promoted(summary) => Some(summary.clone()),
            _ => None,
        }
    }
}

fn kind_name(kind: FailoverKind) -> &'static str {
    match kind {
        FailoverKind::Planned => "planned",
        FailoverKind::Forced => "forced",
    }
}

/// Records timeline steps. Cheap to clone.
#[derive(Clone)]
pub struct Timeline {
    store: Arc<Store>,
    events: Events,
}

impl Timeline {
    /// Keeps steps in `store` and announces them on `events`.
    pub fn new(store: Arc<Store>, events: Events) -> Timeline {
        Timeline { store, events }
    }

    /// Records `step` of `link`, now.
    pub fn record(&self, link: &LinkRef, step: Step) {
        self.record_at(link, OffsetDateTime::now_utc(), step);
    }

    /// Records `step` of `link` as having happened `at`.
    pub fn record_at(&self, link: &LinkRef, at: OffsetDateTime, step: Step) {
        let mut entry = TimelineEntry {
            id: 0,
            time: at.format(&Rfc3339).unwrap_or_default(),
            kind: step.kind(),
            message: step.message(link),
            primary: link.primary.clone(),
            secondary: link.secondary.clone(),
            failover: step.failover(),
        };
        let at_ms = i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or_default();
        match self
            .store
            .add_timeline_entry(&link.id, &link.peer_id, at_ms, &entry)
        {
            Ok(id) => entry.id = id,
            Err(error) => {
                tracing::error!(%error, kind = ?entry.kind, "could not record a timeline step");
                return;
            }
        }
        tracing::debug!(kind = ?entry.kind, "timeline step");
        self.events.publish(LiveEvent::Timeline(TimelineEvent {
            link: link.clone(),
            entry,
        }));
    }

    /// The timeline of the link with this linked-server id (from either side), oldest first.
    pub fn entries(&self, linked_server_id: &str) -> Result<Vec<TimelineEntry>, StoreError> {
        self.store.timeline(linked_server_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link() -> LinkRef {
        LinkRef {
            id: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Cache/redis/a/linkedServers/b"
                .into(),
            peer_id:
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Cache/redis/b/linkedServers/a"
                    .into(),
            primary: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Cache/redis/a".into(),
            secondary: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Cache/redis/b"
                .into(),
        }
    }

    #[test]
    fn sentences_name_the_caches_and_the_loss() {
        let link = link();
        assert!(Step::Linked.message(&link).starts_with("b replicates a"));
        let forced = FailoverSummary {
            kind: FailoverKind::Forced,
            from: link.secondary.clone(),
            to: link.primary.clone(),
            time: "2024-01-01T00:00:00Z".into(),
            bytes_possibly_lost: Some(42),
            partial_resync: None,
        };
        let step = Step::Promoted(forced.clone());
        assert!(step.message(&link).contains("42 byte(s)"));
        assert_eq!(step.failover(), Some(forced));
        assert_eq!(step.kind(), TimelineKind::Promoted);
        assert_eq!(
            Step::FullSyncStarted(1).message(&link),
            "A full sync started."
        );
        assert_eq!(
            Step::FullSyncStarted(2).message(&link),
            "A full sync started (2)."
        );
    }

    #[test]
    fn steps_are_kept_in_time_order_and_found_from_either_side() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path()).unwrap());
        let events = Events::new();
        let mut live = events.subscribe();
        let timeline = Timeline::new(store, events);
        let link = link();
        let now = OffsetDateTime::now_utc();
        timeline.record_at(&link, now, Step::Linked);
        // Observed earlier, recorded later: still listed first.
        timeline.record_at(
            &link,
            now - time::Duration::milliseconds(300),
            Step::FullSyncFinished(1),
        );
        let kinds = |id: &str| -> Vec<TimelineKind> {
            timeline
                .entries(id)
                .unwrap()
                .into_iter()
                .map(|e| e.kind)
                .collect()
        };
        let expected = vec![TimelineKind::FullSyncFinished, TimelineKind::Linked];
        assert_eq!(kinds(&link.id), expected);
        assert_eq!(kinds(&link.peer_id.to_uppercase()), expected);
        assert!(kinds("/elsewhere").is_empty());
        let Ok(LiveEvent::Timeline(first)) = live.try_recv() else {
            panic!("the step was announced");
        };
        assert_eq!(first.entry.kind, TimelineKind::Linked);
        assert!(first.entry.id > 0);
    }
}
