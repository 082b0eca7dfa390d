//! The application: what every handler shares ([`AppState`]), how it is built from a
//! [`Config`] ([`App::from_config`]), and reloading its users live ([`App::reload_users`]). The request path through it is in [`crate::http::service`];
//! the handlers read the state from here, so neither they nor this module reach back into the server.

use std::path::PathBuf;
use std::sync::Arc;

use crate::auth::introspection::Clients;
use crate::auth::password_checks::PasswordChecks;
use crate::auth::sessions;
use crate::auth::throttle::LoginThrottle;
use crate::auth::tokens::Tokens;
use crate::config::Config;
use crate::config::TrustedProxies;
use crate::http::cookies::CookiePolicy;
use crate::http::cors::Cors;
use crate::http::linger::Linger;
use crate::http::request::BodyLimits;
use crate::http::router;
use crate::metrics::Metrics;
use crate::readiness::{Readiness, Report};
use crate::store::denylist::Denylist;
use crate::store::users::{LiveUsers, UserStore, UsersError};

/// Everything the handlers share, built once at start-up. All of it is read-only afterwards except
/// the denylist (sharded so lookups don't contend), the login counters, the bcrypt queue, and the
/// users, swapped whole by [`App::reload_users`].
#[derive(Debug)]
pub struct AppState {
    pub tokens: Tokens,
    pub users: LiveUsers,
    /// Where the users came from, for reloading; `None` for the demo users or a store handed in.
    pub users_file: Option<PathBuf>,
    pub denylist: Denylist,
    pub password_checks: PasswordChecks,
    pub login_throttle: LoginThrottle,
    pub refresh_rotation: bool,
    pub trusted_proxies: TrustedProxies,
    pub cors: Cors,
    /// `Authorization: Bearer` is a token location (`JWT_TOKEN_LOCATION` has `headers`).
    pub bearer_headers: bool,
    /// The token cookies and their CSRF rules, when cookies are a token location.
    pub cookies: Option<CookiePolicy>,
    pub body_limits: BodyLimits,
    /// The configured head limits, checked here so a browser gets a JSON 431 with CORS headers
    /// (hyper's own limits are set above these; see `server::ConnectionSettings`).
    pub max_headers: usize,
    pub max_header_bytes: usize,
    /// How much of an unread request body to drain before closing ([`crate::http::linger`]).
    pub linger: Linger,
    /// The counters behind `/metrics` (`METRICS=off`: they count nothing).
    pub metrics: Metrics,
    /// Where `/metrics` is served.
    pub metrics_served: MetricsServed,
    /// The checks of `/health/ready` beyond the users: the journal's, with `DENYLIST_FILE`; a
    /// shared backend adds its own ([`Readiness::add`]) when the app is built.
    pub readiness: Readiness,
    /// Who may call `/introspect` (`INTROSPECTION_CLIENTS`).
    pub introspection: Clients,
    /// How long verifiers may cache `/.well-known/jwks.json` (`JWKS_MAX_AGE`).
    pub jwks_max_age: std::time::Duration,
}

/// Where `/metrics` is served (`METRICS`, `METRICS_ADDR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsServed {
    /// Nowhere: `METRICS=off`.
    Off,
    /// On the main listener, beside the API (the default).
    Main,
    /// Only on the `METRICS_ADDR` listener; the main one answers 404.
    Separate,
}

/// Which listener an [`App`] answers on: the API's, or the `METRICS_ADDR` one, which serves
/// `/metrics` alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Listener {
    Api,
    Metrics,
}

impl AppState {
    /// Every readiness verdict: the users first, then [`AppState::readiness`]'s checks.
    pub async fn readiness_report(&self) -> Report {
        let users = if self.users.current().is_empty() {
            Err("no users".into())
        } else {
            Ok(())
        };
        self.readiness.report(vec![("users", users)]).await
    }
}

/// Why the app could not be built from its configuration.
#[derive(Debug)]
pub enum BuildError {
    Users(UsersError),
    Denylist(std::path::PathBuf, std::io::Error),
    /// `JWT_KEYS_DIR` could not be read as a key set.
    Keys(crate::auth::keys::KeysError),
    /// `REDIS_URL` was not reachable within `REDIS_CONNECT_TIMEOUT` (the message says why).
    Redis(String),
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildError::Users(e) => write!(f, "configuration error: USERS_FILE: {e}"),
            BuildError::Denylist(path, e) => write!(
                f,
                "configuration error: DENYLIST_FILE: cannot use {}: {e} \
                 (it must be a readable and writable file in an existing directory)",
                path.display()
            ),
            BuildError::Redis(e) => write!(f, "cannot start: {e}"),
            BuildError::Keys(e) => write!(f, "configuration error: JWT_KEYS_DIR: {e}"),
        }
    }
}

