//! Heap allocations per request, counted by a global allocator: the whole server path (hyper's
//! connection, the wrapper, the router, the handler) over a real keep-alive connection on
//! 127.0.0.1, and the service alone without a socket.
//!
//! The first rows are the reference: plain hyper in the same process, a `service_fn` answering the
//! fixed `{"logged_in_as":"user1"}` of `examples/baseline.rs` on connections built by
//! `ConnectionSettings::http1()`, sent the same `/protected` request. The `added` column is what
//! hyperjwt allocates above the first, "answered in call": the service drops the request and
//! returns a ready future, so this is what hyper itself allocates per request with the server's
//! settings (and what `examples/baseline.rs` does). The second answers from an `async fn`: its
//! future holds the request until hyper first polls it, and hyper's keep-alive read comes before
//! that poll, so the read buffer is still shared and hyper reserves a fresh 8 KiB one (and
//! promotes it, 40 bytes) for every request: why hyperjwt, and the baseline, answer inside `call`.
//!
//!     cargo bench --bench allocations
//!
//! Counts are exact, not timed, so they repeat from run to run: a figure that changes means the
//! code changed. The client in this process allocates nothing per request (a request prepared
//! once, a fixed read buffer), so every allocation counted during the measured requests is the
//! server's. The logger is not installed, as with `LOG_LEVEL=warn` in the wrk scripts. Metrics are
//! on (the default), and every response gets an `X-Request-Id`: echoed from the request in one case,
//! generated in the others (ids are written into per-thread blocks of 1,024: two allocations per
//! block, 0.002 per request, and their 29 bytes each in the bytes column). The request that sends
//! one costs hyper one allocation more than the others, for parsing a header name it does not know
//! (`X-Other` in its place costs the same); the echo itself allocates nothing.

use std::alloc::{GlobalAlloc, Layout, System};
use std::convert::Infallible;
use std::future::Future;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};

use http_body_util::{Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::service::{Service, service_fn};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use hyperjwt::jwt::TokenType;
use hyperjwt::server::{ConnectionSettings, spawn_local};
use hyperjwt::{App, Config};

/// Counts every allocation (and reallocation) and its bytes, then defers to the system allocator.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which we pass on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above, for `dealloc`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        // SAFETY: as above, for `realloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const WARMUP: u64 = 1_000;
const MEASURED: u64 = 10_000;

fn counters() -> (u64, u64) {
    (
        ALLOCATIONS.load(Ordering::Relaxed),
        BYTES.load(Ordering::Relaxed),
    )
}

/// Sends `request` and reads one whole response into `buf`, allocating nothing.
fn exchange(stream: &mut TcpStream, request: &[u8], buf: &mut [u8]) -> u16 {
    stream.write_all(request).expect("write");
    let mut filled = 0;
    loop {
        let n = stream.read(&mut buf[filled..]).expect("read");
        assert!(n > 0, "the server closed the connection");
        filled += n;
        let Some(head_end) = buf[..filled].windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = &buf[..head_end];
        let body_len = content_length(head);
        if filled >= head_end + 4 + body_len {
            let status = &head[9..12];
            return status.iter().fold(0, |n, d| n * 10 + u16::from(d - b'0'));
        }
    }
}

fn content_length(head: &[u8]) -> usize {
    let name = b"content-length:";
    head.split(|&b| b == b'\n')
        .find(|line| line.len() > name.len() && line[..name.len()].eq_ignore_ascii_case(name))
        .map_or(0, |line| {
            line[name.len()..]
                .iter()
                .filter(|d| d.is_ascii_digit())
                .fold(0, |n, d| n * 10 + usize::from(d - b'0'))
        })
}

/// Allocations and bytes per request over one keep-alive connection.
fn over_socket(addr: std::net::SocketAddr, request: &[u8], expected: u16) -> (f64, f64) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let mut buf = vec![0u8; 16 * 1024];
    for _ in 0..WARMUP {
        assert_eq!(exchange(&mut stream, request, &mut buf), expected);
    }
    let (a0, b0) = counters();
    for _ in 0..MEASURED {
        exchange(&mut stream, request, &mut buf);
    }
    let (a1, b1) = counters();
    (
        (a1 - a0) as f64 / MEASURED as f64,
        (b1 - b0) as f64 / MEASURED as f64,
    )
}

/// Allocations per request through the service alone (no hyper connection), with the request
/// built outside the count as hyper would build it.
fn through_service<S, B>(service: &S, make: &dyn Fn() -> Request<Empty<Bytes>>) -> f64
where
    S: Service<Request<Empty<Bytes>>, Response = Response<B>, Error = Infallible>,
{
    let mut total = 0;
    for _ in 0..MEASURED {
        let request = make();
        let (a0, _) = counters();
        let response: Response<_> = {
            let future = pin!(service.call(request));
            match future.poll(&mut Context::from_waker(Waker::noop())) {
                Poll::Ready(Ok(response)) => response,
                Poll::Ready(Err(never)) => match never {},
                Poll::Pending => panic!("this route should answer synchronously"),
            }
        };
        let (a1, _) = counters();
        drop(response);
        total += a1 - a0;
    }
    total as f64 / MEASURED as f64
}

const PLAIN_BODY: &[u8] = br#"{"logged_in_as":"user1"}"#;

/// The plain-hyper reference: `examples/baseline.rs`'s answer.
fn plain_response() -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(PLAIN_BODY)));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// Answered in `call`: the request is dropped before hyper gets the (ready) future.
fn plain_in_call<B>(
    _: Request<B>,
) -> std::future::Ready<Result<Response<Full<Bytes>>, Infallible>> {
    std::future::ready(Ok(plain_response()))
}

