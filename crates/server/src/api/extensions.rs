//! Extensions ARM lacks, under `/x-georep/`.

use axum::extract::{Query, State};
use axum::Json;
use georep_core::{candidates, CacheId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ApiError;
use crate::control::app::SharedApp;

/// The query of `GET /x-georep/candidates`.
#[derive(Deserialize)]
pub struct CandidatesQuery {
    /// The would-be geo-primary's ARM id.
    primary: Option<String>,
}

/// One cache judged as a geo-secondary.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CandidateView {
    id: String,
    name: String,
    location: String,
    compatible: bool,
    /// Every unmet prerequisite: `{code, message, …fields}`.
    reasons: Vec<Value>,
    /// What linking entails: `{code, message, …fields}`.
    warnings: Vec<Value>,
}

/// The response of `GET /x-georep/candidates`.
#[derive(Serialize)]
pub struct CandidatesResponse {
    primary: String,
    value: Vec<CandidateView>,
}

/// A reason or warning as JSON, with its sentence added as `message`.
fn explained<T: Serialize + std::fmt::Display>(item: &T) -> Value {
    let mut value = serde_json::to_value(item).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert("message".into(), Value::String(item.to_string()));
    }
    value
}

/// `GET /x-georep/candidates?primary={cacheId}`: every cache judged as the
/// geo-secondary of `primary`, compatible ones first, each with its reasons.
async fn judge(app: &SharedApp, primary: &str) -> Result<CandidatesResponse, ApiError> {
    let id: CacheId = primary
        .parse()
        .map_err(|e: georep_core::id::BadCacheId| ApiError::invalid("primary", e.to_string()))?;
    let primary = app.core_view(&app.cache(&id)?)?;
    let all = app
        .store
        .caches(None, None)?
        .iter()
        .map(|c| app.core_view(c))
        .collect::<Result<Vec<_>, _>>()?;
    let value = candidates(&primary, &all)
        .into_iter()
        .map(|c| CandidateView {
            id: c.cache.id.to_string(),
            name: c.cache.id.name.clone(),
            location: c.cache.location.clone(),
            compatible: c.is_compatible(),
            reasons: c.reasons.iter().map(explained).collect(),
            warnings: c.warnings.iter().map(explained).collect(),
        })
        .collect();
    Ok(CandidatesResponse {
        primary: primary.id.to_string(),
        value,
    })
}

/// The handler.
pub async fn list_candidates(
    State(app): State<SharedApp>,
    query: Result<Query<CandidatesQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<CandidatesResponse>, ApiError> {
    let Query(query) = query?;
    let primary = query.primary.ok_or_else(|| {
        ApiError::invalid(
            "primary",
            "Name the would-be geo-primary: ?primary={cacheId}.",
        )
    })?;
    Ok(Json(judge(&app, &primary).await?))
}
