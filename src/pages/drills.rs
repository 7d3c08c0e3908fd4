//! `/caches/:sub/:rg/:name/geo-replication/drills`: the Drills view of a
//! cache's link.

use leptos::prelude::*;

use super::{CacheFrame, Tab};
use crate::features::drills::Drills;

/// The Drills view for the route's cache.
#[component]
pub fn DrillsPage() -> impl IntoView {
    view! {
        <CacheFrame
            tab=Tab::GeoReplication
            subtitle="Drills: rehearse a failover, verify the data, inject faults"
            children=Box::new(|entry| view! { <Drills entry=entry/> }.into_any())
        />
    }
}
