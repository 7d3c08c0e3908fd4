//! Buttons follow `georep-core`'s state machine and restrictions: a refused
//! action is disabled with the refusal as its tooltip, and a click moves the
//! link optimistically before the server answers.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use georep_console::components::reactive::Derived;
use georep_console::features::link_actions::LinkActions;
use georep_console::model::{CacheEntry, Fleet};
use georep_console::pages::overview::Overview;
use georep_console::routes::Router;
use georep_core::link::{Event, FailoverKind, LinkState};
use georep_core::restrict::{check_change, Change};
use leptos::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const FAILOVER: &str = ".link-actions .guarded:nth-child(1)";
const UNLINK: &str = ".link-actions .guarded:nth-child(2)";

/// Whether the button in `guard` is refused, and its tooltip.
fn refusal(root: &web_sys::Element, guard: &str) -> Option<String> {
    let button = one(root, &format!("{guard} button"));
    match button.get_attribute("aria-disabled").as_deref() {
        Some("true") => Some(
            one(root, &format!("{guard} [role=tooltip]"))
                .text_content()
                .unwrap(),
        ),
        _ => None,
    }
}

fn mount_actions(fleet: Fleet) -> (web_sys::HtmlElement, georep_console::state::AppState) {
    let root = container();
    let app = state(fleet);
    let link = app.fleet.with_untracked(|f| f.links()[0].clone());
    let handle = leptos::mount::mount_to(root.clone(), move || {
        provide_context(app);
        view! { <LinkActions link=link/> }
    });
    std::mem::forget(handle);
    (root, app)
}

fn refusal_text(state: LinkState, event: Event) -> String {
    state.allows(event).unwrap_err().to_string()
}

#[wasm_bindgen_test]
async fn while_creating_failover_and_unlink_are_refused() {
    let (root, _) = mount_actions(Fleet::new(
        linked_pair("p", "s", "Creating", "Linking", 1).into(),
    ));
    settle().await;
    let failover = Event::FailoverRequested {
        kind: FailoverKind::Planned,
        same_size: true,
    };
    assert_eq!(
        refusal(&root, FAILOVER),
        Some(refusal_text(LinkState::Linking, failover))
    );
    assert_eq!(
        refusal(&root, UNLINK),
        Some(refusal_text(LinkState::Linking, Event::UnlinkRequested))
    );
}

#[wasm_bindgen_test]
async fn a_succeeded_link_of_equal_sizes_can_fail_over_and_unlink() {
    let (root, _) = mount_actions(Fleet::new(
        linked_pair("p", "s", "Succeeded", "Succeeded", 1).into(),
    ));
    settle().await;
    assert_eq!(refusal(&root, FAILOVER), None);
    assert_eq!(refusal(&root, UNLINK), None);
}

#[wasm_bindgen_test]
async fn different_sizes_cannot_fail_over() {
    let (root, _) = mount_actions(Fleet::new(
        linked_pair("p", "s", "Succeeded", "Succeeded", 2).into(),
    ));
    settle().await;
    let failover = Event::FailoverRequested {
        kind: FailoverKind::Planned,
        same_size: false,
    };
    assert_eq!(
        refusal(&root, FAILOVER),
        Some(refusal_text(LinkState::Linked, failover))
    );
    assert_eq!(refusal(&root, UNLINK), None);
}

#[wasm_bindgen_test]
async fn unlinking_moves_the_link_at_once_and_disables_both_buttons() {
    let (root, app) = mount_actions(Fleet::new(
        linked_pair("p", "s", "Succeeded", "Succeeded", 1).into(),
    ));
    settle().await;
    let link = app.fleet.with_untracked(|f| f.links()[0].clone());

    one(&root, &format!("{UNLINK} button")).click();
    settle().await;
    let dialog = one(&root, "[role=dialog]");
    assert_eq!(dialog.get_attribute("aria-modal").as_deref(), Some("true"));
    one(&root, "[role=dialog] .btn-danger").click();
    // Optimistic: the state machine's next state, before any answer.
    assert_eq!(app.link_state(&link), LinkState::Unlinking);
}

