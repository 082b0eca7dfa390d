//! The denylist: ids (`jti`) of revoked tokens that have not expired yet.
//!
//! Logout and refresh-token rotation revoke a token by adding its `jti`, with its `exp`, here; every
//! authenticated request asks [`Denylist::is_revoked`] as its last check. An entry is useless once its
//! token has expired (the `exp` check refuses it first), so entries are pruned then: memory is bounded
//! by the revoked tokens still alive, not by history.
//!
//! Lookups are cheap and rarely contend: the set is split into shards, each behind its own `RwLock`
//! (readers share a shard), and while nothing is revoked a single atomic load answers.
//!
//! With `DENYLIST_FILE`, every revocation is appended to a journal and `fsync`ed **before** it is
//! acknowledged, so a revocation that got its 200 survives any crash. A single writer thread batches
//! concurrent revocations into one write and one `fsync` (group commit). At start-up the journal is
//! replayed (a torn last line from a crash is ignored, expired entries dropped) and rewritten compactly;
//! while running, the writer rewrites it the same way whenever it has grown to twice the live entries
//! (and at least [`COMPACT_MIN_LINES`] lines), so the file stays bounded like the memory.

mod journal;
mod set;

use std::fmt;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use journal::Journal;
use set::{JtiKey, RevokedSet};

pub use journal::COMPACT_MIN_LINES;

/// How often (seconds) a revocation also sweeps out expired entries.
const PRUNE_INTERVAL: i64 = 60;

/// Revoking failed to reach the disk: the revocation holds in memory but was not acknowledged.
#[derive(Debug)]
pub struct JournalError(pub io::Error);

impl fmt::Display for JournalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "denylist journal write failed: {}", self.0)
    }
}

impl std::error::Error for JournalError {}

/// What happened to a revocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocation {
    /// Newly revoked (and, with a journal, durably on disk).
    Revoked,
    /// It was already revoked: someone else got there first (a replayed refresh token, say).
    AlreadyRevoked,
}

/// The set of revoked token ids.
pub struct Denylist {
    revoked: Arc<RevokedSet>,
    last_prune: AtomicI64,
    journal: Option<Journal>,
}

impl fmt::Debug for Denylist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Denylist")
            .field("len", &self.len())
            .field("journal", &self.journal.as_ref().map(|j| &j.path))
            .finish()
    }
}

impl Denylist {
    /// A denylist kept in memory only: revocations are lost on restart.
    pub fn in_memory() -> Self {
        Denylist {
            revoked: Arc::new(RevokedSet::new()),
            last_prune: AtomicI64::new(0),
            journal: None,
        }
    }

    /// Opens (or creates) the journal at `path`: replays it, drops entries expired at `now`, rewrites
    /// it compactly, and keeps it open for appending. Fails if the file can't be read or written.
    pub fn open(path: &Path, now: i64) -> io::Result<Self> {
        Self::open_with(path, now, COMPACT_MIN_LINES)
    }

    /// [`Denylist::open`] with the compaction threshold chosen (tests use a small one).
    fn open_with(path: &Path, now: i64, compact_min_lines: usize) -> io::Result<Self> {
        let mut list = Self::in_memory();
        let replay = journal::replay(path)?;
        for (key, exp) in replay.entries {
            if exp > now {
                list.revoked.insert(key, exp);
            }
        }
        if replay.skipped > 0 {
            log::warn!(
                "DENYLIST_FILE {}: ignored {} unreadable line(s) (a torn last line after a crash is expected)",
                path.display(),
                replay.skipped
            );
        }
        let file = journal::compact(path, &list.revoked.entries())?;
        list.journal = Some(Journal::start(
            path,
            file,
            Arc::clone(&list.revoked),
            compact_min_lines,
        )?);
        Ok(list)
    }

    /// The number of revoked, not yet pruned token ids.
    pub fn len(&self) -> usize {
        self.revoked.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True if `jti` has been revoked. The hot path: one atomic load while nothing is revoked,
    /// otherwise one shared read lock on one of 16 shards.
    pub fn is_revoked(&self, jti: &str) -> bool {
        !self.is_empty() && self.revoked.contains(&JtiKey::of(jti))
    }

    /// Revokes `jti` (whose token expires at `exp`) as of `now`. In memory first, so the token is
    /// refused at once; then, with a journal, waits until the entry is on disk. Atomic: of two
    /// concurrent revocations of one `jti`, exactly one gets [`Revocation::Revoked`].
    pub async fn revoke(&self, jti: &str, exp: i64, now: i64) -> Result<Revocation, JournalError> {
        self.prune_if_due(now);
        let key = JtiKey::of(jti);
        if !self.revoked.insert(key, exp) {
            return Ok(Revocation::AlreadyRevoked);
        }
        if let Some(journal) = &self.journal {
            journal.append(key, exp, now).await.map_err(JournalError)?;
        }
        Ok(Revocation::Revoked)
    }

    fn prune_if_due(&self, now: i64) {
        let last = self.last_prune.load(Ordering::Relaxed);
        if now - last >= PRUNE_INTERVAL
            && self
                .last_prune
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.prune(now);
        }
    }

