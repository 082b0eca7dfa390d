//! `GET /metrics`: the Prometheus text exposition of [`crate::metrics`], with the gauges read now
//! (denylist entries, users, the password-check queue). Served on the main listener, or only on
//! `METRICS_ADDR`'s; with `METRICS=off`, nowhere (the wrapper answers 404 before this).

use hyper::body::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};

use crate::app::AppState;
use crate::http::response::Body;
use crate::metrics::{CONTENT_TYPE, Revoked, Sampled};

pub fn exposition(state: &AppState) -> Response<Body> {
    let [tokens, sessions, users] = state.denylist.sizes();
    let text = state.metrics.render(&Sampled {
        denylist: [
            (Revoked::Token, tokens),
            (Revoked::Session, sessions),
            (Revoked::User, users),
        ],
        users: state.users.current().len(),
        password_checks: state.password_checks.stats(),
    });
    let mut response = Response::new(Body::new(Bytes::from(text)));
    *response.status_mut() = StatusCode::OK;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    response
}
