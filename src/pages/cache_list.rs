//! `/`: every cache, on the region map and in a list the map filters.
//!
//! Built to stay within a frame with a thousand caches. The filter is one
//! memo ([`Derived`]) over the fleet (each cache's region worked out once
//! per load), shared by the list, its length and the empty state. Only a window of the
//! filtered list is in the document, the rows in and near the viewport
//! ([`windowed`]), each keyed by its position in the filtered list (a
//! `u32`), and only their texts are derived; spacers stand for the rest.
//! A filter puts
//! the matching caches, in fleet order, into the first positions: a click
//! rewrites the text of the mounted positions whose cache changed and
//! creates, removes and restyles next to nothing, and with a fixed table
//! layout and rows of one height Chromium lays out only that text again.
//! With every row mounted, the browser's style, layout and paint of a
//! thousand rows took most of a click's frame and of the first load
//! (README, Performance).

use std::sync::Arc;

use georep_core::model::ServerRole;
use georep_core::words;
use leptos::either::Either;
use leptos::html;
use leptos::prelude::*;

use crate::components::card::{Card, Column, Table};
use crate::components::each::For;
use crate::components::reactive::{effect, Derived};
use crate::components::status::LinkBadge;
use crate::components::windowed;
use crate::features::region_map::{use_map_data, Markers, RegionMap};
use crate::model::{CacheEntry, Fleet, LinkView};
use crate::numbers;
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

/// What one row shows, derived when a position of the window is given its
/// cache. The texts are shared (`Arc<str>`), so the effect that compares a
/// row with the last copies no string.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    name: Arc<str>,
    overview: Arc<str>,
    geo: Arc<str>,
    location: Arc<str>,
    group: Arc<str>,
    sku: Arc<str>,
    status: Arc<str>,
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
            link: entry.role().zip(fleet.link_ref(id).cloned()),
        }
    }
}

/// One position of the table, while the window holds it: the row the
/// filter puts there, or hidden past the filtered list's end. Hidden, it
/// keeps the cells of its last row (nothing to rewrite) but no
/// `data-cache`, so only shown rows answer for a cache.
///
/// The cells are mounted once; when the row changes, one effect writes the
/// texts and links that differ into them. A reactive binding per cell cost
/// twice the script, and a view rebuilt per row re-set every class, which
/// made the browser restyle each row.
#[component]
fn CacheRow(position: u32, shown: Derived<Vec<u32>>) -> impl IntoView {
    let app = use_app();
    let at = position as usize;
    let is_shown = Derived::new(move |_| shown.with(|s| at < s.len()));
    let row = Derived::new(move |last: Option<&Option<Arc<Row>>>| {
        match shown.with(|s| s.get(at).copied()) {
            Some(i) => app
                .fleet
                .with(|f| f.caches.get(i as usize).map(|e| Arc::new(Row::new(e, f)))),
            None => last.cloned().flatten(),
        }
    });
    let initially_shown = is_shown.get_untracked();
    let link = Derived::new(move |_| row.with(|r| r.as_ref().and_then(|r| r.link.clone())));
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
    let field = |f: Field| {
        first
            .as_deref()
            .map_or_else(|| Arc::from(""), |r| f(r).clone())
    };
    let name = NodeRef::<html::A>::new();
    let cells = [(); 4].map(|_| NodeRef::<html::Span>::new());
    let geo_link = NodeRef::<html::A>::new();
    let mounted = first.clone();
    let tr = NodeRef::<html::Tr>::new();
    Effect::new(move |last: Option<(bool, Option<Arc<Row>>)>| {
        let shown = is_shown.get();
        let now = row.get();
        let (was_shown, before) = last.unwrap_or_else(|| (initially_shown, mounted.clone()));
        if let Some(tr) = tr.get() {
            let renamed = now.as_ref().map(|r| &r.name) != before.as_ref().map(|r| &r.name);
            if shown != was_shown {
                tr.set_hidden(!shown);
            }
            if shown != was_shown || renamed {
                match now.as_ref().filter(|_| shown) {
                    Some(r) => drop(tr.set_attribute("data-cache", &r.name)),
                    None => drop(tr.remove_attribute("data-cache")),
                }
            }
        }
        let Some(now) = &now else {
            return (shown, None);
        };
        // A position shown for the first time after it was mounted empty
        // has every field to write.
        let changed = |f: Field| before.as_ref().is_none_or(|before| f(now) != f(before));
        let texts = [
            (name.get().map(Into::into), NAME),
            (cells[0].get().map(Into::into), CELLS[0]),
            (cells[1].get().map(Into::into), CELLS[1]),
            (cells[2].get().map(Into::into), CELLS[2]),
            (cells[3].get().map(Into::into), CELLS[3]),
        ];
        for (el, f) in texts {
            if let Some(el) = el.filter(|_| changed(f)) {
                write_text(&el, f(now));
            }
        }
        let hrefs = [
            (name.get(), (|r| &r.overview) as Field),
            (geo_link.get(), |r| &r.geo),
        ];
        for (el, f) in hrefs {
            if let Some(el) = el.filter(|_| changed(f)) {
                let _ = el.set_attribute("href", f(now));
            }
        }
        (shown, Some(now.clone()))
    });
    view! {
        <tr
            node_ref=tr
            aria-rowindex=position + 2
            data-cache=initially_shown.then(|| field(NAME))
            hidden=!initially_shown
        >
            <th scope="row">
                <a node_ref=name href=field(|r| &r.overview)>{field(NAME)}</a>
            </th>
            <td><span node_ref=cells[0]>{field(CELLS[0])}</span></td>
            <td class="col-optional"><span node_ref=cells[1]>{field(CELLS[1])}</span></td>
            <td class="col-optional"><span node_ref=cells[2]>{field(CELLS[2])}</span></td>
            <td class="col-optional"><span node_ref=cells[3]>{field(CELLS[3])}</span></td>
            <td>
                <a class="cell-link" node_ref=geo_link href=field(|r| &r.geo)>{geo}</a>
            </td>
        </tr>
    }
}

