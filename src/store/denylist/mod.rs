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

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::hash::{BuildHasher, RandomState};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock, mpsc};

use tokio::sync::oneshot;

use crate::store::atomic_file;

/// Shards of the set. More than the cores of any small host, so two lookups rarely share a lock.
const SHARDS: usize = 16;
/// How often (seconds) a revocation also sweeps out expired entries.
const PRUNE_INTERVAL: i64 = 60;
/// The journal is rewritten once it holds this many lines and twice the live entries.
pub const COMPACT_MIN_LINES: usize = 10_000;

/// A `jti`, compacted to 16 bytes: a UUID (what we and Flask-JWT-Extended issue) is parsed to its
/// 16 bytes; any other string is represented by the first 16 bytes of its SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct JtiKey([u8; 16]);

impl JtiKey {
    fn of(jti: &str) -> Self {
        parse_uuid(jti).map(JtiKey).unwrap_or_else(|| {
            let digest = ring::digest::digest(&ring::digest::SHA256, jti.as_bytes());
            let mut key = [0u8; 16];
            key.copy_from_slice(&digest.as_ref()[..16]);
            JtiKey(key)
        })
    }

    fn to_hex(self) -> [u8; 32] {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 32];
        for (i, byte) in self.0.iter().enumerate() {
            out[2 * i] = HEX[usize::from(byte >> 4)];
            out[2 * i + 1] = HEX[usize::from(byte & 0x0f)];
        }
        out
    }

    fn from_hex(text: &str) -> Option<Self> {
        if text.len() != 32 {
            return None;
        }
        let mut key = [0u8; 16];
        for (i, pair) in text.as_bytes().chunks_exact(2).enumerate() {
            key[i] = (hex_digit(pair[0])? << 4) | hex_digit(pair[1])?;
        }
        Some(JtiKey(key))
    }
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// `8-4-4-4-12` hex digits to 16 bytes.
fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    let bytes = text.as_bytes();
    if bytes.len() != 36 || [8, 13, 18, 23].iter().any(|&i| bytes[i] != b'-') {
        return None;
    }
    let mut digits = bytes.iter().filter(|&&b| b != b'-');
    let mut out = [0u8; 16];
    for byte in &mut out {
        let high = hex_digit(*digits.next()?)?;
        let low = hex_digit(*digits.next()?)?;
        *byte = (high << 4) | low;
    }
    Some(out)
}

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

/// The revoked ids in memory, sharded. Shared by the [`Denylist`] and its journal writer, which
/// snapshots it when it compacts the file.
struct RevokedSet {
    shards: Vec<RwLock<HashMap<JtiKey, i64>>>,
    hasher: RandomState,
    len: AtomicUsize,
}

impl RevokedSet {
    fn new() -> Self {
        RevokedSet {
            shards: (0..SHARDS).map(|_| RwLock::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
            len: AtomicUsize::new(0),
        }
    }

    fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    fn shard(&self, key: &JtiKey) -> &RwLock<HashMap<JtiKey, i64>> {
        let index = self.hasher.hash_one(key) as usize % SHARDS;
        &self.shards[index]
    }

    fn contains(&self, key: &JtiKey) -> bool {
        // A poisoned lock only means another thread panicked mid-insert; the map is still usable.
        let shard = self.shard(key).read().unwrap_or_else(|e| e.into_inner());
        shard.contains_key(key)
    }

    /// Adds an entry. Returns false if it was already there.
    fn insert(&self, key: JtiKey, exp: i64) -> bool {
        let mut shard = self.shard(&key).write().unwrap_or_else(|e| e.into_inner());
        if shard.contains_key(&key) {
            return false;
        }
        shard.insert(key, exp);
        self.len.fetch_add(1, Ordering::Release);
        true
    }

    /// Drops every entry whose token has expired at `now`. Returns how many were dropped.
    fn prune(&self, now: i64) -> usize {
        let mut dropped = 0;
        for shard in &self.shards {
            let mut shard = shard.write().unwrap_or_else(|e| e.into_inner());
            let before = shard.len();
            shard.retain(|_, exp| *exp > now);
            if shard.len() < before / 4 {
                shard.shrink_to_fit();
            }
            dropped += before - shard.len();
        }
        self.len.fetch_sub(dropped, Ordering::Release);
        dropped
    }

    /// Every live entry, for compaction.
    fn entries(&self) -> Vec<(JtiKey, i64)> {
        let mut all = Vec::with_capacity(self.len());
        for shard in &self.shards {
            let shard = shard.read().unwrap_or_else(|e| e.into_inner());
            all.extend(shard.iter().map(|(k, v)| (*k, *v)));
        }
        all
    }
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
        let replay = replay(path)?;
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
        let file = compact(path, &list.revoked.entries())?;
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
    let replay = replay(path)?;
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

/// One journal line: `<exp> <32 hex digits>\n`.
fn journal_line(key: JtiKey, exp: i64) -> Vec<u8> {
    let mut line = format!("{exp} ").into_bytes();
    line.extend_from_slice(&key.to_hex());
    line.push(b'\n');
    line
}

fn parse_line(line: &str) -> Option<(JtiKey, i64)> {
    let (exp, key) = line.split_once(' ')?;
    Some((JtiKey::from_hex(key)?, exp.parse().ok()?))
}

struct Replay {
    entries: Vec<(JtiKey, i64)>,
    skipped: usize,
}

/// Reads every complete, well-formed line. A last line without its newline was torn by a crash
/// mid-write; it was never acknowledged (acknowledgement waits for the fsync), so it is skipped.
fn replay(path: &Path) -> io::Result<Replay> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok(Replay {
                entries: Vec::new(),
                skipped: 0,
            });
        }
        Err(e) => return Err(e),
    };
    let mut reader = BufReader::new(file);
    let mut entries = Vec::new();
    let mut skipped = 0;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        let complete = buf.last() == Some(&b'\n');
        let parsed = std::str::from_utf8(&buf)
            .ok()
            .and_then(|l| parse_line(l.trim_end_matches('\n')));
        match parsed {
            Some(entry) if complete => entries.push(entry),
            _ => skipped += 1,
        }
    }
    Ok(Replay { entries, skipped })
}