impl std::error::Error for BuildError {}

/// Why [`App::reload_users`] kept the users it had.
#[derive(Debug)]
pub enum ReloadError {
    /// No `USERS_FILE`: the demo users (or a store handed to [`App::new`]) have nothing to reload.
    NoUsersFile,
    /// The file is unreadable or invalid.
    Users(UsersError),
    /// The sessions of a changed user could not be ended durably; nothing was swapped.
    Journal(crate::store::denylist::JournalError),
    /// The loading task failed (it panicked).
    Task,
}

impl std::fmt::Display for ReloadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReloadError::NoUsersFile => f.write_str("USERS_FILE is not set: nothing to reload"),
            ReloadError::Users(e) => write!(f, "USERS_FILE: {e}"),
            ReloadError::Journal(e) => write!(f, "{e}"),
            ReloadError::Task => f.write_str("the users file could not be loaded"),
        }
    }
}

impl std::error::Error for ReloadError {}

/// What a reload changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsersReloaded {
    /// Users served now.
    pub users: usize,
    /// Users whose password changed: every older session of theirs was ended.
    pub changed: Vec<String>,
    /// Users new to the file. Any older session under the name (of a user removed before) was
    /// ended, so adding a name back does not bring its old tokens back to life.
    pub added: Vec<String>,
    /// Users no longer in the file: their tokens get 404 `User not found`.
    pub removed: Vec<String>,
}

/// The application as a hyper service. Cloning is cheap (one reference count).
#[derive(Debug, Clone)]
pub struct App {
    pub(crate) state: Arc<AppState>,
    /// Where the routes live when mounted inside a host's server (`/auth` → `/auth/login`); empty
    /// for the standalone server.
    pub(crate) prefix: Arc<str>,
    pub(crate) listener: Listener,
}

impl App {
    /// Builds the app from a configuration, a user store and a denylist; with `JWT_KEYS_DIR`, the
    /// key set is read here, which is why this can fail.
    pub fn new(config: &Config, users: UserStore, denylist: Denylist) -> Result<Self, BuildError> {
        Self::build(config, users, None, denylist)
    }

    fn build(
        config: &Config,
        users: UserStore,
        users_file: Option<PathBuf>,
        denylist: Denylist,
    ) -> Result<Self, BuildError> {
        let tokens = Tokens::from_config(config).map_err(BuildError::Keys)?;
        let cookies = CookiePolicy::new(config);
        let mut cors = Cors::new(&config.cors_origins);
        if let Some(cookies) = &cookies {
            cors = cors.with_credentials(&cookies.csrf_header_names());
        }
        // With a shared denylist (Redis), the login counters are shared through it too.
        let login_throttle = LoginThrottle::new(
            config.login_failures_per_user,
            config.login_failures_per_address,
            config.login_failure_window,
        )
        .shared_with(&denylist);
        let metrics = Metrics::new(router::labels(), config.metrics);
        let mut readiness = Readiness::default();
        if let Some(journal) = denylist.journal_health() {
            readiness.add(journal);
        }
        #[cfg(feature = "redis")]
        if let Some(shared) = denylist.shared_health() {
            readiness.add(shared);
        }
        Ok(App {
            prefix: Arc::from(""),
            listener: Listener::Api,
            state: Arc::new(AppState {
                tokens,
                users: LiveUsers::new(users),
                users_file,
                denylist,
                password_checks: PasswordChecks::new(
                    config.password_check_concurrency,
                    config.password_check_queue,
                    config.password_check_nice,
                    config.password_check_wait,
                )
                .counting_in(metrics.limit_hits()),
                login_throttle,
                refresh_rotation: config.refresh_rotation,
                trusted_proxies: config.trusted_proxies.clone(),
                cors,
                bearer_headers: config.token_location.headers,
                cookies,
                body_limits: BodyLimits {
                    max_bytes: config.max_body_bytes,
                    timeout: config.header_read_timeout,
                },
                max_headers: config.max_headers,
                max_header_bytes: config.max_header_bytes,
                linger: Linger {
                    max_bytes: config.linger_bytes,
                    timeout: config.linger_timeout,
                },
                metrics,
                metrics_served: match (config.metrics, config.metrics_addr) {
                    (false, _) => MetricsServed::Off,
                    (true, None) => MetricsServed::Main,
                    (true, Some(_)) => MetricsServed::Separate,
                },
                readiness,
                introspection: Clients::new(&config.keys.introspection_clients),
                jwks_max_age: config.keys.jwks_max_age,
            }),
        })
    }

