//! `POST /logout`: end the presented token's session (access or refresh token): the token and its
//! whole family, every token issued since its `/login`. An optional JSON body
//! `{"refresh_token": "..."}` names one more token whose session ends too (the same one, for a
//! client of ours; a token from outside any session is a session of its own).
//!
//! `POST /logout/all`: end every session of the presenting token's user that started up to now,
//! with one cutoff for the user, not a list of tokens (`crate::auth::sessions`).
//!
//! Everything is checked before anything is revoked, and the 200 is sent only once every revocation
//! is in the denylist (and, with `DENYLIST_FILE`, on disk). With tokens in cookies, the 200 also
//! deletes the token cookies, but only those of a session it ended (see [`cookies_ended`]).

use std::sync::Arc;

use hyper::HeaderMap;
use hyper::body::Bytes;
use hyper::http::request::Parts;
use hyper::{Request, Response, StatusCode};

use super::authenticate::{Credentials, authorize, credentials, refused, verified_payload};
use super::tokens::{clear_cookies, end_every_session, end_session};
use crate::app::AppState;
use crate::http::error::ApiError;
use crate::http::request::{RequestBody, is_json_content_type, json_body, read_body};
use crate::http::response::{Body, json_response};
use crate::jwt::b64::DecodeBuf;
use crate::jwt::{Claims, TokenType};

const LOGGED_OUT: &[u8] = br#"{"msg":"Successfully logged out"}"#;
const LOGGED_OUT_EVERYWHERE: &[u8] = br#"{"msg":"Successfully logged out of every session"}"#;

pub async fn logout<B>(
    state: Arc<AppState>,
    request: Request<B>,
) -> Result<Response<Body>, ApiError>
where
    B: RequestBody,
{
    let (parts, body) = request.into_parts();
    let presented = credentials(&state, parts.method.as_str(), &parts.headers, None)?;
    let mut payload_buf = DecodeBuf::new();
    let payload = verified_payload(&state, &presented, &mut payload_buf)?;
    let claims = authorize(&state, payload, None, &presented)?;
    let named = match is_json_content_type(&parts.headers) {
        true => {
            let bytes = read_body(&parts.headers, body, state.body_limits).await?;
            named_refresh_token(&state, &bytes)?
        }
        false => None,
    };
    // Already ended is an error for the token presented (someone else's request ended it first),
    // and fine for a named refresh token (logged out before: the goal is reached).
    end_session(&state, &claims, true).await?;
    if let Some(refresh) = &named {
        end_session(&state, refresh, false).await?;
    }
    let mut response = json_response(StatusCode::OK, Bytes::from_static(LOGGED_OUT));
    let ended = |cookie: &Claims| {
        std::iter::once(&claims)
            .chain(&named)
            .any(|gone| same_session(gone, cookie))
    };
    if cookies_ended(&state, &presented, &parts.headers, ended) {
        clear_cookies(&state, &mut response)?;
    }
    Ok(response)
}

/// Whether two tokens belong to one session: the same family, or, for a token outside any (a
/// session of its own), the same token.
fn same_session(a: &Claims, b: &Claims) -> bool {
    match (&a.fam, &b.fam) {
        (Some(a), Some(b)) => a == b,
        _ => a.jti == b.jti,
    }
}

/// Whether the request's token cookies belong to a session this request ended, so that deleting
/// them ends nothing more. A token that came from a cookie did (the refresh cookie, which never
/// travels to `/logout`, is of its session). A bearer token with other cookies beside it (a client
/// using both locations) deletes them only if one of them is a token of ours that `ended` names,
/// expired or not: a bearer logout for session B must not delete session A's cookies while A stays
/// valid on the server.
fn cookies_ended(
    state: &AppState,
    presented: &Credentials<'_>,
    headers: &HeaderMap,
    ended: impl Fn(&Claims) -> bool,
) -> bool {
    if presented.from_cookie {
        return true;
    }
    let Some(cookies) = &state.cookies else {
        return false;
    };
    [TokenType::Access, TokenType::Refresh]
        .into_iter()
        .filter_map(|kind| cookies.token(headers, kind))
        .any(|token| {
            let mut payload_buf = DecodeBuf::new();
            state
                .tokens
                .verify_signature(token, &mut payload_buf)
                .ok()
                .and_then(|payload| Claims::parse(payload).ok())
                .is_some_and(|claims| ended(&claims))
        })
}

/// `POST /logout/all`, with any valid token of the user (either type). The body is not read.
pub async fn logout_all(state: Arc<AppState>, parts: Parts) -> Result<Response<Body>, ApiError> {
    let presented = credentials(&state, parts.method.as_str(), &parts.headers, None)?;
    let mut payload_buf = DecodeBuf::new();
    let payload = verified_payload(&state, &presented, &mut payload_buf)?;
    let claims = authorize(&state, payload, None, &presented)?;
    end_every_session(&state, &claims.sub).await?;
    // Debug formatting escapes control characters, so a username can't forge log lines.
    let user: String = claims.sub.chars().take(64).collect();
    log::info!("user {user:?} logged out of every session");
    let mut response = json_response(StatusCode::OK, Bytes::from_static(LOGGED_OUT_EVERYWHERE));
    // Every session of the user ended; cookies of another user's session stay.
    let ended = |cookie: &Claims| cookie.sub == claims.sub;
    if cookies_ended(&state, &presented, &parts.headers, ended) {
        clear_cookies(&state, &mut response)?;
    }
    Ok(response)
}

/// The refresh token named in the body, verified (it must be a valid refresh token; that it may
/// already be revoked doesn't matter). An empty body or one without the field names none.
///
/// The asymmetry with the `Authorization` token is deliberate: that one *authenticates* the request,
/// so a revoked one is refused (401); the body's token is only the target of the revocation, and a
/// target that is already revoked is simply already logged out.
fn named_refresh_token(state: &AppState, body: &[u8]) -> Result<Option<Claims<'static>>, ApiError> {
    let Some(value) = json_body(body)? else {
        return Ok(None);
    };
    match value.get("refresh_token") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(token)) => state
            .tokens
            .verify(token, TokenType::Refresh)
            .map(Some)
            .map_err(|error| refused(state, error)),
        Some(_) => Err(ApiError::bad_request("refresh_token must be a string")),
    }
}
