//! Geo-replication links: creating one (check the rules, make the
//! secondary's nodes replicas of the primary's, wait for the full sync),
//! reading it from either side, and removing it.
//!
//! The link's state lives in georep-core's [`Pair`]; this module only feeds
//! it real events (`SyncFinished`, `UnlinkFinished`, …) and persists what it
//! returns. It never decides a state itself.

use std::time::Duration;

use georep_core::arm::{
    Endpoint, ErrorDetail, LinkedServerCreateParameters, LinkedServerProperties,
    LinkedServerResource,
};
use georep_core::id::LINKED_SERVER_TYPE;
use georep_core::link::{Event, FailoverKind, LinkState, Member, Pair};
use georep_core::{check_pair, CacheId, ServerRole};
use serde::{Deserialize, Serialize};

use crate::api::ApiError;
use crate::app::SharedApp;
use crate::cache::CacheRecord;
use crate::ops::{now, OperationKind, OperationRecord};

/// How long a full sync may take before the link is declared failed.
const SYNC_TIMEOUT: Duration = Duration::from_secs(600);
/// How often a running sync is checked.
const SYNC_POLL: Duration = Duration::from_millis(200);

/// A link as the store keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkRecord {
    /// The cache that was the geo-primary when the link was created.
    pub first: CacheId,
    /// The cache that was the geo-secondary when the link was created.
    pub second: CacheId,
    /// The link's state and which member is the geo-primary now.
    pub pair: Pair,
    /// The operation running on the link, if any.
    pub operation: Option<String>,
    /// When the link was created (RFC 3339).
    pub created: String,
}

impl LinkRecord {
    /// Which member `id` is.
    pub fn member(&self, id: &CacheId) -> Member {
        if *id == self.first {
            Member::First
        } else {
            Member::Second
        }
    }

    /// The cache that is `member`.
    pub fn cache_of(&self, member: Member) -> &CacheId {
        match member {
            Member::First => &self.first,
            Member::Second => &self.second,
        }
    }

    /// The other cache of the pair.
    pub fn peer_of(&self, id: &CacheId) -> &CacheId {
        self.cache_of(self.member(id).other())
    }

    /// The geo-replication role of `id`.
    pub fn role_of(&self, id: &CacheId) -> ServerRole {
        self.pair.role(self.member(id))
    }

    /// The current geo-primary.
    pub fn primary(&self) -> &CacheId {
        self.cache_of(self.pair.primary)
    }

    /// The current geo-secondary.
    pub fn secondary(&self) -> &CacheId {
        self.cache_of(self.pair.primary.other())
    }
}

/// What a create request did.
pub enum Created {
    /// A new link, syncing; the operation tracks it.
    Started(Box<LinkedServerResource>, Box<OperationRecord>),
    /// The link already existed as asked.
    Existing(Box<LinkedServerResource>),
}

/// `PUT …/redis/{owner}/linkedServers/{name}`: links `name` as the
/// geo-secondary of `owner`, or, named from the current secondary, asks for
/// a failover.
pub async fn create(
    app: &SharedApp,
    owner: &CacheId,
    name: &str,
    params: LinkedServerCreateParameters,
    failover_kind: FailoverKind,
) -> Result<Created, ApiError> {
    let linked: CacheId = params.properties.linked_redis_cache_id.parse().map_err(
        |e: georep_core::id::BadCacheId| {
            ApiError::invalid("properties.linkedRedisCacheId", e.to_string())
        },
    )?;
    if !linked.name.eq_ignore_ascii_case(name) {
        return Err(ApiError::invalid(
            "properties.linkedRedisCacheId",
            format!(
                "The linked server name '{name}' must be the name of the linked cache, '{}'.",
                linked.name
            ),
        ));
    }
    if params.properties.server_role != ServerRole::Secondary {
        return Err(ApiError::invalid(
            "properties.serverRole",
            "Create the link on the cache meant to be the geo-primary, naming the other cache with serverRole 'Secondary'.",
        ));
    }

    let _changes = app.lock_changes().await;
    let primary = app.cache(owner)?;
    let secondary = app
        .store
        .cache(&linked)?
        .ok_or_else(|| ApiError::NotFound {
            kind: "Microsoft.Cache/Redis",
            name: linked.name.clone(),
        })?;

    if let Some(link) = app.store.link_of(owner)? {
        if *link.peer_of(owner) == linked {
            return if link.role_of(owner) == ServerRole::Primary {
                // Same request again: PUT is idempotent.
                Ok(Created::Existing(Box::new(view(app, &link, owner).await?)))
            } else {
                failover(app, &link, owner, failover_kind).await
            };
        }
    }

    let primary_view = app.core_view(&primary)?;
    let secondary_view = app.core_view(&secondary)?;
    if let Err(reasons) = check_pair(&primary_view, &secondary_view) {
        return Err(ApiError::Incompatible {
            primary: primary.id.name.clone(),
            secondary: secondary.id.name.clone(),
            reasons,
        });
    }

    let op = OperationRecord::start(
        &owner.subscription,
        &primary.location,
        OperationKind::CreateLink,
        owner.linked_server_id(&secondary.id.name),
    );
    let link = LinkRecord {
        first: primary.id.clone(),
        second: secondary.id.clone(),
        pair: Pair::new(),
        operation: Some(op.id.clone()),
        created: now(),
    };
    app.store.put_operation(&op)?;
    app.store.put_link(&link)?;
    tracing::info!(primary = %primary.id.name, secondary = %secondary.id.name, "linking");
    let resource = view(app, &link, owner).await?;
    tokio::spawn(finish_linking(app.clone(), link));
    Ok(Created::Started(Box::new(resource), Box::new(op)))
}

