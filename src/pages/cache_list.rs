//! `/`: every cache, on the region map and in a list the map filters.
//!
//! Built to stay within a frame with a thousand caches. The rows are derived
//! once per fleet load (one [`Memo`], shared by the list, the count and the
//! empty state). The table holds one row element per cache, mounted once
//! and keyed by its position (a `u32`): a filter puts the matching caches,
//! in fleet order, into the first positions and hides the rest. A click so
//! rewrites the text of the positions whose cache changed and creates,
//! removes and restyles nothing; with a fixed table layout Chromium then
//! only lays out that text again. Showing and hiding whole rows instead
//! made the browser restyle and lay out every newly shown row, about three
//! times the work (README, Performance).
//!
//! The first screenful is mounted first and the rest after it is painted.

use std::sync::Arc;

use georep_core::model::ServerRole;
use leptos::either::Either;
use leptos::html;
use leptos::prelude::*;

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

/// What one row shows, derived once per fleet load. The texts are shared
/// (`Arc<str>`), so handing a row to a position copies no string.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    name: Arc<str>,
    overview: Arc<str>,
    geo: Arc<str>,
    location: Arc<str>,
    group: Arc<str>,
    sku: Arc<str>,
    status: Arc<str>,
    /// The region's ARM name, the filter's key.
    region: Arc<str>,
    /// The cache's link, when it has a role in one.
    link: Option<(ServerRole, LinkView)>,
}

impl Row {
    fn new(entry: &CacheEntry, fleet: &Fleet) -> Self {
        let id = entry.id();
        Row {
            name: entry.name().into(),
            overview: overview_href(id).into(),
            geo: geo_href(id).into(),
            location: regions::display_name(&entry.cache.location).into(),
            group: id.resource_group.as_str().into(),
            sku: entry.cache.sku.to_string().into(),
            status: entry.cache.provisioning_state.to_string().into(),
            region: entry.region().into(),
            link: entry.role().zip(fleet.link_ref(id).cloned()),
        }
    }
}

/// Which row each position of the table shows (`None`: hidden), one
/// signal per position, so that a filter wakes only the positions whose
/// row changes.
#[derive(Clone, Copy)]
struct Positions(StoredValue<Vec<ArcRwSignal<Option<u32>>>>);

impl Positions {
    fn new() -> Self {
        Self(StoredValue::new(Vec::new()))
    }

    /// Position `i`'s signal; positions created for it start with the row
    /// `initial` gives them.
    fn get(self, i: usize, initial: impl Fn(usize) -> Option<u32>) -> ArcRwSignal<Option<u32>> {
        self.0.update_value(|all| {
            while all.len() <= i {
                all.push(ArcRwSignal::new(initial(all.len())));
            }
        });
        self.0.with_value(|all| all[i].clone())
    }

    /// Puts `shown[i]` into position `i` and hides the positions past it,
    /// touching only those that change.
    fn assign(self, shown: &[u32]) {
        self.0.with_value(|all| {
            for (i, position) in all.iter().enumerate() {
                let want = shown.get(i).copied();
                if position.get_untracked() != want {
                    position.set(want);
                }
            }
        });
    }
}

