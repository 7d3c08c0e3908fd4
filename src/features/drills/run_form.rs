//! Starting a drill: planned or forced, how long the writer writes, and
//! whether to fail back. The button is refused as the failover itself
//! would be (`georep-core`'s state machine), and while a drill runs.

use georep_core::link::FailoverKind;
use leptos::prelude::*;

use super::wire::{DrillKind, DrillRequest};
use super::{error_banner, use_drills};
use crate::actions::{last_error, use_mutation, Mutation, Report};
use crate::components::card::Card;
use crate::components::guarded_button::GuardedButton;
use crate::features::failover::{failover_refusal, pair_same_size};
use crate::state::use_app;

/// The writer's shortest and longest run, in seconds, as the server
/// accepts them.
pub const SECONDS: (u32, u32) = (1, 300);
/// The writer's run unless the user says otherwise.
const DEFAULT_SECONDS: u32 = 10;

/// Why `seconds` (as typed) can't be a drill's length.
pub fn seconds_refusal(seconds: &str) -> Option<String> {
    let (low, high) = SECONDS;
    match seconds.trim().parse::<u32>() {
        Ok(s) if (low..=high).contains(&s) => None,
        _ => Some(format!(
            "The writer runs for {low} to {high} seconds; type a whole number."
        )),
    }
}

/// One kind's radio button with what it does.
#[component]
fn KindOption(kind: RwSignal<DrillKind>, this: DrillKind, what: &'static str) -> impl IntoView {
    view! {
        <label class="radio">
            <input
                type="radio"
                name="drill-kind"
                value=this.label().to_ascii_lowercase()
                prop:checked=move || kind.get() == this
                on:change=move |_| kind.set(this)
            />
            <span>
                <strong>{this.label()}</strong>
                {what}
            </span>
        </label>
    }
}

/// The form that starts a drill.
#[component]
pub fn RunForm() -> impl IntoView {
    let app = use_app();
    let ctx = use_drills();
    let start = use_mutation(Report::Inline);
    let kind = RwSignal::new(DrillKind::Planned);
    let seconds = RwSignal::new(DEFAULT_SECONDS.to_string());
    let failback = RwSignal::new(true);
    let refusal = Signal::derive(move || {
        if start.pending().get() {
            return Some("Starting the drill…".to_owned());
        }
        if ctx.running().is_some() {
            return Some("A drill is running on this link; wait until it ends.".to_owned());
        }
        let failover = match kind.get() {
            DrillKind::Planned => FailoverKind::Planned,
            DrillKind::Forced => FailoverKind::Forced,
        };
        let refused = ctx
            .link
            .with(|l| failover_refusal(app.link_state(l), failover, pair_same_size(app, l)));
        refused.or_else(|| seconds.with(|s| seconds_refusal(s)))
    });
    let run = Callback::new(move |()| {
        let Ok(secs) = seconds.get_untracked().trim().parse() else {
            return;
        };
        ctx.selected.set(None);
        start.dispatch_local(Mutation::StartDrill(DrillRequest {
            link: ctx.link_id.get_untracked(),
            kind: kind.get_untracked(),
            seconds: secs,
            failback: failback.get_untracked(),
        }));
    });
    let names = move || {
        ctx.link
            .with(|l| (l.primary.name.clone(), l.secondary.name.clone()))
    };
    view! {
        <Card title="Run a drill" heading_id="drill-run-heading" class="drill-run">
            <div class="card-body">
                <p class="muted">
                    {move || {
                        let (primary, secondary) = names();
                        format!(
                            "The drill writes numbered keys through the geo-primary URL, fails over from {primary} to {secondary} while writing, optionally fails back, then checks every acknowledged write and compares both sides. Its keys (georep:drill:…) are deleted afterwards."
                        )
                    }}
                </p>
                <fieldset class="choice">
                    <legend>"Kind of failover"</legend>
                    <KindOption
                        kind=kind
                        this=DrillKind::Planned
                        what=" — waits until the secondary has every byte; no acknowledged write may be lost."
                    />
                    <KindOption
                        kind=kind
                        this=DrillKind::Forced
                        what=" — promotes the secondary at once, as after losing the primary; writes not yet replicated are lost, and the report says how many."
                    />
                </fieldset>
                <div class="drill-options">
                    <label class="field">
                        <span>"Writer runs for (seconds)"</span>
                        <input
                            type="number"
                            name="drill-seconds"
                            min=SECONDS.0
                            max=SECONDS.1
                            inputmode="numeric"
                            prop:value=move || seconds.get()
                            on:input=move |ev| seconds.set(event_target_value(&ev))
                        />
                    </label>
                    <label class="check-field">
                        <input
                            type="checkbox"
                            name="drill-failback"
                            prop:checked=move || failback.get()
                            on:change=move |ev| failback.set(event_target_checked(&ev))
                        />
                        <span>"Fail back to the original geo-primary afterwards"</span>
                    </label>
                </div>
                <div class="drill-run-actions">
                    <GuardedButton
                        label="Run drill"
                        class="btn-primary drill-start"
                        refusal=refusal
                        on_click=run
                    />
                </div>
                {move || error_banner(last_error(start))}
            </div>
        </Card>
    }
}
