//! The pages that are loaded on demand.
//!
//! In the release build (`--cfg georep_split`, which `cargo xtask
//! build-console` sets) each function here is a split point: the code only
//! its page needs becomes a wasm chunk of its own, fetched the first time
//! the page is shown, and code several of these pages share becomes a chunk
//! they fetch together. The first page a user opens, the cache list, then
//! loads only the shell and the list (README, console size notes).
//!
//! A chunk can fail to arrive (the static host is gone, or was redeployed
//! and no longer has this build's files): the split points are `fallible`,
//! so that is an error the page shows, not a trap that stops the console,
//! and the next visit to the page tries again.
//!
//! Without the flag (the browser tests, `trunk serve`) these are plain
//! functions, and their pages are ready at once.

use std::future::Future;
use std::pin::Pin;

use leptos::prelude::*;

use crate::pages::add_link::AddLinkPage;
use crate::pages::dashboard::DashboardPage;
use crate::pages::drills::DrillsPage;
use crate::pages::geo_replication::GeoReplicationPage;
use crate::pages::overview::OverviewPage;
use crate::pages::walkthrough::WalkthroughPage;

/// A page's code did not load.
#[derive(Debug, Clone, Copy)]
pub struct ChunkUnavailable;

#[cfg(georep_split)]
impl From<leptos::wasm_split::SplitLoaderError> for ChunkUnavailable {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        ChunkUnavailable
    }
}

/// A page on its way: its view once its code is loaded.
pub type Loading = Pin<Box<dyn Future<Output = Result<AnyView, ChunkUnavailable>> + Send>>;

/// Declares a split point that builds `$page`, and the public function
/// that starts loading it.
macro_rules! chunk {
    ($(#[$doc:meta])* $load:ident, $split:ident => $page:ident) => {
        #[cfg_attr(
            georep_split,
            leptos::wasm_split::wasm_split($split, wasm_split_path = ::leptos::wasm_split, fallible)
        )]
        fn $split() -> Result<AnyView, ChunkUnavailable> {
            Ok(view! { <$page/> }.into_any())
        }

        $(#[$doc])*
        pub fn $load() -> Loading {
            #[cfg(georep_split)]
            let loading = $split();
            #[cfg(not(georep_split))]
            let loading = std::future::ready($split());
            Box::pin(loading)
        }
    };
}

chunk!(
    /// A cache's overview.
    overview, overview_page => OverviewPage
);
chunk!(
    /// A cache's geo-replication page.
    geo_replication, geo_replication_page => GeoReplicationPage
);
chunk!(
    /// A cache's add-link wizard.
    add_link, add_link_page => AddLinkPage
);
chunk!(
    /// The Drills view of a cache's link.
    drills, drills_page => DrillsPage
);
chunk!(
    /// Every link with its health.
    dashboard, dashboard_page => DashboardPage
);
chunk!(
    /// The guided tour.
    walkthrough, walkthrough_page => WalkthroughPage
);
