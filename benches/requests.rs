//! A full request through the service, without a socket: the wrapper (CORS, panic guard, error →
//! JSON, access log), the router and the handler, exactly as hyper would call them per request.
//!
//!     cargo bench --bench requests
//!
//! The request is built outside the timed part (hyper builds it while parsing), and the handlers
//! measured here answer synchronously, so one poll with a no-op waker completes the future: no
//! executor cost is mixed in. The access log is on (a `log` logger that discards), so the cost of
//! formatting the log line is counted when enabled.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use http_body_util::Empty;
use hyper::body::Bytes;
use hyper::service::Service;
use hyper::{Request, Response, StatusCode};
use hyperjwt::jwt::TokenType;
use hyperjwt::{App, Config};

/// Accepts every record and drops it, so `log::info!` does its formatting work as in production.
struct Discard;

impl log::Log for Discard {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        black_box(record.args().to_string());
    }
    fn flush(&self) {}
}

static LOGGER: Discard = Discard;

/// Calls the service once and returns the response, which must be ready at the first poll.
fn call(app: &App, request: Request<Empty<Bytes>>) -> Response<hyperjwt::http::response::Body> {
    let future = pin!(app.call(request));
    match future.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(Ok(response)) => response,
        Poll::Ready(Err(never)) => match never {},
        Poll::Pending => panic!("this route should answer synchronously"),
    }
}

/// Builds a fresh request for each iteration (a request is consumed by the call).
type MakeRequest<'a> = Box<dyn Fn() -> Request<Empty<Bytes>> + 'a>;

fn get(path: &str, token: Option<&str>) -> Request<Empty<Bytes>> {
    let mut request = Request::get(path);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    request.body(Empty::new()).unwrap()
}

fn bench(c: &mut Criterion) {
    log::set_logger(&LOGGER).unwrap();
    log::set_max_level(log::LevelFilter::Info);
    let config = Config::with_secret("benchmark-secret-0123456789abcdef0123456789").unwrap();
    let app = App::from_config(&config).unwrap();
    let token = app
        .state()
        .tokens
        .issue("user1", TokenType::Access, true)
        .unwrap();
    let tampered = format!("{}x", &token[..token.len() - 1]);

    let cases: [(&str, MakeRequest, StatusCode); 5] = [
        ("GET /", Box::new(|| get("/", None)), StatusCode::OK),
        (
            "GET /protected valid token",
            Box::new(|| get("/protected", Some(&token))),
            StatusCode::OK,
        ),
        (
            "GET /protected bad signature",
            Box::new(|| get("/protected", Some(&tampered))),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "GET /protected no token",
            Box::new(|| get("/protected", None)),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "OPTIONS /login preflight",
            Box::new(|| {
                Request::options("/login")
                    .header("origin", "https://app.example")
                    .header("access-control-request-method", "POST")
                    .header("access-control-request-headers", "content-type")
                    .body(Empty::new())
                    .unwrap()
            }),
            StatusCode::NO_CONTENT,
        ),
    ];

    let mut group = c.benchmark_group("request");
    for (name, make, status) in &cases {
        assert_eq!(call(&app, make()).status(), *status, "{name}");
        group.bench_function(*name, |b| {
            b.iter_batched(make, |request| call(&app, request), BatchSize::SmallInput)
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .measurement_time(std::time::Duration::from_secs(3))
        .warm_up_time(std::time::Duration::from_secs(1))
        .sample_size(50);
    targets = bench
}
criterion_main!(benches);
