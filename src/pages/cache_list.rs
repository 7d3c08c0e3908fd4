//! `/`: every cache, on the region map and in a list the map filters.
//!
//! Built to stay within a frame with a thousand caches: the rows are derived
//! once per fleet load (one [`Memo`], shared by the list, the count and the
//! empty state) and stay mounted; selecting a region only toggles the
//! `hidden` attribute of the rows whose visibility changes (a [`Selector`]).
//! The first screenful is mounted first and the rest after it is painted.

use std::sync::Arc;

use georep_core::link::LinkState;
use georep_core::model::{ProvisioningState, ServerRole};
use leptos::prelude::*;
use leptos::reactive::computed::Selector;

use crate::components::card::{Card, Column, Table};
use crate::components::status::LinkBadge;
use crate::features::region_map::{use_map_data, RegionMap};
use crate::model::{CacheEntry, Fleet, LinkView};
use crate::perf;
use crate::regions;
use crate::routes::{geo_href, overview_href};
use crate::state::{use_app, Connectivity, Load};

/// The cache list's columns.
const COLUMNS: [Column; 6] = [
    Column::new("Name"),
    Column::new("Location"),
    Column::optional("Resource group"),
    Column::optional("Pricing tier"),
    Column::optional("Status"),
    Column::new("Geo-replication"),
];

/// Rows mounted before the first paint: more than a tall window shows.
const FIRST_SCREEN: usize = 40;

/// What one row shows, derived once per fleet load.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    /// Names the row for `<For>`: the id, and what a change of should
    /// re-render the row.
    key: (Arc<str>, ProvisioningState, Option<LinkState>),
    entry: CacheEntry,
    /// The region's ARM name, the filter's key.
    region: Option<String>,
    /// The cache's link, when it has a role in one.
    link: Option<(ServerRole, LinkView)>,
}

impl Row {
    fn new(entry: &CacheEntry, fleet: &Fleet) -> Self {
        let link = entry.role().zip(fleet.link_ref(entry.id()).cloned());
        Row {
            key: (
                Arc::from(entry.id().to_string()),
                entry.cache.provisioning_state,
                entry.link_state(),
            ),
            entry: entry.clone(),
            region: Some(entry.region().to_owned()),
            link,
        }
    }
}

#[component]
fn CacheRow(row: Arc<Row>, visible: Signal<bool>) -> impl IntoView {
    let app = use_app();
    let entry = &row.entry;
    let id = entry.id();
    let geo = match row.link.clone() {
        Some((role, link)) => {
            let state = Signal::derive(move || app.link_state(&link));
            view! {
                <span class="role">{if role == ServerRole::Primary { "Geo-primary" } else { "Geo-secondary" }}</span>
                " "
                <LinkBadge state=state/>
            }
            .into_any()
        }
        None => view! { <span class="muted">"Not linked"</span> }.into_any(),
    };
    view! {
        <tr data-cache=entry.name().to_owned() hidden=move || !visible.get()>
            <th scope="row">
                <a href=overview_href(id)>{entry.name().to_owned()}</a>
            </th>
            <td>{regions::display_name(&entry.cache.location)}</td>
            <td class="col-optional">{id.resource_group.clone()}</td>
            <td class="col-optional">{entry.cache.sku.to_string()}</td>
            <td class="col-optional">{entry.cache.provisioning_state.to_string()}</td>
            <td>
                <a class="cell-link" href=geo_href(id)>{geo}</a>
            </td>
        </tr>
    }
}

/// The cache list.
#[component]
pub fn CacheListPage() -> impl IntoView {
    let app = use_app();
    let region = RwSignal::new(None::<String>);
    let (markers, links) = use_map_data();
    let rows = Memo::new(move |_| {
        app.fleet.with(|f| {
            f.caches
                .iter()
                .map(|e| Arc::new(Row::new(e, f)))
                .collect::<Vec<_>>()
        })
    });
    // Rows only hear about a click when their own visibility flips.
    let all = Memo::new(move |_| region.with(Option::is_none));
    let selected = Selector::new(move || region.get());
    let shown = Memo::new(move |_| {
        region.with(|r| {
            rows.with(|rows| {
                rows.iter()
                    .filter(|row| r.is_none() || row.region == *r)
                    .count()
            })
        })
    });
    let limit = RwSignal::new(FIRST_SCREEN);
    let total = move || rows.with(Vec::len);
    let ready = move || app.load.with(|l| *l == Load::Ready) && total() > 0;
    perf::mark_painted_once("georep:list-rendered", ready);
    Effect::new(move |done: Option<bool>| {
        if done == Some(true) {
            return true;
        }
        let now = ready();
        if now {
            perf::after_paint(move || limit.set(usize::MAX));
        }
        now
    });
    perf::mark_painted_on_change("georep:list-filtered", move || region.get());
    let each = move || {
        let limit = limit.get();
        rows.with(|rows| rows.iter().take(limit).cloned().collect::<Vec<_>>())
    };
    view! {
        <section class="page">
            <header class="page-header page-header-row">
                <div>
                    <h1>"Azure Cache for Redis"</h1>
                    <p class="page-subtitle">
                        "Premium caches and their passive geo-replication links"
                    </p>
                </div>
                <button type="button" class="btn" on:click=move |_| app.refresh()>
                    "Refresh"
                </button>
            </header>
            <Card class="map-card">
                <RegionMap
                    caches=markers
                    links=links
                    selected=region
                    label="Region map: select a region to filter the caches"
                />
            </Card>
            <Card title="Caches " count=Signal::derive(total)>
                <Table columns=&COLUMNS label="Caches">
                    <For each=each key=|row| row.key.clone() let(row)>
                        {
                            let mine = row.region.clone();
                            let selected = selected.clone();
                            let visible = Signal::derive(move || all.get() || selected.selected(&mine));
                            view! { <CacheRow row=row visible=visible/> }
                        }
                    </For>
                </Table>
                {move || match app.load.get() {
                    Load::Loading => {
                        let text = if matches!(app.connectivity.get(), Connectivity::Offline { .. }) {
                            "Waiting for the backend…"
                        } else {
                            "Loading caches…"
                        };
                        Some(view! { <p class="empty-inline muted">{text}</p> }.into_any())
                    }
                    Load::Failed(e) => Some(view! {
                        <div class="banner banner-error" role="alert">
                            <span class="banner-text">{e.to_string()}</span>
                        </div>
                    }.into_any()),
                    Load::Ready if total() == 0 => Some(view! {
                        <div class="empty-state">
                            <p class="empty-title">"No caches to display"</p>
                            <p class="muted">
                                "Create Premium caches with georep-server (or its API) to get started."
                            </p>
                        </div>
                    }.into_any()),
                    Load::Ready if shown.get() == 0 => Some(view! {
                        <p class="empty-inline muted">"No caches in this region."</p>
                    }.into_any()),
                    Load::Ready => None,
                }}
            </Card>
        </section>
    }
}