/// A failover: the link created in reverse on the current geo-secondary.
///
/// The state machine decides whether it may start (same size, link
/// `Succeeded`, nothing else running); the link then reports `Deleting`
/// while the roles swap, `Creating` while the old primary catches up as the
/// new secondary, and `Succeeded` again.
async fn failover(
    app: &SharedApp,
    link: &LinkRecord,
    requested_on: &CacheId,
    kind: FailoverKind,
) -> Result<Created, ApiError> {
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
    app.store.put_link(&next)?;
    tracing::info!(from = %link.primary().name, to = %link.secondary().name, ?kind, "failing over");
    let resource = view(app, &next, requested_on).await?;
    tokio::spawn(finish_failover(app.clone(), link.clone(), kind));
    Ok(Created::Started(Box::new(resource), Box::new(op)))
}

/// Runs a failover that `before` (the link as it was) was asked for: swaps
/// the roles on every shard, feeds `Promoted`, waits until the old primary
/// follows the new one, then feeds `Relinked`. If the swap fails nothing
/// moved, and the link is put back as it was.
pub async fn finish_failover(app: SharedApp, before: LinkRecord, kind: FailoverKind) {
    let old_id = before.primary().clone();
    let new_id = before.secondary().clone();
    let (Ok(old), Ok(new)) = (app.store.nodes(&old_id), app.store.nodes(&new_id)) else {
        return;
    };
    let swapped = match kind {
        FailoverKind::Planned => app.fleet.planned_failover(&old, &new).await.map(|report| {
            tracing::info!(
                partial_resync = report.all_partial(),
                "planned failover swapped the roles"
            );
        }),
        FailoverKind::Forced => app.fleet.forced_failover(&old, &new).await.map(|report| {
            tracing::warn!(
                bytes_maybe_lost = report.bytes_maybe_lost(),
                loss_known = report.loss_is_known(),
                "forced failover promoted the secondary"
            );
        }),
    };
    if let Err(error) = swapped {
        tracing::warn!(%error, "failover did not happen; the link is as it was");
        let _changes = app.lock_changes().await;
        let op_id = app
            .store
            .link_of(&old_id)
            .ok()
            .flatten()
            .and_then(|l| l.operation);
        let mut restored = before.clone();
        restored.operation = None;
        if let Err(error) = app.store.put_link(&restored) {
            tracing::error!(%error, "could not record the link");
        }
        finish_operation(
            &app,
            op_id.as_deref(),
            Some(format!("The failover did not happen: {error}")),
        );
        return;
    }
    advance(&app, &old_id, Event::Promoted).await;
    relink(app, old_id, new_id, kind).await;
}

/// After a promotion: waits until the old primary replicates the new one
/// (asking it to rejoin after a forced failover), then feeds `Relinked`.
pub async fn relink(app: SharedApp, old_id: CacheId, new_id: CacheId, kind: FailoverKind) {
    let (Ok(old), Ok(new)) = (app.store.nodes(&old_id), app.store.nodes(&new_id)) else {
        return;
    };
    loop {
        if kind == FailoverKind::Forced {
            if let Err(error) = app.fleet.rejoin(&old, &new).await {
                tracing::debug!(%error, "the old primary can't rejoin yet");
            }
        }
        if app.fleet.sync_state(&new, &old).await.is_ok_and(|s| s.done) {
            break;
        }
        tokio::time::sleep(SYNC_POLL).await;
    }
    if let Some(op_id) = advance(&app, &old_id, Event::Relinked).await {
        finish_operation(&app, Some(&op_id), None);
    }
    tracing::info!(primary = %new_id.name, secondary = %old_id.name, "failover complete");
}

