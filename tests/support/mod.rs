//! Shared helpers for the black-box tests: start a real server on 127.0.0.1 port 0, talk raw HTTP/1.1
//! to it over TCP, and mint (or forge) tokens with the test secret.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use hyperjwt::jwt::{self, Claims, Hs256Key, TokenType};
use hyperjwt::server::{ConnectionSettings, RunningServer, spawn_local};
use hyperjwt::{App, Config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const SECRET: &str = "black-box-test-secret-0123456789abcdef";
const TIMEOUT: Duration = Duration::from_secs(10);

/// Starts a server whose configuration is `SECRET` plus `pairs` (environment-style keys).
pub async fn start(pairs: &[(&str, &str)]) -> RunningServer {
    let mut map: HashMap<String, String> = HashMap::new();
    map.insert("JWT_SECRET_KEY".into(), SECRET.into());
    for (k, v) in pairs {
        map.insert(k.to_string(), v.to_string());
    }
    let config = Config::from_lookup(|k| map.get(k).cloned()).expect("valid test config");
    let app = App::from_config(&config).expect("app builds");
    spawn_local(app, ConnectionSettings::from_config(&config))
        .await
        .expect("server starts")
}

/// A parsed HTTP response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| {
            panic!(
                "body is not JSON: {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The `msg` of a JSON error body.
    pub fn msg(&self) -> String {
        self.json()["msg"].as_str().unwrap_or_default().to_string()
    }
}

/// Sends `raw` bytes on a new connection and reads the whole answer (the request should say
/// `Connection: close`).
pub async fn raw(addr: SocketAddr, raw: &[u8]) -> Reply {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream.write_all(raw).await.expect("write request");
        let mut bytes = Vec::new();
        stream.read_to_end(&mut bytes).await.expect("read response");
        bytes
    };
    let bytes = tokio::time::timeout(TIMEOUT, exchange)
        .await
        .expect("server answered in time");
    parse(&bytes)
}

pub fn parse(bytes: &[u8]) -> Reply {
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(bytes)));
    let head = String::from_utf8_lossy(&bytes[..split]).to_string();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Reply {
        status,
        headers,
        body: bytes[split + 4..].to_vec(),
    }
}

/// Sends a request with the given headers and body.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    raw(addr, &bytes).await
}

pub async fn get(addr: SocketAddr, path: &str, token: Option<&str>) -> Reply {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    request(addr, "GET", path, &headers, b"").await
}

pub async fn post_json(addr: SocketAddr, path: &str, token: Option<&str>, body: &str) -> Reply {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(a) = &auth {
        headers.push(("Authorization", a.as_str()));
    }
    request(addr, "POST", path, &headers, body.as_bytes()).await
}

/// Logs in and returns (access_token, refresh_token).
pub async fn login(addr: SocketAddr, user: &str, password: &str) -> (String, String) {
    let body = format!(r#"{{"username":"{user}","password":"{password}"}}"#);
    let reply = post_json(addr, "/login", None, &body).await;
    assert_eq!(
        reply.status,
        200,
        "login failed: {:?}",
        String::from_utf8_lossy(&reply.body)
    );
    let json = reply.json();
    (
        json["access_token"].as_str().unwrap().to_string(),
        json["refresh_token"].as_str().unwrap().to_string(),
    )
}

/// Claims like the server's, for `sub`, valid now for ten minutes.
pub fn claims(sub: &str, token_type: TokenType) -> Claims<'static> {
    let now = jwt::now();
    Claims {
        sub: sub.to_string().into(),
        iat: Some(now),
        nbf: Some(now),
        exp: Some(now + 600),
        jti: format!("00000000-0000-4000-8000-{:012}", rand_suffix()).into(),
        token_type,
        fresh: false,
        iss: None,
        aud: None,
    }
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed) + u64::from(std::process::id()) * 1_000_000
}

/// Signs `claims` with `secret`.
pub fn sign_with(secret: &str, claims: &Claims) -> String {
    jwt::sign(&Hs256Key::new(secret.as_bytes()), claims)
}

/// Signs `claims` with the test secret.
pub fn sign(claims: &Claims) -> String {
    sign_with(SECRET, claims)
}

/// Signs any header and payload bytes (usually JSON text) with the test secret: tokens `sign` would
/// never make, which get past the MAC to the header and claims checks behind it.
pub fn forge(header: impl AsRef<[u8]>, payload: impl AsRef<[u8]>) -> String {
    use ring::hmac;
    let input = format!(
        "{}.{}",
        jwt::b64::encode(header.as_ref()),
        jwt::b64::encode(payload.as_ref())
    );
    let key = hmac::Key::new(hmac::HMAC_SHA256, SECRET.as_bytes());
    let tag = hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", jwt::b64::encode(tag.as_ref()))
}

/// The real `hyperjwt` binary, started as a child process. Killed when dropped.
pub struct Binary {
    pub child: std::process::Child,
    pub addr: SocketAddr,
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Binary {
    /// Starts the binary in `dir` with only `PATH`, `PORT=0` and `envs` in its environment, and waits
    /// for its "listening on" line.
    pub fn start(dir: &std::path::Path, envs: &[(&str, &str)]) -> Binary {
        Self::start_with_args(dir, &[], envs)
    }

    /// [`Binary::start`] with command-line arguments (e.g. `["serve"]`).
    pub fn start_with_args(dir: &std::path::Path, args: &[&str], envs: &[(&str, &str)]) -> Binary {
        use std::io::BufRead;
        let mut command = binary_command(dir, envs);
        command.args(args);
        command.stderr(std::process::Stdio::piped());
        let mut child = command.spawn().expect("start the hyperjwt binary");
        let stderr = child.stderr.take().unwrap();
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (found, address) = std::sync::mpsc::channel();
        let sink = log.clone();
        // Drain stderr for the child's whole life so it never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut found = Some(found);
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    if let Some(tx) = found.take() {
                        let _ = tx.send(rest.trim().to_string());
                    }
                }
                sink.lock().unwrap().push(line);
            }
        });
        let addr = match address.recv_timeout(TIMEOUT) {
            Ok(addr) => addr.parse().expect("a socket address"),
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "the server never said it was listening: {:?}",
                    log.lock().unwrap()
                );
            }
        };
        Binary { child, addr, log }
    }

    /// Everything the server wrote to stderr so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
        wait_with_timeout(&mut self.child)
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A command for the binary with a clean environment: `PATH`, `HOST`, `PORT=0`, then `envs`.
pub fn binary_command(dir: &std::path::Path, envs: &[(&str, &str)]) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_hyperjwt"));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .envs(envs.iter().copied())
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null());
    command
}

/// Waits for a child to exit, killing it after the timeout so a test can never hang.
pub fn wait_with_timeout(child: &mut std::process::Child) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server did not exit in time");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A fresh, empty directory for one test.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("hyperjwt-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
