//! The Drills view's parts in the browser: a report reads its numbers, a
//! verification lists its mismatches, each fault asks first with a warning
//! naming the caches, a drill is refused as its failover would be, and an
//! API error reads as a sentence. (The whole view against the real server
//! is the end-to-end walkthrough `tests/e2e/tests/drills.rs`.)
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use georep_console::components::reactive::Derived;
use georep_console::features::drills::faults::{cut_warning, kill_node_warning};
use georep_console::features::drills::report::{DrillReportView, VerificationResult};
use georep_console::features::drills::run_form::seconds_refusal;
use georep_console::features::drills::wire::{Drill, Verification};
use georep_console::features::drills::Drills;
use georep_console::features::failover::failover_refusal;
use georep_console::model::Fleet;
use georep_console::state::AppState;
use georep_core::link::{FailoverKind, LinkState};
use leptos::prelude::*;
use serde_json::json;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// A finished planned drill as the server reports it.
fn finished_drill(consistent: bool, mismatches: &[&str]) -> Drill {
    serde_json::from_value(json!({
        "id": "d1",
        "link": "x/linkedServers/s",
        "kind": "planned",
        "status": "Succeeded",
        "startedAt": "2026-12-01T10:00:00Z",
        "finishedAt": "2026-12-01T10:00:05Z",
        "report": {
            "rtoMs": 742,
            "rtoAtMs": 1742,
            "ackedWrites": 1200,
            "lostWrites": 0,
            "bytesPossiblyLost": 0,
            "partialResync": true,
            "verification": {
                "consistent": consistent,
                "keysPrimary": 10,
                "keysSecondary": 10 - mismatches.len(),
                "sampled": false,
                "compared": 10,
                "mismatches": mismatches,
            },
            "steps": [
                {"name": "writer started", "atMs": 0},
                {"name": "failover started", "atMs": 1000},
                {"name": "failover finished", "atMs": 1742},
            ]
        }
    }))
    .expect("a drill")
}

/// The value of the report figure `name`.
fn figure(root: &web_sys::Element, name: &str) -> String {
    texts(root, &format!("[data-figure={name}] .drill-number-value")).concat()
}

/// Mounts the Drills view of the fleet's first cache.
fn mount_drills(fleet: Fleet) -> (web_sys::HtmlElement, AppState) {
    let root = container();
    let app = state(fleet);
    let handle = leptos::mount::mount_to(root.clone(), move || {
        provide_context(app);
        let entry = Derived::new(move |_| app.fleet.with(|f| f.caches[0].clone()));
        view! { <Drills entry=entry/> }
    });
    std::mem::forget(handle);
    (root, app)
}

fn linked(link_state: &str, cache_state: &str) -> Fleet {
    Fleet::new(linked_pair("p", "s", link_state, cache_state, 1).into())
}

/// The refusal of the guarded button labelled `label`, if refused.
fn refusal_of(root: &web_sys::Element, label: &str) -> Option<String> {
    let guards = root.query_selector_all(".guarded").unwrap();
    let guard: web_sys::Element = (0..guards.length())
        .map(|i| guards.item(i).unwrap().unchecked_into::<web_sys::Element>())
        .find(|g| texts(g, "button").concat() == label)
        .unwrap_or_else(|| panic!("no button {label}"));
    match one(&guard, "button")
        .get_attribute("aria-disabled")
        .as_deref()
    {
        Some("true") => Some(texts(&guard, "[role=tooltip]").concat()),
        _ => None,
    }
}

/// Clicks the button labelled `label` under `root`.
fn click(root: &web_sys::Element, label: &str) {
    let buttons = root.query_selector_all("button").unwrap();
    (0..buttons.length())
        .map(|i| {
            buttons
                .item(i)
                .unwrap()
                .unchecked_into::<web_sys::HtmlElement>()
        })
        .find(|b| b.text_content().unwrap_or_default().trim() == label)
        .unwrap_or_else(|| panic!("no button {label}"))
        .click();
}

/// Waits (bounded) until `ready` holds.
async fn until(what: &str, ready: impl Fn() -> bool) {
    for _ in 0..200 {
        if ready() {
            return;
        }
        settle().await;
    }
    panic!("{what} never happened");
}

#[wasm_bindgen_test]
async fn a_report_reads_rto_rpo_and_the_verification() {
    let root = container();
    let drill = finished_drill(true, &[]);
    let handle = leptos::mount::mount_to(root.clone(), move || {
        view! { <DrillReportView drill=drill/> }
    });
    std::mem::forget(handle);
    settle().await;
    assert_eq!(figure(&root, "rto"), "742 ms");
    assert!(texts(&root, "[data-figure=rto] .drill-number-hint")
        .concat()
        .ends_with("it ended at +1742 ms"));
    assert_eq!(figure(&root, "rpo"), "0 of 1200");
    assert_eq!(figure(&root, "bytes-possibly-lost"), "0 B");
    assert_eq!(figure(&root, "partial-resync"), "Yes");
    assert_eq!(texts(&root, ".verification-verdict"), ["Consistent"]);
    assert_eq!(texts(&root, "[data-status]"), ["Succeeded"]);
    assert_eq!(
        texts(&root, ".drill-step-name"),
        ["writer started", "failover started", "failover finished"]
    );
    assert_eq!(texts(&root, ".drill-step-at")[2], "+1742 ms");
}

