//! The region map filters the cache list: a click or Enter on a region
//! selects it, a second click clears it, and the list follows. On the
//! dashboard it places only the linked caches, since it filters the links.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use georep_console::features::region_map::{MapCache, MapLink, RegionMap};
use georep_console::model::{Fleet, Health};
use georep_console::pages::cache_list::CacheListPage;
use georep_console::pages::dashboard::DashboardPage;
use georep_console::routes::Router;
use leptos::prelude::*;
use serde_json::json;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn fleet() -> Fleet {
    Fleet::new(vec![
        entry(resource("weu-a", "westeurope", json!({})), vec![]),
        entry(resource("weu-b", "West Europe", json!({})), vec![]),
        entry(resource("eus-a", "eastus", json!({})), vec![]),
    ])
}

fn rows(root: &web_sys::Element) -> Vec<String> {
    texts(root, "table[aria-label=Caches] tbody tr:not([hidden]) th")
}

#[wasm_bindgen_test]
async fn clicking_a_region_filters_the_list_and_a_second_click_clears_it() {
    reset_url();
    let root = container();
    let _handle = leptos::mount::mount_to(root.clone(), || {
        provide_context(state(fleet()));
        view! { <Router><CacheListPage/></Router> }
    });
    settle().await;
    assert_eq!(rows(&root), ["weu-a", "weu-b", "eus-a"]);

    // Both spellings of West Europe land on one marker, with two caches.
    let marker = one(&root, ".map-marker[data-region=westeurope]");
    assert_eq!(
        marker.text_content().unwrap().trim_start().chars().next(),
        Some('2')
    );
    assert_eq!(
        marker.get_attribute("aria-pressed").as_deref(),
        Some("false")
    );

    marker
        .dispatch_event(&web_sys::MouseEvent::new("click").unwrap())
        .unwrap();
    settle().await;
    assert_eq!(rows(&root), ["weu-a", "weu-b"]);
    let marker = one(&root, ".map-marker[data-region=westeurope]");
    assert_eq!(
        marker.get_attribute("aria-pressed").as_deref(),
        Some("true")
    );
    assert!(one(&root, ".map-filter")
        .text_content()
        .unwrap()
        .contains("West Europe"));

    marker
        .dispatch_event(&web_sys::MouseEvent::new("click").unwrap())
        .unwrap();
    settle().await;
    assert_eq!(rows(&root), ["weu-a", "weu-b", "eus-a"]);
}

#[wasm_bindgen_test]
async fn regions_are_focusable_and_enter_selects() {
    reset_url();
    let root = container();
    let selected = RwSignal::new(None::<String>);
    let _handle = leptos::mount::mount_to(root.clone(), move || {
        let caches = vec![
            MapCache {
                name: "a".into(),
                location: "eastus".into(),
            },
            MapCache {
                name: "b".into(),
                location: "japaneast".into(),
            },
        ];
        view! { <RegionMap caches=caches links=Vec::new() selected=selected filters="caches"/> }
    });
    settle().await;
    // The hint names what the page's list holds.
    assert_eq!(
        one(&root, ".map-filter").text_content().as_deref(),
        Some("Select a region to filter the caches")
    );
    let marker = one(&root, ".map-marker[data-region=japaneast]");
    assert_eq!(marker.get_attribute("tabindex").as_deref(), Some("0"));
    assert_eq!(marker.get_attribute("role").as_deref(), Some("button"));
    assert!(marker
        .get_attribute("aria-label")
        .unwrap()
        .starts_with("Japan East: 1 cache"));

    press(&marker, "Enter");
    settle().await;
    assert_eq!(selected.get_untracked().as_deref(), Some("japaneast"));
    press(&one(&root, ".map-marker[data-region=japaneast]"), "Enter");
    settle().await;
    assert_eq!(selected.get_untracked(), None);

    // The chip below the map is the same toggle.
    one(&root, ".chip[data-region=eastus]").click();
    settle().await;
    assert_eq!(selected.get_untracked().as_deref(), Some("eastus"));
}

#[wasm_bindgen_test]
async fn a_linked_pair_is_an_arc_coloured_by_health() {
    reset_url();
    let root = container();
    let _handle = leptos::mount::mount_to(root.clone(), move || {
        let links = vec![
            MapLink {
                from: "westeurope".into(),
                to: "northeurope".into(),
                health: Health::Healthy,
                label: "a to b".into(),
            },
            MapLink {
                from: "eastus".into(),
                to: "westus2".into(),
                health: Health::Busy,
                label: "c to d".into(),
            },
        ];
        view! { <RegionMap caches=Vec::new() links=links selected=RwSignal::new(None) filters="links"/> }
    });
    settle().await;
    let arcs = root.query_selector_all("path.map-arc").unwrap();
    assert_eq!(arcs.length(), 2);
    assert!(root
        .query_selector("path.map-arc.healthy")
        .unwrap()
        .is_some());
    assert!(root.query_selector("path.map-arc.busy").unwrap().is_some());
}

#[wasm_bindgen_test]
async fn the_dashboard_places_the_linked_caches_only() {
    reset_url();
    let unlinked = || entry(resource("eus-a", "eastus", json!({})), vec![]);

    // No links: nothing to select, and the hint says so.
    let root = container();
    let _alone = leptos::mount::mount_to(root.clone(), move || {
        provide_context(state(Fleet::new(vec![unlinked()])));
        view! { <Router><DashboardPage/></Router> }
    });
    settle().await;
    assert!(root.query_selector(".map-marker").unwrap().is_none());
    assert!(root.query_selector(".chip").unwrap().is_none());
    assert_eq!(
        one(&root, ".map-filter").text_content().as_deref(),
        Some("No links on the map yet")
    );

    // A link's two regions, and not the unlinked cache's.
    let root = container();
    let _linked = leptos::mount::mount_to(root.clone(), move || {
        let [p, s] = linked_pair("p", "s", "Succeeded", "Succeeded", 1);
        provide_context(state(Fleet::new(vec![p, s, unlinked()])));
        view! { <Router><DashboardPage/></Router> }
    });
    settle().await;
    let regions: Vec<String> = texts(&root, ".chip")
        .into_iter()
        .map(|chip| chip.trim_end_matches(char::is_numeric).trim().to_owned())
        .collect();
    assert_eq!(regions, ["North Europe", "West Europe"]);
    assert_eq!(
        one(&root, ".region-chips")
            .get_attribute("aria-label")
            .as_deref(),
        Some("Regions with links")
    );
    assert_eq!(
        one(&root, ".region-map svg")
            .get_attribute("aria-label")
            .as_deref(),
        Some("Region map: select a region to filter the links"),
        "the map is named after what it filters"
    );
    assert_eq!(
        one(&root, ".map-filter").text_content().as_deref(),
        Some("Select a region to filter the links")
    );
}
