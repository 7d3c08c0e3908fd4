//! The add-link wizard: select the secondary (map + compatible caches), then
//! confirm what linking entails, then link.
//!
//! The step lives in the URL (`?secondary=name`), so Back returns from the
//! confirmation to the selection.

use georep_core::compat::{check_pair, Reason, Warning};
use georep_core::model::{Cache, ServerRole};
use georep_core::CacheId;
use leptos::prelude::*;

use super::candidates::{warning_title, CandidateList};
use super::region_map::{MapCache, MapLink, RegionMap};
use crate::actions::{last_accepted, last_error, use_mutation, Mutation, MutationAction, Report};
use crate::components::card::Card;
use crate::components::reactive::{effect, fetched, Derived};
use crate::model::Health;
use crate::regions;
use crate::routes::{geo_href, use_go, use_location, wizard_step_href, SECONDARY_PARAM};
use crate::state::use_app;

/// Why `primary` can't get a new link at all, whatever the secondary: the
/// primary-side reasons `georep-core` gives against an ideal partner (an
/// unlinked twin of the primary).
pub fn add_link_refusal(primary: &Cache) -> Option<String> {
    let mut twin = primary.clone();
    twin.id.name = format!("{}-twin", primary.id.name);
    twin.link = None;
    let reasons = check_pair(primary, &twin).err()?;
    reasons
        .into_iter()
        .find(|r| {
            matches!(
                r,
                Reason::NotPremium {
                    role: ServerRole::Primary,
                    ..
                } | Reason::TooManyReplicas {
                    role: ServerRole::Primary,
                    ..
                } | Reason::PersistenceEnabled {
                    role: ServerRole::Primary,
                    ..
                } | Reason::NotRunning {
                    role: ServerRole::Primary,
                    ..
                } | Reason::AlreadyLinked {
                    role: ServerRole::Primary,
                    ..
                }
            )
        })
        .map(|r| r.to_string())
}

/// The wizard's steps, for the step indicator.
const STEPS: [&str; 3] = ["Select secondary", "Confirm", "Link"];

