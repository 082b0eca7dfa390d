//! `GET /protected`: proves a valid access token and says whose it is.

use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Response};

use super::authenticate::{authorize_user, credentials, verified_payload};
use super::json::json_ok;
use crate::app::AppState;
use crate::http::error::ApiError;
use crate::http::response::Body;
use crate::jwt::TokenType;
use crate::jwt::b64::DecodeBuf;

#[derive(serde::Serialize)]
struct LoggedInAs<'a> {
    logged_in_as: &'a str,
}

pub fn who_am_i(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Response<Body>, ApiError> {
    with_user(state, method, headers, |user, from_cookie| {
        let mut response = json_ok(&LoggedInAs { logged_in_as: user })?;
        if from_cookie {
            // A shared cache may store answers to requests with cookies (unlike with
            // `Authorization`, RFC 9111 §3.5): this one is the user's alone.
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        Ok(response)
    })
}

/// The same checks for a host's own routes (`App::authenticated_user`), owning the name.
pub fn authenticated_user(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
) -> Result<String, ApiError> {
    with_user(state, method, headers, |user, _| Ok(user.to_string()))
}

/// The checks of a protected route (docs/http.md §4), then `answer` with the token's user, borrowed
/// from the payload on this stack frame, and whether the token came from a cookie.
fn with_user<T>(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
    answer: impl FnOnce(&str, bool) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let presented = credentials(state, method.as_str(), headers, Some(TokenType::Access))?;
    let mut payload_buf = DecodeBuf::new();
    let payload = verified_payload(state, &presented, &mut payload_buf)?;
    let claims = authorize_user(state, payload, TokenType::Access, &presented)?;
    answer(&claims.sub, presented.from_cookie)
}
