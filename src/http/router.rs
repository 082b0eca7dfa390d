//! The router: a hand-written table of paths, each with the handler for `GET` (which also serves
//! `HEAD`) and for `POST`. Unknown path → 404; known path, other method → 405 with `Allow`.
//!
//! Matching is exact on the path (no trailing-slash or case folding) and ignores the query string.
//! With seven routes a linear scan of a static slice beats any hashing, and reads like the contract.

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
    Health,
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

pub static ROUTES: [RouteEntry; 7] = [
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
];

/// The table row for `path`, if the path exists.
pub fn entry(path: &str) -> Option<&'static RouteEntry> {
    ROUTES.iter().find(|entry| entry.path == path)
}

/// Picks the handler for a request. `OPTIONS` is answered by the wrapper, before routing.
pub fn route(method: &Method, path: &str) -> Result<Route, ApiError> {
    let entry = entry(path).ok_or_else(ApiError::not_found)?;
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
