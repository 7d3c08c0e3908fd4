//! What the walkthrough has seen done, from real events: the fleet's link
//! states, the live stream's samples of the geo-primary's replication
//! offset, and the link's timeline. A step seen done stays done for the
//! pair it was seen on (unlinking ends the tour, it doesn't undo it), across
//! pages, until that pair is linked again.

use georep_core::link::LinkState;
use georep_core::live::TimelineKind;
use leptos::prelude::*;

use crate::components::reactive::{effect, fetched, Derived};
use crate::features::timeline::timeline_id;
use crate::model::{LinkView, PrimaryOffset};
use crate::state::{use_app, Load};

/// Where the tour remembers the link it follows (its timeline id), so the
/// unlink step can tell once the link is gone.
const FOLLOWED: &str = "georep.walkthrough.link";
/// Where it remembers the steps seen done: `pair key#bits`.
const SEEN: &str = "georep.walkthrough.seen";
/// Where it remembers the geo-primary's offset when the write step started
/// (`pair key#primary#sampled at#offset`), so a write made while another
/// page is open still counts.
const BASELINE: &str = "georep.walkthrough.baseline";
/// What each of the primary's pings to its replicas adds to its replication
/// stream (`*1\r\n$4\r\nPING\r\n`); here it pings once a second.
pub const PING_BYTES: u64 = 14;

/// The tour's steps, as bits of [`SEEN`].
#[derive(Debug, Clone, Copy)]
pub enum Stage {
    /// A link exists.
    Link = 1,
    /// It is `Succeeded` (`Linked`).
    Provisioned = 2,
    /// A write went through the geo-primary.
    Write = 4,
    /// It failed over.
    Failover = 8,
    /// It was unlinked.
    Unlink = 16,
}

/// Each step's tick, and the offset the write step watches.
#[derive(Clone, Copy)]
pub struct Progress {
    seen: RwSignal<u8>,
    /// The followed pair's latest geo-primary offset, while it is linked.
    pub offset: Derived<Option<PrimaryOffset>>,
}

