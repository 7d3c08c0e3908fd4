//! Faults on purpose: cut the link and restore it, kill one node by role,
//! kill a whole region. Each asks first, saying what it will do; the
//! active faults are listed.

use std::sync::Arc;

use georep_core::link::LinkState;
use leptos::prelude::*;

use super::use_drills;
use super::wire::{FaultKind, FaultRequest, Faults};
use crate::actions::{last_error, use_mutation, Mutation, MutationAction, Report};
use crate::components::card::Card;
use crate::components::dialog::{Dialog, DialogActions};
use crate::components::guarded_button::GuardedButton;
use crate::components::reactive::{effect, fetched};
use crate::features::drills::error_banner;
use crate::features::live::ticker::use_ticker;
use crate::model::{format_time, LinkView};
use crate::regions;
use crate::state::use_app;

/// How often the active faults are read when nothing announced a change.
const REFETCH_MS: u32 = 5_000;

/// An active fault's kind for people.
pub fn fault_label(kind: &str) -> String {
    match kind {
        "cut-link" => "Link cut".to_owned(),
        other => other.to_owned(),
    }
}

/// Why no fault may start now: the server refuses while the link is busy.
fn busy_refusal(state: LinkState) -> Option<String> {
    state
        .is_busy()
        .then(|| format!("The link is {state}; wait until it has settled."))
}

/// What cutting the link does, in words.
pub fn cut_warning(link: &LinkView) -> String {
    let (p, s) = (&link.primary.name, &link.secondary.name);
    format!(
        "{s} stops replicating {p}. It keeps the data it has, but nothing written to {p} from now on reaches it: GeoReplicationHealthy falls to 0 and the lag grows until you restore the link. A forced failover meanwhile loses those writes; the link stays cut across restarts until restored."
    )
}

/// What restoring the link does, in words.
pub fn restore_warning(link: &LinkView) -> String {
    let (p, s) = (&link.primary.name, &link.secondary.name);
    format!(
        "{s} replicates {p} again: by a partial resync if {p}'s backlog still holds everything written meanwhile, else by a full sync that replaces {s}'s data with a fresh copy of {p}'s. The GeoReplicationFullSyncEvent metrics show which happened."
    )
}

/// What killing one node does, in words.
pub fn kill_node_warning(cache: &str, replica: bool) -> String {
    if replica {
        format!(
            "The replica node of {cache} is killed (kill -9). {cache} keeps serving from its primary node; the watchdog restarts the replica, which resyncs."
        )
    } else {
        format!(
            "The primary node of {cache} is killed (kill -9). Its clients are disconnected; {cache}'s replica is promoted (in-cache high availability) and writes it had not yet received are lost."
        )
    }
}

/// What killing a region does, in words; `caches` are those there.
pub fn kill_region_warning(region: &str, caches: &[String]) -> String {
    let name = regions::display_name(region);
    let list = if caches.is_empty() {
        "no cache the console knows of".to_owned()
    } else {
        caches.join(", ")
    };
    format!(
        "Every node of every cache in {name} is killed at once, as if the region went down: {list}. They are unavailable until their nodes come back. If the geo-primary is there, the link reports it lost, and only a forced failover can move writes to the secondary."
    )
}

/// A fault's confirmation: the warning, then the button that injects it.
#[component]
fn FaultDialog(
    open: RwSignal<bool>,
    title: &'static str,
    confirm: &'static str,
    #[prop(into)] warning: Signal<String>,
    action: MutationAction,
    /// The request and what to say once it is done.
    request: Callback<(), (FaultRequest, String)>,
    /// Choices shown above the warning (which node, which region).
    #[prop(optional)]
    extra: Option<ChildrenFn>,
) -> impl IntoView {
    let extra = StoredValue::new(extra);
    let go = Callback::new(move |()| {
        open.set(false);
        let (request, done) = request.run(());
        action.dispatch_local(Mutation::Fault { request, done });
    });
    view! {
        <Dialog open=open title=title>
            {extra.with_value(|e| e.as_ref().map(|c| c()))}
            <div class="banner banner-warning fault-warning" role="note">
                <span class="banner-text">
                    <strong>"What this does: "</strong>
                    {move || warning.get()}
                </span>
            </div>
            <DialogActions open=open>
                <GuardedButton
                    label=confirm
                    class="btn-danger fault-confirm"
                    refusal=Signal::stored(None::<String>)
                    on_click=go
                />
            </DialogActions>
        </Dialog>
    }
}

