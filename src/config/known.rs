//! The keys the configuration reads, in one list, and the unknown keys that look like ours: a
//! misspelt key (`JWT_ACCESS_TOKEN_EXPIRE=60`) is otherwise read by nothing and said by nothing, and
//! the server runs with the default. The binary warns about them at start-up; a unit test checks that
//! every key [`super::Config::from_lookup`] asks for is in [`KNOWN_KEYS`].

/// Every key [`super::Config::from_lookup`] reads, in any build (the `redis` feature's included).
pub const KNOWN_KEYS: &[&str] = &[
    "HOST",
    "PORT",
    "JWT_SECRET_KEY",
    "SECRET_KEY",
    "JWT_PREVIOUS_SECRET_KEYS",
    "JWT_ALGORITHM",
    "JWT_KEYS_DIR",
    "JWKS_MAX_AGE",
    "JWT_VERIFIED_CACHE_SIZE",
    "INTROSPECTION_CLIENTS",
    "INTROSPECTION_CLIENTS_FILE",
    "JWT_ACCESS_TOKEN_EXPIRES",
    "JWT_REFRESH_TOKEN_EXPIRES",
    "JWT_REFRESH_ROTATION",
    "JWT_LEEWAY",
    "JWT_ISSUER",
    "JWT_AUDIENCE",
    "CORS_ORIGINS",
    "JWT_TOKEN_LOCATION",
    "JWT_ACCESS_COOKIE_NAME",
    "JWT_REFRESH_COOKIE_NAME",
    "JWT_ACCESS_CSRF_COOKIE_NAME",
    "JWT_REFRESH_CSRF_COOKIE_NAME",
    "JWT_ACCESS_COOKIE_PATH",
    "JWT_REFRESH_COOKIE_PATH",
    "JWT_ACCESS_CSRF_COOKIE_PATH",
    "JWT_REFRESH_CSRF_COOKIE_PATH",
    "JWT_COOKIE_DOMAIN",
    "JWT_COOKIE_SECURE",
    "JWT_COOKIE_SAMESITE",
    "JWT_SESSION_COOKIE",
    "JWT_COOKIE_CSRF_PROTECT",
    "JWT_CSRF_METHODS",
    "JWT_ACCESS_CSRF_HEADER_NAME",
    "JWT_REFRESH_CSRF_HEADER_NAME",
    "JWT_CSRF_IN_COOKIES",
    "JWT_CSRF_CHECK_FORM",
    "USERS_FILE",
    "DENYLIST_FILE",
    "REDIS_URL",
    "REDIS_KEY_PREFIX",
    "REDIS_CONNECT_TIMEOUT",
    "REDIS_DIAL_TIMEOUT",
    "REDIS_COMMAND_TIMEOUT",
    "REDIS_CA_FILE",
    "REDIS_SENTINEL_USERNAME",
    "REDIS_SENTINEL_PASSWORD",
    "REDIS_WAITAOF",
    "REDIS_WAIT_REPLICAS",
    "BCRYPT_COST",
    "DEBUG",
    "FLASK_DEBUG",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "METRICS",
    "METRICS_ADDR",
    "MAX_BODY_BYTES",
    "HEADER_READ_TIMEOUT",
    "MAX_HEADERS",
    "MAX_HEADER_BYTES",
    "MAX_TOKEN_BYTES",
    "WORKER_THREADS",
    "MAX_CONNECTIONS",
    "MAX_CONNECTIONS_PER_ADDRESS",
    "TRUSTED_PROXIES",
    "LOGIN_MAX_FAILURES_PER_USER",
    "LOGIN_MAX_FAILURES_PER_ADDRESS",
    "LOGIN_FAILURE_WINDOW",
    "PASSWORD_CHECK_CONCURRENCY",
    "PASSWORD_CHECK_QUEUE",
    "PASSWORD_CHECK_NICE",
    "PASSWORD_CHECK_WAIT",
    "LINGER_BYTES",
    "LINGER_TIMEOUT",
];

