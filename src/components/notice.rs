//! The outcome of the last action, dismissable.

use leptos::prelude::*;

use crate::state::use_app;

/// Shows `AppState::notice`.
#[component]
pub fn NoticeBar() -> impl IntoView {
    let app = use_app();
    move || {
        app.notice.get().map(|notice| {
            let class = if notice.error {
                "banner banner-error"
            } else {
                "banner banner-success"
            };
            view! {
                <div class=class role=if notice.error { "alert" } else { "status" }>
                    <span class="banner-text">{notice.text}</span>
                    <button
                        type="button"
                        class="icon-button"
                        aria-label="Dismiss"
                        on:click=move |_| app.notice.set(None)
                    >
                        "✕"
                    </button>
                </div>
            }
        })
    }
}
