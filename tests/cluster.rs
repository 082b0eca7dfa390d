//! Several instances sharing one real Redis (feature `redis`; docs/scaling.md): a revocation on one
//! is refused on all, refresh-token reuse is decided once for all, the login limit holds across
//! all, and what each does when Redis is late, gone, frozen, killed or trimmed. Each test starts its own
//! `redis-server` (tests/support/redis.rs) and prints `SKIPPED: redis-server not found` without it.
#![cfg(feature = "redis")]

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hyperjwt::App;
use hyperjwt::server::RunningServer;
use support::redis::RedisServer;
use support::*;

/// How long a revocation may take to reach another instance in these tests (it takes about a
/// millisecond: docs/benchmarks.md); generous for a loaded CI machine.
const PROPAGATION: Duration = Duration::from_secs(5);

/// An instance of the cluster: rotation on, the given Redis, and `extra` settings.
async fn instance(redis: &RedisServer, extra: &[(&str, &str)]) -> (App, RunningServer) {
    let url = redis.url();
    let mut pairs = vec![
        ("REDIS_URL", url.as_str()),
        ("JWT_REFRESH_ROTATION", "true"),
        ("REDIS_CONNECT_TIMEOUT", "5"),
    ];
    pairs.extend_from_slice(extra);
    start_app(&pairs).await
}

async fn instances(redis: &RedisServer, n: usize) -> Vec<(App, RunningServer)> {
    let mut all = Vec::new();
    for _ in 0..n {
        all.push(instance(redis, &[]).await);
    }
    all
}

/// Two instances, and their addresses.
async fn pair(redis: &RedisServer) -> (Vec<(App, RunningServer)>, SocketAddr, SocketAddr) {
    let cluster = instances(redis, 2).await;
    let (a, b) = (cluster[0].1.addr, cluster[1].1.addr);
    (cluster, a, b)
}

fn addrs(cluster: &[(App, RunningServer)]) -> Vec<SocketAddr> {
    cluster.iter().map(|(_, server)| server.addr).collect()
}