    /// Builds the app: loads `USERS_FILE` (or the demo users) and opens `DENYLIST_FILE` (or keeps
    /// revocations in memory).
    pub fn from_config(config: &Config) -> Result<Self, BuildError> {
        let users = match &config.users_file {
            Some(path) => UserStore::load(path).map_err(BuildError::Users)?,
            None => UserStore::demo(),
        };
        let denylist = match &config.denylist_file {
            Some(path) => Denylist::open(path, crate::jwt::now())
                .map_err(|e| BuildError::Denylist(path.clone(), e))?,
            None => Self::shared_denylist(config)?.unwrap_or_else(Denylist::in_memory),
        };
        Self::build(config, users, config.users_file.clone(), denylist)
    }

    /// With `REDIS_URL`, the replica of the shared revocations (docs/scaling.md).
    #[cfg(feature = "redis")]
    fn shared_denylist(config: &Config) -> Result<Option<Denylist>, BuildError> {
        let Some(settings) = &config.redis else {
            return Ok(None);
        };
        let denylist = Denylist::shared(settings, crate::jwt::now()).map_err(|e| {
            BuildError::Redis(match e {
                // Waiting would not have mended it: the reason, at once.
                crate::store::redis::Error::Config(reason) => {
                    format!("Redis at {}: {reason}", settings.url)
                }
                e => format!(
                    "Redis at {} not reachable within {} s (REDIS_CONNECT_TIMEOUT): {e}",
                    settings.url,
                    settings.connect_timeout.as_secs()
                ),
            })
        })?;
        Ok(Some(denylist))
    }

    /// Without the `redis` feature `Config` refuses `REDIS_URL`, so there is never a shared store.
    #[cfg(not(feature = "redis"))]
    fn shared_denylist(_: &Config) -> Result<Option<Denylist>, BuildError> {
        Ok(None)
    }

    /// Reloads `USERS_FILE` (the binary calls this on SIGHUP). The new users replace the old ones at
    /// once, for every request; a file that can't be loaded changes nothing. Every session of a user
    /// whose bcrypt hash changed (a password reset) or who is new to the file is ended first, with a
    /// cutoff as `/logout/all` sets, made durable before the swap.
    pub async fn reload_users(&self) -> Result<UsersReloaded, ReloadError> {
        let state = &self.state;
        let path = state.users_file.clone().ok_or(ReloadError::NoUsersFile)?;
        // Reading and checking the file may hash (a dummy of another cost): off the async workers.
        let new = tokio::task::spawn_blocking(move || UserStore::load(&path))
            .await
            .map_err(|_| ReloadError::Task)?
            .map_err(ReloadError::Users)?;
        let old = state.users.current();
        let mut changed = Vec::new();
        let mut removed = Vec::new();
        for name in old.names() {
            match new.hash(name) {
                Some(hash) if Some(hash) == old.hash(name) => {}
                Some(_) => changed.push(name.to_string()),
                None => removed.push(name.to_string()),
            }
        }
        let mut added: Vec<String> = new
            .names()
            .filter(|name| !old.contains(name))
            .map(str::to_string)
            .collect();
        changed.sort();
        added.sort();
        removed.sort();
        // Cut off before the swap: a login that sees a new hash also sees its user's cutoff, and
        // starts its session after it (handlers/tokens.rs, `issue_session`).
        let now = crate::jwt::now();
        let at_ms = sessions::now_ms();
        let until = now.saturating_add(state.tokens.session_lifetime());
        for name in changed.iter().chain(&added) {
            state
                .denylist
                .cut_off(name, at_ms, until, now)
                .await
                .map_err(ReloadError::Journal)?;
            state.metrics.revoked(crate::metrics::Revoked::User);
        }
        let users = new.len();
        state.users.replace(new);
        Ok(UsersReloaded {
            users,
            changed,
            added,
            removed,
        })
    }

    /// Rereads `JWT_KEYS_DIR` (the binary calls this on SIGHUP): the new key set signs, verifies and
    /// is published at once; one that can't be read changes nothing. `Ok(None)` without a key set.
    pub fn reload_keys(
        &self,
    ) -> Result<Option<Arc<crate::auth::keys::Published>>, crate::auth::keys::KeysError> {
        self.state.tokens.reload_keys()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// This app as the `METRICS_ADDR` listener serves it: `/metrics` and nothing else.
    pub fn metrics_listener(&self) -> App {
        App {
            listener: Listener::Metrics,
            ..self.clone()
        }
    }

    /// Serves the routes under `prefix` instead of at the root: with `"/auth"`, `/auth/login`,
    /// `/auth/protected`, ... and `/auth` or `/auth/` for the welcome route. Other paths are 404
    /// (or, through [`App::mount`], the host's).
    pub fn with_prefix(mut self, prefix: &str) -> Self {
        self.prefix = Arc::from(prefix.trim_end_matches('/'));
        self
    }
}
