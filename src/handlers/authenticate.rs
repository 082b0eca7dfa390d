//! Bearer authentication shared by every protected endpoint, in two steps so the claims can borrow
//! from a payload buffer on the handler's stack (no copy, no allocation):
//!
//! ```text
//! let mut payload_buf = DecodeBuf::new();
//! let payload = verified_payload(state, headers, &mut payload_buf)?;
//! let claims = authorize(state, payload, Some(TokenType::Access))?;
//! ```
//!
//! 1. [`verified_payload`]: extract the token (RFC 6750 §2.1) and check its signature (the JWS layer);
//! 2. [`authorize`]: parse and check the claims (the JWT layer), then the last step of docs/http.md §4,
//!    revocation.

use hyper::header::HeaderMap;

use crate::app::AppState;
use crate::http::error::ApiError;
use crate::http::request::bearer_token;
use crate::jwt::b64::DecodeBuf;
use crate::jwt::{Claims, JwtError, TokenType};

/// The payload of the request's bearer token, decoded into `payload_buf` once its signature has
/// proven it.
pub fn verified_payload<'b>(
    state: &AppState,
    headers: &HeaderMap,
    payload_buf: &'b mut DecodeBuf,
) -> Result<&'b [u8], ApiError> {
    let token = bearer_token(headers)?;
    state
        .tokens
        .verify_signature(token, payload_buf)
        .map_err(refused)
}

/// The claims of a proven payload, if the token may be used as `expected` (or as either type, with
/// `None`) and has not been revoked.
pub fn authorize<'p>(
    state: &AppState,
    payload: &'p [u8],
    expected: Option<TokenType>,
) -> Result<Claims<'p>, ApiError> {
    let claims = state
        .tokens
        .check_claims(payload, expected)
        .map_err(refused)?;
    if state.denylist.is_revoked(&claims.jti) {
        return Err(refused(JwtError::Revoked));
    }
    Ok(claims)
}

/// [`authorize`], and the token's user must still exist: a valid token can outlive its user
/// (removed from `USERS_FILE`), which is a 404 (docs/http.md §2).
pub fn authorize_user<'p>(
    state: &AppState,
    payload: &'p [u8],
    expected: TokenType,
) -> Result<Claims<'p>, ApiError> {
    let claims = authorize(state, payload, Some(expected))?;
    if !state.users.contains(&claims.sub) {
        return Err(ApiError::user_not_found());
    }
    Ok(claims)
}

/// The 401 for a refused token. Clients get the short docs/http.md §3 text; with `DEBUG`/`LOG_LEVEL=debug`
/// the log also says precisely which check failed (never the token itself).
fn refused(error: JwtError) -> ApiError {
    log::debug!("token refused: {}", error.detail());
    error.into()
}