/// Waits until `token` gets `401 Token has been revoked` at `route` on `addr`; panics after
/// [`PROPAGATION`]. Returns how long it took.
async fn refused_soon(addr: SocketAddr, route: &str, token: &str) -> Duration {
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
async fn eventually(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < limit, "not within {limit:?}: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_on_one_instance_is_refused_on_every_other() {
    let Some(redis) = RedisServer::start("revoke") else {
        return;
    };
    let cluster = instances(&redis, 3).await;
    let [a, b, c] = addrs(&cluster)[..] else {
        unreachable!()
    };
    let (access, refresh) = login(a, "user1", "password1").await;
    for addr in [a, b, c] {
        assert_eq!(present(addr, "/protected", &access).await.status, 200);
    }
    // /logout on A: the 200 means Redis has it; B and C refuse the token and its session's others.
    assert_eq!(present(a, "/logout", &access).await.status, 200);
    assert_error(
        &present(a, "/protected", &access).await,
        401,
        "Token has been revoked",
    );
    for addr in [b, c] {
        refused_soon(addr, "/protected", &access).await;
        refused_soon(addr, "/refresh", &refresh).await;
    }

    // /logout/all on B ends user2's sessions started on A and C.
    let (on_a, _) = login(a, "user2", "password2").await;
    let (on_c, _) = login(c, "user2", "password2").await;
    let (on_b, _) = login(b, "user2", "password2").await;
    assert_eq!(present(b, "/logout/all", &on_b).await.status, 200);
    for addr in [a, c] {
        refused_soon(addr, "/protected", &on_a).await;
        refused_soon(addr, "/protected", &on_c).await;
    }
    // A new session after it works everywhere.
    let (fresh, _) = login(c, "user2", "password2").await;
    for addr in [a, b, c] {
        assert_eq!(present(addr, "/protected", &fresh).await.status, 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_concurrent_refreshes_on_two_instances_exactly_one_succeeds() {
    let Some(redis) = RedisServer::start("refresh") else {
        return;
    };
    let (_cluster, a, b) = pair(&redis).await;
    let mut won = 0;
    for round in 0..20 {
        let (access, refresh) = login(a, "user1", "password1").await;
        let (on_a, on_b) = tokio::join!(
            present(a, "/refresh", &refresh),
            present(b, "/refresh", &refresh)
        );
        // Never two: Redis's ZADD NX let one rotate; the other was a reuse (RFC 9700 §4.14.2).
        let ok: Vec<&Reply> = [&on_a, &on_b]
            .into_iter()
            .filter(|r| r.status == 200)
            .collect();
        assert!(
            ok.len() <= 1,
            "round {round}: two rotations: {on_a:?} {on_b:?}"
        );
        for reply in [&on_a, &on_b] {
            if reply.status != 200 {
                assert_error(reply, 401, "Token has been revoked");
            }
        }
        // The reuse ended the whole family: the session's first access token, and the winner's
        // new tokens. (The winner re-checks its session after rotating, refresh.rs; when the
        // loser's family end reaches it first, it is refused too, and neither gets tokens.)
        for addr in [a, b] {
            refused_soon(addr, "/protected", &access).await;
        }
        if let Some(winner) = ok.first() {
            won += 1;
            let new_access = winner.json()["access_token"].as_str().unwrap().to_string();
            let new_refresh = winner.json()["refresh_token"].as_str().unwrap().to_string();
            for addr in [a, b] {
                refused_soon(addr, "/protected", &new_access).await;
                refused_soon(addr, "/refresh", &new_refresh).await;
            }
        }
    }
    println!("exactly one 200 in {won} of 20 rounds, none in the others");
    assert!(won > 0, "the winner never got its tokens");
    // A refresh token used once on A and replayed on B: the replay is reuse there too.
    let (_, refresh) = login(a, "user1", "password1").await;
    let first = present(a, "/refresh", &refresh).await;
    assert_eq!(first.status, 200);
    let rotated = first.json()["access_token"].as_str().unwrap().to_string();
    refused_soon(b, "/refresh", &refresh).await;
    refused_soon(a, "/protected", &rotated).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_spread_over_instances_meet_one_limit() {
    let Some(redis) = RedisServer::start("throttle") else {
        return;
    };
    let mut cluster = Vec::new();
    for _ in 0..3 {
        cluster.push(instance(&redis, &[("LOGIN_MAX_FAILURES_PER_USER", "5")]).await);
    }
    let all = addrs(&cluster);
    // Five failures, round robin: each is a plain 401.
    for n in 0..5 {
        let reply = login_reply(all[n % 3], "user1", "wrong").await;
        assert_error(&reply, 401, "Invalid username or password");
    }
    // The sixth attempt, wherever it lands, is refused before bcrypt, even with the right password.
    for addr in &all {
        let reply = login_reply(*addr, "user1", "password1").await;
        assert_error(
            &reply,
            429,
            "Too many failed login attempts, try again later",
        );
        let wait: u64 = reply.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=900).contains(&wait), "{wait}");
    }
    // Another user is not affected, and a success resets that user's count everywhere.
    for n in 0..4 {
        login_reply(all[n % 3], "user2", "wrong").await;
    }
    login(all[1], "user2", "password2").await;
    for n in 0..5 {
        let reply = login_reply(all[n % 3], "user2", "wrong").await;
        assert_eq!(reply.status, 401, "failure {n} after the reset");
    }
    let counter = redis
        .cli(&["KEYS", "hyperjwt:fail:u:*"])
        .expect("redis-cli");
    // Counters are keyed by a digest: no username reaches Redis.
    assert!(!counter.contains("user"), "{counter}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_started_late_refuses_every_earlier_revocation() {
    let Some(redis) = RedisServer::start("late") else {
        return;
    };
    let (_cluster, a, b) = pair(&redis).await;
    // Every kind: a logout (token and family), a rotation (the old refresh token), a cutoff.
    let (logged_out, _) = login(a, "user1", "password1").await;
    assert_eq!(present(a, "/logout", &logged_out).await.status, 200);
    let (_, rotated) = login(b, "user1", "password1").await;
    assert_eq!(present(b, "/refresh", &rotated).await.status, 200);
    let (cut, _) = login(a, "user2", "password2").await;
    assert_eq!(present(b, "/logout/all", &cut).await.status, 200);
    let (alive, _) = login(a, "user1", "password1").await;

    // Loaded at start-up, before it serves: no waiting for the stream.
    let late = instance(&redis, &[]).await;
    let d = late.1.addr;
    assert_error(
        &present(d, "/protected", &logged_out).await,
        401,
        "Token has been revoked",
    );
    assert_error(
        &present(d, "/protected", &cut).await,
        401,
        "Token has been revoked",
    );
    // The rotated refresh token is a reuse here too.
    assert_error(
        &present(d, "/refresh", &rotated).await,
        401,
        "Token has been revoked",
    );
    assert_eq!(present(d, "/protected", &alive).await.status, 200);
}

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
    for (app, _) in &cluster {
        let state = app.state();
        eventually(PROPAGATION, "the replica follows again", || {
            state.denylist.is_connected()
        })
        .await;
    }
    assert_eq!(present(b, "/protected", &unacknowledged).await.status, 200);
    for token in &revoked {
        for addr in [a, b] {
            assert_error(
                &present(addr, "/protected", token).await,
                401,
                "Token has been revoked",
            );
        }
    }
    // A new instance loads them from the replayed file.
    let c = instance(&redis, &[]).await;
    for token in &revoked {
        assert_error(
            &present(c.1.addr, "/protected", token).await,
            401,
            "Token has been revoked",
        );
    }
    let killed = redis.cli(&["ZCARD", "hyperjwt:jtis"]).unwrap();
    assert!(killed.parse::<usize>().unwrap() >= 20, "{killed}");
    // The replicas reconnected on their own: a revocation on the new instance reaches A and B.
    let (access, _) = login(a, "user1", "password1").await;
    assert_eq!(present(c.1.addr, "/logout", &access).await.status, 200);
    refused_soon(a, "/protected", &access).await;
    refused_soon(b, "/protected", &access).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_down_reads_are_served_and_writes_refused_with_503() {
    let Some(mut redis) = RedisServer::start("down") else {
        return;
    };
    let (cluster, a, b) = pair(&redis).await;
    let (revoked, _) = login(a, "user1", "password1").await;
    assert_eq!(present(a, "/logout", &revoked).await.status, 200);
    refused_soon(b, "/protected", &revoked).await;
    let (access, refresh) = login(a, "user1", "password1").await;
    assert!(cluster[0].0.state().denylist.is_connected());

    redis.stop();
    for (app, _) in &cluster {
        let state = app.state();
        eventually(PROPAGATION, "readiness reports Redis gone", || {
            !state.denylist.is_connected()
        })
        .await;
    }
    for addr in [a, b] {
        // Served from the replica: what was revoked still is, the rest still works.
        assert_eq!(present(addr, "/protected", &access).await.status, 200);
        assert_error(
            &present(addr, "/protected", &revoked).await,
            401,
            "Token has been revoked",
        );
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
    for (app, _) in &cluster {
        let state = app.state();
        eventually(PROPAGATION, "the replica follows again", || {
            state.denylist.is_connected()
        })
        .await;
    }
    let rotated = present(b, "/refresh", &refresh).await;
    assert_eq!(rotated.status, 200, "{rotated:?}");
    assert_eq!(present(a, "/logout", &access).await.status, 200);
    refused_soon(b, "/protected", &access).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_missed_trimmed_events_reloads_in_full() {
    let Some(redis) = RedisServer::start("trim") else {
        return;
    };
    let (_, server) = instance(&redis, &[]).await;
    let a = server.addr;
    let (access, _) = login(a, "user1", "password1").await;
    assert_eq!(present(a, "/protected", &access).await.status, 200);
    // A revocation the replica only learns from the sets: in `jtis`, its event trimmed away (as if
    // the instance had been away for more than the stream's length).
    let jti = decode_part(&access, 1)["jti"]
        .as_str()
        .unwrap()
        .replace('-', "");
    let until = (hyperjwt::jwt::now() + 3600).to_string();
    // One script, so atomic: the follower blocked on the stream never sees the event it trims.
    let script = "redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2]); \
                  redis.call('XADD', KEYS[2], '*', 'r', 'f 1 00000000000000000000000000000000'); \
                  return redis.call('XTRIM', KEYS[2], 'MAXLEN', '0')";
    let trimmed = redis.cli(&[
        "EVAL",
        script,
        "2",
        "hyperjwt:jtis",
        "hyperjwt:events",
        &until,
        &jti,
    ]);
    assert_eq!(trimmed.as_deref(), Some("1"));
    refused_soon(a, "/protected", &access).await;
}

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

/// A set larger than one `ZSCAN` page reaches a late instance whole: start-up reads the sets by
/// cursor, which (unlike paging by rank) cannot skip a member while other instances revoke.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_instance_loads_a_set_larger_than_one_page() {
    let Some(redis) = RedisServer::start("large") else {
        return;
    };
    let cluster = instances(&redis, 1).await;
    let a = addrs(&cluster)[0];
    let (logged_out, _) = login(a, "user1", "password1").await;
    assert_eq!(present(a, "/logout", &logged_out).await.status, 200);
    // 25,000 more token revocations, stored as the revocation script stores them: a 32-digit hex
    // key scored by the second it stops mattering.
    let until = (hyperjwt::jwt::now() + 3600).to_string();
    let fill = "for i = 1, tonumber(ARGV[2]) do \
                redis.call('ZADD', KEYS[1], ARGV[1], string.format('%032x', i)) end \
                return redis.call('ZCARD', KEYS[1])";
    let stored = redis.cli(&["EVAL", fill, "1", "hyperjwt:jtis", &until, "25000"]);
    assert_eq!(stored.as_deref(), Some("25001"));

    let late = instance(&redis, &[]).await;
    let metrics = scrape(late.1.addr).await;
    assert_eq!(
        value(&metrics, "hyperjwt_denylist_entries{kind=\"token\"}"),
        25_001.0
    );
    assert_error(
        &present(late.1.addr, "/protected", &logged_out).await,
        401,
        "Token has been revoked",
    );
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
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_redis_gets_503s_in_bounded_time_and_all_recovers_when_it_resumes() {
    let Some(redis) = RedisServer::start("frozen") else {
        return;
    };
    let (cluster, a, b) = pair(&redis).await;
    let (revoked, _) = login(a, "user1", "password1").await;
    assert_eq!(present(a, "/logout", &revoked).await.status, 200);
    refused_soon(b, "/protected", &revoked).await;
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
        assert_error(
            &present(addr, "/protected", &revoked).await,
            401,
            "Token has been revoked",
        );
    }
    for addr in [a, b] {
        let ready = get(addr, "/health/ready", None).await;
        assert_eq!(ready.status, 503, "{ready:?}");
        assert_ne!(ready.json()["checks"]["redis"], "ok", "{ready:?}");
    }

    frozen.resume();
    let resumed_at = Instant::now();
    for (app, _) in &cluster {
        let state = app.state();
        eventually(Duration::from_secs(10), "the replica follows again", || {
            state.denylist.is_connected()
        })
        .await;
    }
    println!(
        "both replicas following {:?} after SIGCONT",
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
