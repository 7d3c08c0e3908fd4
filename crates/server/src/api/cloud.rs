//! What the official tools expect of Azure besides ARM's resources: the
//! cloud metadata document (`az cloud register --endpoint-resource-manager`)
//! and a managed-identity endpoint in App Service's protocol (`az login
//! --identity`, `DefaultAzureCredential`).

use std::sync::Arc;

use axum::extract::Query;
use axum::http::HeaderMap;
use axum::{Extension, Json};
use georep_core::arm::CloudMetadata;
use serde::Deserialize;

use super::ApiError;
use crate::identity::{Identity, IdentityError, IssuedToken, ARM_AUDIENCES};

/// Where the managed-identity endpoint is (`IDENTITY_ENDPOINT`).
pub const IDENTITY_PATH: &str = "/x-georep/identity/token";
/// The metadata document's path.
pub const METADATA_PATH: &str = "/metadata/endpoints";
/// The one version of App Service's protocol.
const IDENTITY_API_VERSION: &str = "2019-08-01";

/// The server's own URLs, as it listens (never from a request's `Host`).
#[derive(Debug, Clone)]
pub struct Urls {
    /// `http://addr:port`: the console, and the API for local scripts.
    pub http: String,
    /// `https://addr:port`, with `--listen-tls`: the API for the Azure tools.
    pub https: Option<String>,
}

impl Urls {
    /// The API's URL for the Azure tools: HTTPS when served.
    pub fn resource_manager(&self) -> &str {
        self.https.as_deref().unwrap_or(&self.http)
    }
}

/// `GET /metadata/endpoints?api-version=…`: ARM's cloud metadata, with
/// `resourceManager` at this server and ARM's audiences (the az CLI asks
/// for tokens for the first).
pub async fn metadata(Extension(urls): Extension<Arc<Urls>>) -> Json<CloudMetadata> {
    let audiences = [ARM_AUDIENCES[1], ARM_AUDIENCES[0]];
    Json(CloudMetadata::new(
        urls.resource_manager(),
        &urls.http,
        &audiences,
    ))
}

/// The query of a token request.
#[derive(Deserialize)]
pub struct TokenQuery {
    resource: Option<String>,
    #[serde(rename = "api-version")]
    api_version: Option<String>,
}

/// `GET /x-georep/identity/token?resource=…&api-version=2019-08-01` with
/// `X-IDENTITY-HEADER`: an access token for `resource`, as App Service
/// answers it.
pub async fn token(
    Extension(identity): Extension<Arc<Identity>>,
    headers: HeaderMap,
    Query(query): Query<TokenQuery>,
) -> Result<Json<IssuedToken>, ApiError> {
    let presented = headers
        .get("x-identity-header")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !identity.header_matches(presented) {
        return Err(ApiError::Unauthorized(
            "The X-IDENTITY-HEADER header is missing or wrong: use IDENTITY_HEADER from DATA_DIR/azure-env.sh.",
        ));
    }
    match query.api_version.as_deref() {
        Some(IDENTITY_API_VERSION) => {}
        Some(other) => {
            return Err(ApiError::invalid(
                "api-version",
                format!("The managed-identity endpoint speaks api-version {IDENTITY_API_VERSION}, not '{other}'."),
            ))
        }
        None => return Err(ApiError::MissingApiVersion),
    }
    let resource = query
        .resource
        .filter(|r| !r.trim().is_empty())
        .ok_or_else(|| ApiError::invalid("resource", "The resource parameter is required."))?;
    identity.issue(&resource).map(Json).map_err(|e| match e {
        IdentityError::UnknownResource(..) => ApiError::invalid("resource", e.to_string()),
        other => ApiError::Internal(other.to_string()),
    })
}
