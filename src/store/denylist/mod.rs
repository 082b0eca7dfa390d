//! The denylist: what was revoked and can still matter. Three kinds, each a sharded set in memory:
//!
//! - **token ids** (`jti`): logout and refresh-token rotation revoke one token;
//! - **families** (`fam`): logout, and a refresh token used twice under rotation, end a whole
//!   session, every token issued in it;
//! - **user cutoffs**: `/logout/all` and a changed password end every session of a user that started
//!   up to that moment; one entry per user (keyed by `digest16` of the name), not a list of tokens.
//!
//! Every authenticated request asks as its last check (`crate::auth::sessions::ended`): one probe
//! per kind that applies, and an empty kind answers with one atomic load. An entry is useless once no
//! token it covers can still be alive (the `exp` check refuses them first), so it is pruned then:
//! memory is bounded by the revoked tokens still alive, not by history.
//!
//! With `DENYLIST_FILE`, every revocation is appended to a journal (`journal.rs`) and `fsync`ed
//! **before** it is acknowledged, so a revocation that got its 200 survives any crash. At start-up
//! the journal is replayed and rewritten compactly; while running it is compacted as it grows.
//!
//! With `REDIS_URL` (feature `redis`) the set in memory is instead a replica of the revocations
//! several instances share (`replica.rs`): a revocation is acknowledged once Redis has it, and
//! every other instance's arrive on the event stream. Lookups stay local either way.

mod journal;
#[cfg(feature = "redis")]
mod replica;
mod revocations;
mod set;

use std::fmt;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use journal::Journal;
use revocations::{Record, Revocations, later};
use set::{FamilyKey, JtiKey};

pub use journal::{COMPACT_MIN_LINES, JournalHealth};
pub use set::Cutoff;

/// How often (seconds) a revocation also sweeps out expired entries.
const PRUNE_INTERVAL: i64 = 60;

/// A revocation that was not acknowledged: its record could not be kept, on disk (the journal:
/// it holds in memory only) or in the shared store (Redis: it did not happen).
#[derive(Debug)]
pub enum JournalError {
    Disk(io::Error),
    #[cfg(feature = "redis")]
    Shared(crate::store::redis::Error),
}

impl fmt::Display for JournalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JournalError::Disk(e) => write!(f, "denylist journal write failed: {e}"),
            #[cfg(feature = "redis")]
            JournalError::Shared(e) => write!(f, "revocation not stored: {e}"),
        }
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

/// The revocations, in memory and (optionally) journaled.
pub struct Denylist {
    revoked: Arc<Revocations>,
    last_prune: AtomicI64,
    journal: Option<Journal>,
    /// The shared store this denylist replicates (`REDIS_URL`).
    #[cfg(feature = "redis")]
    shared: Option<std::sync::Arc<crate::store::redis::Redis>>,
}

impl fmt::Debug for Denylist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Denylist")
            .field("jtis", &self.revoked.jtis.len())
            .field("families", &self.revoked.families.len())
            .field("cutoffs", &self.revoked.cutoffs.len())
            .field("journal", &self.journal.as_ref().map(|j| &j.path))
            .field("connected", &self.is_connected())
            .finish()
    }
}

impl Denylist {
    /// A denylist kept in memory only: revocations are lost on restart.
    pub fn in_memory() -> Self {
        Denylist {
            revoked: Arc::new(Revocations::new()),
            last_prune: AtomicI64::new(0),
            journal: None,
            #[cfg(feature = "redis")]
            shared: None,
        }
    }

    /// A replica of the revocations in the shared Redis (`REDIS_URL`): connects (trying again until
    /// `REDIS_CONNECT_TIMEOUT`), loads every revocation that still matters at `now`, and starts
    /// following the event stream on the current tokio runtime (`replica.rs`).
    #[cfg(feature = "redis")]
    pub fn shared(
        settings: &crate::config::RedisSettings,
        now: i64,
    ) -> Result<Self, crate::store::redis::Error> {
        // Checked first: without a runtime there would be no one to follow the stream.
        let runtime = tokio::runtime::Handle::try_current().map_err(|e| {
            crate::store::redis::Error::Config(format!(
                "the shared denylist needs a tokio runtime: {e}"
            ))
        })?;
        let loaded = replica::load(settings, now)?;
        let redis = Arc::new(crate::store::redis::Redis::new(
            settings.clone(),
            loaded.durability,
        )?);
        let mut list = Self::in_memory();
        for record in loaded.records {
            list.revoked.apply(record);
        }
        list.shared = Some(Arc::clone(&redis));
        redis.set_following(true);
        let _guard = runtime.enter();
        redis.start();
        replica::follow(
            Arc::clone(&redis),
            Arc::downgrade(&list.revoked),
            loaded.position,
        );
        Ok(list)
    }

