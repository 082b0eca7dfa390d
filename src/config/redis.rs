//! The `REDIS_*` settings: where several instances share their revocations and login counters
//! (docs/scaling.md), how long to wait for Redis, and how durable an acknowledgement must be.
//! Parsed only in builds with the `redis` feature; one without it refuses `REDIS_URL` with a line
//! saying how to build it (`Config::from_lookup`). The URL's forms are `redis_url.rs`'s; talking to
//! Redis is `crate::store::redis`'s job.

use std::path::PathBuf;
use std::time::Duration;

use super::kinds::{ConfigError, Secret};
use super::redis_url::{RedisUrl, Topology};

/// The default `REDIS_KEY_PREFIX`: every key this server writes starts with it.
pub const DEFAULT_KEY_PREFIX: &str = "hyperjwt:";
/// The default prefix with `redis+cluster://`: the hash tag `{hyperjwt}` puts every key in one
/// slot, so that a revocation's script may touch its set and the stream together.
pub const DEFAULT_CLUSTER_KEY_PREFIX: &str = "{hyperjwt}:";

/// How to reach the shared Redis, and which keys are ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisSettings {
    pub url: RedisUrl,
    /// Put before every key (`REDIS_KEY_PREFIX`), so deployments can share one Redis.
    pub key_prefix: String,
    /// How long start-up keeps trying to reach Redis before it gives up (`REDIS_CONNECT_TIMEOUT`).
    pub connect_timeout: Duration,
    /// One connection attempt, TLS and `AUTH`/`SELECT` included (`REDIS_DIAL_TIMEOUT`).
    pub dial_timeout: Duration,
    /// One command, after which the request that needed it answers 503 (`REDIS_COMMAND_TIMEOUT`).
    pub command_timeout: Duration,
    /// The certificate authorities a `rediss://` server's certificate must chain to, instead of
    /// the system's (`REDIS_CA_FILE`, PEM).
    pub ca_file: Option<PathBuf>,
    /// Sentinel's own credentials (`REDIS_SENTINEL_USERNAME`, `REDIS_SENTINEL_PASSWORD`).
    pub sentinel_username: Option<String>,
    pub sentinel_password: Option<Secret>,
    /// Wait for the primary's append-only file to be on disk before acknowledging a revocation,
    /// where Redis has `WAITAOF` (`REDIS_WAITAOF`: `local`, the default, or `off`).
    pub wait_aof: bool,
    /// Replicas that must also have a revocation before it is acknowledged (`REDIS_WAIT_REPLICAS`):
    /// on disk with `WAITAOF`, received with `WAIT` where Redis is older.
    pub wait_replicas: u32,
}

