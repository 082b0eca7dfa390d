//! The one test-support module of the black-box tests (`mod support;` in each file). One of each:
//!
//! - **A server in this process**: [`start`] (a [`RunningServer`] on 127.0.0.1, port 0) from
//!   [`config`] ([`SECRET`] plus environment-style pairs).
//! - **The real binary**: [`Binary::start`] (waits for its "listening on" line, killed on drop; text
//!   or JSON log lines; [`Binary::hang_up`] sends SIGHUP), [`Binary::spawn`] (the same for a command prepared by hand, e.g. run as
//!   another user, from [`binary_copy_for_others`] and [`program_command`]), [`Binary::wait_for_log`],
//!   and [`binary_command`] (a clean environment, for runs that exit by themselves; [`hyperjwt`]
//!   runs one to completion, its [`Run`] the status and output).
//! - **Raw HTTP/1.1 over TCP**: [`exchange`] (bytes in, bytes out), [`raw`] (parsed into a
//!   [`Reply`]), [`request`], [`get`], [`post_json`], [`present`] (a token to a route), [`login`] and
//!   [`login_reply`], [`refreshed`]; [`assert_error`] for a JSON error's status and `msg`. From another loopback
//!   address (127.0.0.2, ...): [`connect_from`], [`exchange_from`], [`login_from`].
//! - **Browser cookies**: [`Reply::all`] and [`Reply::set_cookie`] (the `Set-Cookie` lines, one
//!   cookie's value), [`COOKIES`] (a cookie configuration), [`cookie_login`] (a [`CookieSession`]).
//! - **Tokens**: the one claims fixture [`claims`]; [`sign`] / [`sign_with`] (hyperjwt's signer),
//!   [`sign_jsonwebtoken`] (the `jsonwebtoken` crate's), [`forge`] (any header and payload bytes under
//!   the test secret), [`decode_part`] (a segment as JSON), [`flask_fixtures`] (tokens minted by
//!   Flask-JWT-Extended).
//! - **Metrics**: [`scrape`] (`GET /metrics`, checked to be the text exposition), [`value`] (one
//!   sample's value) and [`refusals`] (`hyperjwt_token_refusals_total` by reason).
//! - **A scratch directory**: [`temp_dir`], a [`TempDir`] removed when dropped; [`dir_str`] (a path
//!   as a setting's text), [`users_file`] (a `USERS_FILE` of given users).
//! - **A real Redis**: [`redis::RedisServer`] (tests/cluster.rs, tests/cluster_outages.rs,
//!   tests/redis_shapes.rs, tests/redis_durability.rs; also Valkey, sentinels, TLS certificates),
//!   the instances sharing it and waiting for what propagates ([`cluster`]), a TCP proxy standing
//!   in for the network ([`proxy::Proxy`]), and [`start_app`] for a server whose state the test
//!   also looks at.
//! - **Public keys**: [`keys::make_key_set`] (a `JWT_KEYS_DIR` as `hyperjwt keys rotate` makes it)
//!   and [`keys::openssl_rsa_key`] (an RSA key from openssl, which ring can't make).
#![allow(dead_code)]

pub mod cluster;
pub mod keys;
pub mod proxy;
pub mod redis;

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

/// The configuration `SECRET` plus `pairs` (environment-style keys; a pair may replace the secret).
pub fn config(pairs: &[(&str, &str)]) -> Config {
    let mut map: HashMap<String, String> = HashMap::new();
    map.insert("JWT_SECRET_KEY".into(), SECRET.into());
    for (k, v) in pairs {
        map.insert(k.to_string(), v.to_string());
    }
    Config::from_lookup(|k| map.get(k).cloned()).expect("valid test config")
}

/// Starts a server whose configuration is [`config`]`(pairs)`.
pub async fn start(pairs: &[(&str, &str)]) -> RunningServer {
    start_app(pairs).await.1
}

/// [`start`], also returning the app, so a test can look at its state (readiness, say).
pub async fn start_app(pairs: &[(&str, &str)]) -> (App, RunningServer) {
    let config = config(pairs);
    let app = App::from_config(&config).expect("app builds");
    let server = spawn_local(app.clone(), ConnectionSettings::from_config(&config))
        .await
        .expect("server starts");
    (app, server)
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

    /// Every value of header `name` (case-insensitive), in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The whole `Set-Cookie` line for cookie `name`, if the reply sets it.
    pub fn set_cookie(&self, name: &str) -> Option<&str> {
        self.all("set-cookie")
            .into_iter()
            .find(|line| line.split_once('=').is_some_and(|(n, _)| n == name))
    }

    /// The value the reply gives cookie `name` (empty for a deleted one).
    pub fn cookie_value(&self, name: &str) -> Option<String> {
        let line = self.set_cookie(name)?;
        let pair = line.split(';').next()?;
        Some(pair.split_once('=')?.1.to_string())
    }

    /// The `msg` of a JSON error body.
    pub fn msg(&self) -> String {
        self.json()["msg"].as_str().unwrap_or_default().to_string()
    }
}

