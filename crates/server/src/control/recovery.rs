//! What a start does with what the last run left: every cache's nodes are
//! adopted if still running or started again, every link's replication,
//! listeners (the cache and geo-primary addresses, as the store has them)
//! and metrics are put back, and
//! operations cut short are resumed or, when they can't be, marked failed.
//! Nothing is left orphaned and nothing is started twice.

use georep_core::link::{FailoverPhase, LinkState, Pair};
use georep_core::ProvisioningState;

use crate::control::app::SharedApp;
use crate::control::caches::{finish_creating, finish_deleting};
use crate::control::failover;
use crate::control::links::{self, finish_linking, finish_unlinking};
use crate::control::ops::finish_operation;
use crate::control::update::finish_updating;
use crate::store::records::LinkRecord;
use crate::store::records::{NodeSlot, OperationKind, OperationRecord};
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

    // An import cut short restarted its shard primaries on the files, or
    // not yet: read which from the nodes before anything starts them.
    for op in unfinished
        .iter()
        .filter(|op| op.kind == OperationKind::Import)
    {
        resumed.push(op.id.clone());
        let before = import_note(app, &op.id);
        // Nothing copies the file any more; what a copy left is of no use.
        for (addr, _) in before.iter().flatten() {
            app.fleet.discard_import_copy(*addr);
        }
        let outcome = import_outcome(app, op, before).await;
        tracing::info!(operation = %op.id, loaded = outcome.is_ok(), "an import was cut short by a restart");
        finish_operation(app, Some(&op.id), outcome.err());
    }

    // Before any node starts: a geo-primary that lost every node would come
    // back empty, and its geo-secondary would resync from it and lose the
    // data too. Cut the geo-secondary loose first; the link fails.
    for link in app.store.links()? {
        if link.pair.state == LinkState::Linked
            && app
                .fleet
                .lost_everything(&app.store.nodes(link.primary())?)
                .await
        {
            links::primary_lost(app, link).await;
        }
    }

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
            ProvisioningState::Updating => {
                let op = op_for(OperationKind::UpdateCache, &target).unwrap_or_default();
                resumed.push(op.clone());
                tracing::info!(cache = %cache.id.name, "resuming an update");
                // Its nodes run again first, as every cache's do; then the
                // rest of the update.
                let nodes = app.store.nodes(&cache.id)?;
                if let Err(error) = app.fleet.start(&cache, &nodes).await {
                    tracing::error!(cache = %cache.id.name, %error, "could not bring the cache's nodes back");
                }
                finish_updating(app.clone(), cache.id.clone(), op).await;
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
        restore_link(app, link).await?;
    }

    let caches = app.store.caches(None, None)?;
    for op in unfinished {
        // A create, update or delete may have done everything but record
        // its end: its cache runs, or is gone. Then it succeeded. (An
        // update's operation is recorded only once its cache is `Updating`.)
        let cache = caches
            .iter()
            .find(|c| c.id.to_string().eq_ignore_ascii_case(&op.target));
        let done = match op.kind {
            OperationKind::CreateCache | OperationKind::UpdateCache => {
                cache.is_some_and(|c| c.provisioning_state == ProvisioningState::Succeeded)
            }
            OperationKind::DeleteCache => cache.is_none(),
            _ => false,
        };
        if done && !resumed.contains(&op.id) {
            finish_operation(app, Some(&op.id), None);
        } else if !resumed.contains(&op.id) {
            tracing::warn!(operation = %op.id, kind = ?op.kind, "an operation was cut short by a restart");
            if let (OperationKind::Export, Some(cache)) = (op.kind, cache) {
                match app.store.nodes(&cache.id) {
                    Ok(nodes) => app.fleet.discard_export_snapshots(&nodes).await,
                    Err(error) => tracing::warn!(%error, "could not read an export's nodes"),
                }
            }
            finish_operation(
                app,
                Some(&op.id),
                Some("The operation was interrupted by a server restart; run it again.".into()),
            );
        }
    }
    // Once the links are back, so an interrupted drill's keys can go.
    crate::control::drills::recover(app).await;
    Ok(())
}

/// Puts one link back: its geo-primary addresses on the geo-primary's node,
/// its metrics, and its replication or the operation it was in.
async fn restore_link(app: &SharedApp, link: LinkRecord) -> Result<(), StoreError> {
    let link = record_swap(app, link).await?;
    links::place_addresses(app, &link).await;
    links::watch(app, &link).await;
    match link.pair.state {
        LinkState::Linking => {
            tracing::info!(primary = %link.primary().name, "resuming a link's full sync");
            tokio::spawn(finish_linking(app.clone(), link));
        }
        LinkState::Unlinking => {
            tracing::info!(secondary = %link.secondary().name, "resuming an unlink");
            tokio::spawn(finish_unlinking(app.clone(), link));
        }
        // A lost geo-primary's secondary stands alone until a forced
        // failover or an unlink says what next.
        LinkState::Failed | LinkState::PrimaryLost | LinkState::Unlinked => {}
        LinkState::FailingOver {
            kind,
            phase: FailoverPhase::Creating,
        } => {
            // `Promoted` already made the new primary the pair's primary:
            // only the relink remains.
            tracing::info!(from = %link.secondary().name, to = %link.primary().name, "resuming a failover's relink");
            let (old, new) = (link.secondary().clone(), link.primary().clone());
            tokio::spawn(failover::relink(app.clone(), old, new, kind));
        }
        LinkState::FailingOver {
            kind,
            phase: FailoverPhase::Deleting,
        } => {
            // Nothing moved yet: run it from the start, from the link as it
            // was before the request (linked, same primary).
            tracing::info!(from = %link.primary().name, to = %link.secondary().name, "resuming a failover");
            let mut before = link.clone();
            before.pair = Pair {
                state: LinkState::Linked,
                primary: link.pair.primary,
            };
            tokio::spawn(failover::run(app.clone(), before, kind));
        }
        LinkState::Linked => {
            // `replicate` keeps a link cut on purpose cut.
            if let Err(error) = links::replicate(app, &link).await {
                tracing::error!(%error, secondary = %link.secondary().name, "could not restore replication");
            }
            if link.cut_since.is_none() {
                app.monitor.settled(&link.key(), None);
            }
        }
    }
    Ok(())
}

