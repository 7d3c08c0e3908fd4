//! A button that may be refused: when `refusal` holds a reason, the button
//! is `aria-disabled` (still focusable), ignores clicks, and shows the reason
//! as its tooltip and accessible description.

use std::sync::atomic::{AtomicU32, Ordering};

use super::show::Show;
use leptos::prelude::*;

/// A fresh id for `aria-*` references.
pub fn unique_id(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A button with an optional refusal.
#[component]
pub fn GuardedButton(
    /// The button's text.
    #[prop(into)]
    label: String,
    /// Why the action can't run now; `None` enables the button.
    #[prop(into)]
    refusal: Signal<Option<String>>,
    /// Runs on click when enabled.
    on_click: Callback<()>,
    /// Extra classes, e.g. `btn-primary`.
    #[prop(into, default = String::new())]
    class: String,
) -> impl IntoView {
    let tip = unique_id("tip");
    let refused = move || refusal.with(Option::is_some);
    let described_by = tip.clone();
    view! {
        <span class="guarded" class:refused=refused>
            <button
                type="button"
                class=format!("btn {class}")
                aria-disabled=move || if refused() { "true" } else { "false" }
                aria-describedby=move || refused().then(|| described_by.clone())
                on:click=move |_| {
                    if !refused() {
                        on_click.run(());
                    }
                }
            >
                {label}
            </button>
            <Show when=refused>
                <span class="tooltip" role="tooltip" id=tip.clone()>
                    {move || refusal.get().unwrap_or_default()}
                </span>
            </Show>
        </span>
    }
}
