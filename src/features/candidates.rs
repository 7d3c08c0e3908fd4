//! The "Compatible caches" list of the link wizard, computed by
//! `georep_core::candidates`, with the incompatible caches below it, each
//! with every reason in plain words.

use georep_core::compat::{candidates, Warning};
use georep_core::model::Cache;
use georep_core::CacheId;
use leptos::ev::KeyboardEvent;
use leptos::prelude::*;

use super::region_map::in_region;
use crate::components::card::{Card, Column, Table};
use crate::components::each::For;
use crate::components::guarded_button::unique_id;
use crate::components::reactive::Derived;
use crate::components::show::Show;
use crate::regions;
use crate::routes::overview_href;

/// A short title for a warning, for compact notes and banner headings.
pub fn warning_title(warning: &Warning) -> &'static str {
    match warning {
        Warning::SecondaryDataRemoved { .. } => "Data will be removed",
        Warning::SizeMismatch { .. } => "Different size: no failover",
        Warning::CrossRegionEgress { .. } => "Cross-region egress",
        Warning::FirewallRuleNeeded { .. } => "Firewall rule needed",
    }
}

/// One judged cache, owned so the view can keep it.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    /// The cache.
    pub cache: Cache,
    /// Every unmet prerequisite, as `georep-core` words it.
    pub reasons: Vec<String>,
    /// What linking entails.
    pub warnings: Vec<Warning>,
}

/// Judges every other cache as the secondary of `primary`. The primary
/// itself is left out: it is never a candidate for its own link.
pub fn judge(primary: &Cache, caches: &[Cache]) -> Vec<Judged> {
    candidates(primary, caches)
        .into_iter()
        .filter(|c| c.cache.id != primary.id)
        .map(|c| Judged {
            cache: c.cache.clone(),
            reasons: c.reasons.iter().map(ToString::to_string).collect(),
            warnings: c.warnings,
        })
        .collect()
}

/// The actions of a compatible cache's row: Link and View details.
#[component]
fn RowMenu(name: String, on_link: Callback<()>, details_href: String) -> impl IntoView {
    let open = RwSignal::new(false);
    let menu_id = unique_id("menu");
    let close_on_escape = move |ev: KeyboardEvent| {
        if ev.key() == "Escape" {
            open.set(false);
        }
    };
    view! {
        <div class="row-menu" on:keydown=close_on_escape>
            <button
                type="button"
                class="icon-button"
                aria-label=format!("Actions for {name}")
                aria-haspopup="menu"
                aria-expanded=move || if open.get() { "true" } else { "false" }
                aria-controls=menu_id.clone()
                on:click=move |_| open.update(|o| *o = !*o)
            >
                "⋯"
            </button>
            <Show when=move || open.get()>
                <ul class="menu" role="menu" id=menu_id.clone()>
                    <li role="none">
                        <button
                            type="button"
                            role="menuitem"
                            class="menu-item"
                            on:click=move |_| {
                                open.set(false);
                                on_link.run(());
                            }
                        >
                            "Link"
                        </button>
                    </li>
                    <li role="none">
                        <a role="menuitem" class="menu-item" href=details_href.clone()>
                            "View details"
                        </a>
                    </li>
                </ul>
            </Show>
        </div>
    }
}

/// The compatible list's columns.
const COLUMNS: [Column; 5] = [
    Column::new("Name"),
    Column::new("Location"),
    Column::new("Size"),
    Column::new("Notes"),
    Column::hidden("Actions"),
];

