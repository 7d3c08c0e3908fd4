//! One module per route, and the frame the cache pages share. Pages compose
//! features; their URLs come from [`crate::routes`].

pub mod add_link;
pub mod cache_list;
pub mod dashboard;
pub mod drills;
pub mod geo_replication;
pub mod not_found;
pub mod overview;
pub mod walkthrough;

use crate::regions;
use leptos::prelude::*;

use crate::components::reactive::Derived;
use crate::model::CacheEntry;
use crate::routes::{geo_href, overview_href, use_cache_id, HOME};
use crate::state::{use_app, Load};

/// Which tab of a cache's resource menu is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Essentials and link status.
    Overview,
    /// Links, endpoints, health.
    GeoReplication,
}

/// The frame of a cache's pages: breadcrumb, title, resource tabs, then the
/// page body for the cache, or a loading / not-found state.
#[component]
pub fn CacheFrame(
    tab: Tab,
    #[prop(into, optional)] subtitle: Option<String>,
    children: Box<dyn Fn(Derived<CacheEntry>) -> AnyView + Send + Sync>,
) -> impl IntoView {
    let app = use_app();
    let id = use_cache_id();
    let entry = Derived::new(move |_| id.with(|id| app.fleet.with(|f| f.get(id).cloned())));
    let children = StoredValue::new(children);
    // Only a change between "found" and "not found" rebuilds the body;
    // fresh data for the same cache flows through `present`.
    let found = Derived::new(move |_| entry.with(Option::is_some));
    let title_suffix = match tab {
        Tab::Overview => "",
        Tab::GeoReplication => " | Geo-replication",
    };
    let subtitle = subtitle.unwrap_or_else(|| "Azure Cache for Redis".to_owned());
    view! {
        <section class="page">
            <header class="page-header">
                <p class="breadcrumb">
                    <a href=HOME>"Caches"</a>
                    " › "
                    <a href=move || overview_href(&id.get())>{move || id.get().name}</a>
                </p>
                <h1>{move || id.get().name} {title_suffix}</h1>
                <p class="page-subtitle">
                    {subtitle}
                    {move || {
                        entry
                            .get()
                            .map(|e| format!(" · {}", regions::display_name(&e.cache.location)))
                    }}
                </p>
            </header>
            <nav class="tabs" aria-label="Cache">
                <a
                    href=move || overview_href(&id.get())
                    aria-current=(tab == Tab::Overview).then_some("page")
                >
                    "Overview"
                </a>
                <a
                    href=move || geo_href(&id.get())
                    aria-current=(tab == Tab::GeoReplication).then_some("page")
                >
                    "Geo-replication"
                </a>
            </nav>
            {move || {
                if found.get() {
                    children.with_value(|c| c(sticky(entry)))
                } else if app.load.with(|l| *l == Load::Loading) {
                    view! { <p class="muted loading">"Loading…"</p> }.into_any()
                } else {
                    view! {
                        <div class="card empty-state">
                            <p class="empty-title">"Cache not found"</p>
                            <p class="muted">
                                {move || id.get().to_string()} " isn't among the caches you can see."
                            </p>
                        </div>
                    }
                        .into_any()
                }
            }}
        </section>
    }
}

/// The latest `Some` value of `source`.
///
/// Build it only once `source` holds a value (behind a check of a
/// `Derived<bool>`): it then keeps the last value while the surrounding view
/// swaps itself out, instead of rebuilding on every refresh.
pub fn sticky<T>(source: Derived<Option<T>>) -> Derived<T>
where
    T: Clone + PartialEq + Send + Sync + 'static,
{
    Derived::new(move |prev: Option<&T>| {
        source
            .get()
            .or_else(|| prev.cloned())
            .expect("a sticky memo is built only once its source has a value")
    })
}
