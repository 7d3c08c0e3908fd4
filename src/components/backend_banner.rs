//! The banner shown while the backend cannot be reached, and the loop that
//! keeps retrying until it answers again.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::state::{use_app, AppState, Connectivity};

/// Delay before retry number `attempt` (0-based): 1 s, 2 s, 4 s … capped at
/// 15 s, so a backend that comes back is noticed quickly.
pub fn retry_delay(attempt: u32) -> Duration {
    Duration::from_secs(1u64 << attempt.min(4)).min(Duration::from_secs(15))
}

async fn retry(app: AppState) {
    let result = app.api().ping().await;
    let back = result.is_ok() || result.as_ref().is_err_and(|e| !e.is_unreachable());
    app.observe(result).ok();
    if back {
        app.refresh();
    }
}

/// Shows "backend unreachable" with a countdown-free retry; schedules one
/// retry per failure while the backend is down.
#[component]
pub fn BackendBanner() -> impl IntoView {
    let app = use_app();
    {
        let app = app.clone();
        Effect::new(move |_| {
            if let Connectivity::Offline { attempts } = app.connectivity.get() {
                let app = app.clone();
                spawn_local(async move {
                    gloo_timers::future::sleep(retry_delay(attempts)).await;
                    // Another path (a page's own call) may have succeeded.
                    if matches!(app.connectivity.get_untracked(), Connectivity::Offline { attempts: a } if a == attempts)
                    {
                        retry(app).await;
                    }
                });
            }
        });
    }
    let offline = move || matches!(app.connectivity.get(), Connectivity::Offline { .. });
    let retry_now = {
        let app = use_app();
        move |_| spawn_local(retry(app.clone()))
    };
    view! {
        <Show when=offline>
            <div class="banner banner-error" role="alert">
                <span class="banner-text">
                    <strong>"The backend is unreachable."</strong>
                    " The console keeps retrying and will refresh by itself when it answers."
                </span>
                <button class="btn btn-small" on:click=retry_now.clone()>
                    "Retry now"
                </button>
            </div>
        </Show>
    }
}