/// One of a row's texts.
type Field = fn(&Row) -> &Arc<str>;
/// The name, in the row's heading cell.
const NAME: Field = |r| &r.name;
/// The texts of the cells after it, in order.
const CELLS: [Field; 4] = [|r| &r.location, |r| &r.group, |r| &r.sku, |r| &r.status];

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
    let (markers, links) = use_map_data(Markers::AllCaches);
    // The caches the filter keeps, by index into the fleet, in its order.
    let shown = Derived::new(move |_| {
        region.with(|selected| {
            app.fleet.with(|f| {
                (0..f.caches.len() as u32)
                    .filter(|&i| {
                        selected
                            .as_deref()
                            .is_none_or(|s| f.caches[i as usize].region() == s)
                    })
                    .collect::<Vec<u32>>()
            })
        })
    });
    let total = move || app.fleet.with(|f| f.caches.len());
    let ready = move || app.load.with(|l| *l == Load::Ready) && total() > 0;
    perf::mark_painted_once("georep:list-rendered", ready);
    perf::mark_painted_on_change("georep:list-filtered", move || region.get());
    let (before, after) = (NodeRef::<html::Tr>::new(), NodeRef::<html::Tr>::new());
    // How many rows the filter keeps: the window's length and the header's count.
    let count = Signal::derive(move || shown.with(Vec::len));
    let window = windowed::window(before, after, count);
    // Screen readers learn the whole list's length and each row's place in
    // it from these, as only the window's rows are in the document.
    effect(move || {
        let count = window.len.get() + 1;
        if let Some(table) = before
            .get()
            .and_then(|tr| tr.parent_element()?.parent_element())
        {
            let _ = table.set_attribute("aria-rowcount", &count.to_string());
        }
    });
    // The header counts the list (`count`), so a filtered one says how many
    // of the fleet it shows. The note changes only when a filter is set or
    // cleared, never between regions: a click lays out no more than the
    // region's name (see `RegionMap`).
    let of_fleet = Signal::derive(move || {
        if region.with(Option::is_some) {
            format!("of {}", words::count(total(), "cache"))
        } else {
            String::new()
        }
    });
    let each = move || {
        let (start, end) = window.range.get();
        start..end
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
                    filters="caches"
                />
            </Card>
            <Card title="Caches " count=count note=of_fleet>
                <Table columns=&COLUMNS class="cache-list" label="Caches">
                    <tr class="list-spacer" aria-hidden="true" node_ref=before
                        style:height=move || format!("{}px", numbers::plain(window.before.get()))>
                        <td></td>
                    </tr>
                    <For each=each key=|i| *i let(i)>
                        <CacheRow position=i shown=shown/>
                    </For>
                    <tr class="list-spacer" aria-hidden="true" node_ref=after
                        style:height=move || format!("{}px", numbers::plain(window.after.get()))>
                        <td></td>
                    </tr>
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
