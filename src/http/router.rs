//! The router: a hand-written table of paths, each with the handler for `GET` (which also serves
//! `HEAD`) and for `POST`. Unknown path → 404; known path, other method → 405 with `Allow`.
//!
//! Matching is exact on the path (no trailing-slash or case folding) and ignores the query string.
//! With a dozen routes a linear scan of a static slice beats any hashing, and reads like the contract.
//! A row's place in [`ROUTES`] is also its index in the per-route metrics (`crate::metrics`), so
//! counting a request is an array access, not a lookup.

use hyper::Method;

use crate::http::error::ApiError;

/// Every endpoint of docs/http.md §2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Root,
    Login,
    Refresh,
    Logout,
    LogoutAll,
    Protected,
    /// `/healthz`: the original route, kept as it is.
    Health,
    /// `/health/live`: the process answers.
    Live,
    /// `/health/ready`: it can do its job (users loaded, the journal writable, ...).
    Ready,
    /// `/metrics`: the Prometheus text exposition (on the main listener, or only on `METRICS_ADDR`).
    Metrics,
    /// `/.well-known/jwks.json`: the public keys that verify this server's tokens (RFC 7517).
    Jwks,
    /// `/introspect`: is this token active, for authenticated clients (RFC 7662).
    Introspect,
}

/// One row of the table.
#[derive(Debug)]
pub struct RouteEntry {
    pub path: &'static str,
    pub get: Option<Route>,
    pub post: Option<Route>,
    /// The `Allow` header value for this path (RFC 9110 §10.2.1), also used for CORS preflights.
    pub allow: &'static str,
}

pub static ROUTES: [RouteEntry; 12] = [
    RouteEntry {
        path: "/",
        get: Some(Route::Root),
        post: None,
        allow: "GET, HEAD, OPTIONS",
    },
    RouteEntry {
        path: "/login",
        get: None,
        post: Some(Route::Login),
        allow: "POST, OPTIONS",
    },
    RouteEntry {
        path: "/refresh",
        get: None,
        post: Some(Route::Refresh),
        allow: "POST, OPTIONS",
    },
    RouteEntry {
        path: "/logout",
        get: None,
        post: Some(Route::Logout),
        allow: "POST, OPTIONS",
    },
    RouteEntry {
        path: "/logout/all",
        get: None,
        post: Some(Route::LogoutAll),
        allow: "POST, OPTIONS",
    },
    RouteEntry {
        path: "/protected",
        get: Some(Route::Protected),
        post: None,
        allow: "GET, HEAD, OPTIONS",
    },
    RouteEntry {
        path: "/healthz",
        get: Some(Route::Health),
        post: None,
        allow: "GET, HEAD, OPTIONS",
    },
    RouteEntry {
        path: "/health/live",
        get: Some(Route::Live),
        post: None,
        allow: "GET, HEAD, OPTIONS",
    },
    RouteEntry {
        path: "/health/ready",
        get: Some(Route::Ready),
        post: None,
        allow: "GET, HEAD, OPTIONS",
    },
    RouteEntry {
        path: METRICS_PATH,
        get: Some(Route::Metrics),
        post: None,
        allow: "GET, HEAD, OPTIONS",
    },
    RouteEntry {
        path: "/.well-known/jwks.json",
        get: Some(Route::Jwks),
        post: None,
        allow: "GET, HEAD, OPTIONS",
    },
    RouteEntry {
        path: "/introspect",
        get: None,
        post: Some(Route::Introspect),
        allow: "POST, OPTIONS",
    },
];

/// Where the metrics are served: the one path a `METRICS_ADDR` listener answers.
pub const METRICS_PATH: &str = "/metrics";

/// The label of requests to no path of the table, in the metrics (never the path itself: a
/// client choosing label values could make the series unbounded).
pub const UNMATCHED: &str = "unmatched";

/// The row index of `path` in [`ROUTES`], if the path exists.
pub fn row(path: &str) -> Option<usize> {
    ROUTES.iter().position(|entry| entry.path == path)
}