impl Progress {
    /// Whether `stage` was seen done.
    pub fn done(&self, stage: Stage) -> Signal<bool> {
        let seen = self.seen;
        Signal::derive(move || seen.get() & stage as u8 != 0)
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

fn stored(key: &str) -> Option<String> {
    storage()?.get_item(key).ok().flatten()
}

fn store(key: &str, value: &str) {
    if let Some(storage) = storage() {
        // Storage can refuse (private mode quota); the tour still ticks on
        // this page.
        let _ = storage.set_item(key, value);
    }
}

/// Whether the geo-primary's offset grew from `start` to `now` by more than
/// its pings could have added: nothing else but a write grows the stream.
/// One ping more than the seconds passed allows for the two readings' timing.
pub fn wrote_since(start: &PrimaryOffset, now: &PrimaryOffset) -> bool {
    let seconds = ((now.at_ms - start.at_ms) / 1_000.0).ceil().max(0.0) as u64;
    start.primary == now.primary && now.offset > start.offset + PING_BYTES * (seconds + 1)
}

/// The time is whole milliseconds (the browser's clock), kept as an
/// integer: reading it back then needs no float parser (README, console
/// size notes).
fn baseline_text(pair: &str, b: &PrimaryOffset) -> String {
    format!("{pair}#{}#{}#{}", b.primary, b.at_ms as i64, b.offset)
}

fn baseline_of(pair: &str, text: &str) -> Option<PrimaryOffset> {
    let mut parts = text.split('#');
    (parts.next()? == pair).then_some(())?;
    Some(PrimaryOffset {
        primary: parts.next()?.parse().ok()?,
        at_ms: parts.next()?.parse::<i64>().ok()? as f64,
        offset: parts.next()?.parse().ok()?,
    })
}

/// Follows `link` (the fleet's first) and ticks the steps as they happen.
pub fn use_progress(link: Derived<Option<LinkView>>) -> Progress {
    let app = use_app();
    let (stored_pair, stored_bits) = stored(SEEN)
        .and_then(|t| {
            let (pair, bits) = t.split_once('#')?;
            Some((pair.to_owned(), bits.parse::<u8>().ok()?))
        })
        .unzip();
    let pair = RwSignal::new(stored_pair);
    let seen = RwSignal::new(stored_bits.unwrap_or(0));
    let tick = move |stage: Stage| {
        if seen.get_untracked() & stage as u8 == 0 {
            seen.update(|s| *s |= stage as u8);
            if let Some(pair) = pair.get_untracked() {
                store(SEEN, &format!("{pair}#{}", seen.get_untracked()));
            }
        }
    };

    // The pair followed, and the steps its link shows now.
    effect(move || {
        let Some(link) = link.get() else { return };
        let key = link.key();
        let unlinked_before = seen.get_untracked() & Stage::Unlink as u8 != 0;
        if pair.get_untracked().as_deref() != Some(key.as_str()) || unlinked_before {
            // Another pair, or this one linked again: a new tour.
            pair.set(Some(key.clone()));
            seen.set(0);
            store(SEEN, &format!("{key}#0"));
            if let Some(storage) = storage() {
                let _ = storage.remove_item(BASELINE);
            }
        }
        store(FOLLOWED, &timeline_id(&link));
        tick(Stage::Link);
        if link.state == LinkState::Linked {
            tick(Stage::Provisioned);
        }
        if link.last_failover.is_some() {
            tick(Stage::Failover);
        }
    });

    // The write: the geo-primary's replication offset, sampled by the
    // server every second, grows after the step started by more than the
    // primary's pings add.
    let linked_pair = Derived::new(move |_| {
        link.with(|l| {
            l.as_ref()
                .filter(|l| l.state == LinkState::Linked)
                .map(LinkView::key)
        })
    });
    let offset = Derived::new(move |_| {
        let key = linked_pair.get()?;
        app.primary_offsets.with(|all| all.get(&key).cloned())
    });
    effect(move || {
        let (Some(key), Some(now)) = (linked_pair.get(), offset.get()) else {
            return;
        };
        if seen.get_untracked() & Stage::Write as u8 != 0 {
            return;
        }
        let start = stored(BASELINE)
            .and_then(|t| baseline_of(&key, &t))
            .filter(|b| b.primary == now.primary);
        match start {
            Some(start) if wrote_since(&start, &now) => tick(Stage::Write),
            Some(_) => {}
            None => store(BASELINE, &baseline_text(&key, &now)),
        }
    });

    // The unlink: the followed link is gone from the fleet and its timeline
    // ends with the server's `Unlinked` step.
    let timeline = fetched(move || {
        app.epoch.track();
        let gone = link.with(Option::is_none) && app.load.with(|l| *l == Load::Ready);
        let followed = stored(FOLLOWED);
        async move {
            match (gone, followed) {
                (true, Some(id)) => app.api().timeline(&id).await.ok(),
                _ => None,
            }
        }
    });
    effect(move || {
        let ended = timeline.get().flatten().is_some_and(|entries| {
            entries
                .iter()
                .max_by_key(|e| e.id)
                .is_some_and(|e| e.kind == TimelineKind::Unlinked)
        });
        if ended && link.with_untracked(Option::is_none) {
            tick(Stage::Unlink);
        }
    });

    Progress { seen, offset }
}

#[cfg(test)]
mod tests {
    use super::*;
    use georep_core::CacheId;

    fn reading(name: &str, at_s: f64, offset: u64) -> PrimaryOffset {
        PrimaryOffset {
            primary: CacheId::new("sub", "rg", name),
            at_ms: at_s * 1_000.0,
            offset,
        }
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn pings_alone_are_not_a_write() {
        let start = reading("a", 100.0, 5_000);
        // Ten seconds of pings, and one more for the readings' timing.
        assert!(!wrote_since(&start, &reading("a", 110.0, 5_000 + 11 * 14)));
        assert!(!wrote_since(&start, &reading("a", 109.4, 5_000 + 11 * 14)));
        // `SET greeting hello` adds 38 bytes.
        assert!(wrote_since(
            &start,
            &reading("a", 110.0, 5_000 + 10 * 14 + 38)
        ));
        // Another primary's offset is another count.
        assert!(!wrote_since(&start, &reading("b", 110.0, 90_000)));
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn the_baseline_round_trips_for_its_pair_only() {
        let b = reading("a", 100.5, 42);
        let text = baseline_text("x|y", &b);
        assert_eq!(baseline_of("x|y", &text), Some(b));
        assert_eq!(baseline_of("x|z", &text), None);
    }
}
