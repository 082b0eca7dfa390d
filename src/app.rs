//! The application: what every handler shares ([`AppState`]) and how it is built from a
//! [`Config`] ([`App::from_config`]). The request path through it is in [`crate::http::service`];
//! the handlers read the state from here, so neither they nor this module reach back into the server.

use std::sync::Arc;

use crate::auth::password_checks::PasswordChecks;
use crate::auth::throttle::LoginThrottle;
use crate::auth::tokens::Tokens;
use crate::config::Config;
use crate::config::TrustedProxies;
use crate::http::cors::Cors;
use crate::http::linger::Linger;
use crate::http::request::BodyLimits;
use crate::store::denylist::Denylist;
use crate::store::users::{UserStore, UsersError};

/// Everything the handlers share, built once at start-up. All of it is read-only afterwards except
/// the denylist, which is sharded so lookups don't contend.
#[derive(Debug)]
pub struct AppState {
    pub tokens: Tokens,
    pub users: Arc<UserStore>,
    pub denylist: Denylist,
    pub password_checks: PasswordChecks,
    pub login_throttle: LoginThrottle,
    pub refresh_rotation: bool,
    pub trusted_proxies: TrustedProxies,
    pub cors: Cors,
    pub body_limits: BodyLimits,
    /// The configured head limits, checked here so a browser gets a JSON 431 with CORS headers
    /// (hyper's own limits are set above these; see `server::ConnectionSettings`).
    pub max_headers: usize,
    pub max_header_bytes: usize,
    /// How much of an unread request body to drain before closing ([`crate::http::linger`]).
    pub linger: Linger,
}

/// Why the app could not be built from its configuration.
#[derive(Debug)]
pub enum BuildError {
    Users(UsersError),
    Denylist(std::path::PathBuf, std::io::Error),
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
        }
    }
}

impl std::error::Error for BuildError {}

/// The application as a hyper service. Cloning is cheap (one reference count).
#[derive(Debug, Clone)]
pub struct App {
    pub(crate) state: Arc<AppState>,
    /// Where the routes live when mounted inside a host's server (`/auth` → `/auth/login`); empty
    /// for the standalone server.
    pub(crate) prefix: Arc<str>,
}

impl App {
    /// Builds the app from a configuration, a user store and a denylist.
    pub fn new(config: &Config, users: UserStore, denylist: Denylist) -> Self {
        App {
            prefix: Arc::from(""),
            state: Arc::new(AppState {
                tokens: Tokens::new(config),
                users: Arc::new(users),
                denylist,
                password_checks: PasswordChecks::new(
                    config.password_check_concurrency,
                    config.password_check_queue,
                    config.password_check_nice,
                ),
                login_throttle: LoginThrottle::new(
                    config.login_failures_per_user,
                    config.login_failures_per_address,
                    config.login_failure_window,
                ),
                refresh_rotation: config.refresh_rotation,
                trusted_proxies: config.trusted_proxies.clone(),
                cors: Cors::new(config.cors_origins.clone()),
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
            }),
        }
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
            None => Denylist::in_memory(),
        };
        Ok(Self::new(config, users, denylist))
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves the routes under `prefix` instead of at the root: with `"/auth"`, `/auth/login`,
    /// `/auth/protected`, ... and `/auth` or `/auth/` for the welcome route. Other paths are 404
    /// (or, through [`App::mount`], the host's).
    pub fn with_prefix(mut self, prefix: &str) -> Self {
        self.prefix = Arc::from(prefix.trim_end_matches('/'));
        self
    }
}
