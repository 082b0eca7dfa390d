//! Tests of the journal: replay, torn lines, every record kind, compaction, the old format.

use super::super::*;
use super::*;

const NOW: i64 = 1_700_000_000;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hyperjwt-denylist-{name}-{}", std::process::id()));
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

#[tokio::test]
async fn a_failed_write_makes_the_journal_not_ready_until_one_succeeds() {
    let dir = temp_dir("health-write");
    let path = dir.join("denylist");
    std::fs::write(&path, b"").unwrap();
    // The writer gets a handle opened for reading only: every append fails as on a broken disk.
    let read_only = File::open(&path).unwrap();
    let revoked = Arc::new(Revocations::new());
    let mut journal = Journal::start(&path, read_only, revoked, COMPACT_MIN_LINES).unwrap();
    assert_eq!(journal.health.probe(), Ok(()));
    let record = Record::Jti(JtiKey::of(&jti(1)), NOW + 60);
    assert!(journal.append(record, NOW).await.is_err());
    let verdict = journal.health.probe().unwrap_err();
    assert!(verdict.starts_with("last write failed: "), "{verdict}");

    // A new journal on a writable handle is ready (one journal recovering is the next test).
    let health = Arc::clone(&journal.health);
    let writable = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    journal = Journal::start(
        &path,
        writable,
        Arc::new(Revocations::new()),
        COMPACT_MIN_LINES,
    )
    .unwrap();
    journal.append(record, NOW).await.unwrap();
    assert_eq!(journal.health.probe(), Ok(()));
    // The first journal was dropped when replaced: its writer has stopped, and its check says so.
    drop(journal);
    let mut stopped = false;
    for _ in 0..200 {
        if health.probe() == Err("writer stopped".into()) {
            stopped = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(stopped, "{:?}", health.probe());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_good_write_after_a_failed_one_makes_the_journal_ready_again() {
    let dir = temp_dir("health-recover");
    let path = dir.join("denylist");
    std::fs::write(&path, b"").unwrap();
    let writable = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    let journal = Journal::start(
        &path,
        writable,
        Arc::new(Revocations::new()),
        COMPACT_MIN_LINES,
    )
    .unwrap();
    journal
        .health
        .wrote(&Err(std::io::Error::other("no space left")));
    let verdict = journal.health.probe().unwrap_err();
    assert_eq!(verdict, "last write failed: no space left");
    journal.health.wrote(&Ok(()));
    assert_eq!(journal.health.probe(), Ok(()));
    drop(journal);
    std::fs::remove_dir_all(&dir).unwrap();
}
