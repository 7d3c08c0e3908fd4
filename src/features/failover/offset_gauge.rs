//! The live data sync offset, with the "fewer than 14 bytes" rule of
//! Azure's passive geo-replication guide.

use georep_core::failover::{offset_is_safe, SAFE_OFFSET_BYTES};
use georep_core::metrics::GeoMetric;
use georep_core::CacheId;
use leptos::prelude::*;

use crate::components::reactive::effect;
use crate::components::sparkline::SampleAge;
use crate::features::health::{use_pair_metrics_in, Window};
use crate::model::format_bytes;

/// The offset between a pair's caches: the server's latest sample (taken
/// every second), fetched every second, with how old it is.
#[component]
pub fn OffsetGauge(
    #[prop(into)] primary: Signal<CacheId>,
    #[prop(into)] secondary: Signal<CacheId>,
) -> impl IntoView {
    let metrics = use_pair_metrics_in(primary, secondary, 1_000, Window::Latest);
    let offset = RwSignal::new(None::<f64>);
    let sampled_at = RwSignal::new(None::<f64>);
    effect(move || {
        if let Some(Ok(pair)) = metrics.get() {
            let series = pair
                .merged()
                .into_iter()
                .find(|s| s.metric == GeoMetric::GeoReplicationDataSyncOffset);
            offset.set(series.as_ref().and_then(|s| s.latest()));
            sampled_at.set(series.and_then(|s| s.sampled_at));
        }
    });
    let ready = move || offset.get().map(|o| offset_is_safe(o.max(0.0) as u64));
    view! {
        <div
            class="offset"
            class:ready=move || ready() == Some(true)
            class:not-ready=move || ready() == Some(false)
            role="status"
        >
            <span class="offset-label">"Geo Replication Data Sync Offset"</span>
            <strong class="offset-value">
                {move || offset.get().map_or_else(|| "measuring…".to_owned(), format_bytes)}
            </strong>
            <SampleAge sampled_at=sampled_at/>
            <span class="offset-verdict">
                {move || match ready() {
                    Some(true) => format!("Ready: fewer than {SAFE_OFFSET_BYTES} bytes remain to replicate."),
                    Some(false) => format!("Not ready: wait until fewer than {SAFE_OFFSET_BYTES} bytes remain, or data written meanwhile may be lost."),
                    None => "Waiting for the first sample.".to_owned(),
                }}
            </span>
        </div>
    }
}
