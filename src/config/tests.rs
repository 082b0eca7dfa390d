//! Tests of the configuration: every key, its default, and the error a bad value gets.

use super::*;
use std::collections::HashMap;

const KEY: &str = "0123456789abcdef0123456789abcdef";

fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(|k| map.get(k).cloned())
}

#[test]
fn defaults_match_design() {
    let c = config(&[]).unwrap();
    assert_eq!((c.host.as_str(), c.port), ("127.0.0.1", 5000));
    assert!(c.secret_is_random);
    assert_eq!(c.secret.as_bytes().len(), 32);
    assert_eq!(c.access_token_ttl, Duration::from_secs(900));
    assert_eq!(c.refresh_token_ttl, Duration::from_secs(2_592_000));
    assert_eq!(c.leeway, Duration::ZERO);
    assert_eq!(c.cors_origins, CorsOrigins::Any);
    assert_eq!(c.bcrypt_cost, 12);
    assert_eq!(c.log_level, LevelFilter::Info);
    assert!(!c.debug);
    assert_eq!(c.max_body_bytes, 16 * 1024);
    assert_eq!(c.max_token_bytes, 8 * 1024);
    assert!(c.previous_secrets.is_empty());
    assert!(!c.refresh_rotation);
    assert_eq!(c.denylist_file, None);
    assert_eq!(c.max_connections_per_address, 128);
    assert_eq!(c.linger_bytes, 8 * 1024 * 1024);
    assert_eq!(c.linger_timeout, Duration::from_secs(5));
    assert_eq!(c.password_check_nice, 19);
    assert_eq!(c.log_format, LogFormat::Text);
    assert!(c.metrics);
    assert_eq!(c.metrics_addr, None);
    assert_eq!(
        config(&[("PASSWORD_CHECK_NICE", "20")])
            .unwrap_err()
            .problem,
        "20 is out of range: use 0 to 19"
    );
}

#[test]
fn previous_keys_are_listed_and_checked() {
    let other = "ffffffffffffffffffffffffffffffff";
    let c = config(&[("JWT_PREVIOUS_SECRET_KEYS", &format!("{KEY}, {other}"))]).unwrap();
    assert_eq!(
        c.previous_secrets,
        vec![Secret::new(KEY), Secret::new(other)]
    );
    let err = config(&[("JWT_PREVIOUS_SECRET_KEYS", &format!("{KEY},short"))]).unwrap_err();
    assert_eq!(err.key, "JWT_PREVIOUS_SECRET_KEYS");
    assert!(!err.to_string().contains(KEY));
}

#[test]
fn lifecycle_keys() {
    let c = config(&[
        ("JWT_REFRESH_ROTATION", "true"),
        ("DENYLIST_FILE", "/var/lib/x"),
    ])
    .unwrap();
    assert!(c.refresh_rotation);
    assert_eq!(c.denylist_file, Some(PathBuf::from("/var/lib/x")));
    assert_eq!(
        config(&[("JWT_REFRESH_ROTATION", "sometimes")])
            .unwrap_err()
            .key,
        "JWT_REFRESH_ROTATION"
    );
}

#[test]
fn random_keys_differ_per_start() {
    assert_ne!(config(&[]).unwrap().secret, config(&[]).unwrap().secret);
}

#[test]
fn jwt_secret_key_wins_over_secret_key() {
    let other = "ffffffffffffffffffffffffffffffff";
    let c = config(&[("JWT_SECRET_KEY", KEY), ("SECRET_KEY", other)]).unwrap();
    assert_eq!(c.secret.as_bytes(), KEY.as_bytes());
    let c = config(&[("SECRET_KEY", other)]).unwrap();
    assert_eq!(c.secret.as_bytes(), other.as_bytes());
    assert!(!c.secret_is_random);
}

#[test]
fn short_key_is_refused_with_a_hint() {
    let err = config(&[("JWT_SECRET_KEY", "short")]).unwrap_err();
    assert_eq!(err.key, "JWT_SECRET_KEY");
    assert!(err.to_string().contains("openssl rand -hex 32"), "{err}");
    let err = config(&[("SECRET_KEY", "your-secret-key")]).unwrap_err();
    assert_eq!(err.key, "SECRET_KEY");
}

