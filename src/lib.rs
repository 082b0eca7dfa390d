//! hyperjwt: a minimal, fast, secure JWT authentication HTTP API on raw hyper 1.x.
//!
//! # The request's journey
//!
//! ```text
//! TcpListener ──> connection task (hyper http1, limits, timeouts)        server.rs
//!                    └─> App service: CORS, preflight, error→JSON,       service.rs, cors.rs, error.rs
//!                        panic→500, access log
//!                           └─> Router: (method, path) → handler;        router.rs
//!                               404 / 405 + Allow
//!                                  └─> handlers: root · login ·          handlers/
//!                                      refresh · logout · protected · health
//!                                         ├─> jwt      HS256 sign/verify jwt/ (via tokens.rs)
//!                                         ├─> users    bcrypt on the     users.rs
//!                                         │            blocking pool
//!                                         └─> denylist revoked jti,      denylist.rs
//!                                                      journaled, pruned
//! ```
//!
//! Dependencies point one way, down the journey: [`jwt`] knows nothing of HTTP, so it can be read,
//! tested and benchmarked alone.
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
//!   require hyperjwt's tokens with [`App::authenticated_user`]. See [`mount`] and
//!   `examples/embed.rs`.

pub mod atomic_file;
pub mod calendar;
pub mod client_addr;
pub mod config;
pub mod connections;
pub mod cors;
pub mod denylist;
pub mod error;
pub mod handlers;
pub mod http;
pub mod jwt;
pub mod linger;
pub mod logger;
pub mod mount;
pub mod password_checks;
pub mod router;
pub mod server;
pub mod service;
pub mod throttle;
pub mod tokens;
pub mod users;
pub mod users_file;

pub use config::{Config, ConfigError};
pub use error::ApiError;
pub use service::App;
