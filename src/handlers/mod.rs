//! The endpoint handlers, one module each, and [`dispatch`], which starts the one a route names.
//!
//! Handlers that need no I/O (`/`, `/healthz`, `/health/live`, `/metrics`, `/protected`,
//! `/.well-known/jwks.json`: token
//! verification is pure CPU work of a microsecond) answer synchronously, so the common path
//! allocates no future at all. `/login` (body, bcrypt on the password-check threads), `/refresh`,
//! `/logout` and `/logout/all` (revocations wait for the journal's fsync), `/introspect` (its form
//! body) and `/health/ready` (its checks may ask a backend) are asynchronous.

mod authenticate;
mod health;
mod introspect;
mod json;
mod jwks;
mod login;
mod logout;
mod metrics;
mod peer;
mod protected;
mod refresh;
mod root;
mod tokens;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use hyper::header::HeaderMap;
use hyper::{Method, Request, Response};

use crate::app::AppState;
use crate::http::error::ApiError;
use crate::http::request::RequestBody;
use crate::http::response::Body;
use crate::http::router::Route;

pub use login::parse_credentials;
pub use peer::{PeerScope, client_of};
pub(crate) use protected::authenticated_user;

/// A handler that takes the whole request: the future of its answer.
pub type Handler = Pin<Box<dyn Future<Output = Result<Response<Body>, ApiError>> + Send>>;

/// The answer of `route`'s handler if it needs only the request's headers (`/`, `/healthz`,
/// `/protected`), or `None` if the handler takes the whole request ([`dispatch`]). The wrapper
/// tries this first: a request answered from its head stays the wrapper's, so nothing of it has
/// to be copied for the log line and CORS.
pub fn answer_from_head(
    state: &AppState,
    route: Route,
    method: &Method,
    headers: &HeaderMap,
) -> Option<Result<Response<Body>, ApiError>> {
    match route {
        Route::Root => Some(Ok(root::welcome())),
        Route::Health => Some(Ok(health::ok())),
        Route::Live => Some(Ok(health::live())),
        Route::Metrics => Some(Ok(metrics::exposition(state))),
        Route::Protected => Some(protected::who_am_i(state, method, headers)),
        Route::Jwks => Some(Ok(jwks::jwks(state, headers))),
        Route::Login
        | Route::Refresh
        | Route::Logout
        | Route::LogoutAll
        | Route::Ready
        | Route::Introspect => None,
    }
}

/// Starts the handler of a `route` that takes the whole request. The wrapper calls it only for
/// the routes [`answer_from_head`] had no answer for: it has already asked.
pub fn dispatch<B: RequestBody>(
    state: &Arc<AppState>,
    route: Route,
    request: Request<B>,
) -> Handler {
    let state = Arc::clone(state);
    match route {
        // The peer is taken now, while the server's call names it; these handlers read it later.
        Route::Login => Box::pin(login::login(state, request, peer::current())),
        Route::Refresh => Box::pin(refresh::refresh(
            state,
            request.into_parts().0,
            peer::current(),
        )),
        Route::Logout => Box::pin(logout::logout(state, request)),
        Route::LogoutAll => Box::pin(logout::logout_all(state, request.into_parts().0)),
        Route::Ready => Box::pin(health::ready(state)),
        Route::Introspect => Box::pin(introspect::introspection(state, request)),
        // Answered from the head by the wrapper, so never dispatched.
        Route::Root
        | Route::Health
        | Route::Live
        | Route::Metrics
        | Route::Protected
        | Route::Jwks => Box::pin(std::future::ready(Err(ApiError::internal()))),
    }
}
