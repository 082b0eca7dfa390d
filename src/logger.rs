//! A minimal logger behind the `log` facade: one line per record on stderr,
//! `2026-11-24T22:10:03.123Z INFO  hyperjwt::access: GET /protected 200 0.041ms`.
//!
//! Lines are buffered and written in batches: at 16 KiB, every 100 ms (a small background thread),
//! at once for warnings and errors, and at shutdown. An access line per request would otherwise cost
//! a `write` system call per request, a visible share of a request that takes a few microseconds.
//! The price: if the process is killed outright, up to 100 ms of info lines are lost.
//!
//! No logging framework is needed for that; embedders who have their own logger simply don't call
//! [`init`], and every record goes to theirs.

use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use log::{Level, LevelFilter, Log, Metadata, Record};

use crate::calendar::civil_from_days;

/// Buffered lines are written once they reach this size...
const FLUSH_BYTES: usize = 16 * 1024;
/// ...or this long after they were logged, whichever comes first.
const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// Formatted lines waiting to be written.
struct LineBuffer {
    pending: Mutex<Vec<u8>>,
}

impl LineBuffer {
    const fn new() -> Self {
        LineBuffer {
            pending: Mutex::new(Vec::new()),
        }
    }

    /// Appends the line for `record`; writes everything to `sink` if it is urgent or enough.
    fn push(&self, record: &Record, now: SystemTime, sink: &mut dyn Write) {
        // A poisoned lock only means a panic mid-append; the bytes are still usable.
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        // Writing into a Vec cannot fail.
        let _ = writeln!(
            pending,
            "{} {:<5} {}: {}",
            UtcTimestamp(now),
            record.level(),
            record.target(),
            record.args()
        );
        if record.level() <= Level::Warn || pending.len() >= FLUSH_BYTES {
            drain(&mut pending, sink);
        }
    }

    fn flush_to(&self, sink: &mut dyn Write) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        drain(&mut pending, sink);
    }
}

/// Whole lines in one write, so lines never interleave; a closed stderr is not an error.
fn drain(pending: &mut Vec<u8>, sink: &mut dyn Write) {
    if !pending.is_empty() {
        let _ = sink.write_all(pending);
        let _ = sink.flush();
        pending.clear();
    }
}

struct StderrLogger {
    lines: LineBuffer,
}

static LOGGER: StderrLogger = StderrLogger {
    lines: LineBuffer::new(),
};

/// Installs the stderr logger at `level`. Harmless if a logger is already installed.
pub fn init(level: LevelFilter) {
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(level);
        // If the thread can't be started, lines still go out at 16 KiB, on warnings and at exit.
        let _ = std::thread::Builder::new()
            .name("log-flush".into())
            .spawn(|| {
                loop {
                    std::thread::sleep(FLUSH_EVERY);
                    LOGGER.flush();
                }
            });
    }
}

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record) {
        if self.enabled(record.metadata()) {
            self.lines
                .push(record, SystemTime::now(), &mut std::io::stderr().lock());
        }
    }

    fn flush(&self) {
        self.lines.flush_to(&mut std::io::stderr().lock());
    }
}

/// RFC 3339 UTC time with milliseconds, e.g. `2026-11-24T22:10:03.123Z`.
pub fn utc_timestamp(time: SystemTime) -> String {
    UtcTimestamp(time).to_string()
}

/// [`utc_timestamp`] as `Display`: each log line writes its timestamp straight into the line
/// buffer, instead of formatting a `String` per line first (an allocation per request with the
/// access log on).
struct UtcTimestamp(SystemTime);

impl std::fmt::Display for UtcTimestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let since_epoch = self.0.duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = since_epoch.as_secs();
        let (year, month, day) = civil_from_days((secs / 86_400) as i64);
        let rem = secs % 86_400;
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60,
            since_epoch.subsec_millis()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_known_instants() {
        assert_eq!(utc_timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(utc_timestamp(t), "2023-11-14T22:13:20.123Z");
        // A leap day.
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(utc_timestamp(t), "2000-02-29T00:00:00.000Z");
    }

    fn record_line(buffer: &LineBuffer, level: Level, text: &str, sink: &mut Vec<u8>) {
        let args = format_args!("{text}");
        let record = Record::builder()
            .level(level)
            .target("hyperjwt::access")
            .args(args)
            .build();
        buffer.push(&record, UNIX_EPOCH, sink);
    }

    #[test]
    fn info_lines_wait_for_a_flush_and_warnings_go_out_at_once() {
        let buffer = LineBuffer::new();
        let mut sink = Vec::new();
        record_line(&buffer, Level::Info, "GET / 200 0.010ms", &mut sink);
        assert!(sink.is_empty());
        buffer.flush_to(&mut sink);
        assert_eq!(
            String::from_utf8(sink.clone()).unwrap(),
            "1970-01-01T00:00:00.000Z INFO  hyperjwt::access: GET / 200 0.010ms\n"
        );
        sink.clear();
        record_line(&buffer, Level::Info, "one", &mut sink);
        record_line(&buffer, Level::Warn, "two", &mut sink);
        let text = String::from_utf8(sink).unwrap();
        assert!(text.contains("INFO  hyperjwt::access: one\n"), "{text}");
        assert!(text.ends_with("WARN  hyperjwt::access: two\n"), "{text}");
    }

    #[test]
    fn a_full_buffer_is_written_without_waiting() {
        let buffer = LineBuffer::new();
        let mut sink = Vec::new();
        let line = "x".repeat(100);
        let mut logged = 0;
        while sink.is_empty() {
            record_line(&buffer, Level::Info, &line, &mut sink);
            logged += 1;
        }
        // Written as whole lines, all of them, once past the threshold.
        assert!(sink.len() >= FLUSH_BYTES);
        assert_eq!(sink.iter().filter(|&&b| b == b'\n').count(), logged);
    }
}
