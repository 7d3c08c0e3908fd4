//! Keeps the shared fleet fresh: loads it on start and whenever asked
//! (`AppState::refresh`), then polls, quickly while an operation runs.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::ApiError;
use crate::components::reactive::effect;
use crate::model::Fleet;
use crate::state::{use_app, AppState, Connectivity, FleetLoads, Load};

/// Poll period while a link operation is running.
const BUSY_MS: f64 = 1_500.0;
/// Poll period otherwise.
const IDLE_MS: f64 = 10_000.0;

fn now_ms() -> f64 {
    js_sys::Date::now()
}

fn busy(app: AppState) -> bool {
    !app.optimistic.with_untracked(|p| p.is_empty())
        || app.fleet.with_untracked(Fleet::any_link_busy)
}

/// Loads the fleet once; does nothing if a load is already running.
pub fn load(app: AppState) {
    if app.fleet_loads.with_value(|l| l.running) {
        return;
    }
    app.fleet_loads.update_value(|l| l.running = true);
    spawn_local(async move {
        // The list first, then the linked caches' firewall rules, which
        // only the failover checklist reads.
        let api = app.api();
        // Only what a reload carries over, not a copy of every cache.
        let known = app.fleet.with_untracked(Fleet::firewalled);
        let loaded = async {
            app.set_fleet(app.observe(api.load_fleet_quick(&known).await)?);
            // With nothing linked there are no rules to fetch, and no reason
            // to copy, rebuild and compare the whole fleet once more.
            if !app.fleet.with_untracked(Fleet::any_linked) {
                return Ok::<(), ApiError>(());
            }
            // Starting the rules' requests (one per linked cache) takes
            // the main thread a while; the list is shown first. The
            // fleet is copied for them only then, off the list's way.
            crate::perf::painted().await;
            app.set_fleet(app.observe(api.with_firewall_rules(app.fleet.get_untracked()).await)?);
            Ok(())
        };
        match loaded.await {
            Ok(()) => {}
            Err(e) if !e.is_unreachable() => app.load.set(Load::Failed(e)),
            Err(_) => {}
        }
        app.fleet_loads.set_value(FleetLoads {
            running: false,
            ended_at: now_ms(),
        });
    });
}

/// Renders nothing; owns the polling.
#[component]
pub fn FleetSync() -> impl IntoView {
    let app = use_app();
    effect(move || {
        app.epoch.track();
        load(app);
    });
    let tick = gloo_timers::callback::Interval::new(500, move || {
        if matches!(
            app.connectivity.get_untracked(),
            Connectivity::Offline { .. }
        ) {
            return; // The banner's retries bring it back.
        }
        let period = if busy(app) { BUSY_MS } else { IDLE_MS };
        if now_ms() - app.fleet_loads.with_value(|l| l.ended_at) >= period {
            load(app);
        }
    });
    // Dropping the interval cancels it; the arena drops it with this owner.
    StoredValue::new_local(tick);
}
