//! Handlers of `…/redis/{cache}/linkedServers`.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use georep_core::arm::{LinkedServerCreateParameters, LinkedServerResource, ListResult};
use georep_core::id::LINKED_SERVER_TYPE;
use georep_core::CacheId;
use serde::Deserialize;

use super::extract::{CachePath, ChildPath};
use super::lro::{self, Polling};
use super::operations;
use super::{ApiError, ApiVersion, ArmJson, BaseUrl};
use crate::control::app::SharedApp;
use crate::control::failover;
use crate::control::links::{self, Created};
use crate::control::ControlError;
use crate::store::records::LinkRecord;

/// `GET …/linkedServers`: the cache's link, if any, as a one-item list.
pub async fn list(
    State(app): State<SharedApp>,
    _: ApiVersion,
    CachePath(id): CachePath,
) -> Result<Json<ListResult<LinkedServerResource>>, ApiError> {
    let mut value = Vec::new();
    if let Some(link) = stored_link(&app, &id)? {
        value.push(links::view(&app, &link, &id).await?);
    }
    Ok(Json(ListResult::of(value)))
}

/// `GET …/linkedServers/{name}`.
pub async fn get(
    State(app): State<SharedApp>,
    _: ApiVersion,
    path: ChildPath,
) -> Result<Json<LinkedServerResource>, ApiError> {
    let link = stored_link(&app, &path.cache)?
        .filter(|l| {
            l.peer_of(&path.cache)
                .name
                .eq_ignore_ascii_case(&path.child)
        })
        .ok_or_else(|| ApiError::NotFound {
            kind: LINKED_SERVER_TYPE,
            name: path.child.clone(),
        })?;
    Ok(Json(links::view(&app, &link, &path.cache).await?))
}

/// The cache's link, if any, from the store's snapshot (a 404 if there is
/// no such cache): GETs of links read no table, however many poll at once.
fn stored_link(app: &SharedApp, id: &CacheId) -> Result<Option<LinkRecord>, ApiError> {
    let snapshot = app.store.snapshot()?;
    let cache = snapshot
        .cache(id)
        .ok_or_else(|| ControlError::cache_not_found(&id.name))?;
    Ok(cache.link.clone())
}

/// The extension query of a linked-server `PUT`.
#[derive(Deserialize)]
pub struct PutQuery {
    /// `planned` (the default) or `forced`, for a failover.
    #[serde(rename = "x-georep-failover")]
    failover: Option<String>,
}

/// `PUT …/linkedServers/{name}`: 201 and an operation while the full sync
/// runs. Sent to the current geo-secondary naming the geo-primary, it is a
/// failover (planned, or forced with `x-georep-failover=forced`).
pub async fn put(
    State(app): State<SharedApp>,
    _: ApiVersion,
    BaseUrl(base): BaseUrl,
    path: ChildPath,
    Query(query): Query<PutQuery>,
    ArmJson(params): ArmJson<LinkedServerCreateParameters>,
) -> Result<Response, ApiError> {
    georep_core::names::validate_cache_name(&path.child)?;
    let kind = failover::kind_from_query(query.failover.as_deref())?;
    Ok(
        match links::create(&app, &path.cache, &path.child, params, kind).await? {
            Created::Started(resource, op) => lro::accepted(
                StatusCode::CREATED,
                &base,
                &op,
                Polling::StatusOnly,
                Some(resource),
            ),
            Created::Existing(resource) => Json(resource).into_response(),
        },
    )
}

/// The `api-version` of an unlink: any the API serves, or one of the
/// older ones whose unlink answered only once done.
#[derive(Deserialize)]
pub struct UnlinkQuery {
    #[serde(rename = "api-version")]
    api_version: Option<String>,
}

/// `DELETE …/linkedServers/{name}`: unlinks; 202 and an operation, or,
/// asked with an api-version from before unlink was long-running
/// (2021-06-01), 204 once the unlink is done.
pub async fn delete(
    State(app): State<SharedApp>,
    Query(query): Query<UnlinkQuery>,
    BaseUrl(base): BaseUrl,
    path: ChildPath,
) -> Result<Response, ApiError> {
    let version = query.api_version.ok_or(ApiError::MissingApiVersion)?;
    let synchronous = georep_core::arm::unlink_is_synchronous(&version);
    if !synchronous {
        georep_core::names::validate_api_version(&version)?;
    }
    let op = links::delete(&app, &path.cache, &path.child).await?;
    if synchronous {
        return operations::finished(&app, &op).await;
    }
    Ok(lro::started(&base, &op, Polling::StatusTwice))
}
