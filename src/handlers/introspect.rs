//! `POST /introspect` (RFC 7662): another service asks whether a token is active now.
//!
//! The caller authenticates with HTTP Basic, a client id and secret from `INTROSPECTION_CLIENTS`
//! (RFC 7662 §2.1: no anonymous token scanning); without it, 401 with a `Basic` challenge, and with
//! no clients configured nobody can ask. The body is a form (`application/x-www-form-urlencoded`):
//! `token`, and an optional `token_type_hint` that changes nothing (both types are looked at, as
//! §2.1 allows). The answer is 200 either way: the token's members when it is active
//! ([`crate::auth::introspection`]), or exactly `{"active":false}`, with `Cache-Control: no-store`.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hyper::body::Bytes;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Request, Response, StatusCode};

use super::json::json_ok;
use crate::app::AppState;
use crate::auth::introspection::introspect;
use crate::bytes::percent_decode;
use crate::http::error::ApiError;
use crate::http::request::{RequestBody, content_type_essence, read_body};
use crate::http::response::{Body, json_response};

const INACTIVE: &[u8] = br#"{"active":false}"#;

pub async fn introspection<B: RequestBody>(
    state: Arc<AppState>,
    request: Request<B>,
) -> Result<Response<Body>, ApiError> {
    let (parts, body) = request.into_parts();
    if !client_authenticated(&state, &parts.headers) {
        log::info!("introspection refused: client authentication failed");
        return Err(ApiError::client_unauthenticated());
    }
    if !is_form(&parts.headers) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/x-www-form-urlencoded",
        ));
    }
    let bytes = read_body(&parts.headers, body, state.body_limits).await?;
    let token = form_value(&bytes, "token")?
        .ok_or_else(|| ApiError::bad_request("Missing token parameter"))?;
    let mut response = match introspect(&state.tokens, &state.denylist, &state.users, &token) {
        Some(active) => json_ok(&active)?,
        None => json_response(StatusCode::OK, Bytes::from_static(INACTIVE)),
    };
    // The answer is about a token at one moment, for one client: no cache may keep it.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `Authorization: Basic base64(id:secret)` naming a configured client with its secret. Two
/// `Authorization` headers are ambiguous, so neither is trusted (as for a bearer token).
fn client_authenticated(state: &AppState, headers: &HeaderMap) -> bool {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return false;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    let Some((scheme, credentials)) = value.trim().split_once(' ') else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return false;
    }
    let Ok(decoded) = STANDARD.decode(credentials.trim()) else {
        return false;
    };
    let Some(colon) = decoded.iter().position(|&b| b == b':') else {
        return false;
    };
    let (id, secret) = (&decoded[..colon], &decoded[colon + 1..]);
    std::str::from_utf8(id).is_ok_and(|id| state.introspection.authenticate(id, secret))
}

fn is_form(headers: &HeaderMap) -> bool {
    content_type_essence(headers)
        .is_some_and(|essence| essence.eq_ignore_ascii_case("application/x-www-form-urlencoded"))
}

/// The value of `name` in a form body (the URL standard's `application/x-www-form-urlencoded`:
/// `&`-separated `name=value`, `+` for a space, `%XX` for a byte). A name given twice is refused
/// (RFC 6749 §3.1: parameters MUST NOT be included more than once).
fn form_value(body: &[u8], name: &str) -> Result<Option<String>, ApiError> {
    let bad = || ApiError::bad_request("Invalid form body");
    let text = std::str::from_utf8(body).map_err(|_| bad())?;
    let mut found = None;
    for pair in text.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if percent_decode(key, true).ok_or_else(bad)? != name {
            continue;
        }
        if found.is_some() {
            return Err(ApiError::bad_request("A parameter is given more than once"));
        }
        found = Some(percent_decode(value, true).ok_or_else(bad)?);
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_are_decoded_and_given_once() {
        let body = b"token_type_hint=access_token&token=a.b%2Ec+d&x";
        assert_eq!(
            form_value(body, "token").unwrap().as_deref(),
            Some("a.b.c d")
        );
        assert_eq!(
            form_value(body, "token_type_hint").unwrap().as_deref(),
            Some("access_token")
        );
        assert_eq!(form_value(body, "other").unwrap(), None);
        assert!(form_value(b"token=a&token=b", "token").is_err());
        assert!(form_value(b"token=%zz", "token").is_err());
        assert!(form_value(b"token=%4", "token").is_err());
        assert!(form_value(b"token=%ff", "token").is_err());
        assert!(form_value(b"\xff", "token").is_err());
    }
}
