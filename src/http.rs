//! Small HTTP helpers the handlers share: JSON responses, bounded body reading, the JSON content-type
//! check and Bearer token extraction (RFC 6750 §2.1).

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Body as HttpBody, Bytes};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Response, StatusCode};

use crate::error::ApiError;

/// Every response body is a complete buffer: our answers are small and known before we send them.
pub type Body = Full<Bytes>;

/// `Content-Type: application/json`, shared by every response.
pub const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");

/// A response with a JSON body.
pub fn json_response(status: StatusCode, body: Bytes) -> Response<Body> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, APPLICATION_JSON);
    response
}

/// A 200 response serializing `value` as JSON.
pub fn json_ok<T: serde::Serialize>(value: &T) -> Result<Response<Body>, ApiError> {
    let body = serde_json::to_vec(value).map_err(|_| ApiError::internal())?;
    Ok(json_response(StatusCode::OK, body.into()))
}

/// True for `application/json` and `application/<anything>+json`, with or without parameters.
pub fn is_json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    kind.eq_ignore_ascii_case("application")
        && (subtype.eq_ignore_ascii_case("json")
            || subtype.len() > 5 && subtype[subtype.len() - 5..].eq_ignore_ascii_case("+json"))
}

/// Reads the whole body, refusing with 413 anything over `limit` bytes. A declared `Content-Length`
/// over the limit is refused before a single body byte is read.
pub async fn read_body<B>(headers: &HeaderMap, body: B, limit: usize) -> Result<Bytes, ApiError>
where
    B: HttpBody<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(ApiError::payload_too_large());
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(ApiError::payload_too_large()),
        // The client went away or sent a broken chunked body.
        Err(_) => Err(ApiError::bad_request("Invalid request body")),
    }
}

/// Extracts the token from `Authorization: Bearer <token>` (RFC 6750 §2.1). The scheme is
/// case-insensitive (RFC 9110 §11.1); one token, after one or more spaces, must follow it.
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, ApiError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(ApiError::missing_authorization());
    };
    if values.next().is_some() {
        // Two Authorization headers: ambiguous, so neither is trusted.
        return Err(ApiError::bad_authorization_header());
    }
    let value = value
        .to_str()
        .map_err(|_| ApiError::bad_authorization_header())?;
    // RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token. The scheme is case-insensitive
    // (RFC 9110 §11.1) and one or more spaces may follow it; the token itself has no spaces.
    let Some((scheme, rest)) = value.split_once(' ') else {
        return Err(ApiError::bad_authorization_header());
    };
    let token = rest.trim_start_matches(' ');
    if scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains(' ') {
        Ok(token)
    } else {
        Err(ApiError::bad_authorization_header())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn json_content_types() {
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/merge-patch+json",
        ] {
            assert!(
                is_json_content_type(&headers(&[("content-type", ok)])),
                "{ok}"
            );
        }
        for bad in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/jsonp",
            "application/+json",
            "json",
            "",
        ] {
            assert!(
                !is_json_content_type(&headers(&[("content-type", bad)])),
                "{bad}"
            );
        }
        assert!(!is_json_content_type(&HeaderMap::new()));
    }

    #[test]
    fn bearer_extraction() {
        let ok = headers(&[("authorization", "Bearer a.b.c")]);
        assert_eq!(bearer_token(&ok), Ok("a.b.c"));
        let lower = headers(&[("authorization", "bearer a.b.c")]);
        assert_eq!(bearer_token(&lower), Ok("a.b.c"));
        // 1*SP: more than one space after the scheme is still one token (RFC 6750 §2.1).
        let spaced = headers(&[("authorization", "Bearer   a.b.c")]);
        assert_eq!(bearer_token(&spaced), Ok("a.b.c"));
        assert_eq!(
            bearer_token(&HeaderMap::new()),
            Err(ApiError::missing_authorization())
        );
        for bad in [
            "Basic dXNlcjE6cGFzc3dvcmQx",
            "Bearer",
            "Bearer ",
            "Bearer a.b.c d.e.f",
            "Bearer  a.b.c  x",
            "Bearer\ta.b.c",
            "Token a.b.c",
            "a.b.c",
        ] {
            assert_eq!(
                bearer_token(&headers(&[("authorization", bad)])),
                Err(ApiError::bad_authorization_header()),
                "{bad:?}"
            );
        }
        let twice = headers(&[
            ("authorization", "Bearer a.b.c"),
            ("authorization", "Bearer a.b.c"),
        ]);
        assert_eq!(
            bearer_token(&twice),
            Err(ApiError::bad_authorization_header())
        );
    }

    #[tokio::test]
    async fn body_limit() {
        let none = HeaderMap::new();
        let body = Full::new(Bytes::from_static(b"12345"));
        assert_eq!(read_body(&none, body, 5).await.unwrap(), "12345");
        let body = Full::new(Bytes::from_static(b"123456"));
        assert_eq!(
            read_body(&none, body, 5).await,
            Err(ApiError::payload_too_large())
        );
        let declared = headers(&[("content-length", "1000000")]);
        let body = Full::new(Bytes::from_static(b"1"));
        assert_eq!(
            read_body(&declared, body, 5).await,
            Err(ApiError::payload_too_large())
        );
    }
}
