//! The journal: revocations on disk, so they survive restarts and crashes.
//!
//! Every revocation is appended as one line and `fsync`ed **before** it is acknowledged. Three kinds
//! of line, told apart by their first character:
//!
//! | line | meaning | kept until |
//! |---|---|---|
//! | `<exp> <32 hex>` | a revoked `jti` (the only kind before sessions; still written as it was) | the token's `exp` |
//! | `f <until> <32 hex>` | a revoked family (`fam`): every token of that session | `until` |
//! | `u <until> <at_ms> <32 hex>` | a user's cutoff: every session of the user (the hex is `digest16` of the name) started at or before `at_ms` | `until` |
//!
//! A single writer thread batches concurrent revocations into one write and one `fsync` (group
//! commit). At start-up the journal is replayed (a torn last line from a crash is ignored, entries
//! that no longer matter dropped) and rewritten compactly; while running, the writer rewrites it the
//! same way whenever it has grown to twice the live entries (and at least [`COMPACT_MIN_LINES`]
//! lines), so the file stays bounded like the memory.
//!
//! [`JournalHealth`] is the journal's readiness check (`/health/ready`): the writer still running,
//! its last write and fsync successful, the path still naming the file it writes to (a journal
//! deleted or replaced under the server would lose every later revocation at the next restart),
//! and the file and its directory writable (compaction creates and renames files there).

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use tokio::sync::oneshot;

use super::revocations::{Record, Revocations};
use super::set::{Cutoff, FamilyKey, JtiKey};
use crate::readiness::{Check, CheckFuture, Verdict};
use crate::store::atomic_file;

/// The journal is rewritten once it holds this many lines and twice the live entries.
pub const COMPACT_MIN_LINES: usize = 10_000;

impl Record {
    /// The record's journal line, newline included.
    pub(super) fn line(&self) -> Vec<u8> {
        let text = match self {
            Record::Jti(key, exp) => format!("{exp} {}\n", key.to_hex()),
            Record::Family(key, until) => format!("f {until} {}\n", key.0.to_hex()),
            Record::Cutoff(key, c) => format!("u {} {} {}\n", c.until, c.at_ms, key.to_hex()),
        };
        text.into_bytes()
    }

    pub(super) fn parse(line: &str) -> Option<Self> {
        let mut fields = line.split(' ');
        let first = fields.next()?;
        let record = match first {
            "f" => {
                let until = fields.next()?.parse().ok()?;
                Record::Family(FamilyKey(JtiKey::from_hex(fields.next()?)?), until)
            }
            "u" => {
                let until = fields.next()?.parse().ok()?;
                let at_ms = fields.next()?.parse().ok()?;
                Record::Cutoff(JtiKey::from_hex(fields.next()?)?, Cutoff { at_ms, until })
            }
            // The original line, `<exp> <32 hex>`: journals written before sessions replay as they were.
            exp => Record::Jti(JtiKey::from_hex(fields.next()?)?, exp.parse().ok()?),
        };
        // Nothing after the last field: a line is all of one record or none.
        fields.next().is_none().then_some(record)
    }
}

/// One journal line for a revoked `jti`: `<exp> <32 hex digits>\n` (what the tests write by hand).
#[cfg(test)]
pub(super) fn journal_line(key: JtiKey, exp: i64) -> Vec<u8> {
    Record::Jti(key, exp).line()
}

pub(super) struct Replay {
    pub(super) records: Vec<Record>,
    pub(super) skipped: usize,
}

/// Reads every complete, well-formed line. A last line without its newline was torn by a crash
/// mid-write; it was never acknowledged (acknowledgement waits for the fsync), so it is skipped.
pub(super) fn replay(path: &Path) -> io::Result<Replay> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok(Replay {
                records: Vec::new(),
                skipped: 0,
            });
        }
        Err(e) => return Err(e),
    };
    let mut reader = BufReader::new(file);
    let mut records = Vec::new();
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
            .and_then(|l| Record::parse(l.trim_end_matches('\n')));
        match parsed {
            Some(record) if complete => records.push(record),
            _ => skipped += 1,
        }
    }
    Ok(Replay { records, skipped })
}

/// Rewrites the journal with only `records`, atomically and durably ([`atomic_file::replace`]).
/// Returns the new file, open and positioned at its end, for further appends.
pub(super) fn compact(path: &Path, records: &[Record]) -> io::Result<File> {
    let (file, target) = write_compacted(path, records)?;
    atomic_file::sync_parent_dir(&target)?;
    Ok(file)
}

