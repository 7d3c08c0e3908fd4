//! The cache list mounts only the rows in and near the viewport: scrolling
//! brings later rows in, a filter keeps the right count whatever the
//! scroll (and the header counts the rows shown, of how many), the keyboard focus moving down the list finds the next rows,
//! and screen readers are told the whole list's length and each row's
//! place in it.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use georep_console::model::Fleet;
use georep_console::pages::cache_list::CacheListPage;
use georep_console::routes::Router;
use leptos::prelude::*;
use serde_json::json;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Caches in the fleet, over three regions in turn.
const CACHES: usize = 300;
const REGIONS: [&str; 3] = ["westeurope", "eastus", "japaneast"];

fn name(i: usize) -> String {
    format!("c-{i:03}")
}

fn fleet() -> Fleet {
    Fleet::new(
        (0..CACHES)
            .map(|i| entry(resource(&name(i), REGIONS[i % 3], json!({})), vec![]))
            .collect(),
    )
}

/// The rows in the document, shown: `(cache, aria-rowindex)`.
fn rows(root: &web_sys::Element) -> Vec<(String, usize)> {
    let nodes = root
        .query_selector_all("table[aria-label=Caches] tbody tr[data-cache]:not([hidden])")
        .unwrap();
    (0..nodes.length())
        .map(|i| {
            let row: web_sys::Element = nodes.item(i).unwrap().unchecked_into();
            let index = row.get_attribute("aria-rowindex").unwrap_or_default();
            (
                row.get_attribute("data-cache").unwrap(),
                index.parse().unwrap_or(0),
            )
        })
        .collect()
}

fn row_count(root: &web_sys::Element) -> Option<String> {
    one(root, "table[aria-label=Caches]").get_attribute("aria-rowcount")
}

fn scroll_to(y: f64) {
    web_sys::window().unwrap().scroll_to_with_x_and_y(0.0, y);
}

/// Lets a scroll's event, the window's update and its paint happen.
async fn frames() {
    for _ in 0..3 {
        georep_console::perf::painted().await;
    }
    settle().await;
}

macro_rules! mount {
    ($root:expr) => {
        leptos::mount::mount_to($root.clone(), || {
            provide_context(state(fleet()));
            view! { <Router><CacheListPage/></Router> }
        })
    };
}

#[wasm_bindgen_test]
async fn scrolling_a_long_list_brings_its_later_rows_in() {
    reset_url();
    scroll_to(0.0);
    let root = container();
    let _handle = mount!(root);
    frames().await;

    let first = rows(&root);
    assert!(
        !first.is_empty() && first.len() < CACHES / 2,
        "{} of {CACHES} rows mounted",
        first.len()
    );
    assert_eq!(first[0], (name(0), 2));
    assert_eq!(row_count(&root).as_deref(), Some("301"));
    // Consecutive, each with its place in the whole list.
    for (i, (cache, index)) in first.iter().enumerate() {
        assert_eq!((cache.clone(), *index), (name(i), i + 2));
    }

    scroll_to(1e7);
    frames().await;
    let last = rows(&root);
    assert!(last.len() < CACHES / 2, "{} rows mounted", last.len());
    assert_eq!(last.last(), Some(&(name(CACHES - 1), CACHES + 1)));
    assert!(!last.iter().any(|(cache, _)| *cache == name(0)));
    // The last row is in view.
    let row = one(&root, &format!("tr[data-cache='{}']", name(CACHES - 1)));
    let viewport = web_sys::window()
        .unwrap()
        .inner_height()
        .unwrap()
        .as_f64()
        .unwrap();
    let rect = row.get_bounding_client_rect();
    assert!(
        rect.top() >= 0.0 && rect.bottom() <= viewport,
        "{}..{} of {viewport}",
        rect.top(),
        rect.bottom()
    );

    // Halfway down: rows from the middle, none from either end.
    let table = one(&root, "table[aria-label=Caches]");
    let top =
        table.get_bounding_client_rect().top() + web_sys::window().unwrap().scroll_y().unwrap();
    scroll_to(top + table.get_bounding_client_rect().height() / 2.0);
    frames().await;
    let middle = rows(&root);
    assert!(
        middle.iter().any(|(cache, _)| *cache == name(CACHES / 2)),
        "{middle:?}"
    );
    assert!(!middle
        .iter()
        .any(|(c, _)| *c == name(0) || *c == name(CACHES - 1)));
    scroll_to(0.0);
}

