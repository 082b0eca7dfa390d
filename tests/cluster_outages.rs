//! Instances sharing one real Redis when Redis fails (feature `redis`; docs/scaling.md, "Failure
//! modes"): stopped, killed and restarted, frozen, or never there; what they still serve, what
//! they refuse with 503, what readiness says, and how they recover. Each test starts its own
//! `redis-server` (tests/support/redis.rs) and prints `SKIPPED: redis-server not found` without it;
//! built without the feature, each test is listed as ignored, with the command that runs it.

mod support;

use std::time::{Duration, Instant};

use support::cluster::*;
use support::redis::RedisServer;
use support::*;

#[cfg_attr(
    not(feature = "redis"),
    ignore = "run with: cargo test --features redis"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_down_reads_are_served_and_writes_refused_with_503() {
    let Some(mut redis) = RedisServer::start("down") else {
        return;
    };
    let (cluster, a, b) = pair(&redis).await;
    let revoked = revoked_everywhere(a, b).await;
    let (access, refresh) = login(a, "user1", "password1").await;
    assert!(cluster[0].0.state().denylist.is_connected());

    redis.stop();
    all_following(&cluster, false, PROPAGATION).await;
    for addr in [a, b] {
        // Served from the replica: what was revoked still is, the rest still works.
        assert_eq!(present(addr, "/protected", &access).await.status, 200);
        assert_revoked(addr, "/protected", &revoked).await;
        // Whatever must be shared to be kept is refused, with Retry-After, and nothing happens.
        for reply in [
            present(addr, "/logout", &access).await,
            present(addr, "/logout/all", &access).await,
            present(addr, "/refresh", &refresh).await,
            login_reply(addr, "user1", "password1").await,
        ] {
            assert_error(&reply, 503, "Session store unavailable, try again");
            assert_eq!(reply.header("retry-after"), Some("2"), "{reply:?}");
        }
        assert_eq!(present(addr, "/protected", &access).await.status, 200);
    }

    // Back: the replicas reconnect by themselves, and the same requests now work.
    redis.restart();
    all_following(&cluster, true, PROPAGATION).await;
    let rotated = present(b, "/refresh", &refresh).await;
    assert_eq!(rotated.status, 200, "{rotated:?}");
    assert_eq!(present(a, "/logout", &access).await.status, 200);
    refused_soon(b, "/protected", &access).await;
}

#[cfg_attr(
    not(feature = "redis"),
    ignore = "run with: cargo test --features redis"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_revocations_survive_redis_being_killed() {
    let Some(mut redis) = RedisServer::start("kill") else {
        return;
    };
    let (cluster, a, b) = pair(&redis).await;
    let mut revoked = Vec::new();
    for _ in 0..20 {
        let (access, _) = login(a, "user1", "password1").await;
        assert_eq!(present(b, "/logout", &access).await.status, 200);
        revoked.push(access);
    }
    let (unacknowledged, _) = login(a, "user1", "password1").await;
    // SIGKILL straight after the last 200: only the append-only file is left.
    redis.kill();
    // While it is down, a logout is refused, not half done.
    let reply = present(a, "/logout", &unacknowledged).await;
    assert_error(&reply, 503, "Session store unavailable, try again");
    redis.restart();
    all_following(&cluster, true, PROPAGATION).await;
    assert_eq!(present(b, "/protected", &unacknowledged).await.status, 200);
    for token in &revoked {
        for addr in [a, b] {
            assert_revoked(addr, "/protected", token).await;
        }
    }
    // A new instance loads them from the replayed file.
    let c = instance(&redis, &[]).await;
    for token in &revoked {
        assert_revoked(c.1.addr, "/protected", token).await;
    }
    let killed = redis.cli(&["ZCARD", "hyperjwt:jtis"]).unwrap();
    assert!(killed.parse::<usize>().unwrap() >= 20, "{killed}");
    // The replicas reconnected on their own: a revocation on the new instance reaches A and B.
    let (access, _) = login(a, "user1", "password1").await;
    assert_eq!(present(c.1.addr, "/logout", &access).await.status, 200);
    refused_soon(a, "/protected", &access).await;
    refused_soon(b, "/protected", &access).await;
}

