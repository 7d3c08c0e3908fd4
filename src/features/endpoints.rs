//! The endpoints panel: each cache's geo-primary URL, the current
//! geo-primary and the current geo-secondary, each on its TLS port and, while
//! the serving cache keeps it open, its non-TLS port, with copy buttons.

use leptos::prelude::*;

use crate::components::card::Card;
use crate::components::copy_button::CopyButton;
use crate::components::reactive::Derived;
use crate::model::{EndpointAddress, Endpoints, LinkView};
use crate::state::use_app;

/// One endpoint: its TLS address first (Azure's default, and how
/// applications connect), then its non-TLS address while that port is open.
#[component]
fn EndpointRow(label: String, value: Option<EndpointAddress>, hint: &'static str) -> impl IntoView {
    let tls = value.as_ref().map(EndpointAddress::tls);
    let plain = value.as_ref().and_then(EndpointAddress::plain);
    let text = tls.clone().unwrap_or_else(|| "—".to_owned());
    view! {
        <div class="endpoint">
            <dt>
                {label.clone()}
                <span class="endpoint-hint">{hint}</span>
            </dt>
            <dd>
                <div class="endpoint-line">
                    <span class="endpoint-port" title="TLS port, checked against the server's local CA">
                        "TLS"
                    </span>
                    <code class="endpoint-value">{text}</code>
                    <CopyButton value=Signal::stored(tls) label=label.clone()/>
                </div>
                {plain
                    .map(|plain| {
                        let copy = Some(plain.clone());
                        view! {
                            <div class="endpoint-line">
                                <span class="endpoint-port" title="The non-TLS port, open while enableNonSslPort is true">
                                    "non-TLS"
                                </span>
                                <code class="endpoint-plain-value">{plain}</code>
                                <CopyButton
                                    value=Signal::stored(copy)
                                    label=format!("{label} without TLS")
                                />
                            </div>
                        }
                    })}
            </dd>
        </div>
    }
}

/// The endpoints of a pair; updates by itself after a failover.
#[component]
pub fn EndpointsPanel(#[prop(into)] link: Signal<LinkView>) -> impl IntoView {
    let app = use_app();
    let endpoints = Derived::new(move |_| link.with(|l| app.fleet.with(|f| Endpoints::of(l, f))));
    view! {
        <Card title="Endpoints" heading_id="endpoints-heading">
            <dl class="endpoints card-body">
                {move || {
                    let e = endpoints.get();
                    let geo = e
                        .geo_primary
                        .into_iter()
                        .map(|(name, addr)| {
                            view! {
                                <EndpointRow
                                    label=format!("Geo-primary URL ({name})")
                                    value=addr
                                    hint="Always points to the current geo-primary"
                                />
                            }
                        })
                        .collect_view();
                    view! {
                        {geo}
                        <EndpointRow
                            label=format!("Current geo-primary ({})", link.with(|l| l.primary.name.clone()))
                            value=e.current_primary
                            hint="Direct address; changes on failover"
                        />
                        <EndpointRow
                            label=format!("Current geo-secondary ({})", link.with(|l| l.secondary.name.clone()))
                            value=e.current_secondary
                            hint="Read-only; changes on failover"
                        />
                    }
                }}
            </dl>
        </Card>
    }
}
