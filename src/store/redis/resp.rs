//! RESP2, the Redis wire protocol (<https://redis.io/docs/latest/develop/reference/protocol-spec/>),
//! as far as this server needs it: a command is an array of bulk strings ([`command`]), and a reply
//! is one of five kinds ([`Value`]), parsed as its bytes arrive ([`Parser`]).
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

/// Parses replies as their bytes arrive, without going over what it already parsed: the items of
/// an array read so far are kept, with the number of bytes they took, so a large reply (a
/// `ZSCAN` page, an `XREAD` batch) arriving in many reads costs one pass over its bytes, not one
/// per read.
///
/// Give [`Parser::next`] the buffer from the first byte of the reply being parsed, with whatever
/// has arrived since appended: the bytes it already took must not change in between.
#[derive(Debug, Default)]
pub struct Parser {
    /// Bytes of the current reply already taken into `open`.
    taken: usize,
    /// The arrays begun but not complete, outermost first: each one's length and its items so far.
    open: Vec<(usize, Vec<Value>)>,
}

/// One element read: a whole value, or the start of an array whose items follow.
enum Element {
    Value(Value),
    Array(usize),
}

impl Parser {
    /// The next reply: `Ok(Some((value, bytes used)))`, or `Ok(None)` until it is complete. After
    /// an error the connection is unusable (its bytes can no longer be told apart).
    pub fn next(&mut self, buf: &[u8]) -> Result<Option<(Value, usize)>, ProtocolError> {
        let result = self.resume(buf);
        if result.is_err() {
            *self = Parser::default();
        }
        result
    }

    /// Bytes of the current, incomplete reply already parsed (never read again): what the tests
    /// check the parser does not go over twice.
    #[cfg(test)]
    fn taken(&self) -> usize {
        self.taken
    }

    fn resume(&mut self, buf: &[u8]) -> Result<Option<(Value, usize)>, ProtocolError> {
        loop {
            let rest = buf.get(self.taken..).unwrap_or_default();
            let Some((element, used)) = element(rest)? else {
                return Ok(None);
            };
            self.taken += used;
            let mut value = match element {
                Element::Value(value) => value,
                Element::Array(len) => {
                    if self.open.len() >= MAX_DEPTH {
                        return Err(ProtocolError("arrays nested too deep"));
                    }
                    // Each item takes at least 3 bytes: `len` can't reserve more than those here.
                    self.open
                        .push((len, Vec::with_capacity(len.min(rest.len() / 3))));
                    continue;
                }
            };
            // A complete value fills its array's next slot, which may complete that array, and so on.
            loop {
                let Some((len, items)) = self.open.last_mut() else {
                    let used = std::mem::take(&mut self.taken);
                    return Ok(Some((value, used)));
                };
                items.push(value);
                if items.len() < *len {
                    break;
                }
                let (_, items) = self.open.pop().unwrap_or_default();
                value = Value::Array(Some(items));
            }
        }
    }
}

/// One element from the front of `buf`, and the bytes it took; `None` until it is complete.
fn element(buf: &[u8]) -> Result<Option<(Element, usize)>, ProtocolError> {
    let Some(line) = line(buf) else {
        return Ok(None);
    };
    let (kind, text) = line.split_first().ok_or(ProtocolError("an empty line"))?;
    let text = std::str::from_utf8(text).map_err(|_| ProtocolError("a line that is not UTF-8"))?;
    let after_line = line.len() + 2;
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
                let bulk = Value::Bulk(Some(buf[after_line..end].to_vec()));
                return Ok(Some((Element::Value(bulk), end + 2)));
            }
        },
        b'*' => match length(text)? {
            None => Value::Array(None),
            Some(0) => Value::Array(Some(Vec::new())),
            Some(len) => return Ok(Some((Element::Array(len), after_line))),
        },
        _ => return Err(ProtocolError("an unknown reply type")),
    };
    Ok(Some((Element::Value(parsed), after_line)))
}

