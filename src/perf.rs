//! Performance marks that `cargo xtask bench` reads from the page.
//!
//! Each mark is set after the browser has painted the change that caused
//! it: a `requestAnimationFrame` callback runs just before the next frame
//! is rendered, and a zero-delay timeout queued from it runs once that
//! frame is out. A mark's `startTime` is then the time, from navigation
//! start, at which the user could see the result.
//!
//! Marks cost one callback per change and nothing when nobody reads them.

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Sets the performance mark `name` once the next frame has been painted.
pub fn mark_after_paint(name: &'static str) {
    after_paint(move || mark(name));
}

/// Runs `f` once the next frame has been painted.
pub fn after_paint(f: impl FnOnce() + 'static) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let after_frame = Closure::once_into_js(move || {
        let then = Closure::once_into_js(f);
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback(then.unchecked_ref());
        }
    });
    let _ = window.request_animation_frame(after_frame.unchecked_ref());
}

/// Runs `f` just before the next frame is rendered, once the changes made
/// so far are in the DOM: a layout read there costs nothing the frame
/// would not do anyway, and what `f` changes is in the same frame.
pub fn before_paint(f: impl FnOnce() + 'static) {
    if let Some(window) = web_sys::window() {
        let f = Closure::once_into_js(f);
        let _ = window.request_animation_frame(f.unchecked_ref());
    }
}

/// Resolves once the next frame has been painted and what else waited on
/// that paint has run: what a task awaits to let the browser show what it
/// has rendered (and the marks for it be set) before it goes on. A task
/// resumed in the same turn as the marks ran first, since it asked first,
/// and held the first-paint mark back by the time it took.
pub async fn painted() {
    let (done, painted) = futures::channel::oneshot::channel::<()>();
    after_paint(move || {
        let resume = Closure::once_into_js(move || {
            let _ = done.send(());
        });
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback(resume.unchecked_ref());
        }
    });
    // A page without a window never paints; nothing then waits on it.
    let _ = painted.await;
}

/// Sets the performance mark `name` now.
pub fn mark(name: &str) {
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark(name);
    }
}

/// Marks `name` after the paint that first shows `ready()` being true.
pub fn mark_painted_once(name: &'static str, ready: impl Fn() -> bool + 'static) {
    Effect::new(move |done: Option<bool>| {
        if done == Some(true) {
            return true;
        }
        let now = ready();
        if now {
            mark_after_paint(name);
        }
        now
    });
}

/// Marks `name` after the paint that follows each change of `source()`
/// (not its first value).
pub fn mark_painted_on_change<T>(name: &'static str, source: impl Fn() -> T + 'static)
where
    T: PartialEq + 'static,
{
    Effect::new(move |previous: Option<T>| {
        let current = source();
        if previous.is_some_and(|p| p != current) {
            mark_after_paint(name);
        }
        current
    });
}