/// Rewrites the journal with only `entries`, atomically and durably ([`atomic_file::replace`]).
/// Returns the new file, open and positioned at its end, for further appends.
fn compact(path: &Path, entries: &[(JtiKey, i64)]) -> io::Result<File> {
    let (file, target) = write_compacted(path, entries)?;
    atomic_file::sync_parent_dir(&target)?;
    Ok(file)
}

/// The steps of [`compact`] up to the rename: once this returns, the journal is the new file, at
/// the returned path (the link's target, if the journal is a symbolic link).
fn write_compacted(path: &Path, entries: &[(JtiKey, i64)]) -> io::Result<(File, PathBuf)> {
    let mut out = Vec::with_capacity(entries.len() * 48);
    for (key, exp) in entries {
        out.extend_from_slice(&journal_line(*key, *exp));
    }
    atomic_file::replace_keep_open(path, &out)
}

/// A pending append: the line, the time of the revocation, and who to tell once it is durable.
struct Append {
    line: Vec<u8>,
    now: i64,
    done: oneshot::Sender<io::Result<()>>,
}

/// The append-only journal, written by one dedicated thread (blocking file I/O stays off the async
/// workers). Dropping it closes the channel; the thread finishes what is queued and exits.
struct Journal {
    path: PathBuf,
    sender: mpsc::Sender<Append>,
}

impl Journal {
    fn start(
        path: &Path,
        file: File,
        revoked: Arc<RevokedSet>,
        compact_min_lines: usize,
    ) -> io::Result<Self> {
        let (sender, receiver) = mpsc::channel();
        let writer = Writer {
            path: path.to_path_buf(),
            file,
            revoked,
            lines: 0,
            compact_min_lines,
            dir_unsynced: None,
        };
        std::thread::Builder::new()
            .name("denylist-journal".into())
            .spawn(move || writer.run(receiver))?;
        Ok(Journal {
            path: path.to_path_buf(),
            sender,
        })
    }

    async fn append(&self, key: JtiKey, exp: i64, now: i64) -> io::Result<()> {
        let (done, acknowledged) = oneshot::channel();
        let line = journal_line(key, exp);
        self.sender
            .send(Append { line, now, done })
            .map_err(|_| io::Error::other("journal writer stopped"))?;
        acknowledged
            .await
            .unwrap_or_else(|_| Err(io::Error::other("journal writer stopped")))
    }
}

/// The journal writer thread's state.
struct Writer {
    path: PathBuf,
    file: File,
    revoked: Arc<RevokedSet>,
    /// Lines in the file now (live or not).
    lines: usize,
    compact_min_lines: usize,
    /// A compaction renamed a new file into place but could not fsync the directory yet: until it
    /// can, the rename (and so every append since) is not durable, so no append is acknowledged.
    dir_unsynced: Option<PathBuf>,
}

