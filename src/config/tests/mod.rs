//! Tests of the configuration: every key, its default, and the error a bad value gets. The defaults
//! are here; the rest by topic: `keys` (signing keys, lifetimes), `values` (each kind of value and
//! its errors), `cookies` (tokens in cookies), `operations` (Redis, logging, metrics).

mod cookies;
mod keys;
mod known;
mod operations;
mod values;

use super::*;
use std::collections::HashMap;

const KEY: &str = "0123456789abcdef0123456789abcdef";

fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(|k| map.get(k).cloned())
}

#[test]
fn defaults_match_design() {
    let c = config(&[]).unwrap();
    assert_eq!((c.host.as_str(), c.port), ("127.0.0.1", 5000));
    assert!(c.secret_is_random);
    assert_eq!(c.secret.as_bytes().len(), 32);
    assert_eq!(c.access_token_ttl, Duration::from_secs(900));
    assert_eq!(c.refresh_token_ttl, Duration::from_secs(2_592_000));
    assert_eq!(c.leeway, Duration::ZERO);
    assert_eq!(c.cors_origins, CorsOrigins::Any);
    assert_eq!(c.bcrypt_cost, 12);
    assert_eq!(c.log_level, LevelFilter::Info);
    assert!(!c.debug);
    assert_eq!(c.max_body_bytes, 16 * 1024);
    assert_eq!(c.max_token_bytes, 8 * 1024);
    assert!(c.previous_secrets.is_empty());
    assert!(!c.refresh_rotation);
    assert_eq!(c.denylist_file, None);
    assert_eq!(c.max_connections_per_address, 128);
    assert_eq!(c.linger_bytes, 8 * 1024 * 1024);
    assert_eq!(c.linger_timeout, Duration::from_secs(5));
    assert_eq!(c.password_check_nice, 19);
    assert_eq!(c.password_check_wait, Duration::from_secs(2));
    assert_eq!(c.log_format, LogFormat::Text);
    assert!(c.metrics);
    assert_eq!(c.metrics_addr, None);
    assert_eq!(
        config(&[("PASSWORD_CHECK_NICE", "20")])
            .unwrap_err()
            .problem,
        "20 is out of range: use 0 to 19"
    );
}

#[test]
fn empty_values_count_as_unset() {
    let c = config(&[("PORT", ""), ("JWT_SECRET_KEY", "  ")]).unwrap();
    assert_eq!(c.port, 5000);
    assert!(c.secret_is_random);
}
