//! `/walkthrough`: a guided tour of the steps of Azure's passive
//! geo-replication guide — link, write through
//! the geo-primary URL, fail over, unlink — that ticks itself off from what
//! the fleet shows.

mod progress;

use leptos::prelude::*;

use self::progress::{use_progress, Stage, PING_BYTES};
use crate::components::reactive::Derived;
use crate::components::show::Show;
use crate::components::sparkline::SampleAge;
use crate::routes::{add_link_href, geo_href, HOME};
use crate::state::use_app;

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
    let link = Derived::new(move |_| app.fleet.with(|f| f.links().into_iter().next()));
    let first_premium = Derived::new(move |_| {
        app.fleet.with(|f| {
            f.caches
                .iter()
                .find(|e| e.cache.sku.name == georep_core::SkuName::Premium && e.link.is_none())
                .map(|e| e.id().clone())
        })
    });
    let start_href = move || {
        link.get()
            .map(|l| geo_href(&l.primary))
            .or_else(|| first_premium.get().map(|id| add_link_href(&id)))
            .unwrap_or_else(|| HOME.to_owned())
    };
    let geo_page = move || link.get().map_or_else(start_href, |l| geo_href(&l.primary));
    let progress = use_progress(link);
    let offset = progress.offset;
    let wrote = progress.done(Stage::Write);
    view! {
        <section class="page">
            <header class="page-header">
                <h1>"Walkthrough"</h1>
                <p class="page-subtitle">
                    "The steps of Azure's passive geo-replication guide, against real Redis: link, write through the geo-primary URL, fail over, unlink"
                </p>
            </header>
            <ol class="tour card">
                <Step number=1 title="Link two caches" done=progress.done(Stage::Link)>
                    <p>
                        "On the cache that will be the geo-primary, open Geo-replication and select "
                        <em>"Add cache replication link"</em>
                        ". Pick a region on the map, choose a compatible cache, read the confirmation, and select Link."
                    </p>
                    // While a link exists, the next steps' buttons lead on.
                    <Show when=move || link.with(Option::is_none)>
                        <a class="btn btn-primary" href=start_href>"Start linking"</a>
                    </Show>
                </Step>
                <Step number=2 title="Watch provisioning" done=progress.done(Stage::Provisioned)>
                    <p>
                        "The link provisioning status moves from Creating to Succeeded while the full sync's progress bar fills. Both caches' Overview pages show the status and their role."
                    </p>
                    <a class="btn" href=geo_page>"Open Geo-replication"</a>
                </Step>
                <Step number=3 title="Write through the geo-primary URL" done=wrote>
                    <p>
                        "Copy a geo-primary URL from the Endpoints panel and write with any Redis client, e.g. "
                        <code>"redis-cli --tls --cacert ca.pem -h ADDRESS -p 6380 -a KEY set greeting hello"</code>
                        " (or port 6379 without TLS, while the cache's non-TLS port is on; the cache's Overview shows its own command). A write to the geo-secondary's own address answers READONLY."
                    </p>
                    <Show when=move || offset.with(Option::is_some)>
                        <p class="tour-evidence" data-primary-offset=move || offset.get().map(|o| o.offset)>
                            "The geo-primary's replication offset ("
                            <code>"master_repl_offset"</code>
                            "): "
                            <strong>{move || offset.get().map(|o| o.offset)}</strong>
                            " bytes, "
                            <SampleAge sampled_at=Signal::derive(move || offset.get().map(|o| o.at_ms))/>
                            {move || {
                                if wrote.get() {
                                    format!(". It grew by more than the {PING_BYTES} bytes a second of the primary's pings to its replicas: a write went through.")
                                } else {
                                    format!(". A write makes it grow by more than the {PING_BYTES} bytes a second of the primary's pings to its replicas.")
                                }
                            }}
                        </p>
                    </Show>
                </Step>
                <Step number=4 title="Fail over" done=progress.done(Stage::Failover)>
                    <p>
                        "Select Failover, check the settings list and the data sync offset (fewer than 14 bytes is ready), choose Planned, and watch Deleting, then Creating, then the roles swap; the link's timeline shows how long each step took here. The geo-primary URL keeps working."
                    </p>
                </Step>
                <Step number=5 title="Unlink" done=progress.done(Stage::Unlink)>
                    <p>
                        "Select Unlink caches and confirm. Both caches then accept reads and writes, and the secondary keeps the replicated data."
                    </p>
                </Step>
            </ol>
        </section>
    }
}
