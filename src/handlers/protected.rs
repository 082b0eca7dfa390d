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
    let presented = credentials(state, method.as_str(), headers, Some(TokenType::Access))?;
    let mut payload_buf = DecodeBuf::new();
    let payload = verified_payload(state, &presented, &mut payload_buf)?;
    let claims = authorize_user(state, payload, TokenType::Access, &presented)?;
    let mut response = json_ok(&LoggedInAs {
        logged_in_as: &claims.sub,
    })?;
    if presented.from_cookie {
        // A shared cache may store answers to requests with cookies (unlike with `Authorization`,
        // RFC 9111 §3.5): this one is the user's alone.
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(response)
}

/// The same checks for a host's own routes (`App::authenticated_user`), owning the name.
pub fn authenticated_user(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
) -> Result<String, ApiError> {
    let presented = credentials(state, method.as_str(), headers, Some(TokenType::Access))?;
    let mut payload_buf = DecodeBuf::new();
    let payload = verified_payload(state, &presented, &mut payload_buf)?;
    Ok(
        authorize_user(state, payload, TokenType::Access, &presented)?
            .sub
            .into_owned(),
    )
}
