//! The pre-failover checklist, from `georep_core::failover::preflight`:
//! firewall parity, port and TLS parity, and whether the access keys differ.

use georep_core::failover::{preflight, CheckItem};
use leptos::prelude::*;

use crate::components::reactive::fetched;
use crate::model::LinkView;
use crate::state::use_app;

/// The checklist of a link's two caches.
#[component]
pub fn Checklist(#[prop(into)] link: Signal<LinkView>) -> impl IntoView {
    let app = use_app();
    // Whether the access keys differ needs both caches' keys; the keys
    // themselves never leave this future.
    let keys_differ = fetched(move || {
        let (p, s) = link.with(|l| (l.primary.clone(), l.secondary.clone()));
        async move {
            let api = app.api();
            let (a, b) = futures::join!(api.list_keys(&p), api.list_keys(&s));
            match (a, b) {
                (Ok(a), Ok(b)) => {
                    Some(a.primary_key != b.primary_key || a.secondary_key != b.secondary_key)
                }
                _ => None,
            }
        }
    });
    let checks = move || {
        let known = keys_differ.get().flatten();
        link.with(|l| {
            app.fleet.with(|f| {
                let (Some(p), Some(s)) = (f.get(&l.primary), f.get(&l.secondary)) else {
                    return Vec::new();
                };
                preflight(&p.cache, &s.cache, known.unwrap_or(true))
                    .into_iter()
                    .map(|c| {
                        let pending = c.item == CheckItem::AccessKeysDiffer && known.is_none();
                        (c, pending)
                    })
                    .collect()
            })
        })
    };
    let title = |item: CheckItem| match item {
        CheckItem::FirewallParity => "Firewall settings match",
        CheckItem::PortAndTlsParity => "Same port and TLS settings",
        CheckItem::AccessKeysDiffer => "Access keys",
    };
    view! {
        <ul class="checklist" aria-label="Settings to check before failover">
            {move || {
                checks()
                    .into_iter()
                    .map(|(check, pending)| {
                        let class = if pending {
                            "check pending"
                        } else if check.ok {
                            "check ok"
                        } else {
                            "check attention"
                        };
                        let mark = if pending { "…" } else if check.ok { "✓" } else { "!" };
                        view! {
                            <li class=class>
                                <span class="check-mark" aria-hidden="true">{mark}</span>
                                <span>
                                    <strong>{title(check.item)}</strong>
                                    <br/>
                                    <span class="muted">
                                        {if pending {
                                            "Comparing the two caches' access keys…".to_owned()
                                        } else {
                                            check.detail
                                        }}
                                    </span>
                                </span>
                            </li>
                        }
                    })
                    .collect_view()
            }}
        </ul>
    }
}
