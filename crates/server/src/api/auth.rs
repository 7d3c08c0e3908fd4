//! The API token: created on first start, kept in the data directory, and
//! required as `Authorization: Bearer <token>` on every API request.

use std::io::{self, Write};
use std::path::Path;

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use subtle::ConstantTimeEq;

use crate::api::ApiError;

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

/// Middleware: lets a request through only with the right bearer token.
pub async fn require_token(
    State(token): State<Token>,
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
    match presented {
        Some(candidate) if token.matches(candidate) => Ok(next.run(request).await),
        Some(_) => Err(ApiError::Unauthorized("The bearer token is not valid.")),
        None => Err(ApiError::Unauthorized(
            "Authentication is required: send `Authorization: Bearer <token>` with the token the server printed at start-up.",
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