/// Feeds `event` to the stored link of `member`; returns the link's
/// operation id once the link has settled (no longer busy).
async fn advance(app: &SharedApp, member: &CacheId, event: Event) -> Option<String> {
    let _changes = app.lock_changes().await;
    let mut link = app.store.link_of(member).ok()??;
    match link.pair.apply(event) {
        Ok(pair) => link.pair = pair,
        Err(refusal) => {
            tracing::warn!(%refusal, "the link changed during the failover");
            return None;
        }
    }
    let settled = (!link.pair.state.is_busy())
        .then(|| link.operation.take())
        .flatten();
    if let Err(error) = app.store.put_link(&link) {
        tracing::error!(%error, "could not record the link");
    }
    settled
}

/// Picks the failover a `PUT` in reverse asks for: planned unless the
/// `x-georep-failover=forced` extension says otherwise.
pub fn failover_kind(value: Option<&str>) -> Result<FailoverKind, ApiError> {
    match value.map(str::to_ascii_lowercase).as_deref() {
        None | Some("planned") => Ok(FailoverKind::Planned),
        Some("forced") => Ok(FailoverKind::Forced),
        Some(other) => Err(ApiError::invalid(
            "x-georep-failover",
            format!("'{other}' is not a failover kind; use 'planned' or 'forced'."),
        )),
    }
}

/// Brings a new (or resumed) link to `Linked`: starts replication on every
/// shard, waits until each secondary node has finished its full sync, then
/// feeds `SyncFinished` (or `SyncFailed`) to the state machine.
pub async fn finish_linking(app: SharedApp, link: LinkRecord) {
    let primary = link.primary().clone();
    let secondary = link.secondary().clone();
    let outcome = tokio::time::timeout(SYNC_TIMEOUT, async {
        let primary_nodes = app.store.nodes(&primary).map_err(store_failed)?;
        let secondary_nodes = app.store.nodes(&secondary).map_err(store_failed)?;
        app.fleet
            .replicate(&primary_nodes, &secondary_nodes)
            .await?;
        loop {
            if app
                .fleet
                .sync_state(&primary_nodes, &secondary_nodes)
                .await?
                .done
            {
                return Ok(());
            }
            tokio::time::sleep(SYNC_POLL).await;
        }
    })
    .await
    .unwrap_or_else(|_| {
        Err(crate::fleet::FleetError::Other(
            "the full sync did not finish in time".into(),
        ))
    });

    let _changes = app.lock_changes().await;
    let Ok(Some(mut link)) = app.store.link_of(&primary) else {
        return;
    };
    let event = match &outcome {
        Ok(()) => Event::SyncFinished,
        Err(error) => {
            tracing::warn!(%error, primary = %primary.name, secondary = %secondary.name, "linking failed");
            Event::SyncFailed
        }
    };
    match link.pair.apply(event) {
        Ok(pair) => link.pair = pair,
        Err(refusal) => {
            tracing::warn!(%refusal, "link changed while syncing");
            return;
        }
    }
    let op_id = link.operation.take();
    if let Err(error) = app.store.put_link(&link) {
        tracing::error!(%error, "could not record the link");
    }
    finish_operation(&app, op_id.as_deref(), outcome.err().map(|e| e.to_string()));
    tracing::info!(primary = %primary.name, secondary = %secondary.name, state = %link.pair.state, "link settled");
}

/// `DELETE …/redis/{owner}/linkedServers/{name}`: starts unlinking.
pub async fn delete(
    app: &SharedApp,
    owner: &CacheId,
    name: &str,
) -> Result<OperationRecord, ApiError> {
    let _changes = app.lock_changes().await;
    let cache = app.cache(owner)?;
    let link = app
        .store
        .link_of(owner)?
        .filter(|l| l.peer_of(owner).name.eq_ignore_ascii_case(name))
        .ok_or_else(|| ApiError::NotFound {
            kind: LINKED_SERVER_TYPE,
            name: name.to_owned(),
        })?;
    let mut link = link;
    link.pair = link.pair.apply(Event::UnlinkRequested)?;
    let op = OperationRecord::start(
        &owner.subscription,
        &cache.location,
        OperationKind::DeleteLink,
        owner.linked_server_id(name),
    );
    link.operation = Some(op.id.clone());
    app.store.put_operation(&op)?;
    app.store.put_link(&link)?;
    tracing::info!(primary = %link.primary().name, secondary = %link.secondary().name, "unlinking");
    tokio::spawn(finish_unlinking(app.clone(), link));
    Ok(op)
}

