//! The region map: an equirectangular world outline (viewBox `0 0 360 180`,
//! x = longitude + 180, y = 90 − latitude) with a marker per region that
//! holds caches and an arc per linked pair, coloured by health, and
//! [`use_map_data`], the fleet as the map shows it.
//!
//! Selecting a region (click, or Enter/Space on the focused marker) filters
//! whatever list the page pairs the map with; selecting it again clears it.

use std::collections::BTreeMap;

use georep_core::words;
use leptos::ev::KeyboardEvent;
use leptos::prelude::*;
use leptos::reactive::computed::Selector;

use crate::components::each::For;
use crate::components::reactive::Derived;
use crate::model::Health;
use crate::numbers::{fixed, plain};
use crate::regions::{self, Region};
use crate::state::use_app;

/// A cache to place on the map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapCache {
    /// Its name.
    pub name: String,
    /// Its ARM location, in any of ARM's spellings.
    pub location: String,
}

/// A linked pair to draw as an arc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapLink {
    /// The geo-primary's location.
    pub from: String,
    /// The geo-secondary's location.
    pub to: String,
    /// Colours the arc.
    pub health: Health,
    /// Said to screen readers, e.g. "cache-a to cache-b, healthy".
    pub label: String,
}

/// Map coordinates of a region.
pub fn project(region: &Region) -> (f64, f64) {
    (region.longitude + 180.0, 90.0 - region.latitude)
}

/// The ARM name of a location, if the region table knows it.
pub fn region_name(location: &str) -> Option<&'static str> {
    regions::find(location).map(|r| r.name)
}

/// Whether `location` is in the selected region (no selection matches all).
pub fn in_region(selected: Option<&str>, location: &str) -> bool {
    selected.is_none_or(|s| region_name(location).unwrap_or(location) == s)
}

/// Which caches the map places.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Markers {
    /// Every cache: the map filters a list of caches.
    AllCaches,
    /// The caches in a link: the map filters the links, so a region
    /// without one offers nothing to select.
    LinkedCaches,
}

/// The map's view of the fleet: the caches that `markers` names, and every
/// link.
pub fn use_map_data(markers: Markers) -> (Signal<Vec<MapCache>>, Signal<Vec<MapLink>>) {
    let app = use_app();
    let caches = Signal::derive(move || {
        app.fleet.with(|f| {
            f.caches
                .iter()
                .filter(|e| markers == Markers::AllCaches || e.is_linked())
                .map(|e| MapCache {
                    name: e.name().to_owned(),
                    location: e.cache.location.clone(),
                })
                .collect()
        })
    });
    let links = Signal::derive(move || {
        app.fleet.with(|f| {
            f.links()
                .iter()
                .map(|l| {
                    let health = Health::of(app.link_state(l), None);
                    MapLink {
                        from: l.primary_location.clone(),
                        to: l.secondary_location.clone(),
                        health,
                        label: format!(
                            "{} to {}: {}",
                            l.primary.name,
                            l.secondary.name,
                            health.label()
                        ),
                    }
                })
                .collect()
        })
    });
    (caches, links)
}

/// An SVG path for the arc between two points, bulging towards the pole.
fn arc_path((x1, y1): (f64, f64), (x2, y2): (f64, f64)) -> String {
    let (dx, dy) = (x2 - x1, y2 - y1);
    let dist = (dx * dx + dy * dy).sqrt();
    if dist < 1.0 {
        // Same region: a small loop above the marker.
        return format!("M{},{} c-7,-9 7,-9 0,0", fixed(x1, 1), fixed(y1, 1));
    }
    let (mx, my) = ((x1 + x2) / 2.0, (y1 + y2) / 2.0);
    // Close regions still get a visible bow.
    let lift = (dist * 0.3).clamp(7.0, 25.0);
    format!(
        "M{},{} Q{},{} {},{}",
        fixed(x1, 1),
        fixed(y1, 1),
        fixed(mx, 1),
        fixed(my - lift, 1),
        fixed(x2, 1),
        fixed(y2, 1)
    )
}

