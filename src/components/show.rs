//! `Show`, as Leptos's, but compiled once: Leptos's is generic over its
//! condition and children, so each of the console's two dozen uses added
//! its own copy of the memo, the children and the either-view around them
//! (README, console size notes). Pages import this one by name, which
//! takes precedence over the prelude's.

use crate::components::reactive::Derived;
use leptos::prelude::*;

/// The children while `when` holds, else the fallback (nothing by default).
#[component]
pub fn Show(
    /// Whether to show the children.
    #[prop(into)]
    when: Signal<bool>,
    /// What to show while `when` does not hold.
    #[prop(optional, into)]
    fallback: ViewFn,
    children: ChildrenFn,
) -> impl IntoView {
    let shown = Derived::new(move |_| when.get());
    move || {
        if shown.get() {
            children()
        } else {
            fallback.run()
        }
    }
}
