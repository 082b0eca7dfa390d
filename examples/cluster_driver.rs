//! The load driver of `benches/cluster.sh` (several instances sharing one Redis): tokens are minted
//! here with the bench key (`BENCH_SECRET`), each with its own `jti` and family, so every logout is
//! a real revocation, never a refusal of one already made.
//!
//!     cargo run --release --example cluster_driver -- propagation A B N
//!     cargo run --release --example cluster_driver -- logouts ADDR CONNECTIONS SECONDS
//!     cargo run --release --example cluster_driver -- protected ADDR N
//!     cargo run --release --example cluster_driver -- outage ADDR SECONDS
//!
//! `propagation`: N times, a token B accepts is logged out on A; from A's 200 (the revocation is
//! in Redis) B is asked again and again over one kept-alive connection until it refuses it; prints
//! p50, p99 and max of that delay. `logouts`: CONNECTIONS kept-alive connections each send
//! `POST /logout` with a fresh token as fast as answers come, for SECONDS; prints logouts/s, the
//! p50 and p99 of their latency, and how many answers were not 200. `protected`: N
//! `GET /protected` with one token over one connection, one at a time (a fixed amount of work, for
//! instruction counts under callgrind). `outage`: for SECONDS, one logout after another (a fresh
//! connection after an answer that is not 200); prints the longest time between two 200s (run a
//! failover meanwhile: the time from it to the first logout that works again) and the count of
//! other answers.

use std::time::{Duration, Instant};

use hyperjwt::jwt::{self, Claims, Hs256Key, TokenType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One kept-alive HTTP/1.1 connection, opened again when the other side ends it with
/// `Connection: close` (nginx does after `keepalive_requests`, 1,000 by default).
struct Client {
    stream: TcpStream,
    host: String,
    buf: Vec<u8>,
    closing: bool,
}

impl Client {
    async fn connect(addr: &str) -> Client {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        Client {
            stream,
            host: addr.to_string(),
            buf: Vec::with_capacity(4096),
            closing: false,
        }
    }

    /// Sends one request with `token` as its bearer and returns the status.
    async fn send(&mut self, method: &str, path: &str, token: &str) -> u16 {
        if self.closing {
            *self = Client::connect(&self.host).await;
        }
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nContent-Length: 0\r\n\r\n",
            self.host
        );
        self.stream
            .write_all(request.as_bytes())
            .await
            .expect("write");
        self.buf.clear();
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buf[..end]).to_ascii_lowercase();
                self.closing = head.lines().any(|l| l.trim() == "connection: close");
                let status = head[9..12].parse().expect("status");
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |v| v.trim().parse().expect("length"));
                while self.buf.len() < end + 4 + length {
                    self.read().await;
                }
                return status;
            }
            self.read().await;
        }
    }

    async fn read(&mut self) {
        let n = self.stream.read_buf(&mut self.buf).await.expect("read");
        assert!(n > 0, "the server closed the connection");
    }
}

fn token(key: &Hs256Key, n: u64) -> String {
    let now = jwt::now();
    let id = |kind: u64| {
        format!(
            "{:08x}-0000-4000-8{:03x}-{:012x}",
            std::process::id(),
            kind,
            n
        )
    };
    let fam = id(1);
    jwt::sign(
        key,
        &Claims {
            sub: "user1".into(),
            iat: Some(now),
            nbf: Some(now),
            exp: Some(now + 900),
            jti: id(0).into(),
            token_type: TokenType::Access,
            fresh: false,
            iss: None,
            aud: None,
            fam: Some(fam.into()),
            csrf: None,
        },
    )
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

async fn propagation(key: &Hs256Key, a: &str, b: &str, n: u64) {
    let mut on_a = Client::connect(a).await;
    let mut on_b = Client::connect(b).await;
    let mut delays = Vec::new();
    let mut polls = 0u64;
    for i in 0..n {
        let token = token(key, i);
        assert_eq!(on_b.send("GET", "/protected", &token).await, 200);
        assert_eq!(on_a.send("POST", "/logout", &token).await, 200);
        let acknowledged = Instant::now();
        loop {
            polls += 1;
            match on_b.send("GET", "/protected", &token).await {
                401 => break,
                200 => assert!(
                    acknowledged.elapsed() < Duration::from_secs(5),
                    "B never refused"
                ),
                other => panic!("B answered {other}"),
            }
        }
        delays.push(acknowledged.elapsed());
    }
    delays.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "PROPAGATION n={n} p50_ms={:.3} p99_ms={:.3} max_ms={:.3} polls_per_revocation={:.1}",
        ms(percentile(&delays, 0.50)),
        ms(percentile(&delays, 0.99)),
        ms(*delays.last().unwrap()),
        polls as f64 / n as f64
    );
}

