//! A running drill as it happens: its status and steps, polled every
//! second, the writer's acknowledged writes and rate, the longest write
//! gap so far, and the link's own live figures (health, the data sync
//! offset between the sides, the lag) from its metrics.

use georep_core::metrics::GeoMetric;
use leptos::prelude::*;

use super::report::{ms, StepList};
use super::use_drills;
use super::wire::Drill;
use crate::components::card::Card;
use crate::components::reactive::{effect, fetched, Derived};
use crate::components::show::Show;
use crate::components::sparkline::format_value;
use crate::features::health::{latest, use_pair_metrics};
use crate::features::live::ticker::use_ticker;
use crate::numbers::fixed;
use crate::state::use_app;

/// How often a running drill is read again.
const POLL_MS: u32 = 1_000;
/// How often the link's metrics are read.
const METRICS_MS: u32 = 2_000;

/// Milliseconds since `drill` started, by the browser's clock (only for
/// the elapsed time shown; nothing is measured with it).
fn elapsed_ms(drill: &Drill) -> Option<f64> {
    let started = js_sys::Date::parse(drill.started_at.as_deref()?);
    let end = drill
        .finished_at
        .as_deref()
        .map(js_sys::Date::parse)
        .unwrap_or_else(js_sys::Date::now);
    (started.is_finite() && end.is_finite()).then(|| (end - started).max(0.0))
}

/// The writer's rate: the server's figure when it gives one, else its
/// acknowledged writes over the time elapsed.
pub fn writes_per_second(drill: &Drill) -> Option<f64> {
    let report = drill.report.as_ref()?;
    report.writes_per_second.or_else(|| {
        let acked = report.acked_writes? as f64;
        let secs = elapsed_ms(drill)? / 1000.0;
        (secs >= 1.0).then(|| acked / secs)
    })
}

/// One live figure.
#[component]
fn Figure(
    name: &'static str,
    label: &'static str,
    #[prop(into)] value: Signal<String>,
) -> impl IntoView {
    view! {
        <div class="kv" data-figure=name>
            <dt>{label}</dt>
            <dd>{move || value.get()}</dd>
        </div>
    }
}

/// The running drill, polled; and the link's live figures.
#[component]
pub fn LiveRunPanel() -> impl IntoView {
    let app = use_app();
    let ctx = use_drills();
    let tick = use_ticker(POLL_MS);
    let running_id = Derived::new(move |_| ctx.running().map(|d| d.id));
    let polled = fetched(move || {
        tick.track();
        let id = running_id.get();
        async move {
            match id {
                Some(id) => Some(app.observe(app.api().drill(&id).await)),
                None => None,
            }
        }
    });
    let poll_error = RwSignal::new(None::<String>);
    effect(move || match polled.get() {
        Some(Some(Ok(drill))) => {
            poll_error.set(None);
            if !drill.running() {
                // The roles may have swapped; the list has a new verdict.
                ctx.reload.update(|r| *r += 1);
                app.refresh();
            }
            if ctx.live.with_untracked(|l| l.as_ref() != Some(&drill)) {
                ctx.live.set(Some(drill));
            }
        }
        Some(Some(Err(e))) => poll_error.set(Some(e.to_string())),
        _ => {}
    });

    let primary = Signal::derive(move || ctx.link.with(|l| l.primary.clone()));
    let secondary = Signal::derive(move || ctx.link.with(|l| l.secondary.clone()));
    let metrics = use_pair_metrics(primary, secondary, METRICS_MS);
    let merged = RwSignal::new(Vec::new());
    effect(move || {
        if let Some(Ok(pair)) = metrics.get() {
            merged.set(pair.merged());
        }
    });
    let metric = move |m: GeoMetric| {
        Signal::derive(move || {
            merged
                .with(|s| latest(s, m))
                .map_or_else(|| "—".to_owned(), |v| format_value(m, v))
        })
    };

    // The drill on show here: the running one. One that just finished
    // leaves a line; its numbers are the report's.
    let drill = Derived::new(move |_| ctx.running());
    let ended = Derived::new(move |_| ctx.live.get().filter(|d| !d.running()));
    let report_field = move |f: fn(&Drill) -> Option<String>| {
        Signal::derive(move || {
            drill
                .with(|d| d.as_ref().and_then(f))
                .unwrap_or_else(|| "—".into())
        })
    };
    let acked = report_field(|d| d.report.as_ref()?.acked_writes.map(|n| n.to_string()));
    let rate = report_field(|d| writes_per_second(d).map(|r| format!("{} writes/s", fixed(r, 0))));
    let gap = report_field(|d| d.report.as_ref()?.rto_ms.map(ms));
    let elapsed = Signal::derive(move || {
        tick.track();
        drill
            .with(|d| d.as_ref().and_then(elapsed_ms))
            .map_or_else(|| "—".to_owned(), |e| format!("{} s", fixed(e / 1000.0, 0)))
    });
    let steps = Signal::derive(move || {
        drill.with(|d| {
            d.as_ref()
                .and_then(|d| d.report.as_ref())
                .map(|r| r.steps.clone())
                .unwrap_or_default()
        })
    });
    let status = move || {
        drill.with(|d| {
            d.as_ref().map(|d| {
                let class = format!("badge badge-{}", d.status.tone());
                view! {
                    <p class="drill-status" aria-live="polite">
                        <span class=class data-status=d.status.label()>{d.status.label()}</span>
                        " "
                        {format!("{} drill", d.kind.label())}
                    </p>
                }
            })
        })
    };
    view! {
        <Card title="Live" heading_id="drill-live-heading" class="drill-live">
            <div class="card-body">
                {move || match (drill.with(Option::is_some), ended.get()) {
                    (true, _) => status().into_any(),
                    (false, Some(d)) => {
                        view! {
                            <p class="muted">
                                {format!(
                                    "No drill is running. The last one {}; its report is below.",
                                    d.status.label().to_ascii_lowercase(),
                                )}
                            </p>
                        }
                            .into_any()
                    }
                    (false, None) => view! { <p class="muted">"No drill is running."</p> }.into_any(),
                }}
                <Show when=move || drill.with(Option::is_some)>
                    <dl class="drill-figures">
                        <Figure name="elapsed" label="Elapsed" value=elapsed/>
                        <Figure name="acked" label="Acknowledged writes" value=acked/>
                        <Figure name="rate" label="Writer rate" value=rate/>
                        <Figure name="gap" label="Longest write gap so far" value=gap/>
                    </dl>
                    <StepList steps=steps/>
                </Show>
                <h3 class="drill-subhead">"The link now"</h3>
                <dl class="drill-figures">
                    <Figure
                        name="healthy"
                        label="Health"
                        value=metric(GeoMetric::GeoReplicationHealthy)
                    />
                    <Figure
                        name="offset"
                        label="Data sync offset (the gap)"
                        value=metric(GeoMetric::GeoReplicationDataSyncOffset)
                    />
                    <Figure
                        name="lag"
                        label="Connectivity lag"
                        value=metric(GeoMetric::GeoReplicationConnectivityLag)
                    />
                </dl>
                {move || poll_error.get().map(|e| view! { <p class="muted">{e}</p> })}
            </div>
        </Card>
    }
}
