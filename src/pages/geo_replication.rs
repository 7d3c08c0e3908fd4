//! `/caches/:sub/:rg/:name/geo-replication`: a cache's Geo-replication
//! page: "Add cache replication link", the link with its live status,
//! Failover and Unlink (and, when the geo-primary lost every node, what
//! that means and what is left to do), the endpoints, the health and the
//! link's timeline.

use crate::regions;
use georep_core::link::LinkState;
use leptos::prelude::*;

use super::{sticky, CacheFrame, Tab};
use crate::components::card::{Card, Column, Table};
use crate::components::guarded_button::GuardedButton;
use crate::components::reactive::Derived;
use crate::components::show::Show;
use crate::components::status::{LinkBadge, SyncProgressBar};
use crate::features::endpoints::EndpointsPanel;
use crate::features::health::HealthPanel;
use crate::features::link_actions::LinkActions;
use crate::features::link_wizard::add_link_refusal;
use crate::features::primary_lost::PrimaryLostNotice;
use crate::features::timeline::TimelinePanel;
use crate::model::{format_time, CacheEntry, LinkView};
use crate::routes::{add_link_href, drills_href, overview_href, use_go};
use crate::state::use_app;

/// The linked-cache table's columns.
const COLUMNS: [Column; 5] = [
    Column::new("Name"),
    Column::new("Location"),
    Column::new("Role"),
    Column::new("Link provisioning status"),
    Column::hidden("Actions"),
];

/// The linked pair's row: the other cache, its role, the link's status.
#[component]
fn LinkRow(entry: Derived<CacheEntry>, link: Derived<LinkView>) -> impl IntoView {
    let app = use_app();
    let state = Signal::derive(move || link.with(|l| app.link_state(l)));
    let progress = Signal::derive(move || link.with(|l| l.progress));
    let peer = Derived::new(move |_| {
        let own = entry.with(|e| e.id().clone());
        link.with(|l| {
            if l.primary == own {
                (
                    l.secondary.clone(),
                    l.secondary_location.clone(),
                    "Geo-secondary",
                )
            } else {
                (l.primary.clone(), l.primary_location.clone(), "Geo-primary")
            }
        })
    });
    view! {
        <tr data-cache=move || peer.with(|p| p.0.name.clone())>
            <th scope="row">
                <a href=move || overview_href(&peer.get().0)>{move || peer.get().0.name}</a>
            </th>
            <td>{move || regions::display_name(&peer.get().1)}</td>
            <td>{move || peer.get().2}</td>
            <td class="cell-status">
                <LinkBadge state=state/>
                <Show when=move || state.get() == LinkState::Linking>
                    <SyncProgressBar progress=progress/>
                </Show>
            </td>
            <td class="cell-actions">
                <LinkActions link=link/>
            </td>
        </tr>
    }
}

/// The page body for a loaded cache.
#[component]
pub fn GeoReplication(entry: Derived<CacheEntry>) -> impl IntoView {
    let app = use_app();
    let go = use_go();
    let link = Derived::new(move |_| entry.with(|e| app.fleet.with(|f| f.link_of(e.id()))));
    let linked = Derived::new(move |_| link.with(Option::is_some));
    let add_refused = Signal::derive(move || entry.with(|e| add_link_refusal(&e.cache)));
    let add = Callback::new(move |()| {
        let href = entry.with_untracked(|e| add_link_href(e.id()));
        go(&href);
    });
    view! {
        <div class="command-bar" role="toolbar" aria-label="Geo-replication commands">
            <GuardedButton
                label="Add cache replication link"
                class="btn-primary"
                refusal=add_refused
                on_click=add
            />
        </div>
        {move || {
            if linked.get() {
                let link = sticky(link);
                let primary = Signal::derive(move || link.with(|l| l.primary.clone()));
                let secondary = Signal::derive(move || link.with(|l| l.secondary.clone()));
                view! {
                    <PrimaryLostNotice link=link/>
                    <Card title="Linked cache" heading_id="linked-heading">
                        <Table columns=&COLUMNS class="links-table">
                            <LinkRow entry=entry link=link/>
                        </Table>
                        {move || {
                            link.with(|l| l.last_failover.clone())
                                .map(|f| {
                                    let name = |id: &str| {
                                        id.rsplit('/').next().unwrap_or(id).to_owned()
                                    };
                                    let kind = match f.kind {
                                        georep_core::link::FailoverKind::Planned => "planned",
                                        georep_core::link::FailoverKind::Forced => "forced",
                                    };
                                    view! {
                                        <p class="last-failover muted">
                                            {format!(
                                                "Last failover: {kind}, from {} to {}, at {}.",
                                                name(&f.from),
                                                name(&f.to),
                                                format_time(&f.time),
                                            )}
                                        </p>
                                    }
                                })
                        }}
                        <p class="drills-entry">
                            <a class="btn btn-small" href=move || drills_href(&entry.get().cache.id)>
                                "Drills, verification and faults"
                            </a>
                        </p>
                    </Card>
                    <EndpointsPanel link=link/>
                    <HealthPanel primary=primary secondary=secondary/>
                    <TimelinePanel link=link/>
                }
                    .into_any()
            } else {
                view! {
                    <div class="card empty-state">
                        <p class="empty-title">"No geo-replication link"</p>
                        <p class="muted">
                            "Link this cache to a Premium cache, typically in another region, for disaster recovery. This cache will be the geo-primary."
                        </p>
                    </div>
                }
                    .into_any()
            }
        }}
    }
}

/// `/caches/:sub/:rg/:name/geo-replication`.
#[component]
pub fn GeoReplicationPage() -> impl IntoView {
    view! {
        <CacheFrame
            tab=Tab::GeoReplication
            children=Box::new(|entry| view! { <GeoReplication entry=entry/> }.into_any())
        />
    }
}
