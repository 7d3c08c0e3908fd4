//! Failover: the refusal rules the button and dialog share, and the dialog's
//! parts, each in its own module.

pub mod checklist;
pub mod dialog;
pub mod offset_gauge;
pub mod steps;

use georep_core::compat::same_size;
use georep_core::link::{Event, FailoverKind, LinkState};
use leptos::prelude::*;

use crate::model::LinkView;
use crate::state::AppState;

/// Why a failover of `kind` can't start now, per the state machine.
pub fn failover_refusal(state: LinkState, kind: FailoverKind, same_size: bool) -> Option<String> {
    state
        .allows(Event::FailoverRequested { kind, same_size })
        .err()
        .map(|r| r.to_string())
}

/// Whether the two caches of a link are the same size, which failover needs.
pub fn pair_same_size(app: AppState, link: &LinkView) -> bool {
    app.fleet
        .with(|f| match (f.get(&link.primary), f.get(&link.secondary)) {
            (Some(a), Some(b)) => same_size(&a.cache, &b.cache),
            // Unknown sizes: let the server decide.
            _ => true,
        })
}
