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

/// `value` as JSON, in one allocation of exactly its size.
///
/// `serde_json::to_vec` starts with 128 bytes and grows, and `Bytes::from(Vec)` must then allocate
/// a shared header beside any Vec whose length is not its capacity: two allocations or more. Here
/// the value is serialized twice, first only to count its bytes (our bodies are a few hundred bytes
/// at most, so this costs less than an allocation); a Vec that is exactly full becomes `Bytes`
/// without a second allocation.
pub fn json_bytes<T: serde::Serialize + ?Sized>(value: &T) -> serde_json::Result<Bytes> {
    let mut size = CountBytes(0);
    serde_json::to_writer(&mut size, value)?;
    let mut body = Vec::with_capacity(size.0);
    serde_json::to_writer(&mut body, value)?;
    Ok(Bytes::from(body))
}

/// A writer that only counts what is written to it.
struct CountBytes(usize);

impl std::io::Write for CountBytes {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0 += bytes.len();
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_bytes_is_the_serde_json_text() {
        #[derive(serde::Serialize)]
        struct Sample<'a> {
            logged_in_as: &'a str,
        }
        let value = Sample {
            logged_in_as: "us\"er\u{1}é",
        };
        let bytes = json_bytes(&value).unwrap();
        assert_eq!(&bytes[..], serde_json::to_vec(&value).unwrap());
        assert_eq!(&json_bytes("").unwrap()[..], b"\"\"");
    }
}
