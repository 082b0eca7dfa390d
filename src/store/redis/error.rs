//! [`Error`]: why a command got no answer from Redis. Every one of them means the same to a
//! request (503: not acknowledged; after a [`Error::Timeout`] or a lost connection Redis may still
//! have run the command, or run it when it resumes); the kinds are for the log.

use std::fmt;
use std::io;

use super::resp::{ProtocolError, Value};

/// Why a command got no answer from Redis.
#[derive(Debug)]
pub enum Error {
    Io(io::Error),
    /// The connection closed (Redis stopped, or the connection broke).
    Closed,
    /// No answer within the time allowed.
    Timeout,
    /// Too many commands already wait on the connection (`connection::MAX_WAITING`).
    Busy,
    /// Commands fail at once for a moment after a failed connection attempt.
    Reconnecting,
    Protocol(ProtocolError),
    /// Redis answered with an error (`-ERR ...`, `-NOAUTH ...`).
    Refused(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "redis: {e}"),
            Error::Closed => f.write_str("redis: connection closed"),
            Error::Timeout => f.write_str("redis: no answer in time"),
            Error::Busy => f.write_str("redis: too many commands waiting for an answer"),
            Error::Reconnecting => f.write_str("redis: unreachable, reconnecting"),
            Error::Protocol(e) => write!(f, "redis: {e}"),
            Error::Refused(msg) => write!(f, "redis refused the command: {msg}"),
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    /// An error reply as an error.
    pub(super) fn from_reply(value: Value) -> Result<Value, Error> {
        match value {
            Value::Error(msg) => Err(Error::Refused(msg)),
            other => Ok(other),
        }
    }

    pub(super) fn unexpected(what: &'static str) -> Error {
        Error::Protocol(ProtocolError(what))
    }
}
