//! ARM's protocol for long-running operations: the initial 201/202 with
//! the polling headers Azure sends for that operation, pointing at the
//! status resources clients poll until they say `Succeeded` or `Failed`.
//!
//! Which headers, per operation, follows the az CLI's recordings of Azure:
//! a cache create answers 201 with `Azure-AsyncOperation` and a `Location`
//! that is the new cache itself; a link create
//! (`test_redis_cache_server_link.yaml`) 201 with `Azure-AsyncOperation`
//! only; a cache delete 202 with only a `Location` at `operationResults`;
//! a cache update (`test_redis_cache_update.yaml`) and an unlink 202 with
//! both headers naming the `asyncOperations` status.
//! None carries `Retry-After`, as none of Azure's does; the status polls
//! wait for a running operation to end instead (`operations.rs`).

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use georep_core::names::API_VERSION;
use serde::Serialize;

use crate::store::records::OperationRecord;

/// The polling headers of one kind of operation.
#[derive(Debug, Clone)]
pub enum Polling {
    /// A cache create: `Azure-AsyncOperation`, and `Location` = the
    /// resource at this path.
    Created(String),
    /// A link create: `Azure-AsyncOperation` only.
    StatusOnly,
    /// A cache delete: `Location` at `operationResults` only.
    ResultOnly,
    /// A cache update and an unlink: `Azure-AsyncOperation`, and a
    /// `Location` naming the same status resource.
    StatusTwice,
    /// Export and import, which no recording shows: both status resources.
    Both,
}

/// ARM's answer to a request that started `op`: `status` (201 or 202), the
/// polling headers as absolute URLs under `base_url`, and `body` if any.
pub fn accepted<T: Serialize>(
    status: StatusCode,
    base_url: &str,
    op: &OperationRecord,
    polling: Polling,
    body: Option<T>,
) -> Response {
    let mut response = match body {
        Some(body) => (status, Json(body)).into_response(),
        None => status.into_response(),
    };
    insert_headers(&mut response, base_url, op, polling);
    response
}

/// 202 with `polling`'s headers and no body: how unlink, export and import
/// answer.
pub fn started(base_url: &str, op: &OperationRecord, polling: Polling) -> Response {
    accepted::<()>(StatusCode::ACCEPTED, base_url, op, polling, None)
}

/// Adds the polling headers of `op` to `response`.
pub fn insert_headers(
    response: &mut Response,
    base_url: &str,
    op: &OperationRecord,
    polling: Polling,
) {
    let header = |path: &str| {
        HeaderValue::from_str(&format!("{base_url}{path}?api-version={API_VERSION}"))
            .unwrap_or_else(|_| HeaderValue::from_static("/"))
    };
    let headers = response.headers_mut();
    match polling {
        Polling::Created(resource) => {
            headers.insert("azure-asyncoperation", header(&op.status_path()));
            headers.insert("location", header(&resource));
        }
        Polling::StatusOnly => {
            headers.insert("azure-asyncoperation", header(&op.status_path()));
        }
        Polling::ResultOnly => {
            headers.insert("location", header(&op.result_path()));
        }
        Polling::StatusTwice => {
            headers.insert("azure-asyncoperation", header(&op.status_path()));
            headers.insert("location", header(&op.status_path()));
        }
        Polling::Both => {
            headers.insert("azure-asyncoperation", header(&op.status_path()));
            headers.insert("location", header(&op.result_path()));
        }
    }
}
