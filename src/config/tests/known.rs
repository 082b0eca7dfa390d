//! `KNOWN_KEYS` is every key the configuration reads: a recording lookup collects what
//! `Config::from_lookup` asks for, over many configurations, so that keys read only when another is
//! set (the cookie keys, Redis's, a future algorithm's key files) are asked too. A key added to
//! `from_lookup` and not to the list fails here, and would otherwise be warned about as unknown.

use std::cell::RefCell;
use std::collections::BTreeSet;

use super::*;

/// Values that switch features on, for any key: booleans, locations, URLs, paths, numbers.
const PROBES: &[&str] = &[
    "1",
    "true",
    "false",
    "off",
    "cookies",
    "headers,cookies",
    "json",
    "redis://127.0.0.1:6379",
    "https://app.example",
    "127.0.0.1:9100",
    "/nonexistent/hyperjwt-probe",
    "RS256",
    "ES256",
    "EdDSA",
    "HS512",
    KEY,
];

/// The keys `from_lookup` asks for with `pairs` set (and nothing else).
fn asked(pairs: &BTreeSet<(String, String)>) -> BTreeSet<String> {
    let seen = RefCell::new(BTreeSet::new());
    let _ = Config::from_lookup(|key| {
        seen.borrow_mut().insert(key.to_string());
        pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    });
    seen.into_inner()
}

#[test]
fn every_key_from_lookup_asks_for_is_known() {
    // Start from nothing, and from a configuration with cookies on (they need an origin list);
    // then set each key seen so far to each probe value, until no new key shows up.
    let bases: Vec<BTreeSet<(String, String)>> = vec![
        BTreeSet::new(),
        [
            ("JWT_SECRET_KEY", KEY),
            ("JWT_TOKEN_LOCATION", "headers,cookies"),
            ("CORS_ORIGINS", "https://app.example"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
    ];
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut tried: BTreeSet<String> = BTreeSet::new();
    for base in &bases {
        seen.extend(asked(base));
    }
    loop {
        let fresh: Vec<String> = seen.difference(&tried).cloned().collect();
        if fresh.is_empty() {
            break;
        }
        for key in fresh {
            for base in &bases {
                for probe in PROBES {
                    let mut pairs = base.clone();
                    pairs.retain(|(k, _)| *k != key);
                    pairs.insert((key.clone(), probe.to_string()));
                    seen.extend(asked(&pairs));
                }
            }
            tried.insert(key);
        }
    }
    let unlisted: Vec<&String> = seen
        .iter()
        .filter(|key| !KNOWN_KEYS.contains(&key.as_str()))
        .collect();
    assert!(
        unlisted.is_empty(),
        "Config::from_lookup reads {unlisted:?}, which config::KNOWN_KEYS (src/config/known.rs) \
         does not list: add them there, or the binary warns that they are unknown"
    );
    // And the list holds nothing the configuration never reads.
    let unread: Vec<&&str> = KNOWN_KEYS
        .iter()
        .filter(|key| !seen.contains(**key))
        .collect();
    assert!(unread.is_empty(), "KNOWN_KEYS lists {unread:?}, never read");
}
