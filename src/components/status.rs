//! Status badges and the full-sync progress bar.

use georep_core::arm::SyncProgress;
use georep_core::link::LinkState;
use leptos::prelude::*;

use crate::model::{format_bytes, Health};
use crate::numbers::plain;

/// The link's ARM provisioning state as a coloured badge ("Creating",
/// "Succeeded", …), from `georep-core`'s mapping.
#[component]
pub fn LinkBadge(#[prop(into)] state: Signal<LinkState>) -> impl IntoView {
    let text = move || {
        state
            .get()
            .link_provisioning_state()
            .map_or_else(|| "Unlinked".to_owned(), |s| s.to_string())
    };
    let class = move || {
        let health = Health::of(state.get(), None);
        format!("badge badge-{}", health.class())
    };
    view! { <span class=class data-state=move || state.get().to_string()>{text}</span> }
}

/// A health badge.
#[component]
pub fn HealthBadge(#[prop(into)] health: Signal<Health>) -> impl IntoView {
    view! {
        <span class=move || format!("badge badge-{}", health.get().class())>
            {move || health.get().label()}
        </span>
    }
}

/// The full sync's progress: bytes read of the snapshot's total.
#[component]
pub fn SyncProgressBar(#[prop(into)] progress: Signal<Option<SyncProgress>>) -> impl IntoView {
    let percent = move || progress.get().map(|p| (p.fraction() * 100.0).round());
    let text = move || match progress.get() {
        Some(p) if p.bytes_total > 0 => format!(
            "Full sync: {} of {} ({}%)",
            format_bytes(p.bytes_read as f64),
            format_bytes(p.bytes_total as f64),
            plain(percent().unwrap_or(0.0))
        ),
        _ => "Full sync starting…".to_owned(),
    };
    view! {
        <div class="progress">
            <div
                class="progress-track"
                role="progressbar"
                aria-label="Full sync progress"
                aria-valuemin="0"
                aria-valuemax="100"
                aria-valuenow=move || plain(percent().unwrap_or(0.0))
            >
                <div
                    class="progress-fill"
                    class:indeterminate=move || percent().is_none()
                    style:width=move || format!("{}%", plain(percent().unwrap_or(30.0)))
                ></div>
            </div>
            <span class="progress-text">{text}</span>
        </div>
    }
}
