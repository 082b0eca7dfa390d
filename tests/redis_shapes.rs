//! Redis the way production runs it (feature `redis`; docs/scaling.md, "Redis shapes"), each shape
//! against real servers on loopback: a managed failover (`FAILOVER TO`), Sentinel, TLS with a
//! private CA, Sentinel over TLS, a Redis Cluster and a slot move, a unix socket, a narrow ACL user
//! and wrong credentials, `maxmemory`, a reply lost after Redis applied the command, and a slow
//! Redis.
//! Every test prints `SKIPPED: redis-server not found` without Redis (and fails under `CI=true`).

mod support;

use std::time::{Duration, Instant};

use support::cluster::*;
use support::proxy::Proxy;
use support::redis::{RedisServer, TlsFiles, TlsPorts, cli, free_port, tls_files};
use support::*;

/// Start-up with `pairs`, expected to fail: the error.
fn start_up_error(pairs: &[(&str, &str)]) -> String {
    hyperjwt::App::from_config(&config(pairs))
        .expect_err("start-up fails")
        .to_string()
}

/// The binary started with `envs`, expected to stop at once: its last line (the error), and its
/// whole log. "At once"
/// is observed, not timed: start-up logs `trying for up to ... (REDIS_CONNECT_TIMEOUT)` before it
/// waits to try again, so a log without that line and an error that is not "not reachable within"
/// mean it gave up on its first attempt, however loaded the machine. `REDIS_CONNECT_TIMEOUT` is
/// left at its 30 s: a regression that retries fails after that, on the same two checks.
async fn start_up_stops_at_once(envs: &[(&str, &str)]) -> (String, String) {
    let dir = temp_dir("stops-at-once");
    let envs = [&[("JWT_SECRET_KEY", SECRET)], envs].concat();
    let mut command = binary_command(&dir, &envs);
    command.stderr(std::process::Stdio::piped());
    let out = tokio::process::Command::from(command)
        .output()
        .await
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(
        !log.contains("(REDIS_CONNECT_TIMEOUT)"),
        "it tried again: {log}"
    );
    let last = log.lines().last().unwrap_or_default().to_string();
    assert!(last.contains("cannot start: Redis at "), "{log}");
    (last, log)
}

/// How many events the stream on `port` holds (`XLEN`): one per acknowledged revocation.
fn events(port: u16, prefix: &str) -> usize {
    let key = format!("{prefix}events");
    cli(port, &["XLEN", &key]).unwrap().parse().unwrap()
}

#[cfg_attr(
    not(feature = "redis"),
    ignore = "run with: cargo test --features redis"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failover_to_the_replica_moves_revocations_to_the_new_primary() {
    let Some((primary, replica)) = RedisServer::primary_and_replica("failover") else {
        return;
    };
    // The endpoint a managed service gives: a name that moves to whichever node is primary.
    let endpoint = Proxy::start(primary.addr()).await;
    let (_app, server) = instance_at(&endpoint.url(), &[]).await;
    let addr = server.addr;
    let before = fresh_token();
    assert_eq!(present(addr, "/logout", &before).await.status, 200);
    assert!(is_ready(addr).await);

    // Maintenance: the primary hands over to its replica, and becomes a replica itself.
    let to = ["FAILOVER", "TO", "127.0.0.1", &replica.port.to_string()];
    assert_eq!(primary.cli(&to).as_deref(), Some("OK"));
    primary.wait_for(&["ROLE"], "slave", Duration::from_secs(10));
    // Until the name moves, this instance reaches only a replica: it cannot revoke, and its
    // readiness says so (the balancer takes it out) instead of answering 200 for ever.
    let took = ready_within(addr, false, Duration::from_secs(5)).await;
    println!("FAILOVER TO: readiness 503 {took:?} after the old primary became a replica");
    let refused = present(addr, "/logout", &fresh_token()).await;
    assert_error(&refused, 503, "Session store unavailable, try again");

    // The name moves: the instance reconnects to the new primary by itself.
    endpoint.retarget(replica.addr());
    let (took, after) = logout_works_within(addr, Duration::from_secs(10)).await;
    println!("FAILOVER TO: the first logout after the endpoint moved worked {took:?} later");
    ready_within(addr, true, Duration::from_secs(5)).await;
    // Nothing lost, nothing doubled: one event per acknowledged logout, both refused by an
    // instance that loads from the new primary.
    assert_eq!(events(replica.port, "hyperjwt:"), 2);
    let (_, other) = instance(&replica, &[]).await;
    for token in [&before, &after] {
        assert_revoked(other.addr, "/protected", token).await;
    }
}

