//! One error type for the whole API, and its single mapping to ARM's error
//! body (`{"error": {"code", "message", "target", "details"}}`) with the right
//! status. Handlers return `Result<_, ApiError>` and never build error
//! responses themselves.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use georep_core::arm::{ErrorDetail, ErrorResponse};
use georep_core::link::Refusal;
use georep_core::names::NameError;
use georep_core::{Reason, Restriction};

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
    /// The pair can't be linked; every unmet prerequisite is a detail.
    #[error("'{secondary}' can't be linked as the geo-secondary of '{primary}': {} prerequisite(s) aren't met.", reasons.len())]
    Incompatible {
        /// The would-be primary.
        primary: String,
        /// The would-be secondary.
        secondary: String,
        /// Every unmet prerequisite.
        reasons: Vec<Reason>,
    },
    /// The change is refused because the cache is geo-replicated.
    #[error(transparent)]
    Restricted(#[from] Restriction),
    /// Several changes refused at once, e.g. deleting a resource group.
    #[error("{message}")]
    RestrictedMany {
        /// A summary.
        message: String,
        /// Each refusal.
        restrictions: Vec<Restriction>,
    },
    /// The link's state machine refuses the request.
    #[error(transparent)]
    LinkRefused(#[from] Refusal),
    /// The request conflicts with the resource's current state.
    #[error("{message}")]
    Conflict {
        /// ARM's code.
        code: &'static str,
        /// What is wrong.
        message: String,
    },
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

    /// A 409 with ARM's `code` and a message.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Conflict {
            code,
            message: message.into(),
        }
    }

    /// A missing cache.
    pub fn cache_not_found(name: &str) -> Self {
        ApiError::NotFound {
            kind: "Microsoft.Cache/Redis",
            name: name.to_owned(),
        }
    }

    /// The status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::MissingApiVersion | ApiError::BadName(_) | ApiError::Incompatible { .. } => {
                StatusCode::BAD_REQUEST
            }
            ApiError::BadRequest { status, .. } => *status,
            ApiError::NotFound { .. } | ApiError::NoSuchRoute(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Restricted(_)
            | ApiError::RestrictedMany { .. }
            | ApiError::LinkRefused(_)
            | ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// ARM's error body for this error.
    pub fn detail(&self) -> ErrorDetail {
        let message = self.to_string();
        let code = match self {
            ApiError::Unauthorized(_) => "AuthenticationFailed",
            ApiError::MissingApiVersion => "MissingApiVersionParameter",
            ApiError::BadName(NameError::ApiVersion(_)) => "InvalidApiVersionParameter",
            ApiError::BadName(NameError::Subscription(_)) => "InvalidSubscriptionId",
            ApiError::BadName(_) => "InvalidResourceName",
            ApiError::BadRequest { code, .. } | ApiError::Conflict { code, .. } => code,
            ApiError::NotFound { .. } => "ResourceNotFound",
            ApiError::NoSuchRoute(_) => "InvalidResourceType",
            ApiError::MethodNotAllowed(_) => "MethodNotAllowed",
            ApiError::Incompatible { .. } => "GeoReplicationPrerequisitesNotMet",
            ApiError::Restricted(restriction) => restriction.code(),
            ApiError::RestrictedMany { .. } => "LinkedCacheBlocksResourceGroupDelete",
            ApiError::LinkRefused(refusal) => refusal_code(refusal),
            ApiError::Internal(_) => "InternalServerError",
        };
        let mut detail = ErrorDetail::new(code, message);
        match self {
            ApiError::BadRequest { target, .. } => detail.target = target.clone(),
            ApiError::Incompatible { reasons, .. } => {
                detail.details = reasons
                    .iter()
                    .map(|r| ErrorDetail::new(r.code(), r.to_string()))
                    .collect();
            }
            ApiError::RestrictedMany { restrictions, .. } => {
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

/// A stable code for each refusal of the link state machine.
fn refusal_code(refusal: &Refusal) -> &'static str {
    match refusal {
        Refusal::SizeMismatch => "FailoverSizeMismatch",
        Refusal::NotLinked { .. } => "LinkNotSucceeded",
        Refusal::Busy { .. } => "OperationInProgress",
        Refusal::Unexpected { .. } => "InvalidLinkState",
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
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

impl From<crate::sampler::QueryError> for ApiError {
    fn from(error: crate::sampler::QueryError) -> Self {
        use crate::sampler::QueryError;
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

impl From<crate::store::StoreError> for ApiError {
    fn from(error: crate::store::StoreError) -> Self {
        ApiError::Internal(format!("The control-plane store failed: {error}"))
    }
}
