//! The accept loop: binds, accepts TCP connections, serves each on its own task with hyper's HTTP/1
//! connection (timeouts and limits set here), and shuts down gracefully.
//!
//! Shutdown: when the `shutdown` future completes (SIGINT/SIGTERM in `main`), the listener is closed,
//! every open connection is told to finish its in-flight request and close, and we wait for them up
//! to a grace period.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use hyper::body::{Body, Incoming};
use hyper::service::Service;
use hyper::{Request, Response};

use crate::client_addr::ClientAddr;
use crate::config::Config;
use crate::service::App;

/// How long in-flight requests may take to finish after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Per-connection settings, from the configuration.
#[derive(Debug, Clone)]
pub struct ConnectionSettings {
    /// Also bounds how long an idle keep-alive connection may wait for its next request: hyper starts
    /// this timer whenever it waits for a request head.
    pub header_read_timeout: Duration,
    pub max_headers: usize,
    pub max_header_bytes: usize,
    pub max_connections: usize,
    pub shutdown_grace: Duration,
}

impl ConnectionSettings {
    pub fn from_config(config: &Config) -> Self {
        ConnectionSettings {
            header_read_timeout: config.header_read_timeout,
            max_headers: config.max_headers,
            max_header_bytes: config.max_header_bytes,
            max_connections: config.max_connections,
            shutdown_grace: SHUTDOWN_GRACE,
        }
    }

    /// hyper's HTTP/1 connection builder with these settings, for serving a connection you
    /// accepted yourself: `settings.http1().serve_connection(TokioIo::new(stream), app)`.
    /// `examples/baseline.rs` uses it too, so the baseline has exactly the server's settings.
    pub fn http1(&self) -> http1::Builder {
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            // Slow clients that trickle their headers are cut off; others are unaffected.
            .header_read_timeout(self.header_read_timeout)
            // Too many or too large headers: hyper answers 431 and closes.
            .max_headers(self.max_headers)
            .max_header_size(self.max_header_bytes)
            .keep_alive(true);
        builder
    }
}

/// The tokio runtime the server runs on, as `WORKER_THREADS` says, or by default as measured
/// (docs/benchmarks.md): on a host with one or two cores, a single-threaded runtime (on 2 cores it
/// served `/protected` as fast as two workers, with a quarter of the p99 latency, and leaves the
/// other core to bcrypt); on more cores, one worker per core. `examples/baseline.rs` uses it too.
pub fn runtime(config: &Config) -> io::Result<tokio::runtime::Runtime> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = match config.worker_threads {
        0 if cores <= 2 => 1,
        0 => cores,
        n => n,
    };
    let mut builder = match workers {
        1 => tokio::runtime::Builder::new_current_thread(),
        n => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(n);
            builder
        }
    };
    builder.enable_all().build()
}

/// Why the server could not start.
#[derive(Debug)]
pub enum StartError {
    Build(crate::service::BuildError),
    Bind(String, io::Error),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Build(e) => write!(f, "{e}"),
            StartError::Bind(addr, e) => write!(
                f,
                "cannot listen on {addr}: {e} (set HOST and PORT to a free local address)"
            ),
        }
    }
}

impl std::error::Error for StartError {}

/// Builds the app from `config`, binds `HOST:PORT` and serves until `shutdown` completes.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), StartError> {
    let app = App::from_config(&config).map_err(StartError::Build)?;
    if config.secret_is_random {
        log::warn!(
            "JWT_SECRET_KEY is not set: using a random key for this run only; tokens will not survive \
             a restart. Set JWT_SECRET_KEY (e.g. `openssl rand -hex 32`) in the environment or .env"
        );
    }
    if app.state().users.is_demo() {
        log::warn!(
            "USERS_FILE is not set: serving the demo users user1/password1 and user2/password2. \
             Do not expose this to a network"
        );
    }
    match &config.denylist_file {
        Some(path) => log::info!(
            "denylist: {} live revocation(s) loaded from {}",
            app.state().denylist.len(),
            path.display()
        ),
        None => log::info!(
            "DENYLIST_FILE is not set: revocations are kept in memory and lost on restart"
        ),
    }
    let address = format!("{}:{}", config.host, config.port);
    let listener = TcpListener::bind(&address)
        .await
        .map_err(|e| StartError::Bind(address.clone(), e))?;
    let local = listener
        .local_addr()
        .map_err(|e| StartError::Bind(address, e))?;
    log::info!("hyperjwt listening on http://{local}");
    serve(
        listener,
        app,
        ConnectionSettings::from_config(&config),
        shutdown,
    )
    .await;
    // The logger batches lines; write out the last ones before the process exits.
    log::logger().flush();
    Ok(())
}

/// Serves `service` on an already-bound listener until `shutdown` completes, then drains
/// connections. The service is usually an [`App`], or an app mounted beside a host's own routes
/// ([`App::mount`]); each request carries the peer's [`ClientAddr`] in its extensions.
/// Tests and embedders bind port 0 themselves and call this.
pub async fn serve<S, ResBody>(
    listener: TcpListener,
    service: S,
    settings: ConnectionSettings,
    shutdown: impl Future<Output = ()>,
) where
    S: Service<Request<Incoming>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    ResBody: Body + Send + 'static,
    ResBody::Data: Send,
    ResBody::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let http = settings.http1();
    let graceful = GracefulShutdown::new();
    // One permit per connection served. At the cap we simply stop accepting: further clients wait in
    // the kernel's accept queue (or time out there) instead of costing us memory.
    let slots = Arc::new(Semaphore::new(settings.max_connections));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    // Our responses are one small write each: send them now, don't wait for more.
                    let _ = stream.set_nodelay(true);
                    // Tell handlers who is calling (failed-login throttling per address).
                    let inner = service.clone();
                    let client = ClientAddr(peer.ip());
                    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
                        request.extensions_mut().insert(client);
                        inner.call(request)
                    });
                    let connection = http.serve_connection(TokioIo::new(stream), service);
                    let connection = graceful.watch(connection);
                    tokio::spawn(async move {
                        if let Err(e) = connection.await {
                            log::debug!("connection from {peer}: {e}");
                        }
                        drop(slot);
                    });
                }
                Err(e) => accept_failed(e).await,
            },
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    log::info!("shutting down: waiting for in-flight requests");
    tokio::select! {
        () = graceful.shutdown() => log::info!("all connections closed"),
        () = tokio::time::sleep(settings.shutdown_grace) => {
            log::warn!("grace period of {:?} passed; closing remaining connections", settings.shutdown_grace);
        }
    }
}

/// `accept` fails on resource exhaustion (EMFILE, ENFILE, ENOBUFS) or a connection aborted in the
/// queue. None of these should end the server; back off briefly so we don't spin while out of fds.
async fn accept_failed(error: io::Error) {
    log::warn!("accept failed: {error}");
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// Binds `127.0.0.1:0` and serves `app` in the background. Returns the address and a handle that
/// stops the server when dropped or triggered. Used by tests and examples.
pub async fn spawn_local(app: App, settings: ConnectionSettings) -> io::Result<RunningServer> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, app, settings, async {
        let _ = stopped.await;
    }));
    Ok(RunningServer {
        addr,
        stop: Some(stop),
        task,
    })
}

/// A server started by [`spawn_local`].
#[derive(Debug)]
pub struct RunningServer {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningServer {
    /// Triggers graceful shutdown and waits for it to complete.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}
