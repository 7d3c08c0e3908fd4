//! `/caches/:sub/:rg/:name/geo-replication/add`: the link wizard.

use leptos::prelude::*;

use super::{CacheFrame, Tab};
use crate::features::link_wizard::LinkWizard;

/// The add-link wizard for the route's cache.
#[component]
pub fn AddLinkPage() -> impl IntoView {
    view! {
        <CacheFrame
            tab=Tab::GeoReplication
            subtitle="Add cache replication link"
            children=Box::new(|entry| {
                let primary = Signal::derive(move || entry.with(|e| e.id().clone()));
                view! { <LinkWizard primary=primary/> }.into_any()
            })
        />
    }
}