const SENTINEL_PASSWORD: &str = "sentinel-secret";

#[cfg_attr(
    not(feature = "redis"),
    ignore = "run with: cargo test --features redis"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentinel_promotes_the_replica_and_no_acknowledged_revocation_is_lost() {
    sentinel_failover("sentinel", false).await;
}

/// `rediss+sentinel://`: TLS to the sentinels and to every data node they name, before and after
/// the promotion, all verified against the test CA (`REDIS_CA_FILE`).
#[cfg_attr(
    not(feature = "redis"),
    ignore = "run with: cargo test --features redis"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentinel_over_tls_promotes_the_replica_and_no_acknowledged_revocation_is_lost() {
    sentinel_failover("sentinel-tls", true).await;
}

/// A primary, its replica and three sentinels (all over TLS with `tls`); two instances log out
/// through them; the primary is killed: once Sentinel has promoted the replica and the old primary
/// rejoins as its replica, logouts work again and every acknowledged revocation is still refused.
async fn sentinel_failover(test: &str, tls: bool) {
    let certificates = temp_dir(&format!("{test}-certificates"));
    let files = match tls {
        true => match TlsFiles::made_in(&certificates) {
            Some(files) => Some(files),
            None => return,
        },
        false => None,
    };
    let ports = TlsPorts {
        primary: free_port(),
        replica: free_port(),
    };
    let Some((mut primary, replica)) =
        RedisServer::primary_and_replica_over(test, files.as_ref().map(|f| (f, ports)))
    else {
        return;
    };
    // The port each node is known by to Sentinel and to hyperjwt: its TLS one under TLS.
    let (primary_port, replica_port) = match tls {
        true => (ports.primary, ports.replica),
        false => (primary.port, replica.port),
    };
    let sentinels: Vec<(RedisServer, u16)> = (0..3)
        .map(|_| {
            let tls_port = free_port();
            let tls = files.as_ref().map(|f| (f, tls_port));
            let sentinel =
                RedisServer::sentinel_over("s", primary_port, Some(SENTINEL_PASSWORD), tls)
                    .unwrap();
            let port = if tls.is_some() {
                tls_port
            } else {
                sentinel.port
            };
            (sentinel, port)
        })
        .collect();
    let auth = ["-a", SENTINEL_PASSWORD, "--no-auth-warning"];
    for (sentinel, _) in &sentinels {
        // Each knows the replica and the two other sentinels, so they can elect a leader.
        let ask = |what: &'static str| [&auth[..], &["SENTINEL", what, "mymaster"]].concat();
        let limit = Duration::from_secs(20);
        sentinel.wait_for(&ask("replicas"), &replica_port.to_string(), limit);
        for (other, port) in &sentinels {
            if other.port != sentinel.port {
                sentinel.wait_for(&ask("sentinels"), &port.to_string(), limit);
            }
        }
    }
    let nodes: Vec<String> = sentinels
        .iter()
        .map(|(_, port)| format!("127.0.0.1:{port}"))
        .collect();
    let scheme = if tls {
        "rediss+sentinel"
    } else {
        "redis+sentinel"
    };
    let url = format!("{scheme}://{}/mymaster", nodes.join(","));
    let ca = files.as_ref().map(|f| f.ca.to_str().unwrap().to_string());
    // WAIT 1: acknowledged once the replica has it, so the promotion cannot lose it.
    let mut extra = vec![
        ("REDIS_SENTINEL_PASSWORD", SENTINEL_PASSWORD),
        ("REDIS_WAIT_REPLICAS", "1"),
    ];
    if let Some(ca) = &ca {
        extra.push(("REDIS_CA_FILE", ca));
    }
    let (_a, a) = instance_at(&url, &extra).await;
    let (_b, b) = instance_at(&url, &extra).await;
    let mut acknowledged = Vec::new();
    for _ in 0..20 {
        let token = fresh_token();
        assert_eq!(present(a.addr, "/logout", &token).await.status, 200);
        acknowledged.push(token);
    }
    refused_soon(b.addr, "/protected", acknowledged.last().unwrap()).await;

    let killed_at = Instant::now();
    primary.kill();
    let master = [
        &auth[..],
        &["SENTINEL", "get-master-addr-by-name", "mymaster"],
    ]
    .concat();
    let (first_sentinel, _) = &sentinels[0];
    first_sentinel.wait_for(&master, &replica_port.to_string(), Duration::from_secs(30));
    println!(
        "{test}: replica promoted {:?} after the kill",
        killed_at.elapsed()
    );
    // With REDIS_WAIT_REPLICAS=1 a revocation needs a replica: until the old primary rejoins as
    // one, logouts are refused (503), not acknowledged without the copy they were promised.
    let refused = present(a.addr, "/logout", &fresh_token()).await;
    assert_error(&refused, 503, "Session store unavailable, try again");
    primary.restart();
    let (took, token) = logout_works_within(a.addr, Duration::from_secs(30)).await;
    acknowledged.push(token);
    println!("{test}: primary killed; a logout worked again {took:?} later");
    ready_within(a.addr, true, Duration::from_secs(10)).await;
    ready_within(b.addr, true, Duration::from_secs(10)).await;
    println!(
        "{test}: both instances ready {:?} after the kill",
        killed_at.elapsed()
    );
    // Every acknowledged revocation is on the new primary: an instance started now refuses
    // them all, and so do the two that lived through the failover.
    let (_c, c) = instance_at(&url, &extra).await;
    for token in &acknowledged {
        for addr in [a.addr, b.addr, c.addr] {
            refused_soon(addr, "/protected", token).await;
        }
    }
    assert!(replica.cli(&["ROLE"]).unwrap().starts_with("master"));
    // At least one event each; more where a logout was applied but answered 503 (WAIT found no
    // replica in time): not acknowledged, and its retry would find it made.
    assert!(events(replica.port, "hyperjwt:") >= acknowledged.len());
}

