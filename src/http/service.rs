//! The wrapper service: what every request goes through, around the router and handlers.
//!
//! [`App`] implements hyper's `Service`. For each request it answers `OPTIONS` (CORS preflight),
//! routes, runs the handler with panics caught (a panic becomes a 500 and the server keeps serving),
//! turns any [`ApiError`] into `{"msg": ...}` JSON, adds CORS headers, and writes one access-log line.
//! It is generic over the request body type, so it runs on hyper's `Incoming` in the server and on
//! in-memory bodies in benchmarks and embedding tests.

use std::convert::Infallible;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use hyper::header::{self, HeaderValue};
use hyper::service::Service;
use hyper::{Method, Request, Response, Uri};

use super::error::ApiError;
use super::linger::LingeringBody;
use super::request::{RequestBody, head_size};
use super::response::Body;
use super::router::{self, Route};
use crate::app::{App, AppState};
use crate::handlers::{self, Handled};

impl App {
    /// The path the router sees for a request path: the path without the prefix, if it has it.
    fn route_path<'p>(&self, path: &'p str) -> Option<&'p str> {
        match path.strip_prefix(&*self.prefix)? {
            "" => Some("/"),
            rest if rest.starts_with('/') => Some(rest),
            // "/authx" is not under "/auth".
            _ => None,
        }
    }

    /// True if `path` is one of this app's routes (any method). A host uses it to decide which
    /// requests are hyperjwt's; [`App::mount`] does exactly that.
    pub fn serves(&self, path: &str) -> bool {
        self.route_path(path).and_then(router::entry).is_some()
    }

    /// Decides from the request's head: refused, answered at once, or handed to an asynchronous
    /// handler. Routing and the synchronous handlers run here, under the caller's `catch_unwind`.
    fn start<B>(&self, request: &Request<B>) -> Start {
        // The configured head limits (docs/http.md §6): refused here, not by hyper, so the answer
        // is JSON with CORS headers like every other error.
        if request.headers().len() > self.state.max_headers
            || head_size(request) > self.state.max_header_bytes
        {
            return Start::Answer(Err(ApiError::header_fields_too_large()));
        }
        let Some(path) = self.route_path(request.uri().path()) else {
            return Start::Answer(Err(ApiError::not_found()));
        };
        if request.method() == Method::OPTIONS {
            let answer = match router::entry(path) {
                Some(entry) => self.state.cors.options(request.headers(), entry.allow),
                None => Err(ApiError::not_found()),
            };
            return Start::Answer(answer);
        }
        match router::route(request.method(), path) {
            Ok(route) => match handlers::answer_from_head(
                &self.state,
                route,
                request.method(),
                request.headers(),
            ) {
                Some(answer) => Start::Answer(answer),
                None => Start::Handler(route),
            },
            Err(error) => Start::Answer(Err(error)),
        }
    }

    /// A response finished now: the future only hands it over. No clone of the app, so no shared
    /// reference count bounces between cores.
    fn ready(
        &self,
        head: &RequestHead<'_>,
        outcome: Result<Response<Body>, ApiError>,
    ) -> ResponseFuture {
        ResponseFuture(Stage::Ready(Some(finish(&self.state, head, outcome))))
    }
}

/// What [`App::start`] decided.
enum Start {
    Answer(Result<Response<Body>, ApiError>),
    /// The route's handler takes the whole request (it reads the body or waits for the journal).
    Handler(Route),
}

impl<B: RequestBody + Unpin> Service<Request<B>> for App {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn call(&self, request: Request<B>) -> Self::Future {
        let started = Instant::now();
        // A body the handler leaves unread is drained before the connection closes, so the
        // client can read an early answer (`crate::http::linger`).
        let linger = self.state.linger.for_request(request.headers());
        let request = request.map(|body| LingeringBody::new(body, linger));
        // Most requests are answered from their head (errors, `OPTIONS`, `/`, `/protected`): the
        // request is only borrowed, so the log line and CORS read its method, path and `Origin`
        // in place, with nothing cloned, and it is still whole after a panic.
        let route = match catch_unwind(AssertUnwindSafe(|| self.start(&request))) {
            Ok(Start::Handler(route)) => route,
            Ok(Start::Answer(outcome)) => {
                return self.ready(&RequestHead::of(&request, started), outcome);
            }
            Err(_) => {
                let head = RequestHead::of(&request, started);
                return self.ready(&head, Err(panicked(&head)));
            }
        };
        // The handler takes the request: the wrapper keeps its own copy of what it needs after.
        let context = RequestContext {
            started,
            method: request.method().clone(),
            uri: request.uri().clone(),
            origin: request.headers().get(header::ORIGIN).cloned(),
        };
        let handled = catch_unwind(AssertUnwindSafe(|| {
            handlers::dispatch(&self.state, route, request)
        }))
        .unwrap_or_else(|_| Handled::Ready(Err(panicked(&context.head()))));
        match handled {
            Handled::Ready(outcome) => self.ready(&context.head(), outcome),
            Handled::Pending(handler) => ResponseFuture(Stage::Waiting {
                app: self.clone(),
                context,
                handler,
            }),
        }
    }
}

/// What the wrapper remembers about a request whose handler took it, to finish its response and
/// log line.
struct RequestContext {
    started: Instant,
    method: Method,
    uri: Uri,
    origin: Option<HeaderValue>,
}

