//! `/caches/:sub/:rg/:name`: a cache's Overview: essentials, its
//! geo-replication status and role, its address and nodes, and the commands
//! a link restricts (scale, delete, import), disabled with the reason from
//! `georep-core`.

use crate::regions;
use georep_core::link::LinkState;
use georep_core::model::ServerRole;
use georep_core::restrict::Change;
use leptos::prelude::*;

use super::{CacheFrame, Tab};
use crate::components::card::Card;
use crate::components::guarded_button::GuardedButton;
use crate::components::reactive::Derived;
use crate::components::show::Show;
use crate::components::status::{LinkBadge, SyncProgressBar};
use crate::features::cache_commands::{
    refusal, DeleteDialog, ExportDialog, ImportDialog, ScaleDialog,
};
use crate::features::nodes::NodesPanel;
use crate::features::primary_lost::primary_lost_summary;
use crate::model::CacheEntry;
use crate::routes::{geo_href, overview_href};
use crate::state::use_app;

/// The cache's TLS, as the portal would say it.
fn tls(p: &georep_core::arm::RedisProperties) -> String {
    match p.ssl_port {
        0 => "Not offered locally".to_owned(),
        port => format!("Port {port}"),
    }
}

/// One pair of the essentials: a label and its value.
fn row(label: &'static str, value: impl IntoView + 'static) -> impl IntoView {
    view! {
        <div class="kv">
            <dt>{label}</dt>
            <dd>{value}</dd>
        </div>
    }
}

#[component]
fn Essentials(entry: Derived<CacheEntry>) -> impl IntoView {
    move || {
        let e = entry.get();
        let p = &e.resource.properties;
        let c = &e.cache;
        view! {
            <dl class="essentials">
                {row("Status", c.provisioning_state.to_string())}
                {row("Location", regions::display_name(&c.location))}
                {row("Pricing tier", c.sku.to_string())}
                // The version is a setting that the link rules compare;
                // every node runs the one local binary.
                {row("Redis version", view! {
                    {c.redis_version.clone()}
                    <span class="kv-note">
                        "Compared when linking; the nodes run this machine's "
                        <span class="program">"redis-server"</span>
                        "."
                    </span>
                })}
                {row("TLS", tls(p))}
                {row("Shards", if c.is_clustered() { c.shard_count.to_string() } else { "Not clustered".to_owned() })}
                {row("Replicas per primary", c.replicas_per_primary.to_string())}
                {row("Subscription", c.id.subscription.clone())}
                {row("Resource group", c.id.resource_group.clone())}
            </dl>
        }
    }
}

#[component]
fn GeoStatus(entry: Derived<CacheEntry>) -> impl IntoView {
    let app = use_app();
    let link = Derived::new(move |_| entry.with(|e| app.fleet.with(|f| f.link_of(e.id()))));
    move || {
        let e = entry.get();
        match (e.role(), link.get()) {
            (Some(role), Some(l)) => {
                let peer = if role == ServerRole::Primary {
                    l.secondary.clone()
                } else {
                    l.primary.clone()
                };
                let state = Signal::derive(move || {
                    link.with(|l| {
                        l.as_ref()
                            .map_or(LinkState::Unlinked, |l| app.link_state(l))
                    })
                });
                let progress =
                    Signal::derive(move || link.with(|l| l.as_ref().and_then(|l| l.progress)));
                view! {
                    <dl class="essentials">
                        <div class="kv">
                            <dt>"Geo-replication role"</dt>
                            <dd class="role">
                                {if role == ServerRole::Primary { "Geo-primary (read-write)" } else { "Geo-secondary (read-only)" }}
                            </dd>
                        </div>
                        <div class="kv">
                            <dt>"Linked cache"</dt>
                            <dd><a href=overview_href(&peer)>{peer.name.clone()}</a></dd>
                        </div>
                        <div class="kv">
                            <dt>"Link provisioning status"</dt>
                            <dd><LinkBadge state=state/></dd>
                        </div>
                    </dl>
                    <Show when=move || state.get() == LinkState::Linking>
                        <SyncProgressBar progress=progress/>
                    </Show>
                    <Show when=move || state.get() == LinkState::PrimaryLost>
                        <p class="primary-lost-note" role="status">
                            {move || link.with(|l| l.as_ref().map(primary_lost_summary))}
                            " "
                            <a href=move || geo_href(&entry.with(|e| e.id().clone()))>
                                "Fail over (forced) or unlink on the Geo-replication page."
                            </a>
                        </p>
                    </Show>
                }
                .into_any()
            }
            _ => view! {
                <p class="muted">
                    "Not geo-replicated. "
                    <a href=geo_href(e.id())>"Add a geo-replication link"</a>
                </p>
            }
            .into_any(),
        }
    }
}

/// The overview body for a loaded cache.
#[component]
pub fn Overview(entry: Derived<CacheEntry>) -> impl IntoView {
    let scale_open = RwSignal::new(false);
    let delete_open = RwSignal::new(false);
    let scale_refused = Signal::derive(move || {
        entry.with(|e| {
            refusal(e, Change::Scale).or_else(|| {
                (e.cache.sku.name != georep_core::SkuName::Premium)
                    .then(|| "Only Premium caches can be scaled here.".to_owned())
            })
        })
    });
    let delete_refused = Signal::derive(move || entry.with(|e| refusal(e, Change::Delete)));
    let import_refused = Signal::derive(move || entry.with(|e| refusal(e, Change::Import)));
    let export_refused = Signal::derive(move || entry.with(|e| refusal(e, Change::Export)));
    let import_open = RwSignal::new(false);
    let export_open = RwSignal::new(false);
    view! {
        <div class="command-bar" role="toolbar" aria-label="Cache commands">
            <GuardedButton
                label="Scale"
                refusal=scale_refused
                on_click=Callback::new(move |()| scale_open.set(true))
            />
            <GuardedButton
                label="Import"
                refusal=import_refused
                on_click=Callback::new(move |()| import_open.set(true))
            />
            <GuardedButton
                label="Export"
                refusal=export_refused
                on_click=Callback::new(move |()| export_open.set(true))
            />
            <GuardedButton
                label="Delete"
                refusal=delete_refused
                on_click=Callback::new(move |()| delete_open.set(true))
            />
        </div>
        <div class="columns">
            <Card title="Essentials" heading_id="essentials-heading">
                <div class="card-body"><Essentials entry=entry/></div>
            </Card>
            <div class="column-stack">
                <Card title="Geo-replication" heading_id="geo-status-heading">
                    <div class="card-body"><GeoStatus entry=entry/></div>
                </Card>
                <NodesPanel entry=entry/>
            </div>
        </div>
        <ScaleDialog entry=entry open=scale_open/>
        <DeleteDialog entry=entry open=delete_open/>
        <ImportDialog entry=entry open=import_open/>
        <ExportDialog entry=entry open=export_open/>
    }
}

/// `/caches/:sub/:rg/:name`.
#[component]
pub fn OverviewPage() -> impl IntoView {
    view! {
        <CacheFrame
            tab=Tab::Overview
            children=Box::new(|entry| view! { <Overview entry=entry/> }.into_any())
        />
    }
}
