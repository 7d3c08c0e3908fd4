//! A cache's address and its nodes: the address clients use
//! (`hostName` on the TLS port, with a copy button and a `redis-cli` hint), then each
//! node's own address, its shard, and which node is its shard's primary now.

use leptos::prelude::*;

use crate::components::card::Card;
use crate::components::copy_button::CopyButton;
use crate::components::reactive::Derived;
use crate::components::show::Show;
use crate::model::CacheEntry;
use crate::state::use_app;

/// The address, the `redis-cli` hint and the node list of a cache.
#[component]
pub fn NodesPanel(entry: Derived<CacheEntry>) -> impl IntoView {
    let address = Derived::new(move |_| entry.with(CacheEntry::address));
    let nodes = Derived::new(move |_| entry.with(CacheEntry::nodes));
    let clustered = Derived::new(move |_| entry.with(|e| e.cache.is_clustered()));
    let count = Signal::derive(move || nodes.with(Vec::len));
    // The TLS port needs the server's local CA (`ca.pem` in its data
    // directory) to check the cache's certificate against.
    let hint = move || {
        entry.with(|e| {
            let tls = if e.has_tls() {
                "--tls --cacert ca.pem "
            } else {
                ""
            };
            format!(
                "redis-cli {tls}-h {} -p {} -a <access key>",
                e.host(),
                e.port()
            )
        })
    };
    let connection_string =
        move || entry.with(|e| format!("rediss://:<access key>@{}:{}", e.host(), e.port()));
    let ca_url = StoredValue::new(use_app().api().ca_certificate_url());
    view! {
        <Card title="Address and nodes" heading_id="nodes-heading" count=count class="nodes-card">
            <div class="card-body">
                <div class="cache-address">
                    <span class="cache-address-label">"Address"</span>
                    <div class="cache-address-row">
                        <code class="cache-address-value">{move || address.get()}</code>
                        <CopyButton
                            value=Signal::derive(move || Some(address.get()))
                            label="address"
                        />
                    </div>
                    <p class="cache-address-hint">
                        {move || {
                            if clustered.get() {
                                "Reaches shard 0's primary node, whichever node that is now. "
                            } else {
                                "Reaches the primary node, whichever node that is now. "
                            }
                        }}
                        <code class="cli-hint">{hint}</code>
                    </p>
                    <Show when=move || entry.with(CacheEntry::has_tls)>
                        <p class="cache-address-hint">
                            "Applications connect with "
                            <code class="connection-string">{connection_string}</code>
                            ", trusting the server's local CA: "
                            <a class="ca-download" href=move || ca_url.get_value() download="georep-ca.pem">
                                "download ca.pem"
                            </a>
                            "."
                        </p>
                    </Show>
                </div>
                <ul class="nodes" aria-label="Nodes">
                    {move || {
                        nodes
                            .get()
                            .into_iter()
                            .map(|n| {
                                let address = n.address.unwrap_or_else(|| "—".to_owned());
                                view! {
                                    <li class="node" data-primary=n.primary.to_string()>
                                        <code class="node-address">{address}</code>
                                        <span class="node-shard">{format!("Shard {}", n.shard)}</span>
                                        {if n.primary {
                                            view! { <span class="badge badge-primary">"Primary"</span> }
                                                .into_any()
                                        } else {
                                            view! { <span class="node-role">"Replica"</span> }.into_any()
                                        }}
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                </ul>
                <Show when=move || nodes.with(Vec::is_empty)>
                    <p class="muted">"No nodes yet."</p>
                </Show>
            </div>
        </Card>
    }
}
