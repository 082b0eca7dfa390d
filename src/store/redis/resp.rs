//! RESP2, the Redis wire protocol (<https://redis.io/docs/latest/develop/reference/protocol-spec/>),
//! as far as this server needs it: a command is an array of bulk strings ([`command`]), and a reply
//! is one of five kinds ([`Value`]), parsed incrementally from a buffer ([`parse`]).
//!
//! Replies come from our own Redis, not from clients, but they are still bounded: a bulk string or
//! an array larger than [`MAX_LEN`], or nesting deeper than [`MAX_DEPTH`], is a protocol error.

use std::fmt;

/// The largest bulk string or array length accepted (Redis's own limit for a bulk is 512 MiB).
pub const MAX_LEN: usize = 64 * 1024 * 1024;
/// Deeper arrays than this are refused (XREAD's reply is 4 levels deep; XINFO's 3).
pub const MAX_DEPTH: usize = 8;

/// One reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `+OK`
    Simple(String),
    /// `-ERR ...`: a command that failed (the connection is fine).
    Error(String),
    /// `:42`
    Int(i64),
    /// `$3 abc`, or `$-1` (nil).
    Bulk(Option<Vec<u8>>),
    /// `*2 ...`, or `*-1` (nil: a blocking read that timed out, say).
    Array(Option<Vec<Value>>),
}

impl Value {
    /// A bulk or simple string as text.
    pub fn text(&self) -> Option<&str> {
        match self {
            Value::Bulk(Some(bytes)) => std::str::from_utf8(bytes).ok(),
            Value::Simple(text) => Some(text),
            _ => None,
        }
    }

    pub fn int(&self) -> Option<i64> {
        match self {
            Value::Int(n) => Some(*n),
            // Scores and counters sometimes come as text.
            other => other.text()?.parse().ok(),
        }
    }

    /// The items of an array; a nil array or a nil bulk is empty.
    pub fn items(&self) -> Option<&[Value]> {
        match self {
            Value::Array(Some(items)) => Some(items),
            Value::Array(None) | Value::Bulk(None) => Some(&[]),
            _ => None,
        }
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Bulk(None) | Value::Array(None))
    }
}

/// The bytes did not follow RESP2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError(pub &'static str);

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad reply from Redis: {}", self.0)
    }
}

/// Appends one command (an array of bulk strings) to `out`.
pub fn command<A: AsRef<[u8]>>(out: &mut Vec<u8>, args: &[A]) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for arg in args {
        let arg = arg.as_ref();
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
}

/// Parses one reply from the front of `buf`: `Ok(Some((value, bytes used)))`, or `Ok(None)` when
/// the reply is not complete yet.
pub fn parse(buf: &[u8]) -> Result<Option<(Value, usize)>, ProtocolError> {
    let mut at = 0;
    Ok(value(buf, &mut at, 0)?.map(|v| (v, at)))
}

fn value(buf: &[u8], at: &mut usize, depth: usize) -> Result<Option<Value>, ProtocolError> {
    let Some(line) = line(buf, *at) else {
        return Ok(None);
    };
    let (kind, text) = line.split_first().ok_or(ProtocolError("an empty line"))?;
    let text = std::str::from_utf8(text).map_err(|_| ProtocolError("a line that is not UTF-8"))?;
    let after_line = *at + line.len() + 2;
    let parsed = match kind {
        b'+' => Value::Simple(text.to_string()),
        b'-' => Value::Error(text.to_string()),
        b':' => Value::Int(text.parse().map_err(|_| ProtocolError("a bad integer"))?),
        b'$' => match length(text)? {
            None => Value::Bulk(None),
            Some(len) => {
                let end = after_line + len;
                if buf.len() < end + 2 {
                    return Ok(None);
                }
                if &buf[end..end + 2] != b"\r\n" {
                    return Err(ProtocolError("a bulk string without its CRLF"));
                }
                *at = end + 2;
                return Ok(Some(Value::Bulk(Some(buf[after_line..end].to_vec()))));
            }
        },
        b'*' => match length(text)? {
            None => Value::Array(None),
            Some(len) => {
                if depth >= MAX_DEPTH {
                    return Err(ProtocolError("arrays nested too deep"));
                }
                let mut cursor = after_line;
                // Each item takes at least 3 bytes, so `len` can't reserve more than the buffer holds.
                let mut items = Vec::with_capacity(len.min(buf.len() / 3));
                for _ in 0..len {
                    match value(buf, &mut cursor, depth + 1)? {
                        Some(item) => items.push(item),
                        None => return Ok(None),
                    }
                }
                *at = cursor;
                return Ok(Some(Value::Array(Some(items))));
            }
        },
        _ => return Err(ProtocolError("an unknown reply type")),
    };
    *at = after_line;
    Ok(Some(parsed))
}

/// The line starting at `from`, without its CRLF, once it is complete.
fn line(buf: &[u8], from: usize) -> Option<&[u8]> {
    let rest = buf.get(from..)?;
    let end = rest.windows(2).position(|w| w == b"\r\n")?;
    Some(&rest[..end])
}

/// A bulk or array length: `-1` is nil.
fn length(text: &str) -> Result<Option<usize>, ProtocolError> {
    if text == "-1" {
        return Ok(None);
    }
    match text.parse::<usize>() {
        Ok(len) if len <= MAX_LEN => Ok(Some(len)),
        Ok(_) => Err(ProtocolError("a length over the limit")),
        Err(_) => Err(ProtocolError("a bad length")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::Bulk(Some(s.as_bytes().to_vec()))
    }

    #[test]
    fn encodes_commands_as_arrays_of_bulk_strings() {
        let mut out = Vec::new();
        command(&mut out, &["SET", "k", ""]);
        assert_eq!(out, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
    }

    #[test]
    fn parses_every_kind() {
        let cases: [(&[u8], Value); 7] = [
            (b"+OK\r\n", Value::Simple("OK".into())),
            (b"-ERR no\r\n", Value::Error("ERR no".into())),
            (b":-42\r\n", Value::Int(-42)),
            (b"$5\r\na\r\nbc\r\n", bulk("a\r\nbc")),
            (b"$-1\r\n", Value::Bulk(None)),
            (b"*-1\r\n", Value::Array(None)),
            (
                b"*2\r\n*1\r\n:1\r\n$0\r\n\r\n",
                Value::Array(Some(vec![
                    Value::Array(Some(vec![Value::Int(1)])),
                    bulk(""),
                ])),
            ),
        ];
        for (bytes, want) in cases {
            assert_eq!(parse(bytes).unwrap(), Some((want, bytes.len())));
            // Every strict prefix is incomplete, not an error.
            for cut in 0..bytes.len() {
                assert_eq!(parse(&bytes[..cut]).unwrap(), None, "{cut}");
            }
        }
        // Two replies back to back: the first is taken, the rest left.
        assert_eq!(parse(b":1\r\n:2\r\n").unwrap(), Some((Value::Int(1), 4)));
    }

    #[test]
    fn refuses_what_is_not_resp2() {
        for bad in [
            &b"?x\r\n"[..],
            b":1x\r\n",
            b"$3\r\nabcde\r\n",
            b"$99999999999\r\n",
            b"*-2\r\n",
            b"\r\n",
        ] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let deep = "*1\r\n".repeat(MAX_DEPTH + 1) + ":1\r\n";
        assert!(parse(deep.as_bytes()).is_err());
    }
}
