//! Mounting hyperjwt inside a host's own hyper server: [`App::mount`] pairs the app with the host's
//! service, and the pair is one hyper `Service` that answers hyperjwt's routes itself and passes
//! every other request to the host, untouched.
//!
//! ```no_run
//! # use std::convert::Infallible;
//! # use http_body_util::Full;
//! # use hyper::body::{Bytes, Incoming};
//! # use hyper::{Request, Response};
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = hyperjwt::Config::with_secret("a-secret-of-at-least-thirty-two-bytes")?;
//! let host = hyper::service::service_fn(|_request: Request<Incoming>| async {
//!     Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"the host's own page"))))
//! });
//! // `/auth/login`, `/auth/protected`, ... are hyperjwt's; everything else is the host's.
//! let service = hyperjwt::App::from_config(&config)?.with_prefix("/auth").mount(host);
//! # let _ = service; Ok(()) }
//! ```
//!
//! Which requests are hyperjwt's is decided by path alone ([`App::serves`]), so a wrong method on an
//! auth path still gets hyperjwt's 405 with `Allow`, and the host never sees auth traffic.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http_body_util::Either;
use hyper::service::Service;
use hyper::{Request, Response};

use super::error::ApiError;
use super::request::RequestBody;
use super::response::Body;
use super::service::ResponseFuture;
use crate::app::App;
use crate::handlers;

/// hyperjwt's routes in front of a host service `S`. Built by [`App::mount`].
#[derive(Debug, Clone)]
pub struct Mounted<S> {
    app: App,
    host: S,
}

impl App {
    /// Answers this app's routes and passes every other request to `host`.
    pub fn mount<S>(self, host: S) -> Mounted<S> {
        Mounted { app: self, host }
    }

    /// For a host's own routes: the username of the request's access token, after exactly the
    /// checks `/protected` makes (signature, claims, revocation, the user still exists). The error
    /// is the answer to send, e.g. `error.into_response()`.
    ///
    /// Without the method, a token from a cookie (`JWT_TOKEN_LOCATION=cookies`) is held to the CSRF
    /// double submit as for a state-changing request; [`App::authenticated_user_for`] knows better.
    pub fn authenticated_user(&self, headers: &hyper::HeaderMap) -> Result<String, ApiError> {
        handlers::authenticated_user(&self.state, &hyper::Method::POST, headers)
    }

    /// [`App::authenticated_user`] for a request made with `method`: a cookie token needs its CSRF
    /// header only for the methods of `JWT_CSRF_METHODS` (docs/cookies.md).
    pub fn authenticated_user_for(
        &self,
        method: &hyper::Method,
        headers: &hyper::HeaderMap,
    ) -> Result<String, ApiError> {
        handlers::authenticated_user(&self.state, method, headers)
    }
}

impl<B, S, HostBody> Service<Request<B>> for Mounted<S>
where
    B: RequestBody + Unpin,
    S: Service<Request<B>, Response = Response<HostBody>>,
{
    /// Either body: ours (`Left`) or the host's (`Right`); `Either` is itself an HTTP body.
    type Response = Response<Either<Body, HostBody>>;
    type Error = S::Error;
    type Future = MountedFuture<S::Future>;

    fn call(&self, request: Request<B>) -> Self::Future {
        if self.app.serves(request.uri().path()) {
            MountedFuture::Ours(self.app.call(request))
        } else {
            // Boxed so this future needs no pin projection; only the host's requests pay for it.
            MountedFuture::Host(Box::pin(self.host.call(request)))
        }
    }
}

/// The future of a [`Mounted`] call: hyperjwt's own response future, or the host's.
// `Ours` is large and `Host` a pointer; boxing `Ours` instead would cost an allocation on every
// auth request to save stack space on a future that lives for one request.
#[allow(clippy::large_enum_variant)]
pub enum MountedFuture<F> {
    Ours(ResponseFuture),
    Host(Pin<Box<F>>),
}

impl<F, HostBody, E> Future for MountedFuture<F>
where
    F: Future<Output = Result<Response<HostBody>, E>>,
{
    type Output = Result<Response<Either<Body, HostBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Both variants are `Unpin` (a plain struct and a `Pin<Box<_>>`), so no unsafe projection.
        match self.get_mut() {
            MountedFuture::Ours(future) => match Pin::new(future).poll(cx) {
                Poll::Ready(Ok(response)) => Poll::Ready(Ok(response.map(Either::Left))),
                Poll::Ready(Err(never)) => match never {},
                Poll::Pending => Poll::Pending,
            },
            MountedFuture::Host(future) => future
                .as_mut()
                .poll(cx)
                .map_ok(|response| response.map(Either::Right)),
        }
    }
}

#[cfg(test)]
mod tests {
    use hyper::body::Bytes;
    use std::convert::Infallible;

    use http_body_util::{BodyExt, Empty, Full};
    use hyper::StatusCode;

    use crate::config::Config;

    use super::*;

    fn app() -> App {
        App::from_config(&Config::with_secret("a-test-secret-of-at-least-32-bytes").unwrap())
            .unwrap()
    }

    async fn host(request: Request<Empty<Bytes>>) -> Result<Response<Full<Bytes>>, Infallible> {
        let text = format!("host saw {}", request.uri().path());
        Ok(Response::new(Full::new(Bytes::from(text))))
    }

    async fn answer<S>(service: &S, path: &str) -> (StatusCode, String)
    where
        S: Service<
                Request<Empty<Bytes>>,
                Response = Response<Either<Body, Full<Bytes>>>,
                Error = Infallible,
            >,
    {
        let request = Request::get(path).body(Empty::new()).unwrap();
        let response = service.call(request).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn routes_ours_to_the_app_and_the_rest_to_the_host() {
        let service = app().mount(hyper::service::service_fn(host));
        let (status, body) = answer(&service, "/").await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("Welcome"), "{body}");
        assert_eq!(
            answer(&service, "/protected").await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            answer(&service, "/login").await.0,
            StatusCode::METHOD_NOT_ALLOWED
        );
        assert_eq!(
            answer(&service, "/elsewhere").await,
            (StatusCode::OK, "host saw /elsewhere".into())
        );
    }

    #[tokio::test]
    async fn a_prefix_moves_our_routes_and_frees_the_root_for_the_host() {
        let service = app()
            .with_prefix("/auth/")
            .mount(hyper::service::service_fn(host));
        assert_eq!(answer(&service, "/auth").await.0, StatusCode::OK);
        assert_eq!(answer(&service, "/auth/healthz").await.0, StatusCode::OK);
        assert_eq!(
            answer(&service, "/auth/protected").await.0,
            StatusCode::UNAUTHORIZED
        );
        for path in ["/", "/protected", "/authx/healthz", "/auth/nope"] {
            assert_eq!(
                answer(&service, path).await,
                (StatusCode::OK, format!("host saw {path}")),
                "{path}"
            );
        }
    }

    #[tokio::test]
    async fn the_app_alone_with_a_prefix_answers_404_outside_it() {
        let app = app().with_prefix("/auth");
        let request = Request::get("/healthz")
            .body(Empty::<Bytes>::new())
            .unwrap();
        assert_eq!(
            app.call(request).await.unwrap().status(),
            StatusCode::NOT_FOUND
        );
    }
}
