//! Configuration from environment variables (docs/http.md §5), read once at start-up.
//!
//! The binary reads `.env` without touching the process environment and calls
//! [`Config::from_lookup`] with "environment first, then `.env`", remembering where each value came
//! from for its start-up log (`src/bin/hyperjwt/main.rs`). Embedders call [`Config::from_env`], after
//! `dotenvy::dotenv()` if they want a `.env`; tests call [`Config::from_lookup`] with a map. Every bad value stops start-up with a [`ConfigError`]
//! that names the key and says how to fix it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use log::LevelFilter;

use crate::jwt::{Hs256Key, KeyRing, Validation};
use crate::logger::Format as LogFormat;
use values::{
    at_least, parse_bool, parse_bounded, parse_cors, parse_host, parse_log_format,
    parse_metrics_addr, parse_number, random_secret, seconds,
};

mod cookies;
mod keys;
mod kinds;
mod known;
mod proxies;
// Without the feature a `REDIS_URL` is refused whole, so their parsers are left out of that
// binary (they are still unit-tested in every build).
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
mod redis;
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
mod redis_url;
mod values;

pub use cookies::{CookieSettings, SameSite, TokenLocation};
pub use keys::{KeySettings, MIN_CLIENT_SECRET_LEN};
pub use kinds::{ConfigError, CorsOrigins, Secret};
pub use known::{KNOWN_KEYS, Unknown, unknown_keys};
pub use proxies::{BadProxyEntry, TrustedProxies};
pub use redis::{DEFAULT_KEY_PREFIX, RedisSettings};
pub use redis_url::{Node as RedisNode, RedisUrl, Topology as RedisTopology};

