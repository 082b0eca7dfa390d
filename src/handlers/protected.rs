//! `GET /protected`: proves a valid access token and says whose it is.

use hyper::Response;
use hyper::header::HeaderMap;

use super::authenticate::{authorize_user, verified_payload};
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

pub fn who_am_i(state: &AppState, headers: &HeaderMap) -> Result<Response<Body>, ApiError> {
    let mut payload_buf = DecodeBuf::new();
    let payload = verified_payload(state, headers, &mut payload_buf)?;
    let claims = authorize_user(state, payload, TokenType::Access)?;
    json_ok(&LoggedInAs {
        logged_in_as: &claims.sub,
    })
}

/// The same checks for a host's own routes (`App::authenticated_user`), owning the name.
pub fn authenticated_user(state: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
    let mut payload_buf = DecodeBuf::new();
    let payload = verified_payload(state, headers, &mut payload_buf)?;
    Ok(authorize_user(state, payload, TokenType::Access)?
        .sub
        .into_owned())
}
