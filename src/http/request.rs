//! Reading requests: the head's size, the JSON content-type check, bounded body reading and Bearer
//! token extraction (RFC 6750 §2.1).

use http_body_util::{BodyExt, Limited};
use hyper::body::{Body as HttpBody, Bytes};
use hyper::header::{self, HeaderMap};

use super::error::ApiError;

/// The size of a request's head as it came in: the request line, each header line and the blank
/// line that ends the head, as hyper parsed them (whitespace around values aside). Compared with
/// `MAX_HEADER_BYTES`.
pub fn head_size<B>(request: &hyper::Request<B>) -> usize {
    let uri = request.uri();
    let target = uri.path_and_query().map_or(1, |pq| pq.as_str().len())
        + uri.scheme_str().map_or(0, |scheme| scheme.len() + 3)
        + uri
            .authority()
            .map_or(0, |authority| authority.as_str().len());
    // "METHOD target HTTP/1.1\r\n"
    let request_line = request.method().as_str().len() + 1 + target + 1 + 8 + 2;
    let header_lines: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + 2 + value.len() + 2)
        .sum();
    request_line + header_lines + 2
}

/// True for `application/json` and `application/<anything>+json`, with or without parameters.
pub fn is_json_content_type(headers: &HeaderMap) -> bool {
    let Some(essence) = content_type_essence(headers) else {
        return false;
    };
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    kind.eq_ignore_ascii_case("application")
        && (subtype.eq_ignore_ascii_case("json")
            || subtype.len() > 5 && subtype[subtype.len() - 5..].eq_ignore_ascii_case("+json"))
}

/// The media type of `Content-Type` without its parameters (RFC 9110 §8.3.1), trimmed; `None`
/// without one, or when it is not text.
pub fn content_type_essence(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(value.split(';').next().unwrap_or("").trim())
}

/// The request bodies the app accepts: hyper's `Incoming` in the server, in-memory bodies in the
/// benches and tests. One name for the bounds every generic function over a body needs.
pub trait RequestBody:
    HttpBody<Data = Bytes, Error: Into<Box<dyn std::error::Error + Send + Sync>>> + Send + 'static
{
}

impl<B> RequestBody for B
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
}

/// How much of a request body the handlers accept, and how long they wait for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimits {
    /// Larger bodies get 413 (`MAX_BODY_BYTES`).
    pub max_bytes: usize,
    /// A body not complete by then gets 408, so a client trickling its body can't hold a
    /// connection that is serving a request forever (`HEADER_READ_TIMEOUT` applies to bodies too).
    pub timeout: std::time::Duration,
}

/// Reads the whole body, refusing with 413 anything over the limit and with 408 a body that takes
/// longer than the timeout. A declared `Content-Length` over the limit is refused before a single
/// body byte is read.
pub async fn read_body<B>(
    headers: &HeaderMap,
    body: B,
    limits: BodyLimits,
) -> Result<Bytes, ApiError>
where
    B: HttpBody<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let limit = limits.max_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(ApiError::payload_too_large());
    }
    match tokio::time::timeout(limits.timeout, Limited::new(body, limit).collect()).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            Err(ApiError::payload_too_large())
        }
        // The client went away or sent a broken chunked body.
        Ok(Err(_)) => Err(ApiError::bad_request("Invalid request body")),
        Err(_) => Err(ApiError::request_timeout()),
    }
}

/// The JSON value of a body that was read, or `None` for an empty (or all-whitespace) body, which
/// each endpoint reads in its own way. Anything else that is not JSON is 400 `Invalid JSON body`.
pub fn json_body(body: &[u8]) -> Result<Option<serde_json::Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(body)
        .map(Some)
        .map_err(|_| ApiError::bad_request("Invalid JSON body"))
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
    // RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token. The scheme is case-insensitive
    // (RFC 9110 §11.1) and one or more spaces may follow it; the token is visible ASCII
    // (VCHAR): no space or tab within it, and no obs-text (RFC 9110 §5.5), which hyper passes on.
    let value = value.as_bytes();
    let Some((scheme, rest)) = value.split_at_checked(BEARER.len()) else {
        return Err(ApiError::bad_authorization_header());
    };
    let spaces = rest.iter().take_while(|&&b| b == b' ').count();
    let token = &rest[spaces..];
    if !scheme.eq_ignore_ascii_case(BEARER.as_bytes()) || token.is_empty() || !is_vchar(token) {
        return Err(ApiError::bad_authorization_header());
    }
    // Visible ASCII is UTF-8, so this never fails; checking it again is cheap on ASCII.
    std::str::from_utf8(token).map_err(|_| ApiError::bad_authorization_header())
}

/// True if every byte is visible ASCII (VCHAR, RFC 5234 §B.1: `is_ascii_graphic`). One pass
/// without an early exit (not `all`), so the compiler checks many bytes per instruction: a token is
/// read in full on every request.
fn is_vchar(bytes: &[u8]) -> bool {
    let outside = bytes
        .iter()
        .fold(0u8, |outside, b| outside | u8::from(!b.is_ascii_graphic()));
    outside == 0
}

/// The scheme of RFC 6750 §2.1 and the space that must follow it.
const BEARER: &str = "Bearer ";

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::Full;
    use hyper::header::HeaderValue;

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
            "Bearer a.b\tc",
            "Bearer a.b.c\t",
            "Token a.b.c",
            "a.b.c",
        ] {
            assert_eq!(
                bearer_token(&headers(&[("authorization", bad)])),
                Err(ApiError::bad_authorization_header()),
                "{bad:?}"
            );
        }
        // Bytes past ASCII (obs-text, RFC 9110 §5.5), which hyper passes on, whether valid UTF-8 or not.
        for bad in [
            &b"Bearer a.b.\xc3\xa9"[..],
            b"Bearer a.b.\xff",
            b"B\xe9arer a.b.c",
        ] {
            let mut map = HeaderMap::new();
            map.insert(header::AUTHORIZATION, HeaderValue::from_bytes(bad).unwrap());
            assert_eq!(
                bearer_token(&map),
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

    const FIVE: BodyLimits = BodyLimits {
        max_bytes: 5,
        timeout: std::time::Duration::from_secs(5),
    };

    #[tokio::test]
    async fn body_limit() {
        let none = HeaderMap::new();
        let body = Full::new(Bytes::from_static(b"12345"));
        assert_eq!(read_body(&none, body, FIVE).await.unwrap(), "12345");
        let body = Full::new(Bytes::from_static(b"123456"));
        assert_eq!(
            read_body(&none, body, FIVE).await,
            Err(ApiError::payload_too_large())
        );
        let declared = headers(&[("content-length", "1000000")]);
        let body = Full::new(Bytes::from_static(b"1"));
        assert_eq!(
            read_body(&declared, body, FIVE).await,
            Err(ApiError::payload_too_large())
        );
    }

    /// A body that never delivers a byte.
    struct Stalled;

    impl HttpBody for Stalled {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            self: std::pin::Pin<&mut Self>,
            _cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
            std::task::Poll::Pending
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_takes_too_long_is_408() {
        assert_eq!(
            read_body(&HeaderMap::new(), Stalled, FIVE).await,
            Err(ApiError::request_timeout())
        );
    }
}
