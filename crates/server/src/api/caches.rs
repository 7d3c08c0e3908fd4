//! Handlers of the cache resource and its actions.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use georep_core::arm::{
    AccessKeys, ExportParameters, ImportParameters, ListResult, RebootParameters,
    RedisCreateParameters, RedisResource, RedisUpdateParameters, RegenerateKeyParameters,
};
use serde::Serialize;

use super::extract::{AnyApiVersion, CachePath, GroupPath, SubscriptionPath};
use super::lro::{self, Polling};
use super::{ApiError, ApiVersion, ArmJson, BaseUrl};
use crate::control::app::SharedApp;
use crate::control::caches::{self, Put};
use crate::control::update;

/// `GET …/redis/{cache}`.
pub async fn get(
    State(app): State<SharedApp>,
    _: ApiVersion,
    CachePath(id): CachePath,
) -> Result<Json<RedisResource>, ApiError> {
    let cache = app.cache(&id)?;
    Ok(Json(app.resource(&cache)?))
}

/// `GET /subscriptions/{sub}/providers/Microsoft.Cache/redis`.
pub async fn list_by_subscription(
    State(app): State<SharedApp>,
    _: ApiVersion,
    SubscriptionPath(subscription): SubscriptionPath,
) -> Result<Json<ListResult<RedisResource>>, ApiError> {
    list(&app, Some(&subscription), None)
}

/// `GET /subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.Cache/redis`.
pub async fn list_by_group(
    State(app): State<SharedApp>,
    _: ApiVersion,
    path: GroupPath,
) -> Result<Json<ListResult<RedisResource>>, ApiError> {
    list(&app, Some(&path.subscription), Some(&path.group))
}

fn list(
    app: &SharedApp,
    subscription: Option<&str>,
    group: Option<&str>,
) -> Result<Json<ListResult<RedisResource>>, ApiError> {
    let caches = app.store.caches(subscription, group)?;
    let resources = caches
        .iter()
        .map(|c| app.resource(c))
        .collect::<Result<_, _>>()?;
    Ok(Json(ListResult::of(resources)))
}

/// `PUT …/redis/{cache}`: 201 and an operation for a new cache, 200 and an
/// operation (the cache `Updating`) for an existing one.
pub async fn put(
    State(app): State<SharedApp>,
    _: ApiVersion,
    BaseUrl(base): BaseUrl,
    CachePath(id): CachePath,
    ArmJson(params): ArmJson<RedisCreateParameters>,
) -> Result<Response, ApiError> {
    Ok(match caches::put(&app, &id, params).await? {
        Put::Created(resource, op) => lro::accepted(
            StatusCode::CREATED,
            &base,
            &op,
            Polling::Created(id.to_string()),
            Some(resource),
        ),
        Put::Updated(resource, op) => lro::accepted(
            StatusCode::OK,
            &base,
            &op,
            Polling::Created(id.to_string()),
            Some(resource),
        ),
    })
}

/// `PATCH …/redis/{cache}`: 202, the cache `Updating`, and the operation
/// that applies the change, as Azure's recording answers.
pub async fn update(
    State(app): State<SharedApp>,
    _: ApiVersion,
    BaseUrl(base): BaseUrl,
    CachePath(id): CachePath,
    ArmJson(params): ArmJson<RedisUpdateParameters>,
) -> Result<Response, ApiError> {
    let (resource, op) = update::update(&app, &id, params).await?;
    Ok(lro::accepted(
        StatusCode::ACCEPTED,
        &base,
        &op,
        Polling::StatusTwice,
        Some(resource),
    ))
}

/// `DELETE …/redis/{cache}`: 202 and an operation, or 204 if there is no such cache.
pub async fn delete(
    State(app): State<SharedApp>,
    _: ApiVersion,
    BaseUrl(base): BaseUrl,
    CachePath(id): CachePath,
) -> Result<Response, ApiError> {
    Ok(match caches::delete(&app, &id).await? {
        Some(op) => {
            lro::accepted::<()>(StatusCode::ACCEPTED, &base, &op, Polling::ResultOnly, None)
        }
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// `DELETE /subscriptions/{sub}/resourceGroups/{group}`.
pub async fn delete_group(
    State(app): State<SharedApp>,
    _: AnyApiVersion,
    path: GroupPath,
) -> Result<StatusCode, ApiError> {
    let started = caches::delete_group(&app, &path.subscription, &path.group).await?;
    Ok(if started.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    })
}

/// `POST …/listKeys`.
pub async fn list_keys(
    State(app): State<SharedApp>,
    _: ApiVersion,
    CachePath(id): CachePath,
) -> Result<Json<AccessKeys>, ApiError> {
    Ok(Json(app.cache(&id)?.keys))
}

/// `POST …/regenerateKey`.
pub async fn regenerate_key(
    State(app): State<SharedApp>,
    _: ApiVersion,
    CachePath(id): CachePath,
    ArmJson(params): ArmJson<RegenerateKeyParameters>,
) -> Result<Json<AccessKeys>, ApiError> {
    Ok(Json(
        caches::regenerate_key(&app, &id, params.key_type).await?,
    ))
}

/// `POST …/export`: 202 and an operation.
pub async fn export(
    State(app): State<SharedApp>,
    _: ApiVersion,
    BaseUrl(base): BaseUrl,
    CachePath(id): CachePath,
    ArmJson(params): ArmJson<ExportParameters>,
) -> Result<Response, ApiError> {
    let op = caches::export(&app, &id, params).await?;
    Ok(lro::started(&base, &op, Polling::Both))
}

/// `POST …/import`: 202 and an operation.
pub async fn import(
    State(app): State<SharedApp>,
    _: ApiVersion,
    BaseUrl(base): BaseUrl,
    CachePath(id): CachePath,
    ArmJson(params): ArmJson<ImportParameters>,
) -> Result<Response, ApiError> {
    let op = caches::import(&app, &id, params).await?;
    Ok(lro::started(&base, &op, Polling::Both))
}

/// ARM's `RedisForceRebootResponse`.
#[derive(Serialize)]
pub struct RebootResponse {
    message: String,
}

/// `POST …/forceReboot`.
pub async fn force_reboot(
    State(app): State<SharedApp>,
    _: ApiVersion,
    CachePath(id): CachePath,
    ArmJson(params): ArmJson<RebootParameters>,
) -> Result<Json<RebootResponse>, ApiError> {
    let message = caches::reboot(&app, &id, params).await?;
    Ok(Json(RebootResponse { message }))
}
