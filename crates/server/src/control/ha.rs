//! In-cache high availability, as on Azure's Standard and Premium caches:
//! when a cache's primary node dies (its process exits, or it stops
//! answering for two probes in a row), its replica takes over; a replica
//! node that dies is started again and resyncs from its primary.
//!
//! The watchdog looks at every running cache's shard primaries. A dead one
//! is replaced under the change lock, so no request interleaves with it:
//! the fleet promotes the replica with the most data, moves the cache's
//! address (and the geo-primary addresses, if the cache is the geo-primary),
//! and starts the dead node again as a replica ([`crate::dataplane::fleet`]).
//! Here the rest follows: the geo-secondary is pointed at the new primary
//! (partial resync), the link's sampling moves to the new nodes, and the
//! timeline says what happened.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::Duration;

use georep_core::ProvisioningState;

use crate::control::{links, SharedApp};
use crate::live::timeline::Step;
use crate::store::records::CacheRecord;

/// How often the watchdog looks at the nodes' processes.
const LOOK: Duration = Duration::from_millis(250);
/// How often a primary node is asked to answer, and how long it may take.
const PROBE_EVERY: u32 = 4;
const PROBE_LIMIT: Duration = Duration::from_millis(800);
/// Probes in a row without an answer that make a node dead.
const STRIKES: u32 = 2;

/// Starts the watchdog; it runs until the server begins to shut down
/// ([`crate::control::App::shutting_down`]): nodes stopped on purpose are
/// not lost nodes.
pub fn start(app: SharedApp) {
    tokio::spawn(async move {
        let mut strikes: HashMap<Ipv4Addr, u32> = HashMap::new();
        let mut round: u32 = 0;
        loop {
            tokio::time::sleep(LOOK).await;
            if app.is_shutting_down() {
                return;
            }
            round = round.wrapping_add(1);
            let probe = round.is_multiple_of(PROBE_EVERY);
            if let Err(error) = look(&app, probe, &mut strikes).await {
                tracing::warn!(%error, "the watchdog could not look at the caches");
            }
        }
    });
}

/// One look at every running cache.
async fn look(
    app: &SharedApp,
    probe: bool,
    strikes: &mut HashMap<Ipv4Addr, u32>,
) -> Result<(), crate::store::StoreError> {
    let snapshot = app.store.snapshot()?;
    for stored in &snapshot.caches {
        let (cache, nodes) = (&stored.record, &stored.nodes);
        if cache.provisioning_state != ProvisioningState::Succeeded || busy(app, cache)? {
            continue;
        }
        let mut replica_lost = false;
        for replica in nodes.iter().filter(|n| !n.is_primary()) {
            replica_lost |= !app.fleet.is_running(replica.addr).await;
        }
        // Only while the primary runs: with the primary gone too, its
        // replacement decides first (and cuts a geo-secondary loose if
        // nothing has data), so no node comes back empty as a primary here.
        let primaries_running = {
            let mut all = true;
            for primary in nodes.iter().filter(|n| n.is_primary()) {
                all &= app.fleet.is_running(primary.addr).await;
            }
            all
        };
        if replica_lost && primaries_running {
            restart_replicas(app, cache).await;
        }
        for primary in nodes.iter().filter(|n| n.is_primary()) {
            let mut dead = !app.fleet.is_running(primary.addr).await;
            // A cache with a replica is also asked to answer: a hung node is
            // as gone as a dead one. A Basic cache has nothing to fail over to.
            if !dead && probe && cache.has_replicas() {
                if app.fleet.answers(primary.addr, PROBE_LIMIT).await {
                    strikes.remove(&primary.addr);
                } else {
                    let count = strikes.entry(primary.addr).or_default();
                    *count += 1;
                    dead = *count >= STRIKES;
                }
            }
            if dead {
                strikes.remove(&primary.addr);
                replace(app, cache, primary.shard, primary.addr).await;
            }
        }
    }
    Ok(())
}

