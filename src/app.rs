//! The application shell: shared state in context, then the header,
//! navigation, banners and the route table.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::Api;
use crate::components::notice::NoticeBar;
use crate::features::live::events::LiveEvents;
use crate::features::live::fleet_sync::{self, FleetSync};
use crate::routes::{AppRoutes, Router};
use crate::shell::backend_banner::BackendBanner;
use crate::shell::header::Header;
use crate::shell::nav::Nav;
use crate::state::AppState;

/// The console as the browser runs it: state from the page's URL, then the
/// shell.
#[component]
pub fn App() -> impl IntoView {
    let app = AppState::new(Api::from_browser());
    provide_context(app);
    // The fleet's first request goes out before the shell is built, which
    // holds the main thread for a while (about 50 ms of CPU, three times
    // that in wall time on a busy machine): the list's own request waits
    // for that answer, and would otherwise wait for the build and its
    // first paint too (README, Performance).
    fleet_sync::load(app);
    let built = RwSignal::new(false);
    spawn_local(async move { built.set(true) });
    move || built.get().then(|| view! { <Shell/> })
}

/// Everything inside the page, given an [`AppState`] in context. Tests mount
/// this with a state of their own.
#[component]
pub fn Shell() -> impl IntoView {
    view! {
        <Router>
            <FleetSync/>
            <LiveEvents/>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <div class="shell">
                <Header/>
                <Nav/>
                <main id="main" class="content" tabindex="-1">
                    <BackendBanner/>
                    <NoticeBar/>
                    <AppRoutes/>
                </main>
            </div>
        </Router>
    }
}
