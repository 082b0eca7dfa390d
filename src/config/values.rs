//! Reading one value: booleans, bounded numbers, seconds, `HOST`, `CORS_ORIGINS`, a random key.
//! Each parser names its key in the error, so [`super::Config::from_lookup`] reads as a list.

use std::time::Duration;

use ring::rand::{SecureRandom, SystemRandom};

use super::kinds::{ConfigError, CorsOrigins, Secret};
use crate::logger::Format as LogFormat;

pub(super) fn random_secret() -> Result<Secret, ConfigError> {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| ConfigError {
            key: "JWT_SECRET_KEY",
            problem: "not set, and the system random generator failed to make a temporary key"
                .into(),
        })?;
    Ok(Secret::new(bytes.to_vec()))
}

pub(super) fn parse_bool(key: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(ConfigError {
            key,
            problem: format!("{value:?} is not a boolean; use true or false"),
        }),
    }
}

/// A whole number for `key`, anywhere in its type's range (`PORT`: 0 to 65535).
pub(super) fn parse_number<T: TryFrom<u64>>(
    key: &'static str,
    value: Option<String>,
    default: T,
) -> Result<T, ConfigError> {
    parse_bounded(key, value, default, 0, type_max::<T>())
}

/// A whole number for `key` in `min..=max` (`max` at most `T`'s largest value). One outside says so
/// and states the range (`PORT=70000`: "70000 is out of range: use 0 to 65535"), so the fix is
/// obvious; only text that is not a number at all is called malformed.
pub(super) fn parse_bounded<T: TryFrom<u64>>(
    key: &'static str,
    value: Option<String>,
    default: T,
    min: u64,
    max: u64,
) -> Result<T, ConfigError> {
    let Some(v) = value else {
        return Ok(default);
    };
    let out_of_range = |shown: &str| {
        let range = if max == u64::MAX && min > 0 {
            format!("use at least {min}")
        } else {
            format!("use {min} to {max}")
        };
        ConfigError {
            key,
            problem: format!("{shown} is out of range: {range}"),
        }
    };
    let digits = v.trim();
    let n: u64 = digits.parse().map_err(|_| {
        // All digits, but more than a u64 holds: too big, not malformed.
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            out_of_range(digits)
        } else {
            ConfigError {
                key,
                problem: format!("{v:?} is not a valid non-negative whole number"),
            }
        }
    })?;
    if !(min..=max).contains(&n) {
        return Err(out_of_range(&n.to_string()));
    }
    T::try_from(n).map_err(|_| out_of_range(&n.to_string()))
}

/// The largest value of the unsigned type `T`: the largest `2^k - 1` that converts. Keeps
/// [`parse_number`] generic over `TryFrom<u64>` alone; at most 64 cheap conversions, once per key.
pub(super) fn type_max<T: TryFrom<u64>>() -> u64 {
    (0..64)
        .map(|shift| u64::MAX >> shift)
        .find(|&max| T::try_from(max).is_ok())
        .unwrap_or(0)
}

/// A positive number of seconds.
pub(super) fn seconds(
    key: &'static str,
    value: Option<String>,
    default: u64,
) -> Result<Duration, ConfigError> {
    parse_bounded(key, value, default, 1, u64::MAX).map(Duration::from_secs)
}

/// A number with a floor below which the server could not work (e.g. too few headers for a browser).
pub(super) fn at_least(
    key: &'static str,
    value: Option<String>,
    default: usize,
    minimum: usize,
) -> Result<usize, ConfigError> {
    // usize is at most 64 bits on every target Rust supports, so these conversions are exact.
    parse_bounded(key, value, default, minimum as u64, type_max::<usize>())
}

/// `HOST`: an IP address or `localhost`, checked here so that a typo is a configuration error
/// naming the key rather than a failed bind (or a DNS lookup) later. A listen address is an address
/// of this machine, so other names are refused rather than resolved.
pub(super) fn parse_host(value: Option<String>) -> Result<String, ConfigError> {
    let Some(value) = value else {
        return Ok("127.0.0.1".to_string());
    };
    let host = value.trim();
    let unbracketed = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    match unbracketed.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => Ok(ip.to_string()),
        Ok(std::net::IpAddr::V6(ip)) => Ok(format!("[{ip}]")),
        Err(_) if host.eq_ignore_ascii_case("localhost") => Ok("localhost".to_string()),
        Err(_) => Err(ConfigError {
            key: "HOST",
            problem: format!(
                "{host:?} is not an IP address or localhost; use an address of this machine: \
                 127.0.0.1 (this machine only, the default), 0.0.0.0 (every IPv4 interface) or \
                 :: (every interface)"
            ),
        }),
    }
}

