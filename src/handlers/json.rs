//! The 200 JSON answer the handlers share: a value serialized with serde.

use hyper::{Response, StatusCode};

use crate::http::error::ApiError;
use crate::http::response::{Body, json_bytes, json_response};

/// A 200 response serializing `value` as JSON.
pub fn json_ok<T: serde::Serialize>(value: &T) -> Result<Response<Body>, ApiError> {
    let body = json_bytes(value).map_err(|_| ApiError::internal())?;
    Ok(json_response(StatusCode::OK, body))
}
