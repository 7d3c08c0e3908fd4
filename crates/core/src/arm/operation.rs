//! Long-running operations: their states, and the status and result
//! documents that `Azure-AsyncOperation` and `Location` point at.

use serde::{Deserialize, Serialize};

use super::{ErrorDetail, FailoverSummary};

/// The state of a long-running operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OperationState {
    /// Still running.
    InProgress,
    /// Done.
    Succeeded,
    /// Ended in an error.
    Failed,
    /// Cancelled.
    Canceled,
}

/// The status resource of a long-running operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationStatus {
    /// The status resource's id.
    pub id: String,
    /// The operation's id.
    pub name: String,
    /// Its state.
    pub status: OperationState,
    /// When it started (RFC 3339). This and the fields below are always
    /// sent, `null` when unknown, as Azure sends them.
    #[serde(default)]
    pub start_time: Option<String>,
    /// When it ended (RFC 3339).
    #[serde(default)]
    pub end_time: Option<String>,
    /// How much is done, from 0 to 100.
    #[serde(default)]
    pub percent_complete: Option<f64>,
    /// Why it failed.
    #[serde(default)]
    pub error: Option<ErrorDetail>,
    /// What the operation found, when it has something to report.
    #[serde(default)]
    pub properties: Option<OperationProperties>,
}

/// What `operationResults` (the `Location` of a delete) answers: 202 with
/// this while the operation runs, 200 once it is done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationResult {
    /// The result resource's id.
    pub id: String,
    /// The operation's id.
    pub name: String,
    /// Its state.
    pub status: OperationState,
}

/// Extension: what a long-running operation reports beside its status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationProperties {
    /// For a failover, once the roles have swapped: what it did and may have lost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover: Option<FailoverSummary>,
}
