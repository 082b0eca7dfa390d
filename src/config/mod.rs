//! Configuration from environment variables (DESIGN §5), read once at start-up.
//!
//! The binary reads `.env` without touching the process environment and calls
//! [`Config::from_lookup`] with "environment first, then `.env`", remembering where each value came
//! from for its start-up log (`src/cli/mod.rs`). Embedders call [`Config::from_env`], after
//! `dotenvy::dotenv()` if they want a `.env`; tests call [`Config::from_lookup`] with a map. Every bad value stops start-up with a [`ConfigError`]
//! that names the key and says how to fix it.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use log::LevelFilter;

use crate::jwt::{Hs256Key, KeyRing, Validation};

use crate::http::client_addr::TrustedProxies;
use ring::rand::{SecureRandom, SystemRandom};

/// RFC 7518 §3.2: an HS256 key must be at least as long as the hash output, 256 bits.
pub const MIN_SECRET_LEN: usize = 32;

/// A configuration value that stops start-up, naming the key at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub key: &'static str,
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "configuration error: {}: {}", self.key, self.problem)
    }
}

impl std::error::Error for ConfigError {}

/// The HMAC key bytes. Its `Debug` never shows them, so a config dump can't leak the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Secret(bytes.into())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} bytes, redacted)", self.0.len())
    }
}

/// Which browser origins may call the API (`CORS_ORIGINS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    /// `*`: any origin (the default, as in the original app). Safe here because credentials are
    /// bearer tokens sent explicitly, never cookies.
    Any,
    /// Only these exact origins (`scheme://host[:port]`), echoed back with `Vary: Origin`.
    List(Vec<String>),
}

/// Everything the server needs to know, parsed and checked.
#[derive(Debug, Clone)]
pub struct Config {
    /// The address to listen on (`HOST`): an IP address (IPv6 in brackets, so that
    /// `format!("{host}:{port}")` is a socket address) or `localhost`.
    pub host: String,
    pub port: u16,
    pub secret: Secret,
    /// True when no key was configured and [`Config::secret`] was generated for this run only.
    pub secret_is_random: bool,
    /// Older keys still accepted for verification, never for signing (`JWT_PREVIOUS_SECRET_KEYS`).
    pub previous_secrets: Vec<Secret>,
    /// `/refresh` also returns a new refresh token and revokes the one presented.
    pub refresh_rotation: bool,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub leeway: Duration,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub cors_origins: CorsOrigins,
    pub users_file: Option<PathBuf>,
    /// Where revocations are journaled so they survive restarts; `None` keeps them in memory only.
    pub denylist_file: Option<PathBuf>,
    pub bcrypt_cost: u32,
    pub debug: bool,
    pub log_level: LevelFilter,
    /// Largest request body accepted (`MAX_BODY_BYTES`); larger ones get 413.
    pub max_body_bytes: usize,
    /// How long a client may take to send its request headers (`HEADER_READ_TIMEOUT`).
    pub header_read_timeout: Duration,
    /// Most request header fields accepted; more get 431 (`MAX_HEADERS`).
    pub max_headers: usize,
    /// Most bytes of request line plus headers; more get 431 (`MAX_HEADER_BYTES`). Above the 8 KiB
    /// token bound, so an over-long token still gets the JSON 401 rather than a bare 431.
    pub max_header_bytes: usize,
    /// Longest bearer token accepted, checked before any decoding; longer ones get 401
    /// `Invalid token` (`MAX_TOKEN_BYTES`).
    pub max_token_bytes: usize,
    /// Threads serving requests (`WORKER_THREADS`): 1 is a single-threaded runtime; 0, the default,
    /// picks by core count ([`crate::http::server::runtime`]). bcrypt always runs on blocking threads.
    pub worker_threads: usize,
    /// Connections served at once; further clients wait in the kernel's accept queue (`MAX_CONNECTIONS`).
    pub max_connections: usize,
    /// Proxies whose `X-Forwarded-For` names the client for per-address throttling
    /// (`TRUSTED_PROXIES`: addresses and CIDR networks); empty, the default, trusts none.
    pub trusted_proxies: TrustedProxies,
    /// Failed logins per username within the window before 429 (`LOGIN_MAX_FAILURES_PER_USER`).
    pub login_failures_per_user: u32,
    /// Failed logins per client address within the window before 429 (`LOGIN_MAX_FAILURES_PER_ADDRESS`).
    pub login_failures_per_address: u32,
    /// The throttling window (`LOGIN_FAILURE_WINDOW`, seconds).
    pub login_failure_window: Duration,
    /// Password checks (bcrypt) running at once (`PASSWORD_CHECK_CONCURRENCY`).
    pub password_check_concurrency: usize,
    /// Logins that may wait for a password-check slot; more get 503 (`PASSWORD_CHECK_QUEUE`).
    pub password_check_queue: usize,
    /// Connections one client address may hold at once (`MAX_CONNECTIONS_PER_ADDRESS`); peers in
    /// `TRUSTED_PROXIES` are exempt.
    pub max_connections_per_address: usize,
    /// After an early answer (413, 415, ...) to a request whose body was not read, up to this many
    /// body bytes are read and discarded before the connection closes, so the client can read the
    /// answer (`LINGER_BYTES`).
    pub linger_bytes: usize,
    /// ...for at most this long (`LINGER_TIMEOUT`, seconds).
    pub linger_timeout: Duration,
}

