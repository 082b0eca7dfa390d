//! The wrapper service: what every request goes through, around the router and handlers.
//!
//! [`App`] implements hyper's `Service`. For each request it gives the request its id
//! (`X-Request-Id`, [`super::request_id`]; every log line of the request names it), answers `OPTIONS`
//! (CORS preflight), routes, runs the handler with panics caught (a panic becomes a 500 and the
//! server keeps serving), turns any [`ApiError`] into `{"msg": ...}` JSON, adds CORS headers and the
//! request id, counts the request for `/metrics`, and writes one access-log line.
//! It is generic over the request body type, so it runs on hyper's `Incoming` in the server and on
//! in-memory bodies in benchmarks and embedding tests.

use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
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
use super::request_id::{self, X_REQUEST_ID};
use super::response::Body;
use super::router::{self, ROUTES, Route};
use crate::app::{App, AppState, Listener, MetricsServed};
use crate::handlers::{self, Handler};
use crate::logger::{self, RequestId};

/// The access log's target: `LOG_LEVEL=warn` (or a filter on this target) turns it off.
const ACCESS: &str = "hyperjwt::access";

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
        self.row(path).is_some()
    }

    /// The row of `path` in the router's table, if this app answers it on this listener:
    /// `/metrics` only where `METRICS`/`METRICS_ADDR` put it, and the metrics listener nothing else.
    fn row(&self, path: &str) -> Option<usize> {
        let row = router::row(self.route_path(path)?)?;
        let is_metrics = ROUTES[row].get == Some(Route::Metrics);
        let served = match self.listener {
            Listener::Api => !is_metrics || self.state.metrics_served == MetricsServed::Main,
            Listener::Metrics => is_metrics,
        };
        served.then_some(row)
    }

    /// Decides from the request's head (and its row in the table, if any): refused, answered at
    /// once, or handed to an asynchronous handler. Routing and the synchronous handlers run here,
    /// under the caller's `catch_unwind`.
    fn start<B>(&self, request: &Request<B>, row: Option<usize>) -> Start {
        // The configured head limits (docs/http.md §6): refused here, not by hyper, so the answer
        // is JSON with CORS headers like every other error.
        if request.headers().len() > self.state.max_headers
            || head_size(request) > self.state.max_header_bytes
        {
            return Start::Answer(Err(ApiError::header_fields_too_large()));
        }
        let Some(entry) = row.map(|row| &ROUTES[row]) else {
            return Start::Answer(Err(ApiError::not_found()));
        };
        if request.method() == Method::OPTIONS {
            return Start::Answer(self.state.cors.options(request.headers(), entry.allow));
        }
        match router::method_route(request.method(), entry) {
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
        request_id: HeaderValue,
        outcome: Result<Response<Body>, ApiError>,
    ) -> ResponseFuture {
        ResponseFuture(Stage::Ready(Some(finish(
            &self.state,
            head,
            request_id,
            outcome,
        ))))
    }

    /// The end of a request answered from its head: a body the client is still sending (a `POST`
    /// to `/protected`, a 404 with a body) is drained in the background, as a handler's unread
    /// body is, so the client can read the answer. A request without a body (most) costs a check.
    fn drain_unread<B: RequestBody + Unpin>(&self, request: Request<B>) {
        if request.body().is_end_stream() {
            return;
        }
        let linger = self.state.linger.for_request(request.headers());
        drop(LingeringBody::new(request.into_body(), linger));
    }

    /// [`Service::call`] inside the request's log scope.
    fn serve<B: RequestBody + Unpin>(
        &self,
        request: Request<B>,
        started: Instant,
        request_id: HeaderValue,
    ) -> ResponseFuture {
        let row = self.row(request.uri().path());
        // The client's address is only for the access line: not looked up when it is off.
        let client = log::log_enabled!(target: ACCESS, log::Level::Info)
            .then(|| handlers::client_of(&self.state, request.headers(), request.extensions()))
            .flatten();
        let known = Known {
            started,
            row,
            client,
        };
        // Most requests are answered from their head (errors, `OPTIONS`, `/`, `/protected`): the
        // request is only borrowed, so the log line and CORS read its method, path and `Origin`
        // in place, with nothing cloned, and it is still whole after a panic.
        let route = match catch_unwind(AssertUnwindSafe(|| self.start(&request, row))) {
            Ok(Start::Handler(route)) => route,
            Ok(Start::Answer(outcome)) => {
                let answer = self.ready(&RequestHead::of(&request, known), request_id, outcome);
                self.drain_unread(request);
                return answer;
            }
            Err(_) => {
                let head = RequestHead::of(&request, known);
                let answer = self.ready(&head, request_id, Err(panicked(&head)));
                self.drain_unread(request);
                return answer;
            }
        };
        // A body the handler leaves unread is drained before the connection closes, so the
        // client can read an early answer (`crate::http::linger`).
        let linger = self.state.linger.for_request(request.headers());
        let request = request.map(|body| LingeringBody::new(body, linger));
        // The handler takes the request: the wrapper keeps its own copy of what it needs after.
        let context = RequestContext {
            known,
            method: request.method().clone(),
            uri: request.uri().clone(),
            origin: request.headers().get(header::ORIGIN).cloned(),
            request_id,
            log_id: logger::current(),
        };
        match catch_unwind(AssertUnwindSafe(|| {
            handlers::dispatch(&self.state, route, request)
        })) {
            Ok(handler) => ResponseFuture(Stage::Waiting(Box::new(Waiting {
                app: self.clone(),
                context,
                handler,
            }))),
            Err(_) => {
                let head = context.head();
                self.ready(&head, context.request_id.clone(), Err(panicked(&head)))
            }
        }
    }
}

