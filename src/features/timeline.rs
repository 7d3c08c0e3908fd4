//! A link's timeline (`/x-georep/timeline`): each step the server recorded,
//! newest first, in the server's own words. Refetched whenever the event
//! stream reports a change (a timeline step among them), and every 15 s
//! in case the stream is down.

use georep_core::live::{TimelineEntry, TimelineKind};
use leptos::prelude::*;

use super::live::ticker::use_ticker;
use crate::components::card::Card;
use crate::components::each::For;
use crate::components::reactive::{effect, fetched, Derived};
use crate::components::show::Show;
use crate::components::sparkline::rfc3339_ms;
use crate::model::{format_time, LinkView};
use crate::state::use_app;

/// How many steps show before "Show all".
const SHOWN: usize = 8;
/// The fallback refetch period.
const REFETCH_MS: u32 = 15_000;

/// A kind of step for people.
pub fn kind_label(kind: TimelineKind) -> &'static str {
    match kind {
        TimelineKind::LinkRequested => "Link requested",
        TimelineKind::FullSyncStarted => "Full sync started",
        TimelineKind::FullSyncFinished => "Full sync finished",
        TimelineKind::Linked => "Linked",
        TimelineKind::LinkFailed => "Link failed",
        TimelineKind::FailoverRequested => "Failover requested",
        TimelineKind::Promoted => "Promoted",
        TimelineKind::FailoverAborted => "Failover aborted",
        TimelineKind::FailoverCompleted => "Failover completed",
        TimelineKind::Unhealthy => "Unhealthy",
        TimelineKind::HealthyAgain => "Healthy again",
        TimelineKind::UnlinkRequested => "Unlink requested",
        TimelineKind::Unlinked => "Unlinked",
        TimelineKind::NodeReplaced => "Node replaced",
        TimelineKind::FaultInjected => "Fault injected",
        TimelineKind::FaultCleared => "Fault cleared",
        TimelineKind::DrillStarted => "Drill started",
        TimelineKind::DrillFinished => "Drill finished",
    }
}

/// The tone of a step: `attention` for what went wrong or was replaced,
/// `ok` for what settled, else `neutral`.
pub fn kind_tone(kind: TimelineKind) -> &'static str {
    match kind {
        TimelineKind::LinkFailed
        | TimelineKind::Unhealthy
        | TimelineKind::FailoverAborted
        | TimelineKind::NodeReplaced
        | TimelineKind::FaultInjected => "attention",
        TimelineKind::Linked
        | TimelineKind::FailoverCompleted
        | TimelineKind::HealthyAgain
        | TimelineKind::Unlinked
        | TimelineKind::FaultCleared => "ok",
        TimelineKind::LinkRequested
        | TimelineKind::FullSyncStarted
        | TimelineKind::FullSyncFinished
        | TimelineKind::FailoverRequested
        | TimelineKind::Promoted
        | TimelineKind::UnlinkRequested
        | TimelineKind::DrillStarted
        | TimelineKind::DrillFinished => "neutral",
    }
}

/// The wire name of a kind, for `data-kind`: serde names the variants as
/// they are spelled, as `Debug` does (without pulling `serde_json::Value`
/// into the console).
fn kind_name(kind: TimelineKind) -> String {
    format!("{kind:?}")
}

/// How long the latest failover in `entries` took, in ms: from its request
/// to the promotion of the geo-secondary (when writes move to it).
pub fn last_failover_ms(entries: &[TimelineEntry]) -> Option<f64> {
    let ordered = oldest_first(entries);
    let promoted = ordered
        .iter()
        .rposition(|e| e.kind == TimelineKind::Promoted)?;
    let requested = ordered[..promoted]
        .iter()
        .rposition(|e| e.kind == TimelineKind::FailoverRequested)?;
    let at = |i: usize| rfc3339_ms(&ordered[i].time);
    Some((at(promoted)? - at(requested)?).max(0.0))
}

/// `entries` by id, oldest first. The one sort of the timeline (each
/// sort compiled adds 3 kB of wasm): ids are unique, so newest first is
/// this, reversed.
fn oldest_first(entries: &[TimelineEntry]) -> Vec<&TimelineEntry> {
    let mut ordered: Vec<&TimelineEntry> = entries.iter().collect();
    ordered.sort_by_key(|e| e.id);
    ordered
}

