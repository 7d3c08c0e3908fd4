//! The life of a geo-replication link as a pure state machine.
//!
//! The server drives it with real events (full sync finished, failover
//! steps); the console drives it optimistically from clicks and reconciles
//! with the server. Either way, a transition is `(state, event) -> state` or
//! a [`Refusal`] that leaves the state as it was.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::model::{ProvisioningState, ServerRole};

/// How a failover treats the old primary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FailoverKind {
    /// Pause writes, wait for the secondary to catch up, then swap: nothing is lost.
    Planned,
    /// Promote the secondary at once, for when the primary is gone; recent writes may be lost.
    Forced,
}

/// The two steps of a failover, as ARM reports them on the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FailoverPhase {
    /// The old link is being removed and the secondary promoted.
    Deleting,
    /// The new primary takes writes; the old primary is relinking as secondary.
    Creating,
}

/// Where a link is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "state")]
pub enum LinkState {
    /// The initial full sync is running.
    Linking,
    /// Replicating continuously.
    Linked,
    /// A failover is under way.
    FailingOver {
        /// Planned or forced.
        kind: FailoverKind,
        /// Which step it is at.
        phase: FailoverPhase,
    },
    /// The link is being removed.
    Unlinking,
    /// The link is gone; both caches stand alone.
    Unlinked,
    /// Linking failed; only unlinking is possible.
    Failed,
    /// The geo-primary lost every node and its data: the geo-secondary no
    /// longer follows it and keeps what it has. ARM reports `Failed`; a
    /// forced failover to the geo-secondary, or unlinking, is possible.
    PrimaryLost,
}

/// Something that happens to a link: a request or an observed fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Event {
    /// The secondary finished its full sync.
    SyncFinished,
    /// Linking could not complete.
    SyncFailed,
    /// Someone asked for a failover.
    FailoverRequested {
        /// Planned or forced.
        kind: FailoverKind,
        /// Whether the two caches are the same size, which failover requires.
        same_size: bool,
    },
    /// The failover stopped before the promotion; the old primary keeps its role.
    FailoverAborted,
    /// The old link is gone and the secondary is now the primary.
    Promoted,
    /// The old primary caught up as the new secondary.
    Relinked,
    /// Someone asked to unlink.
    UnlinkRequested,
    /// Both caches stand alone.
    UnlinkFinished,
    /// The geo-primary lost every node and its data with them: the link
    /// fails rather than let the geo-secondary follow an empty cache.
    PrimaryLost,
}

/// Why a transition was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[serde(tag = "code")]
pub enum Refusal {
    /// Failover needs caches of the same size.
    #[error("The caches are different sizes, so the pair can't fail over. Geo-failover requires both caches to be the same size.")]
    SizeMismatch,
    /// Failover needs a link that finished linking.
    #[error("The link is {state}; a failover can start only when the link is Succeeded.")]
    NotLinked {
        /// The link's provisioning state now.
        state: String,
    },
    /// The geo-primary lost its data: only a forced failover can start.
    #[error("The geo-primary lost every node and its data; only a forced failover to the geo-secondary, which kept its data, can start.")]
    PrimaryLost,
    /// Another operation is running on the link.
    #[error("Another operation is in progress on the link ({state}); wait for it to finish.")]
    Busy {
        /// The link's provisioning state now.
        state: String,
    },
    /// The event makes no sense in this state.
    #[error("{event:?} can't happen while the link is {state}.")]
    Unexpected {
        /// The link's state now.
        state: String,
        /// The event refused.
        event: Event,
    },
}

impl Refusal {
    /// A stable, machine-readable code for this refusal.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::SizeMismatch => "FailoverSizeMismatch",
            Refusal::NotLinked { .. } => "LinkNotSucceeded",
            Refusal::Busy { .. } => "OperationInProgress",
            Refusal::PrimaryLost => "GeoPrimaryLost",
            Refusal::Unexpected { .. } => "InvalidLinkState",
        }
    }
}

