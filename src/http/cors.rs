//! Cross-origin resource sharing (the Fetch standard's CORS protocol), applied by the wrapper service.
//!
//! With `CORS_ORIGINS=*` (the default) every response carries `Access-Control-Allow-Origin: *`. With
//! a list, a listed `Origin` is echoed back and every response says `Vary: Origin`, so caches keep one
//! answer per origin. With headers only, credentials are bearer tokens and `Allow-Credentials` is
//! never sent. With cookies in `JWT_TOKEN_LOCATION` ([`Cors::with_credentials`]), a listed origin
//! also gets `Access-Control-Allow-Credentials: true`, so its `credentials: "include"` requests carry
//! the cookies, and a preflight allows the CSRF header. The configuration refuses cookies with `*`,
//! so credentials never go to any origin that asks.

use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Response, StatusCode};

use super::response::Body;
use crate::config::CorsOrigins;
use crate::http::error::ApiError;

const ANY: HeaderValue = HeaderValue::from_static("*");
const VARY_ORIGIN: HeaderValue = HeaderValue::from_static("Origin");
/// `X-Request-Id` too: a browser client may send its own id to find its request in the logs.
const ALLOWED_HEADER_NAMES: &str = "Content-Type, Authorization, X-Request-Id";
const ALLOWED_HEADERS: HeaderValue = HeaderValue::from_static(ALLOWED_HEADER_NAMES);
const TRUE: HeaderValue = HeaderValue::from_static("true");
/// Let browsers cache a preflight for 10 minutes instead of asking before every call.
const MAX_AGE: HeaderValue = HeaderValue::from_static("600");
/// Let scripts read the headers that explain a refusal, and the request id to quote in a report.
const EXPOSED_HEADERS: HeaderValue =
    HeaderValue::from_static("WWW-Authenticate, Retry-After, X-Request-Id");

/// The CORS policy, prepared once from the configuration.
#[derive(Debug, Clone)]
pub struct Cors {
    origins: Allowed,
    /// `Access-Control-Allow-Headers` of a preflight.
    allowed_headers: HeaderValue,
    /// Send `Access-Control-Allow-Credentials: true` to listed origins (cookies are a location).
    credentials: bool,
}

/// The origins whose scripts may read the answers.
#[derive(Debug, Clone)]
enum Allowed {
    /// Any (`*`).
    Any,
    /// These, as header values of their own, echoed from here: echoing the request's `Origin`
    /// would share hyper's read buffer with the response, which keeps hyper from reusing it for
    /// the connection's next request (as `request_id.rs` explains).
    Listed(Vec<HeaderValue>),
}

impl Cors {
    pub fn new(origins: &CorsOrigins) -> Self {
        let origins = match origins {
            CorsOrigins::Any => Allowed::Any,
            // The configuration accepted only `scheme://host[:port]` text, which is always a valid
            // header value.
            CorsOrigins::List(list) => Allowed::Listed(
                list.iter()
                    .filter_map(|origin| HeaderValue::try_from(origin.as_str()).ok())
                    .collect(),
            ),
        };
        Cors {
            origins,
            allowed_headers: ALLOWED_HEADERS,
            credentials: false,
        }
    }

    /// For tokens in cookies: listed origins get `Access-Control-Allow-Credentials: true`, and a
    /// preflight also allows `csrf_headers`. Never with `*` (the Fetch standard refuses credentials
    /// with a wildcard origin; the configuration refuses the pair at start-up, and this checks again).
    pub fn with_credentials(mut self, csrf_headers: &[&str]) -> Self {
        if let Allowed::Listed(_) = self.origins {
            let mut allowed = String::from(ALLOWED_HEADER_NAMES);
            for name in csrf_headers {
                allowed.push_str(", ");
                allowed.push_str(name);
            }
            // Header names were checked by the configuration; the fallback is never used.
            self.allowed_headers = HeaderValue::try_from(allowed).unwrap_or(ALLOWED_HEADERS);
            self.credentials = true;
        }
        self
    }

    /// The `Access-Control-Allow-Origin` value for a request from `origin`, or `None` if refused.
    fn allow_origin(&self, origin: Option<&HeaderValue>) -> Option<HeaderValue> {
        match &self.origins {
            Allowed::Any => Some(ANY),
            Allowed::Listed(listed) => {
                let origin = origin?.as_bytes();
                listed
                    .iter()
                    .find(|listed| listed.as_bytes() == origin)
                    .cloned()
            }
        }
    }

