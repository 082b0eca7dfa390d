//! Several instances sharing one real Redis (feature `redis`; docs/scaling.md): a revocation on one
//! is refused on all, refresh-token reuse is decided once for all, the login limit holds across
//! all, and a late or trimmed replica catches up. What each does when Redis fails is in
//! tests/cluster_outages.rs. Each test starts its own `redis-server` (tests/support/redis.rs) and
//! prints `SKIPPED: redis-server not found` without it; built without the feature, each test is
//! listed as ignored, with the command that runs it.

mod support;

use support::cluster::*;
use support::redis::RedisServer;
use support::*;

#[cfg_attr(
    not(feature = "redis"),
    ignore = "run with: cargo test --features redis"
)]
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
    assert_revoked(a, "/protected", &access).await;
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

#[cfg_attr(
    not(feature = "redis"),
    ignore = "run with: cargo test --features redis"
)]
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

#[cfg_attr(
    not(feature = "redis"),
    ignore = "run with: cargo test --features redis"
)]
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

#[cfg_attr(
    not(feature = "redis"),
    ignore = "run with: cargo test --features redis"
)]
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
    assert_revoked(d, "/protected", &logged_out).await;
    assert_revoked(d, "/protected", &cut).await;
    // The rotated refresh token is a reuse here too.
    assert_revoked(d, "/refresh", &rotated).await;
    assert_eq!(present(d, "/protected", &alive).await.status, 200);
}

#[cfg_attr(
    not(feature = "redis"),
    ignore = "run with: cargo test --features redis"
)]
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

/// A set larger than one `ZSCAN` page reaches a late instance whole: start-up reads the sets by
/// cursor, which (unlike paging by rank) cannot skip a member while other instances revoke.
#[cfg_attr(
    not(feature = "redis"),
    ignore = "run with: cargo test --features redis"
)]
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
    assert_revoked(late.1.addr, "/protected", &logged_out).await;
}

/// RFC 7662 for services that must see revocations: a logout on one instance makes the token
/// inactive for introspection on every other. With HS256 and, in a build with `public-keys` too,
/// with EdDSA tokens from a key set the instances share.
#[cfg_attr(
    not(feature = "redis"),
    ignore = "run with: cargo test --features redis"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_on_any_instance_sees_a_logout_on_another() {
    let Some(redis) = RedisServer::start("introspect") else {
        return;
    };
    #[allow(unused_mut)]
    let mut algorithms = vec![("HS256", vec![])];
    #[cfg(feature = "public-keys")]
    let (_dir, key_set) = {
        let dir = temp_dir("cluster-introspect");
        keys::make_key_set(&dir.join("keys"), hyperjwt::jwt::Algorithm::EdDsa);
        let key_set = dir_str(&dir.join("keys"));
        (dir, key_set)
    };
    #[cfg(feature = "public-keys")]
    {
        algorithms.push((
            "EdDSA",
            vec![
                ("JWT_ALGORITHM", "EdDSA"),
                ("JWT_KEYS_DIR", key_set.as_str()),
            ],
        ));
    }
    for (alg, mut settings) in algorithms {
        settings.push(("INTROSPECTION_CLIENTS", keys::CLIENT));
        let cluster = vec![
            instance(&redis, &settings).await,
            instance(&redis, &settings).await,
        ];
        let [a, b] = addrs(&cluster)[..] else {
            unreachable!()
        };
        let (access, _) = login(a, "user1", "password1").await;
        assert_eq!(decode_part(&access, 0)["alg"], alg);
        let body = format!("token={access}");
        let reply = keys::introspect(b, Some(keys::CLIENT), &body).await;
        assert_eq!(reply.json()["active"], true, "{alg}: {reply:?}");
        assert_eq!(present(a, "/logout", &access).await.status, 200);
        let start = std::time::Instant::now();
        loop {
            let reply = keys::introspect(b, Some(keys::CLIENT), &body).await;
            if reply.body == br#"{"active":false}"# {
                break;
            }
            assert!(
                start.elapsed() < PROPAGATION,
                "{alg}: B still says active: {reply:?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }
}
