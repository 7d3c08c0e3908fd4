//! The pages that are loaded on demand.
//!
//! In the release build (`--cfg georep_split`, which `cargo xtask
//! build-console` sets) each function here is a split point: the code only
//! its page needs becomes a wasm chunk of its own, fetched the first time
//! the page is shown, and code several of these pages share becomes a chunk
//! they fetch together. The first page a user opens, the cache list, then
//! loads only the shell and the list (README, console size notes).
//!
//! Without that flag (the browser tests, `trunk serve`) they are plain
//! async functions whose futures are ready at once, so a page renders in
//! the same turn it is routed to.

use leptos::prelude::*;

use crate::pages::add_link::AddLinkPage;
use crate::pages::dashboard::DashboardPage;
use crate::pages::drills::DrillsPage;
use crate::pages::geo_replication::GeoReplicationPage;
use crate::pages::overview::OverviewPage;
use crate::pages::walkthrough::WalkthroughPage;

/// A cache's overview.
#[cfg_attr(georep_split, leptos::lazy)]
pub async fn overview() -> AnyView {
    view! { <OverviewPage/> }.into_any()
}

/// A cache's geo-replication page.
#[cfg_attr(georep_split, leptos::lazy)]
pub async fn geo_replication() -> AnyView {
    view! { <GeoReplicationPage/> }.into_any()
}

/// A cache's add-link wizard.
#[cfg_attr(georep_split, leptos::lazy)]
pub async fn add_link() -> AnyView {
    view! { <AddLinkPage/> }.into_any()
}

/// The Drills view of a cache's link.
#[cfg_attr(georep_split, leptos::lazy)]
pub async fn drills() -> AnyView {
    view! { <DrillsPage/> }.into_any()
}

/// Every link with its health.
#[cfg_attr(georep_split, leptos::lazy)]
pub async fn dashboard() -> AnyView {
    view! { <DashboardPage/> }.into_any()
}

/// The guided tour.
#[cfg_attr(georep_split, leptos::lazy)]
pub async fn walkthrough() -> AnyView {
    view! { <WalkthroughPage/> }.into_any()
}
