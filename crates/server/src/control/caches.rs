//! Cache operations: create, delete, keys, export and import, reboot (an
//! update is `update.rs`'s).
//!
//! Each checks georep-core's restrictions through the cache's rules view
//! before changing anything, under the app's change lock; the slow part
//! (starting or stopping processes, writing files) runs in the background
//! and is tracked by an [`OperationRecord`].

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use georep_core::arm::{
    AccessKeys, ExportParameters, ImportParameters, KeyType, RebootParameters,
    RedisCreateParameters, RedisResource, RedisUpdateParameters,
};
use georep_core::{check_change, regions, CacheId, Change, ProvisioningState};

use crate::control::app::SharedApp;
use crate::control::ops::finish_operation;
use crate::control::shape::{layout, validate_minimum_tls, validate_shape};
use crate::control::ControlError;
use crate::store::records::{
    reported_redis_version, AddressRole, CacheRecord, NodeSlot, REDIS_PORT, TLS_PORT,
};
use crate::store::records::{OperationKind, OperationRecord};

/// What a cache `PUT` did.
pub enum Put {
    /// A new cache, starting.
    Created(Box<RedisResource>, Box<OperationRecord>),
    /// An existing cache, being updated in place.
    Updated(Box<RedisResource>, Box<OperationRecord>),
}

/// `PUT …/redis/{name}`: creates a cache and starts its nodes, or updates an existing one.
pub async fn put(
    app: &SharedApp,
    id: &CacheId,
    params: RedisCreateParameters,
) -> Result<Put, ControlError> {
    let location = regions::find(&params.location)
        .map(|r| r.name.clone())
        .ok_or_else(|| {
            ControlError::invalid(
                "location",
                format!("'{}' is not an Azure region.", params.location),
            )
        })?;
    let p = params.properties;
    let redis_version = reported_redis_version(p.redis_version.as_deref()).ok_or_else(|| {
        ControlError::invalid(
            "properties.redisVersion",
            "The Redis version must be '4', '6' or 'latest'.",
        )
    })?;

    if app.store.cache(id)?.is_some() {
        // ARM's PUT is create-or-update: the same rules as PATCH apply.
        let as_update = RedisUpdateParameters {
            tags: Some(params.tags),
            properties: Some(georep_core::arm::RedisUpdateProperties {
                sku: Some(p.sku),
                shard_count: Some(p.shard_count.unwrap_or(0)),
                redis_configuration: p.redis_configuration,
                enable_non_ssl_port: p.enable_non_ssl_port,
                minimum_tls_version: p.minimum_tls_version,
                replicas_per_master: p.replicas_per_master,
                replicas_per_primary: p.replicas_per_primary,
                public_network_access: p.public_network_access,
            }),
        };
        let (resource, op) = crate::control::update::update(app, id, as_update).await?;
        return Ok(Put::Updated(Box::new(resource), Box::new(op)));
    }

    let shard_count = p.shard_count.unwrap_or(0);
    let redis_configuration = p.redis_configuration.unwrap_or_default();
    validate_minimum_tls(p.minimum_tls_version.as_deref())?;
    let replicas = validate_shape(
        &p.sku,
        p.replicas_per_primary.or(p.replicas_per_master),
        shard_count,
        redis_configuration.persistence().enabled(),
    )?;
    let record = CacheRecord {
        id: id.clone(),
        location,
        tags: params.tags,
        zones: params.zones,
        sku: p.sku,
        redis_version,
        replicas_per_primary: replicas,
        shard_count,
        redis_configuration,
        enable_non_ssl_port: p.enable_non_ssl_port.unwrap_or(false),
        minimum_tls_version: p.minimum_tls_version,
        public_network_access: p.public_network_access.or(Some("Enabled".into())),
        subnet_id: p.subnet_id,
        private_endpoints: vec![],
        provisioning_state: ProvisioningState::Creating,
        keys: AccessKeys {
            primary_key: crate::secrets::new_access_key(),
            secondary_key: crate::secrets::new_access_key(),
        },
    };

    let _changes = app.lock_changes().await;
    if app.store.cache(id)?.is_some() {
        return Err(ControlError::conflict(
            "Conflict",
            format!("Cache '{}' was created by another request.", id.name),
        ));
    }
    // The nodes' addresses and the cache's own, handed out together.
    let mut addrs = app.fleet.allocate(record.node_count() as usize + 1)?;
    let cache_address = addrs.pop().unwrap_or(Ipv4Addr::UNSPECIFIED);
    let nodes = layout(shard_count, replicas, &addrs);
    let op = OperationRecord::start(
        &id.subscription,
        &record.location,
        OperationKind::CreateCache,
        id.to_string(),
    );
    app.store.put_operation(&op)?;
    app.store.put_cache(&record)?;
    app.store.set_nodes(id, &nodes)?;
    app.store
        .set_address(id, AddressRole::Cache, cache_address)?;
    tracing::info!(cache = %id.name, nodes = nodes.len(), address = %cache_address, "creating cache");
    let mut resource = app.resource(&record)?;
    resource.properties.access_keys = Some(record.keys.clone());
    tokio::spawn(finish_creating(app.clone(), record, op.id.clone()));
    Ok(Put::Created(Box::new(resource), Box::new(op)))
}

