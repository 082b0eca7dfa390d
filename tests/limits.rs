//! Black-box tests of the limits a server on the open internet needs (docs/http.md §6): header count and
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

/// A GET with `Origin` and `n` filler headers, each `value` long.
fn head_with_filler(n: usize, value: &str) -> String {
    let mut request = String::from(
        "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nOrigin: https://app.example\r\n",
    );
    for i in 0..n {
        request.push_str(&format!("X-Filler-{i}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request
}

#[tokio::test]
async fn too_many_headers_is_431() {
    let server = start(&[("MAX_HEADERS", "16")]).await;
    let reply = raw(server.addr, head_with_filler(40, "y").as_bytes()).await;
    assert_eq!(reply.status, 431);
    // Within the limit, served normally.
    assert_eq!(request_with_filler(server.addr, 10).await, 200);
}

#[tokio::test]
async fn a_431_for_a_parsed_head_is_json_with_cors_headers() {
    let server = start(&[("MAX_HEADERS", "16"), ("MAX_HEADER_BYTES", "2048")]).await;
    for head in [
        head_with_filler(40, "y"),
        head_with_filler(3, &"a".repeat(1000)),
    ] {
        let reply = raw(server.addr, head.as_bytes()).await;
        assert_eq!(reply.status, 431);
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert_eq!(reply.msg(), "Request header fields too large");
        assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    }
    // Far beyond the limits (past hyper's own, four times them), hyper answers bare.
    for head in [
        head_with_filler(80, "y"),
        head_with_filler(9, &"a".repeat(1000)),
    ] {
        let reply = raw(server.addr, head.as_bytes()).await;
        assert_eq!(reply.status, 431);
        assert!(reply.body.is_empty(), "{reply:?}");
    }
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

/// Sends a keep-alive `GET /healthz` on `stream` and checks the 200; the connection stays open.
async fn healthz_keeping_alive(stream: &mut TcpStream) {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 512];
    let n = stream.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed() {
    let server = start(&[("HEADER_READ_TIMEOUT", "1")]).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    healthz_keeping_alive(&mut stream).await;
    // No further request: the server hangs up instead of holding the connection forever.
    let (_, closed) = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    assert!(closed, "an idle keep-alive connection was kept open");
}

/// A connection that has been served one request and now waits idle (keep-alive).
async fn idle_connection(addr: std::net::SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    healthz_keeping_alive(&mut s).await;
    s
}

/// A connection from `source` serving a request: a `/login` whose body is still on its way.
async fn busy_connection(addr: std::net::SocketAddr, source: &str) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
    let mut s = socket.connect(addr).await.unwrap();
    s.write_all(
        b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    )
    .await
    .unwrap();
    s
}

/// True if the server closes `stream` within `limit` without answering.
async fn closed_without_answer(stream: &mut TcpStream, limit: Duration) -> bool {
    let (bytes, closed) = read_until_closed(stream, limit).await;
    closed && bytes.is_empty()
}

#[tokio::test]
async fn at_the_cap_the_idlest_waiting_connection_makes_room_for_a_new_one() {
    let server = start(&[("MAX_CONNECTIONS", "2")]).await;
    let mut oldest = idle_connection(server.addr).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut newer = idle_connection(server.addr).await;
    // Both slots are taken by idle keep-alive connections: a third client is served at once...
    let reply = tokio::time::timeout(Duration::from_secs(5), get(server.addr, "/", None))
        .await
        .expect("a new connection was kept waiting behind idle ones");
    assert_eq!(reply.status, 200);
    // ...and the connection that had waited longest was the one closed to make room.
    assert!(closed_without_answer(&mut oldest, Duration::from_secs(5)).await);
    healthz_keeping_alive(&mut newer).await;
}

#[tokio::test]
async fn connections_past_the_cap_wait_while_every_slot_serves_a_request() {
    let server = start(&[("MAX_CONNECTIONS", "2")]).await;
    let mut busy = vec![
        busy_connection(server.addr, "127.0.0.1").await,
        busy_connection(server.addr, "127.0.0.1").await,
    ];
    tokio::time::sleep(Duration::from_millis(100)).await;
    let addr = server.addr;
    let third = tokio::spawn(async move { get(addr, "/", None).await.status });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !third.is_finished(),
        "a third connection was served while both slots served a request"
    );
    // One request completes (its body arrives; a 400 for the broken JSON): the third is served.
    let mut done = busy.pop().unwrap();
    done.write_all(&[b' '; 99]).await.unwrap();
    let (answer, _) = read_until_closed(&mut done, Duration::from_millis(500)).await;
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 400"));
    drop(done);
    assert_eq!(third.await.unwrap(), 200);
}

#[tokio::test]
async fn one_address_cannot_take_every_connection() {
    let server = start(&[("MAX_CONNECTIONS_PER_ADDRESS", "2")]).await;
    let _busy = [
        busy_connection(server.addr, "127.0.0.2").await,
        busy_connection(server.addr, "127.0.0.2").await,
    ];
    tokio::time::sleep(Duration::from_millis(100)).await;
    // A third from the same address is closed at once: both of its connections are busy.
    let mut third = busy_connection(server.addr, "127.0.0.2").await;
    assert!(closed_without_answer(&mut third, Duration::from_secs(5)).await);
    // Any other address is served as usual.
    assert_eq!(get(server.addr, "/healthz", None).await.status, 200);
}

#[tokio::test]
async fn a_body_that_trickles_past_the_timeout_gets_408() {
    let server = start(&[("HEADER_READ_TIMEOUT", "1")]).await;
    let mut slow = busy_connection(server.addr, "127.0.0.1").await;
    let (bytes, closed) = read_until_closed(&mut slow, Duration::from_secs(10)).await;
    assert!(closed);
    let reply = parse(&bytes);
    assert_eq!(reply.status, 408);
    assert_eq!(reply.msg(), "Request body not received in time");
}

/// Posts `size` bytes to `/login` the way Python's http.client does: the whole body is written
/// (no `Expect: 100-continue`), and only then is the answer read. Returns the status, or the I/O
/// error that lost it.
fn post_everything_then_read(addr: std::net::SocketAddr, size: usize) -> Result<u16, String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let head = format!(
        "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
    );
    stream
        .write_all(head.as_bytes())
        .map_err(|e| format!("head: {e}"))?;
    let chunk = vec![b'x'; 64 * 1024];
    let mut sent = 0;
    while sent < size {
        let n = chunk.len().min(size - sent);
        stream
            .write_all(&chunk[..n])
            .map_err(|e| format!("body after {sent} bytes: {e}"))?;
        sent += n;
    }
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .map_err(|e| format!("answer: {e}"))?;
    Ok(parse(&answer).status)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_writes_a_whole_oversized_body_reads_the_413() {
    let server = start(&[]).await;
    let addr = server.addr;
    for size in [1_000_000, 5_000_000] {
        let outcomes = tokio::task::spawn_blocking(move || {
            (0..10)
                .map(|_| post_everything_then_read(addr, size))
                .collect::<Vec<_>>()
        })
        .await
        .unwrap();
        assert!(
            outcomes.iter().all(|o| *o == Ok(413)),
            "{size} bytes: {outcomes:?}"
        );
    }
}

#[tokio::test]
async fn a_client_that_waits_for_100_continue_gets_the_413_without_sending_the_body() {
    let server = start(&[]).await;
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    s.write_all(
        b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\nExpect: 100-continue\r\n\r\n",
    )
    .await
    .unwrap();
    let (bytes, closed) = read_until_closed(&mut s, Duration::from_secs(5)).await;
    assert!(closed);
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(!text.contains("100 Continue"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_flood_gets_503_quickly_and_the_api_stays_up() {
    // No wait for a place (PASSWORD_CHECK_WAIT=0): a full pool refuses at once (tests/overload.rs
    // has the bounded wait).
    let server = start(&[
        ("PASSWORD_CHECK_CONCURRENCY", "1"),
        ("PASSWORD_CHECK_QUEUE", "1"),
        ("PASSWORD_CHECK_WAIT", "0"),
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
}

#[tokio::test]
async fn repeated_failures_for_a_username_get_429_even_with_the_right_password() {
    let server = start(&[("LOGIN_MAX_FAILURES_PER_USER", "2")]).await;
    for _ in 0..2 {
        assert_eq!(login_reply(server.addr, "user1", "wrong").await.status, 401);
    }
    let reply = login_reply(server.addr, "user1", "password1").await;
    assert_eq!(reply.status, 429);
    assert_eq!(
        reply.msg(),
        "Too many failed login attempts, try again later"
    );
    let wait: u64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert!(wait > 0 && wait <= 900, "{wait}");
    // Other users are not locked out by someone guessing user1's password.
    assert_eq!(
        login_reply(server.addr, "user2", "password2").await.status,
        200
    );
}

#[tokio::test]
async fn a_successful_login_resets_the_username_count() {
    let server = start(&[("LOGIN_MAX_FAILURES_PER_USER", "2")]).await;
    // The last: one failure since the success, so not blocked.
    for (i, (password, status)) in [
        ("wrong", 401),
        ("password1", 200),
        ("wrong", 401),
        ("password1", 200),
    ]
    .into_iter()
    .enumerate()
    {
        let reply = login_reply(server.addr, "user1", password).await;
        assert_eq!(reply.status, status, "attempt {i}");
    }
}

#[tokio::test]
async fn many_failures_from_one_address_get_429_for_every_username() {
    let server = start(&[("LOGIN_MAX_FAILURES_PER_ADDRESS", "3")]).await;
    for user in ["a", "b", "c"] {
        assert_eq!(login_reply(server.addr, user, "x").await.status, 401);
    }
    let reply = login_reply(server.addr, "user2", "password2").await;
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
    request(addr, "POST", "/login", &headers, body.as_bytes()).await
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
    let (access, _) = login(server.addr, "user1", "password1").await;
    assert!(access.len() > 256, "{}", access.len());
    let reply = present(server.addr, "/protected", &access).await;
    assert_error(&reply, 401, "Invalid token");
    // The same token is fine where the bound is the default 8 KiB.
    let default = start(&[]).await;
    let (access, _) = login(default.addr, "user1", "password1").await;
    let reply = present(default.addr, "/protected", &access).await;
    assert_eq!(reply.status, 200);
}
