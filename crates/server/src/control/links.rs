//! Geo-replication links: creating one (check the rules, make the
//! secondary's nodes replicas of the primary's, wait for the full sync),
//! reading it from either side, and removing it. Failover, the link created
//! in reverse, is [`crate::control::failover`]'s.
//!
//! The link's state lives in georep-core's [`Pair`]; this module only feeds
//! it real events (`SyncFinished`, `UnlinkFinished`, …) and persists what it
//! returns. It never decides a state itself. Beside each change it keeps the
//! rest in step: the geo-primary endpoints ([`crate::dataplane::geo`]), the metrics
//! ([`crate::live::health`]), the timeline ([`crate::live::timeline`]) and the live
//! stream ([`crate::live::events`]).

use std::time::Duration;

use georep_core::arm::{
    Endpoint, LinkedServerCreateParameters, LinkedServerProperties, LinkedServerResource,
    SyncProgress,
};
use georep_core::id::LINKED_SERVER_TYPE;
use georep_core::link::{Event, FailoverKind, LinkState, Pair};
use georep_core::live::{LinkRef, LiveEvent, SyncProgressEvent};
use georep_core::{check_pair, CacheId, ServerRole};

use crate::control::app::SharedApp;
use crate::control::failover;
use crate::control::ops::finish_operation;
use crate::control::ControlError;
use crate::live::timeline::Step;
use crate::store::records::{now, OperationKind, OperationRecord};
use crate::store::records::{AddressRole, LinkRecord, REDIS_PORT, TLS_PORT};
use crate::store::StoreError;

/// How long a full sync may take before the link is declared failed.
const SYNC_TIMEOUT: Duration = Duration::from_secs(600);
/// How often a running sync is checked.
const SYNC_POLL: Duration = Duration::from_millis(200);

/// Records `link` and announces its state on the live stream.
pub fn save(app: &SharedApp, link: &LinkRecord) -> Result<(), StoreError> {
    app.store.put_link(link)?;
    app.events.publish(link.state_event());
    Ok(())
}

/// Starts sampling `link`'s metrics on its current roles (or re-points the
/// sampling after a failover), taking a sample at once.
pub async fn watch(app: &SharedApp, link: &LinkRecord) {
    match app.link_nodes(link) {
        Ok(nodes) => {
            app.monitor
                .watch(&link.key(), link.reference(), nodes)
                .await
        }
        Err(error) => tracing::error!(%error, "could not read the link's nodes to sample them"),
    }
}

/// The geo-primary of `link` lost every node: its geo-secondary stops
/// following it (keeping its data), and the link fails.
pub async fn primary_lost(app: &SharedApp, mut link: LinkRecord) {
    tracing::error!(primary = %link.primary().name, secondary = %link.secondary().name, "the geo-primary lost every node; the geo-secondary keeps its data and the link fails");
    let stopped = match app.store.nodes(link.secondary()) {
        Ok(nodes) => app.fleet.stop_replicating(&nodes).await,
        Err(error) => Err(error.into()),
    };
    if let Err(error) = stopped {
        tracing::error!(%error, "could not stop the geo-secondary following the lost geo-primary");
    }
    if let Ok(pair) = link.pair.apply(Event::PrimaryLost) {
        link.pair = pair;
        if let Err(error) = save(app, &link) {
            tracing::error!(%error, "could not record the failed link");
        }
        app.monitor.settled(&link.key(), Some(false));
        app.timeline.record(
            &link.reference(),
            Step::LinkFailed(format!(
                "{} lost every node and its data; {} keeps its data and no longer follows it. Fail over (forced) to {} to make it the geo-primary, or unlink.",
                link.primary().name,
                link.secondary().name,
                link.secondary().name
            )),
        );
    }
}

