//! A window over a long list: only the rows in and near the viewport are
//! mounted, and a spacer before and after them stands for the rest.
//!
//! With every row of a thousand mounted, each frame that changed them cost
//! the browser style, layout and paint for all of them (a region filter
//! took two frames); a window keeps that to a few screenfuls, whatever the
//! list's length.
//!
//! The window is counted in positions of the list (`0..len`). It moves in
//! steps of [`STEP`] rows, so scrolling within a step changes nothing, and
//! a step adds and removes a few rows at its edges: a mounted row keeps
//! its element, and with it the keyboard focus, while the list scrolls.
//! The rows are assumed to be about equally tall (the list's styles make
//! them so); their height is measured, never assumed.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::components::reactive::Derived;

/// Rows mounted before the first measurement: the measurement, made before
/// they are first painted, mounts more if the viewport shows more.
pub const FIRST: u32 = 20;
/// Rows mounted beyond each edge of the viewport, so that a scroll or the
/// keyboard focus moving on finds them there.
const OVERSCAN: f64 = 8.0;
/// The window's edges move in steps of this many rows.
pub const STEP: u32 = 10;

/// Which positions of a list are mounted, and how tall the rest is. Each
/// is a memo, so a change that leaves one as it was (a filter that keeps
/// the list's length) wakes nothing that reads it.
#[derive(Clone, Copy)]
pub struct Window {
    /// The positions mounted, `start..end` (never past the list's end
    /// rounded up to a [`STEP`]; positions past `len` are the caller's to
    /// hide).
    pub range: Derived<(u32, u32)>,
    /// The list's length.
    pub len: Derived<usize>,
    /// The height the spacer before the window stands for, px.
    pub before: Derived<f64>,
    /// The height the spacer after the window stands for, px.
    pub after: Derived<f64>,
}

/// Where the viewport is over the list.
#[derive(Debug, Clone, Copy, PartialEq)]
struct View {
    /// The viewport's top, px below the list's first row (negative while
    /// the list starts below it).
    top: f64,
    /// The viewport's height, px.
    height: f64,
}

/// The positions to mount for a list of `len` rows of `height` px seen
/// through `view`.
fn range_for(view: Option<View>, height: f64, len: usize) -> (u32, u32) {
    let len = len as f64;
    let round_up = |n: f64| ((n / STEP as f64).ceil() * STEP as f64).min(u32::MAX as f64) as u32;
    let (Some(view), true) = (view, height > 0.0) else {
        return (0, round_up(len).min(FIRST));
    };
    // Past the end of a list that just got shorter, the browser is about
    // to clamp the scroll to its end: the last rows are the ones in view.
    let top = view.top.min(len * height - view.height).max(0.0);
    let first = (top / height - OVERSCAN).max(0.0);
    let last = ((top + view.height) / height + OVERSCAN).min(len);
    let start = (first / STEP as f64).floor() as u32 * STEP;
    (start, round_up(last).max(start))
}

/// A window over a list of `len()` rows that sit between the elements
/// `before` and `after` (the two spacers, which the caller sizes from
/// [`Window::before`] and [`Window::after`]). It follows the window's
/// scroll and size, and `len`.
pub fn window<E>(before: NodeRef<E>, after: NodeRef<E>, len: Signal<usize>) -> Window
where
    E: leptos::tachys::html::element::ElementType,
    E::Output: JsCast + Clone + 'static,
{
    let len = Derived::new(move |_| len.get());
    let height = RwSignal::new(0.0_f64);
    let view = RwSignal::new(None::<View>);
    let range = Derived::new(move |_| view.with(|v| range_for(*v, height.get(), len.get())));
    let before_px = Derived::new(move |_| {
        let (start, _) = range.get();
        (start as usize).min(len.get()) as f64 * height.get()
    });
    let after_px = Derived::new(move |_| {
        let (_, end) = range.get();
        let len = len.get();
        (len - (end as usize).min(len)) as f64 * height.get()
    });
    let element = move |node: NodeRef<E>| {
        node.get_untracked()
            .map(|e| e.unchecked_into::<web_sys::Element>())
    };
    let measure = move || {
        let (Some(before), Some(after), Some(window)) =
            (element(before), element(after), web_sys::window())
        else {
            return;
        };
        let (above, below) = (
            before.get_bounding_client_rect(),
            after.get_bounding_client_rect(),
        );
        let (start, end) = range.get_untracked();
        let len = len.get_untracked();
        let mounted = (end as usize).min(len) - (start as usize).min(len);
        if mounted > 0 {
            let measured = (below.top() - above.bottom()) / mounted as f64;
            // Rows differ by a fraction of a pixel (collapsed borders fall
            // on either side of one); following that would move the
            // spacers, and lay the page out again, at every step.
            if measured > 0.0 && (measured - height.get_untracked()).abs() > 0.5 {
                height.set(measured);
            }
        }
        let now = Some(View {
            top: -above.top(),
            height: window
                .inner_height()
                .ok()
                .and_then(|h| h.as_f64())
                .unwrap_or(0.0),
        });
        if view.get_untracked() != now {
            view.set(now);
        }
    };
    let scroll = window_event_listener(leptos::ev::scroll, move |_| measure());
    let resize = window_event_listener(leptos::ev::resize, move |_| measure());
    on_cleanup(move || {
        scroll.remove();
        resize.remove();
    });
    // Until rows have been measured, measure the first ones once they are
    // laid out, before they are painted. Later lengths need no measuring:
    // a list that got shorter is clamped by `range_for`, and the scroll
    // the browser then clamps too is measured as any scroll. A forced
    // layout per filter click cost more than the click's own work.
    crate::components::reactive::effect(move || {
        if len.get() > 0 && height.get_untracked() == 0.0 {
            crate::perf::before_paint(measure);
        }
    });
    Window {
        range,
        len,
        before: before_px,
        after: after_px,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(top: f64) -> Option<View> {
        Some(View { top, height: 400.0 })
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn before_measuring_a_first_screenful() {
        assert_eq!(range_for(None, 0.0, 1000), (0, FIRST));
        assert_eq!(range_for(view(0.0), 0.0, 1000), (0, FIRST));
        assert_eq!(range_for(None, 0.0, 11), (0, 20));
        assert_eq!(range_for(None, 0.0, 5), (0, 10));
        assert_eq!(range_for(None, 0.0, 0), (0, 0));
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn the_viewport_and_a_margin_in_steps() {
        // 400 px of 40-px rows: ten rows, and eight more on each side.
        assert_eq!(range_for(view(-300.0), 40.0, 1000), (0, 20));
        assert_eq!(range_for(view(0.0), 40.0, 1000), (0, 20));
        assert_eq!(range_for(view(4000.0), 40.0, 1000), (90, 120));
        assert_eq!(range_for(view(4040.0), 40.0, 1000), (90, 120));
        assert_eq!(range_for(view(4400.0), 40.0, 1000), (100, 130));
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn the_end_of_the_list_and_of_a_shorter_one() {
        assert_eq!(range_for(view(39_600.0), 40.0, 1000), (980, 1000));
        // Scrolled far down when a filter left 25 rows: the last of them.
        assert_eq!(range_for(view(39_600.0), 40.0, 25), (0, 30));
        assert_eq!(range_for(view(39_600.0), 40.0, 0), (0, 0));
    }
}
