//! A cache update (`PATCH`, or a `PUT` on a cache that exists): checked and
//! recorded at once, then applied to the nodes in the background as an
//! operation, as Azure's `Redis_Update` is long-running (the az CLI's
//! recording answers 202 with the cache `Updating`, then polls).
//!
//! While it runs the cache is `Updating`, so every other operation on it is
//! refused with 409. What applying it takes (the new node layout, the nodes
//! to stop, which settings to set on the running nodes) is stored in the
//! same transaction that turns the cache `Updating` and records the
//! operation, and every step is one a second run may repeat: a restart
//! finishes the update from there.

use serde::{Deserialize, Serialize};

use georep_core::arm::{RedisResource, RedisUpdateParameters, RedisUpdateProperties};
use georep_core::model::SkuName;
use georep_core::{check_change, CacheId, Change, ProvisioningState};

use crate::control::app::SharedApp;
use crate::control::ops::finish_operation;
use crate::control::shape::{validate_minimum_tls, validate_shape};
use crate::control::ControlError;
use crate::store::records::{CacheRecord, NodeSlot, OperationKind, OperationRecord};
use crate::store::UpdateCommit;

/// What applying an update to a cache's nodes takes.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Plan {
    /// The cache's nodes once reshaped (none if its shape stays).
    nodes: Option<Vec<NodeSlot>>,
    /// The nodes the new shape no longer has.
    gone: Vec<NodeSlot>,
    /// Whether the nodes must be (re)started and configured: a new shape or
    /// persistence setting.
    restart: bool,
    /// Whether the plain port opens or closes.
    plain_port: bool,
    /// Whether the minimum TLS version changes.
    minimum_tls: bool,
}

impl Plan {
    /// `nodes` and the nodes the update retires: what the store lists until
    /// those are stopped. A node retired from the store while it still
    /// runs could never be stopped by a restart: nothing would know its
    /// password, and it would run on, unlisted.
    fn with_retiring(&self, nodes: &[NodeSlot]) -> Vec<NodeSlot> {
        nodes.iter().chain(&self.gone).copied().collect()
    }
}

/// Where a cache's update plan is kept. One per cache: a cache is updated
/// by one operation at a time.
fn plan_key(id: &CacheId) -> String {
    format!("update-plan-{}", id.to_string().to_ascii_lowercase())
}

/// The changes an update asks for, as georep-core names them, in the order
/// they are checked.
fn changes(record: &CacheRecord, update: &RedisUpdateProperties) -> Vec<Change> {
    let mut changes = Vec::new();
    let resized = update.sku.is_some_and(|sku| sku != record.sku);
    let replicas = update
        .replicas_per_primary
        .or(update.replicas_per_master)
        .is_some_and(|r| r != record.replicas_per_primary);
    if resized || replicas {
        changes.push(Change::Scale);
    }
    if update.shard_count.is_some_and(|n| n != record.shard_count) {
        changes.push(Change::ChangeShardCount);
    }
    if let Some(config) = &update.redis_configuration {
        let now = record.redis_configuration.persistence();
        let asked = config.persistence();
        if (asked.rdb && !now.rdb) || (asked.aof && !now.aof) {
            changes.push(Change::EnablePersistence);
        }
    }
    changes
}

/// `PATCH …/redis/{name}`: scale, change shard count or persistence, and
/// simple settings. Answers the cache as it was, now `Updating`, as Azure's
/// recording does (a PATCH that asked for `publicNetworkAccess: Disabled`
/// was answered with `Enabled`), and the operation that applies the update.
pub async fn update(
    app: &SharedApp,
    id: &CacheId,
    update: RedisUpdateParameters,
) -> Result<(RedisResource, OperationRecord), ControlError> {
    let _changes = app.lock_changes().await;
    let mut record = app.cache(id)?;
    let view = app.core_view(&record)?;
    let props = update.properties.unwrap_or_default();
    for change in changes(&record, &props) {
        check_change(&view, change)?;
    }
    // Even a change of tags turns the cache `Updating`, so it waits for
    // whatever runs on the cache now.
    if !view.provisioning_state.is_running() {
        return Err(ControlError::conflict(
            "OperationInProgress",
            format!(
                "Cache '{}' is {}; wait until it is Succeeded.",
                id.name, view.provisioning_state
            ),
        ));
    }

    let sku = props.sku.unwrap_or(record.sku);
    let shard_count = props.shard_count.unwrap_or(record.shard_count);
    let config = props
        .redis_configuration
        .clone()
        .unwrap_or_else(|| record.redis_configuration.clone());
    let replicas = validate_shape(
        &sku,
        props
            .replicas_per_primary
            .or(props.replicas_per_master)
            .or(Some(record.replicas_per_primary))
            .filter(|_| sku.name == SkuName::Premium),
        shard_count,
        config.persistence().enabled(),
    )?;
    validate_minimum_tls(props.minimum_tls_version.as_deref())?;
    let reshape = shard_count != record.shard_count || replicas != record.replicas_per_primary;
    let mut plan = Plan {
        restart: reshape || config.persistence() != record.redis_configuration.persistence(),
        plain_port: props
            .enable_non_ssl_port
            .is_some_and(|v| v != record.enable_non_ssl_port),
        minimum_tls: props
            .minimum_tls_version
            .as_ref()
            .is_some_and(|v| Some(v) != record.minimum_tls_version.as_ref()),
        ..Plan::default()
    };
    if reshape {
        let old = app.store.nodes(id)?;
        let nodes = reshaped(app, &old, shard_count, replicas)?;
        plan.gone = old.iter().filter(|n| !nodes.contains(n)).copied().collect();
        plan.nodes = Some(nodes);
    }

    let mut answered = record.clone();
    answered.provisioning_state = ProvisioningState::Updating;
    record.sku = sku;
    record.shard_count = shard_count;
    record.replicas_per_primary = replicas;
    record.redis_configuration = config;
    if let Some(tags) = update.tags {
        record.tags = tags;
    }
    if let Some(v) = props.enable_non_ssl_port {
        record.enable_non_ssl_port = v;
    }
    if let Some(v) = props.minimum_tls_version {
        record.minimum_tls_version = Some(v);
    }
    if let Some(v) = props.public_network_access {
        record.public_network_access = Some(v);
    }
    record.provisioning_state = ProvisioningState::Updating;

    // The update's commit, which a restart resumes from: the plan, the
    // cache `Updating` with its new settings, the new layout (with the
    // nodes it retires, until they are stopped) and the operation, in one
    // transaction, while the change lock still reserves the fresh addresses.
    let op = OperationRecord::start(
        &id.subscription,
        &record.location,
        OperationKind::UpdateCache,
        id.to_string(),
    );
    let layout = plan.nodes.as_ref().map(|nodes| plan.with_retiring(nodes));
    app.store.commit_update(
        &record,
        UpdateCommit {
            plan_key: &plan_key(id),
            plan: &plan,
            nodes: layout.as_deref(),
            operation: &op,
        },
    )?;
    tracing::info!(cache = %id.name, operation = %op.id, "updating cache");
    let resource = app.resource(&answered)?;
    tokio::spawn(finish_updating(app.clone(), id.clone(), op.id.clone()));
    Ok((resource, op))
}

