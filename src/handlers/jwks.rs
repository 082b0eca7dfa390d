//! `GET /.well-known/jwks.json`: the public keys that verify this server's tokens (RFC 7517 §5),
//! for services that check tokens without any secret (docs/jwt.md §11).
//!
//! Every key of the set is there, `next`, `active` and `retired`: a verifier must know a key before
//! its first token arrives and until its last one expires. `Cache-Control: max-age` is
//! `JWKS_MAX_AGE`, which `hyperjwt keys rotate` waits out before a `next` key signs, so a verifier
//! that caches the document for as long as it is told still has every key it meets. The `ETag` lets
//! a verifier ask again cheaply: `If-None-Match` with it answers 304 (RFC 9110 §13.1.2).
//!
//! With HS256 (no `JWT_KEYS_DIR`) the set is empty: an HMAC key signs as well as verifies, so it is
//! never published.

use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Response, StatusCode};

use crate::app::AppState;
use crate::http::response::{Body, json_response};

/// The document with no keys, and its tag.
const EMPTY: &str = r#"{"keys":[]}"#;
const EMPTY_ETAG: &str = "\"empty\"";

pub fn jwks(state: &AppState, headers: &HeaderMap) -> Response<Body> {
    let published = state.tokens.published();
    let (body, etag) = match &published {
        Some(published) => (published.jwks.as_str(), published.etag.as_str()),
        None => (EMPTY, EMPTY_ETAG),
    };
    let mut response = if matches_any(headers, etag) {
        let mut response = Response::new(Body::default());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        response
    } else {
        json_response(StatusCode::OK, body.to_string().into())
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, value);
    }
    if let Ok(value) =
        HeaderValue::from_str(&format!("public, max-age={}", state.jwks_max_age.as_secs()))
    {
        headers.insert(header::CACHE_CONTROL, value);
    }
    response
}

/// `If-None-Match` names `etag` (or is `*`): the weak comparison of RFC 9110 §8.8.3.2, which
/// ignores a `W/` prefix.
fn matches_any(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_compares_weakly_in_a_list() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::IF_NONE_MATCH, HeaderValue::from_str(value).unwrap());
            matches_any(&headers, "\"abc\"")
        };
        assert!(with("\"abc\""));
        assert!(with("W/\"abc\""));
        assert!(with("\"x\", \"abc\""));
        assert!(with("*"));
        assert!(!with("\"abd\""));
        assert!(!with("abc"));
        assert!(!matches_any(&HeaderMap::new(), "\"abc\""));
    }
}
