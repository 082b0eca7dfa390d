//! `REDIS_URL`, `REDIS_KEY_PREFIX` and `REDIS_CONNECT_TIMEOUT`: where several instances share their
//! revocations and login counters (docs/scaling.md). Parsed in every build, so a bad value gets the
//! same clear error everywhere; a binary built without the `redis` feature then refuses the URL
//! (`Config::from_lookup`). Talking to Redis is `crate::store::redis`'s job.

use std::fmt;
use std::time::Duration;

use super::kinds::{ConfigError, Secret};

/// The default `REDIS_KEY_PREFIX`: every key this server writes starts with it.
pub const DEFAULT_KEY_PREFIX: &str = "hyperjwt:";

/// How to reach the shared Redis, and which keys are ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisSettings {
    pub url: RedisUrl,
    /// Put before every key (`REDIS_KEY_PREFIX`), so deployments can share one Redis.
    pub key_prefix: String,
    /// How long start-up keeps trying to reach Redis before it gives up (`REDIS_CONNECT_TIMEOUT`).
    pub connect_timeout: Duration,
}

/// A parsed `redis://[[user]:password@]host[:port][/db]`.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub db: u32,
}

/// Shows the URL with its password replaced, for logs and `Debug`.
impl fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("redis://")?;
        match (&self.username, &self.password) {
            (Some(user), Some(_)) => write!(f, "{user}:<redacted>@")?,
            (None, Some(_)) => f.write_str(":<redacted>@")?,
            (Some(user), None) => write!(f, "{user}@")?,
            (None, None) => {}
        }
        write!(f, "{}:{}/{}", self.host, self.port, self.db)
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedisUrl({self})")
    }
}

const URL_HELP: &str =
    "use redis://[[user]:password@]host[:port][/db], e.g. redis://127.0.0.1:6379/0";

impl RedisUrl {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let rest = match text.split_once("://") {
            Some(("redis", rest)) => rest,
            Some(("rediss", _)) => {
                return Err(
                    "rediss:// (TLS) is not supported: reach Redis over a private network or a local \
                     TLS tunnel (stunnel, spiped) and use redis://"
                        .into(),
                );
            }
            // Not the text itself: whatever it is, it may hold the password (`http://:pw@h`).
            Some((scheme, _)) => {
                return Err(format!(
                    "the scheme {:?} is not redis://; {URL_HELP}",
                    scheme.chars().take(16).collect::<String>()
                ));
            }
            None => return Err(format!("it is not a redis:// URL; {URL_HELP}")),
        };
        let bad = |what: &str| format!("{what}; {URL_HELP}");
        let (userinfo, rest) = match rest.rsplit_once('@') {
            Some((userinfo, rest)) => (Some(userinfo), rest),
            None => (None, rest),
        };
        let (username, password) = match userinfo {
            None => (None, None),
            Some(info) => {
                let (user, password) = info.split_once(':').unwrap_or((info, ""));
                let user = percent_decode(user).ok_or_else(|| bad("bad %-escape in the user"))?;
                let password =
                    percent_decode(password).ok_or_else(|| bad("bad %-escape in the password"))?;
                (
                    (!user.is_empty()).then_some(user),
                    (!password.is_empty()).then(|| Secret::new(password)),
                )
            }
        };
        let (authority, db) = match rest.split_once('/') {
            Some((authority, "")) => (authority, 0),
            Some((authority, db)) => (
                authority,
                db.parse()
                    .map_err(|_| bad(&format!("the database {db:?} is not a number")))?,
            ),
            None => (rest, 0),
        };
        let (host, port) = match authority.rsplit_once(':') {
            // An IPv6 address in brackets has colons of its own.
            Some((host, port)) if !port.contains(']') => (
                host,
                port.parse()
                    .map_err(|_| bad(&format!("the port {port:?} is not a number")))?,
            ),
            _ => (authority, 6379),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || host.contains(['?', '#', ' ']) {
            return Err(bad("no host"));
        }
        Ok(RedisUrl {
            host: host.to_string(),
            port,
            username,
            password,
            db,
        })
    }
}