/// The node layout of `shard_count` shards of `replicas` replicas each:
/// the nodes that stay keep their slots, new ones get fresh addresses.
fn reshaped(
    app: &SharedApp,
    old: &[NodeSlot],
    shard_count: u32,
    replicas: u32,
) -> Result<Vec<NodeSlot>, ControlError> {
    let slots: Vec<(u32, u32)> = (0..shard_count.max(1))
        .flat_map(|shard| (0..=replicas).map(move |replica| (shard, replica)))
        .collect();
    let kept = |shard: u32, replica: u32| {
        old.iter()
            .find(|n| n.shard == shard && n.replica == replica)
            .copied()
    };
    let new_count = slots.iter().filter(|(s, r)| kept(*s, *r).is_none()).count();
    let mut fresh = app.fleet.allocate(new_count)?.into_iter();
    let mut nodes = Vec::with_capacity(slots.len());
    for (shard, replica) in slots {
        match kept(shard, replica) {
            Some(node) => nodes.push(node),
            None => nodes.extend(fresh.next().map(|addr| NodeSlot {
                shard,
                replica,
                addr,
            })),
        }
    }
    Ok(nodes)
}

/// Applies the plan of an update to the cache's nodes, then marks the cache
/// `Succeeded` (or `Failed`) and ends the operation `op_id` (empty when a
/// restart finds no operation for it: a store written by a server that
/// recorded the operation after the cache's commit, not with it).
pub async fn finish_updating(app: SharedApp, id: CacheId, op_id: String) {
    let outcome = apply(&app, &id).await;
    let _changes = app.lock_changes().await;
    let Ok(Some(mut record)) = app.store.cache(&id) else {
        return;
    };
    record.provisioning_state = match &outcome {
        Ok(()) => ProvisioningState::Succeeded,
        Err(error) => {
            tracing::error!(cache = %id.name, %error, "could not apply the update");
            ProvisioningState::Failed
        }
    };
    if let Err(error) = app.store.put_cache(&record) {
        tracing::error!(%error, "could not record the cache");
    }
    finish_operation(
        &app,
        Some(op_id.as_str()).filter(|o| !o.is_empty()),
        outcome.err(),
    );
    tracing::info!(cache = %id.name, state = %record.provisioning_state, "cache updated");
}

/// Each step can be repeated: stopping a stopped node does nothing, a start
/// adopts the nodes that run, and settings are set to what the record says.
async fn apply(app: &SharedApp, id: &CacheId) -> Result<(), String> {
    let record = app.cache(id).map_err(|e| e.to_string())?;
    let plan: Plan = app
        .store
        .meta_record(&plan_key(id))
        .map_err(|e| e.to_string())?
        .unwrap_or_default();
    app.fleet.stop_nodes(&plan.gone).await;
    if let Some(nodes) = &plan.nodes {
        app.store.set_nodes(id, nodes).map_err(|e| e.to_string())?;
    }
    let nodes = app.store.nodes(id).map_err(|e| e.to_string())?;
    if plan.restart {
        app.fleet
            .start(&record, &nodes)
            .await
            .map_err(|e| e.to_string())?;
    }
    // A start may have moved a node: read them again.
    let nodes = app.store.nodes(id).map_err(|e| e.to_string())?;
    if plan.plain_port {
        app.fleet
            .set_plain_port(&nodes, record.enable_non_ssl_port)
            .await
            .map_err(|e| e.to_string())?;
    }
    if plan.minimum_tls {
        let minimum =
            georep_core::arm::minimum_tls_or_default(record.minimum_tls_version.as_deref());
        app.fleet
            .set_minimum_tls(&nodes, &minimum)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}
