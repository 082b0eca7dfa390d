//! Who is calling, for the handlers that need it (throttling at `/login`, the security log at
//! `/refresh`): the TCP peer hyperjwt's server hands over around each request, or the one an
//! embedder serving its own connections put into the request's extensions, then the client a
//! trusted proxy names in `X-Forwarded-For` (`TRUSTED_PROXIES`).

use std::future::Future;
use std::net::IpAddr;

use hyper::HeaderMap;
use hyper::http::Extensions;
use hyper::http::request::Parts;
use tokio::task::futures::TaskLocalFuture;

use crate::app::AppState;
use crate::http::client_addr::ClientAddr;

tokio::task_local! {
    /// The TCP peer of the request being served, set by hyperjwt's server around each request.
    static PEER: ClientAddr;
}

/// Runs `call` (a service's `call` for one request), and then the future it returns, with `peer`
/// as the address the request came from.
///
/// The server hands the peer over this way rather than in the request's extensions: `http`'s
/// `Extensions` allocates a map, its table and a box for the value on the first insert, three
/// allocations per request for the one route that reads it. A task-local scope allocates nothing.
pub fn with_peer<F: Future>(
    peer: ClientAddr,
    call: impl FnOnce() -> F,
) -> TaskLocalFuture<ClientAddr, F> {
    let future = PEER.sync_scope(peer, call);
    PEER.scope(peer, future)
}

/// The client's address for a request with these parts, if the server (or the embedder) said who
/// the peer is.
pub fn client(state: &AppState, parts: &Parts) -> Option<IpAddr> {
    client_of(state, &parts.headers, &parts.extensions)
}

/// `client` from a request's headers and extensions (the wrapper's access log, which has the
/// request itself rather than its parts).
pub fn client_of(state: &AppState, headers: &HeaderMap, extensions: &Extensions) -> Option<IpAddr> {
    extensions
        .get::<ClientAddr>()
        .copied()
        .or_else(|| PEER.try_with(|peer| *peer).ok())
        .map(|peer| state.trusted_proxies.client(peer.0, headers))
}
