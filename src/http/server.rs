//! The accept loop: binds (with [`listener`]'s longer queue), accepts TCP connections, serves each on its own task with hyper's HTTP/1
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
use tokio::net::TcpListener;

use hyper::body::{Body, Incoming};
use hyper::service::Service;
use hyper::{Request, Response};

use crate::app::App;
use crate::config::Config;
use crate::config::TrustedProxies;
use crate::handlers;
use crate::http::cap_reports::CapReports;
use crate::http::client_addr::ClientAddr;
use crate::http::connections::{Admission, Connections, Pressure, Slot};
use crate::http::listener;
use crate::metrics::{ConnectionGauges, LimitHits, OpenConnection};

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
    /// Connections one address may hold at once (`MAX_CONNECTIONS_PER_ADDRESS`); trusted proxies
    /// are exempt.
    pub max_connections_per_address: usize,
    pub trusted_proxies: TrustedProxies,
    pub shutdown_grace: Duration,
    /// Where open connections are counted for `/metrics`: [`spawn_local`] and [`run_app`] set it
    /// from the app (`App::state().metrics.connections()`); `None` counts nothing.
    pub connection_gauges: Option<Arc<ConnectionGauges>>,
    /// Where connections closed by a cap are counted for `/metrics` (set as `connection_gauges`
    /// is); `None` counts nothing. The caps are logged either way.
    pub limit_hits: Option<Arc<LimitHits>>,
}

impl ConnectionSettings {
    pub fn from_config(config: &Config) -> Self {
        ConnectionSettings {
            header_read_timeout: config.header_read_timeout,
            max_headers: config.max_headers,
            max_header_bytes: config.max_header_bytes,
            max_connections: config.max_connections,
            max_connections_per_address: config.max_connections_per_address,
            trusted_proxies: config.trusted_proxies.clone(),
            shutdown_grace: SHUTDOWN_GRACE,
            connection_gauges: None,
            limit_hits: None,
        }
    }

    /// These settings, counting connections in `app`'s metrics unless they count elsewhere.
    fn counted_by(mut self, app: &App) -> Self {
        if self.connection_gauges.is_none() {
            self.connection_gauges = app.state().metrics.connections();
        }
        if self.limit_hits.is_none() {
            self.limit_hits = app.state().metrics.limit_hits();
        }
        self
    }

    /// hyper's HTTP/1 connection builder with these settings, for serving a connection you
    /// accepted yourself: `settings.http1().serve_connection(TokioIo::new(stream), app)`.
    /// `examples/baseline.rs` uses it too, so the baseline has exactly the server's settings.
    pub fn http1(&self) -> http1::Builder {
        self.builder(self.header_read_timeout)
    }

    /// The builder for connections accepted while the table is nearly full: a quarter of the
    /// header timeout (at least a second), so slow clients are cut off sooner when room is short.
    pub fn http1_under_pressure(&self) -> http1::Builder {
        self.builder((self.header_read_timeout / 4).max(Duration::from_secs(1)))
    }

    fn builder(&self, header_read_timeout: Duration) -> http1::Builder {
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            // Slow clients that trickle their headers are cut off; others are unaffected.
            .header_read_timeout(header_read_timeout)
            // hyper's own limits sit well above the configured ones: heads between the two are
            // parsed and refused by the wrapper service with a JSON 431 and CORS headers a browser
            // can read; only heads far beyond them get hyper's bare 431 (docs/http.md).
            .max_headers(hyper_header_count(self.max_headers))
            .max_header_size(hyper_limit(self.max_header_bytes))
            .keep_alive(true);
        builder
    }
}

/// hyper's limit for a configured one: four times it, so the service sees every head up to there.
fn hyper_limit(configured: usize) -> usize {
    configured.saturating_mul(4)
}

/// The most header fields hyper parses into arrays on its stack; above it, hyper allocates two
/// 8 KiB arrays for every request (benches/allocations.rs shows them).
const HYPER_STACK_HEADERS: usize = 100;

/// hyper's header-count limit: room above the configured one for the service's JSON 431, but no
/// more than hyper parses without allocating, unless the configured limit itself is higher.
fn hyper_header_count(configured: usize) -> usize {
    hyper_limit(configured).min(HYPER_STACK_HEADERS.max(configured + 1))
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
    Build(crate::app::BuildError),
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

/// Builds the app from `config`, binds `HOST:PORT` (and `METRICS_ADDR`, if set) and serves until
/// `shutdown` completes.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), StartError> {
    let app = App::from_config(&config).map_err(StartError::Build)?;
    run_app(config, app, shutdown).await
}