/// The line at the front of `buf`, without its CRLF, once it is complete.
fn line(buf: &[u8]) -> Option<&[u8]> {
    let end = buf.windows(2).position(|w| w == b"\r\n")?;
    Some(&buf[..end])
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

    /// One reply from the front of `buf`, as a fresh [`Parser`] reads it.
    fn parse(buf: &[u8]) -> Result<Option<(Value, usize)>, ProtocolError> {
        Parser::default().next(buf)
    }

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

    /// Every reply of [`parses_every_kind`], and one nested deeper, cut at every byte.
    fn samples() -> Vec<(Vec<u8>, Value)> {
        let mut all: Vec<(Vec<u8>, Value)> = vec![
            (b"+OK\r\n".to_vec(), Value::Simple("OK".into())),
            (b":-42\r\n".to_vec(), Value::Int(-42)),
            (b"$5\r\na\r\nbc\r\n".to_vec(), bulk("a\r\nbc")),
            (b"*0\r\n".to_vec(), Value::Array(Some(vec![]))),
        ];
        // XREAD's shape: [[stream, [[id, [field, value]]]]], with a nil and an empty array inside.
        let xread =
            b"*1\r\n*2\r\n$6\r\nevents\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nr\r\n$4\r\nj 1 \r\n\
                      *3\r\n$-1\r\n*0\r\n*-1\r\n";
        let entry = |items| Value::Array(Some(items));
        all.push((
            xread.to_vec(),
            entry(vec![entry(vec![
                bulk("events"),
                entry(vec![
                    entry(vec![bulk("1-0"), entry(vec![bulk("r"), bulk("j 1 ")])]),
                    entry(vec![Value::Bulk(None), entry(vec![]), Value::Array(None)]),
                ]),
            ])]),
        ));
        all
    }

    #[test]
    fn a_reply_split_at_any_byte_resumes_where_it_stopped() {
        for (bytes, want) in samples() {
            for cut in 0..bytes.len() {
                let mut parser = Parser::default();
                assert_eq!(parser.next(&bytes[..cut]).unwrap(), None, "{cut}");
                let whole = parser.next(&bytes).unwrap();
                assert_eq!(whole, Some((want.clone(), bytes.len())), "{cut}");
                // Done: the parser is ready for the next reply.
                assert_eq!(parser.taken(), 0);
            }
            // One byte at a time, through one parser.
            let mut parser = Parser::default();
            for end in 0..bytes.len() {
                assert_eq!(parser.next(&bytes[..end]).unwrap(), None, "{end}");
            }
            assert_eq!(parser.next(&bytes).unwrap(), Some((want, bytes.len())));
        }
    }

    #[test]
    fn replies_back_to_back_come_one_at_a_time() {
        let mut parser = Parser::default();
        let buf = b"*2\r\n:1\r\n:2\r\n+OK\r\n:3";
        let (first, used) = parser.next(buf).unwrap().unwrap();
        assert_eq!(
            first,
            Value::Array(Some(vec![Value::Int(1), Value::Int(2)]))
        );
        assert_eq!(
            parser.next(&buf[used..]).unwrap(),
            Some((Value::Simple("OK".into()), 5))
        );
        assert_eq!(parser.next(&buf[used + 5..]).unwrap(), None);
    }

    /// A `ZSCAN` page of 10,000 members arriving 1,000 bytes at a time: each read parses only what
    /// it added (what was taken stays within one element of what arrived), not the reply so far.
    #[test]
    fn a_large_reply_is_parsed_once_as_it_arrives() {
        let mut reply = b"*2\r\n$1\r\n0\r\n*20000\r\n".to_vec();
        for i in 0..10_000 {
            let member = format!("{i:032x}");
            reply.extend_from_slice(format!("$32\r\n{member}\r\n$10\r\n1700000000\r\n").as_bytes());
        }
        let mut parser = Parser::default();
        let mut fed = 0;
        let done = loop {
            fed = (fed + 1000).min(reply.len());
            if let Some(done) = parser.next(&reply[..fed]).unwrap() {
                break done;
            }
            let element = "$32\r\n".len() + 32 + 2;
            assert!(
                parser.taken() + element > fed,
                "{} of {fed}",
                parser.taken()
            );
        };
        assert_eq!(done.1, reply.len());
        assert_eq!(Some(done), parse(&reply).unwrap());
        let items = parse(&reply).unwrap().unwrap().0;
        assert_eq!(items.items().unwrap()[1].items().unwrap().len(), 20_000);
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
