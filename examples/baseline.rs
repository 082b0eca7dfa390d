//! A plain-hyper baseline for load tests: the same runtime and connection settings as hyperjwt, but
//! every request gets the fixed answer `{"logged_in_as":"user1"}` with no routing, auth or logging.
//! What hyperjwt measures above this is the cost of hyperjwt itself.
//!
//!     cargo build --release --example baseline
//!     PORT=0 target/release/examples/baseline      # prints `listening on http://ADDR`
//!
//! It reads the same configuration as the server (`HOST`, `PORT`, `WORKER_THREADS`, `HEADER_READ_TIMEOUT`,
//! `MAX_HEADERS`, `MAX_HEADER_BYTES`, `MAX_CONNECTIONS`, from the environment or `.env`), and builds
//! its connections with `ConnectionSettings::http1()`, so the settings are the same by construction.
//! `benches/wrk/run.sh` runs it against hyperjwt.

use std::convert::Infallible;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use hyperjwt::Config;
use hyperjwt::server::ConnectionSettings;

const BODY: &[u8] = br#"{"logged_in_as":"user1"}"#;

/// The answer, ready at call time (as hyperjwt's synchronous routes are): an `async fn` would keep
/// the request alive until its first poll, after hyper's keep-alive read, and cost plain hyper a
/// fresh read buffer per request (benches/allocations.rs shows it).
fn answer(_: Request<Incoming>) -> std::future::Ready<Result<Response<Full<Bytes>>, Infallible>> {
    let mut response = Response::new(Full::new(Bytes::from_static(BODY)));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    std::future::ready(Ok(response))
}

/// The accept loop of `hyperjwt::server::serve`, minus the app and graceful shutdown (the load
/// scripts simply kill this process).
async fn serve(listener: TcpListener, settings: ConnectionSettings) {
    let http = settings.http1();
    // At the cap, stop accepting: further clients wait in the kernel's queue, as with hyperjwt.
    let slots = Arc::new(Semaphore::new(settings.max_connections));
    loop {
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of fds or an aborted connection: back off instead of spinning.
                eprintln!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let connection = http.serve_connection(TokioIo::new(stream), service_fn(answer));
        tokio::spawn(async move {
            let _ = connection.await;
            drop(slot);
        });
    }
}

fn main() -> ExitCode {
    // As `hyperjwt serve` (src/bin/hyperjwt/serve.rs): `.env` if present, then the environment;
    // same defaults and same checks.
    let _ = dotenvy::dotenv();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    let settings = ConnectionSettings::from_config(&config);
    // The server's own runtime choice (WORKER_THREADS), so both run on the same threads.
    let runtime = match hyperjwt::server::runtime(&config) {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let address = format!("{}:{}", config.host, config.port);
        let listener = match TcpListener::bind(&address).await {
            Ok(listener) => listener,
            Err(error) => {
                eprintln!("cannot listen on {address}: {error}");
                return ExitCode::FAILURE;
            }
        };
        match listener.local_addr() {
            Ok(local) => println!("listening on http://{local}"),
            Err(error) => {
                eprintln!("cannot read the bound address: {error}");
                return ExitCode::FAILURE;
            }
        }
        serve(listener, settings).await;
        ExitCode::SUCCESS
    })
}
