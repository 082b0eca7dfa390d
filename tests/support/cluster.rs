//! A cluster for the Redis tests (feature `redis`; tests/cluster.rs, tests/cluster_outages.rs):
//! instances sharing one [`RedisServer`], and waiting for what propagates between them.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hyperjwt::App;
use hyperjwt::server::RunningServer;

use super::redis::RedisServer;
use super::{assert_error, present, start_app};

/// How long a revocation may take to reach another instance in these tests (it takes about a
/// millisecond: docs/benchmarks.md); generous for a loaded CI machine.
pub const PROPAGATION: Duration = Duration::from_secs(5);

/// An instance of the cluster: rotation on, the given Redis, and `extra` settings.
pub async fn instance(redis: &RedisServer, extra: &[(&str, &str)]) -> (App, RunningServer) {
    let url = redis.url();
    let mut pairs = vec![
        ("REDIS_URL", url.as_str()),
        ("JWT_REFRESH_ROTATION", "true"),
        ("REDIS_CONNECT_TIMEOUT", "5"),
    ];
    pairs.extend_from_slice(extra);
    start_app(&pairs).await
}

pub async fn instances(redis: &RedisServer, n: usize) -> Vec<(App, RunningServer)> {
    let mut all = Vec::new();
    for _ in 0..n {
        all.push(instance(redis, &[]).await);
    }
    all
}

/// Two instances, and their addresses.
pub async fn pair(redis: &RedisServer) -> (Vec<(App, RunningServer)>, SocketAddr, SocketAddr) {
    let cluster = instances(redis, 2).await;
    let (a, b) = (cluster[0].1.addr, cluster[1].1.addr);
    (cluster, a, b)
}

pub fn addrs(cluster: &[(App, RunningServer)]) -> Vec<SocketAddr> {
    cluster.iter().map(|(_, server)| server.addr).collect()
}

/// Waits until `token` gets `401 Token has been revoked` at `route` on `addr`; panics after
/// [`PROPAGATION`]. Returns how long it took.
pub async fn refused_soon(addr: SocketAddr, route: &str, token: &str) -> Duration {
    let start = Instant::now();
    loop {
        let reply = present(addr, route, token).await;
        if reply.status == 401 {
            assert_error(&reply, 401, "Token has been revoked");
            return start.elapsed();
        }
        assert!(
            start.elapsed() < PROPAGATION,
            "{addr} still accepts the token at {route}: {reply:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits until `check` holds; panics after `limit`.
pub async fn eventually(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < limit, "not within {limit:?}: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
