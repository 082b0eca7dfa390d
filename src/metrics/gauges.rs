//! The figures kept outside the request counters: open and accepted connections (kept by the
//! accept loop), the password-check pool's queue and timings (kept by the pool), and what is read
//! from elsewhere when `/metrics` is asked for ([`Sampled`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use super::histogram::Histogram;
use super::labels::Revoked;

/// Open connections, shared with the accept loop (`http/server.rs`), which holds one
/// [`OpenConnection`] per connection.
#[derive(Debug, Default)]
pub struct ConnectionGauges {
    open: AtomicUsize,
    pub(super) accepted: AtomicU64,
}

impl ConnectionGauges {
    /// Counts a connection as open until the returned guard is dropped.
    pub fn opened(self: &Arc<Self>) -> OpenConnection {
        self.open.fetch_add(1, Ordering::Relaxed);
        self.accepted.fetch_add(1, Ordering::Relaxed);
        OpenConnection(Arc::clone(self))
    }

    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }
}

/// One open connection; see [`ConnectionGauges::opened`].
#[derive(Debug)]
pub struct OpenConnection(Arc<ConnectionGauges>);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The password-check pool's figures, kept by the pool (`auth/password_checks.rs`).
#[derive(Debug, Default)]
pub struct QueueStats {
    /// Logins waiting for a place (every place taken), for `PASSWORD_CHECK_WAIT` at most.
    pub waiting: AtomicUsize,
    /// Checks holding a place and waiting for a thread.
    pub queued: AtomicUsize,
    /// Checks a thread is running now.
    pub running: AtomicUsize,
    /// From the login's arrival at the pool to a thread taking its check.
    pub wait: Histogram,
    /// The check itself (one bcrypt verification).
    pub duration: Histogram,
}

/// Figures read from elsewhere when `/metrics` is asked for.
#[derive(Debug)]
pub struct Sampled<'a> {
    /// Live denylist entries by kind.
    pub denylist: [(Revoked, usize); 3],
    pub users: usize,
    pub password_checks: &'a QueueStats,
}
