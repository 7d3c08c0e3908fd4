//! A signal that ticks on an interval, for live views.

use leptos::prelude::*;

/// A counter that increases every `period_ms` while the calling component
/// lives; reading it in a resource refetches on each tick.
pub fn use_ticker(period_ms: u32) -> ReadSignal<u64> {
    let (tick, set_tick) = signal(0u64);
    let interval = gloo_timers::callback::Interval::new(period_ms, move || {
        set_tick.update(|t| *t += 1);
    });
    // Dropped (and so cancelled) with the owner.
    StoredValue::new_local(interval);
    tick
}
