//! Extensions ARM lacks, under `/x-georep/`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use georep_core::{candidates, CacheId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ApiError, ArmJson};
use crate::control::app::SharedApp;
use georep_core::verification::Verification;

/// The query of `GET /x-georep/candidates`.
#[derive(Deserialize)]
pub struct CandidatesQuery {
    /// The would-be geo-primary's ARM id.
    primary: Option<String>,
}

/// One cache judged as a geo-secondary.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CandidateView<'a> {
    id: String,
    name: &'a str,
    location: &'a str,
    compatible: bool,
    /// Every unmet prerequisite: `{code, message, …fields}`.
    reasons: Vec<Explained<'a, georep_core::Reason>>,
    /// What linking entails: `{code, message, …fields}`.
    warnings: Vec<Explained<'a, georep_core::Warning>>,
}

/// The response of `GET /x-georep/candidates`.
#[derive(Serialize)]
struct CandidatesResponse<'a> {
    primary: String,
    value: Vec<CandidateView<'a>>,
}

/// A reason or warning with its sentence added as `message`. Serialized
/// straight into the response (no `Value` per item): a thousand caches'
/// reasons are most of a candidates answer.
#[derive(Serialize)]
struct Explained<'a, T> {
    #[serde(flatten)]
    item: &'a T,
    message: String,
}

fn explained<T: std::fmt::Display>(item: &T) -> Explained<'_, T> {
    Explained {
        item,
        message: item.to_string(),
    }
}

/// `GET /x-georep/candidates?primary={cacheId}`: every cache judged as the
/// geo-secondary of `primary`, compatible ones first, each with its reasons,
/// as JSON. The rules read nothing but the store's snapshot, so the answer
/// is judged and written once per snapshot and primary, and served from
/// the memo until a write makes a new snapshot.
fn judge(app: &SharedApp, primary: &str) -> Result<Arc<[u8]>, ApiError> {
    let id: CacheId = primary
        .parse()
        .map_err(|e: georep_core::id::BadCacheId| ApiError::invalid("primary", e.to_string()))?;
    let snapshot = app.store.snapshot()?;
    let primary = app.core_view_in(&snapshot, &id)?;
    app.candidates
        .get_or_make(&snapshot, &crate::store::key(&id), || {
            let all = app.core_views(&snapshot);
            let judged = candidates(&primary, &all);
            let value = judged
                .iter()
                .map(|c| CandidateView {
                    id: c.cache.id.to_string(),
                    name: &c.cache.id.name,
                    location: &c.cache.location,
                    compatible: c.is_compatible(),
                    reasons: c.reasons.iter().map(explained).collect(),
                    warnings: c.warnings.iter().map(explained).collect(),
                })
                .collect();
            serde_json::to_vec(&CandidatesResponse {
                primary: primary.id.to_string(),
                value,
            })
        })
        .map_err(|e| ApiError::Internal(format!("writing the candidates: {e}")))
}

/// The handler.
pub async fn list_candidates(
    State(app): State<SharedApp>,
    query: Result<Query<CandidatesQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query?;
    let primary = query.primary.ok_or_else(|| {
        ApiError::invalid(
            "primary",
            "Name the would-be geo-primary: ?primary={cacheId}.",
        )
    })?;
    let body = judge(&app, &primary)?;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        Bytes::from_owner(body),
    )
        .into_response())
}

/// Where the local CA's certificate is served.
pub const CA_PATH: &str = "/x-georep/ca.pem";

/// `GET /x-georep/ca.pem`: the local CA's certificate, which clients trust
/// to check the caches' TLS ports (6380) and the HTTPS API. Public, like
/// any certificate, so a plain download link works.
pub async fn ca_certificate(State(app): State<SharedApp>) -> Result<Response, ApiError> {
    let pem = tokio::fs::read_to_string(app.data_dir.join(crate::tls::CA_CERT_FILE))
        .await
        .map_err(|e| ApiError::Internal(format!("the local CA's certificate: {e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-pem-file"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"georep-ca.pem\"",
            ),
        ],
        pem,
    )
        .into_response())
}

/// The body of `POST /x-georep/verify`.
#[derive(Deserialize)]
pub struct VerifyRequest {
    /// The link's linked-server id, from either side.
    link: String,
}

