//! The failover dialog: what will happen, the checklist, the live offset,
//! planned or forced (each refused as `georep-core`'s state machine says),
//! then the live steps and how it ended. When the geo-primary lost every
//! node, it says so and offers the forced failover or unlinking.

use georep_core::link::{FailoverKind, LinkState};
use georep_core::CacheId;
use leptos::prelude::*;

use super::checklist::Checklist;
use super::offset_gauge::OffsetGauge;
use super::steps::FailoverSteps;
use super::{failover_refusal, pair_same_size};
use crate::actions::{use_mutation, Mutation, Report};
use crate::components::dialog::{Dialog, DialogActions};
use crate::components::guarded_button::GuardedButton;
use crate::components::reactive::{effect, fetched};
use crate::components::show::Show;
use crate::features::link_actions::unlink_refusal;
use crate::features::primary_lost::{forced_failover_text, primary_lost_summary};
use crate::features::timeline::{last_failover_ms, timeline_id};
use crate::model::{format_bytes, LinkView};
use crate::numbers::fixed;
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

/// What the dialog says about time: the measured duration of this link's
/// last failover when its timeline has one.
fn measured_text(ms: Option<f64>) -> String {
    match ms {
        Some(ms) => format!(
            "Its last failover here went from request to promotion in {}; writes pause for about that long.",
            duration_text(ms)
        ),
        None => "Writes pause from the request until the geo-secondary is promoted; the timeline shows how long it took.".to_owned(),
    }
}

/// A duration for people: `12 ms`, `1.4 s`.
fn duration_text(ms: f64) -> String {
    if ms < 1_000.0 {
        format!("{} ms", fixed(ms, 0))
    } else {
        format!("{} s", fixed(ms / 1_000.0, 1))
    }
}

/// One kind's radio button, disabled with the state machine's refusal
/// when the link can't fail over that way now (but can the other way).
#[component]
fn KindOption(
    kind: RwSignal<FailoverKind>,
    this: FailoverKind,
    #[prop(into)] refused: Signal<Option<String>>,
    name: &'static str,
    what: &'static str,
) -> impl IntoView {
    view! {
        <label class="radio" class:refused=move || refused.with(Option::is_some)>
            <input
                type="radio"
                name="failover-kind"
                value=name
                prop:checked=move || kind.get() == this
                prop:disabled=move || refused.with(Option::is_some)
                on:change=move |_| kind.set(this)
            />
            <span>
                <strong>{name}</strong>
                {what}
                {move || {
                    refused
                        .get()
                        .map(|why| view! { <span class="choice-refused">{why}</span> })
                }}
            </span>
        </label>
    }
}

/// The choice between a planned and a forced failover; a kind is refused
/// only when the other one isn't (else the Fail over button says why).
#[component]
fn KindChoice(
    kind: RwSignal<FailoverKind>,
    #[prop(into)] planned_refused: Signal<Option<String>>,
    #[prop(into)] forced_refused: Signal<Option<String>>,
) -> impl IntoView {
    let both =
        move || planned_refused.with(Option::is_some) && forced_refused.with(Option::is_some);
    let planned = Signal::derive(move || planned_refused.get().filter(|_| !both()));
    let forced = Signal::derive(move || forced_refused.get().filter(|_| !both()));
    view! {
        <fieldset class="choice">
            <legend>"Kind of failover"</legend>
            <KindOption
                kind=kind
                this=FailoverKind::Planned
                refused=planned
                name="Planned"
                what=" — pauses writes, waits until the secondary has every byte, then swaps. No data is lost."
            />
            <KindOption
                kind=kind
                this=FailoverKind::Forced
                refused=forced
                name="Forced"
                what=" — promotes the secondary at once, for when the primary is down. Writes not yet replicated are lost."
            />
        </fieldset>
    }
}

/// The failover dialog of `link`, shown while `open`.
#[component]
pub fn FailoverDialog(
    #[prop(into)] link: Signal<LinkView>,
    open: RwSignal<bool>,
    /// Offered beside the failover when the geo-primary is lost: closes
    /// this dialog and opens the unlink confirmation.
    #[prop(optional)]
    on_unlink: Option<Callback<()>>,
) -> impl IntoView {
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
    let same = Signal::derive(move || link.with(|l| pair_same_size(app, l)));
    let kind_refused = move |k: FailoverKind| {
        Signal::derive(move || {
            started_from.with(Option::is_none).then_some(())?;
            failover_refusal(state.get(), k, same.get())
        })
    };
    let planned_refused = kind_refused(FailoverKind::Planned);
    let forced_refused = kind_refused(FailoverKind::Forced);
    // The geo-primary lost every node (and the failover hasn't started).
    let lost = Signal::derive(move || {
        started_from.with(Option::is_none) && state.get() == LinkState::PrimaryLost
    });
    effect(move || {
        if !open.get() {
            started_from.set(None);
            refused.set(None);
        } else if planned_refused.with_untracked(Option::is_some)
            && forced_refused.with_untracked(Option::is_none)
        {
            // Only a forced failover is possible (the geo-primary is lost).
            kind.set(FailoverKind::Forced);
        }
    });
    // A refusal ends the attempt and says why, in the dialog.
    effect(move || {
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
    // How long this link's last failover took here, from its timeline.
    let history = fetched(move || {
        let id = link.with(timeline_id);
        let open = open.get();
        async move {
            if !open {
                return None;
            }
            app.api().timeline(&id).await.ok()
        }
    });
    let measured = move || {
        history
            .get()
            .flatten()
            .and_then(|entries| last_failover_ms(&entries))
    };
    let running = move || started_from.with(Option::is_some);
    let dismiss = Signal::derive(move || if running() { "Close" } else { "Cancel" });
    view! {
        <Dialog open=open title="Failover">
            {move || {
                let l = link.get();
                match started_from.get() {
                    // Before: what will happen.
                    None if lost.get() => view! {
                        <div class="failover-lost" role="alert">
                            <p><strong>{primary_lost_summary(&l)}</strong></p>
                            <p>{forced_failover_text(&l)}</p>
                        </div>
                    }
                        .into_any(),
                    None => view! {
                        <p>
                            "Promote " <strong>{l.secondary.name.clone()}</strong>
                            " to geo-primary. " <strong>{l.primary.name.clone()}</strong>
                            " becomes its geo-secondary, and the geo-primary URLs move to the new primary. "
                            {move || measured_text(measured())}
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
                <Show
                    when=move || !lost.get()
                    fallback=|| view! {
                        <p class="muted">
                            "No data sync offset to wait for: the geo-primary has no data left to replicate."
                        </p>
                    }
                >
                    <OffsetGauge primary=primary secondary=secondary/>
                </Show>
                <KindChoice
                    kind=kind
                    planned_refused=planned_refused
                    forced_refused=forced_refused
                />
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
                {on_unlink.map(|unlink| {
                    let unlink_refused = Signal::derive(move || unlink_refusal(state.get()));
                    view! {
                        <Show when=move || lost.get()>
                            <GuardedButton
                                label="Unlink caches"
                                refusal=unlink_refused
                                on_click=unlink
                            />
                        </Show>
                    }
                })}
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
