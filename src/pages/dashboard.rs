//! `/dashboard`: every geo-replication link, with health from both sides,
//! refreshed live.

use crate::components::each::For;
use crate::regions;
use georep_core::metrics::GeoMetric;
use leptos::prelude::*;

use crate::components::card::Card;
use crate::components::reactive::Derived;
use crate::components::show::Show;
use crate::components::sparkline::SampleAge;
use crate::components::sparkline::{format_value, headline};
use crate::components::status::{HealthBadge, LinkBadge};
use crate::features::health::{latest, newest_sample, use_pair_metrics};
use crate::features::region_map::{in_region, use_map_data, Markers, RegionMap};
use crate::model::{Health, LinkView};
use crate::routes::{geo_href, overview_href};
use crate::state::use_app;

#[component]
fn LinkCard(link: LinkView) -> impl IntoView {
    let app = use_app();
    let key = link.key();
    let current = Derived::new(move |_| {
        app.fleet
            .with(|f| f.links().into_iter().find(|l| l.key() == key))
            .unwrap_or_else(|| link.clone())
    });
    let state = Signal::derive(move || current.with(|l| app.link_state(l)));
    let primary = Signal::derive(move || current.with(|l| l.primary.clone()));
    let secondary = Signal::derive(move || current.with(|l| l.secondary.clone()));
    let metrics = use_pair_metrics(primary, secondary, 5_000);
    let pair = move || metrics.get().and_then(Result::ok).unwrap_or_default();
    let value = move |metric: GeoMetric| {
        pair()
            .merged()
            .iter()
            .find(|s| s.metric == metric)
            .and_then(headline)
    };
    // Health as each side reports it: the link is unhealthy if either says so.
    let healthy_from = move |primary_side: bool| {
        let p = pair();
        let side = if primary_side {
            &p.primary
        } else {
            &p.secondary
        };
        latest(side, GeoMetric::GeoReplicationHealthy)
    };
    let health = Signal::derive(move || {
        let worst = [healthy_from(true), healthy_from(false)]
            .into_iter()
            .flatten()
            .reduce(f64::min);
        Health::of(state.get(), worst)
    });
    let shown = move |metric: GeoMetric| {
        value(metric).map_or_else(|| "—".to_owned(), |v| format_value(metric, v))
    };
    let shown_health = move |primary_side: bool| {
        healthy_from(primary_side).map_or_else(
            || "—".to_owned(),
            |v| format_value(GeoMetric::GeoReplicationHealthy, v),
        )
    };
    let side = move |primary_side: bool| {
        let (id, location) = current.with(|l| {
            if primary_side {
                (l.primary.clone(), l.primary_location.clone())
            } else {
                (l.secondary.clone(), l.secondary_location.clone())
            }
        });
        let state = app.fleet.with(|f| {
            f.get(&id).map_or_else(
                || "Unknown".to_owned(),
                |e| e.cache.provisioning_state.to_string(),
            )
        });
        view! {
            <div class="side">
                <span class="summary-role">{if primary_side { "Geo-primary" } else { "Geo-secondary" }}</span>
                <a class="summary-name" href=overview_href(&id)>{id.name.clone()}</a>
                <span class="muted">{regions::display_name(&location)} " · " {state}</span>
            </div>
        }
    };
    view! {
        <article class="card link-card" data-link=move || current.with(LinkView::key)>
            <header class="card-header">
                <h2>
                    // Each name kept whole: a narrow screen breaks the
                    // title at the arrow, never at a name's hyphen.
                    <a href=move || geo_href(&current.get().primary)>
                        <span class="link-name">{move || current.with(|l| l.primary.name.clone())}</span>
                        " ⇄ "
                        <span class="link-name">{move || current.with(|l| l.secondary.name.clone())}</span>
                    </a>
                </h2>
                <span class="badges">
                    <LinkBadge state=state/>
                    <HealthBadge health=health/>
                </span>
            </header>
            <div class="card-body link-card-body">
                <div class="sides">
                    {move || side(true)}
                    <span class="summary-arrow" aria-hidden="true">"→"</span>
                    {move || side(false)}
                </div>
                <dl class="figures">
                    <div class="kv"><dt>"Healthy, from the primary"</dt><dd>{move || shown_health(true)}</dd></div>
                    <div class="kv"><dt>"Healthy, from the secondary"</dt><dd>{move || shown_health(false)}</dd></div>
                    <div class="kv"><dt>"Connectivity lag"</dt><dd>{move || shown(GeoMetric::GeoReplicationConnectivityLag)}</dd></div>
                    <div class="kv"><dt>"Data sync offset"</dt><dd>{move || shown(GeoMetric::GeoReplicationDataSyncOffset)}</dd></div>
                    <div class="kv"><dt>"Full syncs started / finished"</dt><dd>{move || format!("{} / {}", shown(GeoMetric::GeoReplicationFullSyncEventStarted), shown(GeoMetric::GeoReplicationFullSyncEventFinished))}</dd></div>
                </dl>
                <p class="muted figures-age">
                    "Each figure is the latest sample (full syncs: the last 5 minutes), "
                    <SampleAge sampled_at=Signal::derive(move || newest_sample(&pair().merged()))/>
                    "."
                </p>
            </div>
        </article>
    }
}

/// The geo-replication dashboard.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let app = use_app();
    let region = RwSignal::new(None::<String>);
    let (markers, arcs) = use_map_data(Markers::LinkedCaches);
    let links = move || {
        let selected = region.get();
        app.fleet.with(|f| {
            f.links()
                .into_iter()
                .filter(|l| {
                    selected.is_none()
                        || in_region(selected.as_deref(), &l.primary_location)
                        || in_region(selected.as_deref(), &l.secondary_location)
                })
                .collect::<Vec<_>>()
        })
    };
    view! {
        <section class="page">
            <header class="page-header">
                <h1>"Geo-replication dashboard"</h1>
                <p class="page-subtitle">
                    "Every link, with health from both sides, live"
                </p>
            </header>
            <Card class="map-card">
                <RegionMap caches=markers links=arcs selected=region filters="links"/>
            </Card>
            <For each=links key=LinkView::key let(link)>
                <LinkCard link=link/>
            </For>
            <Show when=move || links().is_empty()>
                <div class="card empty-state">
                    <p class="empty-title">
                        {move || if region.with(Option::is_some) { "No links in this region" } else { "No geo-replication links" }}
                    </p>
                    <p class="muted">
                        "Open a Premium cache's Geo-replication page and select Add cache replication link."
                    </p>
                </div>
            </Show>
        </section>
    }
}
