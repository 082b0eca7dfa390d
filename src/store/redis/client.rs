//! The transport: `REDIS_URL` and its settings turned into a [`fred`] client (TLS through rustls
//! with the `ring` provider, Sentinel, Cluster, unix sockets), and the one policy hyperjwt needs of
//! it, whatever the shape:
//!
//! - **Never resend a command on its own.** A command whose connection broke may have run (its
//!   reply lost): resent, a revocation would come back "already revoked", and a rotating
//!   `/refresh` would take the client's own first use for a reuse. So every command is tried once
//!   (`max_command_attempts` 1); the request answers 503, and the client's retry is safe
//!   (docs/http.md).
//! - **Fail at once while disconnected** (`fail_fast`): a request gets its 503 without waiting for
//!   a reconnection that may take seconds.
//! - **Reconnect to the current primary** when the connection breaks, when the server stops
//!   answering within the command timeout, and on `READONLY`, `LOADING`, `MASTERDOWN` and
//!   `CLUSTERDOWN` replies: a failover made the node a replica, or it is not serving yet. A new
//!   connection resolves the name again (a managed endpoint that moved), asks Sentinel, or reads
//!   the Cluster's slots again.

use std::sync::Arc;
use std::time::Duration;

use fred::clients::Client;
use fred::prelude::{Builder, ClientLike};
use fred::types::ConnectHandle;
use fred::types::config::{
    Config, ConnectionConfig, PerformanceConfig, ReconnectError, ReconnectPolicy, Server,
    ServerConfig, TlsConfig, TlsConnector, TlsHostMapping, UnresponsiveConfig,
};

use super::error::Error;
use crate::config::{RedisNode, RedisSettings, RedisTopology};

/// The shared client's reconnection: first after 50 ms, doubling up to 2 s, for ever.
const RECONNECT_MIN_MS: u32 = 50;
const RECONNECT_MAX_MS: u32 = 2000;

/// What the client is for: the shared one (requests; it reconnects by itself) or a dedicated one
/// (the follower's blocking reads; its owner makes a new one when it breaks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Shared,
    Dedicated,
}

/// The TLS half of a connection to the servers of `settings`: `None` for plain `redis://`. Made
/// once per [`super::Redis`] (and once at start-up), not per connection: it reads `REDIS_CA_FILE`
/// or the system's certificates, blocking, and a follower reconnecting in an outage would do that
/// on every try.
pub fn tls(settings: &RedisSettings) -> Result<Option<TlsConnector>, Error> {
    settings
        .url
        .tls
        .then(|| tls_connector(settings))
        .transpose()
}

/// A client for `settings`, not yet connected; `tls` from [`tls`] for the same settings.
pub fn build(
    settings: &RedisSettings,
    role: Role,
    tls: Option<&TlsConnector>,
) -> Result<Client, Error> {
    let url = &settings.url;
    let server = match &url.topology {
        RedisTopology::Standalone(node) => ServerConfig::Centralized {
            server: server(node),
        },
        RedisTopology::Unix(path) => ServerConfig::Unix { path: path.clone() },
        RedisTopology::Sentinel { nodes, master } => ServerConfig::Sentinel {
            hosts: nodes.iter().map(server).collect(),
            service_name: master.clone(),
            username: settings.sentinel_username.clone(),
            password: settings
                .sentinel_password
                .as_ref()
                .map(|p| String::from_utf8_lossy(p.as_bytes()).into_owned()),
        },
        RedisTopology::Cluster(nodes) => ServerConfig::Clustered {
            hosts: nodes.iter().map(server).collect(),
            policy: Default::default(),
        },
    };
    let database = url.db;
    let tls = tls.map(|connector| TlsConfig {
        connector: connector.clone(),
        hostnames: TlsHostMapping::None,
    });
    let config = Config {
        server,
        username: url.username.clone(),
        password: url
            .password
            .as_ref()
            .map(|p| String::from_utf8_lossy(p.as_bytes()).into_owned()),
        database: (database != 0).then_some(database),
        tls,
        fail_fast: true,
        ..Config::default()
    };
    let connection = ConnectionConfig {
        connection_timeout: settings.dial_timeout,
        internal_command_timeout: settings.dial_timeout,
        max_command_attempts: 1,
        // A command that waits longer than this closes its connection (the server is frozen or
        // cut off), and the client connects again; blocking reads are the follower's own client's.
        unresponsive: match role {
            Role::Shared => UnresponsiveConfig {
                max_timeout: Some(settings.command_timeout),
                interval: (settings.command_timeout / 4).max(Duration::from_millis(10)),
            },
            Role::Dedicated => UnresponsiveConfig::default(),
        },
        reconnect_errors: vec![
            ReconnectError::ReadOnly,
            ReconnectError::Loading,
            ReconnectError::MasterDown,
            ReconnectError::ClusterDown,
        ],
        ..ConnectionConfig::default()
    };
    let performance = PerformanceConfig {
        default_command_timeout: settings.command_timeout,
        ..PerformanceConfig::default()
    };
    let mut builder = Builder::from_config(config);
    builder
        .set_connection_config(connection)
        .set_performance_config(performance);
    if role == Role::Shared {
        builder.set_policy(ReconnectPolicy::new_exponential(
            0,
            RECONNECT_MIN_MS,
            RECONNECT_MAX_MS,
            2,
        ));
    }
    builder.build().map_err(Error::from)
}

