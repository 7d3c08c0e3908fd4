//! The failover dialog: what will happen, the checklist, the live offset,
//! planned or forced, then the live steps and how it ended.

use georep_core::link::FailoverKind;
use georep_core::CacheId;
use leptos::prelude::*;

use super::checklist::Checklist;
use super::offset_gauge::OffsetGauge;
use super::steps::FailoverSteps;
use super::{failover_refusal, pair_same_size};
use crate::actions::{use_mutation, Mutation, Report};
use crate::components::dialog::{Dialog, DialogActions};
use crate::components::guarded_button::GuardedButton;
use crate::model::{format_bytes, LinkView};
use crate::state::use_app;

/// What a finished failover may have lost, as a sentence to append.
fn loss_text(link: &LinkView) -> String {
    link.last_failover
        .as_ref()
        .map(|f| match (f.kind, f.bytes_possibly_lost) {
            (FailoverKind::Planned, _) => " Nothing was lost.".to_owned(),
            (FailoverKind::Forced, Some(0)) => " Nothing was lost.".to_owned(),
            (FailoverKind::Forced, Some(bytes)) => format!(
                " Up to {} of writes may have been lost.",
                format_bytes(bytes as f64)
            ),
            (FailoverKind::Forced, None) => {
                " Writes not yet replicated may have been lost.".to_owned()
            }
        })
        .unwrap_or_default()
}

/// The choice between a planned and a forced failover.
#[component]
fn KindChoice(kind: RwSignal<FailoverKind>) -> impl IntoView {
    view! {
        <fieldset class="choice">
            <legend>"Kind of failover"</legend>
            <label class="radio">
                <input
                    type="radio"
                    name="failover-kind"
                    prop:checked=move || kind.get() == FailoverKind::Planned
                    on:change=move |_| kind.set(FailoverKind::Planned)
                />
                <span>
                    <strong>"Planned"</strong>
                    " — pauses writes, waits until the secondary has every byte, then swaps. No data is lost."
                </span>
            </label>
            <label class="radio">
                <input
                    type="radio"
                    name="failover-kind"
                    prop:checked=move || kind.get() == FailoverKind::Forced
                    on:change=move |_| kind.set(FailoverKind::Forced)
                />
                <span>
                    <strong>"Forced"</strong>
                    " — promotes the secondary at once, for when the primary is down. Writes not yet replicated are lost."
                </span>
            </label>
        </fieldset>
    }
}

/// The failover dialog of `link`, shown while `open`.
#[component]
pub fn FailoverDialog(#[prop(into)] link: Signal<LinkView>, open: RwSignal<bool>) -> impl IntoView {
    let app = use_app();
    let kind = RwSignal::new(FailoverKind::Planned);
    // The primary when the user started the failover; `None` before.
    let started_from = RwSignal::new(None::<CacheId>);
    // ARM's message when the server refused the failover.
    let refused = RwSignal::new(None::<String>);
    let failover = use_mutation(Report::Inline);
    let state = Signal::derive(move || link.with(|l| app.link_state(l)));
    let swapped = Signal::derive(move || {
        started_from.with(|s| s.as_ref().is_some_and(|p| link.with(|l| &l.primary != p)))
    });
    let refusal = Signal::derive(move || {
        if started_from.with(Option::is_some) {
            return Some("A failover is in progress.".to_owned());
        }
        link.with(|l| failover_refusal(app.link_state(l), kind.get(), pair_same_size(app, l)))
    });
    Effect::new(move |_| {
        if !open.get() {
            started_from.set(None);
            refused.set(None);
        }
    });
    // A refusal ends the attempt and says why, in the dialog.
    Effect::new(move |_| {
        if let Some(Err(e)) = failover.value().get() {
            started_from.set(None);
            refused.set(Some(e.to_string()));
        }
    });
    let start = Callback::new(move |()| {
        let l = link.get_untracked();
        started_from.set(Some(l.primary.clone()));
        refused.set(None);
        let same = pair_same_size(app, &l);
        if let Some(mutation) = Mutation::failover(app, l, kind.get_untracked(), same) {
            failover.dispatch_local(mutation);
        }
    });
    let primary = Signal::derive(move || link.with(|l| l.primary.clone()));
    let secondary = Signal::derive(move || link.with(|l| l.secondary.clone()));
    let running = move || started_from.with(Option::is_some);
    let dismiss = Signal::derive(move || if running() { "Close" } else { "Cancel" });
    view! {
        <Dialog open=open title="Failover">
            {move || {
                let l = link.get();
                match started_from.get() {
                    // Before: what will happen.
                    None => view! {
                        <p>
                            "Promote " <strong>{l.secondary.name.clone()}</strong>
                            " to geo-primary. " <strong>{l.primary.name.clone()}</strong>
                            " becomes its geo-secondary, and the geo-primary URLs move to the new primary. It takes a few minutes."
                        </p>
                    }
                        .into_any(),
                    // During and after: the pair as it was when it started.
                    Some(old) => {
                        let new = if l.primary == old { l.secondary.name.clone() } else { l.primary.name.clone() };
                        let text = if swapped.get() {
                            format!(
                                "Failover complete: {new} is the geo-primary and {} its geo-secondary.{}",
                                old.name,
                                loss_text(&l)
                            )
                        } else {
                            format!("Failing over from {} to {new}…", old.name)
                        };
                        view! { <p class="failover-status" role="status">{text}</p> }.into_any()
                    }
                }
            }}
            <Show when=move || !running()>
                <h3>"Settings to check"</h3>
                <Checklist link=link/>
                <OffsetGauge primary=primary secondary=secondary/>
                <KindChoice kind=kind/>
            </Show>
            <Show when=running>
                <FailoverSteps state=state swapped=swapped/>
            </Show>
            {move || {
                refused
                    .get()
                    .map(|message| {
                        view! {
                            <div class="banner banner-error" role="alert">
                                <span class="banner-text">{message}</span>
                            </div>
                        }
                    })
            }}
            <DialogActions open=open dismiss=dismiss>
                <Show when=move || !running()>
                    <GuardedButton
                        label="Fail over"
                        class="btn-primary"
                        refusal=refusal
                        on_click=start
                    />
                </Show>
            </DialogActions>
        </Dialog>
    }
}