/// Sends `raw` bytes on a new connection and reads until the server closes it (the last request
/// should say `Connection: close`).
pub async fn exchange(addr: SocketAddr, raw: &[u8]) -> Vec<u8> {
    exchange_from(addr, None, raw).await
}

/// A connection to `addr` from the loopback address `source` (every address in 127.0.0.0/8 is this
/// host), so a test can be several clients.
pub async fn connect_from(addr: SocketAddr, source: &str) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    let source = format!("{source}:0").parse().expect("a source address");
    socket.bind(source).expect("bind the source address");
    socket.connect(addr).await.expect("connect")
}

/// [`exchange`] from the loopback address `source` when given ([`connect_from`]).
pub async fn exchange_from(addr: SocketAddr, source: Option<&str>, raw: &[u8]) -> Vec<u8> {
    let exchange = async {
        let mut stream = match source {
            Some(source) => connect_from(addr, source).await,
            None => TcpStream::connect(addr).await.expect("connect"),
        };
        stream.write_all(raw).await.expect("write request");
        let mut bytes = Vec::new();
        stream.read_to_end(&mut bytes).await.expect("read response");
        bytes
    };
    tokio::time::timeout(TIMEOUT, exchange)
        .await
        .expect("server answered in time")
}

/// [`exchange`], parsed: for one request.
pub async fn raw(addr: SocketAddr, raw: &[u8]) -> Reply {
    parse(&exchange(addr, raw).await)
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

/// Presents `token` to `route` as a client would: GET for `/protected`, POST with no body for the
/// others (`/refresh`, `/logout`).
pub async fn present(addr: SocketAddr, route: &str, token: &str) -> Reply {
    if route.ends_with("/protected") {
        get(addr, route, Some(token)).await
    } else {
        post_json(addr, route, Some(token), "").await
    }
}

/// `POST /refresh` with `refresh`, which must succeed: the new access token, and the new refresh
/// token when refresh tokens rotate.
pub async fn refreshed(addr: SocketAddr, refresh: &str) -> (String, Option<String>) {
    let reply = present(addr, "/refresh", refresh).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let json = reply.json();
    (
        json["access_token"].as_str().unwrap().to_string(),
        json["refresh_token"].as_str().map(str::to_string),
    )
}

/// Asserts a JSON error: `status` and the body's `msg`.
#[track_caller]
pub fn assert_error(reply: &Reply, status: u16, msg: &str) {
    assert_eq!(
        (reply.status, reply.msg().as_str()),
        (status, msg),
        "{reply:?}"
    );
}

/// `token` presented at `route` on `addr` is refused as revoked: 401 `Token has been revoked`.
pub async fn assert_revoked(addr: SocketAddr, route: &str, token: &str) {
    assert_error(
        &present(addr, route, token).await,
        401,
        "Token has been revoked",
    );
}

/// [`login_reply`] from the loopback address `source` ([`connect_from`]).
pub async fn login_from(addr: SocketAddr, source: &str, user: &str, password: &str) -> Reply {
    let body = format!(r#"{{"username":"{user}","password":"{password}"}}"#);
    let raw = format!(
        "POST /login HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    parse(&exchange_from(addr, Some(source), raw.as_bytes()).await)
}

/// POSTs `user` and `password` to `/login`, whatever the answer.
pub async fn login_reply(addr: SocketAddr, user: &str, password: &str) -> Reply {
    let body = format!(r#"{{"username":"{user}","password":"{password}"}}"#);
    post_json(addr, "/login", None, &body).await
}

/// Logs in and returns (access_token, refresh_token).
pub async fn login(addr: SocketAddr, user: &str, password: &str) -> (String, String) {
    let reply = login_reply(addr, user, password).await;
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

/// Tokens in cookies only, for a page at `https://app.example` (cookies need a listed origin).
pub const COOKIES: [(&str, &str); 2] = [
    ("JWT_TOKEN_LOCATION", "cookies"),
    ("CORS_ORIGINS", "https://app.example"),
];

/// A browser's view of a cookie session: the four cookies `/login` set.
#[derive(Debug, Clone)]
pub struct CookieSession {
    pub access: String,
    pub refresh: String,
    pub csrf_access: String,
    pub csrf_refresh: String,
}

impl CookieSession {
    /// The `Cookie` header a browser sends to a path under `/`: the access cookie and the two
    /// readable ones.
    pub fn for_api(&self) -> String {
        format!(
            "access_token_cookie={}; csrf_access_token={}; csrf_refresh_token={}",
            self.access, self.csrf_access, self.csrf_refresh
        )
    }

    /// The `Cookie` header a browser sends to `/refresh`: the refresh cookie (its `Path`), first,
    /// then the others.
    pub fn for_refresh(&self) -> String {
        format!("refresh_token_cookie={}; {}", self.refresh, self.for_api())
    }
}

/// Logs in against a cookie server and returns the cookies its answer set.
pub async fn cookie_login(addr: SocketAddr, user: &str, password: &str) -> CookieSession {
    let reply = login_reply(addr, user, password).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let value = |name: &str| {
        reply
            .cookie_value(name)
            .unwrap_or_else(|| panic!("no {name} cookie in {reply:?}"))
    };
    CookieSession {
        access: value("access_token_cookie"),
        refresh: value("refresh_token_cookie"),
        csrf_access: value("csrf_access_token"),
        csrf_refresh: value("csrf_refresh_token"),
    }
}

/// `GET /metrics`, checked to be the text exposition.
pub async fn scrape(addr: SocketAddr) -> String {
    let reply = get(addr, "/metrics", None).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    String::from_utf8(reply.body).expect("UTF-8 exposition")
}

/// The value of the sample `series` (name and labels exactly as written) in an exposition.
pub fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no sample {series} in\n{text}"))
}

pub fn refusals(text: &str, reason: &str) -> f64 {
    value(
        text,
        &format!("hyperjwt_token_refusals_total{{reason=\"{reason}\"}}"),
    )
}

/// The claims fixture: like the server's, for `sub`, valid now for ten minutes, not fresh, with a
/// `jti` no other call returns.
pub fn claims(sub: &str, token_type: TokenType) -> Claims<'static> {
    let now = jwt::now();
    Claims {
        sub: sub.to_string().into(),
        iat: Some(now),
        nbf: Some(now),
        exp: Some(now + 600),
        jti: format!(
            "00000000-0000-4000-8000-{:012}",
            next_number() + u64::from(std::process::id()) * 1_000_000
        )
        .into(),
        token_type,
        fresh: false,
        iss: None,
        aud: None,
        fam: None,
        csrf: None,
    }
}

/// 1, 2, 3, … across the whole test process.
fn next_number() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
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

/// Signs `claims` with the `jsonwebtoken` crate under `header` (its `alg`) and `secret`: tokens another
/// library makes (no `kid` unless `header` has one).
pub fn sign_jsonwebtoken(
    header: jsonwebtoken::Header,
    secret: &[u8],
    claims: &impl serde::Serialize,
) -> String {
    jsonwebtoken::encode(
        &header,
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .expect("jsonwebtoken signs")
}

/// Segment `index` of `token` (0 the header, 1 the claims) decoded as JSON.
pub fn decode_part(token: &str, index: usize) -> serde_json::Value {
    let segment = token.split('.').nth(index).expect("segment");
    serde_json::from_slice(&jwt::b64::decode(segment).expect("base64url")).expect("JSON")
}

/// The tokens Flask-JWT-Extended minted (`tests/interop/make_flask_fixtures.py`), with their
/// `secret` and claims.
pub fn flask_fixtures() -> serde_json::Value {
    serde_json::from_str(include_str!("../interop/flask_jwt_extended_tokens.json"))
        .expect("fixture file is JSON")
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
        let mut command = binary_command(dir, envs);
        command.args(args);
        Self::spawn(command)
    }

    /// Starts `command` (usually from [`binary_command`]) with its stderr captured, and waits for
    /// its "listening on" line.
    pub fn spawn(mut command: std::process::Command) -> Binary {
        use std::io::BufRead;
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
                    // The address ends the text line, or the JSON line's message string.
                    let addr: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_hexdigit() || matches!(c, '.' | ':' | '[' | ']'))
                        .collect();
                    if let Some(tx) = found.take() {
                        let _ = tx.send(addr);
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

    /// Waits until the server's log has a line containing `text` (info lines are written in
    /// batches, up to 100 ms late); returns the whole log.
    pub async fn wait_for_log(&self, text: &str) -> String {
        for _ in 0..500 {
            let log = self.log().join("\n");
            if log.contains(text) {
                return log;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("no {text:?} in the log: {:?}", self.log());
    }

    /// Sends SIGHUP (reread `USERS_FILE` and `JWT_KEYS_DIR`).
    pub fn hang_up(&self) {
        let status = std::process::Command::new("kill")
            .args(["-HUP", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
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
    program_command(env!("CARGO_BIN_EXE_hyperjwt").as_ref(), dir, envs)
}

/// What one run of the binary to completion did ([`hyperjwt`]).
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `hyperjwt ARGS` in `dir` with a clean environment plus `envs` ([`binary_command`]), feeding
/// `stdin`, to completion.
pub fn hyperjwt(dir: &std::path::Path, args: &[&str], envs: &[(&str, &str)], stdin: &[u8]) -> Run {
    use std::io::Write;
    use std::process::Stdio;
    let mut command = binary_command(dir, envs);
    command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("spawn hyperjwt");
    if let Some(mut input) = child.stdin.take() {
        // A command that doesn't read stdin may exit first; a broken pipe is fine then.
        let _ = input.write_all(stdin);
    }
    let output = child.wait_with_output().expect("wait for hyperjwt");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// [`binary_command`] for a copy of the binary at `program` (see [`binary_copy_for_others`]).
pub fn program_command(
    program: &std::path::Path,
    dir: &std::path::Path,
    envs: &[(&str, &str)],
) -> std::process::Command {
    let mut command = std::process::Command::new(program);
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

/// A copy of the binary in `dir` that another user can run, for tests that start it as one: the
/// clone may sit in a private folder (`mktemp -d` and root's home are 0700), where only its owner
/// reaches `target/`. `dir` is opened to everyone (mode 0755); `Err` says which folder above it
/// another user cannot enter, so the caller can skip with that reason.
#[cfg(unix)]
pub fn binary_copy_for_others(dir: &std::path::Path) -> Result<std::path::PathBuf, String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    for folder in dir.ancestors().skip(1) {
        let mode = std::fs::metadata(folder).map_or(0, |m| m.permissions().mode());
        if mode & 0o001 == 0 {
            return Err(format!(
                "{} (mode {:o}) cannot be entered by other users; set TMPDIR to a folder they can reach",
                folder.display(),
                mode & 0o7777
            ));
        }
    }
    let copy = dir.join("hyperjwt");
    std::fs::copy(env!("CARGO_BIN_EXE_hyperjwt"), &copy).unwrap();
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
    Ok(copy)
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

/// Whether `program` runs (`program arg`, e.g. `--version`). When it doesn't, prints `SKIPPED: ...`
/// naming `test` and how to `install` it, and returns false; under `CI=true` that fails the test
/// instead, so CI never skips a real component.
pub fn installed(program: &str, arg: &str, test: &str, install: &str) -> bool {
    if std::process::Command::new(program)
        .arg(arg)
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok()
    {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{program} not found, and CI=true requires it ({install})"
    );
    println!("SKIPPED: {program} not found ({test}); {install}");
    false
}

/// `path` as the text a setting takes (`JWT_KEYS_DIR`, `USERS_FILE`).
pub fn dir_str(path: &std::path::Path) -> String {
    path.to_str().expect("a UTF-8 path").to_string()
}

/// Writes `dir/users.json` with these users and passwords (bcrypt cost 4).
pub fn users_file(dir: &std::path::Path, users: &[(&str, &str)]) {
    let map: serde_json::Map<String, serde_json::Value> = users
        .iter()
        .map(|(name, password)| (name.to_string(), bcrypt::hash(password, 4).unwrap().into()))
        .collect();
    std::fs::write(
        dir.join("users.json"),
        serde_json::Value::Object(map).to_string(),
    )
    .unwrap();
}

/// A fresh, empty directory for one test, removed (with what is in it) when dropped. Derefs to its
/// [`Path`](std::path::Path).
pub struct TempDir(std::path::PathBuf);

/// A fresh [`TempDir`] named after `name`, the process and a counter, so no two tests share one.
pub fn temp_dir(name: &str) -> TempDir {
    let dir = std::env::temp_dir().join(format!(
        "hyperjwt-{name}-{}-{}",
        std::process::id(),
        next_number()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

impl std::ops::Deref for TempDir {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl AsRef<std::path::Path> for TempDir {
    fn as_ref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
