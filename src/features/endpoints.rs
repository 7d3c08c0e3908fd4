//! The endpoints panel: each cache's geo-primary URL, the current
//! geo-primary and the current geo-secondary, each with a copy button.

use leptos::prelude::*;

use crate::components::card::Card;
use crate::components::copy_button::CopyButton;
use crate::model::{Endpoints, LinkView};
use crate::state::use_app;

#[component]
fn EndpointRow(label: String, value: Option<String>, hint: &'static str) -> impl IntoView {
    let text = value.clone().unwrap_or_else(|| "—".to_owned());
    view! {
        <div class="endpoint">
            <dt>
                {label.clone()}
                <span class="endpoint-hint">{hint}</span>
            </dt>
            <dd>
                <code class="endpoint-value">{text}</code>
                <CopyButton value=Signal::stored(value) label=label.clone()/>
            </dd>
        </div>
    }
}

/// The endpoints of a pair; updates by itself after a failover.
#[component]
pub fn EndpointsPanel(#[prop(into)] link: Signal<LinkView>) -> impl IntoView {
    let app = use_app();
    let endpoints = Memo::new(move |_| link.with(|l| app.fleet.with(|f| Endpoints::of(l, f))));
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
