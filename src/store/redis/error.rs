//! [`Error`]: why a command got no answer from Redis, or not the one needed. Every one of them means
//! the same to a request (503: not acknowledged; after a [`Error::Timeout`] or a lost connection
//! Redis may still have run the command, or run it when it resumes); the kinds are for the log,
//! for readiness, and for start-up, which stops at once on the ones no retry mends
//! ([`Error::stops_start_up`]).

use std::fmt;

use fred::error::{Error as FredError, ErrorKind};

/// Why a command got no answer from Redis.
#[derive(Debug, Clone)]
pub enum Error {
    /// Not connected, the connection broke, or the network failed (with the client's words).
    Unavailable(String),
    /// No answer within `REDIS_COMMAND_TIMEOUT` (or `REDIS_DIAL_TIMEOUT` while connecting).
    Timeout,
    /// Too many commands already wait for the connection.
    Busy,
    /// Redis answered with an error (`-ERR ...`, `-NOPERM ...`, `-OOM ...`, `-READONLY ...`).
    Refused(String),
    /// The reply was not of the shape asked for.
    Unexpected(&'static str),
    /// Applied, but not yet as durable as `REDIS_WAITAOF` / `REDIS_WAIT_REPLICAS` ask.
    NotDurable(String),
    /// The settings cannot work (a CA file that can't be read, say): start-up stops.
    Config(String),
    /// A Cluster said the key's slot is elsewhere (`MOVED`, `ASK`): the command did not run, the
    /// client has learnt the new layout, and sending it again is safe.
    Redirected,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Unavailable(e) => write!(f, "redis: {e}"),
            Error::Timeout => f.write_str("redis: no answer in time"),
            Error::Busy => f.write_str("redis: too many commands waiting for an answer"),
            Error::Refused(msg) => write!(f, "redis refused the command: {msg}"),
            Error::Unexpected(what) => write!(f, "redis: unexpected reply, wanted {what}"),
            Error::NotDurable(what) => write!(f, "redis: applied but not durable yet: {what}"),
            Error::Config(what) => write!(f, "redis: {what}"),
            Error::Redirected => f.write_str("redis: the Cluster moved the slot"),
        }
    }
}

impl std::error::Error for Error {}

impl From<FredError> for Error {
    fn from(e: FredError) -> Self {
        let details = e.details().to_string();
        // fred's word for a command it would send a second time: with one attempt allowed
        // (`client.rs`), only after a redirection, which it has followed as far as learning it.
        if details == "Too many failed write attempts." {
            return Error::Redirected;
        }
        match e.kind() {
            ErrorKind::Timeout => Error::Timeout,
            ErrorKind::Backpressure => Error::Busy,
            // Redis's own error replies keep their code (`NOPERM`, `OOM`, `READONLY`...) first.
            ErrorKind::Auth
            | ErrorKind::InvalidArgument
            | ErrorKind::InvalidCommand
            | ErrorKind::Cluster
                if starts_with_code(&details) =>
            {
                Error::Refused(details)
            }
            ErrorKind::Unknown if starts_with_code(&details) => Error::Refused(details),
            ErrorKind::Config | ErrorKind::Url => Error::Config(details),
            kind => Error::Unavailable(format!("{}: {}", kind.to_str(), plain(&details))),
        }
    }
}

/// An I/O error's own words out of the `Debug` form fred gives (`Os { code: 111, kind:
/// ConnectionRefused, message: "Connection refused" }` → `Connection refused`; `Custom { kind:
/// InvalidData, error: InvalidCertificate(UnknownIssuer) }`, rustls's, → its `error`).
fn plain(details: &str) -> &str {
    if let Some((message, _)) = details
        .split_once("message: \"")
        .and_then(|(_, rest)| rest.split_once('"'))
    {
        return message;
    }
    match details
        .strip_prefix("Custom {")
        .and_then(|rest| rest.split_once("error: "))
    {
        Some((_, error)) => error.trim_end_matches('}').trim().trim_matches('"'),
        None => details,
    }
}

