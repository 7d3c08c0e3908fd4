//! One module per route.

pub mod add_link;
pub mod cache_list;
pub mod dashboard;
pub mod geo_replication;
pub mod not_found;
pub mod overview;
pub mod walkthrough;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// The `:sub/:rg/:name` route parameters of a cache page.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CacheParams {
    /// Subscription id.
    pub sub: String,
    /// Resource group.
    pub rg: String,
    /// Cache name.
    pub name: String,
}

impl CacheParams {
    /// The console route of this cache's overview.
    pub fn overview_href(&self) -> String {
        format!("/caches/{}/{}/{}", self.sub, self.rg, self.name)
    }

    /// The console route of this cache's geo-replication page.
    pub fn geo_href(&self) -> String {
        format!("{}/geo-replication", self.overview_href())
    }

    /// The console route of this cache's add-link wizard.
    pub fn add_link_href(&self) -> String {
        format!("{}/geo-replication/add", self.overview_href())
    }
}

/// The current route's cache parameters, reactive.
pub fn use_cache_params() -> Memo<CacheParams> {
    let params = use_params_map();
    Memo::new(move |_| {
        params.with(|p| CacheParams {
            sub: p.get("sub").unwrap_or_default(),
            rg: p.get("rg").unwrap_or_default(),
            name: p.get("name").unwrap_or_default(),
        })
    })
}
