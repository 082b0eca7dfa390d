//! `JWT_TOKEN_LOCATION` and the cookie keys: Flask-JWT-Extended's names with safer defaults, the
//! settings a browser would drop refused, the risky ones warned about.

use super::*;

/// Cookies need an explicit origin list; these are the pairs every cookie test starts from.
const COOKIES: [(&str, &str); 2] = [
    ("JWT_TOKEN_LOCATION", "cookies"),
    ("CORS_ORIGINS", "https://app.example"),
];

fn with_cookies(extra: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let mut pairs = COOKIES.to_vec();
    pairs.extend_from_slice(extra);
    config(&pairs)
}

#[test]
fn token_location_defaults_to_headers() {
    let c = config(&[]).unwrap();
    assert_eq!(c.token_location, TokenLocation::default());
    assert!(c.token_location.headers && !c.token_location.cookies);
    for (value, headers, cookies) in [
        ("headers", true, false),
        ("cookies", false, true),
        ("headers,cookies", true, true),
        (" Cookies , HEADERS ", true, true),
    ] {
        let c = with_cookies(&[("JWT_TOKEN_LOCATION", value)]).unwrap();
        assert_eq!(
            c.token_location,
            TokenLocation { headers, cookies },
            "{value}"
        );
    }
    for bad in ["query_string", "json", "headers,body", ","] {
        let err = config(&[("JWT_TOKEN_LOCATION", bad)]).unwrap_err();
        assert_eq!(err.key, "JWT_TOKEN_LOCATION", "{bad}");
    }
}

#[test]
fn cookie_defaults_are_flask_names_with_safer_attributes() {
    let c = with_cookies(&[]).unwrap().cookies;
    assert_eq!(
        (
            c.access_name.as_str(),
            c.refresh_name.as_str(),
            c.access_csrf_name.as_str(),
            c.refresh_csrf_name.as_str()
        ),
        (
            "access_token_cookie",
            "refresh_token_cookie",
            "csrf_access_token",
            "csrf_refresh_token"
        )
    );
    assert_eq!(
        (
            c.access_path.as_str(),
            c.refresh_path.as_str(),
            c.access_csrf_path.as_str(),
            c.refresh_csrf_path.as_str()
        ),
        ("/", "/refresh", "/", "/")
    );
    assert!(c.secure && c.session && c.csrf_protect && c.csrf_in_cookies);
    assert_eq!(c.same_site, SameSite::Strict);
    assert_eq!(c.domain, None);
    assert_eq!(c.csrf_methods, ["POST", "PUT", "PATCH", "DELETE"]);
    assert_eq!(c.access_csrf_header, "X-CSRF-TOKEN");
    assert_eq!(c.refresh_csrf_header, "X-CSRF-TOKEN");
}