#[wasm_bindgen_test]
async fn a_failed_drill_says_why_and_an_unknown_loss_says_unknown() {
    let root = container();
    let mut drill = finished_drill(true, &[]);
    drill = serde_json::from_value(json!({
        "id": drill.id,
        "kind": "forced",
        "status": "Failed",
        "error": {"code": "LinkCut", "message": "The link is cut; restore it first."},
        "report": {"rtoMs": null, "bytesPossiblyLost": null, "steps": []}
    }))
    .unwrap();
    let handle = leptos::mount::mount_to(root.clone(), move || {
        view! { <DrillReportView drill=drill/> }
    });
    std::mem::forget(handle);
    settle().await;
    assert_eq!(
        texts(&root, ".banner-error"),
        ["The link is cut; restore it first. (LinkCut)"]
    );
    assert_eq!(figure(&root, "bytes-possibly-lost"), "Unknown");
    assert_eq!(figure(&root, "rto"), "—");
}

#[wasm_bindgen_test]
async fn a_verification_lists_the_keys_that_differ() {
    let root = container();
    let verification: Verification = finished_drill(false, &["user:1", "cart:7"])
        .report
        .unwrap()
        .verification
        .unwrap();
    let handle = leptos::mount::mount_to(root.clone(), move || {
        view! { <VerificationResult verification=verification/> }
    });
    std::mem::forget(handle);
    settle().await;
    assert_eq!(
        texts(&root, ".verification-verdict"),
        ["Inconsistent: 2 keys differ"]
    );
    assert_eq!(texts(&root, ".mismatch"), ["user:1", "cart:7"]);
    assert_eq!(
        texts(&root, "[data-figure=keys-secondary] dd"),
        ["8"],
        "the key counts are shown"
    );
}

#[wasm_bindgen_test]
async fn each_fault_asks_first_and_says_what_it_does() {
    let (root, app) = mount_drills(linked("Succeeded", "Succeeded"));
    settle().await;
    let link = app.fleet.with_untracked(|f| f.links()[0].clone());

    click(&root, "Cut link");
    settle().await;
    let dialog = one(&root, "[role=dialog]");
    assert_eq!(texts(&dialog, "h2"), ["Cut the link"]);
    assert_eq!(
        texts(&dialog, ".fault-warning .banner-text"),
        [format!("What this does: {}", cut_warning(&link))]
    );
    press(&dialog, "Escape");
    settle().await;
    assert!(root.query_selector("[role=dialog]").unwrap().is_none());

    // Kill node: the warning follows the chosen cache and node.
    click(&root, "Kill node…");
    settle().await;
    let select = |name: &str, value: &str| {
        let el = one(&root, &format!("select[name={name}]"));
        js_sys::Reflect::set(&el, &"value".into(), &value.into()).unwrap();
        el.dispatch_event(&web_sys::Event::new("change").unwrap())
            .unwrap();
    };
    select("fault-cache", "secondary");
    select("fault-role", "replica");
    settle().await;
    assert_eq!(
        texts(&root, "[role=dialog] .fault-warning .banner-text"),
        [format!("What this does: {}", kill_node_warning("s", true))]
    );
}

#[wasm_bindgen_test]
async fn api_errors_read_as_sentences() {
    // Nothing listens on the fixture's backend.
    let (root, _) = mount_drills(linked("Succeeded", "Succeeded"));
    settle().await;
    click(&root, "Verify now");
    until("the verification's error", || {
        !texts(&root, ".drill-verify .banner-error").is_empty()
    })
    .await;
    let error = texts(&root, ".drill-verify .banner-error").concat();
    assert!(
        error.starts_with("The backend is unreachable"),
        "a sentence, not a code: {error}"
    );

    click(&root, "Cut link");
    settle().await;
    click(&one(&root, "[role=dialog]"), "Cut link");
    until("the fault's error", || {
        !texts(&root, ".drill-faults .banner-error").is_empty()
    })
    .await;
    assert!(texts(&root, ".drill-faults .banner-error")
        .concat()
        .starts_with("The backend is unreachable"));
}

#[wasm_bindgen_test]
async fn a_drill_is_refused_as_its_failover_would_be() {
    let (root, _) = mount_drills(linked("Creating", "Linking"));
    settle().await;
    assert_eq!(
        refusal_of(&root, "Run drill"),
        failover_refusal(LinkState::Linking, FailoverKind::Planned, true)
    );
    assert!(refusal_of(&root, "Run drill").is_some());

    let (root, _) = mount_drills(linked("Succeeded", "Succeeded"));
    settle().await;
    assert_eq!(refusal_of(&root, "Run drill"), None);
    // A length out of range is refused with the range.
    let seconds: web_sys::HtmlInputElement =
        one(&root, "input[name=drill-seconds]").unchecked_into();
    seconds.set_value("0");
    seconds
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    settle().await;
    assert_eq!(refusal_of(&root, "Run drill"), seconds_refusal("0"));
    assert!(seconds_refusal("10").is_none());
    // Restoring a link that isn't cut is refused.
    assert_eq!(
        refusal_of(&root, "Restore link").as_deref(),
        Some("The link is not cut.")
    );
}