impl Config {
    /// Reads the process environment. Call after `dotenvy::dotenv()` so `.env` values are included.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Builds the configuration from any key → value lookup. Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |key: &str| lookup(key).filter(|v| !v.trim().is_empty());

        // JWT_SECRET_KEY, then the original app's SECRET_KEY, then a random per-run key.
        let (secret_key, secret_value) = match get("JWT_SECRET_KEY") {
            Some(v) => ("JWT_SECRET_KEY", Some(v)),
            None => ("SECRET_KEY", get("SECRET_KEY")),
        };
        let (secret, secret_is_random) = match secret_value {
            Some(value) if value.len() < MIN_SECRET_LEN => {
                return Err(ConfigError {
                    key: secret_key,
                    problem: format!(
                        "the key is {} bytes; HS256 needs at least {MIN_SECRET_LEN} (RFC 7518 §3.2). \
                         Generate one with: openssl rand -hex 32",
                        value.len()
                    ),
                });
            }
            Some(value) => (Secret::new(value.into_bytes()), false),
            None => (random_secret()?, true),
        };

        let mut previous_secrets = Vec::new();
        for old in get("JWT_PREVIOUS_SECRET_KEYS")
            .iter()
            .flat_map(|v| v.split(','))
        {
            let old = old.trim();
            if old.len() < MIN_SECRET_LEN {
                return Err(ConfigError {
                    key: "JWT_PREVIOUS_SECRET_KEYS",
                    problem: format!(
                        "a key of {} bytes; each comma-separated key must be at least {MIN_SECRET_LEN} bytes",
                        old.len()
                    ),
                });
            }
            previous_secrets.push(Secret::new(old.as_bytes()));
        }

        let debug = match get("DEBUG") {
            Some(v) => parse_bool("DEBUG", &v)?,
            None => get("FLASK_DEBUG").map_or(Ok(false), |v| parse_bool("FLASK_DEBUG", &v))?,
        };
        let log_level = match get("LOG_LEVEL") {
            Some(v) => v.trim().parse().map_err(|_| ConfigError {
                key: "LOG_LEVEL",
                problem: format!("{v:?} is not one of off, error, warn, info, debug, trace"),
            })?,
            None if debug => LevelFilter::Debug,
            None => LevelFilter::Info,
        };

        // bcrypt's own limits: 4 to 31, each step doubling the work.
        let bcrypt_cost = parse_bounded("BCRYPT_COST", get("BCRYPT_COST"), 12u32, 4, 31)?;

        let max_body_bytes = at_least("MAX_BODY_BYTES", get("MAX_BODY_BYTES"), 16 * 1024, 1)?;

