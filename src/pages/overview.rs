//! A cache's Overview: essentials, its geo-replication status and role, and
//! the commands a link restricts (scale, delete), disabled with the reason
//! from `georep-core`.

use georep_core::arm::{RedisUpdateParameters, RedisUpdateProperties};
use georep_core::link::LinkState;
use georep_core::model::{ServerRole, Sku};
use georep_core::regions;
use georep_core::restrict::{check_change, Change};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;

use super::{geo_href, overview_href, CacheFrame, Tab};
use crate::components::dialog::Dialog;
use crate::components::guarded_button::GuardedButton;
use crate::components::status::{LinkBadge, SyncProgressBar};
use crate::model::CacheEntry;
use crate::state::use_app;

/// Why `change` is refused for this cache now, per `georep-core`.
pub fn refusal(entry: &CacheEntry, change: Change) -> Option<String> {
    check_change(&entry.cache, change)
        .err()
        .map(|r| r.to_string())
}

/// The cache's ports, as the portal lists them.
fn ports(p: &georep_core::arm::RedisProperties) -> String {
    match (p.ssl_port, p.enable_non_ssl_port || p.ssl_port == 0) {
        (0, _) => format!("{} (non-TLS)", p.port),
        (tls, true) => format!("{tls} (TLS), {} (non-TLS)", p.port),
        (tls, false) => format!("{tls} (TLS)"),
    }
}

#[component]
fn Essentials(entry: Memo<CacheEntry>) -> impl IntoView {
    let row = |label: &'static str, value: String| {
        view! {
            <div class="kv">
                <dt>{label}</dt>
                <dd>{value}</dd>
            </div>
        }
    };
    move || {
        let e = entry.get();
        let p = &e.resource.properties;
        let c = &e.cache;
        view! {
            <dl class="essentials">
                {row("Status", c.provisioning_state.to_string())}
                {row("Location", regions::display_name(&c.location))}
                {row("Pricing tier", c.sku.to_string())}
                {row("Redis version", c.redis_version.clone())}
                {row("Host name", p.host_name.clone())}
                {row("Ports", ports(p))}
                {row("Shards", if c.is_clustered() { c.shard_count.to_string() } else { "Not clustered".to_owned() })}
                {row("Replicas per primary", c.replicas_per_primary.to_string())}
                {row("Subscription", c.id.subscription.clone())}
                {row("Resource group", c.id.resource_group.clone())}
            </dl>
        }
    }
}