#[cfg_attr(
    not(feature = "redis"),
    ignore = "run with: cargo test --features redis"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_and_metrics_report_redis_down_and_back() {
    let Some(mut redis) = RedisServer::start("ready") else {
        return;
    };
    // A browser's instance: a cookie logout must not clear the cookies of a session it did not end.
    let (app, server) = instance(&redis, &COOKIES).await;
    let addr = server.addr;
    let session = cookie_login(addr, "user1", "password1").await;
    let cookie_logout = || {
        let cookie = session.for_api();
        let csrf = session.csrf_access.clone();
        async move {
            request(
                addr,
                "POST",
                "/logout",
                &[("Cookie", cookie.as_str()), ("X-CSRF-TOKEN", csrf.as_str())],
                b"",
            )
            .await
        }
    };
    let ready = get(addr, "/health/ready", None).await;
    assert_eq!(ready.status, 200, "{ready:?}");
    assert_eq!(ready.json()["checks"]["redis"], "ok");
    let logins = |text: &str| value(text, "hyperjwt_logins_total{result=\"store_unavailable\"}");
    let before = logins(&scrape(addr).await);

    redis.stop();
    let state = app.state();
    eventually(PROPAGATION, "the replica notices Redis gone", || {
        !state.denylist.is_connected()
    })
    .await;
    let ready = get(addr, "/health/ready", None).await;
    assert_eq!(ready.status, 503, "{ready:?}");
    let body = ready.json();
    assert_eq!(body["status"], "not ready");
    assert_ne!(body["checks"]["redis"], "ok", "{body}");
    assert_eq!(body["checks"]["users"], "ok");
    assert_error(
        &login_reply(addr, "user1", "password1").await,
        503,
        "Session store unavailable, try again",
    );
    let down = scrape(addr).await;
    assert_eq!(logins(&down) - before, 1.0, "{down}");
    let refused = cookie_logout().await;
    assert_error(&refused, 503, "Session store unavailable, try again");
    assert!(refused.all("set-cookie").is_empty(), "{refused:?}");
    // A 503 for want of Redis is not a busy password-check queue.
    assert_eq!(value(&down, "hyperjwt_logins_total{result=\"busy\"}"), 0.0);

    redis.restart();
    eventually(PROPAGATION, "the replica follows again", || {
        state.denylist.is_connected()
    })
    .await;
    let ready = get(addr, "/health/ready", None).await;
    assert_eq!(ready.status, 200, "{ready:?}");
    assert_eq!(ready.json()["checks"]["redis"], "ok");
    assert_eq!(login_reply(addr, "user1", "password1").await.status, 200);
    let ended = cookie_logout().await;
    assert_eq!(ended.status, 200, "{ended:?}");
    assert_eq!(ended.all("set-cookie").len(), 4, "{ended:?}");
}

/// The shared connection gives up on a command after 2 s (`store::redis`'s command timeout): a
/// request that needs a frozen Redis must have its 503 within twice that.
const FROZEN_BOUND: Duration = Duration::from_secs(4);
/// Once a command has timed out, the connection is dropped, and later requests do not each wait
/// out a command timeout: they fail at once, or after one connection attempt (1 s) that the
/// frozen Redis never answers. Half a second of slack for a loaded machine.
const AFTER_A_TIMEOUT: Duration = Duration::from_millis(1500);

/// `request`, and how long its answer took.
async fn timed<F: std::future::Future<Output = Reply>>(request: F) -> (Reply, Duration) {
    let start = Instant::now();
    let reply = request.await;
    (reply, start.elapsed())
}

/// A 503 of a request that needs Redis, within `bound`.
#[track_caller]
fn unavailable_within(bound: Duration, what: &str, (reply, took): &(Reply, Duration)) {
    assert_error(reply, 503, "Session store unavailable, try again");
    assert_eq!(reply.header("retry-after"), Some("2"), "{what}: {reply:?}");
    assert!(*took < bound, "{what}: 503 after {took:?}");
}