impl RequestContext {
    fn head(&self) -> RequestHead<'_> {
        RequestHead {
            started: self.started,
            method: &self.method,
            path: self.uri.path(),
            origin: self.origin.as_ref(),
        }
    }
}

/// What finishing a response reads of its request: borrowed from the request itself, or from the
/// [`RequestContext`] kept for an asynchronous handler.
struct RequestHead<'r> {
    started: Instant,
    method: &'r Method,
    path: &'r str,
    origin: Option<&'r HeaderValue>,
}

impl<'r> RequestHead<'r> {
    fn of<B>(request: &'r Request<B>, started: Instant) -> Self {
        RequestHead {
            started,
            method: request.method(),
            path: request.uri().path(),
            origin: request.headers().get(header::ORIGIN),
        }
    }
}

fn panicked(head: &RequestHead<'_>) -> ApiError {
    log::error!(
        "handler panicked on {} {}; answered 500, server keeps serving",
        head.method,
        head.path
    );
    ApiError::internal()
}

/// The future `App::call` returns: the finished response of a synchronous handler, or an
/// asynchronous handler driven with panics caught and then finished. A hand-written future instead
/// of an `async` block so that synchronous answers need no heap-allocated future.
pub struct ResponseFuture(Stage);

enum Stage {
    /// Finished at call time; `None` once handed over.
    Ready(Option<Response<Body>>),
    Waiting {
        app: App,
        context: RequestContext,
        handler: Pin<Box<dyn Future<Output = Result<Response<Body>, ApiError>> + Send>>,
    },
}

impl Future for ResponseFuture {
    type Output = Result<Response<Body>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.get_mut().0 {
            Stage::Ready(response) => Poll::Ready(Ok(response
                .take()
                // Polled again after completion: a caller bug, answered rather than panicking.
                .unwrap_or_else(|| ApiError::internal().into_response()))),
            Stage::Waiting {
                app,
                context,
                handler,
            } => {
                let outcome = match catch_unwind(AssertUnwindSafe(|| handler.as_mut().poll(cx))) {
                    Ok(Poll::Ready(outcome)) => outcome,
                    Ok(Poll::Pending) => return Poll::Pending,
                    Err(_) => Err(panicked(&context.head())),
                };
                Poll::Ready(Ok(finish(&app.state, &context.head(), outcome)))
            }
        }
    }
}

/// Every response's last steps: an error becomes its JSON answer, CORS headers are added, and the
/// access-log line is written.
fn finish(
    state: &AppState,
    head: &RequestHead<'_>,
    outcome: Result<Response<Body>, ApiError>,
) -> Response<Body> {
    let mut response = outcome.unwrap_or_else(ApiError::into_response);
    state.cors.apply(head.origin, response.headers_mut());
    // The path only: a query string may carry secrets that must not reach the logs.
    log::info!(
        target: "hyperjwt::access",
        "{} {} {} {:.3}ms",
        head.method,
        head.path,
        response.status().as_u16(),
        head.started.elapsed().as_secs_f64() * 1000.0
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::store::denylist::Denylist;
    use crate::store::users::UserStore;
    use http_body_util::{BodyExt, Empty};
    use hyper::StatusCode;
    use hyper::body::Bytes;

    fn app() -> App {
        let config = Config::with_secret("a-test-secret-of-at-least-32-bytes").unwrap();
        App::new(&config, UserStore::demo(), Denylist::in_memory())
    }

    fn context() -> RequestContext {
        RequestContext {
            started: Instant::now(),
            method: Method::GET,
            uri: Uri::from_static("/boom"),
            origin: None,
        }
    }

    async fn body_text(response: Response<Body>) -> String {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    fn buggy_handler() -> Result<Response<Body>, ApiError> {
        panic!("handler bug")
    }

    /// A handler future that panics when polled, as a buggy handler would.
    fn panicking_handler() -> Handled {
        Handled::Pending(Box::pin(async { buggy_handler() }))
    }

    #[tokio::test]
    async fn panicking_handler_becomes_a_json_500_and_the_app_keeps_serving() {
        let app = app();
        let Handled::Pending(handler) = panicking_handler() else {
            unreachable!()
        };
        let future = ResponseFuture(Stage::Waiting {
            app: app.clone(),
            context: context(),
            handler,
        });
        let response = future.await.unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        // The panic message stays in the log; the client sees a generic text.
        assert_eq!(
            body_text(response).await,
            r#"{"msg":"Internal Server Error"}"#
        );

        let request = Request::get("/").body(Empty::<Bytes>::new()).unwrap();
        let response = app.call(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn errors_and_successes_both_get_cors_headers() {
        let app = app();
        for (path, status) in [("/", StatusCode::OK), ("/missing", StatusCode::NOT_FOUND)] {
            let request = Request::get(path)
                .header(header::ORIGIN, "https://app.example")
                .body(Empty::<Bytes>::new())
                .unwrap();
            let response = app.call(request).await.unwrap();
            assert_eq!(response.status(), status);
            assert_eq!(response.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        }
    }

    #[tokio::test]
    async fn options_on_unknown_path_is_404() {
        let request = Request::options("/nope")
            .body(Empty::<Bytes>::new())
            .unwrap();
        let response = app().call(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
}
