//! What the token endpoints share: issuing a token and answering with tokens (`/login`,
//! `/refresh`), and revoking one (`/logout`, rotation at `/refresh`), each with its failure
//! already turned into the answer to send.

use hyper::Response;
use hyper::header::{self, HeaderValue};

use super::json::json_ok;
use crate::app::AppState;
use crate::http::error::ApiError;
use crate::http::response::Body;
use crate::jwt::{self, TokenType};
use crate::store::denylist::Revocation;

/// RFC 6749 §5.1: responses carrying tokens must not be cached.
const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");

/// A new token for `sub`; a failed random generator is a 500 (no token without a random `jti`).
pub fn issue(
    state: &AppState,
    sub: &str,
    token_type: TokenType,
    fresh: bool,
) -> Result<String, ApiError> {
    state
        .tokens
        .issue(sub, token_type, fresh)
        .map_err(|_| ApiError::internal())
}

/// A 200 carrying tokens, marked `Cache-Control: no-store`.
pub fn tokens_response<T: serde::Serialize>(tokens: &T) -> Result<Response<Body>, ApiError> {
    let mut response = json_ok(tokens)?;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, NO_STORE);
    Ok(response)
}

/// Revokes `jti` (whose token expires at `exp`). A journal that could not be written is a 500: the
/// revocation holds in memory, but it was not made durable, so it is not acknowledged.
pub async fn revoke(state: &AppState, jti: &str, exp: i64) -> Result<Revocation, ApiError> {
    state
        .denylist
        .revoke(jti, exp, jwt::now())
        .await
        .map_err(|e| {
            log::error!("{e}");
            ApiError::internal()
        })
}