#[test]
fn cookie_keys_are_read_and_checked() {
    let c = with_cookies(&[
        ("JWT_ACCESS_COOKIE_NAME", "__Host-access"),
        ("JWT_REFRESH_COOKIE_NAME", "__Secure-refresh"),
        ("JWT_ACCESS_CSRF_COOKIE_NAME", "csrf_a"),
        ("JWT_REFRESH_CSRF_COOKIE_NAME", "csrf_r"),
        ("JWT_REFRESH_COOKIE_PATH", "/auth/refresh"),
        ("JWT_ACCESS_CSRF_COOKIE_PATH", "/app"),
        ("JWT_REFRESH_CSRF_COOKIE_PATH", "/app"),
        ("JWT_COOKIE_SAMESITE", "lax"),
        ("JWT_SESSION_COOKIE", "false"),
        ("JWT_CSRF_METHODS", "post, delete"),
        ("JWT_ACCESS_CSRF_HEADER_NAME", "X-XSRF-TOKEN"),
        ("JWT_REFRESH_CSRF_HEADER_NAME", "X-Refresh-CSRF"),
        ("JWT_CSRF_IN_COOKIES", "false"),
    ])
    .unwrap()
    .cookies;
    assert_eq!(c.access_name, "__Host-access");
    assert_eq!(c.refresh_path, "/auth/refresh");
    assert_eq!(c.same_site, SameSite::Lax);
    assert!(!c.session && !c.csrf_in_cookies);
    assert_eq!(c.csrf_methods, ["POST", "DELETE"]);
    assert_eq!(c.access_csrf_header, "X-XSRF-TOKEN");
    let c = with_cookies(&[("JWT_COOKIE_DOMAIN", ".example.com")]).unwrap();
    assert_eq!(c.cookies.domain.as_deref(), Some(".example.com"));

    for (key, bad) in [
        ("JWT_ACCESS_COOKIE_NAME", "access token"),
        ("JWT_REFRESH_CSRF_COOKIE_NAME", "a;b"),
        ("JWT_ACCESS_COOKIE_PATH", "refresh"),
        ("JWT_REFRESH_COOKIE_PATH", "/a;Domain=evil"),
        ("JWT_COOKIE_DOMAIN", "exa mple.com"),
        ("JWT_COOKIE_DOMAIN", "."),
        ("JWT_COOKIE_SAMESITE", "sometimes"),
        ("JWT_COOKIE_SECURE", "maybe"),
        ("JWT_COOKIE_CSRF_PROTECT", "2"),
        ("JWT_CSRF_METHODS", "PO ST"),
        ("JWT_CSRF_METHODS", ","),
        ("JWT_ACCESS_CSRF_HEADER_NAME", "X CSRF"),
        ("JWT_SESSION_COOKIE", "x"),
        ("JWT_CSRF_IN_COOKIES", "x"),
        ("JWT_CSRF_CHECK_FORM", "true"),
    ] {
        let err = with_cookies(&[(key, bad)]).unwrap_err();
        assert_eq!(err.key, key, "{key}={bad}: {err}");
    }
    assert!(with_cookies(&[("JWT_CSRF_CHECK_FORM", "false")]).is_ok());
}

#[test]
fn cookies_with_any_origin_are_refused_in_one_line() {
    for cors in [None, Some("*")] {
        let mut pairs = vec![("JWT_TOKEN_LOCATION", "headers,cookies")];
        pairs.extend(cors.map(|v| ("CORS_ORIGINS", v)));
        let err = config(&pairs).unwrap_err();
        assert_eq!(err.key, "CORS_ORIGINS");
        assert!(!err.to_string().contains('\n'));
        assert!(err.problem.contains("list your front-end origins"), "{err}");
    }
    // Headers alone keep `*`.
    assert!(config(&[("CORS_ORIGINS", "*")]).is_ok());
}

#[test]
fn settings_browsers_would_drop_are_refused() {
    let err = with_cookies(&[
        ("JWT_COOKIE_SAMESITE", "None"),
        ("JWT_COOKIE_SECURE", "false"),
    ])
    .unwrap_err();
    assert_eq!(err.key, "JWT_COOKIE_SAMESITE");
    assert!(err.problem.contains("Secure"), "{err}");
    assert!(with_cookies(&[("JWT_COOKIE_SAMESITE", "None")]).is_ok());
    for (key, name, extra) in [
        (
            "JWT_ACCESS_COOKIE_NAME",
            "__Host-a",
            ("JWT_COOKIE_SECURE", "false"),
        ),
        (
            "JWT_ACCESS_COOKIE_NAME",
            "__Secure-a",
            ("JWT_COOKIE_SECURE", "false"),
        ),
        (
            "JWT_ACCESS_COOKIE_NAME",
            "__Host-a",
            ("JWT_COOKIE_DOMAIN", "example.com"),
        ),
        (
            "JWT_REFRESH_COOKIE_NAME",
            "__Host-r",
            ("JWT_COOKIE_SECURE", "true"),
        ),
    ] {
        let err = with_cookies(&[(key, name), extra]).unwrap_err();
        assert_eq!(err.key, key, "{name} with {extra:?}: {err}");
    }
}

