//! What the console shows of in-cache high availability and of a lost
//! geo-primary: a cache's address and nodes (which one is primary now), a
//! link in `PrimaryLost` with only the moves `georep-core` allows, and the
//! `NodeReplaced` step in a link's timeline.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use georep_console::components::reactive::Derived;
use georep_console::features::link_actions::LinkActions;
use georep_console::features::timeline::TimelineList;
use georep_console::model::{CacheEntry, Fleet};
use georep_console::pages::geo_replication::GeoReplication;
use georep_console::pages::overview::Overview;
use georep_console::routes::Router;
use georep_console::state::AppState;
use georep_core::link::{Event, FailoverKind, LinkState};
use georep_core::live::TimelineEntry;
use leptos::prelude::*;
use serde_json::json;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// A cache whose nodes are `nodes` (`(shard, is primary)`, in list order).
fn cache_with_nodes(name: &str, nodes: &[(u32, bool)]) -> CacheEntry {
    let shards = nodes.iter().map(|n| n.0).max().unwrap_or(0);
    let shard_count = if shards > 0 { shards + 1 } else { 0 };
    entry(
        resource(
            name,
            "westeurope",
            json!({"properties": {"instances": instances(name, nodes), "shardCount": shard_count}}),
        ),
        Vec::new(),
    )
}

/// Mounts the overview of the fleet's first cache, following the fleet.
fn mount_overview(fleet: Fleet) -> (web_sys::HtmlElement, AppState) {
    reset_url();
    let root = container();
    let app = state(fleet);
    let handle = leptos::mount::mount_to(root.clone(), move || {
        provide_context(app);
        let entry = Derived::new(move |_| app.fleet.with(|f| f.caches[0].clone()));
        view! { <Router><Overview entry=entry/></Router> }
    });
    std::mem::forget(handle);
    (root, app)
}

/// `(address, shard, primary badge or "Replica")` of each node shown.
fn shown_nodes(root: &web_sys::Element) -> Vec<(String, String, String)> {
    let nodes = root.query_selector_all(".nodes .node").unwrap();
    (0..nodes.length())
        .map(|i| {
            let node: web_sys::Element = nodes.item(i).unwrap().unchecked_into();
            let text = |sel: &str| texts(&node, sel).concat();
            let role = if node.query_selector(".badge-primary").unwrap().is_some() {
                text(".badge-primary")
            } else {
                text(".node-role")
            };
            (text(".node-address"), text(".node-shard"), role)
        })
        .collect()
}

#[wasm_bindgen_test]
async fn the_overview_shows_the_cache_address_and_which_node_is_primary() {
    // The replica is listed first: the primary shows first anyway.
    let (root, app) = mount_overview(Fleet::new(vec![cache_with_nodes(
        "orders",
        &[(0, false), (0, true)],
    )]));
    settle().await;
    let host = address_of("orders", 0);
    assert_eq!(
        one(&root, ".cache-address-value").text_content().unwrap(),
        format!("{host}:6379")
    );
    assert_eq!(
        one(&root, ".cli-hint").text_content().unwrap(),
        format!("redis-cli -h {host} -p 6379 -a <access key>")
    );
    let copy = one(&root, ".cache-address button");
    assert_eq!(
        copy.get_attribute("aria-label").as_deref(),
        Some("Copy address")
    );
    assert_eq!(copy.text_content().unwrap(), "Copy");
    let (first, second) = (address_of("orders", 2), address_of("orders", 1));
    assert_eq!(
        shown_nodes(&root),
        [
            (format!("{first}:6379"), "Shard 0".into(), "Primary".into()),
            (format!("{second}:6379"), "Shard 0".into(), "Replica".into()),
        ]
    );
    assert_eq!(texts(&root, "#nodes-heading .count"), ["2"]);
    // The address is no longer told as a host name and ports.
    let labels = texts(&root, ".essentials dt");
    assert!(
        !labels.iter().any(|l| l == "Host name" || l == "Ports"),
        "{labels:?}"
    );

    // The replica takes over (in-cache high availability): the badge moves
    // with the next load of the fleet; the cache's address stays.
    app.set_fleet(Fleet::new(vec![cache_with_nodes(
        "orders",
        &[(0, true), (0, false)],
    )]));
    settle().await;
    assert_eq!(
        shown_nodes(&root),
        [
            (format!("{second}:6379"), "Shard 0".into(), "Primary".into()),
            (format!("{first}:6379"), "Shard 0".into(), "Replica".into()),
        ]
    );
    assert_eq!(
        one(&root, ".cache-address-value").text_content().unwrap(),
        format!("{host}:6379")
    );
}

