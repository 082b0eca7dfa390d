//! HTTP, from the socket to the handler and back: everything that knows hyper.
//!
//! In the order a request meets them: [`listener`] holds the socket, [`server`] accepts
//! connections (with the [`connections`] table's caps, reported by [`cap_reports`], and [`client_addr`]), hyper parses the head, [`service`] wraps every request
//! ([`cors`], [`router`], [`linger`], panics and errors to JSON) and calls a handler
//! (`crate::handlers`), which reads the request with [`request`] (and the token cookies with
//! [`cookies`]) and answers with [`response`] or an [`error::ApiError`]. [`mount`] puts the whole app beside a host's own service.

pub mod cap_reports;
pub mod client_addr;
pub mod connections;
pub mod cookies;
pub mod cors;
pub mod error;
pub mod linger;
pub mod listener;
pub mod mount;
pub mod request;
pub mod request_id;
pub mod response;
pub mod router;
pub mod server;
pub mod service;
