//! Every HTTP call the console makes, in one place.
//!
//! The backend speaks Azure Resource Manager's `Microsoft.Cache/redis` API, so
//! URLs are built from ARM resource ids. Every request carries
//! `Authorization: Bearer <token>`; where the token comes from is
//! [`crate::session`]'s job.
//!
//! Every call goes through [`Api`]: `request` is its one request core,
//! `body` how bodies and answers cross to and from JSON, and `resources`,
//! `fleet` and `extensions` the calls themselves (ARM's resources, the
//! fleet's joined loads, and the backend's `x-georep` extensions).

mod body;
mod extensions;
mod fleet;
mod request;
mod resources;

use std::fmt;

pub use body::from_json;
pub use extensions::EventsTicket;
pub use resources::redis_url;

/// ARM api-version for subscription calls.
pub const SUBSCRIPTIONS_API_VERSION: &str = "2022-12-01";
/// ARM api-version for `Microsoft.Cache/redis` calls.
pub const REDIS_API_VERSION: &str = georep_core::names::API_VERSION;
/// Azure Monitor api-version for metrics.
pub const METRICS_API_VERSION: &str = "2023-10-01";

/// How a call failed, in the terms the UI needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// The backend could not be reached at all (network error, server down).
    Unreachable(String),
    /// The backend answered with an ARM error body (or a bare status).
    Arm {
        /// HTTP status.
        status: u16,
        /// ARM error code, e.g. `LinkedCacheCannotBeScaled`.
        code: String,
        /// ARM's human message, shown as is.
        message: String,
    },
    /// The backend answered 2xx with a body the console could not read.
    Decode(String),
}

impl ApiError {
    /// Whether the backend itself is down, as opposed to refusing a request.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, ApiError::Unreachable(_))
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Unreachable(why) => write!(f, "The backend is unreachable: {why}"),
            ApiError::Arm { message, code, .. } if message.is_empty() => f.write_str(code),
            ApiError::Arm { message, .. } => f.write_str(message),
            ApiError::Decode(why) => write!(f, "Unexpected response from the backend: {why}"),
        }
    }
}

/// The backend's address and the caller's token.
///
/// Cheap to clone; every page holds one through [`crate::state::AppState`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Api {
    base: String,
    token: Option<String>,
}

impl Api {
    /// A client for `base` (no trailing slash needed) with an optional token.
    pub fn new(base: impl Into<String>, token: Option<String>) -> Self {
        let base = base.into().trim_end_matches('/').to_owned();
        Self { base, token }
    }

    /// The client the page was opened for: the backend and token of the
    /// browser's session (see [`crate::session`]).
    pub fn from_browser() -> Self {
        let session = crate::session::from_browser();
        Self::new(session.base, session.token)
    }

    /// The backend's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Whether a token is known.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// Where the server serves its local CA's certificate, which TLS clients
    /// of the caches check them against. Public: a plain link downloads it.
    pub fn ca_certificate_url(&self) -> String {
        self.url("/x-georep/ca.pem")
    }

    /// The absolute URL of `path`, which is either already absolute (ARM's
    /// `nextLink`) or relative to the backend's base.
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }
}
