//! Extractors that turn every kind of bad request into an [`ApiError`]:
//! malformed or wrong-typed JSON, a missing or unknown `api-version`, and
//! names that break ARM's rules. A handler that takes these never sees bad
//! input, and a client never sees axum's plain-text rejections.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query};
use axum::http::request::Parts;
use axum::http::StatusCode;
use georep_core::names;
use georep_core::CacheId;
use serde::Deserialize;

use super::ApiError;

/// A JSON body, with rejections answered in ARM's error shape.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ArmJson<T>(pub T);

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let (code, status) = match &rejection {
            JsonRejection::MissingJsonContentType(_) => {
                ("UnsupportedMediaType", StatusCode::UNSUPPORTED_MEDIA_TYPE)
            }
            JsonRejection::BytesRejection(_) => ("InvalidRequestContent", rejection.status()),
            _ => ("InvalidRequestContent", StatusCode::BAD_REQUEST),
        };
        // A rejection's status is always a 4xx, but never let one through as a 5xx.
        let status = if status.is_client_error() {
            status
        } else {
            StatusCode::BAD_REQUEST
        };
        ApiError::BadRequest {
            code,
            message: format!(
                "The request content is not valid: {}",
                rejection.body_text()
            ),
            target: None,
            status,
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::bad_request("InvalidRequestUri", rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::bad_request("InvalidQueryParameter", rejection.body_text())
    }
}

/// The request's `api-version`, checked against the versions we serve.
#[derive(Debug, Clone)]
pub struct ApiVersion(pub String);

#[derive(Deserialize)]
struct ApiVersionQuery {
    #[serde(rename = "api-version")]
    api_version: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for ApiVersion {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(query) = Query::<ApiVersionQuery>::from_request_parts(parts, state).await?;
        let version = query.api_version.ok_or(ApiError::MissingApiVersion)?;
        names::validate_api_version(&version)?;
        Ok(ApiVersion(version))
    }
}

/// Every path parameter the API's routes use; each route fills some.
#[derive(Debug, Deserialize)]
struct RawPath {
    subscription: Option<String>,
    group: Option<String>,
    cache: Option<String>,
    child: Option<String>,
    operation: Option<String>,
}

async fn raw_path(parts: &mut Parts) -> Result<RawPath, ApiError> {
    let Path(raw) = Path::<RawPath>::from_request_parts(parts, &()).await?;
    if let Some(subscription) = &raw.subscription {
        names::validate_subscription(subscription)?;
    }
    if let Some(group) = &raw.group {
        names::validate_resource_group(group)?;
    }
    if let Some(cache) = &raw.cache {
        names::validate_cache_name(cache)?;
    }
    Ok(raw)
}

/// A route parameter the router guarantees; its absence is a routing bug.
fn required(value: Option<String>, what: &str) -> Result<String, ApiError> {
    value.ok_or_else(|| ApiError::Internal(format!("the route has no {what} parameter")))
}

/// `/subscriptions/{subscription}`.
#[derive(Debug, Clone)]
pub struct SubscriptionPath(pub String);

impl<S: Send + Sync> FromRequestParts<S> for SubscriptionPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let raw = raw_path(parts).await?;
        Ok(SubscriptionPath(required(
            raw.subscription,
            "subscription",
        )?))
    }
}

/// `/subscriptions/{subscription}/resourceGroups/{group}`.
#[derive(Debug, Clone)]
pub struct GroupPath {
    /// The subscription id.
    pub subscription: String,
    /// The resource group.
    pub group: String,
}

impl<S: Send + Sync> FromRequestParts<S> for GroupPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let raw = raw_path(parts).await?;
        Ok(GroupPath {
            subscription: required(raw.subscription, "subscription")?,
            group: required(raw.group, "resource group")?,
        })
    }
}

/// `…/providers/Microsoft.Cache/redis/{cache}`: a validated cache id.
#[derive(Debug, Clone)]
pub struct CachePath(pub CacheId);

impl<S: Send + Sync> FromRequestParts<S> for CachePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let raw = raw_path(parts).await?;
        Ok(CachePath(CacheId::new(
            required(raw.subscription, "subscription")?,
            required(raw.group, "resource group")?,
            required(raw.cache, "cache")?,
        )))
    }
}

/// `…/redis/{cache}/{collection}/{child}`: a cache and one of its sub-resources.
#[derive(Debug, Clone)]
pub struct ChildPath {
    /// The owning cache.
    pub cache: CacheId,
    /// The sub-resource's name, not yet validated (each kind has its own rule).
    pub child: String,
}

impl<S: Send + Sync> FromRequestParts<S> for ChildPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let raw = raw_path(parts).await?;
        Ok(ChildPath {
            cache: CacheId::new(
                required(raw.subscription, "subscription")?,
                required(raw.group, "resource group")?,
                required(raw.cache, "cache")?,
            ),
            child: required(raw.child, "child resource")?,
        })
    }
}

/// `/subscriptions/{subscription}/providers/Microsoft.Cache/locations/{location}/{kind}/{operation}`.
#[derive(Debug, Clone)]
pub struct OperationPath {
    /// The subscription id.
    pub subscription: String,
    /// The operation's id.
    pub operation: String,
}

impl<S: Send + Sync> FromRequestParts<S> for OperationPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let raw = raw_path(parts).await?;
        Ok(OperationPath {
            subscription: required(raw.subscription, "subscription")?,
            operation: required(raw.operation, "operation")?,
        })
    }
}

/// `http://{listen address}` of this server, for the absolute URLs of
/// polling headers. It comes from the router's configuration, never from
/// the request's `Host` header.
#[derive(Debug, Clone)]
pub struct BaseUrl(pub String);

impl<S: Send + Sync> FromRequestParts<S> for BaseUrl {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<BaseUrl>()
            .cloned()
            .unwrap_or_else(|| BaseUrl("http://127.0.0.1".into())))
    }
}

/// An `api-version` that must be present but may be any version: the
/// `Microsoft.Resources` routes (subscriptions, resource groups) have their own.
#[derive(Debug, Clone)]
pub struct AnyApiVersion;

impl<S: Send + Sync> FromRequestParts<S> for AnyApiVersion {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(query) = Query::<ApiVersionQuery>::from_request_parts(parts, state).await?;
        match query.api_version {
            Some(v) if !v.trim().is_empty() => Ok(AnyApiVersion),
            _ => Err(ApiError::MissingApiVersion),
        }
    }
}