#[cfg_attr(
    not(feature = "redis"),
    ignore = "run with: cargo test --features redis"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_private_ca_works_and_its_mistakes_are_named() {
    let certificates = temp_dir("tls-certificates");
    let Some((ca, cert, key)) = tls_files(&certificates) else {
        return;
    };
    let tls_port = free_port().to_string();
    let Some(_redis) = RedisServer::start_with(
        "tls",
        &[
            "--tls-port",
            &tls_port,
            "--tls-cert-file",
            cert.to_str().unwrap(),
            "--tls-key-file",
            key.to_str().unwrap(),
            "--tls-ca-cert-file",
            ca.to_str().unwrap(),
            "--tls-auth-clients",
            "no",
        ],
    ) else {
        return;
    };
    let url = format!("rediss://127.0.0.1:{tls_port}");
    let ca_file = ("REDIS_CA_FILE", ca.to_str().unwrap());
    let (_a, a) = instance_at(&url, &[ca_file]).await;
    let (_b, b) = instance_at(&url, &[ca_file]).await;
    revoked_everywhere(a.addr, b.addr).await;
    assert!(is_ready(a.addr).await);

    // Without the CA the certificate does not verify: start-up stops at once and says what to set.
    let (error, _) = start_up_stops_at_once(&[("REDIS_URL", &url)]).await;
    assert!(error.contains("REDIS_CA_FILE"), "{error}");
    // Plain redis:// to the TLS port: the error says to use rediss://.
    let plain = format!("redis://127.0.0.1:{tls_port}");
    let error = start_up_error(&[("REDIS_URL", &plain), ("REDIS_CONNECT_TIMEOUT", "1")]);
    assert!(error.contains("use rediss://"), "{error}");
    println!("plain URL to the TLS port: {error}");
}

