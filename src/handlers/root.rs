//! `GET /`: the original app's welcome message.

use hyper::body::Bytes;
use hyper::{Response, StatusCode};

use crate::http::response::{Body, json_response};

const WELCOME: &[u8] = br#"{"message":"Welcome to Flask JWT Authentication API"}"#;

pub fn welcome() -> Response<Body> {
    // A static body: no serialization and no allocation for the bytes.
    json_response(StatusCode::OK, Bytes::from_static(WELCOME))
}
