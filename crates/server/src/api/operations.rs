//! The long-running operations' status resources.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
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

/// How long a status poll of a running operation waits for it to end (or
/// change) before it answers `InProgress`. Azure sends no `Retry-After`, so the
/// SDKs' pollers (azure-core's and core-lro's) poll once at once and then
/// only every 30 s (2 s in JavaScript); nearly every operation here ends
/// within this wait, so that first poll already says how it ended.
pub const STATUS_POLL_WAIT: Duration = Duration::from_secs(10);

fn find(app: &SharedApp, path: &OperationPath) -> Result<OperationRecord, ApiError> {
    app.store
        .operation(&path.operation)?
        .filter(|op| op.subscription.eq_ignore_ascii_case(&path.subscription))
        .ok_or_else(|| ApiError::NotFound {
            kind: "Microsoft.Cache/locations/asyncOperations",
            name: path.operation.clone(),
        })
}

/// The record of `op` once it has ended or `changed` says so, or as it
/// stands after `wait`, or when the server begins to stop (a waiting
/// request must not hold up a graceful shutdown).
async fn settled(
    app: &SharedApp,
    op: OperationRecord,
    wait: Duration,
    changed: impl Fn(&OperationRecord) -> bool,
) -> Result<OperationRecord, ApiError> {
    if op.status != OperationState::InProgress {
        return Ok(op);
    }
    let deadline = tokio::time::Instant::now() + wait;
    let stopping = app.events.closed();
    tokio::pin!(stopping);
    // Subscribed before the first read, so a write between a read and the
    // wait that follows it still wakes the wait.
    let mut writes = app.store.operation_writes();
    loop {
        let now = app
            .store
            .operation(&op.id)?
            .ok_or_else(|| ApiError::Internal("the operation's record disappeared".into()))?;
        if now.status != OperationState::InProgress || changed(&now) {
            return Ok(now);
        }
        tokio::select! {
            written = writes.changed() => {
                if written.is_err() {
                    return Ok(now);
                }
            }
            () = tokio::time::sleep_until(deadline) => return Ok(now),
            () = &mut stopping => return Ok(now),
        }
    }
}

/// [`settled`] for a status poll: it also answers as soon as the record
/// changes, since a running operation may report on the way (a forced
/// failover says what it may have lost before it ends).
async fn polled(app: &SharedApp, op: OperationRecord) -> Result<OperationRecord, ApiError> {
    let seen = op.clone();
    settled(app, op, STATUS_POLL_WAIT, move |now| *now != seen).await
}

/// `GET …/locations/{loc}/asyncOperations/{id}`: what `Azure-AsyncOperation`
/// points at. It names itself in `Azure-AsyncOperation`, as Azure's do,
/// and carries no `Retry-After`, as Azure's don't. A poll of a running
/// operation waits up to [`STATUS_POLL_WAIT`] for it to end or change.
pub async fn status(
    State(app): State<SharedApp>,
    _: ApiVersion,
    BaseUrl(base): BaseUrl,
    path: OperationPath,
) -> Result<Response, ApiError> {
    let op = polled(&app, find(&app, &path)?).await?;
    let percent = match (op.kind, op.status) {
        (OperationKind::CreateLink, OperationState::InProgress) => {
            links::percent_complete(&app, &op.target).await
        }
        _ => None,
    };
    let status: OperationStatus = op.to_status(percent);
    let mut response = Json(status).into_response();
    // Naming itself, as a link create's answer names it.
    lro::insert_headers(&mut response, &base, &op, Polling::StatusOnly);
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
/// error once failed. Like [`status`], a poll of a running operation waits
/// up to [`STATUS_POLL_WAIT`] for it to end or change.
pub async fn result(
    State(app): State<SharedApp>,
    _: ApiVersion,
    BaseUrl(base): BaseUrl,
    path: OperationPath,
) -> Result<Response, ApiError> {
    let op = polled(&app, find(&app, &path)?).await?;
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
    let now = settled(app, op.clone(), SYNCHRONOUS_WAIT, |_| false).await?;
    match now.status {
        OperationState::Succeeded => Ok(StatusCode::NO_CONTENT.into_response()),
        OperationState::Failed | OperationState::Canceled => Ok(failed(&now)),
        OperationState::InProgress => Err(ApiError::BadRequest {
            code: "OperationStillRunning",
            message: format!(
                "The operation {} is still running; poll {}.",
                now.id,
                now.status_path()
            ),
            target: None,
            status: StatusCode::CONFLICT,
        }),
    }
}
