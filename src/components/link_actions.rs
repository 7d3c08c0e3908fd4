//! Failover and Unlink: the buttons (enabled by `georep-core`'s link state
//! machine, with its refusal as the tooltip) and their dialogs.

use georep_core::compat::same_size;
use georep_core::failover::{offset_is_safe, preflight, CheckItem, SAFE_OFFSET_BYTES};
use georep_core::link::{Event, FailoverKind, FailoverPhase, LinkState};
use georep_core::metrics::GeoMetric;
use georep_core::CacheId;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::dialog::Dialog;
use super::guarded_button::GuardedButton;
use super::health::{latest, use_pair_metrics};
use crate::model::{format_bytes, LinkView};
use crate::state::{use_app, AppState};

/// Why a failover of `kind` can't start now, per the state machine.
pub fn failover_refusal(state: LinkState, kind: FailoverKind, same_size: bool) -> Option<String> {
    state
        .allows(Event::FailoverRequested { kind, same_size })
        .err()
        .map(|r| r.to_string())
}

/// Why an unlink can't start now, per the state machine.
pub fn unlink_refusal(state: LinkState) -> Option<String> {
    state
        .allows(Event::UnlinkRequested)
        .err()
        .map(|r| r.to_string())
}

/// Whether the two caches of a link are the same size, which failover needs.
fn pair_same_size(app: AppState, link: &LinkView) -> bool {
    app.fleet
        .with(|f| match (f.get(&link.primary), f.get(&link.secondary)) {
            (Some(a), Some(b)) => same_size(&a.cache, &b.cache),
            // Unknown sizes: let the server decide.
            _ => true,
        })
}

/// Starts a failover: optimistic state first, then the request. A refused
/// request rolls the optimistic state back and calls `on_refused` with
/// ARM's message.
fn start_failover(
    app: AppState,
    link: LinkView,
    kind: FailoverKind,
    same: bool,
    on_refused: impl FnOnce(String) + 'static,
) {
    let Ok(next) = link.state.next(Event::FailoverRequested {
        kind,
        same_size: same,
    }) else {
        return;
    };
    let Some(primary) = app
        .fleet
        .with_untracked(|f| f.get(&link.primary).map(|e| e.cache.clone()))
    else {
        return;
    };
    app.expect(&link, next);
    spawn_local(async move {
        let result = app.observe(app.api().failover(&link.secondary, &primary, kind).await);
        match result {
            Ok(_) => app.refresh(),
            Err(e) => {
                app.forget(&link);
                on_refused(e.to_string());
            }
        }
    });
}

/// Starts an unlink: optimistic state first, then the request.
fn start_unlink(app: AppState, link: LinkView) {
    let Ok(next) = link.state.next(Event::UnlinkRequested) else {
        return;
    };
    app.expect(&link, next);
    spawn_local(async move {
        let result = app.observe(app.api().unlink(&link.primary, &link.secondary).await);
        match result {
            Ok(()) => {
                app.refresh();
                app.tell(
                    false,
                    format!(
                        "Unlinking {} and {}. When it completes, both caches accept reads and writes; the replicated data stays in {}.",
                        link.primary.name, link.secondary.name, link.secondary.name
                    ),
                );
            }
            Err(e) => {
                app.forget(&link);
                app.tell(true, e.to_string());
            }
        }
    });
}

/// The Failover and Unlink buttons of a link, with their dialogs.
#[component]
pub fn LinkActions(#[prop(into)] link: Signal<LinkView>) -> impl IntoView {
    let app = use_app();
    let state = Signal::derive(move || link.with(|l| app.link_state(l)));
    let same = Signal::derive(move || link.with(|l| pair_same_size(app, l)));
    let failover_open = RwSignal::new(false);
    let unlink_open = RwSignal::new(false);
    let failover_refused = Signal::derive(move || {
        let state = state.get();
        // While the dialog follows a running failover, keep the button calm.
        failover_refusal(state, FailoverKind::Planned, same.get())
    });
    let unlink_refused = Signal::derive(move || unlink_refusal(state.get()));
    view! {
        <div class="link-actions">
            <GuardedButton
                label="Failover"
                refusal=failover_refused
                on_click=Callback::new(move |()| failover_open.set(true))
            />
            <GuardedButton
                label="Unlink caches"
                refusal=unlink_refused
                on_click=Callback::new(move |()| unlink_open.set(true))
            />
            <FailoverDialog link=link open=failover_open/>
            <UnlinkDialog link=link open=unlink_open/>
        </div>
    }
}