#[test]
fn risky_cookie_settings_warn() {
    assert!(config(&[]).unwrap().warnings().is_empty());
    assert!(with_cookies(&[]).unwrap().warnings().is_empty());
    let local = with_cookies(&[("JWT_COOKIE_SECURE", "false")]).unwrap();
    let warnings = local.warnings();
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].starts_with("JWT_COOKIE_SECURE=false"),
        "{warnings:?}"
    );
    assert!(!warnings[0].contains("HOST="), "{warnings:?}");
    let exposed = with_cookies(&[("JWT_COOKIE_SECURE", "false"), ("HOST", "0.0.0.0")]).unwrap();
    assert!(exposed.warnings()[0].contains("HOST=0.0.0.0"));
    let unprotected = with_cookies(&[("JWT_COOKIE_CSRF_PROTECT", "false")]).unwrap();
    assert!(unprotected.warnings()[0].starts_with("JWT_COOKIE_CSRF_PROTECT=false"));
    // Each is one line of prose: no run of spaces left by a broken line continuation.
    for warning in [
        &warnings[0],
        &exposed.warnings()[0],
        &unprotected.warnings()[0],
    ] {
        assert!(!warning.contains("  "), "{warning:?}");
    }
    // Cookie keys mean nothing with headers only: no warning about them.
    assert!(
        config(&[("JWT_COOKIE_SECURE", "false")])
            .unwrap()
            .warnings()
            .is_empty()
    );
}

/// Browsers match `__Host-`/`__Secure-` in any case and hold the cookie to the prefix's rules:
/// another spelling would slip past the checks above, so it is refused and the right one named.
#[test]
fn cookie_prefixes_in_another_case_are_refused() {
    for (key, name, prefix) in [
        ("JWT_ACCESS_COOKIE_NAME", "__host-access", "__Host-"),
        ("JWT_REFRESH_COOKIE_NAME", "__HOST-refresh", "__Host-"),
        ("JWT_ACCESS_CSRF_COOKIE_NAME", "__secure-csrf", "__Secure-"),
        ("JWT_REFRESH_CSRF_COOKIE_NAME", "__SeCuRe-csrf", "__Secure-"),
    ] {
        let err = with_cookies(&[(key, name)]).unwrap_err();
        assert_eq!(err.key, key, "{name}: {err}");
        assert!(
            err.problem.ends_with(&format!("spell it {prefix}")),
            "{name}: {err}"
        );
        assert!(!err.problem.contains('\n'), "{err}");
    }
    // The right spelling, and names that only look alike, are fine.
    for name in [
        "__Host-access",
        "__Secure-access",
        "__hostess",
        "_host-access",
    ] {
        assert!(
            with_cookies(&[("JWT_ACCESS_COOKIE_NAME", name)]).is_ok(),
            "{name}"
        );
    }
}

/// A readable CSRF cookie named like an HttpOnly token cookie would overwrite it; two CSRF cookies
/// with one name and path overwrite each other.
#[test]
fn a_csrf_cookie_named_like_a_token_cookie_is_refused() {
    for (pairs, key) in [
        (
            vec![("JWT_ACCESS_CSRF_COOKIE_NAME", "access_token_cookie")],
            "JWT_ACCESS_CSRF_COOKIE_NAME",
        ),
        (
            vec![("JWT_REFRESH_CSRF_COOKIE_NAME", "refresh_token_cookie")],
            "JWT_REFRESH_CSRF_COOKIE_NAME",
        ),
        (
            vec![
                ("JWT_ACCESS_COOKIE_NAME", "session"),
                ("JWT_REFRESH_CSRF_COOKIE_NAME", "session"),
            ],
            "JWT_REFRESH_CSRF_COOKIE_NAME",
        ),
        (
            vec![("JWT_REFRESH_CSRF_COOKIE_NAME", "csrf_access_token")],
            "JWT_REFRESH_CSRF_COOKIE_NAME",
        ),
    ] {
        let err = with_cookies(&pairs).unwrap_err();
        assert_eq!(err.key, key, "{pairs:?}: {err}");
    }
    // Without CSRF cookies the names are never set, so they can't clash; nor can one CSRF name at
    // two paths.
    assert!(
        with_cookies(&[
            ("JWT_ACCESS_CSRF_COOKIE_NAME", "access_token_cookie"),
            ("JWT_CSRF_IN_COOKIES", "false"),
        ])
        .is_ok()
    );
    assert!(
        with_cookies(&[
            ("JWT_REFRESH_CSRF_COOKIE_NAME", "csrf_access_token"),
            ("JWT_REFRESH_CSRF_COOKIE_PATH", "/refresh"),
        ])
        .is_ok()
    );
}