    /// Adds the origin headers to a response (the wrapper calls it for every response).
    pub fn apply(&self, origin: Option<&HeaderValue>, headers: &mut HeaderMap) {
        if matches!(self.origins, Allowed::Listed(_)) {
            headers.append(header::VARY, VARY_ORIGIN);
        }
        if let Some(allow) = self.allow_origin(origin) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow);
            headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSED_HEADERS);
            if self.credentials {
                headers.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, TRUE);
            }
        }
    }

    /// Answers `OPTIONS` for a known path. A CORS preflight (it carries `Origin` and
    /// `Access-Control-Request-Method`) gets the allowed methods and headers; a plain `OPTIONS` gets
    /// `Allow` (RFC 9110 §9.3.7). Both are 204 with no body. The origin headers are added by
    /// [`Cors::apply`], as for every response; a preflight from an origin not on the list is 403.
    pub fn options(
        &self,
        request_headers: &HeaderMap,
        allow: &'static str,
    ) -> Result<Response<Body>, ApiError> {
        let mut response = Response::new(Body::default());
        *response.status_mut() = StatusCode::NO_CONTENT;
        let headers = response.headers_mut();
        headers.insert(header::ALLOW, HeaderValue::from_static(allow));
        let origin = request_headers.get(header::ORIGIN);
        let is_preflight =
            origin.is_some() && request_headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
        if !is_preflight {
            return Ok(response);
        }
        if self.allow_origin(origin).is_none() {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "CORS origin not allowed",
            ));
        }
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(allow),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            self.allowed_headers.clone(),
        );
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, MAX_AGE);
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> Cors {
        Cors::new(&CorsOrigins::List(vec!["https://app.example".into()]))
    }

    fn preflight_headers(origin: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ORIGIN, HeaderValue::from_str(origin).unwrap());
        h.insert(
            header::ACCESS_CONTROL_REQUEST_METHOD,
            HeaderValue::from_static("POST"),
        );
        h
    }

    #[test]
    fn any_origin_gets_star() {
        let mut h = HeaderMap::new();
        Cors::new(&CorsOrigins::Any).apply(None, &mut h);
        assert_eq!(h[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert_eq!(
            h[header::ACCESS_CONTROL_EXPOSE_HEADERS],
            "WWW-Authenticate, Retry-After, X-Request-Id"
        );
        assert!(!h.contains_key(header::VARY));
    }

    #[test]
    fn listed_origin_is_echoed_with_vary() {
        let mut h = HeaderMap::new();
        let origin = HeaderValue::from_static("https://app.example");
        list().apply(Some(&origin), &mut h);
        assert_eq!(
            h[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://app.example"
        );
        assert_eq!(h[header::VARY], "Origin");
    }

    #[test]
    fn unlisted_origin_gets_no_allow_origin_but_still_vary() {
        let mut h = HeaderMap::new();
        let origin = HeaderValue::from_static("https://evil.example");
        list().apply(Some(&origin), &mut h);
        assert!(!h.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
        assert_eq!(h[header::VARY], "Origin");
    }

    #[test]
    fn preflight_lists_methods_and_headers() {
        let cors = list();
        let request = preflight_headers("https://app.example");
        let mut response = cors.options(&request, "POST, OPTIONS").unwrap();
        cors.apply(request.get(header::ORIGIN), response.headers_mut());
        let h = response.headers();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            h[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://app.example"
        );
        assert_eq!(h[header::ACCESS_CONTROL_ALLOW_METHODS], "POST, OPTIONS");
        assert_eq!(
            h[header::ACCESS_CONTROL_ALLOW_HEADERS],
            "Content-Type, Authorization, X-Request-Id"
        );
    }

    #[test]
    fn credentials_only_for_listed_origins() {
        let cors = list().with_credentials(&["X-CSRF-TOKEN"]);
        let mut h = HeaderMap::new();
        let origin = HeaderValue::from_static("https://app.example");
        cors.apply(Some(&origin), &mut h);
        assert_eq!(h[header::ACCESS_CONTROL_ALLOW_CREDENTIALS], "true");
        assert_eq!(h[header::VARY], "Origin");
        let mut h = HeaderMap::new();
        let evil = HeaderValue::from_static("https://evil.example");
        cors.apply(Some(&evil), &mut h);
        assert!(!h.contains_key(header::ACCESS_CONTROL_ALLOW_CREDENTIALS));
        assert!(!h.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
        // Without cookies, never.
        let mut h = HeaderMap::new();
        list().apply(Some(&origin), &mut h);
        assert!(!h.contains_key(header::ACCESS_CONTROL_ALLOW_CREDENTIALS));
        // Never with `*`, even if asked.
        let any = Cors::new(&CorsOrigins::Any).with_credentials(&["X-CSRF-TOKEN"]);
        let mut h = HeaderMap::new();
        any.apply(Some(&origin), &mut h);
        assert_eq!(h[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert!(!h.contains_key(header::ACCESS_CONTROL_ALLOW_CREDENTIALS));
    }

    #[test]
    fn preflight_allows_the_csrf_header_with_credentials() {
        let cors = list().with_credentials(&["X-CSRF-TOKEN"]);
        let response = cors
            .options(&preflight_headers("https://app.example"), "POST, OPTIONS")
            .unwrap();
        assert_eq!(
            response.headers()[header::ACCESS_CONTROL_ALLOW_HEADERS],
            "Content-Type, Authorization, X-Request-Id, X-CSRF-TOKEN"
        );
    }

    #[test]
    fn preflight_from_unlisted_origin_is_403() {
        let err = list()
            .options(&preflight_headers("https://evil.example"), "POST, OPTIONS")
            .unwrap_err();
        assert_eq!(err.status, StatusCode::FORBIDDEN);
    }

    #[test]
    fn plain_options_gets_allow_only() {
        let response = list()
            .options(&HeaderMap::new(), "GET, HEAD, OPTIONS")
            .unwrap();
        assert_eq!(response.headers()[header::ALLOW], "GET, HEAD, OPTIONS");
        assert!(
            !response
                .headers()
                .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        );
    }
}