/// One position of the table: the row it is given, or hidden. While hidden
/// it keeps the cells of its last row (nothing to rewrite) but no
/// `data-cache`, so only shown rows answer for a cache.
///
/// The cells are mounted once; when the row changes, one effect writes the
/// texts and links that differ into them. A reactive binding per cell cost
/// twice the script, and a view rebuilt per row re-set every class, which
/// made the browser restyle each row.
#[component]
fn CacheRow(position: ArcRwSignal<Option<u32>>, rows: Memo<Vec<Arc<Row>>>) -> impl IntoView {
    let app = use_app();
    let initially_shown = position.with_untracked(Option::is_some);
    let shown = {
        let position = position.clone();
        move || position.with(Option::is_some)
    };
    let row = Memo::new(
        move |last: Option<&Option<Arc<Row>>>| match position.get() {
            Some(i) => rows.with(|rows| rows.get(i as usize).cloned()),
            None => last.cloned().flatten(),
        },
    );
    let link = Memo::new(move |_| row.with(|r| r.as_ref().and_then(|r| r.link.clone())));
    let geo = move || match link.get() {
        Some((role, link)) => {
            let state = Signal::derive(move || app.link_state(&link));
            let role = if role == ServerRole::Primary {
                "Geo-primary"
            } else {
                "Geo-secondary"
            };
            Either::Left(view! { <span class="role">{role}</span> " " <LinkBadge state=state/> })
        }
        None => Either::Right(view! { <span class="muted">"Not linked"</span> }),
    };
    let first = row.get_untracked();
    let field = |f: fn(&Row) -> &Arc<str>| {
        first
            .as_deref()
            .map_or_else(|| Arc::from(""), |r| f(r).clone())
    };
    let (name, location, group, sku, status) = (
        NodeRef::<html::A>::new(),
        NodeRef::<html::Td>::new(),
        NodeRef::<html::Td>::new(),
        NodeRef::<html::Td>::new(),
        NodeRef::<html::Td>::new(),
    );
    let geo_link = NodeRef::<html::A>::new();
    let mounted = first.clone();
    let tr = NodeRef::<html::Tr>::new();
    Effect::new(move |last: Option<(bool, Option<Arc<Row>>)>| {
        let is_shown = shown();
        let now = row.get();
        let (was_shown, before) = last.unwrap_or_else(|| (initially_shown, mounted.clone()));
        if let Some(tr) = tr.get() {
            let renamed = now.as_ref().map(|r| &r.name) != before.as_ref().map(|r| &r.name);
            if is_shown != was_shown {
                tr.set_hidden(!is_shown);
            }
            if is_shown != was_shown || renamed {
                match now.as_ref().filter(|_| is_shown) {
                    Some(r) => drop(tr.set_attribute("data-cache", &r.name)),
                    None => drop(tr.remove_attribute("data-cache")),
                }
            }
        }
        if let (Some(now), Some(before)) = (&now, &before) {
            let changed = |f: fn(&Row) -> &Arc<str>| f(now) != f(before);
            let write = |el: Option<web_sys::HtmlElement>, f: fn(&Row) -> &Arc<str>| {
                if let Some(el) = el.filter(|_| changed(f)) {
                    write_text(&el, f(now));
                }
            };
            write(name.get().map(Into::into), |r| &r.name);
            write(location.get().map(Into::into), |r| &r.location);
            write(group.get().map(Into::into), |r| &r.group);
            write(sku.get().map(Into::into), |r| &r.sku);
            write(status.get().map(Into::into), |r| &r.status);
            for (el, f) in [
                (name.get(), (|r| &r.overview) as fn(&Row) -> &Arc<str>),
                (geo_link.get(), |r| &r.geo),
            ] {
                if let Some(el) = el.filter(|_| changed(f)) {
                    let _ = el.set_attribute("href", f(now));
                }
            }
        } else if let Some(now) = &now {
            // A position shown for the first time after it was mounted
            // empty.
            for (el, f) in [
                (
                    name.get().map(Into::into),
                    (|r| &r.name) as fn(&Row) -> &Arc<str>,
                ),
                (location.get().map(Into::into), |r| &r.location),
                (group.get().map(Into::into), |r| &r.group),
                (sku.get().map(Into::into), |r| &r.sku),
                (status.get().map(Into::into), |r| &r.status),
            ] {
                if let Some(el) = el {
                    write_text(&el, f(now));
                }
            }
            if let Some(el) = name.get() {
                let _ = el.set_attribute("href", &now.overview);
            }
            if let Some(el) = geo_link.get() {
                let _ = el.set_attribute("href", &now.geo);
            }
        }
        (is_shown, now)
    });
    view! {
        <tr node_ref=tr data-cache=initially_shown.then(|| field(|r| &r.name)) hidden=!initially_shown>
            <th scope="row">
                <a node_ref=name href=field(|r| &r.overview)>{field(|r| &r.name)}</a>
            </th>
            <td node_ref=location>{field(|r| &r.location)}</td>
            <td class="col-optional" node_ref=group>{field(|r| &r.group)}</td>
            <td class="col-optional" node_ref=sku>{field(|r| &r.sku)}</td>
            <td class="col-optional" node_ref=status>{field(|r| &r.status)}</td>
            <td>
                <a class="cell-link" node_ref=geo_link href=field(|r| &r.geo)>{geo}</a>
            </td>
        </tr>
    }
}

/// Replaces an element's text, keeping its text node (and so the
/// browser's box for it) when it has one.
fn write_text(el: &web_sys::HtmlElement, text: &str) {
    match el.first_child() {
        Some(node) if node.node_type() == web_sys::Node::TEXT_NODE => {
            node.set_node_value(Some(text))
        }
        _ => el.set_text_content(Some(text)),
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
    // The rows the filter keeps, by index into `rows`, in fleet order.
    let shown = Memo::new(move |_| {
        region.with(|selected| {
            rows.with(|rows| {
                (0..rows.len() as u32)
                    .filter(|&i| {
                        selected
                            .as_deref()
                            .is_none_or(|s| *rows[i as usize].region == *s)
                    })
                    .collect::<Vec<u32>>()
            })
        })
    });
    let positions = Positions::new();
    Effect::new(move |_| shown.with(|shown| positions.assign(shown)));
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
    let each = move || 0..total().min(limit.get()) as u32;
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
                <Table columns=&COLUMNS class="cache-list" label="Caches">
                    <For each=each key=|i| *i let(i)>
                        {
                            let position = positions.get(i as usize, |at| {
                                shown.with_untracked(|s| s.get(at).copied())
                            });
                            view! { <CacheRow position=position rows=rows/> }
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
                    Load::Ready if shown.with(Vec::is_empty) => Some(view! {
                        <p class="empty-inline muted">"No caches in this region."</p>
                    }.into_any()),
                    Load::Ready => None,
                }}
            </Card>
        </section>
    }
}
