//! `POST /refresh`: trade a refresh token for a new (not fresh) access token.
//!
//! With `JWT_REFRESH_ROTATION=true` the answer also carries a new refresh token, and the one presented
//! is revoked first — atomically, so of two requests racing with the same refresh token only one wins.
//! A stolen refresh token that was already used is then refused.

use std::sync::Arc;

use hyper::header::HeaderMap;
use hyper::{Response, header};

use super::authenticate::{authorize, verified_payload};
use super::json_ok;
use super::login::NO_STORE;
use crate::app::AppState;
use crate::http::error::ApiError;
use crate::http::response::Body;
use crate::jwt::b64::DecodeBuf;
use crate::jwt::{self, JwtError, TokenType};
use crate::store::denylist::Revocation;

#[derive(serde::Serialize)]
struct Refreshed {
    access_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
}

pub async fn refresh(state: Arc<AppState>, headers: HeaderMap) -> Result<Response<Body>, ApiError> {
    let mut payload_buf = DecodeBuf::new();
    let payload = verified_payload(&state, &headers, &mut payload_buf)?;
    let claims = authorize(&state, payload, Some(TokenType::Refresh))?;
    if !state.users.contains(&claims.sub) {
        return Err(ApiError::user_not_found());
    }
    let issue = |token_type| {
        state
            .tokens
            .issue(&claims.sub, token_type, false)
            .map_err(|_| ApiError::internal())
    };
    let refresh_token = if state.refresh_rotation {
        let exp = claims.exp.unwrap_or_default();
        match state.denylist.revoke(&claims.jti, exp, jwt::now()).await {
            Ok(Revocation::Revoked) => {}
            Ok(Revocation::AlreadyRevoked) => return Err(JwtError::Revoked.into()),
            Err(e) => {
                log::error!("{e}");
                return Err(ApiError::internal());
            }
        }
        Some(issue(TokenType::Refresh)?)
    } else {
        None
    };
    let mut response = json_ok(&Refreshed {
        access_token: issue(TokenType::Access)?,
        refresh_token,
    })?;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, NO_STORE);
    Ok(response)
}
