//! Heap allocations per request, counted by a global allocator: the whole server path (hyper's
//! connection, the wrapper, the router, the handler) over a real keep-alive connection on
//! 127.0.0.1, and the service alone without a socket.
//!
//!     cargo bench --bench allocations
//!
//! Counts are exact, not timed, so they repeat from run to run: a figure that changes means the
//! code changed. The client in this process allocates nothing per request (a request prepared
//! once, a fixed read buffer), so every allocation counted during the measured requests is the
//! server's. The logger is not installed, as with `LOG_LEVEL=warn` in the wrk scripts.

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};

use http_body_util::Empty;
use hyper::body::Bytes;
use hyper::service::Service;
use hyper::{Request, Response};
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
fn through_service(app: &App, make: &dyn Fn() -> Request<Empty<Bytes>>) -> f64 {
    let mut total = 0;
    for _ in 0..MEASURED {
        let request = make();
        let (a0, _) = counters();
        let response: Response<_> = {
            let future = pin!(app.call(request));
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

/// A request: its name, its bytes on the wire, the status it gets, and the same request as the
/// service receives it.
type Case<'a> = (
    &'a str,
    String,
    u16,
    Box<dyn Fn() -> Request<Empty<Bytes>> + 'a>,
);

fn main() {
    let config = Config::with_secret("allocation-count-secret-0123456789abcdef").expect("config");
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
        "{:<40} {:>14} {:>14} {:>16}",
        "request", "socket allocs", "socket bytes", "service allocs"
    );
    for (name, raw, status, make) in &cases {
        let (allocs, bytes) = over_socket(addr, raw.as_bytes(), *status);
        let service = through_service(&app, make.as_ref());
        println!("{name:<40} {allocs:>14.2} {bytes:>14.1} {service:>16.2}");
    }
}
