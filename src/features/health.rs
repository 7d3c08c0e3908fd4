//! The health of a link: the five geo-replication metrics as sparklines,
//! refreshed live.

use georep_core::metrics::GeoMetric;
use georep_core::CacheId;
use leptos::prelude::*;

use super::live::ticker::use_ticker;
use crate::api::{Api, ApiError};
use crate::components::card::Card;
use crate::components::reactive::{effect, fetched};
use crate::components::sparkline::{series_of, Series, Sparkline};

/// How many minutes of history the sparklines show.
const WINDOW_MINUTES: u32 = 5;

/// Which metrics a view asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The sparklines' last [`WINDOW_MINUTES`], a point a second: every
    /// sample the server took, so the newest is current.
    History,
    /// The last minute at the sampler's own resolution, a point a second:
    /// the newest point is the latest sample, not a maximum over a window.
    Latest,
}

impl Window {
    /// Azure Monitor's `timespan`, `interval` and `aggregation`.
    fn query(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Window::History => ("PT5M", "PT1S", "Average,Total"),
            Window::Latest => ("PT1M", "PT1S", "Average"),
        }
    }
}

/// The geo-replication metrics of both caches of a pair.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PairMetrics {
    /// As the geo-primary reports them.
    pub primary: Vec<Series>,
    /// As the geo-secondary reports them.
    pub secondary: Vec<Series>,
}

impl PairMetrics {
    /// Each metric from whichever cache emits it (some come from the
    /// primary, some from the secondary, as in the portal's Geo-Replication
    /// Dashboard): the side with more data points.
    pub fn merged(&self) -> Vec<Series> {
        GeoMetric::ALL
            .iter()
            .map(|&metric| {
                let pick = |list: &[Series]| list.iter().find(|s| s.metric == metric).cloned();
                match (pick(&self.primary), pick(&self.secondary)) {
                    (Some(x), Some(y)) if y.values.len() > x.values.len() => y,
                    (Some(x), _) | (None, Some(x)) => x,
                    (None, None) => Series::empty(metric),
                }
            })
            .collect()
    }
}

/// Both caches' metrics; one side failing still gives the other.
pub async fn pair_metrics(
    api: &Api,
    primary: &CacheId,
    secondary: &CacheId,
    window: Window,
) -> Result<PairMetrics, ApiError> {
    let (timespan, interval, aggregations) = window.query();
    let (a, b) = futures::join!(
        api.geo_metrics(primary, timespan, interval, aggregations),
        api.geo_metrics(secondary, timespan, interval, aggregations)
    );
    let now = js_sys::Date::now();
    let series = |r: &Result<_, ApiError>| {
        r.as_ref()
            .map(|response| series_of(response, now))
            .unwrap_or_default()
    };
    match (&a, &b) {
        (Err(e), Err(_)) => Err(e.clone()),
        _ => Ok(PairMetrics {
            primary: series(&a),
            secondary: series(&b),
        }),
    }
}

/// The latest value of `metric` in `series`.
pub fn latest(series: &[Series], metric: GeoMetric) -> Option<f64> {
    series
        .iter()
        .find(|s| s.metric == metric)
        .and_then(Series::latest)
}

/// When the newest sample of any of `series` was taken (see
/// [`Series::sampled_at`]).
pub fn newest_sample(series: &[Series]) -> Option<f64> {
    series.iter().filter_map(|s| s.sampled_at).reduce(f64::max)
}

/// The sparklines' metrics of a pair ([`Window::History`]), refetched
/// every `period_ms`.
pub fn use_pair_metrics(
    primary: Signal<CacheId>,
    secondary: Signal<CacheId>,
    period_ms: u32,
) -> ReadSignal<Option<Result<PairMetrics, ApiError>>> {
    use_pair_metrics_in(primary, secondary, period_ms, Window::History)
}

/// Live metrics of a pair in `window`, refetched every `period_ms`.
pub fn use_pair_metrics_in(
    primary: Signal<CacheId>,
    secondary: Signal<CacheId>,
    period_ms: u32,
    window: Window,
) -> ReadSignal<Option<Result<PairMetrics, ApiError>>> {
    let app = crate::state::use_app();
    let tick = use_ticker(period_ms);
    fetched(move || {
        tick.track();
        app.metrics_epoch.track();
        let (p, s) = (primary.get(), secondary.get());
        async move { pair_metrics(&app.api(), &p, &s, window).await }
    })
}

/// The sparklines of a pair.
#[component]
pub fn HealthPanel(
    #[prop(into)] primary: Signal<CacheId>,
    #[prop(into)] secondary: Signal<CacheId>,
) -> impl IntoView {
    let metrics = use_pair_metrics(primary, secondary, 5_000);
    // Keep the last good data while refetching, so charts don't flicker.
    let last = RwSignal::new(None::<Vec<Series>>);
    let error = RwSignal::new(None::<String>);
    effect(move || match metrics.get() {
        Some(Ok(pair)) => {
            last.set(Some(pair.merged()));
            error.set(None);
        }
        Some(Err(e)) => error.set(Some(e.to_string())),
        None => {}
    });
    view! {
        <Card
            title="Health"
            heading_id="health-heading"
            note=Signal::stored(format!("Last {WINDOW_MINUTES} minutes, live"))
        >
            <div class="card-body">
                {move || {
                    error
                        .get()
                        .map(|e| {
                            view! {
                                <p class="muted metrics-error">
                                    "Metrics are unavailable right now: " {e}
                                </p>
                            }
                        })
                }}
                <div class="sparks">
                    {move || {
                        last.get()
                            .unwrap_or_else(|| {
                                GeoMetric::ALL
                                    .iter()
                                    .map(|&metric| Series::empty(metric))
                                    .collect()
                            })
                            .into_iter()
                            .map(|s| view! { <Sparkline series=s/> })
                            .collect_view()
                    }}
                </div>
            </div>
        </Card>
    }
}