#[test]
fn secret_never_shows_in_debug_output() {
    let c = config(&[("JWT_SECRET_KEY", KEY)]).unwrap();
    assert!(!format!("{c:?}").contains(KEY));
}

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

#[test]
fn empty_values_count_as_unset() {
    let c = config(&[("PORT", ""), ("JWT_SECRET_KEY", "  ")]).unwrap();
    assert_eq!(c.port, 5000);
    assert!(c.secret_is_random);
}

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
    // Cookie keys mean nothing with headers only: no warning about them.
    assert!(
        config(&[("JWT_COOKIE_SECURE", "false")])
            .unwrap()
            .warnings()
            .is_empty()
    );
}

#[test]
fn redis_keys() {
    let c = config(&[]).unwrap();
    assert_eq!(c.redis, None);
    let with_url = config(&[("REDIS_URL", "redis://127.0.0.1:6390/1")]);
    if cfg!(feature = "redis") {
        let redis = with_url.unwrap().redis.unwrap();
        assert_eq!((redis.url.port, redis.url.db), (6390, 1));
        assert_eq!(redis.key_prefix, DEFAULT_KEY_PREFIX);
        assert_eq!(redis.connect_timeout, Duration::from_secs(30));
        let c = config(&[
            ("REDIS_URL", "redis://h"),
            ("REDIS_KEY_PREFIX", "{app}:"),
            ("REDIS_CONNECT_TIMEOUT", "3"),
        ])
        .unwrap()
        .redis
        .unwrap();
        assert_eq!(
            (c.key_prefix.as_str(), c.connect_timeout),
            ("{app}:", Duration::from_secs(3))
        );
        // One store of revocations: Redis or the journal, not both.
        let both = config(&[("REDIS_URL", "redis://h"), ("DENYLIST_FILE", "/tmp/d")]);
        assert_eq!(both.unwrap_err().key, "DENYLIST_FILE");
    } else {
        // A binary without the feature says how to get one with it.
        let err = with_url.unwrap_err();
        assert_eq!(err.key, "REDIS_URL");
        assert!(err.problem.contains("--features redis"), "{}", err.problem);
    }
    for (key, value) in [
        ("REDIS_URL", "http://h"),
        ("REDIS_CONNECT_TIMEOUT", "0"),
        ("REDIS_KEY_PREFIX", "a b"),
    ] {
        assert_eq!(config(&[(key, value)]).unwrap_err().key, key, "{value}");
    }
}

#[test]
fn log_format_is_text_or_json() {
    assert_eq!(
        config(&[("LOG_FORMAT", "json")]).unwrap().log_format,
        LogFormat::Json
    );
    assert_eq!(
        config(&[("LOG_FORMAT", " TEXT ")]).unwrap().log_format,
        LogFormat::Text
    );
    let err = config(&[("LOG_FORMAT", "yaml")]).unwrap_err();
    assert_eq!(err.key, "LOG_FORMAT");
    assert!(err.problem.contains("text or json"), "{}", err.problem);
}

#[test]
fn metrics_can_be_turned_off_or_moved_to_their_own_address() {
    assert!(!config(&[("METRICS", "off")]).unwrap().metrics);
    assert_eq!(
        config(&[("METRICS", "sometimes")]).unwrap_err().key,
        "METRICS"
    );
    let moved = config(&[("METRICS_ADDR", "127.0.0.1:9100")]).unwrap();
    assert!(moved.metrics);
    assert_eq!(moved.metrics_addr, Some("127.0.0.1:9100".parse().unwrap()));
    assert_eq!(
        config(&[("METRICS_ADDR", "[::1]:9100")])
            .unwrap()
            .metrics_addr,
        Some("[::1]:9100".parse().unwrap())
    );
    for bad in ["localhost:9100", "127.0.0.1", "9100", "127.0.0.1:99999"] {
        let err = config(&[("METRICS_ADDR", bad)]).unwrap_err();
        assert_eq!(err.key, "METRICS_ADDR", "{bad}");
        assert!(err.problem.contains("127.0.0.1:9100"), "{}", err.problem);
    }
    // Off and moved at once is a contradiction, not a silent choice.
    let err = config(&[("METRICS", "off"), ("METRICS_ADDR", "127.0.0.1:9100")]).unwrap_err();
    assert_eq!(err.key, "METRICS_ADDR");
}
