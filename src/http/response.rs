//! Building responses: the body type every answer uses and a JSON response. A leaf: it knows
//! nothing of errors or handlers, so both can build on it.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};

/// Every response body is a complete buffer: our answers are small and known before we send them.
pub type Body = Full<Bytes>;

/// `Content-Type: application/json`, shared by every response.
pub const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");

/// A response with a JSON body.
pub fn json_response(status: StatusCode, body: Bytes) -> Response<Body> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, APPLICATION_JSON);
    response
}
