//! Who is calling, for the handlers that need it (throttling at `/login`, the security log at
//! `/refresh`): the TCP peer hyperjwt's server hands over while it calls the service for a request,
//! or the one an embedder serving its own connections put into the request's extensions, then the
//! client a trusted proxy names in `X-Forwarded-For` (`TRUSTED_PROXIES`).

use std::net::IpAddr;

use hyper::HeaderMap;
use hyper::http::Extensions;
use hyper::http::request::Parts;

use crate::app::AppState;
use crate::http::client_addr::ClientAddr;

tokio::task_local! {
    /// The TCP peer of the request being served, set by hyperjwt's server around each request.
    static PEER: ClientAddr;
}

/// Runs `call` (a service's `call` for one request) with `peer` as the address the request came
/// from. Only the call itself: a handler that needs the peer later takes it with [`current`] when
/// it is dispatched, so the futures of every other request are polled without a scope around them.
///
/// The server hands the peer over this way rather than in the request's extensions: `http`'s
/// `Extensions` allocates a map, its table and a box for the value on the first insert, three
/// allocations per request for the one route that reads it. A task-local scope allocates nothing.
pub fn with_peer<R>(peer: ClientAddr, call: impl FnOnce() -> R) -> R {
    PEER.sync_scope(peer, call)
}

/// The peer the server named for the request being called, if any (see [`with_peer`]).
pub fn current() -> Option<ClientAddr> {
    PEER.try_with(|peer| *peer).ok()
}

/// The client's address for a request with these parts: the embedder's peer in its extensions, or
/// `peer`, the server's (taken with [`current`] at dispatch).
pub fn client(state: &AppState, parts: &Parts, peer: Option<ClientAddr>) -> Option<IpAddr> {
    client_from(state, &parts.headers, &parts.extensions, peer)
}

/// `client` from a request's headers and extensions (the wrapper's access log, which has the
/// request itself rather than its parts).
pub fn client_of(state: &AppState, headers: &HeaderMap, extensions: &Extensions) -> Option<IpAddr> {
    client_from(state, headers, extensions, current())
}

fn client_from(
    state: &AppState,
    headers: &HeaderMap,
    extensions: &Extensions,
    peer: Option<ClientAddr>,
) -> Option<IpAddr> {
    extensions
        .get::<ClientAddr>()
        .copied()
        .or(peer)
        .map(|peer| state.trusted_proxies.client(peer.0, headers))
}