async fn logouts(addr: &str, connections: u64, seconds: u64) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for c in 0..connections {
        let key = Hs256Key::new(secret().as_bytes());
        let addr = addr.to_string();
        tasks.push(tokio::spawn(async move {
            let mut client = Client::connect(&addr).await;
            let (mut ok, mut other) = (0u64, 0u64);
            let mut latencies = Vec::new();
            let mut n = (c + 1) << 32;
            while Instant::now() < deadline {
                n += 1;
                let sent = Instant::now();
                match client.send("POST", "/logout", &token(&key, n)).await {
                    200 => ok += 1,
                    _ => other += 1,
                }
                latencies.push(sent.elapsed());
            }
            (ok, other, latencies)
        }));
    }
    let start = Instant::now();
    let (mut ok, mut other) = (0, 0);
    let mut latencies = Vec::new();
    for task in tasks {
        let (o, x, l) = task.await.expect("task");
        ok += o;
        other += x;
        latencies.extend(l);
    }
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "LOGOUTS connections={connections} seconds={:.1} logouts_per_s={:.0} p50_ms={:.2} p99_ms={:.2} not_200={other}",
        start.elapsed().as_secs_f64(),
        ok as f64 / start.elapsed().as_secs_f64(),
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.99)),
    );
}

async fn outage(key: &Hs256Key, addr: &str, seconds: u64) {
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let mut client = Client::connect(addr).await;
    let (mut last_ok, mut longest, mut other) = (start, Duration::ZERO, 0u64);
    let mut n = 0;
    while Instant::now() < deadline {
        n += 1;
        if client.send("POST", "/logout", &token(key, n)).await == 200 {
            longest = longest.max(last_ok.elapsed());
            last_ok = Instant::now();
        } else {
            other += 1;
            // The server closes the connection after some errors; a new one is cheap here.
            client = Client::connect(addr).await;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    // An outage still going on when the window closes counts too.
    longest = longest.max(last_ok.elapsed());
    println!(
        "OUTAGE seconds={seconds} longest_without_a_logout_ms={:.0} not_200={other}",
        longest.as_secs_f64() * 1e3
    );
}

fn secret() -> String {
    std::env::var("BENCH_SECRET").expect("BENCH_SECRET: the instances' JWT_SECRET_KEY")
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let key = Hs256Key::new(secret().as_bytes());
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["propagation", a, b, n] => propagation(&key, a, b, n.parse().expect("N")).await,
        ["logouts", addr, connections, seconds] => {
            logouts(
                addr,
                connections.parse().expect("CONNECTIONS"),
                seconds.parse().expect("SECONDS"),
            )
            .await
        }
        ["outage", addr, seconds] => outage(&key, addr, seconds.parse().expect("SECONDS")).await,
        ["protected", addr, n] => {
            let mut client = Client::connect(addr).await;
            let token = token(&key, 0);
            for _ in 0..n.parse::<u64>().expect("N") {
                assert_eq!(client.send("GET", "/protected", &token).await, 200);
            }
        }
        _ => {
            eprintln!(
                "usage: cluster_driver propagation A B N | logouts ADDR CONNECTIONS SECONDS | protected ADDR N | outage ADDR SECONDS"
            );
            std::process::exit(2);
        }
    }
}