/// Starts (or, after a restart, adopts) a cache's nodes, then marks it running.
pub async fn finish_creating(app: SharedApp, record: CacheRecord, op_id: String) {
    let outcome = match app.store.nodes(&record.id) {
        Ok(nodes) => app
            .fleet
            .start(&record, &nodes)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    let _changes = app.lock_changes().await;
    let Ok(Some(mut record)) = app.store.cache(&record.id) else {
        return;
    };
    record.provisioning_state = match &outcome {
        Ok(_) => ProvisioningState::Succeeded,
        Err(error) => {
            tracing::error!(cache = %record.id.name, %error, "could not start the cache");
            ProvisioningState::Failed
        }
    };
    if let Err(error) = app.store.put_cache(&record) {
        tracing::error!(%error, "could not record the cache");
    }
    finish_operation(&app, Some(&op_id), outcome.err());
    tracing::info!(cache = %record.id.name, state = %record.provisioning_state, "cache created");
}

/// `DELETE …/redis/{name}`: refused while linked; otherwise stops the nodes in the background.
/// `None` when there was no such cache (ARM answers 204).
pub async fn delete(
    app: &SharedApp,
    id: &CacheId,
) -> Result<Option<OperationRecord>, ControlError> {
    let _changes = app.lock_changes().await;
    let Some(mut record) = app.store.cache(id)? else {
        return Ok(None);
    };
    check_change(&app.core_view(&record)?, Change::Delete)?;
    if matches!(
        record.provisioning_state,
        ProvisioningState::Creating | ProvisioningState::Deleting | ProvisioningState::Updating
    ) {
        // Stopping nodes that are still starting could orphan them.
        return Err(ControlError::conflict(
            "OperationInProgress",
            format!(
                "Cache '{}' is {}; wait until it has finished.",
                id.name, record.provisioning_state
            ),
        ));
    }
    Ok(Some(start_deleting(app, &mut record)?))
}

fn start_deleting(
    app: &SharedApp,
    record: &mut CacheRecord,
) -> Result<OperationRecord, ControlError> {
    record.provisioning_state = ProvisioningState::Deleting;
    let op = OperationRecord::start(
        &record.id.subscription,
        &record.location,
        OperationKind::DeleteCache,
        record.id.to_string(),
    );
    app.store.put_operation(&op)?;
    app.store.put_cache(record)?;
    tracing::info!(cache = %record.id.name, "deleting cache");
    tokio::spawn(finish_deleting(
        app.clone(),
        record.id.clone(),
        op.id.clone(),
    ));
    Ok(op)
}

/// Stops a cache's nodes, removes their files and forgets the cache.
pub async fn finish_deleting(app: SharedApp, id: CacheId, op_id: String) {
    let nodes = app.store.nodes(&id).unwrap_or_default();
    app.fleet.stop_nodes(&nodes).await;
    let _changes = app.lock_changes().await;
    let outcome = app.store.delete_cache(&id).map_err(|e| e.to_string());
    finish_operation(&app, Some(&op_id), outcome.err());
    tracing::info!(cache = %id.name, "cache deleted");
}

/// `DELETE /subscriptions/{sub}/resourceGroups/{group}`: deletes the group's
/// unlinked caches; linked ones stay, and the refusal names each of them.
pub async fn delete_group(
    app: &SharedApp,
    subscription: &str,
    group: &str,
) -> Result<Vec<OperationRecord>, ControlError> {
    let _changes = app.lock_changes().await;
    let mut started = Vec::new();
    let mut refused = Vec::new();
    for mut record in app.store.caches(Some(subscription), Some(group))? {
        if matches!(
            record.provisioning_state,
            ProvisioningState::Creating | ProvisioningState::Deleting | ProvisioningState::Updating
        ) {
            continue;
        }
        match check_change(&app.core_view(&record)?, Change::DeleteResourceGroup) {
            Ok(()) => started.push(start_deleting(app, &mut record)?),
            Err(restriction) => refused.push(restriction),
        }
    }
    if refused.is_empty() {
        Ok(started)
    } else {
        Err(ControlError::RestrictedMany {
            message: format!(
                "The resource group '{group}' can't be deleted while it holds geo-replicated caches; {} other cache(s) are being deleted.",
                started.len()
            ),
            restrictions: refused,
        })
    }
}

/// `POST …/regenerateKey`: replaces one access key; the other keeps working.
pub async fn regenerate_key(
    app: &SharedApp,
    id: &CacheId,
    key_type: KeyType,
) -> Result<AccessKeys, ControlError> {
    let _changes = app.lock_changes().await;
    let mut record = app.cache(id)?;
    require_settled(app, &record)?;
    match key_type {
        KeyType::Primary => record.keys.primary_key = crate::secrets::new_access_key(),
        KeyType::Secondary => record.keys.secondary_key = crate::secrets::new_access_key(),
    }
    app.store.put_cache(&record)?;
    let nodes = app.store.nodes(id)?;
    app.fleet.set_keys(&record, &nodes).await?;
    Ok(record.keys)
}

/// Refuses an operation on a cache that is busy: being created, deleted or
/// updated, mid-failover or linking. Two operations on one cache are then
/// never interleaved: the one that holds the change lock runs, and one that
/// would meet it half-done is answered 409 and changes nothing.
fn require_settled(app: &SharedApp, record: &CacheRecord) -> Result<(), ControlError> {
    let state = app.core_view(record)?.provisioning_state;
    if state.is_running() {
        return Ok(());
    }
    Err(ControlError::conflict(
        "OperationInProgress",
        format!(
            "Cache '{}' is {state}; wait until it is Succeeded.",
            record.id.name
        ),
    ))
}

/// A file or folder name that stays inside its parent folder.
fn plain_name(field: &'static str, value: &str) -> Result<(), ControlError> {
    let ok = !value.is_empty()
        && value.len() <= 200
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && !value.starts_with('.');
    ok.then_some(()).ok_or_else(|| {
        ControlError::invalid(field, format!("'{value}' must be a plain name of letters, digits, '-', '_' and '.', not starting with '.'."))
    })
}

/// Where exports go: `DATA_DIR/exports/{container}`.
pub fn exports_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("exports")
}