    /// The shared store this denylist replicates, for the other state it shares (login counters).
    #[cfg(feature = "redis")]
    pub fn shared_store(&self) -> Option<&Arc<crate::store::redis::Redis>> {
        self.shared.as_ref()
    }

    /// The readiness check of the shared store this denylist replicates, if any.
    #[cfg(feature = "redis")]
    pub fn shared_health(&self) -> Option<Arc<dyn crate::readiness::Check>> {
        self.shared
            .as_ref()
            .map(|redis| Arc::clone(redis) as Arc<dyn crate::readiness::Check>)
    }

    /// Whether this denylist is current: always, except for a replica of a shared store whose
    /// follower is disconnected or still catching up (readiness). One atomic load.
    pub fn is_connected(&self) -> bool {
        #[cfg(feature = "redis")]
        if let Some(redis) = &self.shared {
            return redis.is_connected();
        }
        true
    }

    /// Opens (or creates) the journal at `path`: replays it, drops entries that no longer matter at
    /// `now`, rewrites it compactly, and keeps it open for appending. Fails if the file can't be read
    /// or written.
    pub fn open(path: &Path, now: i64) -> io::Result<Self> {
        Self::open_with(path, now, COMPACT_MIN_LINES)
    }

    /// [`Denylist::open`] with the compaction threshold chosen (tests use a small one).
    fn open_with(path: &Path, now: i64, compact_min_lines: usize) -> io::Result<Self> {
        let mut list = Self::in_memory();
        let skipped = list.replay(path, now)?;
        if skipped > 0 {
            log::warn!(
                "DENYLIST_FILE {}: ignored {} unreadable line(s) (a torn last line after a crash is expected)",
                path.display(),
                skipped
            );
        }
        let file = journal::compact(path, &list.revoked.records())?;
        list.journal = Some(Journal::start(
            path,
            file,
            Arc::clone(&list.revoked),
            compact_min_lines,
        )?);
        Ok(list)
    }

    /// Loads the records of `path` that still matter at `now`; returns how many lines were unreadable.
    fn replay(&self, path: &Path, now: i64) -> io::Result<usize> {
        let replay = journal::replay(path)?;
        for record in replay.records {
            if record.until() > now {
                self.revoked.apply(record);
            }
        }
        Ok(replay.skipped)
    }

    /// The journal at `path` as a running server would have it in memory, read without writing to it
    /// (no compaction, no file created), so a tool such as `hyperjwt token inspect` can ask while the
    /// server runs; also returns how many unreadable lines were ignored, as [`Denylist::open`]
    /// ignores them. Every record counts, expired or not: a running server keeps an expired entry
    /// until it prunes it, and by then the token's own `exp` refuses it first. Unlike `open`, a
    /// missing file is an error: whoever names a journal to look in expects it to exist.
    pub fn read_only(path: &Path) -> io::Result<(Self, usize)> {
        std::fs::metadata(path)?;
        let list = Self::in_memory();
        let skipped = list.replay(path, i64::MIN)?;
        Ok((list, skipped))
    }

