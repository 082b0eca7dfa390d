//! The two shapes of a log line (`LOG_FORMAT`): `text`, for people,
//! `2026-11-24T22:10:03.123Z INFO  hyperjwt::access: GET /protected 200 0.041ms request_id=...`,
//! and `json`, one object per line for machines:
//! `{"time":"...","level":"info","target":"hyperjwt::access","message":"...","request_id":"...",...}`
//! with the record's key-value fields (the access line's `method`, `path`, `status`, ...) after
//! the message. Strings are escaped by serde_json, so no field can break the line or forge another.

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use log::Record;
use log::kv::{self, Key, Value, VisitSource, VisitValue};

use crate::calendar::civil_from_days;

/// How lines are written (`LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// One line for people: time, level, target, message (and the request id, in a request).
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// RFC 3339 UTC time with milliseconds, e.g. `2026-11-24T22:10:03.123Z`.
pub fn utc_timestamp(time: SystemTime) -> String {
    UtcTimestamp(time).to_string()
}

/// [`utc_timestamp`] as `Display`: each log line writes its timestamp straight into the line
/// buffer, instead of formatting a `String` per line first (an allocation per request with the
/// access log on).
pub(super) struct UtcTimestamp(pub(super) SystemTime);

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

/// Appends the text line for `record` to `out`.
pub(super) fn text(out: &mut Vec<u8>, record: &Record, now: SystemTime, request_id: Option<&str>) {
    // Writing into a Vec cannot fail.
    let _ = write!(
        out,
        "{} {:<5} {}: {}",
        UtcTimestamp(now),
        record.level(),
        record.target(),
        record.args()
    );
    if let Some(id) = request_id {
        // A sane id (`request::is_sane`) needs no quoting.
        let _ = write!(out, " request_id={id}");
    }
    out.push(b'\n');
}

/// Appends the JSON line for `record` to `out`; `scratch` is a reusable buffer for formatting the
/// message and any value that is not a plain string or number (kept by the caller, so a line
/// allocates nothing once it has grown).
pub(super) fn json(
    out: &mut Vec<u8>,
    scratch: &mut String,
    record: &Record,
    now: SystemTime,
    request_id: Option<&str>,
) {
    let _ = write!(
        out,
        r#"{{"time":"{}","level":"{}","target":"#,
        UtcTimestamp(now),
        level_name(record.level())
    );
    string(out, record.target());
    out.extend_from_slice(br#","message":"#);
    scratch.clear();
    let _ = write!(scratch, "{}", record.args());
    string(out, scratch);
    if let Some(id) = request_id {
        out.extend_from_slice(br#","request_id":"#);
        string(out, id);
    }
    let _ = record.key_values().visit(&mut Fields { out, scratch });
    out.extend_from_slice(b"}\n");
}

fn level_name(level: log::Level) -> &'static str {
    match level {
        log::Level::Error => "error",
        log::Level::Warn => "warn",
        log::Level::Info => "info",
        log::Level::Debug => "debug",
        log::Level::Trace => "trace",
    }
}

/// `text` as a JSON string, escaped by serde_json.
fn string(out: &mut Vec<u8>, text: &str) {
    let _ = serde_json::to_writer(&mut *out, text);
}

/// Writes each key-value pair of a record as `,"key":value`.
struct Fields<'a> {
    out: &'a mut Vec<u8>,
    scratch: &'a mut String,
}

impl<'kvs> VisitSource<'kvs> for Fields<'_> {
    fn visit_pair(&mut self, key: Key<'kvs>, value: Value<'kvs>) -> Result<(), kv::Error> {
        self.out.push(b',');
        string(self.out, key.as_str());
        self.out.push(b':');
        value.visit(JsonValue {
            out: self.out,
            scratch: self.scratch,
        })
    }
}

/// One value: numbers and booleans as themselves, everything else as a string.
struct JsonValue<'a> {
    out: &'a mut Vec<u8>,
    scratch: &'a mut String,
}

impl<'v> VisitValue<'v> for JsonValue<'_> {
    fn visit_any(&mut self, value: Value) -> Result<(), kv::Error> {
        self.scratch.clear();
        let _ = write!(self.scratch, "{value}");
        string(self.out, self.scratch);
        Ok(())
    }

    fn visit_null(&mut self) -> Result<(), kv::Error> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    fn visit_u64(&mut self, value: u64) -> Result<(), kv::Error> {
        let _ = write!(self.out, "{value}");
        Ok(())
    }

    fn visit_i64(&mut self, value: i64) -> Result<(), kv::Error> {
        let _ = write!(self.out, "{value}");
        Ok(())
    }

    fn visit_f64(&mut self, value: f64) -> Result<(), kv::Error> {
        if value.is_finite() {
            let _ = write!(self.out, "{value}");
        } else {
            // JSON has no NaN or infinity.
            self.out.extend_from_slice(b"null");
        }
        Ok(())
    }

    fn visit_bool(&mut self, value: bool) -> Result<(), kv::Error> {
        let _ = write!(self.out, "{value}");
        Ok(())
    }

    fn visit_str(&mut self, value: &str) -> Result<(), kv::Error> {
        string(self.out, value);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn json_line(record: &Record, request_id: Option<&str>) -> serde_json::Value {
        let mut out = Vec::new();
        json(&mut out, &mut String::new(), record, UNIX_EPOCH, request_id);
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1);
        assert!(out.ends_with(b"}\n"));
        serde_json::from_slice(&out).expect("one JSON object")
    }

    #[test]
    fn a_json_line_has_time_level_target_message_id_and_fields() {
        let fields: [(&str, Value); 5] = [
            ("method", Value::from("GET")),
            ("status", Value::from(200u16)),
            ("duration_ms", Value::from(0.25f64)),
            ("client", Value::from_display(&"127.0.0.1")),
            ("missing", Value::null()),
        ];
        let args = format_args!("GET /protected 200 0.250ms");
        let record = Record::builder()
            .level(log::Level::Info)
            .target("hyperjwt::access")
            .args(args)
            .key_values(&fields)
            .build();
        let line = json_line(&record, Some("abc-1"));
        assert_eq!(
            line,
            serde_json::json!({
                "time": "1970-01-01T00:00:00.000Z",
                "level": "info",
                "target": "hyperjwt::access",
                "message": "GET /protected 200 0.250ms",
                "request_id": "abc-1",
                "method": "GET",
                "status": 200,
                "duration_ms": 0.25,
                "client": "127.0.0.1",
                "missing": null,
            })
        );
    }

    #[test]
    fn quotes_newlines_and_control_characters_stay_inside_their_string() {
        let nasty = "user \"x\"\n{\"level\":\"error\"}\u{1}\\";
        let args = format_args!("failed login for user {nasty}");
        let record = Record::builder()
            .level(log::Level::Warn)
            .target("hyperjwt")
            .args(args)
            .build();
        let line = json_line(&record, None);
        assert_eq!(line["message"], format!("failed login for user {nasty}"));
        assert_eq!(line["level"], "warn");
        assert!(line.get("request_id").is_none());
    }

    #[test]
    fn a_text_line_ends_with_the_request_id_in_a_request() {
        let args = format_args!("GET / 200 0.010ms");
        let record = Record::builder()
            .level(log::Level::Info)
            .target("hyperjwt::access")
            .args(args)
            .build();
        let mut out = Vec::new();
        text(
            &mut out,
            &record,
            UNIX_EPOCH + Duration::from_millis(5),
            Some("r-1"),
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "1970-01-01T00:00:00.005Z INFO  hyperjwt::access: GET / 200 0.010ms request_id=r-1\n"
        );
    }
}