#[wasm_bindgen_test]
async fn a_filter_keeps_the_right_rows_wherever_the_list_was_scrolled() {
    reset_url();
    scroll_to(0.0);
    let root = container();
    let _handle = mount!(root);
    frames().await;

    scroll_to(1e7);
    frames().await;
    one(&root, ".chip[data-region=eastus]").click();
    frames().await;
    // A third of the caches, counted for screen readers; the ones shown
    // are East US's, in fleet order and numbered from the top.
    assert_eq!(row_count(&root).as_deref(), Some("101"));
    // The list's header counts what it shows, and of how many.
    assert_eq!(texts(&root, ".card-header .count"), ["100"]);
    assert_eq!(texts(&root, ".card-header .muted"), ["of 300 caches"]);
    let shown = rows(&root);
    let east: Vec<String> = (0..CACHES).filter(|i| i % 3 == 1).map(name).collect();
    assert!(!shown.is_empty());
    for (cache, index) in &shown {
        assert_eq!(&east[index - 2], cache);
    }
    // Scrolled past the shorter list's end, the view lands on its last rows.
    assert_eq!(
        shown.last().map(|(c, _)| c.as_str()),
        east.last().map(String::as_str)
    );

    scroll_to(0.0);
    frames().await;
    assert_eq!(rows(&root).first(), Some(&(east[0].clone(), 2)));

    // The same chip again clears the filter.
    one(&root, ".chip[data-region=eastus]").click();
    frames().await;
    assert_eq!(row_count(&root).as_deref(), Some("301"));
    assert_eq!(texts(&root, ".card-header .count"), ["300"]);
    assert_eq!(texts(&root, ".card-header .muted"), [""]);
    assert_eq!(rows(&root).first(), Some(&(name(0), 2)));
    assert_eq!(rows(&root)[1], (name(1), 3));
}

#[wasm_bindgen_test]
async fn focus_moving_down_the_list_finds_the_next_rows_and_stays_put() {
    reset_url();
    scroll_to(0.0);
    let root = container();
    let _handle = mount!(root);
    frames().await;

    // Focus the links one after the other, as Tab does, past the first
    // window's end: each focus scrolls its row into view.
    let first_window = rows(&root).len();
    for i in 0..first_window + 20 {
        let link = one(&root, &format!("tr[data-cache='{}'] th a", name(i)));
        link.focus().unwrap();
        frames().await;
        let active = document().active_element().unwrap();
        assert_eq!(active.text_content().as_deref(), Some(name(i).as_str()));
        assert!(
            root.query_selector(&format!("tr[data-cache='{}']", name(i + 1)))
                .unwrap()
                .is_some(),
            "after focusing {}, no row for the next cache",
            name(i)
        );
    }
    assert!(!rows(&root).iter().any(|(cache, _)| *cache == name(0)));
    scroll_to(0.0);
}

#[wasm_bindgen_test]
fn a_reload_carries_over_the_caches_with_firewall_rules_alone() {
    let fleet = Fleet::new(vec![
        firewalled(resource("ruled", "westeurope", json!({}))),
        entry(resource("open", "westeurope", json!({})), vec![]),
    ]);
    let known = fleet.firewalled();
    assert_eq!(known.caches.len(), 1);
    let ruled = known
        .get(fleet.caches[0].id())
        .expect("the cache with rules");
    assert_eq!(
        ruled.cache.firewall_rules,
        fleet.caches[0].cache.firewall_rules
    );
    assert!(known.get(fleet.caches[1].id()).is_none());
}