/// `LOG_FORMAT`: `text` (the default) or `json`.
pub(super) fn parse_log_format(value: Option<String>) -> Result<LogFormat, ConfigError> {
    match value.as_deref().map(str::trim) {
        None => Ok(LogFormat::Text),
        Some(v) if v.eq_ignore_ascii_case("text") => Ok(LogFormat::Text),
        Some(v) if v.eq_ignore_ascii_case("json") => Ok(LogFormat::Json),
        Some(v) => Err(ConfigError {
            key: "LOG_FORMAT",
            problem: format!("{v:?} is not a log format: use text or json"),
        }),
    }
}

/// `METRICS_ADDR`: an IP address and a port (`127.0.0.1:9100`, `[::1]:9100`), no host names, as
/// for `HOST`.
pub(super) fn parse_metrics_addr(
    value: Option<String>,
) -> Result<Option<std::net::SocketAddr>, ConfigError> {
    let Some(value) = value else {
        return Ok(None);
    };
    value.trim().parse().map(Some).map_err(|_| ConfigError {
        key: "METRICS_ADDR",
        problem: format!(
            "{value:?} is not an IP address and port; use e.g. 127.0.0.1:9100 (this machine \
             only) or [::1]:9100"
        ),
    })
}

pub(super) fn parse_cors(value: Option<String>) -> Result<CorsOrigins, ConfigError> {
    let Some(value) = value else {
        return Ok(CorsOrigins::Any);
    };
    if value.trim() == "*" {
        return Ok(CorsOrigins::Any);
    }
    let mut origins = Vec::new();
    for origin in value.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        origins.push(parse_origin(origin)?);
    }
    Ok(CorsOrigins::List(origins))
}

/// One `CORS_ORIGINS` entry, as a browser would send it in `Origin` (RFC 6454 §6.2, §7:
/// `scheme "://" host [":" port]`, lower case, no default port, nothing after): an entry no
/// browser ever sends would never match, and every call from that page would fail its CORS check.
fn parse_origin(origin: &str) -> Result<String, ConfigError> {
    let not_an_origin = |why: String| ConfigError {
        key: "CORS_ORIGINS",
        problem: format!(
            "{origin:?} is not an origin: {why}; use a comma-separated list like \
             https://app.example.com,http://localhost:3000, or *"
        ),
    };
    // Typically pasted from an address bar: say what a browser sends instead.
    let never_sent = |why: &str, fixed: &str| ConfigError {
        key: "CORS_ORIGINS",
        problem: format!("{origin:?} {why}, so it would never match: use {fixed}"),
    };
    let Some((scheme, rest)) = origin.split_once("://") else {
        return Err(not_an_origin(
            "it needs a scheme, http:// or https://".into(),
        ));
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(not_an_origin(format!(
            "the scheme is {scheme:?}; browsers send http or https"
        )));
    }
    if !origin.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(not_an_origin(
            "it has spaces or non-ASCII characters".into(),
        ));
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if authority.is_empty() {
        return Err(not_an_origin("it has no host".into()));
    }
    let scheme_lower = scheme.to_ascii_lowercase();
    let fixed = format!("{scheme_lower}://{}", authority.to_ascii_lowercase());
    if rest[end..].starts_with('/') {
        return Err(ConfigError {
            key: "CORS_ORIGINS",
            problem: format!(
                "{origin:?} has a path; an origin is scheme://host[:port], with no path, \
                 not even \"/\": use {fixed}"
            ),
        });
    }
    if end < rest.len() {
        return Err(never_sent(
            "has a query or fragment; an origin is scheme://host[:port] alone",
            &fixed,
        ));
    }
    if authority.contains('*') {
        return Err(not_an_origin(
            "patterns are not origins: an Origin header names one site, and entries are \
             compared with it exactly; list each origin"
                .into(),
        ));
    }
    if let Some((_, host)) = authority.rsplit_once('@') {
        return Err(never_sent(
            "has user info; browsers never send it in an origin",
            &format!("{scheme_lower}://{}", host.to_ascii_lowercase()),
        ));
    }
    // The port, after the host (an IPv6 address is bracketed, and has colons of its own).
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => (&authority[..i], Some(&authority[i + 1..])),
        _ => (authority, None),
    };
    if host.is_empty() {
        return Err(not_an_origin("it has no host".into()));
    }
    if let Some(port) = port {
        let bare = format!("{scheme_lower}://{}", host.to_ascii_lowercase());
        let number = port
            .parse::<u16>()
            .ok()
            .filter(|n| *n > 0 && !port.starts_with('0') && !port.starts_with('+'));
        match number {
            None => {
                return Err(not_an_origin(format!(
                    "the port {port:?} is not a number from 1 to 65535 written as browsers do"
                )));
            }
            Some(443) if scheme_lower == "https" => {
                return Err(never_sent(
                    "names https's default port; browsers leave it out of an origin",
                    &bare,
                ));
            }
            Some(80) if scheme_lower == "http" => {
                return Err(never_sent(
                    "names http's default port; browsers leave it out of an origin",
                    &bare,
                ));
            }
            Some(_) => {}
        }
    }
    if origin.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(never_sent(
            "has upper-case letters; browsers send an origin in lower case",
            &fixed,
        ));
    }
    Ok(origin.to_string())
}
