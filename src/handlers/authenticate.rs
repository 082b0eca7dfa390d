//! Token authentication shared by every protected endpoint, in three steps so the claims can borrow
//! from a payload buffer on the handler's stack (no copy, no allocation):
//!
//! ```text
//! let presented = credentials(state, method, headers, Some(TokenType::Access))?;
//! let mut payload_buf = DecodeBuf::new();
//! let payload = verified_payload(state, &presented, &mut payload_buf)?;
//! let claims = authorize(state, payload, Some(TokenType::Access), &presented)?;
//! ```
//!
//! 1. [`credentials`]: find the token: `Authorization: Bearer` (RFC 6750 §2.1), or, when there is
//!    none and cookies are a location, the token cookie, with its CSRF header for a state-changing
//!    method (docs/cookies.md);
//! 2. [`verified_payload`]: check its signature (the JWS layer);
//! 3. [`authorize`]: parse and check the claims (the JWT layer), the double submit of a cookie token
//!    ([`crate::auth::csrf`]), then the last step of docs/http.md §4, revocation: the token, its
//!    family, its user's cutoff ([`crate::auth::sessions::ended`]).
//!
//! Every refusal is counted by its reason for `/metrics` ([`crate::metrics::Refusal`]), here, where
//! the typed reason is still known.

use hyper::header::{self, HeaderMap};

use crate::app::AppState;
use crate::auth::csrf;
use crate::auth::sessions::{self, Ended};
use crate::http::error::ApiError;
use crate::http::request::bearer_token;
use crate::jwt::b64::DecodeBuf;
use crate::jwt::{Claims, JwtError, TokenType};
use crate::metrics::Refusal;

/// The token a request presents, and what it must prove beyond its signature. No `Debug`: it holds
/// the token, which must never reach a log.
#[derive(Clone, Copy)]
pub struct Credentials<'h> {
    pub token: &'h str,
    /// The token came from a cookie (so the answer must not be cached for anyone else).
    pub from_cookie: bool,
    /// The CSRF header value the token's `csrf` claim must equal: a cookie token used with one of
    /// `JWT_CSRF_METHODS`.
    csrf: Option<&'h str>,
}

/// Finds the request's token. `Authorization` wins when headers are a location and the request has
/// one; otherwise, with cookies on, the token cookie of the `expected` type (the access cookie, then
/// the refresh cookie, for a route that takes either). Checked here, before any decoding, as
/// Flask-JWT-Extended does: a missing cookie, and a missing CSRF header for a state-changing method.
pub fn credentials<'h>(
    state: &AppState,
    method: &str,
    headers: &'h HeaderMap,
    expected: Option<TokenType>,
) -> Result<Credentials<'h>, ApiError> {
    let Some(cookies) = &state.cookies else {
        return from_header(state, headers);
    };
    if state.bearer_headers && headers.contains_key(header::AUTHORIZATION) {
        return from_header(state, headers);
    }
    let found = match expected {
        Some(kind) => cookies.token(headers, kind).map(|token| (token, kind)),
        None => [TokenType::Access, TokenType::Refresh]
            .into_iter()
            .find_map(|kind| cookies.token(headers, kind).map(|token| (token, kind))),
    };
    let Some((token, kind)) = found else {
        state.metrics.refused(Refusal::MissingCookie);
        return Err(cookies.missing(expected.unwrap_or(TokenType::Access)));
    };
    let csrf = if cookies.csrf_required(method) {
        match cookies.csrf_header(headers, kind) {
            Some(value) => Some(value),
            None => return Err(csrf_refused(state, csrf::CsrfError::Missing)),
        }
    } else {
        None
    };
    Ok(Credentials {
        token,
        from_cookie: true,
        csrf,
    })
}

fn from_header<'h>(state: &AppState, headers: &'h HeaderMap) -> Result<Credentials<'h>, ApiError> {
    let token = bearer_token(headers).inspect_err(|_| {
        state
            .metrics
            .refused(if headers.contains_key(header::AUTHORIZATION) {
                Refusal::BadAuthorizationHeader
            } else {
                Refusal::MissingAuthorization
            });
    })?;
    Ok(Credentials {
        token,
        from_cookie: false,
        csrf: None,
    })
}

/// The payload of the presented token, decoded into `payload_buf` once its signature has proven it.
pub fn verified_payload<'b>(
    state: &AppState,
    presented: &Credentials<'_>,
    payload_buf: &'b mut DecodeBuf,
) -> Result<&'b [u8], ApiError> {
    state
        .tokens
        .verify_signature(presented.token, payload_buf)
        .map_err(|error| refused(state, error))
}

/// The claims of a proven payload, if the token may be used as `expected` (or as either type, with
/// `None`), passes its double submit, and has not been revoked.
pub fn authorize<'p>(
    state: &AppState,
    payload: &'p [u8],
    expected: Option<TokenType>,
    presented: &Credentials<'_>,
) -> Result<Claims<'p>, ApiError> {
    let (claims, ended) = check(state, payload, expected, presented)?;
    match ended {
        Some(ended) => Err(ended_refused(state, ended)),
        None => Ok(claims),
    }
}

/// The claims of a proven payload if the token may be used as `expected` and passes its double
/// submit, and whether (and how) it was ended: for `/refresh`, which acts on a reused refresh token
/// before refusing it. The CSRF check comes before revocation, as in Flask-JWT-Extended, so a
/// forged cross-site request can't set off reuse detection.
pub fn check<'p>(
    state: &AppState,
    payload: &'p [u8],
    expected: Option<TokenType>,
    presented: &Credentials<'_>,
) -> Result<(Claims<'p>, Option<Ended>), ApiError> {
    let claims = state
        .tokens
        .check_claims(payload, expected)
        .map_err(|error| refused(state, error))?;
    if let Some(value) = presented.csrf {
        csrf::check(claims.csrf.as_deref(), value).map_err(|e| csrf_refused(state, e))?;
    }
    let ended = sessions::ended(&state.denylist, &claims);
    Ok((claims, ended))
}

/// The 401 for a cookie token without its double submit (docs/cookies.md), counted as `csrf`.
fn csrf_refused(state: &AppState, error: csrf::CsrfError) -> ApiError {
    log::debug!("token refused: {}", error.message());
    state.metrics.refused(Refusal::Csrf);
    ApiError::csrf(error.message())
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
    presented: &Credentials<'_>,
) -> Result<Claims<'p>, ApiError> {
    let claims = authorize(state, payload, Some(expected), presented)?;
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
