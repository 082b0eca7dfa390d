//! hyperjwt: a minimal, fast, secure JWT authentication HTTP API on raw hyper 1.x.
//!
//! # The request's journey
//!
//! Each folder is one stage, and dependencies point one way, down the journey:
//!
//! ```text
//! TcpListener ─> http/server.rs       accept loop, graceful shutdown; http/connections.rs: the caps
//!                │                    (total, per address; the idlest waiting connection makes room),
//!                │                    http/client_addr.rs: who is calling
//!                │                    http/listener.rs: the listening socket and its queue
//!                └─> http/service.rs  the wrapper around every request: its id (http/request_id.rs),
//!                    │                head limits, CORS (http/cors.rs), lingering close
//!                    │                (http/linger.rs), panic → 500, error → JSON (http/error.rs),
//!                    │                counting (metrics/), access log (logger/); http/mount.rs puts
//!                    │                it beside a host's own service
//!                    └─> http/router.rs   (method, path) → route; 404, 405 + Allow
//!                        └─> handlers/    root · login · refresh · logout · protected · health
//!                            │            (readiness.rs: the checks) · metrics,
//!                            │            reading with http/request.rs and http/cookies.rs,
//!                            │            answering with http/response.rs
//!                            ├─> auth/    tokens.rs (this server's tokens), sessions.rs (families
//!                            │            and user cutoffs), password_checks.rs (bounded bcrypt
//!                            │            pool), throttle.rs (failed logins), csrf.rs (the double
//!                            │            submit for tokens in cookies)
//!                            ├─> store/   users.rs, users_file.rs, atomic_file.rs, denylist/, and
//!                            │            redis/ (feature `redis`: the store instances share)
//!                            └─> jwt/     HS256 compact JWS/JWT: sign, and the one ordered
//!                                         verification pipeline (no HTTP, nothing else of the crate)
//! ```
//!
//! Around it: [`app`](App) holds what the handlers share and builds it from a [`Config`]
//! ([`config`]: the environment and `.env`, one clear error per bad key); `calendar.rs` turns Unix
//! time into dates for the logs and the tools; `bytes.rs` writes hex and the 16-byte digest that
//! keys tables by username; `src/bin/hyperjwt/` is the binary and its command-line tools.
//! `docs/architecture.md` has the module table, `docs/http.md` the contract (cited in the code as
//! `docs/http.md §N`), `docs/jwt.md` a token taken apart byte by byte.
//!
//! # Public API
//!
//! What an embedding host and a learner need: [`App`], [`Config`], [`ApiError`], [`server`],
//! [`jwt`], [`Mounted`], [`logger`] and [`readiness`] (a backend's own check for `/health/ready`).
//! The other modules are public only for the binary, the
//! benches and the fuzz targets; they are hidden from these docs and are not a stable interface.
//!
//! # Embedding
//!
//! hyperjwt is a library first; the `hyperjwt` binary is a thin user of it. Three ways in:
//!
//! - **The whole server on your listener**: build an [`App`] from a [`Config`] and hand it to
//!   [`server::serve`], which runs hyperjwt's accept loop (limits, timeouts, graceful shutdown):
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = hyperjwt::Config::with_secret("a-secret-of-at-least-thirty-two-bytes")?;
//! let app = hyperjwt::App::from_config(&config)?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let settings = hyperjwt::server::ConnectionSettings::from_config(&config);
//! hyperjwt::server::serve(listener, app, settings, std::future::pending()).await;
//! # Ok(()) }
//! ```
//!
//! - **Your own connections**: [`App`] is a hyper `Service`, so serve it on any connection you
//!   accepted yourself: `settings.http1().serve_connection(TokioIo::new(stream), app)`.
//! - **Beside your own routes**: [`App::mount`] answers only hyperjwt's routes (optionally under a
//!   prefix, [`App::with_prefix`]) and passes every other request to your service; your routes can
//!   require hyperjwt's tokens with [`App::authenticated_user`]. See `examples/embed.rs`.

mod app;
pub mod config;
pub mod jwt;
pub mod logger;
pub mod readiness;

#[doc(hidden)]
pub mod auth;
#[doc(hidden)]
pub mod bytes;
#[doc(hidden)]
pub mod calendar;
#[doc(hidden)]
pub mod handlers;
#[doc(hidden)]
pub mod http;
#[doc(hidden)]
pub mod metrics;
#[doc(hidden)]
pub mod store;

/// Serving an [`App`]: hyperjwt's accept loop with its limits, timeouts and graceful shutdown, the
/// connection settings, and the runtime the binary uses.
pub mod server {
    pub use crate::http::server::{
        ConnectionSettings, RunningServer, SHUTDOWN_GRACE, StartError, run, run_app, runtime,
        serve, spawn_local,
    };
}

pub use app::{App, AppState, BuildError, MetricsServed, ReloadError, UsersReloaded};
pub use config::{Config, ConfigError};
pub use http::error::ApiError;
pub use http::mount::{Mounted, MountedFuture};