/// The link named by its linked-server id from either side
/// (`{cacheId}/linkedServers/{linkedCacheName}`).
pub fn find(app: &SharedApp, linked_server_id: &str) -> Result<LinkRecord, ControlError> {
    let (owner, peer) = linked_server_id
        .trim_end_matches('/')
        .rsplit_once("/linkedServers/")
        .ok_or_else(|| {
            ControlError::invalid(
                "link",
                "Name the link by its linked-server id: {cacheId}/linkedServers/{linkedCacheName}.",
            )
        })?;
    let owner: CacheId = owner
        .parse()
        .map_err(|e: georep_core::id::BadCacheId| ControlError::invalid("link", e.to_string()))?;
    app.store
        .link_of(&owner)?
        .filter(|l| l.peer_of(&owner).name.eq_ignore_ascii_case(peer))
        .ok_or_else(|| ControlError::NotFound {
            kind: LINKED_SERVER_TYPE,
            name: linked_server_id.to_owned(),
        })
}

/// Points the geo-secondary's shard primaries at the geo-primary's (after
/// either side's primary node changed, say).
///
/// A link cut on purpose (`/x-georep/faults`) stays cut: nothing automatic
/// restores it, so its secondary is pointed nowhere again instead.
pub async fn replicate(app: &SharedApp, link: &LinkRecord) -> Result<(), ControlError> {
    let secondary = app.store.nodes(link.secondary())?;
    if link.cut_since.is_some() {
        app.fleet.cut(&secondary).await?;
        return Ok(());
    }
    let primary = app.store.nodes(link.primary())?;
    app.fleet.replicate(&primary, &secondary).await?;
    Ok(())
}

/// Gives each cache of `link` its geo-primary address (the first time),
/// and makes the geo-primary's primary node listen on them, and no other
/// node: how the geo-primary URLs follow a failover.
pub async fn place_addresses(app: &SharedApp, link: &LinkRecord) {
    for cache in link.caches() {
        if let Err(error) = app.fleet.assign_address(cache, AddressRole::GeoPrimary) {
            tracing::error!(%error, cache = %cache.name, "could not give the cache a geo-primary address");
        }
    }
    if let Err(error) = app.fleet.reconcile_listeners(&link.caches()).await {
        tracing::error!(%error, "could not move the geo-primary addresses");
    }
}

