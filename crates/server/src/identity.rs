//! The managed identity: access tokens as App Service's managed-identity
//! endpoint issues them, signed JWTs (HS256) that the API verifies beside
//! its static token.
//!
//! The signing key, the `X-IDENTITY-HEADER` secret and the identity's ids
//! are created on first start and kept in `DATA_DIR/identity.json` (0600).
//! A leaf: it imports nothing of this crate but [`crate::secrets`].

use std::collections::BTreeSet;
use std::io;
use std::path::Path;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use thiserror::Error;

/// The file that holds the identity's secrets.
const IDENTITY_FILE: &str = "identity.json";
/// How long a token is valid, as App Service's are (a day).
pub const TOKEN_LIFETIME_SECONDS: u64 = 24 * 3600;
/// The audiences ARM itself accepts; the Azure SDKs ask for the first
/// (`https://management.azure.com/.default`) unless told otherwise.
pub const ARM_AUDIENCES: [&str; 2] = [
    "https://management.azure.com/",
    "https://management.core.windows.net/",
];

/// Why a token was not issued or not accepted.
#[derive(Debug, Error)]
pub enum IdentityError {
    /// The identity file could not be read or written.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The identity file is not what this server wrote.
    #[error("the identity file is damaged: {0}")]
    Damaged(#[from] serde_json::Error),
    /// A token for a resource this server is not.
    #[error("The resource '{0}' is not this server's; ask for one of: {1}.")]
    UnknownResource(String, String),
    /// The token's audience is not this server.
    #[error("The access token is not meant for this server (its audience is '{0}').")]
    WrongAudience(String),
    /// Expired, badly signed, or not a JWT at all.
    #[error("The access token is not valid: {0}.")]
    Invalid(String),
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Stored {
    signing_key: String,
    header_secret: String,
    object_id: String,
    client_id: String,
}

/// The claims of an access token, as Entra ID's carry them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The resource the token is for.
    pub aud: String,
    /// Who issued it.
    pub iss: String,
    /// When it was issued (seconds since the epoch).
    pub iat: u64,
    /// Not before.
    pub nbf: u64,
    /// When it expires.
    pub exp: u64,
    /// The tenant.
    pub tid: String,
    /// The identity's object id.
    pub oid: String,
    /// The subject: the identity's object id.
    pub sub: String,
    /// The identity's client (application) id.
    pub appid: String,
    /// `app`: a managed identity is an application.
    pub idtyp: String,
}

/// A token as App Service's endpoint answers it.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedToken {
    /// The JWT.
    pub access_token: String,
    /// Its expiry, seconds since the epoch, as a string (as App Service sends it).
    pub expires_on: String,
    /// The resource it is for, as asked.
    pub resource: String,
    /// `Bearer`.
    pub token_type: String,
    /// The identity's client id.
    pub client_id: String,
}

/// The server's managed identity.
pub struct Identity {
    stored: Stored,
    tenant: String,
    audiences: BTreeSet<String>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("tenant", &self.tenant)
            .field("audiences", &self.audiences)
            .finish_non_exhaustive()
    }
}

/// An audience without the differences that don't matter: case, trailing
/// slashes and a `/.default` scope suffix.
fn normalize(audience: &str) -> String {
    let lower = audience.trim().to_ascii_lowercase();
    let lower = lower.strip_suffix("/.default").unwrap_or(&lower);
    lower.trim_end_matches('/').to_owned()
}