#[cfg_attr(
    not(feature = "redis"),
    ignore = "run with: cargo test --features redis"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unix_socket_url_works() {
    let dir = temp_dir("unix-socket");
    let socket = dir.join("redis.sock");
    let socket = socket.to_str().unwrap();
    let Some(_redis) =
        RedisServer::start_with("unix", &["--unixsocket", socket, "--unixsocketperm", "700"])
    else {
        return;
    };
    let url = format!("redis+unix://{socket}");
    let (_a, a) = instance_at(&url, &[]).await;
    let (_b, b) = instance_at(&url, &[]).await;
    revoked_everywhere(a.addr, b.addr).await;
    assert!(is_ready(a.addr).await);
}

/// The minimal ACL of docs/scaling.md for the prefix `hyperjwt:` (Redis 7.0: no WAITAOF).
const MINIMAL_ACL: &str = "on >app-secret ~hyperjwt:* resetchannels -@all +ping +info \
     +client|id +select +evalsha +eval +zadd +xadd +zremrangebyscore +zscan +xinfo|stream +xread \
     +incr +pexpire +get +pttl +del +config|get";

fn set_user(redis: &RedisServer, name: &str, rules: &str) {
    let args: Vec<&str> = ["ACL", "SETUSER", name]
        .into_iter()
        .chain(rules.split(' '))
        .collect();
    assert_eq!(redis.cli(&args).as_deref(), Some("OK"), "{rules}");
}

#[cfg_attr(
    not(feature = "redis"),
    ignore = "run with: cargo test --features redis"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_narrow_acl_works_and_wrong_credentials_stop_start_up_at_once() {
    let Some(redis) = RedisServer::start("acl") else {
        return;
    };
    set_user(&redis, "app", MINIMAL_ACL);
    let url =
        |credentials: &str, db: &str| format!("redis://{credentials}@127.0.0.1:{}{db}", redis.port);
    let good = url("app:app-secret", "");
    let (_a, a) = instance_at(&good, &[]).await;
    let (_b, b) = instance_at(&good, &[]).await;
    revoked_everywhere(a.addr, b.addr).await;
    assert_eq!(login_reply(a.addr, "user1", "wrong").await.status, 401);
    assert!(is_ready(a.addr).await);

    // Each mistake stops start-up at once (not after REDIS_CONNECT_TIMEOUT), saying which, and
    // the password shows nowhere in the log.
    set_user(&redis, "no-xadd", &MINIMAL_ACL.replace(" +xadd", ""));
    for (url, says) in [
        (url("app:wrong", ""), "refused the user or password"),
        (url("app:app-secret", "/99"), "no such database"),
        (url("no-xadd:app-secret", ""), "XADD"),
    ] {
        let (error, log) = start_up_stops_at_once(&[("REDIS_URL", &url)]).await;
        assert!(error.contains(says), "{url}: {error}");
        assert!(!log.contains("secret"), "{log}");
        println!("{error}");
    }

    // A permission taken away while running: the revocation is refused whole (no member without
    // its event, no event without its member), readiness says why, and all mends when it is back.
    let (jtis, stream) = (
        cli_count(&redis, "ZCARD", "hyperjwt:jtis"),
        events(redis.port, "hyperjwt:"),
    );
    set_user(&redis, "app", "-xadd");
    let refused = present(a.addr, "/logout", &fresh_token()).await;
    assert_error(&refused, 503, "Session store unavailable, try again");
    assert_eq!(cli_count(&redis, "ZCARD", "hyperjwt:jtis"), jtis);
    assert_eq!(events(redis.port, "hyperjwt:"), stream);
    ready_within(a.addr, false, Duration::from_secs(5)).await;
    let body = get(a.addr, "/health/ready", None).await.json();
    assert!(
        body["checks"]["redis"].as_str().unwrap().contains("XADD"),
        "{body}"
    );
    set_user(&redis, "app", "+xadd");
    ready_within(a.addr, true, Duration::from_secs(5)).await;
    logout_works_within(a.addr, Duration::from_secs(5)).await;
}