/// A Redis frozen with SIGSTOP keeps its sockets open and answers nothing: requests that need it
/// get their 503 in bounded time (not queued behind a connection that will never answer), reads
/// are served from the replica, readiness says the replica may be stale; after SIGCONT the same
/// instances work again, and their followers carry revocations between them.
#[cfg_attr(
    not(feature = "redis"),
    ignore = "run with: cargo test --features redis"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_redis_gets_503s_in_bounded_time_and_all_recovers_when_it_resumes() {
    let Some(redis) = RedisServer::start("frozen") else {
        return;
    };
    let (cluster, a, b) = pair(&redis).await;
    let revoked = revoked_everywhere(a, b).await;
    let (access, refresh) = login(a, "user1", "password1").await;
    let (reader, _) = login(a, "user2", "password2").await;

    let frozen = redis.freeze();
    let frozen_at = Instant::now();
    // The shared connection is up: the first command waits out its timeout, then the connection
    // is dropped; the next requests connect again (a PING that is never answered) or fail at once.
    let logout = timed(present(a, "/logout", &access)).await;
    unavailable_within(FROZEN_BOUND, "logout", &logout);
    let refresh_reply = timed(present(a, "/refresh", &refresh)).await;
    unavailable_within(AFTER_A_TIMEOUT, "refresh", &refresh_reply);
    let login_503 = timed(login_reply(a, "user1", "password1")).await;
    unavailable_within(AFTER_A_TIMEOUT, "login", &login_503);
    println!(
        "frozen Redis: 503 for /logout in {:?}, then /refresh in {:?}, /login in {:?}",
        logout.1, refresh_reply.1, login_503.1
    );
    // Not ready, as this replica may be going stale: A at its first command that timed out; B,
    // which has asked Redis nothing, once its follower's blocked read (2 s) has had no answer
    // within the command timeout (2 s) either.
    assert!(!cluster[0].0.state().denylist.is_connected());
    let state = cluster[1].0.state();
    eventually(Duration::from_secs(8), "B's follower notices", || {
        !state.denylist.is_connected()
    })
    .await;
    println!("B not ready {:?} after the freeze", frozen_at.elapsed());
    assert!(frozen_at.elapsed() < Duration::from_secs(8));
    // Fifty at once, on both instances: all 503, none waiting for the ones before it.
    let mut all = tokio::task::JoinSet::new();
    for n in 0..50 {
        let addr = if n % 2 == 0 { a } else { b };
        let (access, refresh) = (access.clone(), refresh.clone());
        all.spawn(async move {
            let reply = match n % 3 {
                0 => timed(present(addr, "/logout", &access)).await,
                1 => timed(present(addr, "/refresh", &refresh)).await,
                _ => timed(login_reply(addr, "user1", "password1")).await,
            };
            (n, reply)
        });
    }
    let mut slowest = Duration::ZERO;
    while let Some(done) = all.join_next().await {
        let (n, reply) = done.unwrap();
        unavailable_within(FROZEN_BOUND, &format!("concurrent request {n}"), &reply);
        slowest = slowest.max(reply.1);
    }
    println!("50 concurrent requests to a frozen Redis: all 503, the slowest in {slowest:?}");

    // Reads need no Redis: the replica answers, what was revoked still is.
    for addr in [a, b] {
        assert_eq!(present(addr, "/protected", &reader).await.status, 200);
        assert_revoked(addr, "/protected", &revoked).await;
    }
    for addr in [a, b] {
        let ready = get(addr, "/health/ready", None).await;
        assert_eq!(ready.status, 503, "{ready:?}");
        assert_ne!(ready.json()["checks"]["redis"], "ok", "{ready:?}");
    }

    let resumed_at = Instant::now();
    frozen.resume();
    all_following(&cluster, true, Duration::from_secs(10)).await;
    println!(
        "both replicas following {:?} after sending SIGCONT",
        resumed_at.elapsed()
    );
    for addr in [a, b] {
        let ready = get(addr, "/health/ready", None).await;
        assert_eq!(ready.status, 200, "{ready:?}");
    }
    // The refused logout was not acknowledged, not refused: the frozen Redis may have run it
    // when it resumed (the token is then revoked everywhere), or not. Either is allowed.
    let fate = present(b, "/protected", &access).await;
    assert!(
        fate.status == 200 || fate.msg() == "Token has been revoked",
        "{fate:?}"
    );
    println!(
        "the logout refused while frozen: {} after SIGCONT",
        fate.status
    );
    // The same instances, never restarted, work again, and carry revocations between them.
    let (_, fresh_refresh) = login(a, "user2", "password2").await;
    let rotated = present(a, "/refresh", &fresh_refresh).await;
    assert_eq!(rotated.status, 200, "{rotated:?}");
    let new_access = rotated.json()["access_token"].as_str().unwrap().to_string();
    assert_eq!(present(b, "/protected", &new_access).await.status, 200);
    assert_eq!(present(a, "/logout", &new_access).await.status, 200);
    refused_soon(b, "/protected", &new_access).await;
    refused_soon(b, "/refresh", &fresh_refresh).await;
}

#[cfg_attr(
    not(feature = "redis"),
    ignore = "run with: cargo test --features redis"
)]
#[test]
fn start_up_without_redis_gives_up_after_the_timeout_with_one_clear_line() {
    let dir = temp_dir("no-redis");
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("redis://127.0.0.1:{port}");
    let started = Instant::now();
    let mut child = binary_command(
        &dir,
        &[
            ("JWT_SECRET_KEY", SECRET),
            ("REDIS_URL", &url),
            ("REDIS_CONNECT_TIMEOUT", "1"),
        ],
    )
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let status = wait_with_timeout(&mut child);
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(started.elapsed() >= Duration::from_millis(900), "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.contains("Redis at redis://127.0.0.1:")
            && last.contains("within 1 s (REDIS_CONNECT_TIMEOUT)"),
        "{stderr}"
    );
}
