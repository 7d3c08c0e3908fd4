//! What a start does with what the last run left: every cache's nodes are
//! adopted if still running or started again, every link's replication is
//! put back, and operations cut short are resumed or, when they can't be,
//! marked failed. Nothing is left orphaned and nothing is started twice.

use georep_core::link::{FailoverKind, FailoverPhase, LinkState, Pair};
use georep_core::ProvisioningState;

use crate::app::SharedApp;
use crate::caches::{finish_creating, finish_deleting};
use crate::links::{
    finish_failover, finish_linking, finish_operation, finish_unlinking, relink, LinkRecord,
};
use crate::ops::OperationKind;
use crate::store::StoreError;

/// Brings the fleet back to what the store says.
pub async fn resume(app: &SharedApp) -> Result<(), StoreError> {
    let unfinished = app.store.unfinished_operations()?;
    let op_for = |kind: OperationKind, target: &str| {
        unfinished
            .iter()
            .find(|op| op.kind == kind && op.target.eq_ignore_ascii_case(target))
            .map(|op| op.id.clone())
    };
    let mut resumed = Vec::new();

    for cache in app.store.caches(None, None)? {
        let target = cache.id.to_string();
        match cache.provisioning_state {
            ProvisioningState::Deleting => {
                let op = op_for(OperationKind::DeleteCache, &target).unwrap_or_default();
                resumed.push(op.clone());
                tracing::info!(cache = %cache.id.name, "resuming a delete");
                finish_deleting(app.clone(), cache.id.clone(), op).await;
            }
            ProvisioningState::Creating => {
                let op = op_for(OperationKind::CreateCache, &target).unwrap_or_default();
                resumed.push(op.clone());
                tracing::info!(cache = %cache.id.name, "resuming a create");
                finish_creating(app.clone(), cache, op).await;
            }
            _ => {
                let nodes = app.store.nodes(&cache.id)?;
                if let Err(error) = app.fleet.start(&cache, &nodes).await {
                    tracing::error!(cache = %cache.id.name, %error, "could not bring the cache's nodes back");
                }
            }
        }
    }

    for link in app.store.links()? {
        resumed.extend(link.operation.clone());
        match link.pair.state {
            LinkState::Linking => {
                tracing::info!(primary = %link.primary().name, "resuming a link's full sync");
                tokio::spawn(finish_linking(app.clone(), link));
            }
            LinkState::Unlinking => {
                tracing::info!(secondary = %link.secondary().name, "resuming an unlink");
                tokio::spawn(finish_unlinking(app.clone(), link));
            }
            LinkState::Failed | LinkState::Unlinked => {}
            LinkState::FailingOver { kind, phase } => {
                resume_failover(app, link, kind, phase).await?
            }
            LinkState::Linked => {
                let primary = app.store.nodes(link.primary())?;
                let secondary = app.store.nodes(link.secondary())?;
                if let Err(error) = app.fleet.replicate(&primary, &secondary).await {
                    tracing::error!(%error, secondary = %link.secondary().name, "could not restore replication");
                }
            }
        }
    }

    for op in unfinished {
        if !resumed.contains(&op.id) {
            tracing::warn!(operation = %op.id, kind = ?op.kind, "an operation was cut short by a restart");
            finish_operation(
                app,
                Some(&op.id),
                Some("The operation was interrupted by a server restart; run it again.".into()),
            );
        }
    }
    Ok(())
}

/// Picks a failover up where the last run left it.
///
/// Once the roles have swapped (phase `Creating`, or `Deleting` with the
/// secondary already a Redis primary), only the relink remains. Otherwise
/// nothing moved yet, and the failover runs from the start.
async fn resume_failover(
    app: &SharedApp,
    link: LinkRecord,
    kind: FailoverKind,
    phase: FailoverPhase,
) -> Result<(), StoreError> {
    let (old, new) = match phase {
        // `Promoted` already made the new primary the pair's primary.
        FailoverPhase::Creating => (link.secondary().clone(), link.primary().clone()),
        FailoverPhase::Deleting => (link.primary().clone(), link.secondary().clone()),
    };
    tracing::info!(from = %old.name, to = %new.name, ?phase, "resuming a failover");
    let swapped = phase == FailoverPhase::Creating
        || app
            .fleet
            .is_primary(&app.store.nodes(&new)?)
            .await
            .unwrap_or(false);
    if swapped {
        if phase == FailoverPhase::Deleting {
            let mut promoted = link.clone();
            if let Ok(pair) = link.pair.apply(georep_core::link::Event::Promoted) {
                promoted.pair = pair;
                app.store.put_link(&promoted)?;
            }
        }
        tokio::spawn(relink(app.clone(), old, new, kind));
    } else {
        // The link as it was before the request: linked, same primary.
        let mut before = link.clone();
        before.pair = Pair {
            state: LinkState::Linked,
            primary: link.pair.primary,
        };
        tokio::spawn(finish_failover(app.clone(), before, kind));
    }
    Ok(())
}
