//! The steps of a running failover (Deleting, then Creating, then done), as
//! the link reports them.

use georep_core::link::{FailoverPhase, LinkState};
use leptos::prelude::*;

/// The live steps; `swapped` says the roles have changed since the start.
#[component]
pub fn FailoverSteps(
    #[prop(into)] state: Signal<LinkState>,
    #[prop(into)] swapped: Signal<bool>,
) -> impl IntoView {
    // 0: Deleting, 1: Creating, 2: done.
    let at = move || match state.get() {
        LinkState::FailingOver {
            phase: FailoverPhase::Deleting,
            ..
        } => 0,
        LinkState::FailingOver {
            phase: FailoverPhase::Creating,
            ..
        } => 1,
        LinkState::Linked if swapped.get() => 2,
        _ => 0,
    };
    let steps = [
        (
            "Deleting",
            "The old link is removed and the geo-secondary is promoted.",
        ),
        (
            "Creating",
            "The new geo-primary takes writes; the old primary relinks as its secondary.",
        ),
        (
            "Done",
            "Roles swapped; the geo-primary URLs point to the new geo-primary.",
        ),
    ];
    view! {
        <ol class="live-steps" aria-live="polite">
            {steps
                .into_iter()
                .enumerate()
                .map(|(i, (name, what))| {
                    view! {
                        <li
                            class="live-step"
                            class:done=move || i < at() || at() == 2
                            class:current=move || i == at() && at() < 2
                        >
                            <strong>{name}</strong>
                            " "
                            <span class="muted">{what}</span>
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
}
