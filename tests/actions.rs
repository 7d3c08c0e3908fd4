//! Mutations go through one action: the optimistic state shows at once, a
//! backend that can't be reached rolls it back and says so, and what the
//! state machine refuses is never sent.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use georep_console::actions::{use_mutation, Mutation, Report};
use georep_console::model::Fleet;
use georep_console::state::Connectivity;
use georep_core::link::{FailoverKind, LinkState};
use leptos::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Waits up to five seconds for `ready`.
async fn eventually(what: &str, ready: impl Fn() -> bool) {
    for _ in 0..100 {
        if ready() {
            return;
        }
        gloo_timers::future::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

#[wasm_bindgen_test]
async fn an_unreachable_backend_rolls_an_unlink_back_and_says_so() {
    let app = state(Fleet::new(
        linked_pair("p", "s", "Succeeded", "Succeeded", 1).into(),
    ));
    let link = app.fleet.with_untracked(|f| f.links()[0].clone());
    let mutation = Mutation::unlink(link.clone()).expect("a linked pair can unlink");
    let handle = leptos::mount::mount_to(container(), move || {
        provide_context(app);
        use_mutation(Report::Notice).dispatch_local(mutation.clone());
    });
    std::mem::forget(handle);
    // Optimistic: the state machine's next state, before any answer.
    assert_eq!(app.link_state(&link), LinkState::Unlinking);

    eventually("the unlink to fail", || {
        app.notice.with_untracked(Option::is_some)
    })
    .await;
    assert_eq!(app.link_state(&link), LinkState::Linked);
    let notice = app.notice.get_untracked().unwrap();
    assert!(notice.error, "{notice:?}");
    assert!(
        notice.text.contains("unreachable"),
        "the notice says why: {notice:?}"
    );
    assert!(matches!(
        app.connectivity.get_untracked(),
        Connectivity::Offline { .. }
    ));
}

#[wasm_bindgen_test]
async fn an_inline_report_leaves_the_notice_alone() {
    let app = state(Fleet::new(
        linked_pair("p", "s", "Succeeded", "Succeeded", 1).into(),
    ));
    let link = app.fleet.with_untracked(|f| f.links()[0].clone());
    let mutation =
        Mutation::failover(app, link.clone(), FailoverKind::Planned, true).expect("allowed");
    let action = RwSignal::new(None);
    let handle = leptos::mount::mount_to(container(), move || {
        provide_context(app);
        let failover = use_mutation(Report::Inline);
        action.set(Some(failover));
        failover.dispatch_local(mutation.clone());
    });
    std::mem::forget(handle);
    assert_ne!(app.link_state(&link), LinkState::Linked);
    let failed = move || {
        action
            .get_untracked()
            .is_some_and(|a| matches!(a.value().get_untracked(), Some(Err(_))))
    };
    eventually("the failover to fail", failed).await;
    assert_eq!(app.link_state(&link), LinkState::Linked);
    assert_eq!(app.notice.get_untracked(), None);
}

#[wasm_bindgen_test]
fn what_the_state_machine_refuses_is_not_built() {
    let creating = state(Fleet::new(
        linked_pair("p", "s", "Creating", "Linking", 1).into(),
    ));
    let link = creating.fleet.with_untracked(|f| f.links()[0].clone());
    assert_eq!(Mutation::unlink(link.clone()), None);
    assert_eq!(
        Mutation::failover(creating, link, FailoverKind::Planned, true),
        None
    );

    let sizes_differ = state(Fleet::new(
        linked_pair("p", "s", "Succeeded", "Succeeded", 2).into(),
    ));
    let link = sizes_differ.fleet.with_untracked(|f| f.links()[0].clone());
    assert_eq!(
        Mutation::failover(sizes_differ, link, FailoverKind::Planned, false),
        None
    );
}
