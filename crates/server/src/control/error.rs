//! What a control-plane operation can fail with. Plain domain errors: the
//! API maps each to ARM's error body and an HTTP status in one place
//! (`api/error.rs`), and nothing here knows either.

use georep_core::link::Refusal;
use georep_core::{Reason, Restriction};

use crate::dataplane::fleet::FleetError;
use crate::store::StoreError;

/// Everything a control-plane operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The addressed resource does not exist.
    #[error("The {kind} '{name}' was not found.")]
    NotFound {
        /// The resource type, e.g. `Microsoft.Cache/Redis`.
        kind: &'static str,
        /// The resource's name.
        name: String,
    },
    /// A value in the request breaks a rule.
    #[error("{message}")]
    Invalid {
        /// The field or parameter concerned, e.g. `properties.sku`.
        target: &'static str,
        /// What is wrong, for the user.
        message: String,
    },
    /// The request conflicts with what the resource is doing now.
    #[error("{message}")]
    Conflict {
        /// A stable code, e.g. `OperationInProgress`.
        code: &'static str,
        /// What is wrong, for the user.
        message: String,
    },
    /// The pair can't be linked; every unmet prerequisite is listed.
    #[error("'{secondary}' can't be linked as the geo-secondary of '{primary}': {} prerequisite(s) aren't met.", reasons.len())]
    Incompatible {
        /// The would-be geo-primary.
        primary: String,
        /// The would-be geo-secondary.
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
    Refused(#[from] Refusal),
    /// The data plane failed.
    #[error("the caches' nodes failed")]
    Fleet(#[from] FleetError),
    /// The store failed.
    #[error("the control-plane store failed")]
    Store(#[from] StoreError),
}

impl ControlError {
    /// A bad value for `target`.
    pub fn invalid(target: &'static str, message: impl Into<String>) -> Self {
        ControlError::Invalid {
            target,
            message: message.into(),
        }
    }

    /// A conflict with the resource's current state.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        ControlError::Conflict {
            code,
            message: message.into(),
        }
    }

    /// A missing cache.
    pub fn cache_not_found(name: &str) -> Self {
        ControlError::NotFound {
            kind: georep_core::id::CACHE_TYPE,
            name: name.to_owned(),
        }
    }
}

/// The result of a control-plane operation.
pub type Result<T, E = ControlError> = std::result::Result<T, E>;

/// The error and every source under it, joined by `: `, for a log line or a
/// stored failure that should say everything at once.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