/// Takes the geo-primary addresses of an unlinked pair away.
async fn remove_addresses(app: &SharedApp, link: &LinkRecord) {
    for cache in link.caches() {
        if let Err(error) = app.store.delete_address(cache, AddressRole::GeoPrimary) {
            tracing::error!(%error, cache = %cache.name, "could not forget the geo-primary address");
        }
    }
    if let Err(error) = app.fleet.reconcile_listeners(&link.caches()).await {
        tracing::error!(%error, "could not close the geo-primary addresses");
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
) -> Result<Created, ControlError> {
    let linked: CacheId = params.properties.linked_redis_cache_id.parse().map_err(
        |e: georep_core::id::BadCacheId| {
            ControlError::invalid("properties.linkedRedisCacheId", e.to_string())
        },
    )?;
    if !linked.name.eq_ignore_ascii_case(name) {
        return Err(ControlError::invalid(
            "properties.linkedRedisCacheId",
            format!(
                "The linked server name '{name}' must be the name of the linked cache, '{}'.",
                linked.name
            ),
        ));
    }
    if params.properties.server_role != ServerRole::Secondary {
        return Err(ControlError::invalid(
            "properties.serverRole",
            "Create the link on the cache meant to be the geo-primary, naming the other cache with serverRole 'Secondary'.",
        ));
    }

    let _changes = app.lock_changes().await;
    let primary = app.cache(owner)?;
    let secondary = app
        .store
        .cache(&linked)?
        .ok_or_else(|| ControlError::NotFound {
            kind: "Microsoft.Cache/Redis",
            name: linked.name.clone(),
        })?;

    if let Some(link) = app.store.link_of(owner)? {
        if *link.peer_of(owner) == linked {
            return if link.role_of(owner) == ServerRole::Primary {
                // Same request again: PUT is idempotent.
                Ok(Created::Existing(Box::new(view(app, &link, owner).await?)))
            } else {
                failover::request(app, &link, owner, failover_kind).await
            };
        }
    }

    let primary_view = app.core_view(&primary)?;
    let secondary_view = app.core_view(&secondary)?;
    if let Err(reasons) = check_pair(&primary_view, &secondary_view) {
        return Err(ControlError::Incompatible {
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
        last_failover: None,
        cut_since: None,
    };
    app.store.put_operation(&op)?;
    save(app, &link)?;
    tracing::info!(primary = %primary.id.name, secondary = %secondary.id.name, "linking");
    app.timeline.record(&link.reference(), Step::LinkRequested);
    place_addresses(app, &link).await;
    let resource = view(app, &link, owner).await?;
    tokio::spawn(finish_linking(app.clone(), link));
    Ok(Created::Started(Box::new(resource), Box::new(op)))
}

/// Brings a new (or resumed) link to `Linked`: starts replication on every
/// shard, waits until each secondary node has finished its full sync, then
/// feeds `SyncFinished` (or `SyncFailed`) to the state machine.
pub async fn finish_linking(app: SharedApp, link: LinkRecord) {
    let primary = link.primary().clone();
    let secondary = link.secondary().clone();
    // Sampled from before `REPLICAOF`, so the full sync is counted.
    watch(&app, &link).await;
    let outcome = tokio::time::timeout(SYNC_TIMEOUT, async {
        let primary_nodes = app.store.nodes(&primary).map_err(store_failed)?;
        let secondary_nodes = app.store.nodes(&secondary).map_err(store_failed)?;
        app.fleet
            .replicate(&primary_nodes, &secondary_nodes)
            .await?;
        let mut progress = Progress::new(&app, &link);
        loop {
            let state = app
                .fleet
                .sync_state(&primary_nodes, &secondary_nodes)
                .await?;
            if state.done {
                return Ok(());
            }
            progress.report(state.progress);
            tokio::time::sleep(SYNC_POLL).await;
        }
    })
    .await
    .unwrap_or_else(|_| {
        Err(crate::dataplane::fleet::FleetError::Other(
            "the full sync did not finish in time".into(),
        ))
    });

    if outcome.is_ok() {
        // A last sample, so the finished sync is counted before the link settles.
        watch(&app, &link).await;
    }
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
    if let Err(error) = save(&app, &link) {
        tracing::error!(%error, "could not record the link");
    }
    let error = outcome.err().map(|e| e.to_string());
    match &error {
        None => {
            app.timeline.record(&link.reference(), Step::Linked);
            app.monitor.settled(&link.key(), Some(true));
        }
        Some(why) => app
            .timeline
            .record(&link.reference(), Step::LinkFailed(why.clone())),
    }
    finish_operation(&app, op_id.as_deref(), error);
    tracing::info!(primary = %primary.name, secondary = %secondary.name, state = %link.pair.state, "link settled");
}

/// Announces a running full sync's progress on the live stream when it moves.
pub struct Progress<'a> {
    app: &'a SharedApp,
    key: String,
    link: LinkRef,
    last: Option<SyncProgress>,
}

impl<'a> Progress<'a> {
    /// Nothing announced yet for `link`.
    pub fn new(app: &'a SharedApp, link: &LinkRecord) -> Progress<'a> {
        Progress {
            app,
            key: link.key(),
            link: link.reference(),
            last: None,
        }
    }

    /// Keeps `progress` for the API, and announces it unless it is what
    /// was announced last.
    pub fn report(&mut self, progress: SyncProgress) {
        if self.last == Some(progress) {
            return;
        }
        self.last = Some(progress);
        self.app.set_sync_progress(&self.key, progress);
        self.app
            .events
            .publish(LiveEvent::SyncProgress(SyncProgressEvent {
                link: self.link.clone(),
                progress,
            }));
    }
}

/// `DELETE …/redis/{owner}/linkedServers/{name}`: starts unlinking.
pub async fn delete(
    app: &SharedApp,
    owner: &CacheId,
    name: &str,
) -> Result<OperationRecord, ControlError> {
    let _changes = app.lock_changes().await;
    let cache = app.cache(owner)?;
    let link = app
        .store
        .link_of(owner)?
        .filter(|l| l.peer_of(owner).name.eq_ignore_ascii_case(name))
        .ok_or_else(|| ControlError::NotFound {
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
    save(app, &link)?;
    tracing::info!(primary = %link.primary().name, secondary = %link.secondary().name, "unlinking");
    app.monitor.busy(&link.key());
    app.timeline
        .record(&link.reference(), Step::UnlinkRequested);
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
            Ok(pair) => {
                if let Err(error) = app.store.delete_link(&link) {
                    tracing::error!(%error, "could not forget the link");
                }
                remove_addresses(&app, &link).await;
                app.monitor.forget(&link.key());
                link.pair = pair;
                app.events.publish(link.state_event());
                app.timeline.record(&link.reference(), Step::Unlinked);
            }
            Err(refusal) => tracing::warn!(%refusal, "link changed while unlinking"),
        },
        Err(error) => {
            tracing::warn!(%error, "unlinking failed; the link stays Unlinking until the next start");
            let _ = save(&app, &link);
        }
    }
    finish_operation(&app, op_id.as_deref(), outcome.err().map(|e| e.to_string()));
    tracing::info!(secondary = %secondary.name, "unlinked");
}

fn store_failed(error: crate::store::StoreError) -> crate::dataplane::fleet::FleetError {
    crate::dataplane::fleet::FleetError::Other(error.to_string())
}

/// How far a link's full sync has come, from 0 to 100, while it is `Linking`.
pub async fn percent_complete(app: &SharedApp, link_id: &str) -> Option<f64> {
    let (owner, _) = link_id.rsplit_once("/linkedServers/")?;
    let owner: CacheId = owner.parse().ok()?;
    let link = app.store.link_of(&owner).ok()??;
    if link.pair.state != LinkState::Linking {
        return None;
    }
    let progress = app.sync_progress(&link.key())?;
    Some((progress.fraction() * 100.0).round())
}

/// The link as `owner` sees it: a linked-server resource naming the peer.
pub async fn view(
    app: &SharedApp,
    link: &LinkRecord,
    owner: &CacheId,
) -> Result<LinkedServerResource, ControlError> {
    let peer_id = link.peer_of(owner);
    // From the store's snapshot, as every read of many caches: 200 clients
    // polling a link while its full sync runs query no table.
    let snapshot = app.store.snapshot()?;
    let peer = snapshot
        .cache(peer_id)
        .ok_or_else(|| ControlError::cache_not_found(&peer_id.name))?;
    let endpoint = |addr: Option<std::net::Ipv4Addr>| {
        addr.map(|addr| Endpoint {
            host: addr.to_string(),
            port: REDIS_PORT,
            ssl_port: Some(TLS_PORT),
        })
    };
    let cache_endpoint = |cache: &CacheId| endpoint(snapshot.cache(cache).and_then(|c| c.address));
    // Host names, as Azure's are: the ports are the endpoints' (and a
    // TLS-only cache has no plain port to name).
    let host = |e: &Option<Endpoint>| e.as_ref().map(|e| e.host.clone());
    // A cache's own address, which its primary node serves.
    let primary_endpoint = cache_endpoint(link.primary());
    // The resource describes the linked cache: its geo-primary URL.
    let geo_primary = endpoint(peer.geo_primary);
    // What the sync's driver saw last: a GET never waits on Redis.
    let sync_progress = match link.pair.state {
        LinkState::Linking => Some(app.sync_progress(&link.key()).unwrap_or(SyncProgress {
            bytes_read: 0,
            bytes_total: 0,
        })),
        _ => None,
    };
    Ok(LinkedServerResource {
        id: owner.linked_server_id(&peer_id.name),
        name: peer_id.name.clone(),
        kind: LINKED_SERVER_TYPE.to_owned(),
        properties: LinkedServerProperties {
            linked_redis_cache_id: peer_id.to_string(),
            linked_redis_cache_location: peer.record.location.clone(),
            server_role: link.role_of(peer_id),
            provisioning_state: link
                .pair
                .state
                .link_provisioning_state()
                .unwrap_or(georep_core::ProvisioningState::Deleting),
            geo_replicated_primary_host_name: host(
                &geo_primary.clone().or(primary_endpoint.clone()),
            ),
            primary_host_name: host(&primary_endpoint),
            geo_primary_endpoint: geo_primary,
            current_primary_endpoint: primary_endpoint,
            current_secondary_endpoint: cache_endpoint(link.secondary()),
            sync_progress,
            last_failover: link.last_failover.clone(),
        },
    })
}