impl LinkState {
    /// Every state, planned failovers before forced.
    pub const ALL: [LinkState; 10] = [
        LinkState::Linking,
        LinkState::Linked,
        LinkState::FailingOver {
            kind: FailoverKind::Planned,
            phase: FailoverPhase::Deleting,
        },
        LinkState::FailingOver {
            kind: FailoverKind::Planned,
            phase: FailoverPhase::Creating,
        },
        LinkState::FailingOver {
            kind: FailoverKind::Forced,
            phase: FailoverPhase::Deleting,
        },
        LinkState::FailingOver {
            kind: FailoverKind::Forced,
            phase: FailoverPhase::Creating,
        },
        LinkState::Unlinking,
        LinkState::Unlinked,
        LinkState::Failed,
        LinkState::PrimaryLost,
    ];

    /// The state whose ARM mapping gives these two provisioning states: the
    /// link resource's and its cache's.
    ///
    /// ARM doesn't say whether a failover is planned or forced, so a failover
    /// reads as planned. A combination no state maps to (a transient mix while
    /// the server moves) falls back to the link's own state alone.
    pub fn from_provisioning_states(
        link: ProvisioningState,
        cache: ProvisioningState,
    ) -> LinkState {
        let matches_link = |s: &&LinkState| s.link_provisioning_state() == Some(link);
        LinkState::ALL
            .iter()
            .filter(matches_link)
            .find(|s| s.cache_provisioning_state() == cache)
            .or_else(|| LinkState::ALL.iter().find(matches_link))
            .copied()
            .unwrap_or(LinkState::Failed)
    }

    /// The state after `event`, or why `event` is refused here.
    pub fn next(self, event: Event) -> Result<LinkState, Refusal> {
        use FailoverPhase::{Creating, Deleting};
        use LinkState::*;
        match (self, event) {
            (Linking, Event::SyncFinished) => Ok(Linked),
            (Linking, Event::SyncFailed) => Ok(Failed),
            (
                Linked,
                Event::FailoverRequested {
                    same_size: false, ..
                },
            ) => Err(Refusal::SizeMismatch),
            (Linked, Event::FailoverRequested { kind, .. }) => Ok(FailingOver {
                kind,
                phase: Deleting,
            }),
            (
                FailingOver {
                    phase: Deleting, ..
                },
                Event::FailoverAborted,
            ) => Ok(Linked),
            (
                FailingOver {
                    kind,
                    phase: Deleting,
                },
                Event::Promoted,
            ) => Ok(FailingOver {
                kind,
                phase: Creating,
            }),
            (
                FailingOver {
                    phase: Creating, ..
                },
                Event::Relinked,
            ) => Ok(Linked),
            (Linked | Failed, Event::UnlinkRequested) => Ok(Unlinking),
            (Linked, Event::PrimaryLost) => Ok(PrimaryLost),
            (PrimaryLost, Event::UnlinkRequested) => Ok(Unlinking),
            // Only a forced failover: there is no primary to wait for.
            (
                PrimaryLost,
                Event::FailoverRequested {
                    kind: FailoverKind::Forced,
                    same_size: true,
                },
            ) => Ok(FailingOver {
                kind: FailoverKind::Forced,
                phase: Deleting,
            }),
            (
                PrimaryLost,
                Event::FailoverRequested {
                    same_size: false, ..
                },
            ) => Err(Refusal::SizeMismatch),
            (
                PrimaryLost,
                Event::FailoverRequested {
                    kind: FailoverKind::Planned,
                    ..
                },
            ) => Err(Refusal::PrimaryLost),
            (Unlinking, Event::UnlinkFinished) => Ok(Unlinked),
            (
                Linking | Unlinking | FailingOver { .. } | Failed | Unlinked,
                Event::FailoverRequested { .. },
            ) => Err(self.refuse_request(true)),
            (Linking | Unlinking | FailingOver { .. } | Unlinked, Event::UnlinkRequested) => {
                Err(self.refuse_request(false))
            }
            (state, event) => Err(Refusal::Unexpected {
                state: state.to_string(),
                event,
            }),
        }
    }

    /// Why a user's request can't start now.
    fn refuse_request(self, failover: bool) -> Refusal {
        let state = self
            .link_provisioning_state()
            .map_or("gone".into(), |s| s.to_string());
        match self {
            LinkState::Linking | LinkState::Unlinking | LinkState::FailingOver { .. } => {
                if failover && self == LinkState::Linking {
                    Refusal::NotLinked { state }
                } else {
                    Refusal::Busy { state }
                }
            }
            _ => Refusal::NotLinked { state },
        }
    }