/// The metrics label of every row, then [`UNMATCHED`]: index `row(path)` or `ROUTES.len()`.
pub fn labels() -> Vec<&'static str> {
    ROUTES
        .iter()
        .map(|entry| entry.path)
        .chain([UNMATCHED])
        .collect()
}

/// The table row for `path`, if the path exists.
pub fn entry(path: &str) -> Option<&'static RouteEntry> {
    ROUTES.iter().find(|entry| entry.path == path)
}

/// Picks the handler for a request. `OPTIONS` is answered by the wrapper, before routing.
pub fn route(method: &Method, path: &str) -> Result<Route, ApiError> {
    let entry = entry(path).ok_or_else(ApiError::not_found)?;
    method_route(method, entry)
}

/// The handler of `entry` for `method`, or 405 with `Allow`.
pub fn method_route(method: &Method, entry: &RouteEntry) -> Result<Route, ApiError> {
    let handler = match *method {
        Method::GET | Method::HEAD => entry.get,
        Method::POST => entry.post,
        _ => None,
    };
    handler.ok_or_else(|| ApiError::method_not_allowed(entry.allow))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::StatusCode;

    #[test]
    fn routes_known_method_and_path() {
        assert_eq!(route(&Method::GET, "/"), Ok(Route::Root));
        assert_eq!(route(&Method::HEAD, "/"), Ok(Route::Root));
        assert_eq!(route(&Method::POST, "/login"), Ok(Route::Login));
        assert_eq!(route(&Method::POST, "/refresh"), Ok(Route::Refresh));
        assert_eq!(route(&Method::POST, "/logout"), Ok(Route::Logout));
        assert_eq!(route(&Method::POST, "/logout/all"), Ok(Route::LogoutAll));
        assert_eq!(route(&Method::GET, "/protected"), Ok(Route::Protected));
        assert_eq!(route(&Method::HEAD, "/healthz"), Ok(Route::Health));
        assert_eq!(route(&Method::GET, "/health/live"), Ok(Route::Live));
        assert_eq!(route(&Method::GET, "/health/ready"), Ok(Route::Ready));
        assert_eq!(route(&Method::GET, "/metrics"), Ok(Route::Metrics));
        assert_eq!(
            route(&Method::GET, "/.well-known/jwks.json"),
            Ok(Route::Jwks)
        );
        assert_eq!(route(&Method::POST, "/introspect"), Ok(Route::Introspect));
    }

    #[test]
    fn unknown_path_is_404() {
        for path in ["/nope", "/login/", "/Login", "//", ""] {
            assert_eq!(
                route(&Method::GET, path).unwrap_err().status,
                StatusCode::NOT_FOUND,
                "{path}"
            );
        }
    }

    #[test]
    fn wrong_method_is_405_with_allow() {
        let err = route(&Method::GET, "/login").unwrap_err();
        assert_eq!(err.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(err.header.unwrap().1, "POST, OPTIONS");
        for (method, path) in [
            (Method::DELETE, "/protected"),
            (Method::PUT, "/"),
            (Method::POST, "/healthz"),
            (Method::POST, "/health/ready"),
            (Method::DELETE, "/metrics"),
        ] {
            let err = route(&method, path).unwrap_err();
            assert_eq!(err.status, StatusCode::METHOD_NOT_ALLOWED);
            assert_eq!(err.header.unwrap().1, "GET, HEAD, OPTIONS");
        }
        let custom = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(
            route(&custom, "/").unwrap_err().status,
            StatusCode::METHOD_NOT_ALLOWED
        );
    }

    #[test]
    fn every_row_has_its_label_and_unmatched_comes_last() {
        let labels = labels();
        assert_eq!(labels.len(), ROUTES.len() + 1);
        for (i, entry) in ROUTES.iter().enumerate() {
            assert_eq!(row(entry.path), Some(i));
            assert_eq!(labels[i], entry.path);
        }
        assert_eq!(labels[ROUTES.len()], UNMATCHED);
        assert_eq!(row("/nope"), None);
    }

    #[test]
    fn every_path_is_unique() {
        for (i, a) in ROUTES.iter().enumerate() {
            assert!(
                ROUTES[i + 1..].iter().all(|b| b.path != a.path),
                "{}",
                a.path
            );
        }
    }
}