/// The steps of [`compact`] up to the rename: once this returns, the journal is the new file, at
/// the returned path (the link's target, if the journal is a symbolic link).
fn write_compacted(path: &Path, records: &[Record]) -> io::Result<(File, PathBuf)> {
    let mut out = Vec::with_capacity(records.len() * 48);
    for record in records {
        out.extend_from_slice(&record.line());
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
pub(super) struct Journal {
    pub(super) path: PathBuf,
    sender: mpsc::Sender<Append>,
    pub(super) health: Arc<JournalHealth>,
}

impl Journal {
    pub(super) fn start(
        path: &Path,
        file: File,
        revoked: Arc<Revocations>,
        compact_min_lines: usize,
    ) -> io::Result<Self> {
        let (sender, receiver) = mpsc::channel();
        let health = Arc::new(JournalHealth {
            path: path.to_path_buf(),
            state: Mutex::new(HealthState {
                file: FileId::of(&file),
                last_error: None,
            }),
            stopped: AtomicBool::new(false),
        });
        let writer = Writer {
            path: path.to_path_buf(),
            file,
            revoked,
            lines: 0,
            compact_min_lines,
            dir_unsynced: None,
            health: Arc::clone(&health),
        };
        std::thread::Builder::new()
            .name("denylist-journal".into())
            .spawn(move || {
                let _stopped = Stopped(Arc::clone(&writer.health));
                writer.run(receiver);
            })?;
        Ok(Journal {
            path: path.to_path_buf(),
            sender,
            health,
        })
    }

    pub(super) async fn append(&self, record: Record, now: i64) -> io::Result<()> {
        let (done, acknowledged) = oneshot::channel();
        let line = record.line();
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
    revoked: Arc<Revocations>,
    /// Lines in the file now (live or not).
    lines: usize,
    compact_min_lines: usize,
    /// A compaction renamed a new file into place but could not fsync the directory yet: until it
    /// can, the rename (and so every append since) is not durable, so no append is acknowledged.
    dir_unsynced: Option<PathBuf>,
    health: Arc<JournalHealth>,
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
            self.health.wrote(&result);
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
        let entries = self.revoked.records();
        // Held from before the rename until the new file is recorded, so the readiness check never
        // sees the path name a file other than the one recorded.
        let health = Arc::clone(&self.health);
        let mut state = health.lock();
        match write_compacted(&self.path, &entries) {
            Ok((file, target)) => {
                state.file = FileId::of(&file);
                drop(state);
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
                drop(state);
                log::warn!("denylist journal compaction failed, will retry: {e}");
                self.lines = entries.len();
            }
        }
    }
}

/// Marks the writer stopped when its thread ends, however it ends (a panic included).
struct Stopped(Arc<JournalHealth>);

impl Drop for Stopped {
    fn drop(&mut self) {
        self.0.stopped.store(true, Ordering::Relaxed);
    }
}

/// The journal's readiness check; see the module documentation.
pub struct JournalHealth {
    path: PathBuf,
    state: Mutex<HealthState>,
    stopped: AtomicBool,
}

struct HealthState {
    /// The file the writer appends to.
    file: Option<FileId>,
    /// Why the last batch could not be made durable; `None` once one is.
    last_error: Option<String>,
}

/// Which file an open handle or a path is: device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    #[cfg(unix)]
    fn from_metadata(metadata: &std::fs::Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        FileId {
            dev: metadata.dev(),
            ino: metadata.ino(),
        }
    }

    #[cfg(not(unix))]
    fn from_metadata(_: &std::fs::Metadata) -> Self {
        FileId { dev: 0, ino: 0 }
    }

    fn of(file: &File) -> Option<Self> {
        file.metadata().ok().map(|m| Self::from_metadata(&m))
    }
}

impl JournalHealth {
    fn lock(&self) -> std::sync::MutexGuard<'_, HealthState> {
        // A poisoned lock only means a panic mid-update of plain fields.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wrote(&self, result: &io::Result<()>) {
        self.lock().last_error = result.as_ref().err().map(|e| e.to_string());
    }

    /// Ready, or why not; see the module documentation. A few system calls (`stat`, `open`,
    /// `access`), made on the caller's thread: a readiness probe is rare, and each call returns at
    /// once on a local disk.
    pub fn probe(&self) -> Verdict {
        if self.stopped.load(Ordering::Relaxed) {
            return Err("writer stopped".into());
        }
        let state = self.lock();
        if let Some(error) = &state.last_error {
            return Err(Cow::Owned(format!("last write failed: {error}")));
        }
        let on_disk = match std::fs::metadata(&self.path) {
            Ok(metadata) => FileId::from_metadata(&metadata),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err("file missing".into()),
            Err(e) => return Err(Cow::Owned(format!("cannot stat the file: {e}"))),
        };
        if cfg!(unix) && state.file != Some(on_disk) {
            return Err("file replaced".into());
        }
        drop(state);
        // Opening for appending writes nothing, but fails as a write would on a read-only file
        // (or file system).
        if let Err(e) = std::fs::OpenOptions::new().append(true).open(&self.path) {
            return Err(Cow::Owned(format!("file not writable: {e}")));
        }
        let target = std::fs::canonicalize(&self.path).unwrap_or_else(|_| self.path.clone());
        match target.parent() {
            Some(dir) if !dir_writable(dir) => Err(Cow::Owned(format!(
                "directory not writable: {}",
                io::Error::last_os_error()
            ))),
            _ => Ok(()),
        }
    }
}

impl Check for JournalHealth {
    fn name(&self) -> &'static str {
        "journal"
    }

    fn check(&self) -> CheckFuture<'_> {
        Box::pin(std::future::ready(self.probe()))
    }
}

/// True if this process may create and rename files in `dir` (`access(2)` with `W_OK | X_OK`).
#[cfg(unix)]
fn dir_writable(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(path) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `path` is a valid NUL-terminated string that outlives the call; access only reads it.
    unsafe { libc::access(path.as_ptr(), libc::W_OK | libc::X_OK) == 0 }
}

#[cfg(not(unix))]
fn dir_writable(_: &Path) -> bool {
    true
}

#[cfg(test)]
mod tests;
