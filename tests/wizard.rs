//! The link wizard: select a secondary, then confirm with everything linking
//! entails, and Back returns to the selection.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use georep_console::features::link_wizard::LinkWizard;
use georep_console::model::Fleet;
use georep_console::routes::Router;
use georep_core::CacheId;
use leptos::prelude::*;
use serde_json::json;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn current_step(root: &web_sys::Element) -> String {
    texts(root, ".stepper [aria-current=step] .step-label").concat()
}

#[wasm_bindgen_test]
async fn select_then_confirm_then_back() {
    reset_url();
    let root = container();
    let fleet = Fleet::new(vec![
        firewalled(resource("primary", "westeurope", json!({}))),
        entry(
            resource(
                "bigger",
                "eastus",
                json!({"properties": {"sku": {"name": "Premium", "family": "P", "capacity": 2}}}),
            ),
            vec![],
        ),
        entry(resource("near", "westeurope", json!({})), vec![]),
    ]);
    let _handle = leptos::mount::mount_to(root.clone(), move || {
        provide_context(state(fleet));
        let primary = CacheId::new(SUB, RG, "primary");
        view! { <Router><LinkWizard primary=primary/></Router> }
    });
    settle().await;

    // Step 1: the map and the compatible caches.
    assert_eq!(current_step(&root), "Select secondary");
    assert!(root.query_selector(".region-map").unwrap().is_some());
    assert_eq!(
        texts(&root, ".compatible-list tbody th"),
        ["bigger", "near"]
    );

    // Choosing a cache moves to the confirmation, named in the URL.
    one(&root, "tr[data-cache=bigger] th button").click();
    settle().await;
    assert_eq!(current_step(&root), "Confirm");
    let search = web_sys::window().unwrap().location().search().unwrap();
    assert_eq!(search, "?secondary=bigger");
    let warnings: Vec<String> = {
        let nodes = root.query_selector_all(".warning").unwrap();
        (0..nodes.length())
            .map(|i| {
                let el: web_sys::Element =
                    wasm_bindgen::JsCast::unchecked_into(nodes.item(i).unwrap());
                el.get_attribute("data-warning").unwrap()
            })
            .collect()
    };
    assert_eq!(
        warnings,
        [
            "SecondaryDataRemoved",
            "SizeMismatch",
            "CrossRegionEgress",
            "FirewallRuleNeeded"
        ]
    );
    let removed = one(&root, ".warning[data-warning=SecondaryDataRemoved]")
        .text_content()
        .unwrap();
    assert!(
        removed.contains("All data in bigger will be removed"),
        "{removed}"
    );
    let link = one(&root, ".confirm .btn-primary");
    assert_eq!(link.text_content().unwrap(), "Link");
    assert!(!link.has_attribute("disabled"));

    // Back returns to the selection.
    one(&root, ".confirm .actions .btn:not(.btn-primary)").click();
    settle().await;
    assert_eq!(current_step(&root), "Select secondary");
    assert!(root.query_selector(".confirm").unwrap().is_none());
}

#[wasm_bindgen_test]
async fn a_same_region_same_size_pair_only_warns_about_data_removal() {
    reset_url();
    let root = container();
    let fleet = Fleet::new(vec![
        entry(resource("primary", "westeurope", json!({})), vec![]),
        entry(resource("near", "westeurope", json!({})), vec![]),
    ]);
    let _handle = leptos::mount::mount_to(root.clone(), move || {
        provide_context(state(fleet));
        let primary = CacheId::new(SUB, RG, "primary");
        view! { <Router><LinkWizard primary=primary/></Router> }
    });
    settle().await;
    one(&root, "tr[data-cache=near] th button").click();
    settle().await;
    assert_eq!(root.query_selector_all(".warning").unwrap().length(), 1);
    assert!(root
        .query_selector(".warning[data-warning=SecondaryDataRemoved]")
        .unwrap()
        .is_some());
}

#[wasm_bindgen_test]
async fn a_linked_primary_gets_the_reason_instead_of_a_list() {
    reset_url();
    let root = container();
    let fleet = Fleet::new(linked_pair("p", "s", "Succeeded", "Succeeded", 1).into());
    let primary = fleet.caches[0].cache.clone();
    let _handle = leptos::mount::mount_to(root.clone(), move || {
        provide_context(state(fleet));
        let primary = CacheId::new(SUB, RG, "p");
        view! { <Router><LinkWizard primary=primary/></Router> }
    });
    settle().await;
    let reason = georep_console::features::link_wizard::add_link_refusal(&primary).unwrap();
    assert!(reason.contains("already geo-replicated with s"), "{reason}");
    assert!(one(&root, "[role=alert]")
        .text_content()
        .unwrap()
        .contains(&reason));
    assert!(root.query_selector(".compatible-list").unwrap().is_none());
}