/// Compatible and incompatible caches for `primary`, filtered by `region`.
#[component]
pub fn CandidateList(
    /// The would-be geo-primary.
    #[prop(into)]
    primary: Signal<Option<Cache>>,
    /// Every cache.
    #[prop(into)]
    caches: Signal<Vec<Cache>>,
    /// The region filter (an ARM region name), set by the map.
    #[prop(into)]
    region: Signal<Option<String>>,
    /// Called with the chosen secondary.
    on_link: Callback<CacheId>,
) -> impl IntoView {
    let judged = Derived::new(move |_| {
        let Some(primary) = primary.get() else {
            return Vec::new();
        };
        let region = region.get();
        caches.with(|all| {
            judge(&primary, all)
                .into_iter()
                .filter(|j| in_region(region.as_deref(), &j.cache.location))
                .collect::<Vec<_>>()
        })
    });
    let compatible = move || {
        judged
            .get()
            .into_iter()
            .filter(|j| j.reasons.is_empty())
            .collect::<Vec<_>>()
    };
    let incompatible = move || {
        judged
            .get()
            .into_iter()
            .filter(|j| !j.reasons.is_empty())
            .collect::<Vec<_>>()
    };
    let region_note = move || {
        region
            .get()
            .map(|r| format!(" in {}", regions::display_name(&r)))
            .unwrap_or_default()
    };
    view! {
        <Card
            title="Compatible caches"
            heading_id="compatible-heading"
            class="candidates"
            count=Signal::derive(move || compatible().len())
            note=Signal::derive(region_note)
        >
            <Table columns=&COLUMNS class="compatible-list">
                        <For
                            each=compatible
                            key=|j| j.cache.id.to_string()
                            let(judged)
                        >
                            {
                                let id = judged.cache.id.clone();
                                let name = judged.cache.name().to_owned();
                                let link = {
                                    let id = id.clone();
                                    Callback::new(move |()| on_link.run(id.clone()))
                                };
                                let notes = judged
                                    .warnings
                                    .iter()
                                    .filter(|w| !matches!(w, Warning::SecondaryDataRemoved { .. }))
                                    .map(|w| {
                                        view! {
                                            <li class="note" title=w.to_string() data-warning=w.code()>
                                                {warning_title(w)}
                                            </li>
                                        }
                                    })
                                    .collect_view();
                                view! {
                                    <tr data-cache=name.clone()>
                                        <th scope="row">
                                            <button
                                                type="button"
                                                class="link-button"
                                                on:click=move |_| link.run(())
                                            >
                                                {name.clone()}
                                            </button>
                                        </th>
                                        <td>{regions::display_name(&judged.cache.location)}</td>
                                        <td>{judged.cache.sku.to_string()}</td>
                                        <td><ul class="notes">{notes}</ul></td>
                                        <td class="cell-actions">
                                            <RowMenu
                                                name=name.clone()
                                                on_link=link
                                                details_href=overview_href(&id)
                                            />
                                        </td>
                                    </tr>
                                }
                            }
                        </For>
            </Table>
            <Show when=move || compatible().is_empty()>
                <p class="empty-inline muted">
                    {move || format!("No compatible caches{}.", region_note())}
                    " The caches below say why they can't be linked."
                </p>
            </Show>
        </Card>
        <Card
            title="Incompatible caches"
            heading_id="incompatible-heading"
            class="candidates"
            count=Signal::derive(move || incompatible().len())
            note=Signal::stored("Why a cache isn't in the list above".to_owned())
        >
            <ul class="incompatible-list">
                <For
                    each=incompatible
                    key=|j| (j.cache.id.to_string(), j.reasons.clone())
                    let(judged)
                >
                    <li class="incompatible" data-cache=judged.cache.name().to_owned()>
                        <div class="incompatible-head">
                            <a href=overview_href(&judged.cache.id)>
                                {judged.cache.name().to_owned()}
                            </a>
                            <span class="muted">
                                {regions::display_name(&judged.cache.location)} " · "
                                {judged.cache.sku.to_string()}
                            </span>
                        </div>
                        <ul class="reasons">
                            {judged
                                .reasons
                                .iter()
                                .map(|r| view! { <li class="reason">{r.clone()}</li> })
                                .collect_view()}
                        </ul>
                    </li>
                </For>
            </ul>
            <Show when=move || incompatible().is_empty()>
                <p class="empty-inline muted">"Every cache here is compatible."</p>
            </Show>
        </Card>
    }
}
