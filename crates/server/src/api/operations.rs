//! The long-running operations' status resources.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use georep_core::arm::{OperationState, OperationStatus};

use super::extract::OperationPath;
use super::lro;
use super::{ApiError, ApiVersion, BaseUrl};
use crate::control::app::SharedApp;
use crate::control::links;
use crate::store::records::{OperationKind, OperationRecord};

fn find(app: &SharedApp, path: &OperationPath) -> Result<OperationRecord, ApiError> {
    app.store
        .operation(&path.operation)?
        .filter(|op| op.subscription.eq_ignore_ascii_case(&path.subscription))
        .ok_or_else(|| ApiError::NotFound {
            kind: "Microsoft.Cache/locations/asyncOperations",
            name: path.operation.clone(),
        })
}

/// `GET …/locations/{loc}/asyncOperations/{id}`: what `Azure-AsyncOperation` points at.
pub async fn status(
    State(app): State<SharedApp>,
    _: ApiVersion,
    path: OperationPath,
) -> Result<Json<OperationStatus>, ApiError> {
    let op = find(&app, &path)?;
    let percent = match (op.kind, op.status) {
        (OperationKind::CreateLink, OperationState::InProgress) => {
            links::percent_complete(&app, &op.target).await
        }
        _ => None,
    };
    Ok(Json(op.to_status(percent)))
}

/// `GET …/locations/{loc}/operationResults/{id}`: what `Location` points at.
/// 202 while running, 204 once done, the error once failed.
pub async fn result(
    State(app): State<SharedApp>,
    _: ApiVersion,
    BaseUrl(base): BaseUrl,
    path: OperationPath,
) -> Result<Response, ApiError> {
    let op = find(&app, &path)?;
    Ok(match op.status {
        OperationState::InProgress => lro::accepted::<()>(StatusCode::ACCEPTED, &base, &op, None),
        OperationState::Succeeded => StatusCode::NO_CONTENT.into_response(),
        OperationState::Failed | OperationState::Canceled => (
            StatusCode::CONFLICT,
            Json(georep_core::arm::ErrorResponse {
                error: op.error.clone().unwrap_or_else(|| {
                    georep_core::arm::ErrorDetail::new("OperationFailed", "The operation failed.")
                }),
            }),
        )
            .into_response(),
    })
}