/// The answer of `POST /x-georep/verify`: the link, and what was found.
#[derive(Serialize)]
pub struct VerifyResponse {
    link: String,
    #[serde(flatten)]
    found: Verification,
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
        found,
    }))
}

/// The body of `POST /x-georep/faults`.
#[derive(Deserialize)]
pub struct FaultRequest {
    /// The link's linked-server id, from either side.
    link: String,
    /// `cut-link`, `restore-link`, `kill-node` or `kill-region`.
    kind: String,
    /// For `kill-node`: `primary` (default) or `secondary`, the cache's role.
    cache: Option<String>,
    /// For `kill-node`: `primary` (default) or `replica`, the node's role.
    role: Option<String>,
    /// For `kill-region`: the region; the geo-primary's by default.
    region: Option<String>,
}

/// What `POST` and `GET /x-georep/faults` answer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultsResponse {
    link: String,
    /// What the fault did, in words (`POST` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    /// The faults still active: `[{"kind": "cut-link", "since": …}]`.
    active: Vec<Value>,
}

/// The query of `GET /x-georep/faults`.
#[derive(Deserialize)]
pub struct FaultsQuery {
    link: Option<String>,
}

fn parse_fault(
    app: &SharedApp,
    request: &FaultRequest,
) -> Result<crate::control::faults::Fault, ApiError> {
    use crate::control::faults::Fault;
    let pick = |value: &Option<String>, field: &str, other: &str| -> Result<bool, ApiError> {
        match value.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("primary") => Ok(false),
            Some(v) if v == other => Ok(true),
            Some(v) => Err(ApiError::invalid(
                field,
                format!("'{v}' is neither 'primary' nor '{other}'."),
            )),
        }
    };
    Ok(match request.kind.to_ascii_lowercase().as_str() {
        "cut-link" => Fault::CutLink,
        "restore-link" => Fault::RestoreLink,
        "kill-node" => Fault::KillNode {
            secondary: pick(&request.cache, "cache", "secondary")?,
            replica: pick(&request.role, "role", "replica")?,
        },
        "kill-region" => Fault::KillRegion {
            region: match &request.region {
                Some(region) => region.clone(),
                None => {
                    let (owner, _) =
                        request.link.rsplit_once("/linkedServers/").ok_or_else(|| {
                            ApiError::invalid("link", "Name the link by its linked-server id.")
                        })?;
                    let owner: CacheId =
                        owner.parse().map_err(|e: georep_core::id::BadCacheId| {
                            ApiError::invalid("link", e.to_string())
                        })?;
                    let link = app
                        .store
                        .link_of(&owner)?
                        .ok_or_else(|| ApiError::invalid("link", "The link does not exist."))?;
                    app.cache(link.primary())?.location
                }
            },
        },
        other => {
            return Err(ApiError::invalid(
                "kind",
                format!("'{other}' is not one of cut-link, restore-link, kill-node, kill-region."),
            ))
        }
    })
}

fn active_faults(since: Option<String>) -> Vec<Value> {
    since
        .map(|since| serde_json::json!({"kind": "cut-link", "since": since}))
        .into_iter()
        .collect()
}

/// `POST /x-georep/faults`: injects a fault on purpose.
pub async fn inject_fault(
    State(app): State<SharedApp>,
    ArmJson(request): ArmJson<FaultRequest>,
) -> Result<Json<FaultsResponse>, ApiError> {
    let fault = parse_fault(&app, &request)?;
    let message = crate::control::faults::inject(&app, &request.link, fault).await?;
    let active = active_faults(crate::control::faults::active(&app, &request.link)?);
    Ok(Json(FaultsResponse {
        link: request.link,
        message: Some(message),
        active,
    }))
}

/// `GET /x-georep/faults?link=…`: the faults active on a link.
pub async fn list_faults(
    State(app): State<SharedApp>,
    query: Result<Query<FaultsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<FaultsResponse>, ApiError> {
    let Query(query) = query?;
    let link = query
        .link
        .ok_or_else(|| ApiError::invalid("link", "Name the link: ?link={linkedServerId}."))?;
    let active = active_faults(crate::control::faults::active(&app, &link)?);
    Ok(Json(FaultsResponse {
        link,
        message: None,
        active,
    }))
}
