//! `GET /subscriptions`, so clients can discover where the caches are.

use axum::extract::State;
use axum::Json;
use georep_core::arm::{ListResult, Subscription};

use super::extract::{AnyApiVersion, SubscriptionPath};
use super::ApiError;
use crate::control::app::SharedApp;
use crate::control::subscriptions;

/// `GET /subscriptions`.
pub async fn list(
    State(app): State<SharedApp>,
    _: AnyApiVersion,
) -> Result<Json<ListResult<Subscription>>, ApiError> {
    Ok(Json(ListResult::of(subscriptions::all(&app)?)))
}

/// `GET /subscriptions/{sub}`.
pub async fn get(
    State(app): State<SharedApp>,
    _: AnyApiVersion,
    SubscriptionPath(id): SubscriptionPath,
) -> Result<Json<Subscription>, ApiError> {
    subscriptions::all(&app)?
        .into_iter()
        .find(|s| s.subscription_id.eq_ignore_ascii_case(&id))
        .map(Json)
        .ok_or(ApiError::NotFound {
            kind: "subscription",
            name: id,
        })
}
