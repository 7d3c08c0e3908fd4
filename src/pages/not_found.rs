//! Any route the console does not know.

use leptos::prelude::*;

use crate::routes::HOME;

/// The 404 page.
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="page">
            <header class="page-header">
                <h1>"Page not found"</h1>
            </header>
            <p>
                "There is nothing at this address. " <a href=HOME>"Back to the caches"</a>
            </p>
        </section>
    }
}
