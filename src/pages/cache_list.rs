//! `/`: every cache, on the region map and in a list the map filters.

use georep_core::model::ServerRole;
use georep_core::regions;
use leptos::prelude::*;

use crate::components::card::{Card, Column, Table};
use crate::components::status::LinkBadge;
use crate::features::region_map::{in_region, use_map_data, RegionMap};
use crate::model::CacheEntry;
use crate::perf;
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

#[component]
fn CacheRow(entry: CacheEntry) -> impl IntoView {
    let app = use_app();
    let id = entry.id().clone();
    let role = entry.role();
    let link = app.fleet.with_untracked(|f| f.link_of(&id));
    let geo = match (role, link) {
        (Some(role), Some(link)) => {
            let state = Signal::derive(move || app.link_state(&link));
            view! {
                <span class="role">{if role == ServerRole::Primary { "Geo-primary" } else { "Geo-secondary" }}</span>
                " "
                <LinkBadge state=state/>
            }
            .into_any()
        }
        _ => view! { <span class="muted">"Not linked"</span> }.into_any(),
    };
    view! {
        <tr data-cache=entry.name().to_owned()>
            <th scope="row">
                <a href=overview_href(&id)>{entry.name().to_owned()}</a>
            </th>
            <td>{regions::display_name(&entry.cache.location)}</td>
            <td class="col-optional">{id.resource_group.clone()}</td>
            <td class="col-optional">{entry.cache.sku.to_string()}</td>
            <td class="col-optional">{entry.cache.provisioning_state.to_string()}</td>
            <td>
                <a class="cell-link" href=geo_href(&id)>{geo}</a>
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
    let rows = move || {
        let selected = region.get();
        app.fleet.with(|f| {
            f.caches
                .iter()
                .filter(|e| in_region(selected.as_deref(), &e.cache.location))
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let total = move || app.fleet.with(|f| f.caches.len());
    perf::mark_painted_once("georep:list-rendered", move || {
        app.load.with(|l| *l == Load::Ready) && total() > 0
    });
    perf::mark_painted_on_change("georep:list-filtered", move || region.get());
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
                    <For
                        each=rows
                        key=|e| (e.id().to_string(), e.cache.provisioning_state, e.link_state())
                        let(entry)
                    >
                        <CacheRow entry=entry/>
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
                    Load::Ready if rows().is_empty() => Some(view! {
                        <p class="empty-inline muted">"No caches in this region."</p>
                    }.into_any()),
                    Load::Ready => None,
                }}
            </Card>
        </section>
    }
}
