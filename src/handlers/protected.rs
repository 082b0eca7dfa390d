//! `GET /protected`: proves a valid access token and says whose it is.

use hyper::Response;
use hyper::header::HeaderMap;

use super::authenticate::{authorize, verified_payload};
use super::json_ok;
use crate::app::AppState;
use crate::http::error::ApiError;
use crate::http::response::Body;
use crate::jwt::b64::DecodeBuf;
use crate::jwt::{Claims, TokenType};

#[derive(serde::Serialize)]
struct LoggedInAs<'a> {
    logged_in_as: &'a str,
}

pub fn who_am_i(state: &AppState, headers: &HeaderMap) -> Result<Response<Body>, ApiError> {
    let mut payload_buf = DecodeBuf::new();
    let payload = verified_payload(state, headers, &mut payload_buf)?;
    let claims = existing_user(state, payload)?;
    json_ok(&LoggedInAs {
        logged_in_as: &claims.sub,
    })
}

/// The same checks for a host's own routes (`App::authenticated_user`), owning the name.
pub fn authenticated_user(state: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
    let mut payload_buf = DecodeBuf::new();
    let payload = verified_payload(state, headers, &mut payload_buf)?;
    Ok(existing_user(state, payload)?.sub.into_owned())
}

/// The claims of a proven access-token payload, if the token is usable and its user still exists.
fn existing_user<'p>(state: &AppState, payload: &'p [u8]) -> Result<Claims<'p>, ApiError> {
    let claims = authorize(state, payload, Some(TokenType::Access))?;
    // A valid token can outlive its user (removed from USERS_FILE): that is a 404, as in docs/http.md §2.
    if !state.users.contains(&claims.sub) {
        return Err(ApiError::user_not_found());
    }
    Ok(claims)
}