fn cli_count(redis: &RedisServer, command: &str, key: &str) -> usize {
    redis.cli(&[command, key]).unwrap().parse().unwrap()
}

#[cfg_attr(
    not(feature = "redis"),
    ignore = "run with: cargo test --features redis"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_maxmemory_revocations_are_refused_and_readiness_says_so() {
    let Some(redis) = RedisServer::start("maxmemory") else {
        return;
    };
    let (_app, server) = instance(&redis, &[]).await;
    let addr = server.addr;
    assert!(is_ready(addr).await);
    assert_eq!(
        redis.cli(&["CONFIG", "SET", "maxmemory", "1"]).as_deref(),
        Some("OK")
    );
    let took = ready_within(addr, false, Duration::from_secs(5)).await;
    println!("maxmemory: readiness 503 after {took:?}");
    let refused = present(addr, "/logout", &fresh_token()).await;
    assert_error(&refused, 503, "Session store unavailable, try again");
    assert_eq!(
        redis.cli(&["CONFIG", "SET", "maxmemory", "0"]).as_deref(),
        Some("OK")
    );
    ready_within(addr, true, Duration::from_secs(5)).await;
    logout_works_within(addr, Duration::from_secs(5)).await;
}

#[cfg_attr(
    not(feature = "redis"),
    ignore = "run with: cargo test --features redis"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_whose_reply_is_lost_answers_503_and_its_retry_401() {
    let Some(redis) = RedisServer::start("lost-reply") else {
        return;
    };
    let network = Proxy::start(redis.addr()).await;
    let (_app, server) = instance_at(&network.url(), &[("REDIS_COMMAND_TIMEOUT", "0.5")]).await;
    let addr = server.addr;
    let (access, _) = login(addr, "user1", "password1").await;
    // One logout first, so that Redis knows the script (`EVALSHA` of an unknown one is refused).
    assert_eq!(present(addr, "/logout", &fresh_token()).await.status, 200);
    // Redis runs the logout; its reply never comes back.
    network.drop_replies(true);
    let lost = present(addr, "/logout", &access).await;
    assert_error(&lost, 503, "Session store unavailable, try again");
    network.drop_replies(false);
    network.cut();
    // The retry, once Redis can be reached again, finds the logout made.
    let start = Instant::now();
    let retry = loop {
        let reply = present(addr, "/logout", &access).await;
        if reply.status != 503 || start.elapsed() > Duration::from_secs(10) {
            break reply;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_error(&retry, 401, "Token has been revoked");
    // Applied once: one event (the session's) besides the first logout's, not two.
    assert_eq!(events(redis.port, "hyperjwt:"), 2);
}

#[cfg_attr(
    not(feature = "redis"),
    ignore = "run with: cargo test --features redis"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_redis_with_a_password_and_a_database_still_starts() {
    let Some(redis) = RedisServer::start_with("slow", &["--requirepass", "slow-secret"]) else {
        return;
    };
    let network = Proxy::start(redis.addr()).await;
    // Each reply a third of a second late: the hand-shake (AUTH, SELECT, ...) takes well over a second.
    network.delay_replies(Duration::from_millis(350));
    let url = format!("redis://:slow-secret@127.0.0.1:{}/3", network.port);
    let started = Instant::now();
    let (_app, server) = instance_at(&url, &[("REDIS_COMMAND_TIMEOUT", "3")]).await;
    println!(
        "a Redis answering 350 ms late: started in {:?}",
        started.elapsed()
    );
    logout_works_within(server.addr, Duration::from_secs(10)).await;
}

/// One line of `CLUSTER NODES`: the node's id, port, and the slots it serves.
struct ClusterNode {
    id: String,
    port: u16,
    slots: Vec<(u16, u16)>,
}

fn cluster_nodes(port: u16) -> Vec<ClusterNode> {
    let text = cli(port, &["CLUSTER", "NODES"]).unwrap();
    text.lines()
        .map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            let address = fields[1].split('@').next().unwrap();
            let slots = fields[8..]
                .iter()
                .filter(|f| !f.starts_with('['))
                .map(|range| match range.split_once('-') {
                    Some((a, b)) => (a.parse().unwrap(), b.parse().unwrap()),
                    None => (range.parse().unwrap(), range.parse().unwrap()),
                })
                .collect();
            ClusterNode {
                id: fields[0].to_string(),
                port: address.rsplit_once(':').unwrap().1.parse().unwrap(),
                slots,
            }
        })
        .collect()
}

