//! The left navigation (a tab strip on narrow screens).

use leptos::prelude::*;

use crate::routes::{in_caches, in_section, use_location, DASHBOARD, HOME, WALKTHROUGH};

/// One navigation entry: label, target, and which paths make it current.
struct Entry {
    label: &'static str,
    /// The label on narrow screens, where the navigation is a tab strip.
    short: &'static str,
    href: &'static str,
    icon: &'static str,
    is_current: fn(&str) -> bool,
}

const ENTRIES: [Entry; 3] = [
    Entry {
        label: "Caches",
        short: "Caches",
        href: HOME,
        // A stack of three discs.
        icon: "M4 6c0-1.7 3.6-3 8-3s8 1.3 8 3-3.6 3-8 3-8-1.3-8-3zm0 6c0 1.7 3.6 3 8 3s8-1.3 8-3M4 18c0 1.7 3.6 3 8 3s8-1.3 8-3M4 6v12m16-12v12",
        is_current: in_caches,
    },
    Entry {
        label: "Geo-replication dashboard",
        short: "Dashboard",
        href: DASHBOARD,
        // A pulse line.
        icon: "M3 12h4l2-5 4 10 2-5h6",
        is_current: |path| in_section(path, DASHBOARD),
    },
    Entry {
        label: "Walkthrough",
        short: "Walkthrough",
        href: WALKTHROUGH,
        // A flag.
        icon: "M5 21V4m0 0h11l-2 4 2 4H5",
        is_current: |path| in_section(path, WALKTHROUGH),
    },
];

/// The console's primary navigation.
#[component]
pub fn Nav() -> impl IntoView {
    let url = use_location().url();
    view! {
        <nav class="sidenav" aria-label="Primary">
            <ul>
                {ENTRIES
                    .iter()
                    .map(|entry| {
                        let is_current = entry.is_current;
                        let current = move || url.with(|u| is_current(&u.path));
                        view! {
                            <li>
                                <a
                                    href=entry.href
                                    class="nav-link"
                                    aria-current=move || current().then_some("page")
                                >
                                    <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
                                        <path d=entry.icon/>
                                    </svg>
                                    <span class="nav-label">{entry.label}</span>
                                    <span class="nav-short" aria-hidden="true">{entry.short}</span>
                                </a>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </nav>
    }
}
