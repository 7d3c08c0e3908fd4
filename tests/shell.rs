//! The app shell, mounted for real in headless Chromium.
#![cfg(target_arch = "wasm32")]

use georep_console::api::Api;
use georep_console::state::AppState;
use georep_console::Shell;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// A fresh element to mount into, so tests do not see each other's DOM.
fn container() -> web_sys::HtmlElement {
    let document = web_sys::window().unwrap().document().unwrap();
    let el = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&el).unwrap();
    el.unchecked_into()
}

#[wasm_bindgen_test]
fn shell_shows_product_name_and_navigation() {
    let root = container();
    // An unroutable backend: the shell must render without one.
    let handle = leptos::mount::mount_to(root.clone(), || {
        provide_context(AppState::new(Api::new("http://127.0.0.1:9", None)));
        view! { <Shell/> }
    });

    let brand = root.query_selector(".brand-name").unwrap().unwrap();
    assert_eq!(brand.text_content().unwrap(), "Redis geo-replication");

    let links: Vec<String> = {
        let nodes = root.query_selector_all("nav.sidenav a .nav-label").unwrap();
        (0..nodes.length())
            .map(|i| nodes.item(i).unwrap().text_content().unwrap())
            .collect()
    };
    assert_eq!(
        links,
        ["Caches", "Geo-replication dashboard", "Walkthrough"]
    );

    let auth = root.query_selector(".auth").unwrap().unwrap();
    assert_eq!(auth.text_content().unwrap(), "No token");
    drop(handle);
}
