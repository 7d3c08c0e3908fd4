//! ARM's cloud metadata document, which `az cloud register` reads.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// ARM's cloud metadata document (`GET /metadata/endpoints`, the
/// `2022-09-01` shape: one cloud), which `az cloud register
/// --endpoint-resource-manager` reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudMetadata {
    /// The cloud's name.
    pub name: String,
    /// The ARM endpoint, with a trailing slash.
    pub resource_manager: String,
    /// The portal; here, the console.
    pub portal: String,
    /// How tokens for this cloud are obtained.
    pub authentication: CloudAuthentication,
    /// Host-name suffixes of the cloud's services; this one has none.
    pub suffixes: BTreeMap<String, String>,
}

/// The `authentication` block of [`CloudMetadata`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudAuthentication {
    /// The authority for interactive sign-in.
    pub login_endpoint: String,
    /// The resources a token for ARM may name; the az CLI asks for the first.
    pub audiences: Vec<String>,
    /// The default tenant.
    pub tenant: String,
    /// `AAD`.
    pub identity_provider: String,
}

impl CloudMetadata {
    /// The document for a server whose API is at `resource_manager` and
    /// console at `portal`, accepting tokens for `audiences`.
    pub fn new(resource_manager: &str, portal: &str, audiences: &[&str]) -> Self {
        let with_slash = |url: &str| format!("{}/", url.trim_end_matches('/'));
        CloudMetadata {
            name: "georep".into(),
            resource_manager: with_slash(resource_manager),
            portal: with_slash(portal),
            authentication: CloudAuthentication {
                login_endpoint: with_slash(resource_manager),
                audiences: audiences.iter().map(|a| (*a).to_owned()).collect(),
                tenant: "common".into(),
                identity_provider: "AAD".into(),
            },
            suffixes: BTreeMap::new(),
        }
    }
}