/// The pre-failover checklist, from `georep_core::failover::preflight`.
#[component]
fn Checklist(#[prop(into)] link: Signal<LinkView>) -> impl IntoView {
    let app = use_app();
    // Whether the access keys differ needs both caches' keys; the keys
    // themselves never leave this future.
    let keys_differ = LocalResource::new(move || {
        let (p, s) = link.with(|l| (l.primary.clone(), l.secondary.clone()));
        async move {
            let api = app.api();
            let (a, b) = futures::join!(api.list_keys(&p), api.list_keys(&s));
            match (a, b) {
                (Ok(a), Ok(b)) => {
                    Some(a.primary_key != b.primary_key || a.secondary_key != b.secondary_key)
                }
                _ => None,
            }
        }
    });
    let checks = move || {
        let known = keys_differ.get().flatten();
        link.with(|l| {
            app.fleet.with(|f| {
                let (Some(p), Some(s)) = (f.get(&l.primary), f.get(&l.secondary)) else {
                    return Vec::new();
                };
                preflight(&p.cache, &s.cache, known.unwrap_or(true))
                    .into_iter()
                    .map(|c| {
                        let pending = c.item == CheckItem::AccessKeysDiffer && known.is_none();
                        (c, pending)
                    })
                    .collect()
            })
        })
    };
    let title = |item: CheckItem| match item {
        CheckItem::FirewallParity => "Firewall settings match",
        CheckItem::PortAndTlsParity => "Same port and TLS settings",
        CheckItem::AccessKeysDiffer => "Access keys",
    };
    view! {
        <ul class="checklist" aria-label="Settings to check before failover">
            {move || {
                checks()
                    .into_iter()
                    .map(|(check, pending)| {
                        let class = if pending {
                            "check pending"
                        } else if check.ok {
                            "check ok"
                        } else {
                            "check attention"
                        };
                        let mark = if pending { "…" } else if check.ok { "✓" } else { "!" };
                        view! {
                            <li class=class>
                                <span class="check-mark" aria-hidden="true">{mark}</span>
                                <span>
                                    <strong>{title(check.item)}</strong>
                                    <br/>
                                    <span class="muted">
                                        {if pending {
                                            "Comparing the two caches' access keys…".to_owned()
                                        } else {
                                            check.detail
                                        }}
                                    </span>
                                </span>
                            </li>
                        }
                    })
                    .collect_view()
            }}
        </ul>
    }
}

/// The live data sync offset, with the seed's "fewer than 14 bytes" rule.
#[component]
fn OffsetGauge(
    #[prop(into)] primary: Signal<CacheId>,
    #[prop(into)] secondary: Signal<CacheId>,
) -> impl IntoView {
    let metrics = use_pair_metrics(primary, secondary, 2_000);
    let offset = RwSignal::new(None::<f64>);
    Effect::new(move |_| {
        if let Some(Ok(pair)) = metrics.get() {
            offset.set(latest(
                &pair.merged(),
                GeoMetric::GeoReplicationDataSyncOffset,
            ));
        }
    });
    let ready = move || offset.get().map(|o| offset_is_safe(o.max(0.0) as u64));
    view! {
        <div
            class="offset"
            class:ready=move || ready() == Some(true)
            class:not-ready=move || ready() == Some(false)
            role="status"
        >
            <span class="offset-label">"Geo Replication Data Sync Offset"</span>
            <strong class="offset-value">
                {move || offset.get().map_or_else(|| "measuring…".to_owned(), format_bytes)}
            </strong>
            <span class="offset-verdict">
                {move || match ready() {
                    Some(true) => format!("Ready: fewer than {SAFE_OFFSET_BYTES} bytes remain to replicate."),
                    Some(false) => format!("Not ready: wait until fewer than {SAFE_OFFSET_BYTES} bytes remain, or data written meanwhile may be lost."),
                    None => "Waiting for the first sample.".to_owned(),
                }}
            </span>
        </div>
    }
}

