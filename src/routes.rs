//! The console's routes: the route table, and every href and path the
//! console builds. Pages and features link through these functions and never
//! format a console URL by hand.

use georep_core::CacheId;
use leptos::prelude::*;
use leptos_router::components::{Route, Routes};
use leptos_router::hooks::use_params_map;
use leptos_router::path;

use crate::pages::add_link::AddLinkPage;
use crate::pages::cache_list::CacheListPage;
use crate::pages::dashboard::DashboardPage;
use crate::pages::drills::DrillsPage;
use crate::pages::geo_replication::GeoReplicationPage;
use crate::pages::not_found::NotFound;
use crate::pages::overview::OverviewPage;
use crate::pages::walkthrough::WalkthroughPage;

/// `/`: the cache list with the region map.
pub const HOME: &str = "/";
/// `/dashboard`: every link with its health.
pub const DASHBOARD: &str = "/dashboard";
/// `/walkthrough`: the guided tour.
pub const WALKTHROUGH: &str = "/walkthrough";
/// The prefix of every cache page.
const CACHES_PREFIX: &str = "/caches/";
/// The wizard's query parameter naming the chosen secondary.
pub const SECONDARY_PARAM: &str = "secondary";

/// Every route, for the shell's router.
#[component]
pub fn AppRoutes() -> impl IntoView {
    view! {
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
            <Route
                path=path!("/caches/:sub/:rg/:name/geo-replication/drills")
                view=DrillsPage
            />
            <Route path=path!("/dashboard") view=DashboardPage/>
            <Route path=path!("/walkthrough") view=WalkthroughPage/>
        </Routes>
    }
}

/// The console route of a cache's overview.
pub fn overview_href(id: &CacheId) -> String {
    format!(
        "{CACHES_PREFIX}{}/{}/{}",
        id.subscription, id.resource_group, id.name
    )
}

/// The console route of a cache's geo-replication page.
pub fn geo_href(id: &CacheId) -> String {
    format!("{}/geo-replication", overview_href(id))
}

/// The console route of a cache's add-link wizard.
pub fn add_link_href(id: &CacheId) -> String {
    format!("{}/geo-replication/add", overview_href(id))
}

/// The console route of the Drills view of a cache's link.
pub fn drills_href(id: &CacheId) -> String {
    format!("{}/geo-replication/drills", overview_href(id))
}

/// The wizard at `path` with `secondary` chosen (the confirmation step), or
/// with none (the selection step).
pub fn wizard_step_href(path: &str, secondary: Option<&str>) -> String {
    match secondary {
        Some(name) => format!("{path}?{SECONDARY_PARAM}={name}"),
        None => path.to_owned(),
    }
}

/// Whether `path` belongs to the cache list's section (the list itself and
/// every cache page), for the navigation.
pub fn in_caches(path: &str) -> bool {
    path == HOME || path.starts_with(CACHES_PREFIX)
}

/// Whether `path` is in the section that starts at `section`.
pub fn in_section(path: &str, section: &str) -> bool {
    path.starts_with(section)
}

/// The current route's cache id, reactive.
pub fn use_cache_id() -> Memo<CacheId> {
    let params = use_params_map();
    Memo::new(move |_| {
        params.with(|p| {
            CacheId::new(
                p.get("sub").unwrap_or_default(),
                p.get("rg").unwrap_or_default(),
                p.get("name").unwrap_or_default(),
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn cache_routes_nest_under_the_overview() {
        let id = CacheId::new("sub", "rg", "cache");
        assert_eq!(overview_href(&id), "/caches/sub/rg/cache");
        assert_eq!(geo_href(&id), "/caches/sub/rg/cache/geo-replication");
        assert_eq!(
            add_link_href(&id),
            "/caches/sub/rg/cache/geo-replication/add"
        );
        assert_eq!(
            drills_href(&id),
            "/caches/sub/rg/cache/geo-replication/drills"
        );
        assert!(in_caches(&geo_href(&id)));
        assert!(in_caches(HOME));
        assert!(!in_caches(DASHBOARD));
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn the_wizard_step_lives_in_the_query() {
        assert_eq!(wizard_step_href("/x", Some("b")), "/x?secondary=b");
        assert_eq!(wizard_step_href("/x", None), "/x");
    }
}
