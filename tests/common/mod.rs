//! Fixtures shared by the browser tests: ARM resources as the backend sends
//! them, joined into a fleet, and a helper to mount views into a fresh node.

#![allow(dead_code)] // Each test binary uses a different subset.

use georep_console::api::Api;
use georep_console::model::{CacheEntry, Fleet};
use georep_console::state::AppState;
use georep_core::arm::{LinkedServerResource, RedisResource};
use georep_core::model::FirewallRule;
use leptos::prelude::*;
use serde_json::json;
use wasm_bindgen::JsCast;

/// The subscription most fixtures live in.
pub const SUB: &str = "00000000-0000-0000-0000-00000000aaaa";
/// The resource group of every fixture.
pub const RG: &str = "rg";

/// A cache's ARM id.
pub fn cache_id(sub: &str, name: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Cache/Redis/{name}")
}

/// A loopback address for `name` and `role` (0: the cache's own, 1 and up:
/// its nodes), as the server gives each cache and node one of its own.
pub fn address_of(name: &str, role: u8) -> String {
    let n = name
        .bytes()
        .fold(0u8, |acc, b| acc.wrapping_mul(31).wrapping_add(b))
        % 50;
    format!("127.83.{n}.{}", role + 1)
}

/// `instances[]` as the server lists them: one node per `(shard, primary)`,
/// each on its own address, port 6379.
pub fn instances(name: &str, nodes: &[(u32, bool)]) -> serde_json::Value {
    let list: Vec<serde_json::Value> = nodes
        .iter()
        .enumerate()
        .map(|(i, (shard, primary))| {
            json!({
                "host": address_of(name, i as u8 + 1),
                "nonSslPort": 6379,
                "shardId": shard,
                "isMaster": primary,
                "isPrimary": primary
            })
        })
        .collect();
    serde_json::Value::Array(list)
}

/// A running, unlinked Premium cache, bent by `tweak` (a JSON merge into
/// `properties`, plus `location`/`subscription` at the top level). Its
/// address is its own on port 6379, with a primary node and a replica.
pub fn resource(name: &str, location: &str, tweak: serde_json::Value) -> RedisResource {
    let sub = tweak
        .get("subscription")
        .and_then(|s| s.as_str())
        .unwrap_or(SUB)
        .to_owned();
    let mut properties = json!({
        "sku": {"name": "Premium", "family": "P", "capacity": 1},
        "redisVersion": "6.0",
        "provisioningState": "Succeeded",
        "hostName": address_of(name, 0),
        "port": 6379,
        "sslPort": 0,
        "enableNonSslPort": true,
        "minimumTlsVersion": "1.2",
        "replicasPerMaster": 1,
        "redisConfiguration": {},
        "linkedServers": [],
        "instances": instances(name, &[(0, true), (0, false)])
    });
    if let Some(extra) = tweak.get("properties").and_then(|p| p.as_object()) {
        for (k, v) in extra {
            properties[k] = v.clone();
        }
    }
    serde_json::from_value(json!({
        "id": cache_id(&sub, name),
        "name": name,
        "type": "Microsoft.Cache/Redis",
        "location": location,
        "tags": {},
        "properties": properties
    }))
    .expect("fixture resource")
}

/// `owner`'s linked-server resource describing `peer`, whose role is `peer_role`.
pub fn linked(
    owner: &str,
    peer: &str,
    peer_location: &str,
    peer_role: &str,
    state: &str,
) -> LinkedServerResource {
    let (primary, secondary) = if peer_role == "Secondary" {
        (owner, peer)
    } else {
        (peer, owner)
    };
    serde_json::from_value(json!({
        "id": format!("{}/linkedServers/{peer}", cache_id(SUB, owner)),
        "name": peer,
        "type": "Microsoft.Cache/Redis/linkedServers",
        "properties": {
            "linkedRedisCacheId": cache_id(SUB, peer),
            "linkedRedisCacheLocation": peer_location,
            "serverRole": peer_role,
            "provisioningState": state,
            "currentPrimaryEndpoint": {"host": address_of(primary, 0), "port": 6379},
            "currentSecondaryEndpoint": {"host": address_of(secondary, 0), "port": 6379},
            "geoPrimaryEndpoint": {"host": address_of(peer, 9), "port": 6379}
        }
    }))
    .expect("fixture link")
}

/// An entry with no firewall rules.
pub fn entry(resource: RedisResource, links: Vec<LinkedServerResource>) -> CacheEntry {
    CacheEntry::new(resource, Vec::new(), links).expect("fixture entry")
}

/// An entry with one firewall rule.
pub fn firewalled(resource: RedisResource) -> CacheEntry {
    let rule = FirewallRule {
        name: "office".into(),
        start_ip: "10.0.0.1".into(),
        end_ip: "10.0.0.9".into(),
    };
    CacheEntry::new(resource, vec![rule], Vec::new()).expect("fixture entry")
}

/// A linked pair: `primary` in westeurope, `secondary` in northeurope, the
/// link (and both caches) in the given ARM states.
pub fn linked_pair(
    primary: &str,
    secondary: &str,
    link_state: &str,
    cache_state: &str,
    secondary_capacity: u8,
) -> [CacheEntry; 2] {
    let props = |capacity: u8, owner: &str, peer: &str| {
        json!({"properties": {
            "provisioningState": cache_state,
            "sku": {"name": "Premium", "family": "P", "capacity": capacity},
            "linkedServers": [{"id": format!("{}/linkedServers/{peer}", cache_id(SUB, owner))}]
        }})
    };
    [
        entry(
            resource(primary, "westeurope", props(1, primary, secondary)),
            vec![linked(
                primary,
                secondary,
                "northeurope",
                "Secondary",
                link_state,
            )],
        ),
        entry(
            resource(
                secondary,
                "northeurope",
                props(secondary_capacity, secondary, primary),
            ),
            vec![linked(
                secondary,
                primary,
                "westeurope",
                "Primary",
                link_state,
            )],
        ),
    ]
}

/// App state over `fleet`, with a backend nothing listens on.
pub fn state(fleet: Fleet) -> AppState {
    AppState::with_fleet(Api::new("http://127.0.0.1:9", Some("test".into())), fleet)
}

/// A fresh element in the page to mount into.
pub fn container() -> web_sys::HtmlElement {
    let document = document();
    let el = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&el).unwrap();
    el.unchecked_into()
}

/// Lets effects and the DOM catch up with signal changes.
pub async fn settle() {
    gloo_timers::future::sleep(std::time::Duration::from_millis(30)).await;
}

/// The text of every element matching `selector` under `root`.
pub fn texts(root: &web_sys::Element, selector: &str) -> Vec<String> {
    let nodes = root.query_selector_all(selector).unwrap();
    (0..nodes.length())
        .map(|i| {
            nodes
                .item(i)
                .unwrap()
                .text_content()
                .unwrap_or_default()
                .trim()
                .to_owned()
        })
        .collect()
}

/// The one element matching `selector` under `root`.
pub fn one(root: &web_sys::Element, selector: &str) -> web_sys::HtmlElement {
    root.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("no element matches {selector}"))
        .unchecked_into()
}

/// Dispatches a keydown of `key` on `el`.
pub fn press(el: &web_sys::HtmlElement, key: &str) {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key(key);
    init.set_bubbles(true);
    let event =
        web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    el.dispatch_event(&event).unwrap();
}

/// Puts the address bar back to `/`, so router-driven tests start clean.
pub fn reset_url() {
    let history = web_sys::window().unwrap().history().unwrap();
    history
        .replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("/"))
        .unwrap();
}