#[wasm_bindgen_test]
async fn a_clustered_cache_lists_its_nodes_shard_by_shard() {
    let cache = cache_with_nodes("big", &[(1, true), (0, false), (1, false), (0, true)]);
    assert!(cache.cache.is_clustered());
    let (root, _) = mount_overview(Fleet::new(vec![cache]));
    settle().await;
    let shown: Vec<(String, String)> = shown_nodes(&root)
        .into_iter()
        .map(|(_, shard, role)| (shard, role))
        .collect();
    assert_eq!(
        shown,
        [
            ("Shard 0".into(), "Primary".into()),
            ("Shard 0".into(), "Replica".into()),
            ("Shard 1".into(), "Primary".into()),
            ("Shard 1".into(), "Replica".into()),
        ]
    );
    let hint = one(&root, ".cache-address-hint").text_content().unwrap();
    assert!(hint.contains("shard 0"), "{hint}");
}

/// A pair whose geo-primary `p` lost every node: ARM says the link and
/// both caches are `Failed`.
fn lost_pair() -> Fleet {
    Fleet::new(linked_pair("p", "s", "Failed", "Failed", 1).into())
}

fn refusal_of(state: LinkState, kind: FailoverKind) -> String {
    state
        .allows(Event::FailoverRequested {
            kind,
            same_size: true,
        })
        .unwrap_err()
        .to_string()
}

fn mount_geo(fleet: Fleet) -> (web_sys::HtmlElement, AppState) {
    reset_url();
    let root = container();
    let app = state(fleet);
    let handle = leptos::mount::mount_to(root.clone(), move || {
        provide_context(app);
        let entry = Derived::new(move |_| app.fleet.with(|f| f.caches[0].clone()));
        view! { <Router><GeoReplication entry=entry/></Router> }
    });
    std::mem::forget(handle);
    (root, app)
}

fn disabled(button: &web_sys::HtmlElement) -> bool {
    button.get_attribute("aria-disabled").as_deref() == Some("true")
}

/// The button under `root` whose text is `label`.
fn button(root: &web_sys::Element, scope: &str, label: &str) -> web_sys::HtmlElement {
    let nodes = root.query_selector_all(&format!("{scope} button")).unwrap();
    (0..nodes.length())
        .map(|i| {
            nodes
                .item(i)
                .unwrap()
                .unchecked_into::<web_sys::HtmlElement>()
        })
        .find(|b| b.text_content().unwrap_or_default().trim() == label)
        .unwrap_or_else(|| panic!("no button {label:?} in {scope}"))
}

#[wasm_bindgen_test]
async fn a_lost_geo_primary_is_said_plainly_and_offers_forced_failover_or_unlink() {
    let fleet = lost_pair();
    let link = fleet.links()[0].clone();
    assert_eq!(link.state, LinkState::PrimaryLost, "georep-core's mapping");
    let (root, app) = mount_geo(fleet);
    settle().await;

    let notice = one(&root, ".primary-lost").text_content().unwrap();
    for words in [
        "The geo-primary lost its data",
        "The geo-primary p lost every node and its data",
        "The geo-secondary s kept its data",
        "A forced failover makes s the geo-primary",
        "Or unlink",
    ] {
        assert!(notice.contains(words), "{words:?} in {notice:?}");
    }
    let forced = button(&root, ".primary-lost", "Forced failover to s");
    assert!(!disabled(&forced));
    assert!(!disabled(&button(&root, ".primary-lost", "Unlink caches")));
    // The row's Failover button is enabled too: a forced one may start.
    assert!(!disabled(&button(&root, ".link-actions", "Failover")));
    assert_eq!(texts(&root, ".links-table .badge"), ["Failed"]);

    // The dialog: what happened, planned refused with georep-core's reason,
    // forced chosen, no offset to wait for, and unlink offered.
    forced.click();
    settle().await;
    let dialog = one(&root, "[role=dialog]");
    let lost = one(&dialog, ".failover-lost").text_content().unwrap();
    assert!(lost.contains("p lost every node"), "{lost}");
    assert!(lost.contains("s kept its data"), "{lost}");
    let planned: web_sys::HtmlInputElement = one(&dialog, "input[value=Planned]").unchecked_into();
    let forced_kind: web_sys::HtmlInputElement =
        one(&dialog, "input[value=Forced]").unchecked_into();
    assert!(planned.disabled() && !planned.checked());
    assert!(!forced_kind.disabled() && forced_kind.checked());
    assert_eq!(
        texts(&dialog, ".choice-refused"),
        [refusal_of(LinkState::PrimaryLost, FailoverKind::Planned)]
    );
    assert!(dialog.query_selector(".offset").unwrap().is_none());
    let fail_over = button(&dialog, ".actions", "Fail over");
    assert!(!disabled(&fail_over));
    assert!(!disabled(&button(&dialog, ".actions", "Unlink caches")));

    // Failing over moves the link as the state machine says, at once.
    fail_over.click();
    let expected = LinkState::PrimaryLost
        .next(Event::FailoverRequested {
            kind: FailoverKind::Forced,
            same_size: true,
        })
        .unwrap();
    assert_eq!(app.link_state(&link), expected);
    // The dialog stays, to follow the failover (or say why it was refused),
    // though the notice that opened it has gone with the state.
    settle().await;
    assert_eq!(texts(&root, "[role=dialog] h2"), ["Failover"]);
    // Close it: its radio group shares the document with later tests'.
    press(&one(&root, "[role=dialog]"), "Escape");
    settle().await;
}