/// [`run`] with an app already built from `config`: for a caller that keeps a handle on it (the
/// binary reloads its users on SIGHUP, [`App::reload_users`]).
pub async fn run_app(
    config: Config,
    app: App,
    shutdown: impl Future<Output = ()>,
) -> Result<(), StartError> {
    if let Some(published) = app.state().tokens.published() {
        let key = published.set.signing_key();
        log::info!(
            "signing with the {} key {} of JWT_KEYS_DIR; {} key(s) published at /.well-known/jwks.json",
            key.alg(),
            key.kid(),
            published.set.public_keys().count()
        );
    } else if config.secret_is_random {
        log::warn!(
            "JWT_SECRET_KEY is not set: using a random key for this run only; tokens will not survive \
             a restart. Set JWT_SECRET_KEY (e.g. `openssl rand -hex 32`) in the environment or .env"
        );
    }
    for warning in config.warnings() {
        log::warn!("{warning}");
    }
    if app.state().users.current().is_demo() {
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
        // With REDIS_URL, start-up has said where they live and how durably (`store::redis`).
        None if config.redis.is_some() => log::info!(
            "denylist: {} live revocation(s) loaded from Redis",
            app.state().denylist.len()
        ),
        None => log::info!(
            "DENYLIST_FILE is not set: revocations are kept in memory and lost on restart"
        ),
    }
    let address = format!("{}:{}", config.host, config.port);
    let listener = listener::bind(&address)
        .await
        .map_err(|e| StartError::Bind(address.clone(), e))?;
    let local = listener
        .local_addr()
        .map_err(|e| StartError::Bind(address, e))?;
    // Bound before the main listener says it listens, so a client that waits for that line finds
    // both.
    let metrics_listener = match config.metrics_addr {
        Some(addr) => {
            let shown = addr.to_string();
            let listener = listener::bind(addr)
                .await
                .map_err(|e| StartError::Bind(shown.clone(), e))?;
            let local = listener
                .local_addr()
                .map_err(|e| StartError::Bind(shown, e))?;
            log::info!("metrics served on http://{local}/metrics (METRICS_ADDR)");
            Some(listener)
        }
        None => None,
    };
    log::info!("hyperjwt listening on http://{local}");
    let settings = ConnectionSettings::from_config(&config);
    // Only a key set has retired keys to drop, and only the `public-keys` feature reads one.
    #[cfg(feature = "public-keys")]
    let dropping = {
        let app = app.clone();
        tokio::spawn(async move { app.state().tokens.drop_retired_keys().await })
    };
    match metrics_listener {
        None => serve(listener, app.clone(), settings.counted_by(&app), shutdown).await,
        Some(metrics_listener) => {
            // One shutdown signal for both listeners: the main one's ends the metrics one too.
            let (stop, stopped) = tokio::sync::watch::channel(false);
            let main = serve(
                listener,
                app.clone(),
                settings.clone().counted_by(&app),
                async {
                    shutdown.await;
                    let _ = stop.send(true);
                },
            );
            let metrics = serve(
                metrics_listener,
                app.metrics_listener(),
                settings,
                async move {
                    let mut stopped = stopped;
                    let _ = stopped.wait_for(|stop| *stop).await;
                },
            );
            tokio::join!(main, metrics);
        }
    }
    #[cfg(feature = "public-keys")]
    dropping.abort();
    // The logger batches lines; write out the last ones before the process exits.
    log::logger().flush();
    Ok(())
}

