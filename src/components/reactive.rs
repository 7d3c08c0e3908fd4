//! Effects, refetching requests and memos built from boxed closures and
//! erased values. Leptos instantiates its effect and async-derived
//! machinery once per closure type, and its memo once per value type and
//! closure; through these helpers each is instantiated once in all, and
//! each use adds only its own closure's code (README, console size notes).

use std::any::Any;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::Deref;
use std::panic::Location;
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

/// A memo's value with its type erased, so that every [`Derived`] shares
/// one `Memo` instantiation: Leptos compiles its memo once per value type
/// and per closure, about 1 kB each (README, console size notes).
#[derive(Clone)]
pub struct Erased(Arc<dyn Any + Send + Sync>);

/// Computes a memo's next value from its previous one, and whether it
/// changed.
type Compute = Box<dyn Fn(Option<Erased>) -> (Erased, bool) + Send + Sync>;

fn erased_memo(compute: Compute) -> Memo<Erased> {
    Memo::new_owning(compute)
}

/// A memo of a `T`: computed lazily, recomputed when a signal it read
/// changes, and notifying its readers only when the value is not equal to
/// the last (as `Memo::new`).
pub struct Derived<T> {
    memo: Memo<Erased>,
    ty: PhantomData<fn() -> T>,
}

impl<T> Clone for Derived<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Derived<T> {}

impl<T: PartialEq + Send + Sync + 'static> Derived<T> {
    /// A memo of `compute`, which is given the previous value (`None` the
    /// first time), as `Memo::new`'s closure is.
    pub fn new(compute: impl Fn(Option<&T>) -> T + Send + Sync + 'static) -> Self {
        let memo = erased_memo(Box::new(move |prev: Option<Erased>| {
            let prev = prev.as_ref().map(Erased::value::<T>);
            let value = compute(prev);
            let changed = prev != Some(&value);
            (Erased(Arc::new(value)), changed)
        }));
        Self {
            memo,
            ty: PhantomData,
        }
    }
}

impl Erased {
    fn value<T: 'static>(&self) -> &T {
        // A `Derived<T>` only ever stores `T`s.
        self.0.downcast_ref().unwrap_or_else(|| unreachable!())
    }
}

/// What a read of a [`Derived`] holds: the value it read, shared.
pub struct DerivedGuard<T> {
    value: Erased,
    ty: PhantomData<fn() -> T>,
}

impl<T: 'static> Deref for DerivedGuard<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.value.value()
    }
}

impl<T> DefinedAt for Derived<T> {
    fn defined_at(&self) -> Option<&'static Location<'static>> {
        None
    }
}

impl<T> Track for Derived<T> {
    fn track(&self) {
        self.memo.track();
    }
}

impl<T: 'static> ReadUntracked for Derived<T> {
    type Value = DerivedGuard<T>;

    fn try_read_untracked(&self) -> Option<DerivedGuard<T>> {
        self.memo.try_get_untracked().map(|value| DerivedGuard {
            value,
            ty: PhantomData,
        })
    }
}

impl<T: Clone + Send + Sync + 'static> From<Derived<T>> for Signal<T> {
    fn from(derived: Derived<T>) -> Self {
        Signal::derive(move || derived.get())
    }
}