    /// The number of live entries of every kind, not yet pruned.
    pub fn len(&self) -> usize {
        self.revoked.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The live entries of each kind: token ids, families (sessions), user cutoffs.
    pub fn sizes(&self) -> [usize; 3] {
        [
            self.revoked.jtis.len(),
            self.revoked.families.len(),
            self.revoked.cutoffs.len(),
        ]
    }

    /// The journal's readiness check (`/health/ready`), if there is a journal.
    pub fn journal_health(&self) -> Option<Arc<JournalHealth>> {
        self.journal
            .as_ref()
            .map(|journal| Arc::clone(&journal.health))
    }

    /// True if `jti` has been revoked. The hot path: one atomic load while no token id is revoked,
    /// otherwise one shared read lock on one of 16 shards.
    pub fn is_revoked(&self, jti: &str) -> bool {
        self.revoked.jtis.len() != 0 && self.revoked.jtis.contains(&JtiKey::of(jti))
    }

    /// True if the family (session) `fam` has been ended. Same cost as [`Denylist::is_revoked`].
    pub fn is_family_revoked(&self, fam: &str) -> bool {
        self.revoked.families.len() != 0
            && self.revoked.families.contains(&FamilyKey(JtiKey::of(fam)))
    }

    /// The user's cutoff, in Unix milliseconds: sessions started at or before it are ended. One
    /// atomic load while no user has one; otherwise a digest of the name and one probe.
    pub fn cutoff(&self, user: &str) -> Option<i64> {
        if self.revoked.cutoffs.len() == 0 {
            return None;
        }
        self.revoked
            .cutoffs
            .get(&JtiKey::of_user(user))
            .map(|cutoff| cutoff.at_ms)
    }

    /// Revokes `jti` (whose token expires at `exp`) as of `now`. In memory first, so the token is
    /// refused at once; then, with a journal, waits until the entry is on disk. Atomic: of two
    /// concurrent revocations of one `jti`, exactly one gets [`Revocation::Revoked`] (with a shared
    /// store, across every instance: Redis decides, and nothing is in memory until it has).
    pub async fn revoke(&self, jti: &str, exp: i64, now: i64) -> Result<Revocation, JournalError> {
        self.prune_if_due(now);
        let key = JtiKey::of(jti);
        if self.revoked.jtis.contains(&key) {
            return Ok(Revocation::AlreadyRevoked);
        }
        self.record(Record::Jti(key, exp), now).await
    }

    /// Ends the family `fam` as of `now`, remembered until `until` (when no token of it can still be
    /// alive). Atomic like [`Denylist::revoke`].
    pub async fn revoke_family(
        &self,
        fam: &str,
        until: i64,
        now: i64,
    ) -> Result<Revocation, JournalError> {
        self.prune_if_due(now);
        let key = FamilyKey(JtiKey::of(fam));
        if self.revoked.families.contains(&key) {
            return Ok(Revocation::AlreadyRevoked);
        }
        self.record(Record::Family(key, until), now).await
    }

    /// Ends every session of `user` that started at or before `at_ms` (Unix milliseconds),
    /// remembered until `until` (seconds). An earlier cutoff of the user is replaced: the later one
    /// covers it. Returns the cutoff now in force.
    pub async fn cut_off(
        &self,
        user: &str,
        at_ms: i64,
        until: i64,
        now: i64,
    ) -> Result<Cutoff, JournalError> {
        self.prune_if_due(now);
        let key = JtiKey::of_user(user);
        #[cfg(feature = "redis")]
        if let Some(redis) = &self.shared {
            replica::publish(redis, Record::Cutoff(key, Cutoff { at_ms, until }), now)
                .await
                .map_err(JournalError::Shared)?;
        }
        let stored = self
            .revoked
            .cutoffs
            .merge(key, Cutoff { at_ms, until }, later);
        self.journal(Record::Cutoff(key, stored), now).await?;
        Ok(stored)
    }

    /// Keeps a new `jti` or family revocation: with a shared store, Redis first (it decides who
    /// was first), then memory; otherwise memory first (the one atomic insert), then the journal.
    async fn record(&self, record: Record, now: i64) -> Result<Revocation, JournalError> {
        #[cfg(feature = "redis")]
        if let Some(redis) = &self.shared {
            let first = replica::publish(redis, record, now)
                .await
                .map_err(JournalError::Shared)?;
            self.revoked.apply(record);
            return Ok(if first {
                Revocation::Revoked
            } else {
                Revocation::AlreadyRevoked
            });
        }
        if !self.revoked.insert(record) {
            return Ok(Revocation::AlreadyRevoked);
        }
        self.journal(record, now).await?;
        Ok(Revocation::Revoked)
    }

    async fn journal(&self, record: Record, now: i64) -> Result<(), JournalError> {
        match &self.journal {
            Some(journal) => journal
                .append(record, now)
                .await
                .map_err(JournalError::Disk),
            None => Ok(()),
        }
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

    /// Drops every entry that no longer matters at `now`. Returns how many were dropped.
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
/// [`Denylist::open`] does but never writes to it (see [`Denylist::read_only`], which answers for
/// families and cutoffs too). A missing file is an error.
pub fn lookup_in_journal(path: &Path, jti: &str) -> io::Result<JournalLookup> {
    // `replay` treats a missing file as an empty journal; here that would hide a mistyped path.
    std::fs::metadata(path)?;
    let replay = journal::replay(path)?;
    let wanted = JtiKey::of(jti);
    Ok(JournalLookup {
        revoked_until: replay
            .records
            .iter()
            .filter_map(|record| match record {
                Record::Jti(key, exp) if *key == wanted => Some(*exp),
                _ => None,
            })
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
