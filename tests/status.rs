//! The link's status badge and the full-sync progress bar.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use georep_console::components::status::{LinkBadge, SyncProgressBar};
use georep_console::model::Fleet;
use georep_core::arm::SyncProgress;
use georep_core::link::LinkState;
use georep_core::model::ProvisioningState;
use leptos::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn progress_shows_bytes_read_of_total() {
    let root = container();
    let progress = RwSignal::new(None::<SyncProgress>);
    let handle = leptos::mount::mount_to(root.clone(), move || {
        view! { <SyncProgressBar progress=progress/> }
    });
    std::mem::forget(handle);
    settle().await;
    let bar = one(&root, "[role=progressbar]");
    assert_eq!(bar.get_attribute("aria-valuenow").as_deref(), Some("0"));
    assert!(one(&root, ".progress-text")
        .text_content()
        .unwrap()
        .contains("starting"));

    progress.set(Some(SyncProgress {
        bytes_read: 512 * 1024,
        bytes_total: 1024 * 1024,
    }));
    settle().await;
    assert_eq!(bar.get_attribute("aria-valuenow").as_deref(), Some("50"));
    assert_eq!(
        one(&root, ".progress-text").text_content().unwrap(),
        "Full sync: 512 KB of 1.0 MB (50%)"
    );
}

#[wasm_bindgen_test]
async fn the_badge_shows_the_links_arm_state() {
    let root = container();
    let state = RwSignal::new(LinkState::Linking);
    let handle = leptos::mount::mount_to(root.clone(), move || view! { <LinkBadge state=state/> });
    std::mem::forget(handle);
    settle().await;
    assert_eq!(one(&root, ".badge").text_content().unwrap(), "Creating");
    state.set(LinkState::Linked);
    settle().await;
    assert_eq!(one(&root, ".badge").text_content().unwrap(), "Succeeded");
}

#[wasm_bindgen_test]
fn arm_states_map_back_to_the_state_machine() {
    use ProvisioningState::*;
    assert_eq!(
        LinkState::from_provisioning_states(Creating, Linking),
        LinkState::Linking
    );
    assert_eq!(
        LinkState::from_provisioning_states(Succeeded, Succeeded),
        LinkState::Linked
    );
    assert_eq!(
        LinkState::from_provisioning_states(Deleting, Unlinking),
        LinkState::Unlinking
    );
    assert!(matches!(
        LinkState::from_provisioning_states(Deleting, Updating),
        LinkState::FailingOver { .. }
    ));
    assert!(matches!(
        LinkState::from_provisioning_states(Creating, Updating),
        LinkState::FailingOver { .. }
    ));
    assert_eq!(
        LinkState::from_provisioning_states(Failed, Succeeded),
        LinkState::Failed
    );

    // Both sides of a pair agree on roles and on the link.
    let fleet = Fleet::new(linked_pair("p", "s", "Creating", "Linking", 1).into());
    let links = fleet.links();
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].primary.name, "p");
    assert_eq!(links[0].secondary.name, "s");
    assert_eq!(links[0].state, LinkState::Linking);
}