/// Prefixes only our keys use: an unknown key that starts with one is meant for this server.
const FAMILIES: &[&str] = &[
    "JWT_",
    "REDIS_",
    "CORS_",
    "MAX_",
    "LOGIN_",
    "PASSWORD_",
    "LOG_",
    "METRICS",
    "BCRYPT_",
    "DENYLIST_",
    "USERS_",
    "LINGER_",
    "TRUSTED_PROX",
    "WORKER_",
    "JWKS_",
    "INTROSPECTION_",
];

/// An unknown key that looks like ours, and the known key it is closest to, if one is close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown<'k> {
    pub key: &'k str,
    pub near: Option<&'static str>,
}

/// The keys of `keys` (an environment's, a `.env` file's) that this server does not read but that
/// look like its own: one of its families (`JWT_`, `REDIS_`, `CORS_`, `MAX_`, ...), or a small edit
/// away from a known key (`PROT`, `jwt_secret_key`). Other programs' variables (`HOME`, `PATH`) are
/// left alone: a short key must be one edit away, a longer one two. Only names of letters, digits
/// and `_` are considered, so a name returned is safe to write into a log line as it is.
pub fn unknown_keys<'k>(keys: impl IntoIterator<Item = &'k str>) -> Vec<Unknown<'k>> {
    keys.into_iter()
        .filter(|key| !KNOWN_KEYS.contains(key))
        .filter(|key| key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .filter_map(|key| {
            let upper = key.to_ascii_uppercase();
            let near = KNOWN_KEYS
                .iter()
                .map(|known| (*known, distance(&upper, known)))
                .filter(|(known, d)| *d <= if known.len() <= 6 { 1 } else { 2 })
                .min_by_key(|(_, d)| *d)
                .map(|(known, _)| known);
            let family = FAMILIES.iter().any(|f| upper.starts_with(f));
            (near.is_some() || family).then_some(Unknown { key, near })
        })
        .collect()
}

/// The optimal-string-alignment distance: insertions, deletions, substitutions and swaps of two
/// neighbours (`PROT` is one from `PORT`), each costing one.
fn distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    // Three rows of the table: two back, one back, this one.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut last: Vec<usize> = (0..=b.len()).collect();
    let mut row = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        row[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            row[j] = (last[j] + 1).min(row[j - 1] + 1).min(last[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                row[j] = row[j].min(before[j - 2] + 1);
            }
        }
        std::mem::swap(&mut before, &mut last);
        std::mem::swap(&mut last, &mut row);
    }
    last[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance("PORT", "PORT"), 0);
        assert_eq!(distance("PROT", "PORT"), 1);
        assert_eq!(distance("POT", "PORT"), 1);
        assert_eq!(distance("HOME", "HOST"), 2);
        assert_eq!(distance("", "HOST"), 4);
        assert_eq!(
            distance("JWT_ACCESS_TOKEN_EXPIRE", "JWT_ACCESS_TOKEN_EXPIRES"),
            1
        );
    }

    #[test]
    fn misspelt_keys_and_our_families_are_found_other_programs_keys_are_not() {
        let found = unknown_keys([
            "JWT_ACCESS_TOKEN_EXPIRE",
            "PROT",
            "jwt_secret_key",
            "REDIS_HOST",
            "CORS_ORIGIN",
            "MAX_BODY",
            "METRICS_PORT",
            "HOME",
            "PATH",
            "HOSTNAME",
            "USER",
            "TERM",
            "LANG",
            "PWD",
            "SHELL",
            "RUST_LOG",
            "PORT",
            "JWT_SECRET_KEY",
            "JWT_\nINFO forged line",
        ]);
        assert_eq!(
            found,
            [
                ("JWT_ACCESS_TOKEN_EXPIRE", Some("JWT_ACCESS_TOKEN_EXPIRES")),
                ("PROT", Some("PORT")),
                ("jwt_secret_key", Some("JWT_SECRET_KEY")),
                ("REDIS_HOST", None),
                ("CORS_ORIGIN", Some("CORS_ORIGINS")),
                ("MAX_BODY", None),
                ("METRICS_PORT", None),
            ]
            .map(|(key, near)| Unknown { key, near })
        );
    }

    #[test]
    fn known_keys_are_listed_once() {
        let mut keys = KNOWN_KEYS.to_vec();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), KNOWN_KEYS.len());
    }
}