/// Selects the region `key`, or clears the selection if it was `key`: what
/// a marker and a chip both do.
fn toggle_region(selected: RwSignal<Option<String>>, key: &'static str) {
    selected.update(|s| {
        *s = if s.as_deref() == Some(key) {
            None
        } else {
            Some(key.to_owned())
        }
    })
}

/// One region's marker: a focusable toggle with the number of its caches.
#[component]
fn Marker(
    region: &'static Region,
    names: Vec<String>,
    selected: RwSignal<Option<String>>,
    is_selected: Signal<bool>,
) -> impl IntoView {
    let (x, y) = project(region);
    let label_y = plain(y + 7.5);
    let (x, y) = (plain(x), plain(y));
    let key = region.name;
    let is_selected = move || is_selected.get();
    let toggle = move || toggle_region(selected, key);
    let on_key = move |ev: KeyboardEvent| {
        if ev.key() == "Enter" || ev.key() == " " {
            ev.prevent_default();
            toggle();
        }
    };
    let count = names.len();
    let label = format!(
        "{}: {} ({})",
        region.display_name,
        words::count(count, "cache"),
        names.join(", ")
    );
    view! {
        <g
            class="map-marker"
            class:selected=is_selected
            role="button"
            tabindex="0"
            data-region=key
            aria-label=label
            aria-pressed=move || if is_selected() { "true" } else { "false" }
            on:click=move |_| toggle()
            on:keydown=on_key
        >
            <circle class="map-hit" cx=x.clone() cy=y.clone() r="7"></circle>
            <circle class="map-dot" cx=x.clone() cy=y.clone() r="3.2"></circle>
            <text class="map-count" x=x.clone() y=y dy="1.1">{count}</text>
            <text class="map-label" x=x y=label_y>{region.display_name}</text>
        </g>
    }
}

