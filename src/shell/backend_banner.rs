//! The banner shown while the backend cannot be reached, and the loop that
//! keeps retrying until it answers again.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::components::reactive::effect;
use crate::components::show::Show;
use crate::state::{use_app, AppState, Connectivity};

/// Delay before retry number `attempt` (0-based): 1 s, 2 s, 4 s, 8 s, then
/// every 15 s, so a backend that comes back is noticed quickly.
pub fn retry_delay(attempt: u32) -> Duration {
    Duration::from_secs(1u64 << attempt.min(4)).min(Duration::from_secs(15))
}

async fn retry(app: AppState) {
    let result = app.api().ping().await;
    let back = result
        .as_ref()
        .map_or_else(|e| !e.is_unreachable(), |_| true);
    app.observe(result).ok();
    if back {
        app.refresh();
    }
}

/// Shows "backend unreachable" and schedules one retry per failure while
/// the backend is down.
#[component]
pub fn BackendBanner() -> impl IntoView {
    let app = use_app();
    effect(move || {
        if let Connectivity::Offline { attempts } = app.connectivity.get() {
            spawn_local(async move {
                gloo_timers::future::sleep(retry_delay(attempts)).await;
                // Skip if anything else (a page's own call, "Retry now")
                // has moved the state on meanwhile.
                let unchanged =
                    app.connectivity.get_untracked() == (Connectivity::Offline { attempts });
                if unchanged {
                    retry(app).await;
                }
            });
        }
    });
    let offline = move || matches!(app.connectivity.get(), Connectivity::Offline { .. });
    view! {
        <Show when=offline>
            <div class="banner banner-error" role="alert">
                <span class="banner-text">
                    <strong>"The backend is unreachable."</strong>
                    {move || format!(" {} — retrying automatically; the console refreshes by itself when it answers.", app.api.with_value(|a| a.base().to_owned()))}
                </span>
                <button
                    type="button"
                    class="btn btn-small"
                    on:click=move |_| spawn_local(retry(app))
                >
                    "Retry now"
                </button>
            </div>
        </Show>
    }
}