impl Writer {
    /// Group commit: take every append already queued, write them in one go, fsync once, then
    /// acknowledge them all. Under load, one fsync covers many revocations.
    fn run(mut self, receiver: mpsc::Receiver<Append>) {
        self.lines = self.revoked.len();
        while let Ok(first) = receiver.recv() {
            let mut batch = vec![first];
            batch.extend(receiver.try_iter());
            let mut bytes = Vec::with_capacity(batch.len() * 48);
            for append in &batch {
                bytes.extend_from_slice(&append.line);
            }
            let result = self
                .file
                .write_all(&bytes)
                .and_then(|()| self.file.sync_data())
                .and_then(|()| self.sync_dir_if_needed());
            self.lines += batch.len();
            let now = batch.iter().map(|append| append.now).max().unwrap_or(0);
            for append in batch {
                let outcome = match &result {
                    Ok(()) => Ok(()),
                    Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
                };
                let _ = append.done.send(outcome);
            }
            if self.lines >= self.compact_min_lines.max(2 * self.revoked.len()) {
                self.compact(now);
            }
        }
    }

    fn sync_dir_if_needed(&mut self) -> io::Result<()> {
        if let Some(target) = &self.dir_unsynced {
            atomic_file::sync_parent_dir(target)?;
            self.dir_unsynced = None;
        }
        Ok(())
    }

