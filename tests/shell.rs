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

/// The skip link (the first thing a keyboard reaches) moves the focus to
/// the page's content, and leaves the address as it was: a bare `#main`
/// would otherwise resolve against the document's base.
#[wasm_bindgen_test]
async fn the_skip_link_moves_the_focus_to_the_content() {
    let root = container();
    let handle = leptos::mount::mount_to(root.clone(), || {
        provide_context(AppState::new(Api::new("http://127.0.0.1:9", None)));
        view! { <Shell/> }
    });
    let before = web_sys::window().unwrap().location().href().unwrap();
    let link: web_sys::HtmlElement = root
        .query_selector(".skip-link")
        .unwrap()
        .expect("a skip link")
        .unchecked_into();
    assert_eq!(link.text_content().unwrap(), "Skip to content");
    link.click();
    gloo_timers::future::TimeoutFuture::new(0).await;

    let document = web_sys::window().unwrap().document().unwrap();
    let active = document.active_element().expect("something has the focus");
    assert_eq!(active.tag_name(), "MAIN", "the focus is on the content");
    assert!(root.contains(Some(&active)), "this shell's own content");
    assert_eq!(
        web_sys::window().unwrap().location().href().unwrap(),
        before,
        "the address did not change"
    );
    drop(handle);
}
