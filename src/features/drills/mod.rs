//! A link's Drills view: rehearse a failover and read what it cost, check
//! that both sides hold the same data, and break the link on purpose.
//!
//! - [`run_form`] starts a drill (planned or forced, how long, failback);
//! - [`live_run`] follows a running drill and the link's live figures;
//! - [`report`] reads a drill's numbers (RTO, RPO, what the failover
//!   reported, the resync, the verification, each step);
//! - [`history`] lists the link's past drills;
//! - [`verification`] compares the two sides on demand;
//! - [`faults`] injects and undoes faults, each after a warning;
//! - [`wire`] is what the server sends and answers.
//!
//! The parts share one [`DrillsContext`] through context.

pub mod faults;
pub mod history;
pub mod live_run;
pub mod report;
pub mod run_form;
pub mod verification;
pub mod wire;

use georep_core::CacheId;
use leptos::prelude::*;

use self::faults::FaultsPanel;
use self::history::HistoryPanel;
use self::live_run::LiveRunPanel;
use self::report::ReportPanel;
use self::run_form::RunForm;
use self::verification::VerificationPanel;
use self::wire::Drill;
use super::live::ticker::use_ticker;
use crate::components::reactive::{effect, fetched, Derived};
use crate::model::{CacheEntry, LinkView};
use crate::pages::sticky;
use crate::routes::geo_href;
use crate::state::use_app;

/// How often the drill list is fetched again when nothing announced a
/// change.
const HISTORY_REFETCH_MS: u32 = 10_000;

/// What the Drills view's parts share.
#[derive(Clone, Copy)]
pub struct DrillsContext {
    /// The link, seen from its geo-primary.
    pub link: Derived<LinkView>,
    /// The link's linked-server id, named from the page's cache (it stays
    /// the same when a drill swaps the roles).
    pub link_id: Derived<String>,
    /// The link's drills, newest first, as last fetched.
    pub drills: RwSignal<Vec<Drill>>,
    /// Why the drill list could not be read, if it could not.
    pub drills_error: RwSignal<Option<String>>,
    /// The drill whose report shows; `None` follows the newest.
    pub selected: RwSignal<Option<String>>,
    /// The newest state of the running drill, polled by [`live_run`].
    pub live: RwSignal<Option<Drill>>,
    /// Bumped to fetch the drill list again.
    pub reload: RwSignal<u64>,
}

impl DrillsContext {
    /// The drill whose report shows: the selected one, else the newest,
    /// with the live poll's state when it is the running one.
    pub fn shown(&self) -> Option<Drill> {
        let selected = self.selected.get();
        let from_list = self.drills.with(|list| match &selected {
            Some(id) => list.iter().find(|d| &d.id == id).cloned(),
            None => list.first().cloned(),
        });
        let live = self.live.get();
        match (from_list, live) {
            (Some(d), Some(l)) if d.id == l.id => Some(l),
            (Some(d), _) => Some(d),
            (None, l) => l.filter(|_| selected.is_none()),
        }
    }

    /// The running drill, if there is one. The live poll knows first when
    /// a drill ends; the list catches up at its next fetch.
    pub fn running(&self) -> Option<Drill> {
        let live = self.live.get();
        if let Some(l) = live.as_ref().filter(|l| l.running()) {
            return Some(l.clone());
        }
        let ended = live.map(|l| l.id);
        self.drills.with(|list| {
            list.iter()
                .find(|d| d.running() && Some(&d.id) != ended.as_ref())
                .cloned()
        })
    }
}

/// The shared state of the Drills view. Panics outside [`Drills`].
pub fn use_drills() -> DrillsContext {
    expect_context::<DrillsContext>()
}

/// The linked-server id of `own`'s side of `link`.
pub fn link_id_of(own: &CacheId, link: &LinkView) -> String {
    let peer = if &link.primary == own {
        &link.secondary
    } else {
        &link.primary
    };
    format!("{own}/linkedServers/{}", peer.name)
}

/// An API error as a banner, when there is one.
pub fn error_banner(error: Option<String>) -> Option<impl IntoView> {
    error.map(|e| {
        view! {
            <div class="banner banner-error" role="alert">
                <span class="banner-text">{e}</span>
            </div>
        }
    })
}

/// The Drills view of a cache's link, or why there is none.
#[component]
pub fn Drills(entry: Derived<CacheEntry>) -> impl IntoView {
    let app = use_app();
    let link = Derived::new(move |_| entry.with(|e| app.fleet.with(|f| f.link_of(e.id()))));
    let linked = Derived::new(move |_| link.with(Option::is_some));
    view! {
        <p class="drills-back">
            <a href=move || entry.with(|e| geo_href(e.id()))>"← Geo-replication"</a>
        </p>
        {move || {
            if linked.get() {
                view! { <LinkDrills entry=entry link=sticky(link)/> }.into_any()
            } else {
                view! {
                    <div class="card empty-state">
                        <p class="empty-title">"No geo-replication link"</p>
                        <p class="muted">
                            "Drills, verification and faults work on a link. Link this cache to another first."
                        </p>
                    </div>
                }
                    .into_any()
            }
        }}
    }
}

/// The view's parts for a linked cache, sharing one [`DrillsContext`].
#[component]
fn LinkDrills(entry: Derived<CacheEntry>, link: Derived<LinkView>) -> impl IntoView {
    let app = use_app();
    let link_id = Derived::new(move |_| entry.with(|e| link.with(|l| link_id_of(e.id(), l))));
    let ctx = DrillsContext {
        link,
        link_id,
        drills: RwSignal::new(Vec::new()),
        drills_error: RwSignal::new(None),
        selected: RwSignal::new(None),
        live: RwSignal::new(None),
        reload: RwSignal::new(0),
    };
    provide_context(ctx);
    let tick = use_ticker(HISTORY_REFETCH_MS);
    let fetched = fetched(move || {
        app.epoch.track();
        ctx.reload.track();
        tick.track();
        let id = link_id.get();
        async move { app.observe(app.api().drills(&id).await) }
    });
    effect(move || match fetched.get() {
        Some(Ok(list)) => {
            ctx.drills_error.set(None);
            if ctx.drills.with_untracked(|d| *d != list) {
                ctx.drills.set(list);
            }
        }
        Some(Err(e)) => ctx.drills_error.set(Some(e.to_string())),
        None => {}
    });
    view! {
        <div class="drills">
            <div class="drills-main">
                <RunForm/>
            </div>
            <div class="drills-side">
                <VerificationPanel/>
                <FaultsPanel/>
            </div>
        </div>
        <LiveRunPanel/>
        <ReportPanel/>
        <HistoryPanel/>
    }
}
