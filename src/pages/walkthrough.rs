//! `/walkthrough`: a guided tour of the steps of Azure's passive
//! geo-replication guide — link, write through
//! the geo-primary URL, fail over, unlink — that ticks itself off from what
//! the fleet shows.

use georep_core::link::LinkState;
use georep_core::live::TimelineKind;
use leptos::prelude::*;

use crate::features::timeline::timeline_id;
use crate::routes::{add_link_href, geo_href, HOME};
use crate::state::use_app;

/// Where the tour remembers the link it follows (its timeline id), so the
/// unlink step can tell once the link is gone.
const FOLLOWED: &str = "georep.walkthrough.link";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

/// One step of the tour.
#[component]
fn Step(
    number: usize,
    title: &'static str,
    #[prop(into)] done: Signal<bool>,
    children: Children,
) -> impl IntoView {
    view! {
        <li class="tour-step" class:done=move || done.get()>
            <span class="step-number" aria-hidden="true">{number}</span>
            <div>
                <h2>
                    {title}
                    <Show when=move || done.get()>
                        <span class="badge badge-healthy">"Done"</span>
                    </Show>
                </h2>
                {children()}
            </div>
        </li>
    }
}

/// The walkthrough.
#[component]
pub fn WalkthroughPage() -> impl IntoView {
    let app = use_app();
    let link = Memo::new(move |_| app.fleet.with(|f| f.links().into_iter().next()));
    let first_premium = Memo::new(move |_| {
        app.fleet.with(|f| {
            f.caches
                .iter()
                .find(|e| e.cache.sku.name == georep_core::SkuName::Premium && e.link.is_none())
                .map(|e| e.id().clone())
        })
    });
    let linked = Signal::derive(move || {
        link.with(|l| l.as_ref().is_some_and(|l| l.state == LinkState::Linked))
    });
    let start_href = move || {
        link.get()
            .map(|l| geo_href(&l.primary))
            .or_else(|| first_premium.get().map(|id| add_link_href(&id)))
            .unwrap_or_else(|| HOME.to_owned())
    };
    let geo_page = move || link.get().map_or_else(start_href, |l| geo_href(&l.primary));
    let never = Signal::derive(|| false);
    let failed_over = Signal::derive(move || {
        app.fleet
            .with(|f| f.links().iter().any(|l| l.last_failover.is_some()))
    });
    // The link the tour follows, remembered across pages while it exists.
    let followed = RwSignal::new(storage().and_then(|s| s.get_item(FOLLOWED).ok().flatten()));
    Effect::new(move |_| {
        if let Some(id) = link.with(|l| l.as_ref().map(timeline_id)) {
            if let Some(storage) = storage() {
                let _ = storage.set_item(FOLLOWED, &id);
            }
            followed.set(Some(id));
        }
    });
    // Unlinked: the followed link is gone from the fleet and its timeline
    // ends with the server's `Unlinked` step.
    let unlinked_steps = LocalResource::new(move || {
        app.epoch.track();
        let gone = link.with(Option::is_none) && app.load.with(|l| *l == crate::state::Load::Ready);
        let id = followed.get();
        async move {
            match (gone, id) {
                (true, Some(id)) => app.api().timeline(&id).await.ok(),
                _ => None,
            }
        }
    });
    let unlinked = Signal::derive(move || {
        link.with(Option::is_none)
            && unlinked_steps.get().flatten().is_some_and(|entries| {
                entries
                    .iter()
                    .max_by_key(|e| e.id)
                    .is_some_and(|e| e.kind == TimelineKind::Unlinked)
            })
    });
    view! {
        <section class="page">
            <header class="page-header">
                <h1>"Walkthrough"</h1>
                <p class="page-subtitle">
                    "The steps of Azure's passive geo-replication guide, against real Redis: link, write through the geo-primary URL, fail over, unlink"
                </p>
            </header>
            <ol class="tour card">
                <Step number=1 title="Link two caches" done=Signal::derive(move || link.with(Option::is_some))>
                    <p>
                        "On the cache that will be the geo-primary, open Geo-replication and select "
                        <em>"Add cache replication link"</em>
                        ". Pick a region on the map, choose a compatible cache, read the confirmation, and select Link."
                    </p>
                    <a class="btn btn-primary" href=start_href>"Start linking"</a>
                </Step>
                <Step number=2 title="Watch provisioning" done=linked>
                    <p>
                        "The link provisioning status moves from Creating to Succeeded while the full sync's progress bar fills. Both caches' Overview pages show the status and their role."
                    </p>
                    <a class="btn" href=geo_page>"Open Geo-replication"</a>
                </Step>
                <Step number=3 title="Write through the geo-primary URL" done=never>
                    <p>
                        "Copy a geo-primary URL from the Endpoints panel and write with any Redis client, e.g. "
                        <code>"redis-cli -h ADDRESS -p 6379 -a KEY set greeting hello"</code>
                        " (every address here is on port 6379). A write to the geo-secondary's own address answers READONLY."
                    </p>
                </Step>
                <Step number=4 title="Fail over" done=failed_over>
                    <p>
                        "Select Failover, check the settings list and the data sync offset (fewer than 14 bytes is ready), choose Planned, and watch Deleting, then Creating, then the roles swap; the link's timeline shows how long each step took here. The geo-primary URL keeps working."
                    </p>
                </Step>
                <Step number=5 title="Unlink" done=unlinked>
                    <p>
                        "Select Unlink caches and confirm. Both caches then accept reads and writes, and the secondary keeps the replicated data."
                    </p>
                </Step>
            </ol>
        </section>
    }
}
