//! Effects and refetching requests built from boxed closures. Leptos
//! instantiates its effect and async-derived machinery once per closure
//! type; through these helpers it is instantiated once in all, and each use
//! adds only its own closure's code (README, console size notes).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;

/// What a finished request does with its answer, if it is still wanted.
type Apply = Box<dyn FnOnce()>;
/// One request: started by calling it, resolving to its [`Apply`].
type Request = Box<dyn Fn() -> Pin<Box<dyn Future<Output = Apply>>>>;

/// Runs `f` (on the next tick, as `Effect::new` does) and again whenever a
/// signal it read changes.
pub fn effect(f: impl Fn() + 'static) {
    effect_boxed(Box::new(f));
}

fn effect_boxed(f: Box<dyn Fn()>) {
    Effect::new(move |_| f());
}

/// The latest answer of `fetch`, `None` until the first. `fetch` runs on
/// the next tick and again whenever a signal it reads before its first `.await`
/// changes; until a new answer arrives the last one stays. An answer that
/// a newer request overtook is dropped, and none is written once the
/// caller's owner is gone.
pub fn fetched<T, F>(fetch: impl Fn() -> F + 'static) -> ReadSignal<Option<T>>
where
    T: Send + Sync + 'static,
    F: Future<Output = T> + 'static,
{
    let (answer, set_answer) = signal(None::<T>);
    run_latest(Box::new(move || {
        let request = fetch();
        Box::pin(async move {
            let value = request.await;
            Box::new(move || set_answer.set(Some(value))) as Apply
        })
    }));
    answer
}

fn run_latest(request: Request) {
    // The number of the latest request; u64::MAX once the owner is gone.
    let latest = Arc::new(AtomicU64::new(0));
    let gone = Arc::clone(&latest);
    on_cleanup(move || gone.store(u64::MAX, Ordering::Relaxed));
    let start = move || {
        let number = latest.fetch_add(1, Ordering::Relaxed) + 1;
        let pending = request();
        let latest = Arc::clone(&latest);
        spawn_local(async move {
            let apply = pending.await;
            if latest.load(Ordering::Relaxed) == number {
                apply();
            }
        });
    };
    effect_boxed(Box::new(start));
}
