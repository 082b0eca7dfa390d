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

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};

use tokio::sync::oneshot;

use super::revocations::{Record, Revocations};
use super::set::{Cutoff, FamilyKey, JtiKey};
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

    fn parse(line: &str) -> Option<Self> {
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
}

impl Journal {
    pub(super) fn start(
        path: &Path,
        file: File,
        revoked: Arc<Revocations>,
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
        let entries = self.revoked.records();
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
    use super::super::*;
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

    const FAM: &str = "018f0000-0000-7000-8000-000000000001";

    /// A journal written before sessions (only `<exp> <32 hex>` lines, byte for byte what that
    /// version wrote) replays as it did: upgrading loses no revocation.
    #[test]
    fn an_old_format_journal_still_replays() {
        let dir = temp_dir("old-format");
        let path = dir.join("denylist");
        let old = format!(
            "{} a30d76cc268748729b01716c5da5661b\n{} 00000000000040008000000000000001\n{} 00000000000040008000000000000002\n",
            NOW + 100,
            NOW + 50,
            NOW - 1,
        );
        std::fs::write(&path, old).unwrap();
        let list = Denylist::open(&path, NOW).unwrap();
        assert!(list.is_revoked("a30d76cc-2687-4872-9b01-716c5da5661b"));
        assert!(list.is_revoked(&jti(1)));
        assert!(!list.is_revoked(&jti(2)), "expired before the restart");
        assert_eq!(list.len(), 2);
        // Rewritten in the same format: an old binary could still read it back.
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.lines().all(
                |l| Record::parse(l).is_some_and(|r| matches!(r, Record::Jti(..)))
                    && !l.starts_with(['f', 'u'])
            ),
            "{text}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn record_lines_round_trip_and_refuse_junk() {
        let records = [
            Record::Jti(JtiKey::of(&jti(1)), NOW + 1),
            Record::Family(FamilyKey(JtiKey::of(FAM)), NOW + 2),
            Record::Cutoff(
                JtiKey::of_user("user1"),
                Cutoff {
                    at_ms: NOW * 1000 + 7,
                    until: NOW + 3,
                },
            ),
        ];
        for record in records {
            let line = String::from_utf8(record.line()).unwrap();
            assert_eq!(Record::parse(line.trim_end()), Some(record), "{line}");
        }
        assert_eq!(
            String::from_utf8(records[1].line()).unwrap(),
            format!("f {} 018f0000000070008000000000000001\n", NOW + 2)
        );
        for junk in [
            "",
            "f",
            "f 12",
            "f x 018f0000000070008000000000000001",
            "u 12 018f0000000070008000000000000001",
            "u 12 34 018f0000000070008000000000000001 extra",
            "12 018f0000000070008000000000000001 extra",
            "x 12 018f0000000070008000000000000001",
        ] {
            assert_eq!(Record::parse(junk), None, "{junk:?}");
        }
    }

    #[tokio::test]
    async fn families_and_cutoffs_survive_reopen_and_are_forgotten_when_nothing_is_alive() {
        let dir = temp_dir("sessions-reopen");
        let path = dir.join("denylist");
        {
            let list = Denylist::open(&path, NOW).unwrap();
            list.revoke(&jti(1), NOW + 100, NOW).await.unwrap();
            list.revoke_family(FAM, NOW + 200, NOW).await.unwrap();
            list.cut_off("user1", NOW * 1000 + 5, NOW + 300, NOW)
                .await
                .unwrap();
            // An earlier cutoff does not undo the later one.
            let kept = list
                .cut_off("user1", NOW * 1000 - 5, NOW + 250, NOW)
                .await
                .unwrap();
            assert_eq!(kept.at_ms, NOW * 1000 + 5);
        }
        let reopened = Denylist::open(&path, NOW + 1).unwrap();
        assert!(reopened.is_revoked(&jti(1)));
        assert!(reopened.is_family_revoked(FAM));
        assert!(!reopened.is_family_revoked(&jti(9)));
        assert_eq!(reopened.cutoff("user1"), Some(NOW * 1000 + 5));
        assert_eq!(reopened.cutoff("user2"), None);
        assert_eq!(reopened.len(), 3);
        drop(reopened);
        // Past the jti's exp and the family's end, only the cutoff is left, on disk too.
        let later = Denylist::open(&path, NOW + 200).unwrap();
        assert!(!later.is_revoked(&jti(1)));
        assert!(!later.is_family_revoked(FAM));
        assert_eq!(later.cutoff("user1"), Some(NOW * 1000 + 5));
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.starts_with("u "), "{text}");
        // And past its own end, nothing.
        assert_eq!(later.prune(NOW + 300), 1);
        assert_eq!(later.cutoff("user1"), None);
        drop(later);
        assert_eq!(Denylist::open(&path, NOW + 300).unwrap().len(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_torn_family_or_cutoff_line_is_ignored() {
        let dir = temp_dir("sessions-torn");
        let path = dir.join("denylist");
        let family = Record::Family(FamilyKey(JtiKey::of(FAM)), NOW + 100).line();
        let cutoff = Record::Cutoff(
            JtiKey::of_user("user1"),
            Cutoff {
                at_ms: NOW * 1000,
                until: NOW + 100,
            },
        )
        .line();
        let mut bytes = journal_line(JtiKey::of(&jti(1)), NOW + 100);
        bytes.extend_from_slice(&family);
        bytes.extend_from_slice(&cutoff[..cutoff.len() - 1]);
        std::fs::write(&path, &bytes).unwrap();
        let list = Denylist::open(&path, NOW).unwrap();
        assert!(list.is_revoked(&jti(1)));
        assert!(list.is_family_revoked(FAM));
        assert_eq!(list.cutoff("user1"), None, "never acknowledged");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn running_compaction_keeps_every_kind() {
        let dir = temp_dir("sessions-compaction");
        let path = dir.join("denylist");
        let list = Denylist::open_with(&path, NOW, 10).unwrap();
        list.revoke_family(FAM, NOW + 1000, NOW).await.unwrap();
        list.cut_off("user1", NOW * 1000, NOW + 1000, NOW)
            .await
            .unwrap();
        // The same user cut off again and again: one entry in memory, compacted to one line.
        for n in 0..30 {
            list.cut_off("user2", NOW * 1000 + n, NOW + 1000, NOW)
                .await
                .unwrap();
        }
        assert_eq!(list.len(), 3);
        drop(list);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.lines().count() < 30, "{text}");
        let reopened = Denylist::open(&path, NOW).unwrap();
        assert!(reopened.is_family_revoked(FAM));
        assert_eq!(reopened.cutoff("user1"), Some(NOW * 1000));
        assert_eq!(reopened.cutoff("user2"), Some(NOW * 1000 + 29));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn read_only_sees_every_kind_and_writes_nothing() {
        let dir = temp_dir("sessions-read-only");
        let path = dir.join("denylist");
        {
            let list = Denylist::open(&path, NOW).unwrap();
            list.revoke_family(FAM, NOW + 10, NOW).await.unwrap();
            list.cut_off("user1", NOW * 1000, NOW + 10, NOW)
                .await
                .unwrap();
        }
        let before = std::fs::read(&path).unwrap();
        let (seen, skipped) = Denylist::read_only(&path).unwrap();
        assert_eq!(skipped, 0);
        assert!(seen.is_family_revoked(FAM));
        assert_eq!(seen.cutoff("user1"), Some(NOW * 1000));
        assert_eq!(std::fs::read(&path).unwrap(), before);
        assert!(Denylist::read_only(&dir.join("missing")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
