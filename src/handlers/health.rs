//! The health routes (docs/http.md §2):
//!
//! - `GET /healthz`: `{"status":"ok"}`, the original route, kept as it is;
//! - `GET /health/live`: `{"status":"live"}` whenever the process answers (liveness: restart it if
//!   this fails);
//! - `GET /health/ready`: 200 `{"status":"ready","checks":{...}}` when every readiness check
//!   passes, else 503 `{"status":"not ready","checks":{...}}`; each check maps to `"ok"` or a short
//!   reason (readiness: send it no traffic while this fails). The checks are in
//!   [`crate::readiness`]: the users, the journal with `DENYLIST_FILE`, Redis with `REDIS_URL`.

use std::sync::Arc;

use hyper::body::Bytes;
use hyper::{Response, StatusCode};

use crate::app::AppState;
use crate::http::error::ApiError;
use crate::http::response::{Body, json_response};
use crate::readiness::Report;

const OK: &[u8] = br#"{"status":"ok"}"#;
const LIVE: &[u8] = br#"{"status":"live"}"#;

pub fn ok() -> Response<Body> {
    json_response(StatusCode::OK, Bytes::from_static(OK))
}

pub fn live() -> Response<Body> {
    json_response(StatusCode::OK, Bytes::from_static(LIVE))
}

pub async fn ready(state: Arc<AppState>) -> Result<Response<Body>, ApiError> {
    let report = state.readiness_report().await;
    let status = if report.is_ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    Ok(json_response(status, Bytes::from(ready_body(&report))))
}

/// The answer's JSON, with the checks in their order (users first).
fn ready_body(report: &Report) -> Vec<u8> {
    let mut body = Vec::with_capacity(96);
    body.extend_from_slice(if report.is_ready() {
        br#"{"status":"ready","checks":{"#
    } else {
        br#"{"status":"not ready","checks":{"#
    });
    for (i, (name, verdict)) in report.checks.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        let shown = match verdict {
            Ok(()) => "ok",
            Err(reason) => reason,
        };
        // Writing strings into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut body, name);
        body.push(b':');
        let _ = serde_json::to_writer(&mut body, shown);
    }
    body.extend_from_slice(b"}}");
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ready_body_keeps_the_check_order_and_escapes_reasons() {
        let report = Report {
            checks: vec![("users", Ok(())), ("journal", Ok(()))],
        };
        assert_eq!(
            ready_body(&report),
            br#"{"status":"ready","checks":{"users":"ok","journal":"ok"}}"#
        );
        let report = Report {
            checks: vec![("users", Ok(())), ("journal", Err("bad \"file\"".into()))],
        };
        let body: serde_json::Value = serde_json::from_slice(&ready_body(&report)).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"status": "not ready", "checks": {"users": "ok", "journal": "bad \"file\""}})
        );
    }
}
