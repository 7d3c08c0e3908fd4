//! A cache's "Add cache replication link" page.

use leptos::prelude::*;

use super::use_cache_params;

/// The cache's Add cache replication link page.
#[component]
pub fn AddLinkPage() -> impl IntoView {
    let params = use_cache_params();
    view! {
        <section class="page">
            <header class="page-header">
                <p class="breadcrumb">
                    <a href="/">"Caches"</a>
                    " / "
                    <a href=move || params.get().overview_href()>{move || params.get().name}</a>
                </p>
                <h1>{move || params.get().name} " | Add cache replication link"</h1>
            </header>
        </section>
    }
}
