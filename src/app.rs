//! The application shell: header, navigation, banner and routes.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::api::Api;
use crate::components::backend_banner::BackendBanner;
use crate::components::fleet_sync::FleetSync;
use crate::components::header::Header;
use crate::components::live_events::LiveEvents;
use crate::components::nav::Nav;
use crate::components::notice::NoticeBar;
use crate::pages::add_link::AddLinkPage;
use crate::pages::cache_list::CacheListPage;
use crate::pages::dashboard::DashboardPage;
use crate::pages::geo_replication::GeoReplicationPage;
use crate::pages::not_found::NotFound;
use crate::pages::overview::OverviewPage;
use crate::pages::walkthrough::WalkthroughPage;
use crate::state::AppState;

/// The console as the browser runs it: state from the page's URL, then the
/// shell.
#[component]
pub fn App() -> impl IntoView {
    provide_context(AppState::new(Api::from_browser()));
    view! { <Shell/> }
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
                    <Routes fallback=NotFound>
                        <Route path=path!("/") view=CacheListPage/>
                        <Route path=path!("/caches/:sub/:rg/:name") view=OverviewPage/>
                        <Route
                            path=path!("/caches/:sub/:rg/:name/geo-replication")
                            view=GeoReplicationPage
                        />
                        <Route
                            path=path!("/caches/:sub/:rg/:name/geo-replication/add")
                            view=AddLinkPage
                        />
                        <Route path=path!("/dashboard") view=DashboardPage/>
                        <Route path=path!("/walkthrough") view=WalkthroughPage/>
                    </Routes>
                </main>
            </div>
        </Router>
    }
}
