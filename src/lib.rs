//! The geo-replication console: a Leptos single-page app, compiled to
//! WebAssembly, that manages passive geo-replication of Redis caches through
//! `georep-server`'s Azure Resource Manager API.
//!
//! Three layers, each in its own folder:
//!
//! - [`components`]: UI primitives with no knowledge of caches or links
//!   (dialog, card, guarded button, badges, sparkline, notice);
//! - [`features`]: the geo-replication pieces built from them (region map,
//!   candidates, link wizard, failover, health, endpoints, live updates);
//! - [`pages`]: one module per route, composing features.
//!
//! Around them: [`shell`] (header, navigation, backend banner), [`routes`]
//! (the route table and every href), [`actions`] (every mutation), [`api`]
//! (every HTTP call), [`session`] (the backend and token) and [`state`]
//! (what is shared through context).
//!
//! The binary (`main.rs`) only mounts [`app::App`]; everything lives here so
//! the browser tests in `tests/` can mount real components.

pub mod actions;
pub mod api;
pub mod app;
pub mod components;
pub mod features;
pub mod model;
pub mod numbers;
pub mod pages;
pub mod perf;
pub mod regions;
pub mod routes;
pub mod session;
pub mod shell;
pub mod state;

pub use app::{App, Shell};

// The crate's own unit tests are pure and run natively with `cargo test`;
// for wasm32 they run in the same headless Chromium as the browser tests.
#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// Mounts the console on `<body>`.
pub fn start() {
    leptos::mount::mount_to_body(App);
}
