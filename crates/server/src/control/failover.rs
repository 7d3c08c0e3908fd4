//! Failover: the link created in reverse on the current geo-secondary.
//!
//! The state machine decides whether one may start (same size, link
//! `Succeeded`, nothing else running). The link then reports `Deleting`
//! while the roles swap, `Creating` once the new primary takes writes and
//! the old one catches up as its secondary, and `Succeeded` again.
//!
//! - **Planned**: Redis's `FAILOVER TO … TIMEOUT …` pauses writes, waits
//!   until the secondary has every byte (nudged, so it takes milliseconds,
//!   not Redis's one-second acknowledgement), and swaps the roles (the old
//!   primary resyncs partially); then the geo-primary addresses move to the
//!   new primary's node: dropped from the old one's `bind`, its clients on
//!   them disconnected, added to the new one's. Nothing is lost.
//! - **Forced**: for when the primary is gone. The secondary is promoted at
//!   once and the addresses move; what may be lost (the old primary's last
//!   known offset minus what the new one had) is reported on the operation,
//!   the link and its timeline. The old primary rejoins as the secondary
//!   when it answers again.
//!
//! If the swap fails, nothing moved: `FailoverAborted` puts the link back.

use georep_core::arm::{FailoverSummary, OperationProperties};
use georep_core::link::{Event, FailoverKind, FailoverPhase, LinkState};
use georep_core::CacheId;

use crate::control::app::SharedApp;
use crate::control::links::{self, Created, Progress};
use crate::control::ops::finish_operation;
use crate::control::ControlError;
use crate::dataplane::fleet::FleetError;
use crate::live::timeline::Step;
use crate::store::records::LinkRecord;
use crate::store::records::{now, OperationKind, OperationRecord};

/// How often the old primary's catching up is checked.
const RELINK_POLL: std::time::Duration = std::time::Duration::from_millis(200);

/// Picks the failover a `PUT` in reverse asks for: planned unless the
/// `x-georep-failover=forced` extension says otherwise.
pub fn kind_from_query(value: Option<&str>) -> Result<FailoverKind, ControlError> {
    match value.map(str::to_ascii_lowercase).as_deref() {
        None | Some("planned") => Ok(FailoverKind::Planned),
        Some("forced") => Ok(FailoverKind::Forced),
        Some(other) => Err(ControlError::invalid(
            "x-georep-failover",
            format!("'{other}' is not a failover kind; use 'planned' or 'forced'."),
        )),
    }
}

/// Starts a failover of `link`, asked for on `requested_on` (the current
/// geo-secondary). The caller holds the change lock.
pub async fn request(
    app: &SharedApp,
    link: &LinkRecord,
    requested_on: &CacheId,
    kind: FailoverKind,
) -> Result<Created, ControlError> {
    let a = app.core_view(&app.cache(&link.first)?)?;
    let b = app.core_view(&app.cache(&link.second)?)?;
    let same_size = georep_core::compat::same_size(&a, &b);
    let mut next = link.clone();
    next.pair = link
        .pair
        .apply(Event::FailoverRequested { kind, same_size })?;
    let cache = app.cache(requested_on)?;
    let op = OperationRecord::start(
        &requested_on.subscription,
        &cache.location,
        OperationKind::CreateLink,
        requested_on.linked_server_id(&link.peer_of(requested_on).name),
    );
    next.operation = Some(op.id.clone());
    app.store.put_operation(&op)?;
    links::save(app, &next)?;
    tracing::info!(from = %link.primary().name, to = %link.secondary().name, ?kind, "failing over");
    app.monitor.busy(&link.key());
    app.timeline
        .record(&link.reference(), Step::FailoverRequested(kind));
    let resource = links::view(app, &next, requested_on).await?;
    tokio::spawn(run(app.clone(), link.clone(), kind));
    Ok(Created::Started(Box::new(resource), Box::new(op)))
}

/// Runs a failover that `before` (the link as it was) was asked for: swaps
/// the roles on every shard and moves the geo-primary endpoints, feeds
/// `Promoted`, then waits until the old primary follows the new one and
/// feeds `Relinked`. If the swap fails, feeds `FailoverAborted`.
pub async fn run(app: SharedApp, before: LinkRecord, kind: FailoverKind) {
    match swap(&app, &before, kind).await {
        Ok((bytes_possibly_lost, partial_resync)) => {
            promoted(&app, &before, kind, bytes_possibly_lost, partial_resync).await;
            relink(
                app,
                before.primary().clone(),
                before.secondary().clone(),
                kind,
            )
            .await;
        }
        Err(error) => aborted(&app, &before, error.to_string()).await,
    }
}

/// Swaps the roles in Redis; returns the bytes possibly lost and whether
/// the old primary resynced partially, each if known. On error nothing
/// moved. The addresses move once the swap is recorded ([`promoted`]).
async fn swap(
    app: &SharedApp,
    before: &LinkRecord,
    kind: FailoverKind,
) -> Result<(Option<u64>, Option<bool>), FleetError> {
    let old = app.store.nodes(before.primary())?;
    let new = app.store.nodes(before.secondary())?;
    match kind {
        FailoverKind::Planned => {
            // The geo-primary URLs leave the old primary first, so no client
            // reconnects to a node that is stepping down; they come back on
            // the new primary once the swap is recorded, or on the old one
            // if it did not happen (`aborted`).
            app.fleet.withdraw_geo_addresses(before.primary()).await?;
            let report = app.fleet.planned_failover(&old, &new).await?;
            tracing::info!(
                partial_resync = report.all_partial(),
                "planned failover swapped the roles"
            );
            Ok((Some(0), Some(report.all_partial())))
        }
        FailoverKind::Forced => {
            let offsets = app.monitor.last_primary_offsets(&before.key());
            let report = app.fleet.forced_failover(&old, &new, &offsets).await?;
            let lost = report.loss_is_known().then(|| report.bytes_maybe_lost());
            tracing::warn!(
                bytes_possibly_lost = ?lost,
                "forced failover promoted the secondary"
            );
            Ok((lost, None))
        }
    }
}