/// Makes the secondary stand alone again (its data stays) and forgets the link.
pub async fn finish_unlinking(app: SharedApp, link: LinkRecord) {
    let secondary = link.secondary().clone();
    let outcome = match app.store.nodes(&secondary) {
        Ok(nodes) => app.fleet.stop_replicating(&nodes).await,
        Err(error) => Err(store_failed(error)),
    };
    let _changes = app.lock_changes().await;
    let Ok(Some(mut link)) = app.store.link_of(&secondary) else {
        return;
    };
    let op_id = link.operation.take();
    match &outcome {
        Ok(()) => match link.pair.apply(Event::UnlinkFinished) {
            Ok(_) => {
                if let Err(error) = app.store.delete_link(&link) {
                    tracing::error!(%error, "could not forget the link");
                }
            }
            Err(refusal) => tracing::warn!(%refusal, "link changed while unlinking"),
        },
        Err(error) => {
            tracing::warn!(%error, "unlinking failed; the link stays Unlinking until the next start");
            let _ = app.store.put_link(&link);
        }
    }
    finish_operation(&app, op_id.as_deref(), outcome.err().map(|e| e.to_string()));
    tracing::info!(secondary = %secondary.name, "unlinked");
}

fn store_failed(error: crate::store::StoreError) -> crate::fleet::FleetError {
    crate::fleet::FleetError::Other(error.to_string())
}

/// How far a link's full sync has come, from 0 to 100, while it is `Linking`.
pub async fn percent_complete(app: &SharedApp, link_id: &str) -> Option<f64> {
    let (owner, _) = link_id.rsplit_once("/linkedServers/")?;
    let owner: CacheId = owner.parse().ok()?;
    let link = app.store.link_of(&owner).ok()??;
    if link.pair.state != LinkState::Linking {
        return None;
    }
    let primary = app.store.nodes(link.primary()).ok()?;
    let secondary = app.store.nodes(link.secondary()).ok()?;
    let state = app.fleet.sync_state(&primary, &secondary).await.ok()?;
    Some((state.progress.fraction() * 100.0).round())
}

/// Records the end of an operation.
pub fn finish_operation(app: &SharedApp, id: Option<&str>, error: Option<String>) {
    let Some(id) = id else { return };
    let Ok(Some(mut op)) = app.store.operation(id) else {
        return;
    };
    match error {
        None => op.succeed(),
        Some(message) => op.fail(ErrorDetail::new("OperationFailed", message)),
    }
    if let Err(error) = app.store.put_operation(&op) {
        tracing::error!(%error, "could not record the operation's end");
    }
}

/// The link as `owner` sees it: a linked-server resource naming the peer.
pub async fn view(
    app: &SharedApp,
    link: &LinkRecord,
    owner: &CacheId,
) -> Result<LinkedServerResource, ApiError> {
    let peer_id = link.peer_of(owner);
    let peer = app.cache(peer_id)?;
    let primary = app.cache(link.primary())?;
    let secondary = app.cache(link.secondary())?;
    let endpoint = |cache: &CacheRecord| -> Result<Option<Endpoint>, ApiError> {
        Ok(app
            .store
            .nodes(&cache.id)?
            .iter()
            .find(|n| n.is_primary())
            .map(|n| Endpoint {
                host: "127.0.0.1".into(),
                port: n.port,
            }))
    };
    let host = |e: &Option<Endpoint>| e.as_ref().map(|e| format!("{}:{}", e.host, e.port));
    let peer_endpoint = endpoint(&peer)?;
    let primary_endpoint = endpoint(&primary)?;
    let geo_primary = app.fleet.geo_primary_endpoint(link);
    let sync_progress = match link.pair.state {
        LinkState::Linking => {
            let primary = app.store.nodes(link.primary())?;
            let secondary = app.store.nodes(link.secondary())?;
            app.fleet
                .sync_state(&primary, &secondary)
                .await
                .ok()
                .map(|s| s.progress)
        }
        _ => None,
    };
    Ok(LinkedServerResource {
        id: owner.linked_server_id(&peer_id.name),
        name: peer_id.name.clone(),
        kind: LINKED_SERVER_TYPE.to_owned(),
        properties: LinkedServerProperties {
            linked_redis_cache_id: peer_id.to_string(),
            linked_redis_cache_location: peer.location.clone(),
            server_role: link.role_of(peer_id),
            provisioning_state: link
                .pair
                .state
                .link_provisioning_state()
                .unwrap_or(georep_core::ProvisioningState::Deleting),
            geo_replicated_primary_host_name: host(
                &geo_primary.clone().or(primary_endpoint.clone()),
            ),
            primary_host_name: host(&peer_endpoint),
            geo_primary_endpoint: geo_primary,
            current_primary_endpoint: primary_endpoint,
            current_secondary_endpoint: endpoint(&secondary)?,
            sync_progress,
        },
    })
}
