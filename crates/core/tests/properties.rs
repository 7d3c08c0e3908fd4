//! Invariants of the link state machine over random event sequences.

use georep_core::link::{Event, FailoverKind, LinkState, Member, Pair, Refusal};
use proptest::prelude::*;

fn event() -> impl Strategy<Value = Event> {
    let kind = prop_oneof![Just(FailoverKind::Planned), Just(FailoverKind::Forced)];
    prop_oneof![
        Just(Event::SyncFinished),
        Just(Event::SyncFailed),
        (kind, any::<bool>())
            .prop_map(|(kind, same_size)| Event::FailoverRequested { kind, same_size }),
        Just(Event::FailoverAborted),
        Just(Event::Promoted),
        Just(Event::Relinked),
        Just(Event::UnlinkRequested),
        Just(Event::UnlinkFinished),
        Just(Event::PrimaryLost),
    ]
}

proptest! {
    /// While the pair exists, at most one cache accepts writes.
    #[test]
    fn never_two_writable_primaries(events in prop::collection::vec(event(), 0..64)) {
        let mut pair = Pair::new();
        for event in events {
            if let Ok(next) = pair.apply(event) {
                pair = next;
            }
            if pair.state != LinkState::Unlinked {
                prop_assert!(
                    !(pair.writable(Member::First) && pair.writable(Member::Second)),
                    "both writable in {:?}", pair
                );
            }
        }
    }

    /// The secondary never accepts a write while the pair exists.
    #[test]
    fn never_a_write_on_the_secondary(events in prop::collection::vec(event(), 0..64)) {
        let mut pair = Pair::new();
        for event in events {
            if let Ok(next) = pair.apply(event) {
                pair = next;
            }
            if pair.state != LinkState::Unlinked {
                prop_assert!(!pair.writable(pair.primary.other()), "secondary writable in {:?}", pair);
            }
        }
    }

    /// A refusal describes the state that refused, and refuses the same
    /// way every time: nothing about it depends on anything but the pair.
    #[test]
    fn refusals_name_the_state_that_refused(events in prop::collection::vec(event(), 0..64)) {
        let mut pair = Pair::new();
        for event in events {
            match pair.apply(event) {
                Ok(next) => pair = next,
                Err(refusal) => {
                    prop_assert_eq!(pair.apply(event), Err(refusal.clone()));
                    let provisioning = pair
                        .state
                        .link_provisioning_state()
                        .map_or("gone".into(), |s| s.to_string());
                    match refusal {
                        Refusal::NotLinked { state } | Refusal::Busy { state } => {
                            prop_assert_eq!(state, provisioning)
                        }
                        Refusal::Unexpected { state, event: refused } => {
                            prop_assert_eq!(refused, event);
                            prop_assert_eq!(state, pair.state.to_string());
                        }
                        Refusal::PrimaryLost => prop_assert_eq!(pair.state, LinkState::PrimaryLost),
                        Refusal::SizeMismatch => {
                            let mismatched =
                                matches!(event, Event::FailoverRequested { same_size: false, .. });
                            prop_assert!(mismatched, "a size refusal for {:?}", event);
                        }
                    }
                }
            }
        }
    }

    /// Roles change only by promotion, and the pair always has one primary.
    #[test]
    fn roles_swap_only_on_promotion(events in prop::collection::vec(event(), 0..64)) {
        let mut pair = Pair::new();
        for event in events {
            if let Ok(next) = pair.apply(event) {
                if next.primary != pair.primary {
                    prop_assert_eq!(event, Event::Promoted);
                }
                pair = next;
            }
        }
    }

    /// Once unlinked, nothing brings the pair back.
    #[test]
    fn unlinked_is_final(events in prop::collection::vec(event(), 0..16)) {
        let mut pair = Pair { state: LinkState::Unlinked, primary: Member::First };
        for event in events {
            prop_assert!(pair.apply(event).is_err());
            pair = pair.apply(event).unwrap_or(pair);
        }
        prop_assert_eq!(pair.state, LinkState::Unlinked);
    }
}
