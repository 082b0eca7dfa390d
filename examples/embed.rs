//! Embedding hyperjwt in a host's own hyper server: the host keeps its routes (`/hello`, and
//! `/api/me`, which it protects with hyperjwt's tokens), and hyperjwt's auth routes are mounted
//! beside them under `/auth` (`/auth/login`, `/auth/protected`, `/auth/refresh`, ...). One listener,
//! one accept loop (hyperjwt's, with its limits and graceful shutdown), one service.
//!
//!     cargo run --example embed
//!     curl -s -X POST http://127.0.0.1:8080/auth/login -H 'Content-Type: application/json' \
//!          -d '{"username": "user1", "password": "password1"}'
//!     curl -s http://127.0.0.1:8080/api/me -H "Authorization: Bearer <access_token>"
//!     curl -s http://127.0.0.1:8080/hello
//!
//! `tests/embed.rs` runs [`serve`] over a real socket.

use std::convert::Infallible;
use std::future::{Future, Ready, ready};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::service::Service;
use hyper::{Method, Request, Response, StatusCode};
use hyperjwt::server::ConnectionSettings;
use hyperjwt::{App, Config};
use tokio::net::TcpListener;

/// The host application's own routes. It holds the hyperjwt [`App`] only to check tokens.
#[derive(Clone)]
pub struct Host {
    auth: App,
}

impl Service<Request<Incoming>> for Host {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let response = match (request.method(), request.uri().path()) {
            (&Method::GET, "/hello") => json(StatusCode::OK, r#"{"hello":"from the host"}"#.into()),
            // A host route protected by hyperjwt: the same checks as `/auth/protected`.
            (&Method::GET, "/api/me") => match self.auth.authenticated_user(request.headers()) {
                Ok(user) => json(
                    StatusCode::OK,
                    serde_json::json!({ "user": user, "served_by": "host" }).to_string(),
                ),
                Err(error) => error.into_response(),
            },
            _ => json(StatusCode::NOT_FOUND, r#"{"error":"no such page"}"#.into()),
        };
        ready(Ok(response))
    }
}

fn json(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// Serves the host's routes with hyperjwt's mounted under `/auth`, until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    config: &Config,
    shutdown: impl Future<Output = ()>,
) -> Result<(), hyperjwt::BuildError> {
    let auth = App::from_config(config)?.with_prefix("/auth");
    let host = Host { auth: auth.clone() };
    let service = auth.mount(host);
    hyperjwt::server::serve(
        listener,
        service,
        ConnectionSettings::from_config(config),
        shutdown,
    )
    .await;
    Ok(())
}

#[allow(dead_code)] // `tests/embed.rs` includes this file for `serve` and doesn't call `main`.
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::from_env()?;
    hyperjwt::logger::init_with(config.log_level, config.log_format);
    let port = std::env::var("PORT").unwrap_or_else(|_| "8080".into());
    let listener = TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!(
        "embed example listening on http://{}",
        listener.local_addr()?
    );
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    serve(listener, &config, ctrl_c).await?;
    Ok(())
}