/// The linked-server id the timeline names `link` by.
pub fn timeline_id(link: &LinkView) -> String {
    format!("{}/linkedServers/{}", link.primary, link.secondary.name)
}

/// Whether some steps are hidden.
fn more(all: bool, total: usize) -> bool {
    !all && total > SHOWN
}

/// Steps as a list, newest first; the newest [`SHOWN`] until "Show all".
#[component]
pub fn TimelineList(#[prop(into)] entries: Signal<Vec<TimelineEntry>>) -> impl IntoView {
    let all = RwSignal::new(false);
    let total = move || entries.with(Vec::len);
    let shown = move || {
        let limit = if all.get() { usize::MAX } else { SHOWN };
        entries.with(|entries| {
            let newest = oldest_first(entries).into_iter().rev().take(limit);
            newest.cloned().collect::<Vec<_>>()
        })
    };
    view! {
        <ol class="timeline">
            <For each=shown key=|e| e.id let(entry)>
                <li
                    class=format!("timeline-entry tone-{}", kind_tone(entry.kind))
                    data-kind=kind_name(entry.kind)
                >
                    <span class="timeline-kind">{kind_label(entry.kind)}</span>
                    <time class="timeline-time" datetime=entry.time.clone()>
                        {format_time(&entry.time)}
                    </time>
                    <p class="timeline-message">{entry.message.clone()}</p>
                </li>
            </For>
        </ol>
        <Show when=move || total() == 0>
            <p class="muted">"No steps recorded yet."</p>
        </Show>
        <Show when=move || more(all.get(), total())>
            <button type="button" class="btn btn-small" on:click=move |_| all.set(true)>
                {move || format!("Show all {} steps", total())}
            </button>
        </Show>
    }
}

/// The timeline card of a link.
#[component]
pub fn TimelinePanel(#[prop(into)] link: Signal<LinkView>) -> impl IntoView {
    let app = use_app();
    let tick = use_ticker(REFETCH_MS);
    let id = Derived::new(move |_| link.with(timeline_id));
    let fetched = fetched(move || {
        app.epoch.track();
        tick.track();
        let id = id.get();
        async move { app.api().timeline(&id).await }
    });
    // The last good answer stays on screen while a refetch runs or fails.
    let entries = RwSignal::new(Vec::<TimelineEntry>::new());
    let error = RwSignal::new(None::<String>);
    effect(move || match fetched.get() {
        Some(Ok(list)) => {
            error.set(None);
            if entries.with_untracked(|e| *e != list) {
                entries.set(list);
            }
        }
        Some(Err(e)) => error.set(Some(e.to_string())),
        None => {}
    });
    view! {
        <Card
            title="Timeline"
            heading_id="timeline-heading"
            note=Signal::stored("Newest first, live".to_owned())
        >
            <div class="card-body">
                {move || error.get().map(|e| view! { <p class="muted">{e}</p> })}
                <TimelineList entries=entries/>
            </div>
        </Card>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(id: u64, kind: TimelineKind, time: &str) -> TimelineEntry {
        TimelineEntry {
            id,
            time: time.to_owned(),
            kind,
            message: String::new(),
            primary: String::new(),
            secondary: String::new(),
            failover: None,
        }
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn the_last_failover_is_timed_from_its_request_to_the_promotion() {
        let entries = [
            step(4, TimelineKind::Promoted, "2026-12-01T10:00:05.012Z"),
            step(1, TimelineKind::FailoverRequested, "2026-12-01T09:00:00Z"),
            step(2, TimelineKind::Promoted, "2026-12-01T09:00:01Z"),
            step(3, TimelineKind::FailoverRequested, "2026-12-01T10:00:05Z"),
        ];
        let ms = last_failover_ms(&entries).unwrap();
        assert!((ms - 12.0).abs() < 1e-6, "{ms}");
        assert_eq!(last_failover_ms(&entries[..1]), None);
        assert_eq!(
            kind_name(TimelineKind::FailoverCompleted),
            "FailoverCompleted"
        );
    }
}