/// Moves `slot` and its keys from node `from` to node `to`, as `redis-cli --cluster reshard` does
/// for each slot: `SETSLOT IMPORTING/MIGRATING`, `MIGRATE` the keys, `SETSLOT NODE` everywhere.
fn move_slot(slot: u16, from: &ClusterNode, to: &ClusterNode, all: &[ClusterNode]) {
    let slot = slot.to_string();
    let ok = |port: u16, args: &[&str]| {
        assert_eq!(cli(port, args).as_deref(), Some("OK"), "{args:?}");
    };
    ok(
        to.port,
        &["CLUSTER", "SETSLOT", &slot, "IMPORTING", &from.id],
    );
    ok(
        from.port,
        &["CLUSTER", "SETSLOT", &slot, "MIGRATING", &to.id],
    );
    loop {
        let keys = cli(from.port, &["CLUSTER", "GETKEYSINSLOT", &slot, "100"]).unwrap();
        if keys.is_empty() {
            break;
        }
        let target = to.port.to_string();
        let mut args = vec!["MIGRATE", "127.0.0.1", &target, "", "0", "5000", "KEYS"];
        args.extend(keys.lines());
        ok(from.port, &args);
    }
    for node in all {
        ok(node.port, &["CLUSTER", "SETSLOT", &slot, "NODE", &to.id]);
    }
}

#[cfg_attr(
    not(feature = "redis"),
    ignore = "run with: cargo test --features redis"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_cluster_follows_redirections_and_a_slot_move() {
    let Some((servers, addresses)) = redis_cluster("cluster", None) else {
        return;
    };
    let first = &servers[0];
    // The URL names one node; the client learns the others. The default prefix is {hyperjwt}:,
    // so every key is in the one slot of `hyperjwt`.
    let url = format!("redis+cluster://{}", addresses[0]);
    let (_a, a) = instance_at(&url, &[]).await;
    let (_b, b) = instance_at(&url, &[]).await;
    revoked_everywhere(a.addr, b.addr).await;
    let before = fresh_token();
    assert_eq!(present(a.addr, "/logout", &before).await.status, 200);

    // A reshard moves our slot to another node; the instances follow the redirection.
    let slot: u16 = first
        .cli(&["CLUSTER", "KEYSLOT", "{hyperjwt}:events"])
        .unwrap()
        .parse()
        .unwrap();
    let nodes = cluster_nodes(first.port);
    let owner = nodes
        .iter()
        .find(|n| n.slots.iter().any(|(lo, hi)| (*lo..=*hi).contains(&slot)))
        .expect("an owner");
    let target = nodes.iter().find(|n| n.id != owner.id).unwrap();
    move_slot(slot, owner, target, &nodes);
    let (took, after) = logout_works_within(a.addr, Duration::from_secs(10)).await;
    println!("Cluster: slot {slot} moved; the next logout worked in {took:?}");
    refused_soon(b.addr, "/protected", &after).await;
    revoked_everywhere(b.addr, a.addr).await;
    // A new instance loads everything from the slot's new owner.
    let (_c, c) = instance_at(&url, &[]).await;
    for token in [&before, &after] {
        assert_revoked(c.addr, "/protected", token).await;
    }
    assert!(is_ready(c.addr).await);
}

