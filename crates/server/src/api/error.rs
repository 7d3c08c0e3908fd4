//! One error type for the whole API, and its single mapping to ARM's error
//! body (`{"error": {"code", "message", "target", "details"}}`) with the right
//! status. Handlers return `Result<_, ApiError>` and never build error
//! responses themselves; the control plane's [`ControlError`] becomes one
//! here, and nowhere else.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use georep_core::arm::{ErrorDetail, ErrorResponse};
use georep_core::names::NameError;

use crate::control::{chain, ControlError};
use crate::store::StoreError;

/// Everything an API request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No token, or the wrong one.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// The `api-version` query parameter is missing.
    #[error("The api-version query parameter (?api-version=) is required for all requests.")]
    MissingApiVersion,
    /// A name or api-version breaking the rules.
    #[error(transparent)]
    BadName(#[from] NameError),
    /// A body, path or query that could not be read.
    #[error("{message}")]
    BadRequest {
        /// ARM's code for the problem, e.g. `InvalidRequestContent`.
        code: &'static str,
        /// What is wrong.
        message: String,
        /// The field or parameter concerned.
        target: Option<String>,
        /// The HTTP status, always a 4xx.
        status: StatusCode,
    },
    /// The addressed resource does not exist.
    #[error("The {kind} '{name}' was not found.")]
    NotFound {
        /// e.g. `Microsoft.Cache/Redis`.
        kind: &'static str,
        /// The resource's name.
        name: String,
    },
    /// No API route has this path.
    #[error("No API operation is served at '{0}'.")]
    NoSuchRoute(String),
    /// The path exists but not with this verb.
    #[error("The HTTP method '{0}' is not supported for this resource.")]
    MethodNotAllowed(String),
    /// A control-plane operation refused or failed.
    #[error(transparent)]
    Control(#[from] ControlError),
    /// Something failed on our side; the message is safe to show.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// A 400 with ARM's `code` and a message.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code,
            message: message.into(),
            target: None,
            status: StatusCode::BAD_REQUEST,
        }
    }

    /// A 400 about one field or parameter.
    pub fn invalid(target: &str, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code: "InvalidParameter",
            message: message.into(),
            target: Some(target.to_owned()),
            status: StatusCode::BAD_REQUEST,
        }
    }

    /// The status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::MissingApiVersion | ApiError::BadName(_) => StatusCode::BAD_REQUEST,
            ApiError::BadRequest { status, .. } => *status,
            ApiError::NotFound { .. } | ApiError::NoSuchRoute(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Control(error) => match error {
                ControlError::NotFound { .. } => StatusCode::NOT_FOUND,
                ControlError::Invalid { .. } | ControlError::Incompatible { .. } => {
                    StatusCode::BAD_REQUEST
                }
                ControlError::Conflict { .. }
                | ControlError::Restricted(_)
                | ControlError::RestrictedMany { .. }
                | ControlError::Refused(_) => StatusCode::CONFLICT,
                // A node that did not answer (it is restarting, or being
                // replaced by its replica) is the cache's state, not a fault
                // of the request or of ours: try again.
                ControlError::Fleet(_) => StatusCode::CONFLICT,
                ControlError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// ARM's error body for this error.
    pub fn detail(&self) -> ErrorDetail {
        // Our own failures say what under them failed; no source holds a secret.
        let message = chain(self);
        let code = match self {
            ApiError::Unauthorized(_) => "AuthenticationFailed",
            ApiError::MissingApiVersion => "MissingApiVersionParameter",
            ApiError::BadName(NameError::ApiVersion(_)) => "InvalidApiVersionParameter",
            ApiError::BadName(NameError::Subscription(_)) => "InvalidSubscriptionId",
            ApiError::BadName(_) => "InvalidResourceName",
            ApiError::BadRequest { code, .. } => code,
            ApiError::NotFound { .. } => "ResourceNotFound",
            ApiError::NoSuchRoute(_) => "InvalidResourceType",
            ApiError::MethodNotAllowed(_) => "MethodNotAllowed",
            ApiError::Control(error) => match error {
                ControlError::NotFound { .. } => "ResourceNotFound",
                ControlError::Invalid { .. } => "InvalidParameter",
                ControlError::Conflict { code, .. } => code,
                ControlError::Incompatible { .. } => "GeoReplicationPrerequisitesNotMet",
                ControlError::Restricted(restriction) => restriction.code(),
                ControlError::RestrictedMany { .. } => "LinkedCacheBlocksResourceGroupDelete",
                ControlError::Refused(refusal) => refusal.code(),
                ControlError::Fleet(_) => "CacheNodeUnavailable",
                ControlError::Store(_) => "InternalServerError",
            },
            ApiError::Internal(_) => "InternalServerError",
        };
        let mut detail = ErrorDetail::new(code, message);
        match self {
            ApiError::BadRequest { target, .. } => detail.target = target.clone(),
            ApiError::Control(ControlError::Invalid { target, .. }) => {
                detail.target = Some((*target).to_owned())
            }
            ApiError::Control(ControlError::Incompatible { reasons, .. }) => {
                detail.details = reasons
                    .iter()
                    .map(|r| ErrorDetail::new(r.code(), r.to_string()))
                    .collect();
            }
            ApiError::Control(ControlError::RestrictedMany { restrictions, .. }) => {
                detail.details = restrictions
                    .iter()
                    .map(|r| ErrorDetail::new(r.code(), r.to_string()))
                    .collect();
            }
            _ => {}
        }
        detail
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() || matches!(self, ApiError::Control(ControlError::Fleet(_))) {
            tracing::error!(error = %chain(&self), "request failed");
        } else {
            tracing::debug!(%status, error = %self, "request refused");
        }
        (
            status,
            Json(ErrorResponse {
                error: self.detail(),
            }),
        )
            .into_response()
    }
}

impl From<crate::dataplane::sampler::QueryError> for ApiError {
    fn from(error: crate::dataplane::sampler::QueryError) -> Self {
        use crate::dataplane::sampler::QueryError;
        let target = match &error {
            QueryError::UnknownMetric(_) => "metricnames",
            QueryError::BadTimespan(_) => "timespan",
            QueryError::BadInterval(_) | QueryError::TooManyPoints { .. } => "interval",
            QueryError::BadAggregation(_) => "aggregation",
        };
        ApiError::BadRequest {
            code: "BadRequest",
            message: error.to_string(),
            target: Some(target.to_owned()),
            status: StatusCode::BAD_REQUEST,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        ApiError::Control(ControlError::Store(error))
    }
}