    /// Whether `event` would be accepted now.
    pub fn allows(self, event: Event) -> Result<(), Refusal> {
        self.next(event).map(|_| ())
    }

    /// The link resource's ARM `provisioningState`; `None` once unlinked.
    pub fn link_provisioning_state(self) -> Option<ProvisioningState> {
        Some(match self {
            LinkState::Linking => ProvisioningState::Creating,
            LinkState::Linked => ProvisioningState::Succeeded,
            LinkState::FailingOver {
                phase: FailoverPhase::Deleting,
                ..
            } => ProvisioningState::Deleting,
            LinkState::FailingOver {
                phase: FailoverPhase::Creating,
                ..
            } => ProvisioningState::Creating,
            LinkState::Unlinking => ProvisioningState::Deleting,
            LinkState::Failed | LinkState::PrimaryLost => ProvisioningState::Failed,
            LinkState::Unlinked => return None,
        })
    }

    /// Both caches' ARM `provisioningState` in this link state.
    pub fn cache_provisioning_state(self) -> ProvisioningState {
        match self {
            LinkState::Linking => ProvisioningState::Linking,
            LinkState::FailingOver { .. } => ProvisioningState::Updating,
            LinkState::Unlinking => ProvisioningState::Unlinking,
            LinkState::Linked | LinkState::Failed | LinkState::Unlinked => {
                ProvisioningState::Succeeded
            }
            // The pair as a whole has failed: the geo-primary has no data.
            LinkState::PrimaryLost => ProvisioningState::Failed,
        }
    }

    /// Whether an operation is running, so other requests must wait.
    pub fn is_busy(self) -> bool {
        matches!(
            self,
            LinkState::Linking | LinkState::FailingOver { .. } | LinkState::Unlinking
        )
    }
}

impl fmt::Display for LinkState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkState::FailingOver { kind, phase } => write!(f, "FailingOver({kind:?}, {phase:?})"),
            other => fmt::Debug::fmt(other, f),
        }
    }
}

/// One of the two caches of a pair, named by the order they were linked in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Member {
    /// The cache that was the primary when the link was created.
    First,
    /// The cache that was the secondary when the link was created.
    Second,
}

impl Member {
    /// The other cache of the pair.
    pub fn other(self) -> Member {
        match self {
            Member::First => Member::Second,
            Member::Second => Member::First,
        }
    }
}

/// A linked pair: the link's state and which cache is the geo-primary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Pair {
    /// The link's state.
    pub state: LinkState,
    /// The cache that is the geo-primary now.
    pub primary: Member,
}

impl Default for Pair {
    fn default() -> Self {
        Self::new()
    }
}

impl Pair {
    /// A pair that has just started linking, `First` as primary.
    pub fn new() -> Self {
        Pair {
            state: LinkState::Linking,
            primary: Member::First,
        }
    }

    /// The pair after `event`; promotion swaps the roles.
    pub fn apply(self, event: Event) -> Result<Pair, Refusal> {
        let state = self.state.next(event)?;
        let primary = if event == Event::Promoted {
            self.primary.other()
        } else {
            self.primary
        };
        Ok(Pair { state, primary })
    }

    /// The geo-replication role of `member`.
    pub fn role(self, member: Member) -> ServerRole {
        if member == self.primary {
            ServerRole::Primary
        } else {
            ServerRole::Secondary
        }
    }