#[component]
fn GeoStatus(entry: Memo<CacheEntry>) -> impl IntoView {
    let app = use_app();
    let link = Memo::new(move |_| entry.with(|e| app.fleet.with(|f| f.link_of(e.id()))));
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

#[component]
fn ScaleDialog(entry: Memo<CacheEntry>, open: RwSignal<bool>) -> impl IntoView {
    let app = use_app();
    let capacity = RwSignal::new(entry.with_untracked(|e| e.cache.sku.capacity));
    let apply = move |_| {
        let (id, mut sku) = entry.with_untracked(|e| (e.id().clone(), e.cache.sku));
        sku.capacity = capacity.get_untracked();
        open.set(false);
        spawn_local(async move {
            let update = RedisUpdateParameters {
                properties: Some(RedisUpdateProperties {
                    sku: Some(sku),
                    ..RedisUpdateProperties::default()
                }),
                ..RedisUpdateParameters::default()
            };
            match app.observe(app.api().update_cache(&id, &update).await) {
                Ok(_) => {
                    app.refresh();
                    app.tell(false, format!("Scaling {} to {sku}.", id.name));
                }
                Err(e) => app.tell(true, e.to_string()),
            }
        });
    };
    view! {
        <Dialog open=open title="Scale">
            <label class="field">
                <span>"New size"</span>
                <select on:change=move |ev| {
                    if let Ok(c) = event_target_value(&ev).parse() {
                        capacity.set(c);
                    }
                }>
                    {(1..=5u8)
                        .map(|c| {
                            let sku = Sku::premium(c);
                            let mb = sku.memory_mb().unwrap_or_default();
                            view! {
                                <option value=c.to_string() selected=move || capacity.get() == c>
                                    {format!("{sku} ({:.0} GB)", f64::from(mb) / 1024.0)}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <div class="actions">
                <button type="button" class="btn" on:click=move |_| open.set(false)>"Cancel"</button>
                <button type="button" class="btn btn-primary" on:click=apply>"Scale"</button>
            </div>
        </Dialog>
    }
}

#[component]
fn DeleteDialog(entry: Memo<CacheEntry>, open: RwSignal<bool>) -> impl IntoView {
    let app = use_app();
    let navigate = use_navigate();
    let confirm = move |_| {
        let id = entry.with_untracked(|e| e.id().clone());
        open.set(false);
        let navigate = navigate.clone();
        spawn_local(async move {
            match app.observe(app.api().delete_cache(&id).await) {
                Ok(()) => {
                    app.refresh();
                    app.tell(false, format!("Deleting {}.", id.name));
                    navigate("/", NavigateOptions::default());
                }
                Err(e) => app.tell(true, e.to_string()),
            }
        });
    };
    view! {
        <Dialog open=open title="Delete cache">
            <p>
                "Delete " <strong>{move || entry.with(|e| e.name().to_owned())}</strong>
                " and all its data? This can't be undone."
            </p>
            <div class="actions">
                <button type="button" class="btn" on:click=move |_| open.set(false)>"Cancel"</button>
                <button type="button" class="btn btn-danger" on:click=confirm.clone()>"Delete"</button>
            </div>
        </Dialog>
    }
}

/// A text field bound to a signal.
#[component]
fn TextField(label: &'static str, value: RwSignal<String>, hint: &'static str) -> impl IntoView {
    view! {
        <label class="field">
            <span>{label}</span>
            <input
                type="text"
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
            <span class="muted field-hint">{hint}</span>
        </label>
    }
}

/// Runs a cache data operation (export or import) and reports its outcome.
fn run_data_operation<F>(app: crate::state::AppState, done: String, operation: F)
where
    F: std::future::Future<Output = Result<(), crate::api::ApiError>> + 'static,
{
    spawn_local(async move {
        match app.observe(operation.await) {
            Ok(()) => {
                app.refresh();
                app.tell(false, done);
            }
            Err(e) => app.tell(true, e.to_string()),
        }
    });
}

#[component]
fn ExportDialog(entry: Memo<CacheEntry>, open: RwSignal<bool>) -> impl IntoView {
    let app = use_app();
    let prefix = RwSignal::new("backup".to_owned());
    let container = RwSignal::new("exports".to_owned());
    let apply = move |_| {
        let id = entry.with_untracked(|e| e.id().clone());
        let params = georep_core::arm::ExportParameters {
            prefix: prefix.get_untracked(),
            container: container.get_untracked(),
            format: Some("RDB".to_owned()),
        };
        open.set(false);
        let done = format!(
            "Exporting {} to {}/{}.",
            id.name, params.container, params.prefix
        );
        run_data_operation(
            app,
            done,
            async move { app.api().export(&id, &params).await },
        );
    };
    view! {
        <Dialog open=open title="Export data">
            <TextField label="Container" value=container hint="A folder under the server's exports"/>
            <TextField label="File name prefix" value=prefix hint="One RDB file per shard"/>
            <div class="actions">
                <button type="button" class="btn" on:click=move |_| open.set(false)>"Cancel"</button>
                <button type="button" class="btn btn-primary" on:click=apply>"Export"</button>
            </div>
        </Dialog>
    }
}

#[component]
fn ImportDialog(entry: Memo<CacheEntry>, open: RwSignal<bool>) -> impl IntoView {
    let app = use_app();
    let files = RwSignal::new("exports/backup.rdb".to_owned());
    let apply = move |_| {
        let id = entry.with_untracked(|e| e.id().clone());
        let params = georep_core::arm::ImportParameters {
            files: files
                .get_untracked()
                .split(',')
                .map(|f| f.trim().to_owned())
                .filter(|f| !f.is_empty())
                .collect(),
            format: Some("RDB".to_owned()),
        };
        open.set(false);
        let done = format!("Importing into {}.", id.name);
        run_data_operation(
            app,
            done,
            async move { app.api().import(&id, &params).await },
        );
    };
    view! {
        <Dialog open=open title="Import data">
            <TextField label="Files" value=files hint="Paths an export wrote, comma-separated, one per shard"/>
            <p class="muted">"Importing replaces the cache's data."</p>
            <div class="actions">
                <button type="button" class="btn" on:click=move |_| open.set(false)>"Cancel"</button>
                <button type="button" class="btn btn-primary" on:click=apply>"Import"</button>
            </div>
        </Dialog>
    }
}

/// The overview body for a loaded cache.
#[component]
pub fn Overview(entry: Memo<CacheEntry>) -> impl IntoView {
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
            <section class="card" aria-labelledby="essentials-heading">
                <header class="card-header"><h2 id="essentials-heading">"Essentials"</h2></header>
                <div class="card-body"><Essentials entry=entry/></div>
            </section>
            <section class="card" aria-labelledby="geo-status-heading">
                <header class="card-header"><h2 id="geo-status-heading">"Geo-replication"</h2></header>
                <div class="card-body"><GeoStatus entry=entry/></div>
            </section>
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