/// Serves `service` on an already-bound listener until `shutdown` completes, then drains
/// connections. The service is usually an [`App`], or an app mounted beside a host's own routes
/// ([`App::mount`]); hyperjwt's handlers learn each request's peer ([`ClientAddr`], for throttling
/// per address) from a thread-local scope around the service's `call`, not from its extensions.
/// Tests and embedders bind port 0 themselves and call this.
///
/// Every connection is registered in a [`Connections`] table, which keeps slow and idle clients
/// from keeping new ones out (per-address and total caps, the idlest waiting connection closed to
/// make room); see [`crate::http::connections`].
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
    let http_under_pressure = settings.http1_under_pressure();
    let connections = Connections::new(
        settings.max_connections,
        settings.max_connections_per_address,
        settings.trusted_proxies.clone(),
    );
    let reports = CapReports::new(
        settings.max_connections,
        settings.max_connections_per_address,
        settings.limit_hits.clone(),
    );
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // At the cap, room is made by closing the idlest waiting connection; only while every
        // connection is busy with a request do new clients wait in the kernel's accept queue.
        if !connections.has_room() {
            reports.full();
        }
        tokio::select! {
            () = connections.room() => {}
            () = &mut shutdown => break,
        }
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let admission = loop {
            match connections.admit(peer.ip()) {
                // Every connection is busy (all this while since `room` said otherwise): this
                // one waits here, and no other is accepted meanwhile.
                Admission::Full => {
                    reports.full();
                    tokio::select! {
                        () = connections.room() => {}
                        () = &mut shutdown => break None,
                    }
                }
                other => break Some(other),
            }
        };
        let (slot, pressure) = match admission {
            Some(Admission::Admitted {
                slot,
                pressure,
                made_room,
            }) => {
                reports.admitted(peer.ip().to_canonical(), made_room);
                (slot, pressure)
            }
            Some(_) => {
                reports.refused_for_address(peer.ip().to_canonical());
                continue;
            }
            None => break,
        };
        // Our responses are one small write each: send them now, don't wait for more.
        let _ = stream.set_nodelay(true);
        let builder = match pressure {
            Pressure::Normal => &http,
            Pressure::High => &http_under_pressure,
        };
        // Tell handlers who is calling (throttling per address), and the table when a request
        // is being served (such a connection is never closed to make room).
        let inner = service.clone();
        let client = ClientAddr(peer.ip());
        let request_slot = Arc::clone(&slot);
        let per_request = hyper::service::service_fn(move |request: Request<Incoming>| {
            let serving = request_slot.begin_request();
            let peer_scope = handlers::PeerScope::enter(client);
            let response = inner.call(request);
            drop(peer_scope);
            async move {
                // Ends the request when the answer is ready (the block's end), or when hyper drops
                // the future unfinished. The answer is the block's own value, not moved out first.
                let _serving = serving;
                response.await
            }
        });
        let connection = builder.serve_connection(TokioIo::new(stream), per_request);
        let open = settings
            .connection_gauges
            .as_ref()
            .map(ConnectionGauges::opened);
        tokio::spawn(drive_connection(connection, slot, peer, open));
        if pressure == Pressure::High {
            // Near the cap, a flood of connects would keep this loop busy: let the connections
            // (the evicted ones closing, the served ones answering) run between two accepts.
            tokio::task::yield_now().await;
        }
    }
    drop(listener);
    log::info!("shutting down: waiting for in-flight requests");
    connections.close_all();
    tokio::select! {
        () = connections.all_closed() => log::info!("all connections closed"),
        () = tokio::time::sleep(settings.shutdown_grace) => {
            log::warn!("grace period of {:?} passed; closing remaining connections", settings.shutdown_grace);
        }
    }
}

/// Runs one connection until it ends or the table asks it to close (to make room, or because the
/// server is shutting down: [`Connections::close_all`]). A connection waiting for a request is
/// simply dropped (closed); one serving a request is told to finish that request and close
/// (hyper's graceful shutdown of a connection).
///
/// One signal for both, and the connection polled first (`biased`): this runs at every wake-up of
/// every connection, where each further branch would cost a poll (and a lock in tokio's `Notify`).
async fn drive_connection<C>(
    connection: C,
    slot: Arc<Slot>,
    peer: SocketAddr,
    // Counted as open until this task ends.
    _open: Option<OpenConnection>,
) where
    C: Future<Output = hyper::Result<()>> + GracefulConnection,
{
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        biased;
        result = connection.as_mut() => {
            if let Err(e) = result {
                log::debug!("connection from {peer}: {e}");
            }
            return;
        }
        () = slot.evicted() => {}
    }
    if !slot.is_busy() {
        log::debug!("connection from {peer} closed (to make room, or at shutdown)");
        return;
    }
    connection.as_mut().close_after_request();
    if let Err(e) = connection.await {
        log::debug!("connection from {peer}: {e}");
    }
}

/// A connection that can be told to finish its request in flight and then close.
trait GracefulConnection {
    fn close_after_request(self: std::pin::Pin<&mut Self>);
}

impl<I, S, B> GracefulConnection for http1::Connection<I, S>
where
    S: hyper::service::HttpService<Incoming, ResBody = B>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin,
    B: Body + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    fn close_after_request(self: std::pin::Pin<&mut Self>) {
        self.graceful_shutdown();
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
    let settings = settings.counted_by(&app);
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
