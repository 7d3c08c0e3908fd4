//! `/`: every cache the caller can see.

use leptos::prelude::*;

use crate::state::use_app;

/// The cache list.
#[component]
pub fn CacheListPage() -> impl IntoView {
    let app = use_app();
    let subscriptions = LocalResource::new(move || {
        let app = app.clone();
        app.epoch.track();
        async move { app.observe(app.api().list_subscriptions().await) }
    });
    let count = move || {
        subscriptions
            .get()
            .and_then(Result::ok)
            .map_or(0, |subs| subs.len())
    };
    view! {
        <section class="page">
            <header class="page-header">
                <h1>"Azure Cache for Redis"</h1>
                <p class="page-subtitle">
                    "Premium caches and their passive geo-replication links"
                </p>
            </header>
            <div class="card">
                <div class="table-wrap">
                <table class="grid" aria-label="Caches">
                    <thead>
                        <tr>
                            <th scope="col">"Name"</th>
                            <th scope="col">"Location"</th>
                            <th scope="col">"Resource group"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col">"Geo-replication"</th>
                        </tr>
                    </thead>
                    <tbody></tbody>
                </table>
                </div>
                <div class="empty-state">
                    <p class="empty-title">"No caches to display"</p>
                    <p class="muted">
                        {move || {
                            format!(
                                "{} subscription(s) visible. Create a Premium cache with georep-server to get started.",
                                count(),
                            )
                        }}
                    </p>
                </div>
            </div>
        </section>
    }
}
