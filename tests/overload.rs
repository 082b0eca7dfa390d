//! Black-box tests of overload (issue 23; docs/http.md §6): during a login flood from one address,
//! a login from another still gets a place and is checked next; a login that finds every
//! password-check place taken waits for one (a bounded time) instead of being refused at once; and
//! each limit that acts (a connection closed by a cap, a 503 for a full pool, a 429) is counted in
//! `/metrics` and logged, once per interval, with the address and the setting to raise.
//! Assertions are on statuses, counts, log lines and ordering, never on wall-clock thresholds.

mod support;

use std::time::Duration;

use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn hits(text: &str, limit: &str) -> f64 {
    value(
        text,
        &format!("hyperjwt_limit_hits_total{{limit=\"{limit}\"}}"),
    )
}

/// Waits until the pool has logins waiting for a place (every place is taken).
async fn until_logins_wait(addr: std::net::SocketAddr) {
    for _ in 0..500 {
        if value(&scrape(addr).await, "hyperjwt_password_checks_waiting") >= 1.0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no login ever waited for a place");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_from_another_address_gets_through_a_flood_and_is_checked_next() {
    // One check at a time, two queue places, and a wait long enough that no flood login runs out.
    let server = start(&[
        ("PASSWORD_CHECK_CONCURRENCY", "1"),
        ("PASSWORD_CHECK_QUEUE", "2"),
        ("PASSWORD_CHECK_WAIT", "3600"),
    ])
    .await;
    let addr = server.addr;
    let flood: Vec<_> = (0..6)
        .map(|_| {
            tokio::spawn(async move { login_from(addr, "127.0.0.1", "user1", "password1").await })
        })
        .collect();
    until_logins_wait(addr).await;
    // Every place is 127.0.0.1's. Before issue 23 the next login got 503 at once, whoever sent it.
    let other = login_from(addr, "127.0.0.2", "user2", "password2").await;
    assert_eq!(other.status, 200, "{other:?}");
    // It was checked next, not after the flood's queue and waiting logins (first come, first
    // served would have made it the last). Of the six flood logins, at most one was being checked
    // when it arrived and at most one lost its queue place to it: the other four (or more, if some
    // had not arrived yet) are still unfinished. Checked after even one more, three would be.
    let unfinished = flood.iter().filter(|login| !login.is_finished()).count();
    assert!(
        unfinished >= 4,
        "the other address's login was not checked next: only {unfinished} flood logins were left"
    );
    let mut statuses = Vec::new();
    for login in flood {
        statuses.push(login.await.unwrap().status);
    }
    // One flood login at most lost its queue place to it (503); the others waited and got in.
    let refused = statuses.iter().filter(|s| **s == 503).count();
    assert!(refused <= 1, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 503),
        "{statuses:?}"
    );
    let text = scrape(addr).await;
    assert_eq!(hits(&text, "password_check_queue"), refused as f64);
    assert_eq!(value(&text, "hyperjwt_password_checks_waiting"), 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_client_waits_for_a_place_instead_of_being_refused_at_once() {
    // One place in all: with the default bounded wait, three logins at once from one address are
    // checked one after another; none is refused.
    let server = start(&[
        ("PASSWORD_CHECK_CONCURRENCY", "1"),
        ("PASSWORD_CHECK_QUEUE", "0"),
        ("PASSWORD_CHECK_WAIT", "3600"),
    ])
    .await;
    let addr = server.addr;
    let logins: Vec<_> = (0..3)
        .map(|_| {
            tokio::spawn(async move { login_from(addr, "127.0.0.1", "user1", "password1").await })
        })
        .collect();
    for login in logins {
        let reply = login.await.unwrap();
        assert_eq!(reply.status, 200, "{reply:?}");
    }
    let text = scrape(addr).await;
    assert_eq!(hits(&text, "password_check_queue"), 0.0);
    // Each waited: for a place, then for the thread.
    assert_eq!(
        value(&text, "hyperjwt_password_check_wait_seconds_count"),
        3.0
    );
}

/// A keep-alive connection from `source` that has been served one request and now waits.
async fn idle_connection_from(addr: std::net::SocketAddr, source: &str) -> TcpStream {
    let mut stream = connect_from(addr, source).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = stream.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    stream
}

/// True if the server closes `stream` (within 10 s) without answering anything more.
async fn closed(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 64];
    matches!(
        tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await,
        Ok(Ok(0) | Err(_))
    )
}

/// The lines of `log` that contain `text`.
fn lines_with(log: &str, text: &str) -> usize {
    log.lines().filter(|line| line.contains(text)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_limit_that_acts_is_counted_and_logged_once_with_the_setting_to_raise() {
    let dir = temp_dir("overload-limits");
    let server = Binary::start(
        &dir,
        &[
            ("JWT_SECRET_KEY", SECRET),
            ("MAX_CONNECTIONS_PER_ADDRESS", "1"),
            ("LOGIN_MAX_FAILURES_PER_USER", "1"),
            ("PASSWORD_CHECK_CONCURRENCY", "1"),
            ("PASSWORD_CHECK_QUEUE", "0"),
            ("PASSWORD_CHECK_WAIT", "0"),
        ],
    );
    let addr = server.addr;

    // The per-address cap: 127.0.0.5 holds its one connection (idle); its next one makes room, and
    // then a third finds the second busy with a request and is closed unanswered.
    let mut idle = idle_connection_from(addr, "127.0.0.5").await;
    let mut busy = connect_from(addr, "127.0.0.5").await;
    assert!(closed(&mut idle).await, "the idle connection was kept");
    busy.write_all(b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        .await
        .unwrap();
    // Let the server read that head: the connection is then serving a request, never closed.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut refused = connect_from(addr, "127.0.0.5").await;
    assert!(closed(&mut refused).await, "a third connection was served");
    let log = server
        .wait_for_log("MAX_CONNECTIONS_PER_ADDRESS=1 reached by 127.0.0.5")
        .await;
    assert!(log.contains("raise MAX_CONNECTIONS_PER_ADDRESS"), "{log}");
    drop(busy);

    // The failed-login limit for a username: 401, then 429.
    assert_eq!(
        login_from(addr, "127.0.0.6", "user1", "wrong").await.status,
        401
    );
    assert_eq!(
        login_from(addr, "127.0.0.6", "user1", "wrong").await.status,
        429
    );
    let log = server
        .wait_for_log("LOGIN_MAX_FAILURES_PER_USER=1 reached: a login from 127.0.0.6 got 429")
        .await;
    let line = log
        .lines()
        .find(|line| line.contains("LOGIN_MAX_FAILURES_PER_USER=1 reached"))
        .unwrap();
    assert!(!line.contains("user1"), "the username was logged: {line}");

    // The password-check pool: one place, no wait; logins from four addresses at once, so the
    // per-address cap does not apply. Whoever finds the place taken gets 503.
    let logins: Vec<_> = ["127.0.0.7", "127.0.0.8", "127.0.0.9", "127.0.0.10"]
        .into_iter()
        .map(|source| {
            tokio::spawn(async move { login_from(addr, source, "user2", "password2").await })
        })
        .collect();
    let mut busy_answers = 0;
    for login in logins {
        let reply = login.await.unwrap();
        if reply.status == 503 {
            assert_eq!(reply.header("retry-after"), Some("1"));
            busy_answers += 1;
        } else {
            assert_eq!(reply.status, 200, "{reply:?}");
        }
    }
    assert!(
        busy_answers >= 1,
        "four logins at once, one place, and none refused"
    );
    let log = server.wait_for_log("password-check places all taken").await;
    assert!(
        log.contains("got 503 after waiting PASSWORD_CHECK_WAIT"),
        "{log}"
    );
    assert!(log.contains("raise PASSWORD_CHECK_CONCURRENCY"), "{log}");

    // Every action counted; each limit logged once, however often it acted (one line a minute).
    let text = scrape(addr).await;
    assert_eq!(hits(&text, "max_connections_per_address"), 2.0);
    assert_eq!(hits(&text, "login_max_failures_per_user"), 1.0);
    assert_eq!(hits(&text, "login_max_failures_per_address"), 0.0);
    assert_eq!(hits(&text, "password_check_queue"), busy_answers as f64);
    assert_eq!(hits(&text, "max_connections"), 0.0);
    let log = server.log().join("\n");
    assert_eq!(
        lines_with(&log, "MAX_CONNECTIONS_PER_ADDRESS=1 reached"),
        1,
        "{log}"
    );
    assert_eq!(
        lines_with(&log, "password-check places all taken"),
        1,
        "{log}"
    );
}

#[tokio::test]
async fn a_connection_closed_by_the_total_cap_is_counted() {
    let server = start(&[("MAX_CONNECTIONS", "2")]).await;
    let addr = server.addr;
    let mut oldest = idle_connection_from(addr, "127.0.0.11").await;
    let _newer = idle_connection_from(addr, "127.0.0.12").await;
    // A third client: the longest-waiting connection is closed to make room, and counted.
    let text = scrape(addr).await;
    assert!(
        closed(&mut oldest).await,
        "the oldest idle connection was kept"
    );
    assert_eq!(hits(&text, "max_connections"), 1.0);
    assert_eq!(hits(&text, "max_connections_per_address"), 0.0);
}