    /// Rewrites the file with the live entries only. Every entry acknowledged so far is in the
    /// in-memory set (revocations enter it before they are queued here), so the snapshot holds them
    /// all; an entry queued but not yet written may appear in both, which replay tolerates.
    fn compact(&mut self, now: i64) {
        self.revoked.prune(now);
        let entries = self.revoked.entries();
        match write_compacted(&self.path, &entries) {
            Ok((file, target)) => {
                log::debug!(
                    "denylist journal compacted: {} lines -> {}",
                    self.lines,
                    entries.len()
                );
                // From here on the journal is the new file, whatever happens to the directory sync.
                self.file = file;
                self.lines = entries.len();
                self.dir_unsynced = Some(target);
                if let Err(e) = self.sync_dir_if_needed() {
                    log::warn!("denylist journal: directory fsync failed, will retry: {e}");
                }
            }
            // The old file is intact and still open: keep appending to it, try again later.
            Err(e) => {
                log::warn!("denylist journal compaction failed, will retry: {e}");
                self.lines = entries.len();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("hyperjwt-denylist-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn jti(n: u32) -> String {
        format!("00000000-0000-4000-8000-{n:012}")
    }

    #[test]
    fn uuid_jtis_compact_to_their_bytes_and_others_to_a_digest() {
        let key = JtiKey::of("a30d76cc-2687-4872-9b01-716c5da5661b");
        assert_eq!(&key.to_hex(), b"a30d76cc268748729b01716c5da5661b");
        assert_eq!(
            JtiKey::from_hex("a30d76cc268748729b01716c5da5661b"),
            Some(key)
        );
        let other = JtiKey::of("not-a-uuid");
        assert_eq!(other, JtiKey::of("not-a-uuid"));
        assert_ne!(other, JtiKey::of("not-a-uuid2"));
        assert_eq!(parse_uuid("a30d76cc-2687-4872-9b01-716c5da5661"), None);
        assert_eq!(parse_uuid("a30d76cc+2687-4872-9b01-716c5da5661b"), None);
        assert_eq!(parse_uuid("g30d76cc-2687-4872-9b01-716c5da5661b"), None);
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
    async fn journal_survives_reopen_and_drops_expired() {
        let dir = temp_dir("reopen");
        let path = dir.join("denylist");
        {
            let list = Denylist::open(&path, NOW).unwrap();
            list.revoke(&jti(1), NOW + 100, NOW).await.unwrap();
            list.revoke(&jti(2), NOW + 5, NOW).await.unwrap();
        }
        let reopened = Denylist::open(&path, NOW + 10).unwrap();
        assert!(reopened.is_revoked(&jti(1)));
        assert!(!reopened.is_revoked(&jti(2)));
        assert_eq!(reopened.len(), 1);
        // Compaction rewrote the file with the live entry only.
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn the_journal_is_compacted_while_running() {
        let dir = temp_dir("running-compaction");
        let path = dir.join("denylist");
        let list = Denylist::open_with(&path, NOW, 10).unwrap();
        // 30 short-lived revocations: the file grows past the threshold and is compacted, but they
        // are all still live, so all are kept.
        for n in 0..30 {
            list.revoke(&jti(n), NOW + 5, NOW).await.unwrap();
        }
        let lines = std::fs::read_to_string(&path).unwrap().lines().count();
        assert!((30..=32).contains(&lines), "{lines}");
        // A prune interval later those have expired and are pruned from memory, so a few more
        // revocations make the file twice the live entries: it is compacted down to them.
        let later = NOW + PRUNE_INTERVAL + 10;
        for n in 100..112 {
            list.revoke(&jti(n), later + 1000, later).await.unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.lines().count() < 30, "{text}");
        drop(list);
        let reopened = Denylist::open(&path, later).unwrap();
        assert_eq!(reopened.len(), 12);
        assert!((100..112).all(|n| reopened.is_revoked(&jti(n))));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn acknowledged_revocations_survive_compactions_under_concurrency() {
        let dir = temp_dir("concurrent-compaction");
        let path = dir.join("denylist");
        let list = std::sync::Arc::new(Denylist::open_with(&path, NOW, 16).unwrap());
        let mut tasks = Vec::new();
        for worker in 0..8 {
            let list = list.clone();
            tasks.push(tokio::spawn(async move {
                for n in 0..50 {
                    let id = worker * 1000 + n;
                    list.revoke(&jti(id), NOW + 1000, NOW).await.unwrap();
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        drop(list);
        let reopened = Denylist::open(&path, NOW).unwrap();
        assert_eq!(reopened.len(), 400);
        for worker in 0..8 {
            assert!((0..50).all(|n| reopened.is_revoked(&jti(worker * 1000 + n))));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn replay_tolerates_a_torn_last_line() {
        let dir = temp_dir("torn");
        let path = dir.join("denylist");
        let mut text = String::new();
        text.push_str(std::str::from_utf8(&journal_line(JtiKey::of(&jti(1)), NOW + 100)).unwrap());
        text.push_str(std::str::from_utf8(&journal_line(JtiKey::of(&jti(2)), NOW + 100)).unwrap());
        let torn = journal_line(JtiKey::of(&jti(3)), NOW + 100);
        text.push_str(std::str::from_utf8(&torn[..20]).unwrap());
        std::fs::write(&path, &text).unwrap();
        let list = Denylist::open(&path, NOW).unwrap();
        assert!(list.is_revoked(&jti(1)));
        assert!(list.is_revoked(&jti(2)));
        assert!(!list.is_revoked(&jti(3)));
        assert_eq!(list.len(), 2);
        // Even a torn line whose prefix happens to parse is not trusted without its newline.
        let full_but_unterminated = journal_line(JtiKey::of(&jti(4)), NOW + 100);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(
            std::str::from_utf8(&full_but_unterminated[..full_but_unterminated.len() - 1]).unwrap(),
        );
        std::fs::write(&path, &text).unwrap();
        let list = Denylist::open(&path, NOW).unwrap();
        assert!(!list.is_revoked(&jti(4)));
        assert_eq!(list.len(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn journal_lookup_reads_without_writing() {
        let dir = temp_dir("lookup");
        let path = dir.join("denylist");
        {
            let list = Denylist::open(&path, NOW).unwrap();
            list.revoke(&jti(1), NOW + 100, NOW).await.unwrap();
            list.revoke("not-a-uuid", NOW + 50, NOW).await.unwrap();
        }
        // A torn last line, as a crash mid-append leaves: ignored and counted, and left in place.
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("1700000100 00000000");
        std::fs::write(&path, &text).unwrap();
        let before = std::fs::read(&path).unwrap();

        let found = lookup_in_journal(&path, &jti(1)).unwrap();
        assert_eq!(found.revoked_until, Some(NOW + 100));
        assert_eq!(found.skipped_lines, 1);
        assert_eq!(
            lookup_in_journal(&path, "not-a-uuid")
                .unwrap()
                .revoked_until,
            Some(NOW + 50)
        );
        assert_eq!(
            lookup_in_journal(&path, &jti(2)).unwrap().revoked_until,
            None
        );
        // Nothing was rewritten: no compaction, no temporary file.
        assert_eq!(std::fs::read(&path).unwrap(), before);
        assert!(!atomic_file::temp_path(&path).exists());
        // A journal that isn't there is an error here, and is not created.
        let missing = dir.join("missing");
        assert_eq!(
            lookup_in_journal(&missing, &jti(1)).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
        assert!(!missing.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn unwritable_journal_fails_to_open() {
        let dir = temp_dir("unwritable");
        // A directory where the file should be: can be neither replayed as a file nor appended to.
        let path = dir.join("is-a-dir");
        std::fs::create_dir_all(&path).unwrap();
        assert!(Denylist::open(&path, NOW).is_err());
        assert!(Denylist::open(&dir.join("missing-dir").join("denylist"), NOW).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
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