#[component]
fn Stepper(#[prop(into)] current: Signal<usize>) -> impl IntoView {
    view! {
        <ol class="stepper" aria-label="Steps">
            {STEPS
                .iter()
                .enumerate()
                .map(|(i, label)| {
                    view! {
                        <li
                            class="step"
                            class:done=move || i < current.get()
                            class:current=move || i == current.get()
                            aria-current=move || (i == current.get()).then_some("step")
                        >
                            <span class="step-number">{i + 1}</span>
                            <span class="step-label">{*label}</span>
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
}

/// How a warning is shown: its banner class and a short title.
fn warning_style(warning: &Warning) -> (&'static str, &'static str) {
    let class = match warning {
        Warning::SecondaryDataRemoved { .. } => "banner-error",
        Warning::SizeMismatch { .. } | Warning::FirewallRuleNeeded { .. } => "banner-warning",
        Warning::CrossRegionEgress { .. } => "banner-info",
    };
    (class, warning_title(warning))
}

#[component]
fn CacheSummary(cache: Cache, role: &'static str) -> impl IntoView {
    view! {
        <div class="summary-cache">
            <span class="summary-role">{role}</span>
            <strong class="summary-name">{cache.name().to_owned()}</strong>
            <span class="muted">
                {regions::display_name(&cache.location)} " · " {cache.sku.to_string()} " · Redis "
                {cache.redis_version.clone()}
            </span>
        </div>
    }
}

/// The confirmation step for a chosen pair; `link` sends it (the wizard
/// owns it, see [`LinkWizard`]).
#[component]
fn Confirm(
    primary: Cache,
    secondary: Cache,
    on_back: Callback<()>,
    link: MutationAction,
) -> impl IntoView {
    let verdict = check_pair(&primary, &secondary);
    let blocked = verdict.is_err();
    let pending = link.pending();
    let error = move || last_error(link);
    let body = match &verdict {
        Ok(warnings) => warnings
            .iter()
            .map(|w| {
                let (class, title) = warning_style(w);
                view! {
                    <div
                        class=format!("banner {class} warning")
                        data-warning=w.code()
                    >
                        <span class="banner-text">
                            <strong>{title} ". "</strong>
                            {w.to_string()}
                        </span>
                    </div>
                }
            })
            .collect_view()
            .into_any(),
        Err(reasons) => view! {
            <div class="banner banner-error" role="alert">
                <span class="banner-text">
                    <strong>"These caches can no longer be linked."</strong>
                    <ul class="reasons">
                        {reasons
                            .iter()
                            .map(|r| view! { <li class="reason">{r.to_string()}</li> })
                            .collect_view()}
                    </ul>
                </span>
            </div>
        }
        .into_any(),
    };
    let request = Mutation::CreateLink {
        primary: primary.id.clone(),
        secondary: secondary.clone(),
    };
    view! {
        <Card title="Confirm the link" heading_id="confirm-heading" class="confirm">
            <div class="card-body">
                <div class="summary">
                    <CacheSummary cache=primary.clone() role="Geo-primary"/>
                    <span class="summary-arrow" aria-hidden="true">"→"</span>
                    <CacheSummary cache=secondary.clone() role="Geo-secondary"/>
                </div>
                {body}
                <p class="muted">
                    "The primary stays available while linking. The secondary isn't available until the link's provisioning status is Succeeded."
                </p>
                {move || {
                    error()
                        .map(|e| {
                            view! {
                                <div class="banner banner-error" role="alert">
                                    <span class="banner-text">{e}</span>
                                </div>
                            }
                        })
                }}
                <div class="actions">
                    <button type="button" class="btn" on:click=move |_| on_back.run(())>
                        "Back"
                    </button>
                    <button
                        type="button"
                        class="btn btn-primary"
                        disabled=move || blocked || pending.get()
                        on:click=move |_| {
                            link.dispatch_local(request.clone());
                        }
                    >
                        {move || if pending.get() { "Linking…" } else { "Link" }}
                    </button>
                </div>
            </div>
        </Card>
    }
}

/// The wizard for linking a secondary to `primary`.
#[component]
pub fn LinkWizard(
    /// The cache that will be the geo-primary.
    #[prop(into)]
    primary: Signal<CacheId>,
) -> impl IntoView {
    let app = use_app();
    let url = use_location().url();
    let navigate = use_go();
    let region = RwSignal::new(None::<String>);

    let caches = Derived::new(move |_| app.fleet.with(|f| f.cores()));
    // The "Firewall rule needed" warning reads the primary's rules, which
    // the fleet's loads fetch for linked caches only: this one is asked here.
    let primary_rules = fetched(move || {
        let id = primary.get();
        async move { app.api().firewall_rules(&id).await.ok() }
    });
    let primary_cache = Derived::new(move |_| {
        let mut cache =
            primary.with(|id| caches.with(|all| all.iter().find(|c| &c.id == id).cloned()))?;
        if let Some(rules) = primary_rules.get().flatten() {
            cache.firewall_rules = rules;
        }
        Some(cache)
    });
    let chosen = Derived::new(move |_| {
        let name = url.with(|u| u.query(SECONDARY_PARAM))?;
        caches.with(|all| {
            all.iter()
                .find(|c| c.id.name.eq_ignore_ascii_case(&name))
                .cloned()
        })
    });
    let step = Signal::derive(move || usize::from(chosen.with(Option::is_some)));

    let go = {
        let navigate = navigate.clone();
        move |secondary: Option<&str>| {
            let url = wizard_step_href(&url.with_untracked(|u| u.path.clone()), secondary);
            navigate(&url);
        }
    };
    let choose = {
        let go = go.clone();
        Callback::new(move |id: CacheId| go(Some(&id.name)))
    };
    let back = Callback::new(move |()| go(None));

    let markers = Signal::derive(move || {
        caches.with(|all| {
            all.iter()
                .map(|c| MapCache {
                    name: c.name().to_owned(),
                    location: c.location.clone(),
                })
                .collect::<Vec<_>>()
        })
    });
    let links = Signal::derive(move || {
        app.fleet.with(|f| {
            f.links()
                .iter()
                .map(|l| MapLink {
                    from: l.primary_location.clone(),
                    to: l.secondary_location.clone(),
                    health: Health::of(app.link_state(l), None),
                    label: format!("{} to {}", l.primary.name, l.secondary.name),
                })
                .collect::<Vec<_>>()
        })
    });

    // The link request lives here, not in the confirmation: the fleet can
    // show the new link (and so unmount the confirmation, whose cache can
    // no longer get one) before the request's own answer arrives.
    let link = use_mutation(Report::Inline);
    {
        let navigate = navigate.clone();
        effect(move || {
            if last_accepted(link) {
                navigate(&geo_href(&primary.get_untracked()));
            }
        });
    }
    let blocked =
        Derived::new(move |_| primary_cache.with(|p| p.as_ref().and_then(add_link_refusal)));
    // This wizard's own link, on its way: not a reason to refuse.
    let linking = move || link.pending().get() || last_accepted(link);
    view! {
        <Stepper current=step/>
        {move || blocked.get().filter(|_| !linking()).map(|reason| view! {
            <div class="banner banner-error" role="alert">
                <span class="banner-text">
                    <strong>"This cache can't get a new link. "</strong>
                    {reason}
                </span>
            </div>
        })}
        {move || match (primary_cache.get(), chosen.get()) {
            _ if blocked.with(Option::is_some) => ().into_any(),
            (Some(primary), Some(secondary)) => {
                view! { <Confirm primary=primary secondary=secondary on_back=back link=link/> }.into_any()
            }
            _ => {
                view! {
                    <div class="wizard-select">
                        <Card class="map-card">
                            <RegionMap
                                caches=markers
                                links=links
                                selected=region
                                filters="caches to link"
                            />
                        </Card>
                        <div class="wizard-lists">
                            <CandidateList
                                primary=Signal::derive(move || primary_cache.get())
                                caches=Signal::derive(move || caches.get())
                                region=Signal::derive(move || region.get())
                                on_link=choose
                            />
                        </div>
                    </div>
                }
                    .into_any()
            }
        }}
    }
}