/// A `<select>` of `(value, label)` options bound to `value`.
#[component]
fn Choice(
    label: &'static str,
    name: &'static str,
    value: RwSignal<String>,
    #[prop(into)] options: Signal<Vec<(String, String)>>,
) -> impl IntoView {
    view! {
        <label class="field">
            <span>{label}</span>
            <select name=name on:change=move |ev| value.set(event_target_value(&ev))>
                {move || {
                    options
                        .get()
                        .into_iter()
                        .map(|(v, text)| {
                            let selected = {
                                let v = v.clone();
                                move || value.with(|c| *c == v)
                            };
                            view! {
                                <option value=v selected=selected>
                                    {text}
                                </option>
                            }
                        })
                        .collect_view()
                }}
            </select>
        </label>
    }
}

/// The faults card: what is active, and the four faults.
#[component]
pub fn FaultsPanel() -> impl IntoView {
    let app = use_app();
    let ctx = use_drills();
    let action = use_mutation(Report::Inline);
    let tick = use_ticker(REFETCH_MS);
    let fetched = fetched(move || {
        app.epoch.track();
        tick.track();
        let id = ctx.link_id.get();
        async move { app.observe(app.api().faults(&id).await) }
    });
    let faults = RwSignal::new(None::<Faults>);
    let error = RwSignal::new(None::<String>);
    effect(move || match fetched.get() {
        Some(Ok(f)) => {
            error.set(None);
            if faults.with_untracked(|old| old.as_ref() != Some(&f)) {
                faults.set(Some(f));
            }
        }
        Some(Err(e)) => error.set(Some(e.to_string())),
        None => {}
    });
    let cut = move || {
        faults.with(|f| {
            f.as_ref()
                .is_some_and(|f| f.active.iter().any(|a| a.kind == "cut-link"))
        })
    };
    let busy = move || {
        if action.pending().get() {
            return Some("Injecting the fault…".to_owned());
        }
        ctx.link.with(|l| busy_refusal(app.link_state(l)))
    };
    let cut_refused = Signal::derive(move || {
        busy().or_else(|| cut().then(|| "The link is already cut.".to_owned()))
    });
    let restore_refused = Signal::derive(move || {
        busy().or_else(|| (!cut()).then(|| "The link is not cut.".to_owned()))
    });
    let kill_refused = Signal::derive(busy);

    let (cut_open, restore_open, node_open, region_open) = (
        RwSignal::new(false),
        RwSignal::new(false),
        RwSignal::new(false),
        RwSignal::new(false),
    );
    let node_cache = RwSignal::new("primary".to_owned());
    let node_role = RwSignal::new("primary".to_owned());
    let region = RwSignal::new(String::new());
    let link_regions = Signal::derive(move || {
        ctx.link.with(|l| {
            let mut list = vec![l.primary_location.clone()];
            if regions::normalize(&l.secondary_location) != regions::normalize(&l.primary_location)
            {
                list.push(l.secondary_location.clone());
            }
            list
        })
    });
    effect(move || {
        if region.with_untracked(String::is_empty) {
            if let Some(first) = link_regions.get().into_iter().next() {
                region.set(first);
            }
        }
    });

    let simple = move |kind: FaultKind, done: &'static str| {
        Callback::new(move |()| {
            let request = FaultRequest::new(ctx.link_id.get_untracked(), kind);
            (request, done.to_owned())
        })
    };
    let node_name = move || {
        ctx.link.with(|l| {
            if node_cache.get() == "secondary" {
                l.secondary.name.clone()
            } else {
                l.primary.name.clone()
            }
        })
    };
    let node_request = Callback::new(move |()| {
        let mut request = FaultRequest::new(ctx.link_id.get_untracked(), FaultKind::KillNode);
        request.cache = Some(node_cache.get_untracked());
        request.role = Some(node_role.get_untracked());
        let done = format!(
            "Killed the {} node of {}.",
            node_role.get_untracked(),
            node_name()
        );
        (request, done)
    });
    let region_request = Callback::new(move |()| {
        let mut request = FaultRequest::new(ctx.link_id.get_untracked(), FaultKind::KillRegion);
        let r = region.get_untracked();
        request.region = Some(r.clone());
        (
            request,
            format!("Killed every node in {}.", regions::display_name(&r)),
        )
    });
    let region_caches = move || {
        let r = regions::normalize(&region.get());
        app.fleet.with(|f| {
            f.caches
                .iter()
                .filter(|e| regions::normalize(&e.cache.location) == r)
                .map(|e| e.name().to_owned())
                .collect::<Vec<_>>()
        })
    };
    let cache_options = Signal::derive(move || {
        ctx.link.with(|l| {
            vec![
                (
                    "primary".to_owned(),
                    format!("{} (geo-primary)", l.primary.name),
                ),
                (
                    "secondary".to_owned(),
                    format!("{} (geo-secondary)", l.secondary.name),
                ),
            ]
        })
    });
    let role_options = Signal::stored(vec![
        ("primary".to_owned(), "Its primary node".to_owned()),
        ("replica".to_owned(), "Its replica node".to_owned()),
    ]);
    let region_options = Signal::derive(move || {
        link_regions
            .get()
            .into_iter()
            .map(|r| {
                let name = regions::display_name(&r);
                (r, name)
            })
            .collect::<Vec<_>>()
    });

    let active = move || {
        let list = faults.with(|f| f.as_ref().map(|f| f.active.clone()));
        match list {
            None => view! { <p class="muted">"Reading the active faults…"</p> }.into_any(),
            Some(list) if list.is_empty() => {
                view! { <p class="muted faults-none">"No fault is active."</p> }.into_any()
            }
            Some(list) => view! {
                <ul class="active-faults">
                    {list
                        .into_iter()
                        .map(|f| {
                            let since = f
                                .since
                                .as_deref()
                                .map(|s| format!(" since {}", format_time(s)))
                                .unwrap_or_default();
                            view! {
                                <li class="active-fault" data-kind=f.kind.clone()>
                                    <span class="badge badge-unhealthy">{fault_label(&f.kind)}</span>
                                    <span class="muted">{since}</span>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            }
            .into_any(),
        }
    };
    let warn = move |f: fn(&LinkView) -> String| Signal::derive(move || ctx.link.with(f));
    view! {
        <Card title="Faults" heading_id="drill-faults-heading" class="drill-faults">
            <div class="card-body">
                <h3 class="drill-subhead">"Active"</h3>
                {active}
                {move || error.get().map(|e| view! { <p class="muted">{e}</p> })}
                <h3 class="drill-subhead">"Inject"</h3>
                <div class="fault-buttons">
                    <GuardedButton
                        label="Cut link"
                        class="fault-cut"
                        refusal=cut_refused
                        on_click=Callback::new(move |()| cut_open.set(true))
                    />
                    <GuardedButton
                        label="Restore link"
                        class="fault-restore"
                        refusal=restore_refused
                        on_click=Callback::new(move |()| restore_open.set(true))
                    />
                    <GuardedButton
                        label="Kill node…"
                        class="fault-kill-node"
                        refusal=kill_refused
                        on_click=Callback::new(move |()| node_open.set(true))
                    />
                    <GuardedButton
                        label="Kill region…"
                        class="fault-kill-region"
                        refusal=kill_refused
                        on_click=Callback::new(move |()| region_open.set(true))
                    />
                </div>
                {move || error_banner(last_error(action))}
            </div>
            <FaultDialog
                open=cut_open
                title="Cut the link"
                confirm="Cut link"
                warning=warn(cut_warning)
                action=action
                request=simple(FaultKind::CutLink, "The link is cut.")
            />
            <FaultDialog
                open=restore_open
                title="Restore the link"
                confirm="Restore link"
                warning=warn(restore_warning)
                action=action
                request=simple(FaultKind::RestoreLink, "The link is restored; the secondary resyncs.")
            />
            <FaultDialog
                open=node_open
                title="Kill a node"
                confirm="Kill node"
                warning=Signal::derive(move || kill_node_warning(&node_name(), node_role.get() == "replica"))
                action=action
                request=node_request
                extra=Arc::new(move || {
                    view! {
                        <Choice label="Cache" name="fault-cache" value=node_cache options=cache_options/>
                        <Choice label="Node" name="fault-role" value=node_role options=role_options/>
                    }
                        .into_any()
                })
            />
            <FaultDialog
                open=region_open
                title="Kill a region"
                confirm="Kill region"
                warning=Signal::derive(move || kill_region_warning(&region.get(), &region_caches()))
                action=action
                request=region_request
                extra=Arc::new(move || {
                    view! {
                        <Choice label="Region" name="fault-region" value=region options=region_options/>
                    }
                        .into_any()
                })
            />
        </Card>
    }
}