#[wasm_bindgen_test]
async fn dialogs_close_on_escape() {
    let (root, _) = mount_actions(Fleet::new(
        linked_pair("p", "s", "Succeeded", "Succeeded", 1).into(),
    ));
    settle().await;
    one(&root, &format!("{FAILOVER} button")).click();
    settle().await;
    let dialog = one(&root, "[role=dialog]");
    // The checklist is there, from georep-core's preflight.
    assert_eq!(
        root.query_selector_all(".checklist .check")
            .unwrap()
            .length(),
        3
    );
    press(&dialog, "Escape");
    settle().await;
    assert!(root.query_selector("[role=dialog]").unwrap().is_none());
}

#[wasm_bindgen_test]
async fn a_linked_cache_cannot_be_scaled_or_deleted() {
    reset_url();
    let root = container();
    let [primary, secondary] = linked_pair("p", "s", "Succeeded", "Succeeded", 1);
    let entry: CacheEntry = primary.clone();
    let app = state(Fleet::new(vec![primary, secondary]));
    let handle = leptos::mount::mount_to(root.clone(), move || {
        provide_context(app);
        let entry = Derived::new(move |_| entry.clone());
        view! { <Router><Overview entry=entry/></Router> }
    });
    std::mem::forget(handle);
    settle().await;
    let cache = app.fleet.with_untracked(|f| f.caches[0].cache.clone());
    let expected = |change| check_change(&cache, change).unwrap_err().to_string();
    // Import into the geo-primary and export from it stay allowed.
    assert_eq!(
        texts(&root, ".command-bar [role=tooltip]"),
        [expected(Change::Scale), expected(Change::Delete)]
    );
    assert_eq!(
        texts(&root, ".command-bar button"),
        ["Scale", "Import", "Export", "Delete"]
    );
    assert!(texts(&root, ".essentials .role")
        .concat()
        .contains("Geo-primary"));
}

#[wasm_bindgen_test]
async fn the_geo_secondary_refuses_import_but_exports() {
    reset_url();
    let root = container();
    let [primary, secondary] = linked_pair("p", "s", "Succeeded", "Succeeded", 1);
    let entry: CacheEntry = secondary.clone();
    let app = state(Fleet::new(vec![primary, secondary]));
    let handle = leptos::mount::mount_to(root.clone(), move || {
        provide_context(app);
        let entry = Derived::new(move |_| entry.clone());
        view! { <Router><Overview entry=entry/></Router> }
    });
    std::mem::forget(handle);
    settle().await;
    let cache = app.fleet.with_untracked(|f| f.caches[1].cache.clone());
    let import = check_change(&cache, Change::Import)
        .unwrap_err()
        .to_string();
    assert!(texts(&root, ".command-bar [role=tooltip]").contains(&import));
    let export = one(&root, ".command-bar .guarded:nth-child(3) button");
    assert_eq!(export.text_content().unwrap(), "Export");
    assert_eq!(
        export.get_attribute("aria-disabled").as_deref(),
        Some("false")
    );
}

#[wasm_bindgen_test]
fn optimistic_states_last_until_the_server_moves() {
    let pair = || Fleet::new(linked_pair("p", "s", "Succeeded", "Succeeded", 1).into());
    let app = state(pair());
    let link = app.fleet.with_untracked(|f| f.links()[0].clone());
    let failing_over = link
        .state
        .next(Event::FailoverRequested {
            kind: FailoverKind::Planned,
            same_size: true,
        })
        .unwrap();
    app.expect(&link, failing_over);
    assert_eq!(app.link_state(&link), failing_over);

    // A poll before the server has moved keeps it.
    app.set_fleet(pair());
    assert_eq!(app.link_state(&link), failing_over);

    // A fast failover can be back to Succeeded by the next poll, roles
    // swapped: the optimistic state goes, the server's shows.
    let swapped = Fleet::new(linked_pair("s", "p", "Succeeded", "Succeeded", 1).into());
    app.set_fleet(swapped);
    let now = app.fleet.with_untracked(|f| f.links()[0].clone());
    assert_eq!(now.primary.name, "s");
    assert_eq!(app.link_state(&now), LinkState::Linked);
}
