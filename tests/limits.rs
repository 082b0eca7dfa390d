//! Black-box tests of the limits a server on the open internet needs (DESIGN §6): header count and
//! size (431), slow clients cut off by the header read timeout while others are served, idle
//! keep-alive connections closed, the connection cap, the bounded password-check queue (503), and a
//! graceful shutdown that lets a request in flight finish.
//! Assertions are on statuses and ordering, never on wall-clock thresholds.

mod support;

use std::time::Duration;

use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads until the peer closes or `limit` passes; returns what arrived and whether it closed.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (Vec<u8>, bool) {
    let mut bytes = Vec::new();
    let closed = tokio::time::timeout(limit, stream.read_to_end(&mut bytes))
        .await
        .is_ok();
    (bytes, closed)
}

#[tokio::test]
async fn too_many_headers_is_431() {
    let server = start(&[("MAX_HEADERS", "16")]).await;
    let mut request = String::from("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
    for i in 0..40 {
        request.push_str(&format!("X-Filler-{i}: y\r\n"));
    }
    request.push_str("\r\n");
    assert_eq!(raw(server.addr, request.as_bytes()).await.status, 431);
    // Within the limit, served normally.
    assert_eq!(request_with_filler(server.addr, 10).await, 200);
}

async fn request_with_filler(addr: std::net::SocketAddr, n: usize) -> u16 {
    let filler: Vec<(String, String)> = (0..n)
        .map(|i| (format!("X-Filler-{i}"), "y".into()))
        .collect();
    let headers: Vec<(&str, &str)> = filler
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    request(addr, "GET", "/", &headers, b"").await.status
}

#[tokio::test]
async fn oversized_headers_are_431() {
    let server = start(&[("MAX_HEADER_BYTES", "2048")]).await;
    let big = "a".repeat(4096);
    let reply = request(server.addr, "GET", "/", &[("X-Big", &big)], b"").await;
    assert_eq!(reply.status, 431);
    let ok = "a".repeat(512);
    assert_eq!(
        request(server.addr, "GET", "/", &[("X-Big", &ok)], b"")
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn a_slow_client_is_cut_off_while_others_are_served() {
    let server = start(&[("HEADER_READ_TIMEOUT", "1")]).await;
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    // Half a request head, then silence.
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // Meanwhile a normal client is answered.
    assert_eq!(get(server.addr, "/healthz", None).await.status, 200);
    // The slow one is disconnected (hyper may first send 408) and never gets a 200.
    let (bytes, closed) = read_until_closed(&mut slow, Duration::from_secs(10)).await;
    assert!(closed, "the slow client was never cut off");
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains("200 OK"), "{text}");
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed() {
    let server = start(&[("HEADER_READ_TIMEOUT", "1")]).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0u8; 512];
    let n = stream.read(&mut first).await.unwrap();
    assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));
    // No further request: the server hangs up instead of holding the connection forever.
    let (_, closed) = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    assert!(closed, "an idle keep-alive connection was kept open");
}

