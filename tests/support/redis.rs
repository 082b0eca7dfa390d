//! A real `redis-server` for the cluster tests (Debian's package): started on a free loopback port
//! in a scratch directory with the append-only file on (`--appendonly yes --save ''`), stopped (or
//! frozen, [`RedisServer::freeze`]) by its PID, never the system's service. [`RedisServer::start`]
//! prints `SKIPPED: redis-server not found` and returns `None` when it is not installed (under
//! `CI=true` that is a failure instead).

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{TempDir, temp_dir};

pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
    pub dir: TempDir,
}

impl RedisServer {
    /// A new server, or `None` (after printing why) when `redis-server` is not installed.
    pub fn start(test: &str) -> Option<RedisServer> {
        // The instances it serves need the feature; its tests are ignored without it.
        if !cfg!(feature = "redis") {
            panic!(
                "{test}: a test that needs Redis without `--features redis`: mark it \
                 #[cfg_attr(not(feature = \"redis\"), ignore = \"run with: cargo test --features redis\")]"
            );
        }
        if !super::installed(
            "redis-server",
            "--version",
            test,
            "apt-get install -y redis-server",
        ) {
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let mut server = RedisServer {
            child: None,
            port,
            dir: temp_dir(&format!("redis-{test}")),
        };
        server.restart();
        Some(server)
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
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--dir", self.dir.to_str().unwrap()])
            .args([
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--save",
                "",
            ])
            .args(["--daemonize", "no", "--protected-mode", "yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.cli(&["PING"]).as_deref() != Some("PONG") {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: no shutdown, no final write; only what is in the append-only file survives.
    pub fn kill(&mut self) {
        self.signal("-KILL");
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
        let out = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "--raw"])
            .args(args)
            .stderr(Stdio::null())
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        (out.status.success() && !text.starts_with("Could not connect")).then_some(text)
    }
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
