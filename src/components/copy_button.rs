//! A button that copies a text to the clipboard and says so.

use leptos::prelude::*;
use leptos::task::spawn_local;

/// Copies `text` to the clipboard; whether the browser took it.
pub async fn copy(text: String) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let promise = window.navigator().clipboard().write_text(&text);
    wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
}

/// "Copy", then "Copied" once the clipboard holds `value`; disabled while
/// there is nothing to copy. `label` names what it copies, for assistive
/// technology ("Copy {label}").
#[component]
pub fn CopyButton(
    /// What to copy.
    #[prop(into)]
    value: Signal<Option<String>>,
    /// What it is, e.g. "address".
    #[prop(into)]
    label: String,
) -> impl IntoView {
    let copied = RwSignal::new(false);
    view! {
        <button
            type="button"
            class="btn btn-small"
            disabled=move || value.with(Option::is_none)
            aria-label=format!("Copy {label}")
            on:click=move |_| {
                if let Some(v) = value.get_untracked() {
                    spawn_local(async move {
                        copied.set(copy(v).await);
                    });
                }
            }
        >
            {move || if copied.get() { "Copied" } else { "Copy" }}
        </button>
    }
}