/// Decodes `%XX` escapes (a password may hold `@` or `:`). `None` for a broken escape.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            // Two hex digits exactly (`from_str_radix` would also take a sign: `%+f`).
            let [high, low] = *bytes.get(i + 1..i + 3)? else {
                return None;
            };
            out.push(crate::bytes::hex_digit(high)? << 4 | crate::bytes::hex_digit(low)?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The settings, or `None` without `REDIS_URL`. The prefix is printable ASCII without spaces, at
/// most 64 bytes: it is part of every key, and it shows in `redis-cli`.
pub(super) fn parse(
    url: Option<String>,
    prefix: Option<String>,
    connect_timeout: Duration,
) -> Result<Option<RedisSettings>, ConfigError> {
    let key_prefix = prefix.unwrap_or_else(|| DEFAULT_KEY_PREFIX.to_string());
    if key_prefix.len() > 64 || !key_prefix.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ConfigError {
            key: "REDIS_KEY_PREFIX",
            problem: format!(
                "{key_prefix:?}: use at most 64 printable ASCII characters without spaces, e.g. hyperjwt:"
            ),
        });
    }
    let Some(url) = url else {
        return Ok(None);
    };
    let url = RedisUrl::parse(&url).map_err(|problem| ConfigError {
        key: "REDIS_URL",
        problem,
    })?;
    Ok(Some(RedisSettings {
        url,
        key_prefix,
        connect_timeout,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let url = RedisUrl::parse("redis://127.0.0.1:6380/2").unwrap();
        assert_eq!(
            (url.host.as_str(), url.port, url.db),
            ("127.0.0.1", 6380, 2)
        );
        assert_eq!((url.username, url.password), (None, None));
        let url = RedisUrl::parse("redis://localhost").unwrap();
        assert_eq!(
            (url.host.as_str(), url.port, url.db),
            ("localhost", 6379, 0)
        );
        let url = RedisUrl::parse("redis://:p%40ss@[::1]:7000/").unwrap();
        assert_eq!((url.host.as_str(), url.port), ("::1", 7000));
        assert_eq!(url.password, Some(Secret::new("p@ss")));
        assert_eq!(url.to_string(), "redis://:<redacted>@::1:7000/0");
        let url = RedisUrl::parse("redis://app:secret@redis.internal").unwrap();
        assert_eq!(url.username.as_deref(), Some("app"));
        assert!(!format!("{url:?}").contains("secret"));
        for bad in [
            "http://x",
            "127.0.0.1:6379",
            "redis://",
            "redis://h:port",
            "redis://h/db",
            "redis://:%zz@h",
            // A sign is no hex digit, though `u8::from_str_radix` takes one.
            "redis://:%+f@h",
            "redis://:%4@h",
            "rediss://h",
        ] {
            assert!(RedisUrl::parse(bad).is_err(), "{bad}");
        }
        assert!(RedisUrl::parse("rediss://h").unwrap_err().contains("TLS"));
    }

    #[test]
    fn a_refused_url_never_shows_its_password() {
        for bad in [
            "http://:hunter2@h",
            "redis:/app:hunter2@h",
            "app:hunter2@h:6379",
            "redis://app:hunter2@h:port",
            "redis://app:hunter2@h/db",
            "redis://app:hunter2@",
        ] {
            let problem = RedisUrl::parse(bad).unwrap_err();
            assert!(!problem.contains("hunter2"), "{bad}: {problem}");
        }
    }

    #[test]
    fn prefix_is_checked() {
        let t = Duration::from_secs(1);
        let s = parse(Some("redis://h".into()), None, t).unwrap().unwrap();
        assert_eq!(s.key_prefix, "hyperjwt:");
        assert_eq!(parse(None, None, t).unwrap(), None);
        for bad in ["has space", "é", &"x".repeat(65)] {
            let err = parse(None, Some(bad.into()), t).unwrap_err();
            assert_eq!(err.key, "REDIS_KEY_PREFIX");
        }
    }
}