/// The steps of a running failover, as the link reports them.
#[component]
fn FailoverSteps(
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

/// The failover dialog: checklist, live offset, planned or forced, then the
/// live steps.
#[component]
pub fn FailoverDialog(#[prop(into)] link: Signal<LinkView>, open: RwSignal<bool>) -> impl IntoView {
    let app = use_app();
    let kind = RwSignal::new(FailoverKind::Planned);
    // The primary when the user started the failover; `None` before.
    let started_from = RwSignal::new(None::<CacheId>);
    // ARM's message when the server refused the failover.
    let refused = RwSignal::new(None::<String>);
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
    let start = Callback::new(move |()| {
        let l = link.get_untracked();
        started_from.set(Some(l.primary.clone()));
        refused.set(None);
        let same = pair_same_size(app, &l);
        start_failover(app, l, kind.get_untracked(), same, move |message| {
            started_from.set(None);
            refused.set(Some(message));
        });
    });
    let primary = Signal::derive(move || link.with(|l| l.primary.clone()));
    let secondary = Signal::derive(move || link.with(|l| l.secondary.clone()));
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
                            let loss = l
                                .last_failover
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
                                .unwrap_or_default();
                            format!(
                                "Failover complete: {new} is the geo-primary and {} its geo-secondary.{loss}",
                                old.name
                            )
                        } else {
                            format!("Failing over from {} to {new}…", old.name)
                        };
                        view! { <p class="failover-status" role="status">{text}</p> }.into_any()
                    }
                }
            }}
            <Show when=move || started_from.with(Option::is_none)>
            <h3>"Settings to check"</h3>
            <Checklist link=link/>
            <OffsetGauge primary=primary secondary=secondary/>
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
            </Show>
            <Show when=move || started_from.with(Option::is_some)>
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
            <div class="actions">
                <button type="button" class="btn" on:click=move |_| open.set(false)>
                    {move || if started_from.with(Option::is_some) { "Close" } else { "Cancel" }}
                </button>
                <Show when=move || started_from.with(Option::is_none)>
                    <GuardedButton
                        label="Fail over"
                        class="btn-primary"
                        refusal=refusal
                        on_click=start
                    />
                </Show>
            </div>
        </Dialog>
    }
}

/// The unlink confirmation.
#[component]
pub fn UnlinkDialog(#[prop(into)] link: Signal<LinkView>, open: RwSignal<bool>) -> impl IntoView {
    let app = use_app();
    let refusal = Signal::derive(move || link.with(|l| unlink_refusal(app.link_state(l))));
    view! {
        <Dialog open=open title="Unlink caches">
            {move || {
                let l = link.get();
                view! {
                    <p>
                        "Stop geo-replication between " <strong>{l.primary.name.clone()}</strong>
                        " and " <strong>{l.secondary.name.clone()}</strong> "?"
                    </p>
                    <ul class="plain-list">
                        <li>"Both caches stay available while unlinking."</li>
                        <li>
                            "Afterwards " {l.secondary.name.clone()}
                            " accepts reads and writes, and keeps the data replicated so far."
                        </li>
                        <li>"The geo-primary URLs stop working."</li>
                    </ul>
                }
            }}
            <div class="actions">
                <button type="button" class="btn" on:click=move |_| open.set(false)>
                    "Cancel"
                </button>
                <GuardedButton
                    label="Unlink"
                    class="btn-danger"
                    refusal=refusal
                    on_click=Callback::new(move |()| {
                        open.set(false);
                        start_unlink(app, link.get_untracked());
                    })
                />
            </div>
        </Dialog>
    }
}