/// Connects `client` (one attempt, within the dial timeout); returns the task that drives it.
pub async fn connect(client: &Client, settings: &RedisSettings) -> Result<ConnectHandle, Error> {
    // fred bounds each step by the dial timeout; this bounds the whole (a Sentinel, then the primary).
    match tokio::time::timeout(settings.dial_timeout * 2, client.init()).await {
        Ok(Ok(task)) => Ok(task),
        Ok(Err(e)) => Err(explain(Error::from(e), settings)),
        Err(_) => Err(Error::Timeout),
    }
}

/// Adds what the error means for this URL: a connection closed during the hand-shake of a plain
/// URL is what a TLS port does, and garbage instead of TLS is what a plain port sends.
fn explain(error: Error, settings: &RedisSettings) -> Error {
    let Error::Unavailable(what) = &error else {
        return error;
    };
    let lower = what.to_ascii_lowercase();
    let tls = settings.url.tls;
    if !tls
        && (lower.contains("reset")
            || lower.contains("closed")
            || lower.contains("broken pipe")
            || lower.contains("eof")
            || lower.contains("canceled"))
    {
        return Error::Unavailable(format!(
            "{what} (Redis closed the connection during the hand-shake: if this port expects \
             TLS, use rediss://)"
        ));
    }
    if tls && (lower.contains("corrupt message") || lower.contains("invalidcontenttype")) {
        return Error::Unavailable(format!(
            "{what} (the server did not answer in TLS: if this port is plain, use redis://)"
        ));
    }
    error
}

fn server(node: &RedisNode) -> Server {
    Server::new(node.host.as_str(), node.port)
}

/// rustls with the `ring` provider, verifying the server's certificate against `REDIS_CA_FILE`
/// or the system's roots. Verification is never off.
fn tls_connector(settings: &RedisSettings) -> Result<TlsConnector, Error> {
    use fred::rustls::pki_types::CertificateDer;
    use fred::rustls::pki_types::pem::PemObject;
    use fred::rustls::{ClientConfig, RootCertStore};

    let mut roots = RootCertStore::empty();
    match &settings.ca_file {
        Some(path) => {
            let shown = path.display();
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| Error::Config(format!("REDIS_CA_FILE {shown}: {e}")))?;
            if certs.is_empty() {
                return Err(Error::Config(format!(
                    "REDIS_CA_FILE {shown}: no PEM certificate in it"
                )));
            }
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|e| Error::Config(format!("REDIS_CA_FILE {shown}: {e}")))?;
            }
        }
        None => {
            let found = fred::rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
        }
    }
    let provider = Arc::new(fred::rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(config))
}