    /// Drops every entry whose token has expired at `now`. Returns how many were dropped.
    pub fn prune(&self, now: i64) -> usize {
        self.revoked.prune(now)
    }
}

/// What a read-only look at a journal found for one `jti` (see [`lookup_in_journal`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JournalLookup {
    /// `Some(exp)` when the journal revokes this `jti` (with the `exp` of the revoked token).
    pub revoked_until: Option<i64>,
    /// Unreadable lines ignored, as [`Denylist::open`] ignores them (a torn last line, say).
    pub skipped_lines: usize,
}

/// Is `jti` revoked according to the journal at `path`? Replays the journal exactly as
/// [`Denylist::open`] does but never writes to it (no compaction, no file created), so a tool such as
/// `hyperjwt token inspect` can ask while the server is running. Unlike `open`, a missing file is an
/// error: whoever names a journal to look in expects it to exist.
///
/// Every entry counts, expired or not: a running server keeps an expired entry until it prunes it,
/// and by then the token's own `exp` refuses it first.
pub fn lookup_in_journal(path: &Path, jti: &str) -> io::Result<JournalLookup> {
    // `replay` treats a missing file as an empty journal; here that would hide a mistyped path.
    std::fs::metadata(path)?;
    let replay = journal::replay(path)?;
    let wanted = JtiKey::of(jti);
    Ok(JournalLookup {
        revoked_until: replay
            .entries
            .iter()
            .filter(|(key, _)| *key == wanted)
            .map(|(_, exp)| *exp)
            .max(),
        skipped_lines: replay.skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;

    fn jti(n: u32) -> String {
        format!("00000000-0000-4000-8000-{n:012}")
    }
    #[tokio::test]
    async fn revoke_then_lookup() {
        let list = Denylist::in_memory();
        assert!(!list.is_revoked(&jti(1)));
        assert_eq!(
            list.revoke(&jti(1), NOW + 60, NOW).await.unwrap(),
            Revocation::Revoked
        );
        assert!(list.is_revoked(&jti(1)));
        assert!(!list.is_revoked(&jti(2)));
        assert_eq!(
            list.revoke(&jti(1), NOW + 60, NOW).await.unwrap(),
            Revocation::AlreadyRevoked
        );
        assert_eq!(list.len(), 1);
    }

    #[tokio::test]
    async fn pruning_drops_only_expired_entries() {
        let list = Denylist::in_memory();
        for n in 0..100 {
            // Half expire at NOW + 10, half at NOW + 1000.
            let exp = if n % 2 == 0 { NOW + 10 } else { NOW + 1000 };
            list.revoke(&jti(n), exp, NOW).await.unwrap();
        }
        assert_eq!(list.len(), 100);
        assert_eq!(list.prune(NOW + 5), 0);
        assert_eq!(list.prune(NOW + 10), 50);
        assert_eq!(list.len(), 50);
        assert!(!list.is_revoked(&jti(0)));
        assert!(list.is_revoked(&jti(1)));
    }

    #[tokio::test]
    async fn revocations_prune_on_their_own_as_time_passes() {
        let list = Denylist::in_memory();
        list.revoke(&jti(1), NOW + 10, NOW).await.unwrap();
        list.revoke(&jti(2), NOW + 10, NOW + 1).await.unwrap();
        assert_eq!(list.len(), 2);
        // A revocation a prune interval later sweeps the expired ones.
        list.revoke(&jti(3), NOW + 1000, NOW + PRUNE_INTERVAL + 20)
            .await
            .unwrap();
        assert_eq!(list.len(), 1);
    }

    #[tokio::test]
    async fn concurrent_revocations_of_one_jti_have_one_winner() {
        let list = std::sync::Arc::new(Denylist::in_memory());
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let list = list.clone();
            tasks.push(tokio::spawn(async move {
                list.revoke(&jti(7), NOW + 60, NOW).await.unwrap()
            }));
        }
        let mut winners = 0;
        for task in tasks {
            winners += usize::from(task.await.unwrap() == Revocation::Revoked);
        }
        assert_eq!(winners, 1);
    }
}
