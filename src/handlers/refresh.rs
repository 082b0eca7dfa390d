//! `POST /refresh`: trade a refresh token for a new (not fresh) access token in the same session.
//!
//! With `JWT_REFRESH_ROTATION=true` the answer also carries a new refresh token, and the one presented
//! is revoked first — atomically, so of two requests racing with the same refresh token only one wins.
//! A refresh token presented again after it was used is the sign RFC 9700 §4.14.2 names: either the
//! client or an attacker holds a stolen copy, and the server cannot tell which, so the **whole
//! family** is revoked (the thief's tokens and the victim's, access tokens included) and the event
//! is logged as a security warning (user, family, client address; never the token).

use std::sync::Arc;

use hyper::Response;
use hyper::http::request::Parts;

use super::authenticate::{check, credentials, ended_refused, user_not_found, verified_payload};
use super::peer;
use super::tokens::{issue_in, new_family, revoke, revoke_family, tokens_response};
use crate::app::AppState;
use crate::auth::sessions::{self, Ended};
use crate::http::client_addr::ClientAddr;
use crate::http::error::ApiError;
use crate::http::response::Body;
use crate::jwt::b64::DecodeBuf;
use crate::jwt::{Claims, TokenType};
use crate::store::denylist::Revocation;

#[derive(serde::Serialize)]
struct Refreshed<'a> {
    access_token: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
}

pub async fn refresh(
    state: Arc<AppState>,
    parts: Parts,
    peer: Option<ClientAddr>,
) -> Result<Response<Body>, ApiError> {
    let expected = Some(TokenType::Refresh);
    let presented = credentials(&state, parts.method.as_str(), &parts.headers, expected)?;
    let mut payload_buf = DecodeBuf::new();
    let payload = verified_payload(&state, &presented, &mut payload_buf)?;
    let (claims, ended) = check(&state, payload, expected, &presented)?;
    if let Some(ended) = ended {
        // Its own jti revoked, its family not: under rotation, a refresh token already used.
        if ended == Ended::Token && state.refresh_rotation {
            reused(&state, &claims, &parts, peer).await?;
        }
        return Err(ended_refused(&state, ended));
    }
    if !state.users.contains(&claims.sub) {
        return Err(user_not_found(&state));
    }
    // A token from outside any session (Flask-JWT-Extended's, one from before sessions) starts one.
    let fam = match &claims.fam {
        Some(fam) => fam.to_string(),
        None => new_family(&state, &claims.sub)?,
    };
    let refresh_token = if state.refresh_rotation {
        let exp = claims.exp.unwrap_or_default();
        if revoke(&state, &claims.jti, exp).await? == Revocation::AlreadyRevoked {
            // Another request used it first, while this one was being checked: reuse all the same.
            reused(&state, &claims, &parts, peer).await?;
            return Err(ended_refused(&state, Ended::Token));
        }
        // The session may have been ended while the revocation was being written.
        if let Some(ended) = sessions::session_ended(&state.denylist, &claims) {
            return Err(ended_refused(&state, ended));
        }
        Some(issue_in(
            &state,
            &claims.sub,
            TokenType::Refresh,
            false,
            &fam,
        )?)
    } else {
        None
    };
    let access = issue_in(&state, &claims.sub, TokenType::Access, false, &fam)?;
    let body = Refreshed {
        access_token: &access.token,
        refresh_token: refresh_token.as_ref().map(|issued| issued.token.as_str()),
    };
    let mut new = vec![(TokenType::Access, &access)];
    if let Some(issued) = &refresh_token {
        new.push((TokenType::Refresh, issued));
    }
    tokens_response(&state, &body, &new)
}

/// A used refresh token came back (RFC 9700 §4.14.2): end its whole family, and say so in the log.
async fn reused(
    state: &AppState,
    claims: &Claims<'_>,
    parts: &Parts,
    peer: Option<ClientAddr>,
) -> Result<(), ApiError> {
    let client = peer::client(state, parts, peer);
    let client = client.map_or_else(|| "unknown".to_string(), |addr| addr.to_string());
    // Debug formatting escapes control characters, so a username can't forge log lines.
    let user: String = claims.sub.chars().take(64).collect();
    match &claims.fam {
        Some(fam) => {
            state.metrics.refresh_token_reused();
            if revoke_family(state, fam).await? == Revocation::Revoked {
                log::warn!(
                    "security: a used refresh token was presented again (RFC 9700 §4.14.2): \
                     user {user:?}, family {fam:?}, client {client}; every token of the family is revoked"
                );
            }
        }
        None => {
            state.metrics.refresh_token_reused();
            log::warn!(
                "security: a used refresh token was presented again (RFC 9700 §4.14.2): \
                 user {user:?}, no family (a token from outside any session), client {client}"
            );
        }
    }
    Ok(())
}