#[wasm_bindgen_test]
async fn the_lost_primary_dialog_hands_over_to_the_unlink_confirmation() {
    let (root, _) = mount_geo(lost_pair());
    settle().await;
    button(&root, ".link-actions", "Failover").click();
    settle().await;
    let dialog = one(&root, "[role=dialog]");
    button(&dialog, ".actions", "Unlink caches").click();
    settle().await;
    let titles = texts(&root, "[role=dialog] h2");
    assert_eq!(titles, ["Unlink caches"]);
    let text = one(&root, "[role=dialog]").text_content().unwrap();
    assert!(
        text.contains("p lost every node and its data; s kept its data"),
        "{text}"
    );
}

#[wasm_bindgen_test]
async fn a_healthy_link_offers_both_kinds_and_claims_no_unmeasured_time() {
    let root = container();
    let app = state(Fleet::new(
        linked_pair("p", "s", "Succeeded", "Succeeded", 1).into(),
    ));
    let link = app.fleet.with_untracked(|f| f.links()[0].clone());
    let handle = leptos::mount::mount_to(root.clone(), move || {
        provide_context(app);
        view! { <LinkActions link=link/> }
    });
    std::mem::forget(handle);
    settle().await;
    button(&root, ".link-actions", "Failover").click();
    settle().await;
    let dialog = one(&root, "[role=dialog]");
    let text = dialog.text_content().unwrap();
    // No timeline answers here, so no failover was measured: the dialog
    // says where to see the time rather than quoting one.
    assert!(
        text.contains("Writes pause from the request until the geo-secondary is promoted"),
        "{text}"
    );
    assert!(!text.contains("few minutes"), "{text}");
    assert!(!text.contains("under a second"), "{text}");
    assert!(dialog.query_selector(".failover-lost").unwrap().is_none());
    let planned: web_sys::HtmlInputElement = one(&dialog, "input[value=Planned]").unchecked_into();
    assert!(!planned.disabled() && planned.checked());
    assert!(texts(&dialog, ".choice-refused").is_empty());
    // No unlink in the dialog unless the geo-primary is lost.
    assert_eq!(texts(&dialog, ".actions button"), ["Cancel", "Fail over"]);
}

fn step(id: u64, kind: &str, message: &str) -> TimelineEntry {
    serde_json::from_value(json!({
        "id": id,
        "time": format!("2026-12-01T08:0{id}:00.5Z"),
        "kind": kind,
        "message": message,
        "primary": cache_id(SUB, "p"),
        "secondary": cache_id(SUB, "s"),
    }))
    .expect("a timeline entry as the server sends it")
}

#[wasm_bindgen_test]
async fn the_timeline_shows_a_replaced_node_in_the_servers_words() {
    let replaced = "p's primary node 127.83.0.4 was lost; its replica 127.83.0.5 took over, and p's address now reaches it. 127.83.0.4 rejoins as a replica.";
    let entries = RwSignal::new(vec![
        step(1, "LinkRequested", "Linking s as the geo-secondary of p."),
        step(2, "Linked", "s replicates p: the link is Succeeded."),
        step(3, "NodeReplaced", replaced),
    ]);
    let root = container();
    let handle = leptos::mount::mount_to(root.clone(), move || {
        view! { <TimelineList entries=entries/> }
    });
    std::mem::forget(handle);
    settle().await;
    // Newest first.
    assert_eq!(
        texts(&root, ".timeline-entry .timeline-kind"),
        ["Node replaced", "Linked", "Link requested"]
    );
    let node = one(&root, ".timeline-entry[data-kind=NodeReplaced]");
    assert!(node.class_name().contains("tone-attention"));
    assert_eq!(texts(&node, ".timeline-message"), [replaced]);
    assert_eq!(texts(&node, ".timeline-time"), ["2026-12-01 08:03:00 UTC"]);

    // A step arriving live joins at the top.
    entries.update(|e| e.push(step(4, "HealthyAgain", "s replicates p again.")));
    settle().await;
    assert_eq!(
        texts(&root, ".timeline-entry .timeline-kind")[..2],
        ["Healthy again", "Node replaced"]
    );
}
