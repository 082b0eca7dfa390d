//! `GET /protected`: proves a valid access token and says whose it is.

use hyper::Response;
use hyper::header::HeaderMap;

use super::auth::{authorize, verified_payload};
use crate::error::ApiError;
use crate::http::{Body, json_ok};
use crate::jwt::TokenType;
use crate::service::AppState;

#[derive(serde::Serialize)]
struct LoggedInAs<'a> {
    logged_in_as: &'a str,
}

pub fn who_am_i(state: &AppState, headers: &HeaderMap) -> Result<Response<Body>, ApiError> {
    let payload = verified_payload(state, headers)?;
    let claims = authorize(state, &payload, Some(TokenType::Access))?;
    // A valid token can outlive its user (removed from USERS_FILE): that is a 404, as in DESIGN §2.
    if !state.users.contains(&claims.sub) {
        return Err(ApiError::user_not_found());
    }
    json_ok(&LoggedInAs {
        logged_in_as: &claims.sub,
    })
}