        Ok(Config {
            host: parse_host(get("HOST"))?,
            port: parse_number("PORT", get("PORT"), 5000)?,
            secret,
            secret_is_random,
            previous_secrets,
            refresh_rotation: get("JWT_REFRESH_ROTATION")
                .map_or(Ok(false), |v| parse_bool("JWT_REFRESH_ROTATION", &v))?,
            access_token_ttl: seconds(
                "JWT_ACCESS_TOKEN_EXPIRES",
                get("JWT_ACCESS_TOKEN_EXPIRES"),
                900,
            )?,
            refresh_token_ttl: seconds(
                "JWT_REFRESH_TOKEN_EXPIRES",
                get("JWT_REFRESH_TOKEN_EXPIRES"),
                30 * 24 * 3600,
            )?,
            leeway: Duration::from_secs(parse_number("JWT_LEEWAY", get("JWT_LEEWAY"), 0)?),
            issuer: get("JWT_ISSUER"),
            audience: get("JWT_AUDIENCE"),
            cors_origins: parse_cors(get("CORS_ORIGINS"))?,
            users_file: get("USERS_FILE").map(PathBuf::from),
            denylist_file: get("DENYLIST_FILE").map(PathBuf::from),
            bcrypt_cost,
            debug,
            log_level,
            max_body_bytes,
            header_read_timeout: seconds("HEADER_READ_TIMEOUT", get("HEADER_READ_TIMEOUT"), 10)?,
            password_check_concurrency: at_least(
                "PASSWORD_CHECK_CONCURRENCY",
                get("PASSWORD_CHECK_CONCURRENCY"),
                crate::auth::password_checks::PasswordChecks::default_concurrency(),
                1,
            )?,
            password_check_queue: parse_number(
                "PASSWORD_CHECK_QUEUE",
                get("PASSWORD_CHECK_QUEUE"),
                16,
            )?,
            max_headers: at_least("MAX_HEADERS", get("MAX_HEADERS"), 64, 8)?,
            login_failures_per_user: parse_number(
                "LOGIN_MAX_FAILURES_PER_USER",
                get("LOGIN_MAX_FAILURES_PER_USER"),
                5,
            )?,
            login_failures_per_address: parse_number(
                "LOGIN_MAX_FAILURES_PER_ADDRESS",
                get("LOGIN_MAX_FAILURES_PER_ADDRESS"),
                50,
            )?,
            login_failure_window: seconds(
                "LOGIN_FAILURE_WINDOW",
                get("LOGIN_FAILURE_WINDOW"),
                900,
            )?,
            max_header_bytes: at_least(
                "MAX_HEADER_BYTES",
                get("MAX_HEADER_BYTES"),
                16 * 1024,
                1024,
            )?,
            max_connections: at_least("MAX_CONNECTIONS", get("MAX_CONNECTIONS"), 1024, 1)?,
            worker_threads: parse_number("WORKER_THREADS", get("WORKER_THREADS"), 0)?,
            trusted_proxies: match get("TRUSTED_PROXIES") {
                Some(list) => TrustedProxies::parse(&list).map_err(|e| ConfigError {
                    key: "TRUSTED_PROXIES",
                    problem: format!("{e}; list your reverse proxies, comma-separated"),
                })?,
                None => TrustedProxies::default(),
            },
            max_token_bytes: at_least(
                "MAX_TOKEN_BYTES",
                get("MAX_TOKEN_BYTES"),
                crate::jwt::DEFAULT_MAX_TOKEN_LEN,
                256,
            )?,
            max_connections_per_address: at_least(
                "MAX_CONNECTIONS_PER_ADDRESS",
                get("MAX_CONNECTIONS_PER_ADDRESS"),
                128,
                1,
            )?,
            linger_bytes: parse_number("LINGER_BYTES", get("LINGER_BYTES"), 8 * 1024 * 1024)?,
            linger_timeout: seconds("LINGER_TIMEOUT", get("LINGER_TIMEOUT"), 5)?,
        })
    }

    /// A configuration for tests and examples: defaults everywhere, with this secret.
    pub fn with_secret(secret: &str) -> Result<Self, ConfigError> {
        let secret = secret.to_string();
        Self::from_lookup(move |key| (key == "JWT_SECRET_KEY").then(|| secret.clone()))
    }

    /// The keys tokens are checked with: `JWT_SECRET_KEY` (which also signs) and
    /// `JWT_PREVIOUS_SECRET_KEYS`, each prepared once.
    pub fn key_ring(&self) -> KeyRing {
        KeyRing {
            current: Hs256Key::new(self.secret.as_bytes()),
            previous: self
                .previous_secrets
                .iter()
                .map(|secret| Hs256Key::new(secret.as_bytes()))
                .collect(),
        }
    }

    /// The rules a token's claims must meet: `JWT_LEEWAY`, `JWT_ISSUER`, `JWT_AUDIENCE`.
    pub fn validation(&self) -> Validation {
        Validation {
            leeway: self.leeway.as_secs(),
            issuer: self.issuer.clone(),
            audience: self.audience.clone(),
        }
    }
}

fn random_secret() -> Result<Secret, ConfigError> {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| ConfigError {
            key: "JWT_SECRET_KEY",
            problem: "not set, and the system random generator failed to make a temporary key"
                .into(),
        })?;
    Ok(Secret::new(bytes.to_vec()))
}

fn parse_bool(key: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(ConfigError {
            key,
            problem: format!("{value:?} is not a boolean; use true or false"),
        }),
    }
}

/// A whole number for `key`, anywhere in its type's range (`PORT`: 0 to 65535).
fn parse_number<T: TryFrom<u64>>(
    key: &'static str,
    value: Option<String>,
    default: T,
) -> Result<T, ConfigError> {
    parse_bounded(key, value, default, 0, type_max::<T>())
}

