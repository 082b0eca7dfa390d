//! Each kind of value and the error a bad one gets: numbers and their ranges, `HOST`, origins
//! (`CORS_ORIGINS`), `DEBUG` / `FLASK_DEBUG`, `TRUSTED_PROXIES`.

use super::*;

#[test]
fn unparsable_numbers_name_their_key() {
    for key in [
        "PORT",
        "JWT_ACCESS_TOKEN_EXPIRES",
        "JWT_REFRESH_TOKEN_EXPIRES",
        "JWT_LEEWAY",
        "BCRYPT_COST",
        "MAX_BODY_BYTES",
        "HEADER_READ_TIMEOUT",
        "PASSWORD_CHECK_CONCURRENCY",
        "PASSWORD_CHECK_QUEUE",
        "MAX_HEADERS",
        "MAX_HEADER_BYTES",
        "MAX_CONNECTIONS",
        "MAX_TOKEN_BYTES",
        "WORKER_THREADS",
        "LOGIN_MAX_FAILURES_PER_USER",
        "LOGIN_MAX_FAILURES_PER_ADDRESS",
        "LOGIN_FAILURE_WINDOW",
        "MAX_CONNECTIONS_PER_ADDRESS",
        "LINGER_BYTES",
        "LINGER_TIMEOUT",
        "PASSWORD_CHECK_NICE",
        "PASSWORD_CHECK_WAIT",
    ] {
        let err = config(&[(key, "12abc")]).unwrap_err();
        assert_eq!(err.key, key);
    }
    let too_big = config(&[("PORT", "70000")]).unwrap_err();
    assert_eq!(too_big.key, "PORT");
    assert_eq!(too_big.problem, "70000 is out of range: use 0 to 65535");
    assert_eq!(
        config(&[("JWT_ACCESS_TOKEN_EXPIRES", "0")])
            .unwrap_err()
            .key,
        "JWT_ACCESS_TOKEN_EXPIRES"
    );
    assert_eq!(
        config(&[("BCRYPT_COST", "3")]).unwrap_err().key,
        "BCRYPT_COST"
    );
}

#[test]
fn out_of_range_numbers_state_the_settings_range() {
    let problem = |key: &str, value: &str| config(&[(key, value)]).unwrap_err().problem;
    assert_eq!(
        problem("BCRYPT_COST", "3"),
        "3 is out of range: use 4 to 31"
    );
    assert_eq!(
        problem("BCRYPT_COST", "99"),
        "99 is out of range: use 4 to 31"
    );
    assert_eq!(
        problem("BCRYPT_COST", "99999999999"),
        "99999999999 is out of range: use 4 to 31"
    );
    assert_eq!(
        problem("LOGIN_MAX_FAILURES_PER_USER", "4294967296"),
        "4294967296 is out of range: use 0 to 4294967295"
    );
    assert_eq!(
        problem("JWT_ACCESS_TOKEN_EXPIRES", "0"),
        "0 is out of range: use at least 1"
    );
    assert_eq!(
        problem("MAX_HEADERS", "7"),
        "7 is out of range: use at least 8"
    );
    assert_eq!(
        problem("MAX_BODY_BYTES", "0"),
        "0 is out of range: use at least 1"
    );
    // Too many digits for any number type is still "out of range", not "not a number".
    assert_eq!(
        problem("JWT_LEEWAY", "99999999999999999999999"),
        "99999999999999999999999 is out of range: use 0 to 18446744073709551615"
    );
    assert_eq!(
        problem("PORT", "-1"),
        "\"-1\" is not a valid non-negative whole number"
    );
}

#[test]
fn host_is_an_ip_address_or_localhost() {
    let host = |value: &str| config(&[("HOST", value)]).map(|c| c.host);
    assert_eq!(host("0.0.0.0").unwrap(), "0.0.0.0");
    assert_eq!(host(" 127.0.0.1 ").unwrap(), "127.0.0.1");
    assert_eq!(host("LocalHost").unwrap(), "localhost");
    // IPv6 with or without brackets, kept bracketed so HOST:PORT is a socket address.
    assert_eq!(host("::1").unwrap(), "[::1]");
    assert_eq!(host("[::]").unwrap(), "[::]");
    for bad in ["bad.host", "127.0.0.256", "0.0.0.0:8000", "[127.0.0.1]x"] {
        let err = host(bad).unwrap_err();
        assert_eq!(err.key, "HOST", "{bad}");
        assert!(
            err.to_string()
                .starts_with(&format!("configuration error: HOST: {bad:?} is not an IP")),
            "{err}"
        );
    }
}

