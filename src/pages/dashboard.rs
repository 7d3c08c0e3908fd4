//! `/dashboard`: every geo-replication link, with health from both sides.

use leptos::prelude::*;

/// The geo-replication dashboard.
#[component]
pub fn DashboardPage() -> impl IntoView {
    view! {
        <section class="page">
            <header class="page-header">
                <h1>"Geo-replication dashboard"</h1>
                <p class="page-subtitle">"Every link, with health from both sides"</p>
            </header>
            <div class="card empty-state">
                <p class="empty-title">"No geo-replication links"</p>
            </div>
        </section>
    }
}