/// The same answer from an `async fn`: the future holds the request until it is polled.
async fn plain_async<B>(_: Request<B>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(plain_response())
}

/// Serves one of the plain answers on `listener` with `settings`' hyper connections, as
/// `examples/baseline.rs` does (without its connection cap: the bench opens one connection).
async fn serve_plain<F>(
    listener: tokio::net::TcpListener,
    settings: ConnectionSettings,
    answer: fn(Request<Incoming>) -> F,
) where
    F: Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send + 'static,
{
    let http = settings.http1();
    while let Ok((stream, _)) = listener.accept().await {
        let _ = stream.set_nodelay(true);
        let connection = http.serve_connection(TokioIo::new(stream), service_fn(answer));
        tokio::spawn(connection);
    }
}

/// Binds a listener for a plain-hyper reference on `runtime` and serves `answer` there.
fn spawn_plain<F>(
    runtime: &tokio::runtime::Runtime,
    config: &Config,
    answer: fn(Request<Incoming>) -> F,
) -> std::net::SocketAddr
where
    F: Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send + 'static,
{
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("plain hyper listener");
    let addr = listener.local_addr().expect("plain hyper address");
    runtime.spawn(serve_plain(
        listener,
        ConnectionSettings::from_config(config),
        answer,
    ));
    addr
}

/// A request: its name, its bytes on the wire, the status it gets, and the same request as the
/// service receives it.
type Case<'a> = (
    &'a str,
    String,
    u16,
    Box<dyn Fn() -> Request<Empty<Bytes>> + 'a>,
);

fn main() {
    let mut config =
        Config::with_secret("allocation-count-secret-0123456789abcdef").expect("config");
    // A listed origin, not `*`: the case with `Origin` then takes the path that echoes an origin.
    config.cors_origins = hyperjwt::config::CorsOrigins::List(vec!["https://app.example".into()]);
    let app = App::from_config(&config).expect("app");
    let token = app
        .state()
        .tokens
        .issue("user1", TokenType::Access, true)
        .expect("token");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let server = runtime
        .block_on(spawn_local(
            app.clone(),
            ConnectionSettings::from_config(&config),
        ))
        .expect("server");
    let addr = server.addr;
    let plain_in_call_addr = spawn_plain(&runtime, &config, plain_in_call);
    let plain_async_addr = spawn_plain(&runtime, &config, plain_async);
    let serving = std::thread::spawn(move || runtime.block_on(std::future::pending::<()>()));
    drop(serving);

    let bearer = format!("Bearer {token}");
    let cases: Vec<Case> = vec![
        (
            "GET /protected (valid token)",
            format!("GET /protected HTTP/1.1\r\nHost: x\r\nAuthorization: {bearer}\r\n\r\n"),
            200,
            Box::new(|| {
                Request::get("/protected")
                    .header("authorization", &bearer)
                    .body(Empty::new())
                    .expect("request")
            }),
        ),
        (
            "GET /protected (valid token, Origin)",
            format!(
                "GET /protected HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\nAuthorization: {bearer}\r\n\r\n"
            ),
            200,
            Box::new(|| {
                Request::get("/protected")
                    .header("origin", "https://app.example")
                    .header("authorization", &bearer)
                    .body(Empty::new())
                    .expect("request")
            }),
        ),
        (
            "GET /protected (valid token, X-Request-Id)",
            format!(
                "GET /protected HTTP/1.1\r\nHost: x\r\nX-Request-Id: 0f8fad5b-d9cb-469f-a165-70867728950e\r\nAuthorization: {bearer}\r\n\r\n"
            ),
            200,
            Box::new(|| {
                Request::get("/protected")
                    .header("x-request-id", "0f8fad5b-d9cb-469f-a165-70867728950e")
                    .header("authorization", &bearer)
                    .body(Empty::new())
                    .expect("request")
            }),
        ),
        (
            "GET /protected (no token, 401)",
            "GET /protected HTTP/1.1\r\nHost: x\r\n\r\n".to_string(),
            401,
            Box::new(|| {
                Request::get("/protected")
                    .body(Empty::new())
                    .expect("request")
            }),
        ),
        (
            "GET /",
            "GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_string(),
            200,
            Box::new(|| Request::get("/").body(Empty::new()).expect("request")),
        ),
    ];

    println!("allocations per request ({MEASURED} requests after {WARMUP} of warm-up)");
    println!(
        "{:<40} {:>14} {:>14} {:>8} {:>16}",
        "request", "socket allocs", "socket bytes", "added", "service allocs"
    );
    // The references get the first case's request: the same head for hyper to parse.
    let (_, reference_raw, _, reference_make) = &cases[0];
    let (hyper_allocs, hyper_bytes) =
        over_socket(plain_in_call_addr, reference_raw.as_bytes(), 200);
    let hyper_service = through_service(&service_fn(plain_in_call), reference_make.as_ref());
    let name = "plain hyper, answered in call";
    println!(
        "{name:<40} {hyper_allocs:>14.2} {hyper_bytes:>14.1} {:>8} {hyper_service:>16.2}",
        "-"
    );
    let (allocs, bytes) = over_socket(plain_async_addr, reference_raw.as_bytes(), 200);
    let service = through_service(&service_fn(plain_async), reference_make.as_ref());
    let name = "plain hyper, async fn";
    let added = allocs - hyper_allocs;
    println!("{name:<40} {allocs:>14.2} {bytes:>14.1} {added:>8.2} {service:>16.2}");
    for (name, raw, status, make) in &cases {
        let (allocs, bytes) = over_socket(addr, raw.as_bytes(), *status);
        let service = through_service(&app, make.as_ref());
        let added = allocs - hyper_allocs;
        println!("{name:<40} {allocs:>14.2} {bytes:>14.1} {added:>8.2} {service:>16.2}");
    }
}
