//! `POST /refresh`: trade a refresh token for a new (not fresh) access token.
//!
//! With `JWT_REFRESH_ROTATION=true` the answer also carries a new refresh token, and the one presented
//! is revoked first — atomically, so of two requests racing with the same refresh token only one wins.
//! A stolen refresh token that was already used is then refused.

use std::sync::Arc;

use hyper::Response;
use hyper::header::HeaderMap;

use super::authenticate::{authorize_user, verified_payload};
use super::tokens::{issue, revoke, tokens_response};
use crate::app::AppState;
use crate::http::error::ApiError;
use crate::http::response::Body;
use crate::jwt::b64::DecodeBuf;
use crate::jwt::{JwtError, TokenType};
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
    let claims = authorize_user(&state, payload, TokenType::Refresh)?;
    let refresh_token = if state.refresh_rotation {
        let exp = claims.exp.unwrap_or_default();
        if revoke(&state, &claims.jti, exp).await? == Revocation::AlreadyRevoked {
            return Err(JwtError::Revoked.into());
        }
        Some(issue(&state, &claims.sub, TokenType::Refresh, false)?)
    } else {
        None
    };
    tokens_response(&Refreshed {
        access_token: issue(&state, &claims.sub, TokenType::Access, false)?,
        refresh_token,
    })
}
