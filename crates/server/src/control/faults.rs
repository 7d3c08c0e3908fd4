//! Faults on purpose (`/x-georep/faults`), to rehearse disasters: cut a
//! link's replication and restore it, kill a node, or kill every node of a
//! region. Each shows on the link's timeline. None goes around the rules
//! the automatic actions keep: a killed node is healed by the watchdog as
//! any lost node is, and no fault replaces data with emptiness.

use crate::control::{links, ControlError, SharedApp};
use crate::live::timeline::Step;
use crate::store::records::now;

/// A fault to inject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The geo-secondary loses its replication link (and keeps its data).
    CutLink,
    /// The cut link comes back: a partial resync if the primary's backlog
    /// still holds the gap, else a full sync.
    RestoreLink,
    /// `kill -9` of one node: of the geo-primary or the geo-secondary
    /// cache, its primary node or a replica.
    KillNode {
        /// Of the geo-secondary cache, rather than the geo-primary.
        secondary: bool,
        /// A replica, rather than the primary node.
        replica: bool,
    },
    /// `kill -9` of every node of every cache in `region`.
    KillRegion {
        /// The region, in ARM's form.
        region: String,
    },
}

/// What a fault did, in words, for the answer and the timeline.
pub type Injected = String;

/// Injects `fault` on the link `linked_server_id`.
pub async fn inject(
    app: &SharedApp,
    linked_server_id: &str,
    fault: Fault,
) -> Result<Injected, ControlError> {
    let _changes = app.lock_changes().await;
    let mut link = links::find(app, linked_server_id)?;
    if link.pair.state.is_busy() {
        return Err(ControlError::conflict(
            "OperationInProgress",
            format!(
                "The link is {}; wait until it has settled.",
                link.pair.state
            ),
        ));
    }
    let what = match fault {
        Fault::CutLink => {
            if link.cut_since.is_some() {
                return Err(ControlError::conflict(
                    "FaultActive",
                    "The link is already cut.",
                ));
            }
            app.fleet.cut(&app.store.nodes(link.secondary())?).await?;
            link.cut_since = Some(now());
            links::save(app, &link)?;
            format!(
                "{} no longer replicates {}; it keeps its data.",
                link.secondary().name,
                link.primary().name
            )
        }
        Fault::RestoreLink => {
            if link.cut_since.is_none() {
                return Err(ControlError::conflict(
                    "FaultNotActive",
                    "The link is not cut.",
                ));
            }
            link.cut_since = None;
            links::save(app, &link)?;
            links::replicate(app, &link).await?;
            format!(
                "{} replicates {} again (partially if the backlog held the gap).",
                link.secondary().name,
                link.primary().name
            )
        }
        Fault::KillNode { secondary, replica } => {
            let cache = if secondary {
                link.secondary()
            } else {
                link.primary()
            };
            let node = app
                .store
                .nodes(cache)?
                .into_iter()
                .find(|n| n.is_primary() != replica)
                .ok_or_else(|| {
                    ControlError::invalid("role", format!("{} has no such node.", cache.name))
                })?;
            app.fleet.kill_node(node.addr).await;
            format!(
                "the {} node {} of {} was killed.",
                if replica { "replica" } else { "primary" },
                node.addr,
                cache.name
            )
        }
        Fault::KillRegion { region } => {
            let region = georep_core::regions::normalize(&region);
            let mut killed = 0;
            for cache in app.store.caches(None, None)? {
                if georep_core::regions::normalize(&cache.location) != region {
                    continue;
                }
                for node in app.store.nodes(&cache.id)? {
                    app.fleet.kill_node(node.addr).await;
                    killed += 1;
                }
            }
            if killed == 0 {
                return Err(ControlError::invalid(
                    "region",
                    format!("No cache runs in '{region}'."),
                ));
            }
            format!("every node in {region} was killed ({killed}).")
        }
    };
    let step = match &what {
        w if w.contains("again") => Step::FaultCleared(what.clone()),
        _ => Step::FaultInjected(what.clone()),
    };
    app.timeline.record(&link.reference(), step);
    tracing::warn!(fault = %what, "fault injected");
    Ok(what)
}

/// The faults active on the link: a cut, and since when.
pub fn active(app: &SharedApp, linked_server_id: &str) -> Result<Option<String>, ControlError> {
    Ok(links::find(app, linked_server_id)?.cut_since)
}
