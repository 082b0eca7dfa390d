//! `ApiError`: the one error type every handler returns — an HTTP status, a client-facing message and
//! at most one extra header (`WWW-Authenticate`, `Allow`, `Retry-After`).
//!
//! Handlers never build error responses themselves; the wrapper service turns an `ApiError` into
//! `{"msg": "..."}` JSON in one place ([`ApiError::into_response`]), so every error looks the same.

use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{Response, StatusCode};

use super::response::{Body, json_bytes, json_response};
use crate::jwt::JwtError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub msg: &'static str,
    pub header: Option<(HeaderName, HeaderValue)>,
}

/// RFC 6750 §3: a 401 for a request with no credentials names the scheme and no error code.
const BEARER_CHALLENGE: HeaderValue = HeaderValue::from_static("Bearer");
/// RFC 6750 §3.1: the request was malformed (here: the Authorization header isn't `Bearer <token>`).
const BEARER_INVALID_REQUEST: HeaderValue =
    HeaderValue::from_static("Bearer error=\"invalid_request\"");
/// RFC 6750 §3.1: a token was presented and it is expired, revoked, malformed or otherwise invalid.
const BEARER_INVALID_TOKEN: HeaderValue =
    HeaderValue::from_static("Bearer error=\"invalid_token\"");

impl ApiError {
    pub const fn new(status: StatusCode, msg: &'static str) -> Self {
        ApiError {
            status,
            msg,
            header: None,
        }
    }

    fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.header = Some((name, value));
        self
    }

    pub fn bad_request(msg: &'static str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, msg)
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not Found")
    }

    /// 405 with the methods the path does allow (RFC 9110 §15.5.6 requires `Allow`).
    pub fn method_not_allowed(allow: &'static str) -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
            .with_header(header::ALLOW, HeaderValue::from_static(allow))
    }

    /// 408: the request body did not arrive in time (the connection is closed after it).
    pub fn request_timeout() -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "Request body not received in time",
        )
        .with_header(header::CONNECTION, HeaderValue::from_static("close"))
    }

    /// 413, and the connection closes once the rest of the body is drained (`crate::http::linger`): a
    /// client that sent too much is not kept around for another request.
    pub fn payload_too_large() -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large")
            .with_header(header::CONNECTION, HeaderValue::from_static("close"))
    }

    /// 431 (RFC 6585 §5): more header fields or header bytes than `MAX_HEADERS` / `MAX_HEADER_BYTES`.
    pub fn header_fields_too_large() -> Self {
        Self::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "Request header fields too large",
        )
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json",
        )
    }

    /// 503 with `Retry-After`: the password-check queue is full (docs/http.md §2).
    pub fn busy() -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "Server busy, try again")
            .with_header(header::RETRY_AFTER, HeaderValue::from_static("1"))
    }

    /// 503 with `Retry-After`: the shared store (Redis) that a revocation or the login counters
    /// need could not be reached; nothing was done (docs/http.md §2, docs/scaling.md).
    pub fn store_unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Session store unavailable, try again",
        )
        .with_header(header::RETRY_AFTER, HeaderValue::from_static("2"))
    }

    /// 429 with `Retry-After: seconds`: too many failed logins (docs/http.md §2).
    pub fn too_many_attempts(retry_after_secs: u64) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many failed login attempts, try again later",
        )
        .with_header(
            header::RETRY_AFTER,
            HeaderValue::from(retry_after_secs.max(1)),
        )
    }

    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
    }

    pub fn missing_authorization() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Missing Authorization Header")
            .with_header(header::WWW_AUTHENTICATE, BEARER_CHALLENGE)
    }

    /// 401 for a request with no token where cookies are a location (docs/cookies.md): `msg` names
    /// the cookie. The Bearer challenge only when headers are a location too.
    pub fn missing_token(msg: &'static str, bearer_challenge: bool) -> Self {
        let error = Self::new(StatusCode::UNAUTHORIZED, msg);
        if bearer_challenge {
            error.with_header(header::WWW_AUTHENTICATE, BEARER_CHALLENGE)
        } else {
            error
        }
    }

    /// 401 for a cookie token without its double submit (docs/cookies.md), with Flask-JWT-Extended's
    /// text. No `WWW-Authenticate`: no HTTP authentication scheme describes a cookie.
    pub fn csrf(msg: &'static str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, msg)
    }

    pub fn bad_authorization_header() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'",
        )
        .with_header(header::WWW_AUTHENTICATE, BEARER_INVALID_REQUEST)
    }

    /// 401 for `/introspect` without a configured client's credentials (RFC 7662 §2.1, RFC 6749
    /// §2.3.1: HTTP Basic).
    pub fn client_unauthenticated() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Client authentication failed").with_header(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"introspect\", charset=\"UTF-8\""),
        )
    }

    pub fn invalid_credentials() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Invalid username or password")
    }

    pub fn user_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "User not found")
    }

    /// Builds the JSON response. The message goes through serde_json so quotes are escaped.
    pub fn into_response(self) -> Response<Body> {
        let body = json_bytes(&Msg { msg: self.msg }).unwrap_or_default();
        let mut response = json_response(self.status, body);
        if let Some((name, value)) = self.header {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

#[derive(serde::Serialize)]
struct Msg {
    msg: &'static str,
}

/// Every token problem is a 401 with `error="invalid_token"` (docs/http.md §3).
impl From<JwtError> for ApiError {
    fn from(err: JwtError) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, err.message())
            .with_header(header::WWW_AUTHENTICATE, BEARER_INVALID_TOKEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body_of(error: ApiError) -> (StatusCode, String) {
        let response = error.into_response();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn renders_json_msg_with_escaping() {
        let (status, body) = body_of(ApiError::from(JwtError::MissingExp)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body, r#"{"msg":"Token is missing the \"exp\" claim"}"#);
    }

    #[test]
    fn jwt_errors_carry_invalid_token_challenge() {
        let response = ApiError::from(JwtError::Expired).into_response();
        assert_eq!(
            response.headers()[header::WWW_AUTHENTICATE],
            "Bearer error=\"invalid_token\""
        );
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    }
}
