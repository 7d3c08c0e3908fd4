//! ARM's protocol for long-running operations: the initial 201/202 with
//! `Azure-AsyncOperation`, `Location` and `Retry-After`, pointing at the
//! status resources clients poll until they say `Succeeded` or `Failed`.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use georep_core::names::API_VERSION;
use serde::Serialize;

use crate::store::records::OperationRecord;

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
