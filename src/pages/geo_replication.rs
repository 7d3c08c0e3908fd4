//! A cache's "Geo-replication" page.

use leptos::prelude::*;

use super::use_cache_params;

/// The cache's Geo-replication page.
#[component]
pub fn GeoReplicationPage() -> impl IntoView {
    let params = use_cache_params();
    view! {
        <section class="page">
            <header class="page-header">
                <p class="breadcrumb">
                    <a href="/">"Caches"</a>
                    " / "
                    <a href=move || params.get().overview_href()>{move || params.get().name}</a>
                </p>
                <h1>{move || params.get().name} " | Geo-replication"</h1>
            </header>
        </section>
    }
}
