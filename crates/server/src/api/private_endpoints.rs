//! Handlers of `…/redis/{cache}/privateEndpointConnections`.
//!
//! Locally a private endpoint is only a record, but adding one to a
//! geo-replicated cache is refused the way Azure's passive geo-replication guide says.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use georep_core::arm::ListResult;
use georep_core::{check_change, names, CacheId, Change};
use serde::Serialize;
use serde_json::{json, Value};

use super::extract::{CachePath, ChildPath};
use super::{ApiError, ApiVersion, ArmJson};
use crate::control::app::SharedApp;
use crate::control::ControlError;

const KIND: &str = "Microsoft.Cache/Redis/privateEndpointConnections";

/// A private endpoint connection resource.
#[derive(Serialize)]
pub struct Connection {
    id: String,
    name: String,
    #[serde(rename = "type")]
    kind: &'static str,
    properties: Value,
}

fn resource(cache: &CacheId, name: &str) -> Connection {
    Connection {
        id: format!("{cache}/privateEndpointConnections/{name}"),
        name: name.to_owned(),
        kind: KIND,
        properties: json!({
            "provisioningState": "Succeeded",
            "privateLinkServiceConnectionState": {"status": "Approved", "description": "Recorded by georep-server"}
        }),
    }
}

/// `GET …/privateEndpointConnections`.
pub async fn list(
    State(app): State<SharedApp>,
    _: ApiVersion,
    CachePath(id): CachePath,
) -> Result<Json<ListResult<Connection>>, ApiError> {
    let cache = app.cache(&id)?;
    Ok(Json(ListResult::of(
        cache
            .private_endpoints
            .iter()
            .map(|n| resource(&id, n))
            .collect(),
    )))
}

/// `GET …/privateEndpointConnections/{name}`.
pub async fn get(
    State(app): State<SharedApp>,
    _: ApiVersion,
    path: ChildPath,
) -> Result<Json<Connection>, ApiError> {
    let cache = app.cache(&path.cache)?;
    cache
        .private_endpoints
        .iter()
        .find(|n| n.eq_ignore_ascii_case(&path.child))
        .map(|n| Json(resource(&path.cache, n)))
        .ok_or(ApiError::NotFound {
            kind: KIND,
            name: path.child,
        })
}

/// `PUT …/privateEndpointConnections/{name}`: refused while geo-replicated.
pub async fn put(
    State(app): State<SharedApp>,
    _: ApiVersion,
    path: ChildPath,
    ArmJson(_body): ArmJson<Value>,
) -> Result<Response, ApiError> {
    names::validate_cache_name(&path.child).map_err(|_| {
        ApiError::invalid(
            "name",
            format!(
                "'{}' is not a valid private endpoint connection name.",
                path.child
            ),
        )
    })?;
    let _changes = app.lock_changes().await;
    let mut cache = app.cache(&path.cache)?;
    if cache
        .private_endpoints
        .iter()
        .any(|n| n.eq_ignore_ascii_case(&path.child))
    {
        return Ok(Json(resource(&path.cache, &path.child)).into_response());
    }
    check_change(&app.core_view(&cache)?, Change::AddPrivateEndpoint)
        .map_err(ControlError::from)?;
    cache.private_endpoints.push(path.child.clone());
    app.store.put_cache(&cache)?;
    Ok((
        StatusCode::CREATED,
        Json(resource(&path.cache, &path.child)),
    )
        .into_response())
}

/// `DELETE …/privateEndpointConnections/{name}`.
pub async fn delete(
    State(app): State<SharedApp>,
    _: ApiVersion,
    path: ChildPath,
) -> Result<StatusCode, ApiError> {
    let _changes = app.lock_changes().await;
    let mut cache = app.cache(&path.cache)?;
    let before = cache.private_endpoints.len();
    cache
        .private_endpoints
        .retain(|n| !n.eq_ignore_ascii_case(&path.child));
    if cache.private_endpoints.len() == before {
        return Ok(StatusCode::NO_CONTENT);
    }
    app.store.put_cache(&cache)?;
    Ok(StatusCode::OK)
}
