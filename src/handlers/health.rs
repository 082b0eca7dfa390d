//! `GET /healthz`: liveness for load balancers and orchestrators. Cheap and dependency-free.

use hyper::body::Bytes;
use hyper::{Response, StatusCode};

use crate::http::response::{Body, json_response};

const OK: &[u8] = br#"{"status":"ok"}"#;

pub fn ok() -> Response<Body> {
    json_response(StatusCode::OK, Bytes::from_static(OK))
}