#[tokio::test]
async fn connections_past_the_cap_wait_until_a_slot_frees() {
    let server = start(&[("MAX_CONNECTIONS", "2")]).await;
    // Two idle connections take both slots (each with a served request, so they are surely accepted).
    let mut holders = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(server.addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 512];
        let n = s.read(&mut buf).await.unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        holders.push(s);
    }
    let addr = server.addr;
    let third = tokio::spawn(async move { get(addr, "/", None).await.status });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !third.is_finished(),
        "a third connection was served past MAX_CONNECTIONS=2"
    );
    drop(holders.pop());
    assert_eq!(third.await.unwrap(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_flood_gets_503_quickly_and_the_api_stays_up() {
    let server = start(&[
        ("PASSWORD_CHECK_CONCURRENCY", "1"),
        ("PASSWORD_CHECK_QUEUE", "1"),
    ])
    .await;
    let addr = server.addr;
    let body = r#"{"username":"user1","password":"password1"}"#;
    let mut flood = Vec::new();
    for _ in 0..8 {
        flood.push(tokio::spawn(async move {
            let reply = post_json(addr, "/login", None, body).await;
            (
                reply.status,
                reply.header("retry-after").map(str::to_string),
                reply.msg(),
            )
        }));
    }
    // While bcrypt is busy, the rest of the API answers before the flood has drained.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(get(addr, "/", None).await.status, 200);
    let unfinished = flood.iter().filter(|t| !t.is_finished()).count();
    assert!(unfinished > 0, "GET / waited for every login to finish");
    let mut busy = 0;
    let mut ok = 0;
    for task in flood {
        let (status, retry_after, msg) = task.await.unwrap();
        match status {
            200 => ok += 1,
            503 => {
                busy += 1;
                assert_eq!(retry_after.as_deref(), Some("1"));
                assert_eq!(msg, "Server busy, try again");
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(ok >= 2 && busy >= 1, "ok {ok}, busy {busy}");
}

#[tokio::test]
async fn sigterm_lets_a_request_in_flight_finish() {
    let dir = temp_dir("limits-graceful");
    let mut server = Binary::start(&dir, &[]);
    let addr = server.addr;
    // A login takes a bcrypt verification (~0.25 s): long enough to be in flight at SIGTERM.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let body = r#"{"username":"user1","password":"password1"}"#;
    let request = format!(
        "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    // Give the server a moment to read the request; bcrypt then runs for ~0.25 s.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let status = tokio::task::spawn_blocking(move || server.terminate())
        .await
        .unwrap();
    let (bytes, _) = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    let reply = parse(&bytes);
    assert_eq!(reply.status, 200, "{:?}", String::from_utf8_lossy(&bytes));
    assert!(reply.json()["access_token"].is_string());
    assert!(status.success(), "{status:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

async fn login_status(addr: std::net::SocketAddr, user: &str, password: &str) -> Reply {
    let body = format!(r#"{{"username":"{user}","password":"{password}"}}"#);
    post_json(addr, "/login", None, &body).await
}

#[tokio::test]
async fn repeated_failures_for_a_username_get_429_even_with_the_right_password() {
    let server = start(&[("LOGIN_MAX_FAILURES_PER_USER", "2")]).await;
    for _ in 0..2 {
        assert_eq!(
            login_status(server.addr, "user1", "wrong").await.status,
            401
        );
    }
    let reply = login_status(server.addr, "user1", "password1").await;
    assert_eq!(reply.status, 429);
    assert_eq!(
        reply.msg(),
        "Too many failed login attempts, try again later"
    );
    let wait: u64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert!(wait > 0 && wait <= 900, "{wait}");
    // Other users are not locked out by someone guessing user1's password.
    assert_eq!(
        login_status(server.addr, "user2", "password2").await.status,
        200
    );
}

#[tokio::test]
async fn a_successful_login_resets_the_username_count() {
    let server = start(&[("LOGIN_MAX_FAILURES_PER_USER", "2")]).await;
    assert_eq!(
        login_status(server.addr, "user1", "wrong").await.status,
        401
    );
    assert_eq!(
        login_status(server.addr, "user1", "password1").await.status,
        200
    );
    assert_eq!(
        login_status(server.addr, "user1", "wrong").await.status,
        401
    );
    // One failure since the success: not blocked.
    assert_eq!(
        login_status(server.addr, "user1", "password1").await.status,
        200
    );
}

#[tokio::test]
async fn many_failures_from_one_address_get_429_for_every_username() {
    let server = start(&[("LOGIN_MAX_FAILURES_PER_ADDRESS", "3")]).await;
    for user in ["a", "b", "c"] {
        assert_eq!(login_status(server.addr, user, "x").await.status, 401);
    }
    let reply = login_status(server.addr, "user2", "password2").await;
    assert_eq!(reply.status, 429);
    assert!(reply.header("retry-after").is_some());
}

/// Logs in from behind a (pretend) proxy that says the client is `forwarded_for`.
async fn login_via_proxy(addr: std::net::SocketAddr, forwarded_for: &str, user: &str) -> Reply {
    let body = format!(r#"{{"username":"{user}","password":"wrong"}}"#);
    let headers = [
        ("Content-Type", "application/json"),
        ("X-Forwarded-For", forwarded_for),
    ];
    support::request(addr, "POST", "/login", &headers, body.as_bytes()).await
}

#[tokio::test]
async fn x_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() {
    // Not trusted (the default): a client can't dodge the per-address limit by inventing addresses.
    let server = start(&[("LOGIN_MAX_FAILURES_PER_ADDRESS", "2")]).await;
    for (i, user) in ["a", "b"].iter().enumerate() {
        let forged = format!("203.0.113.{i}");
        assert_eq!(
            login_via_proxy(server.addr, &forged, user).await.status,
            401
        );
    }
    let reply = login_via_proxy(server.addr, "203.0.113.77", "c").await;
    assert_eq!(reply.status, 429);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_count() {
    let server = start(&[
        ("LOGIN_MAX_FAILURES_PER_ADDRESS", "2"),
        ("TRUSTED_PROXIES", "127.0.0.1"),
    ])
    .await;
    for user in ["a", "b"] {
        let reply = login_via_proxy(server.addr, "203.0.113.5", user).await;
        assert_eq!(reply.status, 401);
    }
    // The client behind the proxy is blocked...
    let blocked = login_via_proxy(server.addr, "203.0.113.5", "c").await;
    assert_eq!(blocked.status, 429);
    // ...even when it prepends a made-up address of its own, which the proxy passes on...
    let dodge = login_via_proxy(server.addr, "198.51.100.1, 203.0.113.5", "d").await;
    assert_eq!(dodge.status, 429);
    // ...while another client of the same proxy is not.
    let other = login_via_proxy(server.addr, "203.0.113.6", "e").await;
    assert_eq!(other.status, 401);
}

#[tokio::test]
async fn tokens_longer_than_max_token_bytes_are_refused_before_decoding() {
    let server = start(&[("MAX_TOKEN_BYTES", "256")]).await;
    let (access, _) = support::login(server.addr, "user1", "password1").await;
    assert!(access.len() > 256, "{}", access.len());
    let reply = support::get(server.addr, "/protected", Some(&access)).await;
    assert_eq!((reply.status, reply.msg().as_str()), (401, "Invalid token"));
    // The same token is fine where the bound is the default 8 KiB.
    let default = start(&[]).await;
    let (access, _) = support::login(default.addr, "user1", "password1").await;
    let reply = support::get(default.addr, "/protected", Some(&access)).await;
    assert_eq!(reply.status, 200);
}