/// Starts the cache's lost replica nodes again, as replicas of their
/// shard's primary (they resync from it), under the change lock.
async fn restart_replicas(app: &SharedApp, cache: &CacheRecord) {
    let _changes = app.lock_changes().await;
    if app.is_shutting_down() {
        return;
    }
    let Ok(Some(cache)) = app.store.cache(&cache.id) else {
        return;
    };
    if cache.provisioning_state != ProvisioningState::Succeeded {
        return;
    }
    let Ok(nodes) = app.store.nodes(&cache.id) else {
        return;
    };
    tracing::warn!(cache = %cache.id.name, "a replica node is gone; starting it again");
    if let Err(error) = app.fleet.start(&cache, &nodes).await {
        tracing::error!(cache = %cache.id.name, %error, "could not start the replica node again");
    }
}

/// Whether the cache's link is in the middle of something (its driver
/// handles node loss there: a failover is a loss of its own).
///
/// Read from the store's latest snapshot, which every link write renews:
/// as fresh as a query, without a query and a decode per cache four times
/// a second (a sixth of an idle server's CPU over 1,000 caches).
fn busy(app: &SharedApp, cache: &CacheRecord) -> Result<bool, crate::store::StoreError> {
    Ok(app
        .store
        .snapshot()?
        .cache(&cache.id)
        .and_then(|stored| stored.link.as_ref())
        .is_some_and(|link| link.pair.state.is_busy()))
}

/// Replaces the dead primary node `old` of `shard`, under the change lock.
async fn replace(app: &SharedApp, cache: &CacheRecord, shard: u32, old: Ipv4Addr) {
    let _changes = app.lock_changes().await;
    if app.is_shutting_down() {
        return;
    }
    // Look again now that nothing else runs: a request may have rebooted or
    // deleted the cache meanwhile.
    let Ok(Some(cache)) = app.store.cache(&cache.id) else {
        return;
    };
    let still_primary = app
        .store
        .nodes(&cache.id)
        .is_ok_and(|nodes| nodes.iter().any(|n| n.addr == old && n.is_primary()));
    if cache.provisioning_state != ProvisioningState::Succeeded
        || !still_primary
        || (app.fleet.is_running(old).await && app.fleet.answers(old, PROBE_LIMIT).await)
    {
        return;
    }
    tracing::warn!(cache = %cache.id.name, shard, node = %old, "the cache's primary node is gone; replacing it");
    if !app
        .fleet
        .can_take_over(&cache, shard)
        .await
        .unwrap_or(false)
    {
        // Nothing to take over with: the node will start again empty, so a
        // geo-secondary must stop following it first, or it would resync
        // from an empty cache and lose the data it still has.
        if let Ok(Some(link)) = app.store.link_of(&cache.id) {
            if link.primary() == &cache.id {
                links::primary_lost(app, link).await;
            }
        }
    }
    let replaced = match app.fleet.replace_primary(&cache, shard).await {
        Ok(replaced) => replaced,
        Err(error) => {
            tracing::error!(cache = %cache.id.name, %error, "could not replace the primary node");
            return;
        }
    };
    let Ok(Some(link)) = app.store.link_of(&cache.id) else {
        return;
    };
    // The geo-secondary follows the geo-primary's new primary node, by
    // partial resync. A geo-secondary whose nodes were all empty (its
    // replica had nothing yet) restarted its old primary empty and alone:
    // it must follow the geo-primary again, which gives it the data back.
    let geo_primary_moved = link.primary() == &cache.id && replaced.new.is_some();
    let secondary_restarted = link.secondary() == &cache.id && replaced.new.is_none();
    if geo_primary_moved || secondary_restarted {
        if let Err(error) = links::replicate(app, &link).await {
            tracing::error!(%error, "could not point the geo-secondary at the geo-primary's primary node");
        }
    }
    links::watch(app, &link).await;
    app.timeline.record(
        &link.reference(),
        Step::NodeReplaced {
            cache: cache.id.name.clone(),
            old: replaced.old.to_string(),
            new: replaced.new.map(|a| a.to_string()),
        },
    );
}
