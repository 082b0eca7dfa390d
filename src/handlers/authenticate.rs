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
//!    revocation: the token, its family, its user's cutoff ([`crate::auth::sessions::ended`]).
//!
//! Every refusal is counted by its reason for `/metrics` ([`crate::metrics::Refusal`]), here, where
//! the typed reason is still known.

use hyper::header::{self, HeaderMap};

use crate::app::AppState;
use crate::auth::sessions::{self, Ended};
use crate::http::error::ApiError;
use crate::http::request::bearer_token;
use crate::jwt::b64::DecodeBuf;
use crate::jwt::{Claims, JwtError, TokenType};
use crate::metrics::Refusal;

/// The payload of the request's bearer token, decoded into `payload_buf` once its signature has
/// proven it.
pub fn verified_payload<'b>(
    state: &AppState,
    headers: &HeaderMap,
    payload_buf: &'b mut DecodeBuf,
) -> Result<&'b [u8], ApiError> {
    let token = bearer_token(headers).inspect_err(|_| {
        state
            .metrics
            .refused(if headers.contains_key(header::AUTHORIZATION) {
                Refusal::BadAuthorizationHeader
            } else {
                Refusal::MissingAuthorization
            });
    })?;
    state
        .tokens
        .verify_signature(token, payload_buf)
        .map_err(|error| refused(state, error))
}

/// The claims of a proven payload, if the token may be used as `expected` (or as either type, with
/// `None`) and has not been revoked.
pub fn authorize<'p>(
    state: &AppState,
    payload: &'p [u8],
    expected: Option<TokenType>,
) -> Result<Claims<'p>, ApiError> {
    let (claims, ended) = check(state, payload, expected)?;
    match ended {
        Some(ended) => Err(ended_refused(state, ended)),
        None => Ok(claims),
    }
}

/// The claims of a proven payload if the token may be used as `expected`, and whether (and how) it
/// was ended: for `/refresh`, which acts on a reused refresh token before refusing it.
pub fn check<'p>(
    state: &AppState,
    payload: &'p [u8],
    expected: Option<TokenType>,
) -> Result<(Claims<'p>, Option<Ended>), ApiError> {
    let claims = state
        .tokens
        .check_claims(payload, expected)
        .map_err(|error| refused(state, error))?;
    let ended = sessions::ended(&state.denylist, &claims);
    Ok((claims, ended))
}

/// The 401 for an ended token: `Token has been revoked` whichever ended it; the debug log says which.
pub fn ended_refused(state: &AppState, ended: Ended) -> ApiError {
    log::debug!("token refused: {}", ended.detail());
    state.metrics.refused(match ended {
        Ended::Token => Refusal::Revoked,
        Ended::Family => Refusal::SessionEnded,
        Ended::User => Refusal::UserCutoff,
    });
    JwtError::Revoked.into()
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
        return Err(user_not_found(state));
    }
    Ok(claims)
}

/// The 404 for a valid token whose user is gone.
pub fn user_not_found(state: &AppState) -> ApiError {
    state.metrics.refused(Refusal::UserNotFound);
    ApiError::user_not_found()
}

/// The 401 for a refused token. Clients get the short docs/http.md §3 text; with `DEBUG`/`LOG_LEVEL=debug`
/// the log also says precisely which check failed (never the token itself).
pub fn refused(state: &AppState, error: JwtError) -> ApiError {
    log::debug!("token refused: {}", error.detail());
    state.metrics.refused(error);
    error.into()
}
