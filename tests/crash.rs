//! Crash test for durable revocations: start the real binary with `DENYLIST_FILE`, end many tokens,
//! sessions and users concurrently over real sockets (`/logout` of a token outside any session, of a
//! token in a family, and `/logout/all`), SIGKILL the process in the middle, restart it on the same
//! file, and check that every end that was acknowledged with a 200 still holds: for a family or a
//! user, a *sibling* token that was never presented is refused too, so the family or cutoff record
//! itself survived, not only the presented token's `jti`.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hyperjwt::auth::sessions;
use hyperjwt::auth::tokens::Tokens;
use hyperjwt::jwt::TokenType;
use support::{Binary, temp_dir};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

const SECRET: &str = "crash-test-secret-0123456789abcdef0123456789";
const TOKENS: usize = 2_000;
const CONCURRENCY: usize = 32;
/// Kill the server once this many revocations were acknowledged: well before all of them.
const KILL_AFTER: usize = 200;

fn start(journal: &std::path::Path) -> Binary {
    let dir = journal.parent().unwrap();
    Binary::start(
        dir,
        &[
            ("JWT_SECRET_KEY", SECRET),
            ("DENYLIST_FILE", journal.to_str().unwrap()),
        ],
    )
}

/// Sends one request on a fresh connection and returns the status code, or None if the connection
/// failed (as it does once the server is killed).
async fn status(addr: SocketAddr, method: &str, path: &str, token: &str) -> Option<u16> {
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await.ok()?;
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.ok()?;
        let text = String::from_utf8_lossy(&response);
        text.split(' ').nth(1)?.parse().ok()
    };
    tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .ok()
        .flatten()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_revocations_survive_sigkill() {
    let dir = temp_dir("crash");
    let journal = dir.join("denylist");
    let issuer = Tokens::new(&hyperjwt::Config::with_secret(SECRET).unwrap());
    // Started a second ago, so before any cutoff the flood sets.
    let began = sessions::now_ms() - 1000;
    // Token i and, for a family or a user, a sibling token that is never presented. The users of
    // `/logout/all` don't exist: a sibling whose cutoff was lost would get 404, not 401.
    let (tokens, siblings): (Vec<String>, Vec<Option<String>>) = (0..TOKENS)
        .map(|i| match i % 3 {
            0 => (
                issuer.issue("user1", TokenType::Access, false).unwrap(),
                None,
            ),
            1 => {
                let fam = issuer.new_family(began).unwrap();
                let token = |t| issuer.issue_in("user1", t, false, &fam).unwrap().token;
                (token(TokenType::Access), Some(token(TokenType::Refresh)))
            }
            _ => {
                let user = format!("crash-user-{i}");
                let fam = issuer.new_family(began).unwrap();
                (
                    issuer.issue(&user, TokenType::Access, false).unwrap(),
                    Some(
                        issuer
                            .issue_in(&user, TokenType::Access, false, &fam)
                            .unwrap()
                            .token,
                    ),
                )
            }
        })
        .unzip();

    let mut server = start(&journal);
    let addr = server.addr;
    // Sanity: the first token works before anyone revokes it.
    assert_eq!(
        status(addr, "GET", "/protected", &tokens[0]).await,
        Some(200)
    );

    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let acked_count = Arc::new(AtomicUsize::new(0));
    let next = Arc::new(AtomicUsize::new(0));
    let tokens = Arc::new(tokens);
    let mut workers = Vec::new();
    for _ in 0..CONCURRENCY {
        let (tokens, next, acknowledged, acked_count) = (
            tokens.clone(),
            next.clone(),
            acknowledged.clone(),
            acked_count.clone(),
        );
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= TOKENS {
                    break;
                }
                let path = if i % 3 == 2 { "/logout/all" } else { "/logout" };
                if status(addr, "POST", path, &tokens[i]).await == Some(200) {
                    acknowledged.lock().await.push(i);
                    acked_count.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    // SIGKILL (Child::kill) as soon as enough revocations were acknowledged: no shutdown code runs.
    while acked_count.load(Ordering::Relaxed) < KILL_AFTER {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    server.child.kill().expect("SIGKILL the server");
    server.child.wait().expect("reap the server");
    for worker in workers {
        worker.await.unwrap();
    }
    let acknowledged = acknowledged.lock().await.clone();
    eprintln!(
        "{} of {TOKENS} logouts acknowledged before SIGKILL",
        acknowledged.len()
    );
    assert!(acknowledged.len() >= KILL_AFTER);
    assert!(
        acknowledged.len() < TOKENS,
        "the kill should land mid-way; all {TOKENS} finished first"
    );
    drop(server);

    let restarted = start(&journal);
    let mut still_revoked = 0;
    for &i in &acknowledged {
        let got = status(restarted.addr, "GET", "/protected", &tokens[i]).await;
        assert_eq!(
            got,
            Some(401),
            "token {i} was acknowledged as revoked but is accepted"
        );
        if let Some(sibling) = &siblings[i] {
            let (method, path) = if i % 3 == 1 {
                ("POST", "/refresh")
            } else {
                ("GET", "/protected")
            };
            assert_eq!(
                status(restarted.addr, method, path, sibling).await,
                Some(401),
                "the session or user of token {i} was acknowledged as ended but its sibling is not refused"
            );
        }
        still_revoked += 1;
    }
    assert_eq!(still_revoked, acknowledged.len());
    // Families and cutoffs were among those acknowledged.
    assert!(acknowledged.iter().any(|i| i % 3 == 1));
    assert!(acknowledged.iter().any(|i| i % 3 == 2));
    // And the restarted server does not simply refuse everything: a new token still works.
    let fresh = issuer.issue("user1", TokenType::Access, false).unwrap();
    assert_eq!(
        status(restarted.addr, "GET", "/protected", &fresh).await,
        Some(200)
    );
}