/// `rediss+cluster://`: TLS to every node, the cluster bus included, verified against the test CA.
/// The URL names the first node, which `redis-cli --cluster create` gives slots 0-5460; the key
/// prefix's slot is elsewhere, so every command is sent where the client learned it lives.
#[cfg_attr(
    not(feature = "redis"),
    ignore = "run with: cargo test --features redis"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_cluster_over_tls_is_reached_on_every_node_through_one_url() {
    let certificates = temp_dir("cluster-tls-certificates");
    let Some(files) = TlsFiles::made_in(&certificates) else {
        return;
    };
    let Some((nodes, addresses)) = redis_cluster("cluster-tls", Some(&files)) else {
        return;
    };
    let slot = nodes[0]
        .cli(&["CLUSTER", "KEYSLOT", "{hyperjwt}:events"])
        .unwrap();
    assert!(slot.parse::<u16>().unwrap() > 5460, "slot {slot}");
    let url = format!("rediss+cluster://{}", addresses[0]);
    let ca = ("REDIS_CA_FILE", files.ca.to_str().unwrap());
    let (_a, a) = instance_at(&url, &[ca]).await;
    let (_b, b) = instance_at(&url, &[ca]).await;
    let revoked = revoked_everywhere(a.addr, b.addr).await;
    let (_c, c) = instance_at(&url, &[ca]).await;
    assert_revoked(c.addr, "/protected", &revoked).await;
    assert!(is_ready(c.addr).await);
    // Without the CA no node's certificate verifies: start-up stops, naming the setting.
    let (error, _) = start_up_stops_at_once(&[("REDIS_URL", &url)]).await;
    assert!(error.contains("REDIS_CA_FILE"), "{error}");
}

/// Three masters made into a cluster by `redis-cli --cluster create`, once every node says
/// `cluster_state:ok`, and the addresses clients use (the TLS ports, with `tls`: each node also
/// keeps its plain port, which the tests ask through); `None` without `redis-server`.
fn redis_cluster(test: &str, tls: Option<&TlsFiles>) -> Option<(Vec<RedisServer>, Vec<String>)> {
    let mut nodes = Vec::new();
    let mut addresses = Vec::new();
    for n in 1..=3 {
        let mut args: Vec<String> = [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            "2000",
        ]
        .map(String::from)
        .to_vec();
        let tls_port = free_port();
        if let Some(files) = tls {
            args.extend(files.server_args(tls_port));
            args.extend(["--tls-cluster".into(), "yes".into()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let node = RedisServer::start_with(&format!("{test}-{n}"), &args)?;
        let port = if tls.is_some() { tls_port } else { node.port };
        addresses.push(format!("127.0.0.1:{port}"));
        nodes.push(node);
    }
    let mut create = std::process::Command::new("redis-cli");
    if let Some(files) = tls {
        create.args(["--tls", "--cacert", files.ca.to_str().unwrap()]);
    }
    let create = create
        .args(["--cluster", "create"])
        .args(&addresses)
        .args(["--cluster-replicas", "0", "--cluster-yes"])
        .output()
        .expect("redis-cli --cluster create");
    assert!(create.status.success(), "{create:?}");
    for node in &nodes {
        node.wait_for(
            &["CLUSTER", "INFO"],
            "cluster_state:ok",
            Duration::from_secs(20),
        );
    }
    Some((nodes, addresses))
}
