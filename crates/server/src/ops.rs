//! Long-running operations and ARM's protocol for them: the initial 201/202
//! with `Azure-AsyncOperation`, `Location` and `Retry-After`, and the status
//! resource clients poll until it says `Succeeded` or `Failed`.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use georep_core::arm::{ErrorDetail, OperationProperties, OperationState, OperationStatus};
use georep_core::names::API_VERSION;
use georep_core::regions;
use serde::{Deserialize, Serialize};

use crate::auth::random_hex;

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OperationKind {
    /// Starting a new cache's nodes.
    CreateCache,
    /// Stopping a cache's nodes and forgetting it.
    DeleteCache,
    /// Linking a secondary and waiting for its full sync.
    CreateLink,
    /// Unlinking a pair.
    DeleteLink,
    /// Writing an RDB file.
    Export,
    /// Loading an RDB file.
    Import,
}

/// One operation, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationRecord {
    /// A random id.
    pub id: String,
    /// The subscription it ran in.
    pub subscription: String,
    /// The region it ran in, in ARM's form.
    pub location: String,
    /// What it does.
    pub kind: OperationKind,
    /// The ARM id of the resource it works on.
    pub target: String,
    /// Where it is.
    pub status: OperationState,
    /// When it started (RFC 3339).
    pub start_time: String,
    /// When it ended (RFC 3339).
    pub end_time: Option<String>,
    /// Why it failed.
    pub error: Option<ErrorDetail>,
    /// What it found, such as what a failover may have lost.
    #[serde(default)]
    pub properties: Option<OperationProperties>,
}

/// Now, in RFC 3339.
pub fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl OperationRecord {
    /// A new operation, in progress.
    pub fn start(subscription: &str, location: &str, kind: OperationKind, target: String) -> Self {
        OperationRecord {
            id: random_hex(16),
            subscription: subscription.to_owned(),
            location: regions::normalize(location),
            kind,
            target,
            status: OperationState::InProgress,
            start_time: now(),
            end_time: None,
            error: None,
            properties: None,
        }
    }

    /// Whether it has ended, one way or the other.
    pub fn is_finished(&self) -> bool {
        self.status != OperationState::InProgress
    }

    /// Marks it done.
    pub fn succeed(&mut self) {
        self.status = OperationState::Succeeded;
        self.end_time = Some(now());
    }

    /// Marks it failed with `error`.
    pub fn fail(&mut self, error: ErrorDetail) {
        self.status = OperationState::Failed;
        self.end_time = Some(now());
        self.error = Some(error);
    }

    /// The status resource's path (without host or query).
    pub fn status_path(&self) -> String {
        format!(
            "/subscriptions/{}/providers/Microsoft.Cache/locations/{}/asyncOperations/{}",
            self.subscription, self.location, self.id
        )
    }

    /// The operation-result path `Location` points at.
    pub fn result_path(&self) -> String {
        format!(
            "/subscriptions/{}/providers/Microsoft.Cache/locations/{}/operationResults/{}",
            self.subscription, self.location, self.id
        )
    }

    /// The status resource.
    pub fn to_status(&self, percent_complete: Option<f64>) -> OperationStatus {
        OperationStatus {
            id: self.status_path(),
            name: self.id.clone(),
            status: self.status,
            start_time: Some(self.start_time.clone()),
            end_time: self.end_time.clone(),
            percent_complete: match self.status {
                OperationState::Succeeded => Some(100.0),
                _ => percent_complete,
            },
            error: self.error.clone(),
            properties: self.properties.clone(),
        }
    }
}

/// How many seconds clients should wait between polls.
pub const RETRY_AFTER_SECONDS: u32 = 1;

/// ARM's answer to a request that started `op`: `status` (201 or 202), the
/// polling headers as absolute URLs under `base_url`, and `body` if any.
pub fn accepted<T: Serialize>(
    status: StatusCode,
    base_url: &str,
    op: &OperationRecord,
    body: Option<T>,
) -> Response {
    let header = |path: String| {
        HeaderValue::from_str(&format!("{base_url}{path}?api-version={API_VERSION}"))
            .unwrap_or_else(|_| HeaderValue::from_static("/"))
    };
    let mut response = match body {
        Some(body) => (status, Json(body)).into_response(),
        None => status.into_response(),
    };
    let headers = response.headers_mut();
    headers.insert("azure-asyncoperation", header(op.status_path()));
    headers.insert("location", header(op.result_path()));
    headers.insert("retry-after", HeaderValue::from(RETRY_AFTER_SECONDS));
    response
}
