//! The live event stream: `georep-server`'s server-sent events
//! (`/x-georep/events`) turned into refreshes, so link states, full-sync
//! progress and metrics update as they happen. Polling stays as the
//! fallback.
//!
//! `EventSource` can't send the bearer token, so each connection starts
//! with a single-use ticket from `POST /x-georep/events/ticket`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use georep_core::live::LinkRef;
use georep_core::CacheId;
use gloo_net::eventsource::futures::EventSource;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::model::{pair_key, PrimaryOffset};
use crate::state::{use_app, AppState};

/// Events that change what the fleet shows.
const FLEET_EVENTS: [&str; 4] = ["linkState", "syncProgress", "timeline", "lagged"];
/// Wait before reconnecting after the stream ends.
const RECONNECT: Duration = Duration::from_secs(3);
/// The least time between two refreshes the stream asks for.
const THROTTLE_MS: f64 = 1_000.0;

/// What the console reads of a `metric` event: its geo-primary's offset.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct MetricOffset {
    link: LinkRef,
    time: String,
    #[serde(default)]
    primary_offset: Option<u64>,
}

/// Keeps the latest geo-primary offset of the sample's link.
fn record_offset(app: AppState, data: &str) {
    let Ok(sample) = crate::api::from_json::<MetricOffset>(data.as_bytes()) else {
        return;
    };
    let ids = (
        sample.link.primary.parse::<CacheId>(),
        sample.link.secondary.parse::<CacheId>(),
    );
    let (Some(offset), (Ok(primary), Ok(secondary))) = (sample.primary_offset, ids) else {
        return;
    };
    let reading = PrimaryOffset {
        at_ms: js_sys::Date::parse(&sample.time),
        offset,
        primary: primary.clone(),
    };
    app.primary_offsets.update(|all| {
        all.insert(pair_key(&primary, &secondary), reading);
    });
}

/// Runs one connection until it fails; returns whether it ever opened.
async fn connect(app: AppState, alive: &AtomicBool) -> bool {
    let Ok(ticket) = app.api().events_ticket().await else {
        return false;
    };
    let url = app.api().url(&ticket.url);
    let Ok(mut source) = EventSource::new(&url) else {
        return false;
    };
    let mut streams = Vec::new();
    // `open` says the stream is up before any event comes (an idle fleet
    // may send none for a long time).
    for name in FLEET_EVENTS.iter().chain(&["metric", "open"]) {
        match source.subscribe(*name) {
            Ok(stream) => streams.push(stream),
            Err(_) => return false,
        }
    }
    let mut events = futures::stream::select_all(streams);
    let (mut last_fleet, mut last_metric) = (0.0, 0.0);
    let mut opened = false;
    while let Some(item) = events.next().await {
        if !alive.load(Ordering::Relaxed) {
            break;
        }
        let Ok((kind, message)) = item else { break };
        opened = true;
        if !app.live.get_untracked() {
            app.live.set(true);
        }
        let now = js_sys::Date::now();
        if kind == "open" {
            continue;
        }
        if kind == "metric" {
            if let Some(data) = message.data().as_string() {
                record_offset(app, &data);
            }
            if now - last_metric >= 1_000.0 {
                last_metric = now;
                app.metrics_epoch.update(|e| *e += 1);
            }
        } else if now - last_fleet >= THROTTLE_MS {
            last_fleet = now;
            app.refresh();
        }
    }
    source.close();
    app.live.set(false);
    opened
}

/// Renders nothing; keeps one event stream open while it lives.
#[component]
pub fn LiveEvents() -> impl IntoView {
    let app = use_app();
    let alive = Arc::new(AtomicBool::new(true));
    {
        let alive = Arc::clone(&alive);
        on_cleanup(move || alive.store(false, Ordering::Relaxed));
    }
    spawn_local(async move {
        let mut failures = 0u32;
        while alive.load(Ordering::Relaxed) {
            if connect(app, &alive).await {
                failures = 0;
            } else {
                failures += 1;
            }
            if !app.stream_tried.get_untracked() {
                app.stream_tried.set(true);
            }
            // A backend without the stream (or down) is retried slowly.
            let wait = RECONNECT * failures.clamp(1, 10);
            gloo_timers::future::sleep(wait).await;
        }
    });
}