/// A random GUID (version 4), for the identity's ids.
fn new_guid() -> String {
    let hex = crate::secrets::random_hex(16);
    let variant = ["8", "9", "a", "b"][usize::from(hex.as_bytes()[16] % 4)];
    format!(
        "{}-{}-4{}-{}{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        variant,
        &hex[17..20],
        &hex[20..32]
    )
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Identity {
    /// Reads the identity from `data_dir`, creating it the first time. Its
    /// tokens are for `tenant`, and for ARM's audiences plus `own_urls`
    /// (the server's own base URLs).
    pub fn load_or_create(
        data_dir: &Path,
        tenant: &str,
        own_urls: &[String],
    ) -> Result<Identity, IdentityError> {
        let path = data_dir.join(IDENTITY_FILE);
        let stored = match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let stored = Stored {
                    signing_key: crate::secrets::random_hex(32),
                    header_secret: crate::secrets::random_hex(24),
                    object_id: new_guid(),
                    client_id: new_guid(),
                };
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let file = options.open(&path)?;
                serde_json::to_writer(file, &stored)?;
                stored
            }
            Err(e) => return Err(e.into()),
        };
        let audiences = ARM_AUDIENCES
            .iter()
            .map(|a| normalize(a))
            .chain(own_urls.iter().map(|u| normalize(u)))
            .collect();
        Ok(Identity {
            stored,
            tenant: tenant.to_owned(),
            audiences,
        })
    }

    /// The `X-IDENTITY-HEADER` secret, for `azure-env.sh`.
    pub fn header_secret(&self) -> &str {
        &self.stored.header_secret
    }

    /// Whether `candidate` is the header secret, in time independent of
    /// where they differ.
    pub fn header_matches(&self, candidate: &str) -> bool {
        self.stored
            .header_secret
            .as_bytes()
            .ct_eq(candidate.as_bytes())
            .into()
    }

    /// A token for `resource` (a URL, or a scope ending in `/.default`).
    pub fn issue(&self, resource: &str) -> Result<IssuedToken, IdentityError> {
        let aud = normalize(resource);
        if !self.audiences.contains(&aud) {
            let known: Vec<&str> = ARM_AUDIENCES.to_vec();
            return Err(IdentityError::UnknownResource(
                resource.to_owned(),
                known.join(", "),
            ));
        }
        let iat = now();
        let exp = iat + TOKEN_LIFETIME_SECONDS;
        let claims = Claims {
            aud: resource.to_owned(),
            iss: format!("https://sts.windows.net/{}/", self.tenant),
            iat,
            nbf: iat,
            exp,
            tid: self.tenant.clone(),
            oid: self.stored.object_id.clone(),
            sub: self.stored.object_id.clone(),
            appid: self.stored.client_id.clone(),
            idtyp: "app".into(),
        };
        let key = EncodingKey::from_secret(self.stored.signing_key.as_bytes());
        let access_token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key)
            .map_err(|e| IdentityError::Invalid(e.to_string()))?;
        Ok(IssuedToken {
            access_token,
            expires_on: exp.to_string(),
            resource: resource.to_owned(),
            token_type: "Bearer".into(),
            client_id: self.stored.client_id.clone(),
        })
    }

    /// The claims of `token` if this identity signed it, it has not
    /// expired, and it is for this server.
    pub fn verify(&self, token: &str) -> Result<Claims, IdentityError> {
        let mut validation = Validation::new(Algorithm::HS256);
        // The audience is compared below, without the differences that don't matter.
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "aud"]);
        let key = DecodingKey::from_secret(self.stored.signing_key.as_bytes());
        let data = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|e| IdentityError::Invalid(e.to_string()))?;
        if !self.audiences.contains(&normalize(&data.claims.aud)) {
            return Err(IdentityError::WrongAudience(data.claims.aud));
        }
        Ok(data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(dir: &Path) -> Identity {
        Identity::load_or_create(
            dir,
            "00000000-0000-0000-0000-000000000000",
            &["https://127.0.0.1:8443".to_owned()],
        )
        .unwrap()
    }

    #[test]
    fn tokens_are_verified_for_signature_audience_and_expiry() {
        let dir = tempfile::tempdir().unwrap();
        let id = identity(dir.path());
        let issued = id.issue("https://management.azure.com/").unwrap();
        let claims = id.verify(&issued.access_token).unwrap();
        assert_eq!(claims.tid, "00000000-0000-0000-0000-000000000000");
        assert_eq!(claims.exp.to_string(), issued.expires_on);
        assert!(id
            .verify(&id.issue("https://127.0.0.1:8443/").unwrap().access_token)
            .is_ok());
        assert!(matches!(
            id.issue("https://vault.azure.net"),
            Err(IdentityError::UnknownResource(..))
        ));

        // Another server's identity signs with another key.
        let other_dir = tempfile::tempdir().unwrap();
        let other = identity(other_dir.path());
        assert!(matches!(
            other.verify(&issued.access_token),
            Err(IdentityError::Invalid(_))
        ));
        assert!(id.verify("not a jwt").is_err());

        // Right key, wrong audience; right key, expired.
        let key = EncodingKey::from_secret(id.stored.signing_key.as_bytes());
        let mut claims = id.verify(&issued.access_token).unwrap();
        claims.aud = "https://vault.azure.net".into();
        let wrong = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap();
        assert!(matches!(
            id.verify(&wrong),
            Err(IdentityError::WrongAudience(_))
        ));
        claims.aud = "https://management.azure.com".into();
        claims.exp = now() - 3600;
        let expired = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap();
        assert!(matches!(
            id.verify(&expired),
            Err(IdentityError::Invalid(_))
        ));
    }

    #[test]
    fn the_identity_is_kept_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let first = identity(dir.path());
        let again = identity(dir.path());
        assert_eq!(first.header_secret(), again.header_secret());
        assert!(first.header_matches(again.header_secret()));
        assert!(!first.header_matches(""));
        let token = first.issue("https://management.azure.com").unwrap();
        assert!(again.verify(&token.access_token).is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(IDENTITY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let guid = new_guid();
        assert_eq!(guid.len(), 36);
        assert_eq!(&guid[14..15], "4");
    }
}