fn check_format(format: &Option<String>) -> Result<(), ControlError> {
    match format.as_deref() {
        None | Some("RDB") | Some("rdb") => Ok(()),
        Some(other) => Err(ControlError::invalid(
            "format",
            format!("The format '{other}' is not supported; use 'RDB'."),
        )),
    }
}

/// `POST …/export`: writes one RDB file per shard under `exports/{container}/`.
/// Allowed from either side of a link.
pub async fn export(
    app: &SharedApp,
    id: &CacheId,
    params: ExportParameters,
) -> Result<OperationRecord, ControlError> {
    plain_name("prefix", &params.prefix)?;
    plain_name("container", &params.container)?;
    check_format(&params.format)?;
    let _changes = app.lock_changes().await;
    let record = app.cache(id)?;
    let view = app.core_view(&record)?;
    check_change(&view, Change::Export)?;
    if record.provisioning_state != ProvisioningState::Succeeded {
        return Err(ControlError::conflict(
            "OperationInProgress",
            format!("Cache '{}' is {}.", id.name, record.provisioning_state),
        ));
    }
    let op = OperationRecord::start(
        &id.subscription,
        &record.location,
        OperationKind::Export,
        id.to_string(),
    );
    app.store.put_operation(&op)?;
    let dir = exports_dir(&app.data_dir).join(&params.container);
    let (app2, op_id) = (app.clone(), op.id.clone());
    tokio::spawn(async move {
        let outcome = match app2.store.nodes(&record.id) {
            Ok(nodes) => app2
                .fleet
                .export(&record, &nodes, &dir, &params.prefix)
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        finish_operation(&app2, Some(&op_id), outcome.err());
    });
    Ok(op)
}

/// `POST …/import`: loads RDB files written by an export. Refused into a geo-secondary.
pub async fn import(
    app: &SharedApp,
    id: &CacheId,
    params: ImportParameters,
) -> Result<OperationRecord, ControlError> {
    check_format(&params.format)?;
    let _changes = app.lock_changes().await;
    let record = app.cache(id)?;
    check_change(&app.core_view(&record)?, Change::Import)?;
    require_settled(app, &record)?;
    if params.files.is_empty() {
        return Err(ControlError::invalid(
            "files",
            "Name at least one RDB file to import.",
        ));
    }
    let root = exports_dir(&app.data_dir);
    let mut files = Vec::new();
    for file in &params.files {
        let relative = file.trim_start_matches('/').trim_start_matches("exports/");
        let mut parts = relative.split('/');
        let (Some(container), Some(name), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(ControlError::invalid("files", format!("'{file}' must be of the form '{{container}}/{{file}}', as an export writes it.")));
        };
        plain_name("files", container)?;
        plain_name("files", name)?;
        let path = root.join(container).join(name);
        if !path.is_file() {
            return Err(ControlError::invalid(
                "files",
                format!("'{file}' does not exist under the data directory's exports."),
            ));
        }
        files.push(path);
    }
    let shards = record.shard_count.max(1) as usize;
    if files.len() != shards {
        return Err(ControlError::invalid(
            "files",
            format!(
                "Cache '{}' has {shards} shard(s): name one RDB file per shard, in shard order.",
                id.name
            ),
        ));
    }
    let op = OperationRecord::start(
        &id.subscription,
        &record.location,
        OperationKind::Import,
        id.to_string(),
    );
    app.store.put_operation(&op)?;
    let (app2, op_id) = (app.clone(), op.id.clone());
    tokio::spawn(async move {
        // The primary nodes stop on purpose: nothing else (the in-cache
        // watchdog above all) may take them for lost meanwhile.
        let _changes = app2.lock_changes().await;
        let outcome = match app2.store.nodes(&record.id) {
            Ok(nodes) => match crate::control::recovery::note_import(&app2, &op_id, &nodes) {
                Ok(()) => app2
                    .fleet
                    .import(&record, &nodes, &files)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            },
            Err(e) => Err(e.to_string()),
        };
        finish_operation(&app2, Some(&op_id), outcome.err());
    });
    Ok(op)
}

/// `POST …/forceReboot`: restarts the chosen nodes. Returns a message for the response.
pub async fn reboot(
    app: &SharedApp,
    id: &CacheId,
    params: RebootParameters,
) -> Result<String, ControlError> {
    let _changes = app.lock_changes().await;
    let record = app.cache(id)?;
    require_settled(app, &record)?;
    let nodes = app.store.nodes(id)?;
    let kind = params.reboot_type.as_deref().unwrap_or("AllNodes");
    let mut chosen: Vec<NodeSlot> = nodes
        .iter()
        .filter(|n| match kind {
            "PrimaryNode" => n.is_primary(),
            "SecondaryNode" => !n.is_primary(),
            _ => true,
        })
        .filter(|n| params.shard_id.is_none_or(|s| s == n.shard))
        .copied()
        .collect();
    if !["PrimaryNode", "SecondaryNode", "AllNodes"].contains(&kind) {
        return Err(ControlError::invalid(
            "rebootType",
            format!("'{kind}' is not one of PrimaryNode, SecondaryNode, AllNodes."),
        ));
    }
    // Every node serves Redis on 6380 (and 6379 while the plain port is
    // on) at its own address, so a `ports` filter keeps all of them or none.
    if let Some(ports) = &params.ports {
        chosen.retain(|_| ports.contains(&REDIS_PORT) || ports.contains(&TLS_PORT));
    }
    if chosen.is_empty() {
        return Err(ControlError::invalid(
            "rebootType",
            "No node of the cache matches the request.",
        ));
    }
    app.fleet.reboot(&record, &nodes, &chosen).await?;
    // A rebooted geo-secondary must follow its geo-primary again, and a
    // geo-secondary must follow a geo-primary whose primary node changed
    // (a rebooted primary node hands over to its replica first).
    if let Some(link) = app.store.link_of(id)? {
        crate::control::links::replicate(app, &link).await?;
        crate::control::links::watch(app, &link).await;
    }
    Ok(format!(
        "{} node(s) of cache '{}' rebooted.",
        chosen.len(),
        id.name
    ))
}