/// The settings, or `None` without `REDIS_URL`. The prefix is printable ASCII without spaces, at
/// most 64 bytes: it is part of every key, and it shows in `redis-cli`.
pub(super) fn parse(
    get: &dyn Fn(&str) -> Option<String>,
    connect_timeout: Duration,
) -> Result<Option<RedisSettings>, ConfigError> {
    let url = match get("REDIS_URL") {
        Some(url) => Some(RedisUrl::parse(&url).map_err(|problem| ConfigError {
            key: "REDIS_URL",
            problem,
        })?),
        None => None,
    };
    let cluster = url
        .as_ref()
        .is_some_and(|u| matches!(u.topology, Topology::Cluster(_)));
    let key_prefix = get("REDIS_KEY_PREFIX").unwrap_or_else(|| {
        if cluster {
            DEFAULT_CLUSTER_KEY_PREFIX
        } else {
            DEFAULT_KEY_PREFIX
        }
        .to_string()
    });
    let bad_prefix = |problem: String| ConfigError {
        key: "REDIS_KEY_PREFIX",
        problem,
    };
    if key_prefix.len() > 64 || !key_prefix.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad_prefix(format!(
            "{key_prefix:?}: use at most 64 printable ASCII characters without spaces, e.g. hyperjwt:"
        )));
    }
    if cluster && hash_tag(&key_prefix).is_none() {
        return Err(bad_prefix(format!(
            "{key_prefix:?}: with redis+cluster:// every key must be in one slot, so the prefix \
             needs a hash tag, e.g. {DEFAULT_CLUSTER_KEY_PREFIX}"
        )));
    }
    let Some(url) = url else {
        return Ok(None);
    };
    let ca_file = get("REDIS_CA_FILE").map(PathBuf::from);
    if ca_file.is_some() && !url.tls {
        return Err(ConfigError {
            key: "REDIS_CA_FILE",
            problem: "set, but REDIS_URL is not a TLS URL: use rediss:// (or unset REDIS_CA_FILE)"
                .into(),
        });
    }
    let sentinel_username = get("REDIS_SENTINEL_USERNAME");
    let sentinel_password = get("REDIS_SENTINEL_PASSWORD").map(Secret::new);
    if (sentinel_username.is_some() || sentinel_password.is_some())
        && !matches!(url.topology, Topology::Sentinel { .. })
    {
        return Err(ConfigError {
            key: if sentinel_password.is_some() {
                "REDIS_SENTINEL_PASSWORD"
            } else {
                "REDIS_SENTINEL_USERNAME"
            },
            problem: "set, but REDIS_URL is not a redis+sentinel:// URL".into(),
        });
    }
    let wait_aof = match get("REDIS_WAITAOF").as_deref().map(str::trim) {
        None | Some("local") => true,
        Some("off") => false,
        Some(other) => {
            return Err(ConfigError {
                key: "REDIS_WAITAOF",
                problem: format!(
                    "{other:?}: use local (wait for Redis's append-only file to be on disk before \
                     acknowledging, where Redis has WAITAOF) or off"
                ),
            });
        }
    };
    let wait_replicas = match get("REDIS_WAIT_REPLICAS") {
        None => 0,
        Some(n) => n.trim().parse().map_err(|_| ConfigError {
            key: "REDIS_WAIT_REPLICAS",
            problem: format!("{n:?} is not a number of replicas (0, the default, waits for none)"),
        })?,
    };
    Ok(Some(RedisSettings {
        url,
        key_prefix,
        connect_timeout,
        dial_timeout: duration(get, "REDIS_DIAL_TIMEOUT", 5000)?,
        command_timeout: duration(get, "REDIS_COMMAND_TIMEOUT", 2000)?,
        ca_file,
        sentinel_username,
        sentinel_password,
        wait_aof,
        wait_replicas,
    }))
}

/// A number of seconds, fractions allowed (`0.5`, to the millisecond), from 0.001 to 3600.
fn duration(
    get: &dyn Fn(&str) -> Option<String>,
    key: &'static str,
    default_ms: u64,
) -> Result<Duration, ConfigError> {
    let Some(text) = get(key) else {
        return Ok(Duration::from_millis(default_ms));
    };
    match milliseconds(text.trim()) {
        Some(ms) if (1..=3_600_000).contains(&ms) => Ok(Duration::from_millis(ms)),
        _ => Err(ConfigError {
            key,
            problem: format!("{text:?}: use a number of seconds from 0.001 to 3600, e.g. 2 or 0.5"),
        }),
    }
}

/// `seconds[.fraction]` in milliseconds, by hand (no float parsing in the binary for this).
fn milliseconds(text: &str) -> Option<u64> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) if digits(fraction) && fraction.len() <= 3 => (whole, fraction),
        Some(_) => return None,
        None => (text, ""),
    };
    if !digits(whole) {
        return None;
    }
    let fraction: u64 = format!("{fraction:0<3}").parse().ok()?;
    whole
        .parse::<u64>()
        .ok()?
        .checked_mul(1000)?
        .checked_add(fraction)
}