    /// Whether `member` accepts writes now.
    ///
    /// The secondary never does while the pair exists; during the first step
    /// of a failover nobody does, because writes are paused for the swap.
    pub fn writable(self, member: Member) -> bool {
        match self.state {
            LinkState::Unlinked => true,
            LinkState::FailingOver {
                phase: FailoverPhase::Deleting,
                ..
            } => false,
            _ => member == self.primary,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use FailoverKind::*;
    use FailoverPhase::*;
    use LinkState::*;

    const FAILOVER: Event = Event::FailoverRequested {
        kind: Planned,
        same_size: true,
    };

    #[test]
    fn full_sync_finishing_links_the_pair() {
        assert_eq!(Linking.next(Event::SyncFinished), Ok(Linked));
    }

    #[test]
    fn failed_sync_fails_the_link() {
        assert_eq!(Linking.next(Event::SyncFailed), Ok(Failed));
    }

    #[test]
    fn failover_goes_deleting_then_creating_then_linked() {
        for kind in [Planned, Forced] {
            let request = Event::FailoverRequested {
                kind,
                same_size: true,
            };
            let deleting = Linked.next(request).unwrap();
            assert_eq!(
                deleting,
                FailingOver {
                    kind,
                    phase: Deleting
                }
            );
            let creating = deleting.next(Event::Promoted).unwrap();
            assert_eq!(
                creating,
                FailingOver {
                    kind,
                    phase: Creating
                }
            );
            assert_eq!(creating.next(Event::Relinked), Ok(Linked));
        }
    }

    #[test]
    fn an_aborted_failover_returns_to_linked_before_promotion_only() {
        let deleting = Linked.next(FAILOVER).unwrap();
        assert_eq!(deleting.next(Event::FailoverAborted), Ok(Linked));
        let creating = deleting.next(Event::Promoted).unwrap();
        assert!(matches!(
            creating.next(Event::FailoverAborted),
            Err(Refusal::Unexpected { .. })
        ));
    }

    #[test]
    fn an_aborted_failover_keeps_the_roles() {
        let pair = Pair::new()
            .apply(Event::SyncFinished)
            .and_then(|p| p.apply(FAILOVER))
            .unwrap();
        let back = pair.apply(Event::FailoverAborted).unwrap();
        assert_eq!(back.primary, Member::First);
        assert!(back.writable(Member::First));
    }

    #[test]
    fn failover_between_different_sizes_is_refused() {
        let request = Event::FailoverRequested {
            kind: Planned,
            same_size: false,
        };
        assert_eq!(Linked.next(request), Err(Refusal::SizeMismatch));
    }

    #[test]
    fn failover_during_linking_is_refused_as_not_linked() {
        assert!(matches!(
            Linking.next(FAILOVER),
            Err(Refusal::NotLinked { .. })
        ));
    }

    #[test]
    fn failover_during_another_operation_is_refused_as_busy() {
        for state in [
            Unlinking,
            FailingOver {
                kind: Planned,
                phase: Deleting,
            },
        ] {
            assert!(
                matches!(state.next(FAILOVER), Err(Refusal::Busy { .. })),
                "{state}"
            );
        }
    }

    #[test]
    fn failover_of_a_failed_or_gone_link_is_refused() {
        for state in [Failed, Unlinked] {
            assert!(
                matches!(state.next(FAILOVER), Err(Refusal::NotLinked { .. })),
                "{state}"
            );
        }
    }

    #[test]
    fn unlink_from_linked_or_failed() {
        for state in [Linked, Failed] {
            let unlinking = state.next(Event::UnlinkRequested).unwrap();
            assert_eq!(unlinking, Unlinking);
            assert_eq!(unlinking.next(Event::UnlinkFinished), Ok(Unlinked));
        }
    }

    #[test]
    fn unlink_during_another_operation_is_refused() {
        for state in [
            Linking,
            Unlinking,
            FailingOver {
                kind: Forced,
                phase: Creating,
            },
        ] {
            assert!(matches!(
                state.next(Event::UnlinkRequested),
                Err(Refusal::Busy { .. })
            ));
        }
        assert!(matches!(
            Unlinked.next(Event::UnlinkRequested),
            Err(Refusal::NotLinked { .. })
        ));
    }

    #[test]
    fn out_of_place_events_are_unexpected() {
        assert!(matches!(
            Linked.next(Event::SyncFinished),
            Err(Refusal::Unexpected { .. })
        ));
        assert!(matches!(
            Linked.next(Event::Promoted),
            Err(Refusal::Unexpected { .. })
        ));
        assert!(matches!(
            Linking.next(Event::Relinked),
            Err(Refusal::Unexpected { .. })
        ));
        assert!(matches!(
            Unlinked.next(Event::SyncFinished),
            Err(Refusal::Unexpected { .. })
        ));
    }

    #[test]
    fn provisioning_states_follow_the_seed() {
        let link = |s: LinkState| s.link_provisioning_state();
        assert_eq!(link(Linking), Some(ProvisioningState::Creating));
        assert_eq!(link(Linked), Some(ProvisioningState::Succeeded));
        assert_eq!(
            link(FailingOver {
                kind: Planned,
                phase: Deleting
            }),
            Some(ProvisioningState::Deleting)
        );
        assert_eq!(
            link(FailingOver {
                kind: Planned,
                phase: Creating
            }),
            Some(ProvisioningState::Creating)
        );
        assert_eq!(link(Unlinking), Some(ProvisioningState::Deleting));
        assert_eq!(link(Failed), Some(ProvisioningState::Failed));
        assert_eq!(link(Unlinked), None);
        assert_eq!(
            Linking.cache_provisioning_state(),
            ProvisioningState::Linking
        );
        assert_eq!(
            Unlinking.cache_provisioning_state(),
            ProvisioningState::Unlinking
        );
        assert_eq!(
            FailingOver {
                kind: Forced,
                phase: Deleting
            }
            .cache_provisioning_state(),
            ProvisioningState::Updating
        );
        assert_eq!(
            Linked.cache_provisioning_state(),
            ProvisioningState::Succeeded
        );
    }

    #[test]
    fn every_state_has_a_display_name() {
        for state in LinkState::ALL {
            assert!(!state.to_string().is_empty());
        }
    }

    #[test]
    fn every_arm_pair_of_states_maps_back_to_its_state() {
        for state in LinkState::ALL {
            let Some(link) = state.link_provisioning_state() else {
                continue;
            };
            let back = LinkState::from_provisioning_states(link, state.cache_provisioning_state());
            // ARM can't tell planned from forced; everything else round-trips.
            let planned = match state {
                FailingOver { phase, .. } => FailingOver {
                    kind: Planned,
                    phase,
                },
                other => other,
            };
            assert_eq!(back, planned, "{state}");
        }
    }

    #[test]
    fn an_unknown_mix_falls_back_to_the_links_own_state() {
        let state = LinkState::from_provisioning_states(
            ProvisioningState::Succeeded,
            ProvisioningState::Scaling,
        );
        assert_eq!(state, Linked);
    }

    #[test]
    fn promotion_swaps_roles() {
        let pair = Pair::new().apply(Event::SyncFinished).unwrap();
        assert_eq!(pair.role(Member::First), ServerRole::Primary);
        let pair = pair
            .apply(FAILOVER)
            .unwrap()
            .apply(Event::Promoted)
            .unwrap();
        assert_eq!(pair.role(Member::Second), ServerRole::Primary);
        assert!(pair.writable(Member::Second) && !pair.writable(Member::First));
    }

    #[test]
    fn the_secondary_is_not_writable_while_linking() {
        let pair = Pair::new();
        assert!(pair.writable(Member::First));
        assert!(!pair.writable(Member::Second));
    }

    #[test]
    fn after_unlink_both_caches_are_writable() {
        let pair = Pair::new()
            .apply(Event::SyncFinished)
            .and_then(|p| p.apply(Event::UnlinkRequested))
            .and_then(|p| p.apply(Event::UnlinkFinished))
            .unwrap();
        assert!(pair.writable(Member::First) && pair.writable(Member::Second));
    }

    #[test]
    fn a_lost_primary_fails_the_link_and_allows_only_a_forced_failover_or_unlinking() {
        let lost = LinkState::Linked.next(Event::PrimaryLost).unwrap();
        assert_eq!(lost, LinkState::PrimaryLost);
        assert_eq!(
            lost.link_provisioning_state(),
            Some(ProvisioningState::Failed)
        );
        assert!(LinkState::Linking.next(Event::PrimaryLost).is_err());
        assert_eq!(lost.next(Event::UnlinkRequested), Ok(LinkState::Unlinking));
        let forced = |same_size| Event::FailoverRequested {
            kind: FailoverKind::Forced,
            same_size,
        };
        assert!(matches!(
            lost.next(forced(true)),
            Ok(LinkState::FailingOver { .. })
        ));
        assert_eq!(lost.next(forced(false)), Err(Refusal::SizeMismatch));
        let planned = Event::FailoverRequested {
            kind: FailoverKind::Planned,
            same_size: true,
        };
        assert_eq!(lost.next(planned), Err(Refusal::PrimaryLost));
        // A link that failed to link never fails over: its secondary may be empty.
        assert!(LinkState::Failed.next(forced(true)).is_err());
    }
}
