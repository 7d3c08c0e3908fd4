//! The console's routes: the route table, and every href and path the
//! console builds. Pages and features link through these functions and never
//! format a console URL by hand.
//!
//! The console may be served under any path (`/`, or `/sub/` on a static
//! host), so every href is relative to its root: index.html points the
//! document's base there, and the router strips [`root`] before matching.

mod chunks;
mod location;

use georep_core::CacheId;
use leptos::prelude::*;

pub use location::{use_location, Location, Router, Url};

use crate::components::reactive::Derived;
use crate::pages::cache_list::CacheListPage;
use crate::pages::not_found::NotFound;

/// `/`: the cache list with the region map.
pub const HOME: &str = "./";
/// `/dashboard`: every link with its health.
pub const DASHBOARD: &str = "dashboard";
/// `/walkthrough`: the guided tour.
pub const WALKTHROUGH: &str = "walkthrough";
/// The prefix of every cache page.
const CACHES_PREFIX: &str = "caches/";
/// The wizard's query parameter naming the chosen secondary.
pub const SECONDARY_PARAM: &str = "secondary";

/// Which page an address shows. A cache page's id is read separately
/// ([`use_cache_id`]), so moving between two caches' pages of the same kind
/// keeps the page and updates it.
#[derive(Clone, Copy, PartialEq)]
enum Page {
    CacheList,
    Overview,
    GeoReplication,
    AddLink,
    Drills,
    Dashboard,
    Walkthrough,
    NotFound,
}

impl Page {
    /// The page at `path` (the address bar's).
    fn at(path: &str) -> Self {
        let path = in_console(path).trim_end_matches('/');
        if path.is_empty() {
            return Self::CacheList;
        }
        if path == DASHBOARD {
            return Self::Dashboard;
        }
        if path == WALKTHROUGH {
            return Self::Walkthrough;
        }
        let Some(cache) = path.strip_prefix(CACHES_PREFIX) else {
            return Self::NotFound;
        };
        let segments: Vec<&str> = cache.split('/').collect();
        if segments.len() < 3 || segments[..3].iter().any(|s| s.is_empty()) {
            return Self::NotFound;
        }
        match segments[3..] {
            [] => Self::Overview,
            ["geo-replication"] => Self::GeoReplication,
            ["geo-replication", "add"] => Self::AddLink,
            ["geo-replication", "drills"] => Self::Drills,
            _ => Self::NotFound,
        }
    }
}

/// Every route: the page the address bar names.
#[component]
pub fn AppRoutes() -> impl IntoView {
    let url = use_location().url();
    let page = Derived::new(move |_| url.with(|u| Page::at(&u.path)));
    move || match page.get() {
        Page::CacheList => view! { <CacheListPage/> }.into_any(),
        Page::Overview => on_demand(chunks::overview()),
        Page::GeoReplication => on_demand(chunks::geo_replication()),
        Page::AddLink => on_demand(chunks::add_link()),
        Page::Drills => on_demand(chunks::drills()),
        Page::Dashboard => on_demand(chunks::dashboard()),
        Page::Walkthrough => on_demand(chunks::walkthrough()),
        Page::NotFound => view! { <NotFound/> }.into_any(),
    }
}

/// A page from [`chunks`], with a loading note while its code is fetched,
/// and an error if it never arrives. (When it is already loaded, or the
/// build has no chunks, the page shows at once and the note never does.)
fn on_demand(page: chunks::Loading) -> AnyView {
    view! {
        <Suspense fallback=|| view! { <p class="page-loading" role="status">"Loading…"</p> }>
            {Suspend::new(async move {
                page.await.unwrap_or_else(|_| view! { <PageUnavailable/> }.into_any())
            })}
        </Suspense>
    }
    .into_any()
}