/// Whether `text` starts like an error reply: an upper-case code, then a space.
fn starts_with_code(text: &str) -> bool {
    let code = text.split(' ').next().unwrap_or("");
    code.len() >= 2 && code.bytes().all(|b| b.is_ascii_uppercase())
}

impl Error {
    /// The error reply's code (`NOPERM`, `OOM`...), if Redis refused.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Refused(msg) => msg.split(' ').next(),
            _ => None,
        }
    }

    /// The reason to stop start-up at once, when waiting for Redis cannot mend this error: wrong
    /// credentials, a command the ACL denies, a database Redis does not have, TLS that can't be
    /// verified, settings that can't work. `None` for whatever may pass (Redis starting, the
    /// network, a failover).
    pub fn stops_start_up(&self) -> Option<String> {
        let reason = match self {
            Error::Config(what) => what.clone(),
            Error::Refused(msg) => match self.code() {
                Some("WRONGPASS") => {
                    format!("Redis refused the user or password in REDIS_URL ({msg})")
                }
                Some("NOAUTH") => format!(
                    "Redis wants a password and REDIS_URL gives none or the wrong one ({msg})"
                ),
                Some("NOPERM") => format!(
                    "the ACL user of REDIS_URL is denied a command hyperjwt needs ({msg}); \
                     docs/scaling.md gives the minimal ACL"
                ),
                _ if msg.contains("DB index is out of range")
                    || msg.contains("invalid DB index") =>
                {
                    format!("Redis has no such database as REDIS_URL names ({msg})")
                }
                _ => return None,
            },
            Error::Unavailable(what) if is_certificate_error(what) => {
                format!(
                    "the TLS certificate of Redis could not be verified ({what}); set REDIS_CA_FILE to the CA that signed it"
                )
            }
            _ => return None,
        };
        Some(reason)
    }
}

/// rustls's words for a certificate that does not verify.
fn is_certificate_error(what: &str) -> bool {
    let what = what.to_ascii_lowercase();
    what.contains("invalid peer certificate")
        || what.contains("unknownissuer")
        || what.contains("notvalidforname")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_keep_their_code_and_some_stop_start_up() {
        let refused = |text: &'static str| Error::from(FredError::new(ErrorKind::Unknown, text));
        let e = refused("NOPERM User app has no permissions to run the 'xadd' command");
        assert_eq!(e.code(), Some("NOPERM"));
        assert!(e.stops_start_up().unwrap().contains("'xadd'"));
        let e = Error::from(FredError::new(
            ErrorKind::Auth,
            "WRONGPASS invalid username-password pair",
        ));
        assert!(e.stops_start_up().unwrap().contains("REDIS_URL"));
        assert!(
            refused("ERR DB index is out of range")
                .stops_start_up()
                .is_some()
        );
        assert_eq!(refused("LOADING Redis is loading").stops_start_up(), None);
        assert_eq!(refused("READONLY You can't write").code(), Some("READONLY"));
        let e = Error::from(FredError::new(ErrorKind::IO, "Connection reset by peer"));
        assert!(matches!(e, Error::Unavailable(_)));
        let refused = r#"Os { code: 111, kind: ConnectionRefused, message: "Connection refused" }"#;
        let e = Error::from(FredError::new(ErrorKind::IO, refused));
        assert_eq!(e.to_string(), "redis: IO Error: Connection refused");
        assert_eq!(e.stops_start_up(), None);
        let untrusted = "Custom { kind: InvalidData, error: InvalidCertificate(UnknownIssuer) }";
        let e = Error::from(FredError::new(ErrorKind::IO, untrusted));
        assert_eq!(
            e.to_string(),
            "redis: IO Error: InvalidCertificate(UnknownIssuer)"
        );
        assert!(e.stops_start_up().unwrap().contains("REDIS_CA_FILE"));
        assert!(matches!(
            Error::from(FredError::new(ErrorKind::Timeout, "t")),
            Error::Timeout
        ));
    }
}
