//! A minimal logger behind the `log` facade: one line per record on stderr, as text
//! (`2026-11-24T22:10:03.123Z INFO  hyperjwt::access: GET /protected 200 0.041ms request_id=...`)
//! or, with `LOG_FORMAT=json`, as one JSON object per line (`format.rs`). A line logged while a
//! request is handled names that request's id (`request.rs`).
//!
//! Lines are buffered and written in batches: at 16 KiB, every 100 ms (a small background thread),
//! at once for warnings and errors, and at shutdown. An access line per request would otherwise cost
//! a `write` system call per request, a visible share of a request that takes a few microseconds.
//! The price: if the process is killed outright, up to 100 ms of info lines are lost.
//!
//! No logging framework is needed for that; embedders who have their own logger simply don't call
//! [`init`], and every record goes to theirs.
//!
//! [`limits`] keeps the warnings that a limit acted (a cap, a full password-check pool, the
//! throttle) to one line per interval per limit.

use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use log::{Level, LevelFilter, Log, Metadata, Record};

mod format;
pub mod limits;
mod request;

pub use format::{Format, utc_timestamp};
pub use request::{
    MAX_LEN as MAX_REQUEST_ID_LEN, RequestId, RequestScope, current, in_request, is_sane,
};

/// Buffered lines are written once they reach this size...
const FLUSH_BYTES: usize = 16 * 1024;
/// ...or this long after they were logged, whichever comes first.
const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// Formatted lines waiting to be written.
struct LineBuffer {
    pending: Mutex<Pending>,
}

struct Pending {
    format: Format,
    lines: Vec<u8>,
    /// Reused for formatting a JSON line's message and values, so lines allocate nothing.
    scratch: String,
}

impl LineBuffer {
    const fn new(format: Format) -> Self {
        LineBuffer {
            pending: Mutex::new(Pending {
                format,
                lines: Vec::new(),
                scratch: String::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        // A poisoned lock only means a panic mid-append; the bytes are still usable.
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set_format(&self, format: Format) {
        self.lock().format = format;
    }

    /// Appends the line for `record`; writes everything to `sink` if it is urgent or enough.
    fn push(&self, record: &Record, now: SystemTime, sink: &mut dyn Write) {
        request::with_current(|request_id| {
            let mut pending = self.lock();
            let Pending {
                format,
                lines,
                scratch,
            } = &mut *pending;
            match format {
                Format::Text => format::text(lines, record, now, request_id),
                Format::Json => format::json(lines, scratch, record, now, request_id),
            }
            if record.level() <= Level::Warn || lines.len() >= FLUSH_BYTES {
                drain(lines, sink);
            }
        });
    }

    fn flush_to(&self, sink: &mut dyn Write) {
        drain(&mut self.lock().lines, sink);
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
    lines: LineBuffer::new(Format::Text),
};

/// Installs the stderr logger at `level`, writing text lines. Harmless if a logger is already
/// installed.
pub fn init(level: LevelFilter) {
    init_with(level, Format::Text);
}

/// Installs the stderr logger at `level`, writing lines in `format` (`LOG_FORMAT`). Harmless if a
/// logger is already installed.
pub fn init_with(level: LevelFilter, format: Format) {
    LOGGER.lines.set_format(format);
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
            // Unlocked: stderr is locked only inside a drain's write (most lines only join the
            // buffer), not once per line.
            self.lines
                .push(record, SystemTime::now(), &mut std::io::stderr());
        }
    }

    fn flush(&self) {
        self.lines.flush_to(&mut std::io::stderr());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

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
        let buffer = LineBuffer::new(Format::Text);
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
        let buffer = LineBuffer::new(Format::Text);
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

    #[test]
    fn lines_logged_in_a_request_carry_its_id_in_either_format() {
        for format in [Format::Text, Format::Json] {
            let buffer = LineBuffer::new(format);
            let mut sink = Vec::new();
            let id = RequestId::new(bytes::Bytes::from_static(b"req-42")).unwrap();
            in_request(id, || {
                record_line(&buffer, Level::Warn, "inside", &mut sink)
            });
            record_line(&buffer, Level::Warn, "outside", &mut sink);
            let text = String::from_utf8(sink).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            assert_eq!(lines.len(), 2, "{text}");
            match format {
                Format::Text => {
                    assert!(lines[0].ends_with("inside request_id=req-42"), "{text}");
                    assert!(lines[1].ends_with("outside"), "{text}");
                }
                Format::Json => {
                    let inside: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
                    let outside: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
                    assert_eq!(inside["request_id"], "req-42");
                    assert_eq!(inside["message"], "inside");
                    assert!(outside.get("request_id").is_none(), "{text}");
                }
            }
        }
    }
}
