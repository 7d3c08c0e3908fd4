//! `/walkthrough`: a guided tour of link, write, failover and unlink.

use leptos::prelude::*;

/// The walkthrough.
#[component]
pub fn WalkthroughPage() -> impl IntoView {
    view! {
        <section class="page">
            <header class="page-header">
                <h1>"Walkthrough"</h1>
                <p class="page-subtitle">
                    "Link two caches, write through the geo-primary URL, fail over, unlink"
                </p>
            </header>
        </section>
    }
}
