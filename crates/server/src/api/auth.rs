//! The API token: created on first start, kept in the data directory, and
//! required as `Authorization: Bearer <token>` on every API request (or a
//! token of the managed identity, see [`crate::identity`]).

use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use subtle::ConstantTimeEq;

use crate::api::ApiError;
use crate::identity::{Identity, IdentityError};

/// The file in the data directory that holds the token.
const TOKEN_FILE: &str = "api-token";

/// The secret every API request must present.
#[derive(Clone)]
pub struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(…)")
    }
}

impl Token {
    /// Reads the token from `data_dir`, creating it (readable by the owner
    /// only) the first time.
    pub fn load_or_create(data_dir: &Path) -> io::Result<Token> {
        let path = data_dir.join(TOKEN_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) if !text.trim().is_empty() => return Ok(Token(text.trim().to_owned())),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let token = Token(crate::secrets::random_hex(32));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path)?;
        writeln!(file, "{}", token.0)?;
        Ok(token)
    }

    /// The token's text, for the login URL printed at start-up.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `candidate` is the token, in time independent of where they differ.
    pub fn matches(&self, candidate: &str) -> bool {
        self.0.as_bytes().ct_eq(candidate.as_bytes()).into()
    }
}

/// Who may call the API: the static token's holders, and the managed
/// identity's (its signed JWTs).
#[derive(Clone)]
pub struct Auth {
    /// The static token.
    pub token: Token,
    /// The managed identity whose tokens are accepted.
    pub identity: Arc<Identity>,
}

/// Middleware: lets a request through only with the static token or a
/// valid token of the managed identity (signature, audience, expiry).
pub async fn require_token(
    State(auth): State<Auth>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let presented = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            let (scheme, rest) = value.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        });
    let Some(candidate) = presented else {
        return Err(ApiError::Unauthorized(
            "Authentication is required: send `Authorization: Bearer <token>` with the token the server printed at start-up, or one from its managed-identity endpoint.",
        ));
    };
    if auth.token.matches(candidate) {
        return Ok(next.run(request).await);
    }
    match auth.identity.verify(candidate) {
        Ok(_) => Ok(next.run(request).await),
        Err(IdentityError::WrongAudience(_)) => Err(ApiError::Unauthorized(
            "The access token has the wrong audience: ask the managed-identity endpoint for a token for https://management.azure.com/.",
        )),
        Err(_) => Err(ApiError::Unauthorized(
            "The bearer token is not valid: neither the server's token nor an unexpired token its managed identity signed.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_created_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let first = Token::load_or_create(dir.path()).unwrap();
        let again = Token::load_or_create(dir.path()).unwrap();
        assert_eq!(first.expose(), again.expose());
        assert_eq!(first.expose().len(), 64);
        assert!(first.matches(again.expose()));
        assert!(!first.matches("nope"));
        assert!(!first.matches(""));
    }
}