/// RFC 7518 §3.2: an HS256 key must be at least as long as the hash output, 256 bits.
pub const MIN_SECRET_LEN: usize = 32;

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
    /// True when `SECRET_KEY` is set to another key than `JWT_SECRET_KEY`, which wins: it signs
    /// nothing and verifies nothing (a start-up warning says so).
    pub secret_key_unused: bool,
    /// Older keys still accepted for verification, never for signing (`JWT_PREVIOUS_SECRET_KEYS`).
    pub previous_secrets: Vec<Secret>,
    /// Public-key signing, the JWKS and introspection (`JWT_ALGORITHM`, `JWT_KEYS_DIR`, ...).
    pub keys: KeySettings,
    /// `/refresh` also returns a new refresh token and revokes the one presented.
    pub refresh_rotation: bool,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub leeway: Duration,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub cors_origins: CorsOrigins,
    /// Where a request may bring its token (`JWT_TOKEN_LOCATION`): headers, cookies, or both.
    pub token_location: TokenLocation,
    /// The cookie names, attributes and CSRF rules, used when `token_location.cookies` is on.
    pub cookies: CookieSettings,
    pub users_file: Option<PathBuf>,
    /// Where revocations are journaled so they survive restarts; `None` keeps them in memory only.
    pub denylist_file: Option<PathBuf>,
    /// The Redis several instances share (`REDIS_URL` and the other `REDIS_*` settings;
    /// docs/scaling.md); `None` keeps everything in this process.
    pub redis: Option<RedisSettings>,
    pub bcrypt_cost: u32,
    pub debug: bool,
    pub log_level: LevelFilter,
    /// How log lines are written (`LOG_FORMAT`): `text` (the default) or `json`, one object a line.
    pub log_format: LogFormat,
    /// Whether requests, logins, refusals, ... are counted and `/metrics` is served (`METRICS`).
    pub metrics: bool,
    /// A separate listener that alone serves `/metrics` (`METRICS_ADDR`); `None` serves it on the
    /// main listener.
    pub metrics_addr: Option<SocketAddr>,
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
    /// picks by core count ([`crate::http::server::runtime`]). bcrypt always runs on the dedicated
    /// password-check threads.
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
    /// Logins that may wait for a password-check slot; more wait up to `PASSWORD_CHECK_WAIT` for
    /// one, then get 503 (`PASSWORD_CHECK_QUEUE`).
    pub password_check_queue: usize,
    /// The nice value of the password-check threads (`PASSWORD_CHECK_NICE`, 0 to 19): 19, the
    /// default, lets logins use only the CPU everything else leaves; 0 runs them as any thread.
    pub password_check_nice: i32,
    /// How long a login that finds every password-check place taken waits for one before its 503
    /// (`PASSWORD_CHECK_WAIT`, seconds; 0 refuses at once).
    pub password_check_wait: Duration,
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

        // JWT_SECRET_KEY, then the original app's SECRET_KEY, then a random per-run key. Each one
        // that is set is checked, used or not: a short key is a mistake wherever it is written.
        let jwt_secret_key = get("JWT_SECRET_KEY");
        let secret_key = get("SECRET_KEY");
        for (key, value) in [
            ("JWT_SECRET_KEY", &jwt_secret_key),
            ("SECRET_KEY", &secret_key),
        ] {
            match value {
                Some(value) if value.len() < MIN_SECRET_LEN => {
                    return Err(ConfigError {
                        key,
                        problem: format!(
                            "the key is {} bytes; HS256 needs at least {MIN_SECRET_LEN} (RFC 7518 \
                             §3.2). Generate one with: openssl rand -hex 32",
                            value.len()
                        ),
                    });
                }
                _ => {}
            }
        }
        let secret_key_unused =
            matches!((&jwt_secret_key, &secret_key), (Some(a), Some(b)) if a != b);
        let (secret, secret_is_random) = match jwt_secret_key.or(secret_key) {
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
        let cors_origins = parse_cors(get("CORS_ORIGINS"))?;
        let (token_location, cookies) = cookies::parse(&get, &cors_origins)?;

        let connect_timeout = seconds("REDIS_CONNECT_TIMEOUT", get("REDIS_CONNECT_TIMEOUT"), 30)?;
        if !cfg!(feature = "redis") && get("REDIS_URL").is_some() {
            return Err(ConfigError {
                key: "REDIS_URL",
                problem: "this binary was built without Redis support; build it with \
                          `cargo build --release --features redis`"
                    .into(),
            });
        }
        let redis = if cfg!(feature = "redis") {
            redis::parse(&get, connect_timeout)?
        } else {
            None
        };
        let denylist_file = get("DENYLIST_FILE").map(PathBuf::from);
        if redis.is_some() && denylist_file.is_some() {
            return Err(ConfigError {
                key: "DENYLIST_FILE",
                problem: "set together with REDIS_URL: with Redis the revocations are kept \
                          (durably) by Redis; unset one of them (docs/scaling.md)"
                    .into(),
            });
        }

        let metrics = get("METRICS").map_or(Ok(true), |v| parse_bool("METRICS", &v))?;
        let metrics_addr = parse_metrics_addr(get("METRICS_ADDR"))?;
        if !metrics && metrics_addr.is_some() {
            return Err(ConfigError {
                key: "METRICS_ADDR",
                problem: "is set, but METRICS=off turns the metrics off: unset one of them".into(),
            });
        }

        let keys = keys::parse(&get)?;

        Ok(Config {
            keys,
            host: parse_host(get("HOST"))?,
            port: parse_number("PORT", get("PORT"), 5000)?,
            secret,
            secret_is_random,
            secret_key_unused,
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
            cors_origins,
            token_location,
            cookies,
            users_file: get("USERS_FILE").map(PathBuf::from),
            denylist_file,
            redis,
            bcrypt_cost,
            debug,
            log_level,
            log_format: parse_log_format(get("LOG_FORMAT"))?,
            metrics,
            metrics_addr,
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
            password_check_nice: parse_bounded(
                "PASSWORD_CHECK_NICE",
                get("PASSWORD_CHECK_NICE"),
                19,
                0,
                19,
            )?,
            password_check_wait: Duration::from_secs(parse_bounded(
                "PASSWORD_CHECK_WAIT",
                get("PASSWORD_CHECK_WAIT"),
                2,
                0,
                3600,
            )?),
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

    /// Settings that work but are risky, one line each for the start-up log.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.secret_key_unused {
            warnings.push(
                "SECRET_KEY is set, and so is JWT_SECRET_KEY, which wins: SECRET_KEY signs and \
                 verifies nothing; unset it (or list it in JWT_PREVIOUS_SECRET_KEYS if tokens \
                 signed with it must still verify)"
                    .to_string(),
            );
        }
        if self.token_location.cookies && !self.cookies.secure {
            let loopback = matches!(self.host.as_str(), "localhost" | "[::1]")
                || self.host.starts_with("127.");
            warnings.push(format!(
                "JWT_COOKIE_SECURE=false: token cookies are also sent over plain HTTP{}; \
                 only for local development (browsers accept Secure cookies from \
                 http://localhost and http://127.0.0.1 anyway)",
                if loopback {
                    String::new()
                } else {
                    format!(", and HOST={} is reachable from other machines", self.host)
                }
            ));
        }
        if self.token_location.cookies && !self.cookies.csrf_protect {
            warnings.push(
                "JWT_COOKIE_CSRF_PROTECT=false: any site the browser visits can make \
                 state-changing requests with the token cookies (SameSite alone does not stop \
                 same-site pages)"
                    .to_string(),
            );
        }
        warnings
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

#[cfg(test)]
mod tests;