/// After the swap: feeds `Promoted` (the link is `Creating`), moves the
/// geo-primary addresses to the new primary, reports what the failover did
/// on the link, its operation and its timeline, and samples the new roles.
pub async fn promoted(
    app: &SharedApp,
    before: &LinkRecord,
    kind: FailoverKind,
    bytes_possibly_lost: Option<u64>,
    partial_resync: Option<bool>,
) {
    let summary = FailoverSummary {
        kind,
        from: before.primary().to_string(),
        to: before.secondary().to_string(),
        time: now(),
        bytes_possibly_lost: match kind {
            FailoverKind::Planned => Some(0),
            FailoverKind::Forced => bytes_possibly_lost,
        },
        partial_resync,
    };
    let Some((link, _)) = advance(app, before.primary(), Event::Promoted, |link| {
        link.last_failover = Some(summary.clone());
    })
    .await
    else {
        return;
    };
    links::place_addresses(app, &link).await;
    if let Some(op_id) = &link.operation {
        report_on_operation(app, op_id, &summary);
    }
    app.timeline
        .record(&link.reference(), Step::Promoted(summary));
    links::watch(app, &link).await;
}

/// Adds the failover's summary to its (still running) operation.
fn report_on_operation(app: &SharedApp, op_id: &str, summary: &FailoverSummary) {
    let Ok(Some(mut op)) = app.store.operation(op_id) else {
        return;
    };
    op.properties = Some(OperationProperties {
        failover: Some(summary.clone()),
    });
    if let Err(error) = app.store.put_operation(&op) {
        tracing::error!(%error, "could not record the failover on its operation");
    }
}

/// The swap failed: the link is put back as it was.
async fn aborted(app: &SharedApp, before: &LinkRecord, why: String) {
    tracing::warn!(error = %why, "failover did not happen; the link is as it was");
    let Some((link, op_id)) = advance(app, before.primary(), Event::FailoverAborted, |_| {}).await
    else {
        return;
    };
    // The geo-primary URLs go back to the primary, which kept its role.
    links::place_addresses(app, &link).await;
    app.timeline
        .record(&link.reference(), Step::FailoverAborted(why.clone()));
    app.monitor.settled(&link.key(), None);
    finish_operation(
        app,
        op_id.as_deref(),
        Some(format!("The failover did not happen: {why}")),
    );
}

/// After a promotion: waits until the old primary replicates the new one
/// (asking it to rejoin after a forced failover, for as long as it takes it
/// to answer again), then feeds `Relinked`.
pub async fn relink(app: SharedApp, old_id: CacheId, new_id: CacheId, kind: FailoverKind) {
    let (Ok(old), Ok(new)) = (app.store.nodes(&old_id), app.store.nodes(&new_id)) else {
        return;
    };
    let mut progress = None;
    loop {
        let Ok(Some(link)) = app.store.link_of(&old_id) else {
            return;
        };
        if !matches!(
            link.pair.state,
            LinkState::FailingOver {
                phase: FailoverPhase::Creating,
                ..
            }
        ) {
            return;
        }
        if kind == FailoverKind::Forced {
            if let Err(error) = app.fleet.rejoin(&old, &new).await {
                tracing::debug!(%error, "the old primary can't rejoin yet");
            }
        }
        match app.fleet.sync_state(&new, &old).await {
            Ok(state) if state.done => break,
            Ok(state) => progress
                .get_or_insert_with(|| Progress::new(&app, &link))
                .report(state.progress),
            Err(_) => {}
        }
        tokio::time::sleep(RELINK_POLL).await;
    }
    if let Some((link, op_id)) = advance(&app, &old_id, Event::Relinked, |_| {}).await {
        app.timeline
            .record(&link.reference(), Step::FailoverCompleted);
        // A last sample of the settled roles, then health counts again.
        links::watch(&app, &link).await;
        app.monitor.settled(&link.key(), Some(true));
        finish_operation(&app, op_id.as_deref(), None);
    }
    tracing::info!(primary = %new_id.name, secondary = %old_id.name, "failover complete");
}

/// Feeds `event` to the stored link of `member`, applies `update`, and
/// saves it; returns the link, with its operation's id taken once the link
/// has settled (no longer busy). `None` if the link is gone or refuses.
async fn advance(
    app: &SharedApp,
    member: &CacheId,
    event: Event,
    update: impl FnOnce(&mut LinkRecord),
) -> Option<(LinkRecord, Option<String>)> {
    let _changes = app.lock_changes().await;
    let mut link = app.store.link_of(member).ok()??;
    match link.pair.apply(event) {
        Ok(pair) => link.pair = pair,
        Err(refusal) => {
            tracing::warn!(%refusal, "the link changed during the failover");
            return None;
        }
    }
    update(&mut link);
    let settled = if link.pair.state.is_busy() {
        None
    } else {
        link.operation.take()
    };
    if let Err(error) = links::save(app, &link) {
        tracing::error!(%error, "could not record the link");
    }
    Some((link, settled))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_names_the_kind() {
        assert_eq!(kind_from_query(None).unwrap(), FailoverKind::Planned);
        assert_eq!(
            kind_from_query(Some("Forced")).unwrap(),
            FailoverKind::Forced
        );
        assert!(kind_from_query(Some("sideways")).is_err());
    }
}
