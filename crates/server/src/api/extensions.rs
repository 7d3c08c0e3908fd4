//! Extensions ARM lacks, under `/x-georep/`.

use axum::extract::{Query, State};
use axum::Json;
use georep_core::{candidates, CacheId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ApiError, ArmJson};
use crate::control::app::SharedApp;
use crate::dataplane::verify::Verification;

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

/// The body of `POST /x-georep/verify`.
#[derive(Deserialize)]
pub struct VerifyRequest {
    /// The link's linked-server id, from either side.
    link: String,
}

/// The answer of `POST /x-georep/verify`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyResponse {
    link: String,
    consistent: bool,
    keys_primary: u64,
    keys_secondary: u64,
    sampled: bool,
    compared: u64,
    mismatches: Vec<String>,
}

/// `POST /x-georep/verify {"link": …}`: whether the geo-secondary holds the
/// geo-primary's data, compared at one replication offset without pausing
/// writes.
pub async fn verify(
    State(app): State<SharedApp>,
    ArmJson(request): ArmJson<VerifyRequest>,
) -> Result<Json<VerifyResponse>, ApiError> {
    let found: Verification = crate::control::verify::verify(&app, &request.link).await?;
    Ok(Json(VerifyResponse {
        link: request.link,
        consistent: found.consistent,
        keys_primary: found.keys_primary,
        keys_secondary: found.keys_secondary,
        sampled: found.sampled,
        compared: found.compared,
        mismatches: found.mismatches,
    }))
}
