//! Small line charts of the geo-replication metrics.

use georep_core::arm::MetricsResponse;
use georep_core::metrics::{GeoMetric, Unit};
use leptos::prelude::*;

use crate::model::format_bytes;
use crate::numbers::fixed;

/// One metric's recent values, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Which metric.
    pub metric: GeoMetric,
    /// Its values; missing points are skipped.
    pub values: Vec<f64>,
    /// When the newest value was sampled, in ms since the epoch on the
    /// browser's clock (the server's age of it, subtracted from the time it
    /// arrived, so a skewed clock doesn't matter).
    pub sampled_at: Option<f64>,
}

impl Series {
    /// An empty series of `metric`.
    pub fn empty(metric: GeoMetric) -> Self {
        Series {
            metric,
            values: Vec::new(),
            sampled_at: None,
        }
    }

    /// The newest value.
    pub fn latest(&self) -> Option<f64> {
        self.values.last().copied()
    }
}

/// Milliseconds since the epoch of an RFC 3339 UTC time
/// (`2026-12-01T10:44:10.5Z`), if it is one.
pub fn rfc3339_ms(text: &str) -> Option<f64> {
    let text = text.strip_suffix('Z')?;
    let (date, time) = text.split_once('T')?;
    let mut date = date.split('-').map(str::parse::<i64>);
    let (y, m, d) = (date.next()?.ok()?, date.next()?.ok()?, date.next()?.ok()?);
    let mut time = time.split(':');
    let (h, min) = (
        time.next()?.parse::<i64>().ok()?,
        time.next()?.parse::<i64>().ok()?,
    );
    let sec = seconds(time.next()?)?;
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + h * 3_600 + min * 60) as f64 + sec) * 1_000.0)
}

/// RFC 3339's seconds, with or without a fraction (`10`, `10.5`). Read
/// as two integers: the float parser and its 10 kB table of powers of five
/// would be there for this alone (README, console size notes).
fn seconds(text: &str) -> Option<f64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) {
        return None;
    }
    // Beyond 15 digits an f64 holds no more of the fraction.
    let fraction = &fraction[..fraction.len().min(15)];
    let part = if fraction.is_empty() {
        0.0
    } else {
        fraction.parse::<u64>().ok()? as f64 / 10f64.powi(fraction.len() as i32)
    };
    Some(whole.parse::<u64>().ok()? as f64 + part)
}

/// The geo-replication series in a metrics response that arrived at
/// `now_ms` (browser clock). A point's value is its mean (one sample, at
/// the sampler's one-second resolution), else its largest sample; for
/// event counts, its total (two samples can fall in one second).
pub fn series_of(response: &MetricsResponse, now_ms: f64) -> Vec<Series> {
    // The timespan ends at the server's "now": ages are counted from it.
    let end = response
        .timespan
        .split_once('/')
        .and_then(|(_, end)| rfc3339_ms(end));
    response
        .value
        .iter()
        .filter_map(|m| {
            let metric = GeoMetric::from_name(&m.name.value)?;
            let mut newest = None;
            let values = m
                .timeseries
                .iter()
                .flat_map(|t| &t.data)
                .filter_map(|p| {
                    let value = if counts_events(metric) {
                        p.total.or(p.average)?
                    } else {
                        p.average.or(p.maximum).or(p.total)?
                    };
                    newest = Some(&p.time_stamp);
                    Some(value)
                })
                .collect();
            let sampled_at = newest
                .and_then(|t| rfc3339_ms(t))
                .zip(end)
                .map(|(at, end)| now_ms - (end - at).max(0.0));
            Some(Series {
                metric,
                values,
                sampled_at,
            })
        })
        .collect()
}

/// How long ago something was, for people: `just now`, `4 s ago`,
/// `3 min ago`.
pub fn age_text(age_ms: f64) -> String {
    let seconds = (age_ms / 1_000.0).round().max(0.0);
    if seconds < 1.0 {
        "just now".to_owned()
    } else if seconds < 120.0 {
        format!("{} s ago", fixed(seconds, 0))
    } else {
        format!("{} min ago", fixed((seconds / 60.0).floor(), 0))
    }
}

/// "measured 3 s ago" for a sample taken at `sampled_at` (see
/// [`Series::sampled_at`]), kept current every second.
#[component]
pub fn SampleAge(#[prop(into)] sampled_at: Signal<Option<f64>>) -> impl IntoView {
    let tick = crate::features::live::ticker::use_ticker(1_000);
    let text = move || {
        tick.track();
        sampled_at
            .get()
            .map(|at| format!("measured {}", age_text(js_sys::Date::now() - at)))
    };
    view! { <span class="sample-age">{text}</span> }
}

/// Whether `metric` counts events per sample (full syncs started or
/// finished), so that its figure is the sum over the window, not the
/// newest sample.
pub fn counts_events(metric: GeoMetric) -> bool {
    matches!(
        metric,
        GeoMetric::GeoReplicationFullSyncEventStarted
            | GeoMetric::GeoReplicationFullSyncEventFinished
    )
}

/// The figure a series stands for: the newest sample, or for event counts
/// their sum over the series.
pub fn headline(series: &Series) -> Option<f64> {
    if counts_events(series.metric) {
        (!series.values.is_empty()).then(|| series.values.iter().sum())
    } else {
        series.latest()
    }
}

/// A metric value with its unit, for people.
pub fn format_value(metric: GeoMetric, value: f64) -> String {
    match (metric, metric.unit()) {
        (GeoMetric::GeoReplicationHealthy, _) => {
            if value >= 0.5 { "Healthy" } else { "Unhealthy" }.to_owned()
        }
        (_, Unit::Bytes) => format_bytes(value),
        (_, Unit::Seconds) => format!("{} s", fixed(value, 0)),
        (_, Unit::Count) => fixed(value, 0),
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
                "{},{}",
                fixed(i as f64 * step, 1),
                fixed(28.0 - (v - min) / span * 26.0, 1)
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
        series.with(|s| match headline(s) {
            None => "No data".to_owned(),
            Some(v) if counts_events(s.metric) => format!("{} in 5 min", fixed(v, 0)),
            Some(v) => format_value(s.metric, v),
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
            <SampleAge sampled_at=Signal::derive(move || series.with(|s| s.sampled_at))/>
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
    fn rfc3339_times_read_to_the_millisecond() {
        assert_eq!(rfc3339_ms("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(
            rfc3339_ms("2026-12-01T10:44:10.5Z"),
            Some(1_796_121_850_500.0)
        );
        assert_eq!(rfc3339_ms("2000-03-01T00:00:01Z"), Some(951_868_801_000.0));
        assert_eq!(rfc3339_ms("yesterday"), None);
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn a_gauge_reads_its_newest_sample_and_events_their_sum() {
        let series = |metric, values: &[f64]| Series {
            metric,
            values: values.to_vec(),
            sampled_at: None,
        };
        let offset = series(GeoMetric::GeoReplicationDataSyncOffset, &[48e6, 0.0]);
        assert_eq!(headline(&offset), Some(0.0));
        let syncs = series(
            GeoMetric::GeoReplicationFullSyncEventStarted,
            &[0.0, 1.0, 0.0],
        );
        assert_eq!(headline(&syncs), Some(1.0));
        assert_eq!(
            headline(&series(GeoMetric::GeoReplicationFullSyncEventFinished, &[])),
            None
        );
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn ages_read_like_people_say_them() {
        assert_eq!(age_text(200.0), "just now");
        assert_eq!(age_text(2_400.0), "2 s ago");
        assert_eq!(age_text(-50.0), "just now");
        assert_eq!(age_text(185_000.0), "3 min ago");
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
