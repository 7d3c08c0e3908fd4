//! A drill's report: the recovery time (the longest time without an
//! acknowledged write), the recovery point (acknowledged writes missing at
//! the end), what the failover reported it might lose, whether the old
//! primary resynced partially, the verification, and each step.

use leptos::prelude::*;

use super::use_drills;
use super::wire::{Drill, DrillReport, DrillStep, Verification};
use crate::components::card::Card;
use crate::components::reactive::Derived;
use crate::model::{format_bytes, format_time};

/// Milliseconds for people, exact: `742 ms`.
pub fn ms(value: u64) -> String {
    format!("{value} ms")
}

/// The recovery point: acknowledged writes lost, of how many: `0 of 1200`.
pub fn rpo_text(report: &DrillReport) -> String {
    match (report.lost_writes, report.acked_writes) {
        (Some(lost), Some(acked)) => format!("{lost} of {acked}"),
        (Some(lost), None) => lost.to_string(),
        _ => "—".to_owned(),
    }
}

/// A drill's steps, in order, each with its time since the start.
#[component]
pub fn StepList(#[prop(into)] steps: Signal<Vec<DrillStep>>) -> impl IntoView {
    view! {
        <ol class="drill-steps" aria-live="polite">
            {move || {
                steps
                    .get()
                    .into_iter()
                    .map(|s| {
                        view! {
                            <li class="drill-step">
                                <span class="drill-step-at">{format!("+{}", ms(s.at_ms))}</span>
                                <span class="drill-step-name">{s.name}</span>
                            </li>
                        }
                    })
                    .collect_view()
            }}
        </ol>
    }
}

/// Whether both sides matched, the key counts, and each mismatch.
#[component]
pub fn VerificationResult(verification: Verification) -> impl IntoView {
    let v = verification;
    let (class, verdict) = if v.consistent {
        ("badge badge-healthy", "Consistent".to_owned())
    } else {
        (
            "badge badge-unhealthy",
            format!("Inconsistent: {} keys differ", v.mismatches.len()),
        )
    };
    let compared = if v.sampled {
        format!("{} keys compared (a sample)", v.compared)
    } else {
        format!("{} keys compared (every key)", v.compared)
    };
    let mismatches = (!v.mismatches.is_empty()).then(|| {
        view! {
            <details class="mismatches" open>
                <summary>{format!("Keys that differ ({})", v.mismatches.len())}</summary>
                <ul class="mismatch-list">
                    {v
                        .mismatches
                        .iter()
                        .map(|k| view! { <li class="mono mismatch">{k.clone()}</li> })
                        .collect_view()}
                </ul>
            </details>
        }
    });
    view! {
        <div class="verification" data-consistent=v.consistent.to_string()>
            <p class="verification-verdict">
                <span class=class>{verdict}</span>
            </p>
            <dl class="drill-figures">
                <div class="kv" data-figure="keys-primary">
                    <dt>"Keys on the geo-primary"</dt>
                    <dd>{v.keys_primary}</dd>
                </div>
                <div class="kv" data-figure="keys-secondary">
                    <dt>"Keys on the geo-secondary"</dt>
                    <dd>{v.keys_secondary}</dd>
                </div>
                <div class="kv" data-figure="compared">
                    <dt>"Compared"</dt>
                    <dd>{compared}</dd>
                </div>
            </dl>
            {mismatches}
        </div>
    }
}

/// One number of the report.
#[component]
fn Number(
    name: &'static str,
    label: &'static str,
    value: String,
    #[prop(into)] hint: String,
) -> impl IntoView {
    view! {
        <div class="kv drill-number" data-figure=name>
            <dt>{label}</dt>
            <dd class="drill-number-value">{value}</dd>
            <dd class="muted drill-number-hint">{hint}</dd>
        </div>
    }
}

/// The report of `drill`.
#[component]
pub fn DrillReportView(drill: Drill) -> impl IntoView {
    let report = drill.report.clone().unwrap_or_default();
    let status_class = format!("badge badge-{}", drill.status.tone());
    let when = drill
        .started_at
        .as_deref()
        .map(|t| format!(" · started {}", format_time(t)))
        .unwrap_or_default();
    let lost = match report.bytes_possibly_lost {
        Some(b) => format_bytes(b as f64),
        None if drill.running() => "—".to_owned(),
        None => "Unknown".to_owned(),
    };
    let partial = match report.partial_resync {
        Some(true) => "Yes",
        Some(false) => "No: a full sync",
        None => "—",
    };
    let error = drill.error.clone().map(|e| {
        view! {
            <div class="banner banner-error" role="alert">
                <span class="banner-text">{format!("{} ({})", e.message, e.code)}</span>
            </div>
        }
    });
    let verification = report.verification.clone().map(|v| {
        view! {
            <h3 class="drill-subhead">"Verification at the end"</h3>
            <VerificationResult verification=v/>
        }
    });
    let steps = Signal::stored(report.steps.clone());
    view! {
        <div class="drill-report" data-drill=drill.id.clone()>
            <p class="drill-status">
                <span class=status_class data-status=drill.status.label()>
                    {drill.status.label()}
                </span>
                " " {format!("{} drill{when}", drill.kind.label())}
            </p>
            {error}
            <dl class="drill-numbers">
                <Number
                    name="rto"
                    label="RTO"
                    value=report.rto_ms.map_or_else(|| "—".to_owned(), ms)
                    hint=match report.rto_at_ms {
                        Some(at) => format!("The longest time without an acknowledged write; it ended at +{}", ms(at)),
                        None => "The longest time without an acknowledged write".to_owned(),
                    }
                />
                <Number
                    name="rpo"
                    label="RPO: writes lost"
                    value=rpo_text(&report)
                    hint="Acknowledged writes missing at the end, of all acknowledged"
                />
                <Number
                    name="bytes-possibly-lost"
                    label="Bytes possibly lost"
                    value=lost
                    hint="What the failover reported it might lose"
                />
                <Number
                    name="lost-bytes"
                    label="Bytes lost"
                    value=report.lost_bytes.map_or_else(|| "—".to_owned(), |b| format_bytes(b as f64))
                    hint="The lost writes, as replication bytes"
                />
                <Number
                    name="partial-resync"
                    label="Partial resync"
                    value=partial.to_owned()
                    hint="Whether the old primary caught up from the backlog"
                />
            </dl>
            {verification}
            <h3 class="drill-subhead">"Steps"</h3>
            <StepList steps=steps/>
        </div>
    }
}

/// The report of the drill on show: the newest, or the one picked in the
/// history.
#[component]
pub fn ReportPanel() -> impl IntoView {
    let ctx = use_drills();
    let shown = Derived::new(move |_| ctx.shown().filter(|d| !d.running()));
    view! {
        <Card title="Report" heading_id="drill-report-heading" class="drill-report-card">
            <div class="card-body">
                {move || match shown.get() {
                    Some(drill) => view! { <DrillReportView drill=drill/> }.into_any(),
                    None => {
                        view! {
                            <p class="muted">
                                "No finished drill yet. Run one to read its RTO, RPO and verification here."
                            </p>
                        }
                            .into_any()
                    }
                }}
            </div>
        </Card>
    }
}
