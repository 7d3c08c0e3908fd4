//! Small line charts of the geo-replication metrics.

use georep_core::arm::MetricsResponse;
use georep_core::metrics::{GeoMetric, Unit};
use leptos::prelude::*;

use crate::model::format_bytes;

/// One metric's recent values, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Which metric.
    pub metric: GeoMetric,
    /// Its values; missing points are skipped.
    pub values: Vec<f64>,
}

impl Series {
    /// The newest value.
    pub fn latest(&self) -> Option<f64> {
        self.values.last().copied()
    }
}

/// The geo-replication series in a metrics response.
pub fn series_of(response: &MetricsResponse) -> Vec<Series> {
    response
        .value
        .iter()
        .filter_map(|m| {
            let metric = GeoMetric::from_name(&m.name.value)?;
            let values = m
                .timeseries
                .iter()
                .flat_map(|t| &t.data)
                .filter_map(|p| p.maximum.or(p.average).or(p.total))
                .collect();
            Some(Series { metric, values })
        })
        .collect()
}

/// A metric value with its unit, for people.
pub fn format_value(metric: GeoMetric, value: f64) -> String {
    match (metric, metric.unit()) {
        (GeoMetric::GeoReplicationHealthy, _) => {
            if value >= 0.5 { "Healthy" } else { "Unhealthy" }.to_owned()
        }
        (_, Unit::Bytes) => format_bytes(value),
        (_, Unit::Seconds) => format!("{value:.0} s"),
        (_, Unit::Count) => format!("{value:.0}"),
    }
}

/// SVG points for `values` in a 100×30 box.
pub fn points(values: &[f64]) -> String {
    if values.is_empty() {
        return String::new();
    }
    let max = values.iter().copied().fold(f64::MIN, f64::max);
    let min = values.iter().copied().fold(f64::MAX, f64::min).min(0.0);
    let span = (max - min).max(1.0);
    let step = 100.0 / (values.len().max(2) - 1) as f64;
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "{:.1},{:.1}",
                i as f64 * step,
                28.0 - (v - min) / span * 26.0
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// One metric as a labelled sparkline with its latest value.
#[component]
pub fn Sparkline(#[prop(into)] series: Signal<Series>) -> impl IntoView {
    let metric = move || series.with(|s| s.metric);
    let latest = move || {
        series.with(|s| {
            s.latest()
                .map_or_else(|| "No data".to_owned(), |v| format_value(s.metric, v))
        })
    };
    let alarm = move || {
        series.with(|s| {
            s.metric == GeoMetric::GeoReplicationHealthy && s.latest().is_some_and(|v| v < 0.5)
        })
    };
    view! {
        <figure class="spark" class:alarm=alarm data-metric=move || metric().name()>
            <figcaption class="spark-title">{move || metric().display_name()}</figcaption>
            <svg class="spark-chart" viewBox="0 0 100 30" preserveAspectRatio="none" aria-hidden="true">
                <polyline points=move || series.with(|s| points(&s.values))></polyline>
            </svg>
            <span class="spark-value">{latest}</span>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn points_span_the_box() {
        assert_eq!(points(&[]), "");
        assert_eq!(points(&[0.0, 10.0]), "0.0,28.0 100.0,2.0");
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn values_carry_their_units() {
        assert_eq!(
            format_value(GeoMetric::GeoReplicationHealthy, 1.0),
            "Healthy"
        );
        assert_eq!(
            format_value(GeoMetric::GeoReplicationHealthy, 0.0),
            "Unhealthy"
        );
        assert_eq!(
            format_value(GeoMetric::GeoReplicationDataSyncOffset, 2048.0),
            "2.0 KB"
        );
        assert_eq!(
            format_value(GeoMetric::GeoReplicationConnectivityLag, 3.0),
            "3 s"
        );
    }
}