/// A whole number for `key` in `min..=max` (`max` at most `T`'s largest value). One outside says so
/// and states the range (`PORT=70000`: "70000 is out of range: use 0 to 65535"), so the fix is
/// obvious; only text that is not a number at all is called malformed.
fn parse_bounded<T: TryFrom<u64>>(
    key: &'static str,
    value: Option<String>,
    default: T,
    min: u64,
    max: u64,
) -> Result<T, ConfigError> {
    let Some(v) = value else {
        return Ok(default);
    };
    let out_of_range = |shown: &str| {
        let range = if max == u64::MAX && min > 0 {
            format!("use at least {min}")
        } else {
            format!("use {min} to {max}")
        };
        ConfigError {
            key,
            problem: format!("{shown} is out of range: {range}"),
        }
    };
    let digits = v.trim();
    let n: u64 = digits.parse().map_err(|_| {
        // All digits, but more than a u64 holds: too big, not malformed.
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            out_of_range(digits)
        } else {
            ConfigError {
                key,
                problem: format!("{v:?} is not a valid non-negative whole number"),
            }
        }
    })?;
    if !(min..=max).contains(&n) {
        return Err(out_of_range(&n.to_string()));
    }
    T::try_from(n).map_err(|_| out_of_range(&n.to_string()))
}

/// The largest value of the unsigned type `T`: the largest `2^k - 1` that converts. Keeps
/// [`parse_number`] generic over `TryFrom<u64>` alone; at most 64 cheap conversions, once per key.
fn type_max<T: TryFrom<u64>>() -> u64 {
    (0..64)
        .map(|shift| u64::MAX >> shift)
        .find(|&max| T::try_from(max).is_ok())
        .unwrap_or(0)
}

/// A positive number of seconds.
fn seconds(
    key: &'static str,
    value: Option<String>,
    default: u64,
) -> Result<Duration, ConfigError> {
    parse_bounded(key, value, default, 1, u64::MAX).map(Duration::from_secs)
}

/// A number with a floor below which the server could not work (e.g. too few headers for a browser).
fn at_least(
    key: &'static str,
    value: Option<String>,
    default: usize,
    minimum: usize,
) -> Result<usize, ConfigError> {
    // usize is at most 64 bits on every target Rust supports, so these conversions are exact.
    parse_bounded(key, value, default, minimum as u64, type_max::<usize>())
}

/// `HOST`: an IP address or `localhost`, checked here so that a typo is a configuration error
/// naming the key rather than a failed bind (or a DNS lookup) later. A listen address is an address
/// of this machine, so other names are refused rather than resolved.
fn parse_host(value: Option<String>) -> Result<String, ConfigError> {
    let Some(value) = value else {
        return Ok("127.0.0.1".to_string());
    };
    let host = value.trim();
    let unbracketed = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    match unbracketed.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => Ok(ip.to_string()),
        Ok(std::net::IpAddr::V6(ip)) => Ok(format!("[{ip}]")),
        Err(_) if host.eq_ignore_ascii_case("localhost") => Ok("localhost".to_string()),
        Err(_) => Err(ConfigError {
            key: "HOST",
            problem: format!(
                "{host:?} is not an IP address or localhost; use an address of this machine: \
                 127.0.0.1 (this machine only, the default), 0.0.0.0 (every IPv4 interface) or \
                 :: (every interface)"
            ),
        }),
    }
}

fn parse_cors(value: Option<String>) -> Result<CorsOrigins, ConfigError> {
    let Some(value) = value else {
        return Ok(CorsOrigins::Any);
    };
    if value.trim() == "*" {
        return Ok(CorsOrigins::Any);
    }
    let mut origins = Vec::new();
    for origin in value.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        // An Origin header is `scheme "://" host [":" port]`: no path, no trailing slash (RFC 6454 §7).
        let not_an_origin = |why: String| ConfigError {
            key: "CORS_ORIGINS",
            problem: format!(
                "{origin:?} is not an origin: {why}; use a comma-separated list like \
                 https://app.example.com,http://localhost:3000, or *"
            ),
        };
        let Some((scheme, rest)) = origin.split_once("://") else {
            return Err(not_an_origin(
                "it needs a scheme, http:// or https://".into(),
            ));
        };
        if scheme != "http" && scheme != "https" {
            return Err(not_an_origin(format!(
                "the scheme is {scheme:?}; browsers send http or https"
            )));
        }
        if !origin.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(not_an_origin(
                "it has spaces or non-ASCII characters".into(),
            ));
        }
        let authority = rest.split('/').next().unwrap_or_default();
        if authority.is_empty() {
            return Err(not_an_origin("it has no host".into()));
        }
        if authority.len() < rest.len() {
            // Typically pasted from an address bar, with its trailing "/": say what to write.
            return Err(ConfigError {
                key: "CORS_ORIGINS",
                problem: format!(
                    "{origin:?} has a path; an origin is scheme://host[:port], with no path, \
                     not even \"/\": use {scheme}://{authority}"
                ),
            });
        }
        origins.push(origin.to_string());
    }
    Ok(CorsOrigins::List(origins))
}

#[cfg(test)]
mod tests {
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
        let err =
            config(&[("CORS_ORIGINS", "https://a.example, https://b.example/app/")]).unwrap_err();
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
}
