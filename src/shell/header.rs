//! The top bar: product name and which backend the console talks to.

use leptos::prelude::*;

use crate::routes::HOME;
use crate::state::{use_app, AppState, Connectivity};

/// The header's word for how the console stays current, and its title:
/// live from the event stream once it is open, connecting until the first
/// try to open it ends (the fleet usually answers before the stream does),
/// polling otherwise.
fn live_state(app: AppState) -> (&'static str, &'static str) {
    if app.live.get() {
        ("Live", "Live updates from the event stream")
    } else if !app.stream_tried.get()
        && !matches!(app.connectivity.get(), Connectivity::Offline { .. })
    {
        ("Connecting…", "Opening the event stream")
    } else {
        (
            "Polling",
            "The event stream is not open: refreshing by polling",
        )
    }
}

/// The console's header bar.
#[component]
pub fn Header() -> impl IntoView {
    let app = use_app();
    let api = app.api();
    let backend = api.base().to_owned();
    let signed_in = api.has_token();
    view! {
        <header class="topbar">
            <a class="brand" href=HOME>
                <svg class="brand-mark" viewBox="0 0 24 24" aria-hidden="true">
                    <circle cx="7" cy="12" r="4.5"/>
                    <circle cx="17" cy="12" r="4.5"/>
                    <path d="M11.5 12h1"/>
                </svg>
                <span class="brand-name">"Redis geo-replication"</span>
            </a>
            <div class="topbar-meta">
                <span
                    class="live"
                    class:live-on=move || app.live.get()
                    title=move || live_state(app).1
                >
                    {move || live_state(app).0}
                </span>
                <span class="backend" title="Backend">{backend}</span>
                <span
                    class="auth"
                    class:auth-missing=!signed_in
                    title=if signed_in {
                        "A token from the login URL is attached to every call"
                    } else {
                        "Open the login URL printed by georep-server to sign in"
                    }
                >
                    {if signed_in { "Signed in" } else { "No token" }}
                </span>
            </div>
        </header>
    }
}