/// The region map.
#[component]
pub fn RegionMap(
    /// The caches to place.
    #[prop(into)]
    caches: Signal<Vec<MapCache>>,
    /// The links to draw.
    #[prop(into)]
    links: Signal<Vec<MapLink>>,
    /// The selected region's ARM name; the map sets and clears it.
    selected: RwSignal<Option<String>>,
    /// What the map filters, for its hint, its name and its chips' name:
    /// "caches", "links".
    filters: &'static str,
) -> impl IntoView {
    // Region → cache names, in a stable order.
    let by_region = Derived::new(move |_| {
        let mut groups: BTreeMap<&'static str, (&'static Region, Vec<String>)> = BTreeMap::new();
        caches.with(|caches| {
            for cache in caches {
                if let Some(region) = regions::find(&cache.location) {
                    groups
                        .entry(region.name)
                        .or_insert((region, Vec::new()))
                        .1
                        .push(cache.name.clone());
                }
            }
        });
        groups.into_values().collect::<Vec<_>>()
    });
    let arcs = move || {
        links.with(|links| {
            links
                .iter()
                .filter_map(|link| {
                    let from = project(regions::find(&link.from)?);
                    let to = project(regions::find(&link.to)?);
                    let class = format!("map-arc {}", link.health.class());
                    Some(view! {
                        <path class=class d=arc_path(from, to) aria-label=link.label.clone()></path>
                    })
                })
                .collect_view()
        })
    };
    // Markers and chips hear about a click only when their own state
    // flips: two of each, not every region.
    let choice = StoredValue::new(Selector::new(move || selected.get()));
    let is_chosen = move |key: &'static str| {
        let key = Some(key.to_owned());
        Signal::derive(move || choice.with_value(|c| c.selected(&key)))
    };
    let selected_name =
        Derived::new(move |_| selected.with(|s| s.as_deref().map(regions::display_name)));
    let filtering = Derived::new(move |_| selected.with(Option::is_some));
    view! {
        <figure class="region-map">
            // The land is a layer of its own, under the SVG: selecting a
            // region repaints the markers, never the 53 kB outline.
            <div class="map-canvas">
                <img class="map-land" src="public/world-land-110m.svg" alt="" aria-hidden="true"/>
                <svg viewBox="0 0 360 180" role="group" aria-label=format!("Region map: select a region to filter the {filters}")>
                <g class="map-regions" aria-hidden="true">
                    {regions::all()
                        .iter()
                        .map(|r| {
                            let (x, y) = project(r);
                            view! { <circle class="map-region" cx=plain(x) cy=plain(y) r="0.9"></circle> }
                        })
                        .collect_view()}
                </g>
                <g class="map-arcs">{arcs}</g>
                <g class="map-markers">
                    <For
                        each=move || by_region.get()
                        key=|(region, names)| (region.name, names.clone())
                        let((region, names))
                    >
                        <Marker region=region names=names selected=selected is_selected=is_chosen(region.name)/>
                    </For>
                </g>
                </svg>
            </div>
            <div class="region-chips" role="group" aria-label=format!("Regions with {filters}")>
                <For
                    each=move || by_region.get()
                    key=|(region, names)| (region.name, names.len())
                    let((region, names))
                >
                    {
                        let key = region.name;
                        let pressed = is_chosen(key);
                        let pressed = move || pressed.get();
                        view! {
                            <button
                                type="button"
                                class="chip"
                                data-region=key
                                aria-pressed=move || if pressed() { "true" } else { "false" }
                                on:click=move |_| toggle_region(selected, key)
                            >
                                {region.display_name}
                                <span class="count">{names.len()}</span>
                            </button>
                        }
                    }
                </For>
            </div>
            <figcaption class="map-caption">
                <span class="map-legend">
                    <span class="legend-item"><span class="swatch dot"></span>"Caches"</span>
                    <span class="legend-item"><span class="swatch healthy"></span>"Healthy link"</span>
                    <span class="legend-item"><span class="swatch busy"></span>"In progress"</span>
                    <span class="legend-item"><span class="swatch unhealthy"></span>"Unhealthy"</span>
                </span>
                // Switching from one region to another rewrites the name only,
                // in a box of a fixed size that is not a flex item: Chromium
                // then lays out that box alone, not the page (a flex item is
                // never a relayout boundary, whatever its containment).
                <div class="map-status">
                    {move || if filtering.get() {
                        view! {
                            <span class="map-filter" role="status">
                                "Showing " <strong>{move || selected_name.get()}</strong>
                                <button
                                    class="btn btn-small"
                                    on:click=move |_| selected.set(None)
                                >
                                    "Clear filter"
                                </button>
                            </span>
                        }.into_any()
                    } else {
                        view! {
                            <span class="map-filter muted" role="status">
                                {move || if by_region.with(Vec::is_empty) {
                                    format!("No {filters} on the map yet")
                                } else {
                                    format!("Select a region to filter the {filters}")
                                }}
                            </span>
                        }.into_any()
                    }}
                </div>
            </figcaption>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn regions_project_equirectangularly() {
        let region = regions::find("westeurope").unwrap();
        let (x, y) = project(region);
        assert!((x - (region.longitude + 180.0)).abs() < 1e-9);
        assert!((y - (90.0 - region.latitude)).abs() < 1e-9);
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn the_filter_accepts_any_spelling_of_the_region() {
        assert!(in_region(None, "anything"));
        assert!(in_region(Some("westeurope"), "West Europe"));
        assert!(!in_region(Some("westeurope"), "northeurope"));
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn arcs_bow_even_between_neighbours() {
        assert!(arc_path((10.0, 10.0), (10.0, 10.0)).contains('c'));
        let path = arc_path((0.0, 50.0), (10.0, 50.0));
        assert_eq!(path, "M0.0,50.0 Q5.0,43.0 10.0,50.0");
    }
}
