//! The compatible-caches list comes from `georep_core::candidates`, and
//! every incompatible cache is listed with every reason.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use georep_console::features::candidates::CandidateList;
use georep_core::compat::check_pair;
use georep_core::model::Cache;
use georep_core::CacheId;
use leptos::prelude::*;
use serde_json::json;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn caches() -> Vec<Cache> {
    let core = |r| entry(r, vec![]).cache;
    vec![
        core(resource("primary", "westeurope", json!({}))),
        core(resource("twin", "northeurope", json!({}))),
        core(resource(
            "bigger",
            "eastus",
            json!({"properties": {"sku": {"name": "Premium", "family": "P", "capacity": 2}}}),
        )),
        // Two reasons at once: Standard tier and persistence.
        core(resource(
            "std-rdb",
            "westeurope",
            json!({"properties": {
                "sku": {"name": "Standard", "family": "C", "capacity": 3},
                "redisConfiguration": {"rdb-backup-enabled": "true"}
            }}),
        )),
        core(resource(
            "old",
            "westeurope",
            json!({"properties": {"redisVersion": "4.0"}}),
        )),
        core(resource(
            "other-sub",
            "westeurope",
            json!({"subscription": "00000000-0000-0000-0000-00000000bbbb"}),
        )),
    ]
}

#[wasm_bindgen_test]
async fn compatible_first_then_incompatible_with_every_reason() {
    let root = container();
    let all = caches();
    let primary = all[0].clone();
    let chosen = RwSignal::new(None::<CacheId>);
    let region = RwSignal::new(None::<String>);
    {
        let (primary, all) = (primary.clone(), all.clone());
        let _handle = leptos::mount::mount_to(root.clone(), move || {
            view! {
                <CandidateList
                    primary=Some(primary)
                    caches=all
                    region=region
                    on_link=Callback::new(move |id| chosen.set(Some(id)))
                />
            }
        });
        std::mem::forget(_handle);
    }
    settle().await;

    assert_eq!(
        texts(&root, ".compatible-list tbody th"),
        ["twin", "bigger"]
    );
    // A size difference is a warning, not a reason.
    let bigger_notes = texts(&root, ".compatible-list tr[data-cache=bigger] .note");
    assert!(
        bigger_notes.iter().any(|n| n.contains("no failover")),
        "{bigger_notes:?}"
    );

    // The primary itself is not a candidate; every other cache is judged.
    assert_eq!(
        texts(&root, ".incompatible .incompatible-head a"),
        ["std-rdb", "old", "other-sub"]
    );
    for cache in &all[3..] {
        let expected: Vec<String> = check_pair(&primary, cache)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect();
        let shown = texts(
            &root,
            &format!(".incompatible[data-cache={}] .reason", cache.name()),
        );
        assert_eq!(shown, expected, "reasons of {}", cache.name());
    }
    assert_eq!(
        texts(&root, ".incompatible[data-cache=std-rdb] .reason").len(),
        2
    );

    // The region filter narrows both lists.
    region.set(Some("northeurope".into()));
    settle().await;
    assert_eq!(texts(&root, ".compatible-list tbody th"), ["twin"]);
    assert!(texts(&root, ".incompatible .incompatible-head a").is_empty());
    region.set(None);
    settle().await;

    // The row's context menu offers Link and View details.
    one(&root, "tr[data-cache=bigger] .row-menu button").click();
    settle().await;
    assert_eq!(
        texts(&root, "tr[data-cache=bigger] [role=menuitem]"),
        ["Link", "View details"]
    );
    let details = one(&root, "tr[data-cache=bigger] a[role=menuitem]");
    assert_eq!(
        details.get_attribute("href").unwrap(),
        format!("caches/{SUB}/{RG}/bigger")
    );
    one(&root, "tr[data-cache=bigger] button[role=menuitem]").click();
    settle().await;
    assert_eq!(
        chosen.get_untracked().map(|id| id.name),
        Some("bigger".to_owned())
    );
}