/// Why a page is missing: its code did not load.
#[component]
fn PageUnavailable() -> impl IntoView {
    view! {
        <div class="banner banner-error" role="alert">
            <span class="banner-text">
                "This page's code did not load: the server did not send it, or it \
                 now has a newer build of the console. Reload the page to try again."
            </span>
        </div>
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

/// Whether `path` (the address bar's) belongs to the cache list's section
/// (the list itself and every cache page), for the navigation.
pub fn in_caches(path: &str) -> bool {
    let path = in_console(path);
    path.is_empty() || path.starts_with(CACHES_PREFIX)
}

/// Whether `path` (the address bar's) is in the section that starts at `section`.
pub fn in_section(path: &str, section: &str) -> bool {
    in_console(path).starts_with(section)
}

/// `path` (the address bar's) relative to the console's root, as the hrefs are.
fn in_console(path: &str) -> &str {
    let path = path.strip_prefix(root().as_str()).unwrap_or(path);
    path.trim_start_matches('/')
}

/// The path the console is served under, without a trailing slash: `""` at
/// an origin's root, `/sub` under `/sub/`. It is the document's base, which
/// index.html sets from the address bar, whichever route was opened.
pub fn root() -> String {
    #[cfg(target_arch = "wasm32")]
    {
        thread_local! {
            static ROOT: String = document_root();
        }
        ROOT.with(Clone::clone)
    }
    #[cfg(not(target_arch = "wasm32"))]
    String::new()
}

#[cfg(target_arch = "wasm32")]
fn document_root() -> String {
    let base = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| js_sys::Reflect::get(&d, &"baseURI".into()).ok())
        .and_then(|b| b.as_string())
        .unwrap_or_default();
    root_of(&base).to_owned()
}

/// The directory of a base URL's path, without its trailing slash.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
fn root_of(base: &str) -> &str {
    let after_scheme = base.split_once("://").map_or(base, |(_, rest)| rest);
    let path = after_scheme.find('/').map_or("", |at| &after_scheme[at..]);
    let path = path.split(['?', '#']).next().unwrap_or_default();
    &path[..path.rfind('/').unwrap_or(0)]
}

/// A `navigate` that takes the hrefs above (relative to the console's
/// root) or an address bar path, for pages that move on by themselves.
pub fn use_go() -> impl Fn(&str) + Clone {
    let location = use_location();
    move |href: &str| {
        let path = if href.starts_with('/') {
            href.to_owned()
        } else {
            format!("{}/{}", root(), href.trim_start_matches("./"))
        };
        location.navigate(&path);
    }
}

/// The current route's cache id, reactive.
pub fn use_cache_id() -> Derived<CacheId> {
    let url = use_location().url();
    Derived::new(move |_| url.with(|u| cache_id_at(&u.path)))
}

/// The cache a cache page's path names (empty parts elsewhere).
fn cache_id_at(path: &str) -> CacheId {
    let cache = in_console(path)
        .strip_prefix(CACHES_PREFIX)
        .unwrap_or_default();
    let mut parts = cache.split('/').map(location::decode);
    let mut next = || parts.next().unwrap_or_default();
    let (sub, rg, name) = (next(), next(), next());
    CacheId::new(sub, rg, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn cache_routes_nest_under_the_overview() {
        let id = CacheId::new("sub", "rg", "cache");
        assert_eq!(overview_href(&id), "caches/sub/rg/cache");
        assert_eq!(geo_href(&id), "caches/sub/rg/cache/geo-replication");
        assert_eq!(
            add_link_href(&id),
            "caches/sub/rg/cache/geo-replication/add"
        );
        assert_eq!(
            drills_href(&id),
            "caches/sub/rg/cache/geo-replication/drills"
        );
        // The address bar's paths, at the root the tests are served from.
        let at_root = |href: &str| format!("{}/{}", root(), href.trim_start_matches("./"));
        assert!(in_caches(&at_root(&geo_href(&id))));
        assert!(in_caches(&at_root(HOME)));
        assert!(!in_caches(&at_root(DASHBOARD)));
        assert!(in_section(&at_root(DASHBOARD), DASHBOARD));
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn every_href_opens_its_page_and_names_its_cache() {
        let id = CacheId::new("sub", "rg", "cache");
        let at_root = |href: &str| format!("{}/{}", root(), href.trim_start_matches("./"));
        let pages = [
            (at_root(HOME), Page::CacheList),
            (at_root(&overview_href(&id)), Page::Overview),
            (at_root(&geo_href(&id)), Page::GeoReplication),
            (at_root(&add_link_href(&id)), Page::AddLink),
            (at_root(&drills_href(&id)), Page::Drills),
            (at_root(DASHBOARD), Page::Dashboard),
            (at_root(WALKTHROUGH), Page::Walkthrough),
            (
                format!("{}/", at_root(&geo_href(&id))),
                Page::GeoReplication,
            ),
            (at_root("caches/sub/rg"), Page::NotFound),
            (at_root("caches/sub/rg/cache/nowhere"), Page::NotFound),
            (at_root("dashboards"), Page::NotFound),
        ];
        for (path, page) in pages {
            assert!(Page::at(&path) == page, "{path}");
        }
        assert_eq!(cache_id_at(&at_root(&drills_href(&id))), id);
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn the_root_is_the_base_urls_directory() {
        assert_eq!(root_of("http://127.0.0.1:8080/"), "");
        assert_eq!(root_of("https://example.com/sub/"), "/sub");
        assert_eq!(root_of("http://h/a/b/index.html"), "/a/b");
        assert_eq!(root_of("http://h/sub/?x=/y#/z"), "/sub");
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn the_wizard_step_lives_in_the_query() {
        assert_eq!(wizard_step_href("/x", Some("b")), "/x?secondary=b");
        assert_eq!(wizard_step_href("/x", None), "/x");
    }
}