/// What the wrapper knows of a request before a handler sees it.
#[derive(Clone, Copy)]
struct Known {
    started: Instant,
    /// Its row in the router's table (`None`: no route, counted as `unmatched`).
    row: Option<usize>,
    /// The client, when the access log is on.
    client: Option<IpAddr>,
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
        let id = request_id::assign(request.headers());
        let _scope = logger::RequestScope::enter(id.log);
        self.serve(request, started, id.header)
    }
}

/// What the wrapper remembers about a request whose handler took it, to finish its response and
/// log line.
struct RequestContext {
    known: Known,
    method: Method,
    uri: Uri,
    origin: Option<HeaderValue>,
    request_id: HeaderValue,
    /// The request's id as the logs keep it: its scope is entered again at each poll.
    log_id: Option<RequestId>,
}

impl RequestContext {
    fn head(&self) -> RequestHead<'_> {
        RequestHead {
            known: self.known,
            method: &self.method,
            path: self.uri.path(),
            origin: self.origin.as_ref(),
        }
    }
}

/// What finishing a response reads of its request: borrowed from the request itself, or from the
/// [`RequestContext`] kept for an asynchronous handler.
struct RequestHead<'r> {
    known: Known,
    method: &'r Method,
    path: &'r str,
    origin: Option<&'r HeaderValue>,
}

impl<'r> RequestHead<'r> {
    fn of<B>(request: &'r Request<B>, known: Known) -> Self {
        RequestHead {
            known,
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
    /// Boxed: an asynchronous handler allocates its future anyway, and the answers made at once
    /// (most requests) then move a small future instead of one the size of this.
    Waiting(Box<Waiting>),
}

/// An asynchronous handler in progress, and what finishing its response needs.
struct Waiting {
    app: App,
    context: RequestContext,
    handler: Handler,
}

impl Future for ResponseFuture {
    type Output = Result<Response<Body>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.get_mut().0 {
            Stage::Ready(response) => Poll::Ready(Ok(response
                .take()
                // Polled again after completion: a caller bug, answered rather than panicking.
                .unwrap_or_else(|| ApiError::internal().into_response()))),
            Stage::Waiting(waiting) => {
                let Waiting {
                    app,
                    context,
                    handler,
                } = &mut **waiting;
                let mut poll = || {
                    let outcome = match catch_unwind(AssertUnwindSafe(|| handler.as_mut().poll(cx)))
                    {
                        Ok(Poll::Ready(outcome)) => outcome,
                        Ok(Poll::Pending) => return Poll::Pending,
                        Err(_) => Err(panicked(&context.head())),
                    };
                    let request_id = context.request_id.clone();
                    Poll::Ready(Ok(finish(&app.state, &context.head(), request_id, outcome)))
                };
                match context.log_id.clone() {
                    Some(id) => logger::in_request(id, poll),
                    None => poll(),
                }
            }
        }
    }
}

/// Every response's last steps: an error becomes its JSON answer, CORS headers and the request id
/// are added, the request is counted, and the access-log line is written.
fn finish(
    state: &AppState,
    head: &RequestHead<'_>,
    request_id: HeaderValue,
    outcome: Result<Response<Body>, ApiError>,
) -> Response<Body> {
    let mut response = outcome.unwrap_or_else(ApiError::into_response);
    state.cors.apply(head.origin, response.headers_mut());
    response.headers_mut().insert(X_REQUEST_ID, request_id);
    let known = head.known;
    let elapsed = known.started.elapsed();
    let status = response.status().as_u16();
    state
        .metrics
        .request(known.row.unwrap_or(ROUTES.len()), status, elapsed);
    if !log::log_enabled!(target: ACCESS, log::Level::Info) {
        return response;
    }
    // Whole microseconds, so the JSON field reads 0.041 rather than 0.041000000000000002.
    let duration_ms = elapsed.as_micros() as f64 / 1000.0;
    // The path only: a query string may carry secrets that must not reach the logs. The request
    // id is added by the logger, as to every line of the request.
    log::info!(
        target: ACCESS,
        method:% = head.method,
        path = head.path,
        status,
        duration_ms,
        client = known.client.map(ClientShown);
        "{} {} {} {:.3}ms",
        head.method,
        head.path,
        status,
        duration_ms
    );
    response
}

/// A client address as the access log's `client` field: the address as text (`null` unknown).
struct ClientShown(IpAddr);

impl log::kv::ToValue for ClientShown {
    fn to_value(&self) -> log::kv::Value<'_> {
        log::kv::Value::from_display(&self.0)
    }
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
        App::new(&config, UserStore::demo(), Denylist::in_memory()).unwrap()
    }

    fn context() -> RequestContext {
        RequestContext {
            known: Known {
                started: Instant::now(),
                row: None,
                client: None,
            },
            method: Method::GET,
            uri: Uri::from_static("/boom"),
            origin: None,
            request_id: HeaderValue::from_static("test-1"),
            log_id: RequestId::new(hyper::body::Bytes::from_static(b"test-1")),
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
    fn panicking_handler() -> Handler {
        Box::pin(async { buggy_handler() })
    }

    #[tokio::test]
    async fn panicking_handler_becomes_a_json_500_and_the_app_keeps_serving() {
        let app = app();
        let handler = panicking_handler();
        let future = ResponseFuture(Stage::Waiting(Box::new(Waiting {
            app: app.clone(),
            context: context(),
            handler,
        })));
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