/// A failover the last run left `Deleting` may have swapped the roles in
/// Redis already: if so, records the promotion (what it lost is unknown
/// after a forced one) and returns the link as it is now.
async fn record_swap(app: &SharedApp, link: LinkRecord) -> Result<LinkRecord, StoreError> {
    let LinkState::FailingOver {
        kind,
        phase: FailoverPhase::Deleting,
    } = link.pair.state
    else {
        return Ok(link);
    };
    // Never replay blindly: a FAILOVER the last run sent may still be
    // running in Redis. Let it decide, then read the roles back.
    if let Err(error) = app
        .fleet
        .failover_settled(&app.store.nodes(link.primary())?)
        .await
    {
        tracing::warn!(%error, "could not read whether a failover is still running");
    }
    let swapped = app
        .fleet
        .is_primary(&app.store.nodes(link.secondary())?)
        .await
        .unwrap_or(false);
    if !swapped {
        return Ok(link);
    }
    failover::promoted(app, &link, kind, None, None).await;
    Ok(app.store.link_of(&link.first)?.unwrap_or(link))
}

/// What an import found before it began: each shard primary node and the
/// process it ran as.
type ImportNote = Vec<(std::net::Ipv4Addr, Option<u32>)>;

/// Where [`note_import`] keeps what an import found before it began.
fn import_key(op: &str) -> String {
    format!("import-before-{op}")
}

/// Records, before an import stops anything, each shard primary and the
/// process it runs as: the import restarts it on the file, so after a crash
/// a different process there says the file was loaded.
pub fn note_import(app: &SharedApp, op: &str, nodes: &[NodeSlot]) -> Result<(), StoreError> {
    let before: ImportNote = nodes
        .iter()
        .filter(|n| n.is_primary())
        .map(|n| Ok((n.addr, app.store.node_pid(n.addr)?)))
        .collect::<Result<_, StoreError>>()?;
    app.store.set_meta_record(&import_key(op), &before)
}

/// What [`note_import`] recorded for the import `op`, if it got that far.
fn import_note(app: &SharedApp, op: &str) -> Option<ImportNote> {
    app.store.meta_record(&import_key(op)).ok().flatten()
}

/// Whether an import the last run left unfinished loaded its files, read
/// from the nodes (before any starts): a shard loaded them if its primary
/// node is still its primary and runs as a new process (the import
/// restarted it on the file), or is down with the file in place and no
/// replica to take over (its start will load the file). A shard whose
/// primary is down while a replica runs did not: the replica, with the
/// data from before, takes over. So the operation succeeds only if every
/// shard loaded the files, and otherwise fails saying what the cache holds.
/// `before` is the import's [`note_import`], if it got that far.
async fn import_outcome(
    app: &SharedApp,
    op: &OperationRecord,
    before: Option<ImportNote>,
) -> Result<(), String> {
    let rerun = "The import was interrupted by a server restart";
    let before = before.ok_or_else(|| format!("{rerun} before it began; run it again."))?;
    let cache = app
        .store
        .caches(None, None)
        .map_err(|e| e.to_string())?
        .into_iter()
        .find(|c| c.id.to_string().eq_ignore_ascii_case(&op.target))
        .ok_or_else(|| format!("{rerun}, and its cache is gone."))?;
    let nodes = app.store.nodes(&cache.id).map_err(|e| e.to_string())?;
    let mut loaded = 0;
    for (addr, pid) in &before {
        let Some(slot) = nodes.iter().find(|n| n.addr == *addr && n.is_primary()) else {
            continue;
        };
        let loads = if app.fleet.is_running_or_starting(*addr).await {
            app.store.node_pid(*addr).ok().flatten() != *pid
        } else {
            let mut replica_runs = false;
            for replica in nodes
                .iter()
                .filter(|n| n.shard == slot.shard && !n.is_primary())
            {
                replica_runs |= app.fleet.is_running(replica.addr).await;
            }
            !replica_runs && !app.fleet.lost_everything(&[*slot]).await
        };
        loaded += usize::from(loads);
    }
    match loaded {
        n if n == before.len() => Ok(()),
        0 => Err(format!(
            "{rerun} before it loaded the files; the cache keeps the data it had. Run it again."
        )),
        n => Err(format!(
            "{rerun}: {n} of {} shard(s) loaded the files, the others keep the data they had. Run it again.",
            before.len()
        )),
    }
}
