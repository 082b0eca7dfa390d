//! Who is calling, for the handlers that need it (throttling at `/login`, the security log at
//! `/refresh`): the TCP peer hyperjwt's server hands over while it calls the service for a request,
//! or the one an embedder serving its own connections put into the request's extensions, then the
//! client a trusted proxy names in `X-Forwarded-For` (`TRUSTED_PROXIES`).

use std::cell::Cell;
use std::net::IpAddr;

use hyper::HeaderMap;
use hyper::http::Extensions;
use hyper::http::request::Parts;

use crate::app::AppState;
use crate::http::client_addr::ClientAddr;

thread_local! {
    /// The TCP peer of the request being called on this thread, set by hyperjwt's server for the
    /// time of the service's `call`.
    static PEER: Cell<Option<ClientAddr>> = const { Cell::new(None) };
}

/// Names `peer` as the address of the request the server is calling the service for, until
/// dropped (the call only: a handler that needs the peer later takes it with [`current`] when it
/// is dispatched, so no response future is polled inside a scope). Puts back the peer it replaced
/// on drop, also after a panic. A guard rather than a closure, so the call's result (the response
/// future) is returned as it is.
///
/// The server hands the peer over this way rather than in the request's extensions: `http`'s
/// `Extensions` allocates a map, its table and a box for the value on the first insert, three
/// allocations per request for the one route that reads it. A thread-local allocates nothing.
pub struct PeerScope {
    previous: Option<ClientAddr>,
}

impl PeerScope {
    pub fn enter(peer: ClientAddr) -> Self {
        PeerScope {
            previous: PEER.with(|current| current.replace(Some(peer))),
        }
    }
}

impl Drop for PeerScope {
    fn drop(&mut self) {
        let _ = PEER.try_with(|current| current.set(self.previous));
    }
}

/// The peer the server named for the request being called, if any (see [`PeerScope`]).
pub fn current() -> Option<ClientAddr> {
    PEER.try_with(Cell::get).ok().flatten()
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
