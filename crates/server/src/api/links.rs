//! Handlers of `…/redis/{cache}/linkedServers`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use georep_core::arm::{LinkedServerCreateParameters, LinkedServerResource, ListResult};
use georep_core::id::LINKED_SERVER_TYPE;

use super::extract::{CachePath, ChildPath};
use super::{ApiError, ApiVersion, ArmJson, BaseUrl};
use crate::app::SharedApp;
use crate::links::{self, Created};
use crate::ops;

/// `GET …/linkedServers`: the cache's link, if any, as a one-item list.
pub async fn list(
    State(app): State<SharedApp>,
    _: ApiVersion,
    CachePath(id): CachePath,
) -> Result<Json<ListResult<LinkedServerResource>>, ApiError> {
    app.cache(&id)?;
    let mut value = Vec::new();
    if let Some(link) = app.store.link_of(&id)? {
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
    app.cache(&path.cache)?;
    let link = app
        .store
        .link_of(&path.cache)?
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

/// `PUT …/linkedServers/{name}`: 201 and an operation while the full sync runs.
pub async fn put(
    State(app): State<SharedApp>,
    _: ApiVersion,
    BaseUrl(base): BaseUrl,
    path: ChildPath,
    ArmJson(params): ArmJson<LinkedServerCreateParameters>,
) -> Result<Response, ApiError> {
    georep_core::names::validate_cache_name(&path.child)?;
    Ok(
        match links::create(&app, &path.cache, &path.child, params).await? {
            Created::Started(resource, op) => {
                ops::accepted(StatusCode::CREATED, &base, &op, Some(resource))
            }
            Created::Existing(resource) => Json(resource).into_response(),
        },
    )
}

/// `DELETE …/linkedServers/{name}`: unlinks; 202 and an operation.
pub async fn delete(
    State(app): State<SharedApp>,
    _: ApiVersion,
    BaseUrl(base): BaseUrl,
    path: ChildPath,
) -> Result<Response, ApiError> {
    let op = links::delete(&app, &path.cache, &path.child).await?;
    Ok(ops::accepted::<()>(StatusCode::ACCEPTED, &base, &op, None))
}