#[test]
fn an_origin_with_a_path_gets_the_fixed_value() {
    let err = config(&[("CORS_ORIGINS", "http://127.0.0.1:8088/")]).unwrap_err();
    assert_eq!(err.key, "CORS_ORIGINS");
    assert!(err.problem.contains("has a path"), "{}", err.problem);
    assert!(
        err.problem.ends_with("use http://127.0.0.1:8088"),
        "{}",
        err.problem
    );
    let err = config(&[("CORS_ORIGINS", "https://a.example, https://b.example/app/")]).unwrap_err();
    assert!(
        err.problem.ends_with("use https://b.example"),
        "{}",
        err.problem
    );
    let err = config(&[("CORS_ORIGINS", "ftp://x")]).unwrap_err();
    assert!(
        err.problem.contains("the scheme is \"ftp\""),
        "{}",
        err.problem
    );
}

#[test]
fn flask_debug_is_an_alias_for_debug() {
    assert!(config(&[("FLASK_DEBUG", "1")]).unwrap().debug);
    assert_eq!(
        config(&[("FLASK_DEBUG", "1")]).unwrap().log_level,
        LevelFilter::Debug
    );
    assert!(
        !config(&[("DEBUG", "false"), ("FLASK_DEBUG", "1")])
            .unwrap()
            .debug
    );
    assert_eq!(config(&[("DEBUG", "maybe")]).unwrap_err().key, "DEBUG");
    assert_eq!(
        config(&[("DEBUG", "true"), ("LOG_LEVEL", "warn")])
            .unwrap()
            .log_level,
        LevelFilter::Warn
    );
    assert_eq!(
        config(&[("LOG_LEVEL", "loud")]).unwrap_err().key,
        "LOG_LEVEL"
    );
}

#[test]
fn cors_origins_are_parsed_and_checked() {
    let c = config(&[("CORS_ORIGINS", "https://a.example, http://localhost:3000")]).unwrap();
    assert_eq!(
        c.cors_origins,
        CorsOrigins::List(vec![
            "https://a.example".into(),
            "http://localhost:3000".into()
        ])
    );
    assert_eq!(
        config(&[("CORS_ORIGINS", "*")]).unwrap().cors_origins,
        CorsOrigins::Any
    );
    for bad in [
        "a.example",
        "https://a.example/",
        "https://a.example/path",
        "ftp://x",
    ] {
        assert_eq!(
            config(&[("CORS_ORIGINS", bad)]).unwrap_err().key,
            "CORS_ORIGINS",
            "{bad}"
        );
    }
}

#[test]
fn trusted_proxies_are_parsed_and_checked() {
    assert!(config(&[]).unwrap().trusted_proxies.is_empty());
    let c = config(&[("TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")]).unwrap();
    assert!(!c.trusted_proxies.is_empty());
    let err = config(&[("TRUSTED_PROXIES", "10.0.0.0/8, my-proxy")]).unwrap_err();
    assert_eq!(err.key, "TRUSTED_PROXIES");
    assert!(err.problem.contains("my-proxy"), "{}", err.problem);
}

/// `CORS_ORIGINS` entries no browser ever sends as an `Origin` (RFC 6454 §6.2: lower case, no
/// default port, nothing after the port) would never match: each is refused, with the entry a
/// browser does send where there is one.
#[test]
fn origins_no_browser_sends_are_refused_with_the_one_it_does() {
    for (bad, fixed) in [
        ("https://App.Example.com", Some("https://app.example.com")),
        ("HTTPS://app.example", Some("https://app.example")),
        ("https://app.example:443", Some("https://app.example")),
        ("http://localhost:80", Some("http://localhost")),
        ("https://app.example?x=1", Some("https://app.example")),
        ("https://app.example#top", Some("https://app.example")),
        ("https://app.example/", Some("https://app.example")),
        ("https://user@app.example", Some("https://app.example")),
        ("https://*.example.com", None),
        ("https://app.example:", None),
        ("https://app.example:0443", None),
        ("https://app.example:70000", None),
        ("https://:8080", None),
    ] {
        let err = config(&[("CORS_ORIGINS", bad)]).unwrap_err();
        assert_eq!(err.key, "CORS_ORIGINS", "{bad}");
        assert!(err.problem.starts_with(&format!("{bad:?} ")), "{err}");
        if let Some(fixed) = fixed {
            assert!(err.problem.ends_with(&format!("use {fixed}")), "{err}");
        }
    }
    // What browsers do send: other ports, IPv6 literals, http.
    for good in [
        "https://app.example:8443",
        "http://[::1]:3000",
        "http://127.0.0.1:8088",
        "https://app.example:80",
        "http://localhost:443",
    ] {
        assert!(config(&[("CORS_ORIGINS", good)]).is_ok(), "{good}");
    }
}