/// The part of `key` Redis Cluster hashes: what is between the first `{` and the next `}`, when
/// that is not empty (<https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/>).
pub fn hash_tag(key: &str) -> Option<&str> {
    let open = key.find('{')?;
    let close = key[open + 1..].find('}')?;
    (close > 0).then(|| &key[open + 1..open + 1 + close])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Result<Option<RedisSettings>, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        parse(&|key| map.get(key).cloned(), Duration::from_secs(1))
    }

    fn error(pairs: &[(&str, &str)]) -> ConfigError {
        settings(pairs).unwrap_err()
    }

    #[test]
    fn defaults() {
        assert_eq!(settings(&[]).unwrap(), None);
        let s = settings(&[("REDIS_URL", "redis://h")]).unwrap().unwrap();
        assert_eq!(s.key_prefix, "hyperjwt:");
        assert_eq!(s.dial_timeout, Duration::from_secs(5));
        assert_eq!(s.command_timeout, Duration::from_secs(2));
        assert!(s.wait_aof);
        assert_eq!(s.wait_replicas, 0);
        let s = settings(&[("REDIS_URL", "redis+cluster://h")])
            .unwrap()
            .unwrap();
        assert_eq!(s.key_prefix, "{hyperjwt}:");
    }

    #[test]
    fn prefix_is_checked() {
        for bad in ["has space", "é", &"x".repeat(65)] {
            assert_eq!(error(&[("REDIS_KEY_PREFIX", bad)]).key, "REDIS_KEY_PREFIX");
        }
        // A Cluster needs every key in one slot.
        let cluster = [
            ("REDIS_URL", "redis+cluster://h"),
            ("REDIS_KEY_PREFIX", "app:"),
        ];
        assert!(error(&cluster).problem.contains("hash tag"));
        let tagged = [
            ("REDIS_URL", "redis+cluster://h"),
            ("REDIS_KEY_PREFIX", "{app}:"),
        ];
        assert!(settings(&tagged).is_ok());
        assert_eq!(hash_tag("{hyperjwt}:jtis"), Some("hyperjwt"));
        assert_eq!(hash_tag("{}x{y}"), None);
        assert_eq!(hash_tag("plain"), None);
    }

    #[test]
    fn each_setting_has_one_clear_error() {
        let url = ("REDIS_URL", "redis://h");
        for (key, value, says) in [
            ("REDIS_DIAL_TIMEOUT", "0", "seconds"),
            ("REDIS_COMMAND_TIMEOUT", "soon", "seconds"),
            ("REDIS_WAITAOF", "always", "local"),
            ("REDIS_WAIT_REPLICAS", "-1", "replicas"),
            ("REDIS_CA_FILE", "/ca.pem", "rediss://"),
            ("REDIS_SENTINEL_PASSWORD", "pw", "redis+sentinel://"),
        ] {
            let e = error(&[url, (key, value)]);
            assert_eq!(e.key, key);
            assert!(e.problem.contains(says), "{key}: {}", e.problem);
        }
        let s = settings(&[
            ("REDIS_URL", "rediss+sentinel://s1/m"),
            ("REDIS_CA_FILE", "/ca.pem"),
            ("REDIS_SENTINEL_PASSWORD", "pw"),
            ("REDIS_COMMAND_TIMEOUT", "0.5"),
            ("REDIS_WAITAOF", "off"),
            ("REDIS_WAIT_REPLICAS", "1"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(s.command_timeout, Duration::from_millis(500));
        assert_eq!(milliseconds("2"), Some(2000));
        assert_eq!(milliseconds("0.05"), Some(50));
        for bad in ["", ".5", "1.", "1.2345", "-1", "1e3", "one"] {
            assert_eq!(milliseconds(bad), None, "{bad}");
        }
        assert_eq!(s.ca_file, Some(PathBuf::from("/ca.pem")));
        assert!(!s.wait_aof && s.wait_replicas == 1);
        assert!(!format!("{s:?}").contains("\"pw\""));
    }
}
