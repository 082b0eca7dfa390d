//! Bearer authentication shared by every protected endpoint: extract the token (RFC 6750 §2.1),
//! verify it (signature, then claims), then the last step of DESIGN §4, revocation.

use hyper::header::HeaderMap;

use crate::error::ApiError;
use crate::http::bearer_token;
use crate::jwt::{Claims, JwtError, TokenType};
use crate::service::AppState;

/// The verified claims of the request's bearer token, if it may be used as `expected` (or as
/// either type, with `None`) and has not been revoked.
pub fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    expected: Option<TokenType>,
) -> Result<Claims, ApiError> {
    let token = bearer_token(headers)?;
    let claims = state.tokens.verify(token, expected)?;
    if state.denylist.is_revoked(&claims.jti) {
        return Err(JwtError::Revoked.into());
    }
    Ok(claims)
}
