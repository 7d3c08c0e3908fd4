//! A modal dialog (traps focus while open, closes on Escape, gives focus
//! back to whatever had it before) and its footer of buttons.

use leptos::ev::KeyboardEvent;
use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::guarded_button::unique_id;
use super::show::Show;
use crate::components::reactive::effect;

const FOCUSABLE: &str =
    "button:not([disabled]), [href], input:not([disabled]), select, textarea, [tabindex]:not([tabindex='-1'])";

fn focusables(root: &web_sys::HtmlElement) -> Vec<web_sys::HtmlElement> {
    let Ok(nodes) = root.query_selector_all(FOCUSABLE) else {
        return Vec::new();
    };
    (0..nodes.length())
        .filter_map(|i| nodes.item(i))
        .filter_map(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
        .collect()
}

fn active_element() -> Option<web_sys::HtmlElement> {
    web_sys::window()?
        .document()?
        .active_element()?
        .dyn_into()
        .ok()
}

/// A modal dialog, shown while `open` is true.
#[component]
pub fn Dialog(
    /// Whether the dialog is shown; Escape and the close button clear it.
    open: RwSignal<bool>,
    /// The dialog's heading.
    #[prop(into)]
    title: String,
    /// Its body.
    children: ChildrenFn,
) -> impl IntoView {
    let title_id = unique_id("dialog-title");
    let panel = NodeRef::<html::Div>::new();
    // Where focus was before opening, to restore it on close.
    let opener = StoredValue::new_local(None::<web_sys::HtmlElement>);
    effect(move || {
        if open.get() {
            opener.set_value(active_element());
            if let Some(panel) = panel.get() {
                let first = focusables(&panel).into_iter().next();
                let _ = first.map_or_else(|| panel.focus(), |el| el.focus());
            }
        } else if let Some(el) = opener.get_value() {
            let _ = el.focus();
            opener.set_value(None);
        }
    });
    let on_key = move |ev: KeyboardEvent| {
        if ev.key() == "Escape" {
            ev.prevent_default();
            open.set(false);
            return;
        }
        if ev.key() != "Tab" {
            return;
        }
        let Some(panel) = panel.get() else { return };
        let items = focusables(&panel);
        let (Some(first), Some(last)) = (items.first(), items.last()) else {
            ev.prevent_default();
            return;
        };
        let active = active_element();
        if ev.shift_key() && active.as_ref() == Some(first) {
            ev.prevent_default();
            let _ = last.focus();
        } else if !ev.shift_key() && active.as_ref() == Some(last) {
            ev.prevent_default();
            let _ = first.focus();
        }
    };
    let children = StoredValue::new(children);
    let title_id_panel = title_id.clone();
    view! {
        <Show when=move || open.get()>
            <div class="dialog-backdrop" on:click=move |_| open.set(false)></div>
            <div
                class="dialog"
                role="dialog"
                aria-modal="true"
                aria-labelledby=title_id_panel.clone()
                tabindex="-1"
                node_ref=panel
                on:keydown=on_key
            >
                <header class="dialog-header">
                    <h2 id=title_id_panel.clone()>{title.clone()}</h2>
                    <button
                        type="button"
                        class="icon-button"
                        aria-label="Close"
                        on:click=move |_| open.set(false)
                    >
                        "✕"
                    </button>
                </header>
                <div class="dialog-body">{children.with_value(|c| c())}</div>
            </div>
        </Show>
    }
}

/// A dialog's footer: the button that closes the dialog (`dismiss`,
/// "Cancel" unless told otherwise), then the dialog's own buttons.
#[component]
pub fn DialogActions(
    /// The dialog's `open` signal, which the dismiss button clears.
    open: RwSignal<bool>,
    /// The dismiss button's text.
    #[prop(into, default = Signal::stored("Cancel"))]
    dismiss: Signal<&'static str>,
    /// The buttons after it, e.g. the confirmation.
    children: Children,
) -> impl IntoView {
    view! {
        <div class="actions">
            <button type="button" class="btn" on:click=move |_| open.set(false)>
                {move || dismiss.get()}
            </button>
            {children()}
        </div>
    }
}
