//! A cluster for the Redis tests (feature `redis`; tests/cluster.rs, tests/cluster_outages.rs,
//! tests/redis_shapes.rs, tests/redis_durability.rs): instances sharing one [`RedisServer`] (or
//! any `REDIS_URL`), and waiting for what propagates between them or for Redis to be writable.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hyperjwt::App;
use hyperjwt::jwt::TokenType;
use hyperjwt::server::RunningServer;

use super::redis::RedisServer;
use super::{assert_error, claims, get, present, sign, start_app};

/// How long a revocation may take to reach another instance in these tests (it takes about a
/// millisecond: docs/benchmarks.md); generous for a loaded CI machine.
pub const PROPAGATION: Duration = Duration::from_secs(5);

/// An instance of the cluster: rotation on, the given Redis, and `extra` settings.
pub async fn instance(redis: &RedisServer, extra: &[(&str, &str)]) -> (App, RunningServer) {
    instance_at(&redis.url(), extra).await
}

/// An instance of the cluster on the Redis at `url` (any form `REDIS_URL` takes).
pub async fn instance_at(url: &str, extra: &[(&str, &str)]) -> (App, RunningServer) {
    let mut pairs = vec![
        ("REDIS_URL", url),
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

/// Waits until every instance's replica is following Redis (`following`), or has noticed it is
/// not (`!following`); panics after `limit`.
pub async fn all_following(cluster: &[(App, RunningServer)], following: bool, limit: Duration) {
    let what = if following {
        "the replica follows again"
    } else {
        "the replica notices Redis gone"
    };
    for (app, _) in cluster {
        let state = app.state();
        eventually(limit, what, || state.denylist.is_connected() == following).await;
    }
}

/// Logs `user1` in on `a` and out again, and waits until `b` refuses the token too: the cluster
/// shares revocations. Returns the revoked access token.
pub async fn revoked_everywhere(a: SocketAddr, b: SocketAddr) -> String {
    let (revoked, _) = super::login(a, "user1", "password1").await;
    assert_eq!(present(a, "/logout", &revoked).await.status, 200);
    refused_soon(b, "/protected", &revoked).await;
    revoked
}

/// A new access token of `user1`, signed here (no bcrypt): something to log out.
pub fn fresh_token() -> String {
    sign(&claims("user1", TokenType::Access))
}

/// Whether `/health/ready` answers 200 on `addr`.
pub async fn is_ready(addr: SocketAddr) -> bool {
    get(addr, "/health/ready", None).await.status == 200
}

/// Waits until `/health/ready` on `addr` answers 200 (`ready`) or 503; panics after `limit`.
/// Returns how long it took.
pub async fn ready_within(addr: SocketAddr, ready: bool, limit: Duration) -> Duration {
    let start = Instant::now();
    while is_ready(addr).await != ready {
        let body = get(addr, "/health/ready", None).await.body;
        assert!(
            start.elapsed() < limit,
            "ready is not {ready} within {limit:?}: {}",
            String::from_utf8_lossy(&body)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    start.elapsed()
}

/// Logs out fresh tokens on `addr` until one gets 200; panics after `limit`. Returns how long it
/// took and the token logged out.
pub async fn logout_works_within(addr: SocketAddr, limit: Duration) -> (Duration, String) {
    let start = Instant::now();
    loop {
        let token = fresh_token();
        let reply = present(addr, "/logout", &token).await;
        if reply.status == 200 {
            return (start.elapsed(), token);
        }
        assert_error(&reply, 503, "Session store unavailable, try again");
        assert!(start.elapsed() < limit, "no logout worked within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
