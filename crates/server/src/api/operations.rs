//! The long-running operations' status resources.

use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use georep_core::arm::{
    ErrorDetail, ErrorResponse, OperationResult, OperationState, OperationStatus,
};

use super::extract::OperationPath;
use super::lro::{self, Polling};
use super::{ApiError, ApiVersion, BaseUrl};
use crate::control::app::SharedApp;
use crate::control::links;
use crate::store::records::{OperationKind, OperationRecord};

/// How long a synchronous request waits for its operation to end.
const SYNCHRONOUS_WAIT: Duration = Duration::from_secs(300);

fn find(app: &SharedApp, path: &OperationPath) -> Result<OperationRecord, ApiError> {
    app.store
        .operation(&path.operation)?
        .filter(|op| op.subscription.eq_ignore_ascii_case(&path.subscription))
        .ok_or_else(|| ApiError::NotFound {
            kind: "Microsoft.Cache/locations/asyncOperations",
            name: path.operation.clone(),
        })
}

/// `GET …/locations/{loc}/asyncOperations/{id}`: what `Azure-AsyncOperation`
/// points at. It names itself in `Azure-AsyncOperation`, as Azure's do.
/// While it runs, `Retry-After` too: the SDKs' pollers read it from the
/// last poll's response, and wait 30 s without it.
pub async fn status(
    State(app): State<SharedApp>,
    _: ApiVersion,
    BaseUrl(base): BaseUrl,
    path: OperationPath,
) -> Result<Response, ApiError> {
    let op = find(&app, &path)?;
    let percent = match (op.kind, op.status) {
        (OperationKind::CreateLink, OperationState::InProgress) => {
            links::percent_complete(&app, &op.target).await
        }
        _ => None,
    };
    let status: OperationStatus = op.to_status(percent);
    let mut response = Json(status).into_response();
    if let Ok(url) = HeaderValue::from_str(&format!(
        "{base}{}?api-version={}",
        op.status_path(),
        georep_core::names::API_VERSION
    )) {
        response.headers_mut().insert("azure-asyncoperation", url);
    }
    if op.status == OperationState::InProgress {
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from(lro::RETRY_AFTER_SECONDS));
    }
    Ok(response)
}

/// The body of `operationResults`: the result resource, named as Azure names it.
fn result_body(op: &OperationRecord) -> OperationResult {
    OperationResult {
        id: op.result_path(),
        name: op.id.clone(),
        status: op.status,
    }
}

/// A failed operation's error, in ARM's body.
pub fn failed(op: &OperationRecord) -> Response {
    (
        StatusCode::CONFLICT,
        Json(ErrorResponse {
            error: op
                .error
                .clone()
                .unwrap_or_else(|| ErrorDetail::new("OperationFailed", "The operation failed.")),
        }),
    )
        .into_response()
}

/// `GET …/locations/{loc}/operationResults/{id}`: what `Location` points at.
/// 202 with `{id, name, status}` while running, 200 with it once done, the
/// error once failed.
pub async fn result(
    State(app): State<SharedApp>,
    _: ApiVersion,
    BaseUrl(base): BaseUrl,
    path: OperationPath,
) -> Result<Response, ApiError> {
    let op = find(&app, &path)?;
    Ok(match op.status {
        OperationState::InProgress => lro::accepted(
            StatusCode::ACCEPTED,
            &base,
            &op,
            Polling::Both,
            Some(result_body(&op)),
        ),
        OperationState::Succeeded => Json(result_body(&op)).into_response(),
        OperationState::Failed | OperationState::Canceled => failed(&op),
    })
}

/// Waits for `op` to end, for a request that answers only then: 204 once
/// it succeeded, its error if it failed.
pub async fn finished(app: &SharedApp, op: &OperationRecord) -> Result<Response, ApiError> {
    let deadline = tokio::time::Instant::now() + SYNCHRONOUS_WAIT;
    loop {
        let now = app
            .store
            .operation(&op.id)?
            .ok_or_else(|| ApiError::Internal("the operation's record disappeared".into()))?;
        match now.status {
            OperationState::Succeeded => return Ok(StatusCode::NO_CONTENT.into_response()),
            OperationState::Failed | OperationState::Canceled => return Ok(failed(&now)),
            OperationState::InProgress if tokio::time::Instant::now() >= deadline => {
                return Err(ApiError::BadRequest {
                    code: "OperationStillRunning",
                    message: format!(
                        "The operation {} is still running; poll {}.",
                        now.id,
                        now.status_path()
                    ),
                    target: None,
                    status: StatusCode::CONFLICT,
                });
            }
            OperationState::InProgress => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}
