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
    // And the list holds nothing the configuration never reads. Without the redis feature only
    // REDIS_URL is read (and refused): the feature's other keys are known all the same, so that
    // they are not called misspelt in a build that lacks it.
    let feature_only =
        |key: &str| !cfg!(feature = "redis") && key.starts_with("REDIS_") && key != "REDIS_URL";
    let unread: Vec<&&str> = KNOWN_KEYS
        .iter()
        .filter(|key| !seen.contains(**key) && !feature_only(key))
        .collect();
    assert!(unread.is_empty(), "KNOWN_KEYS lists {unread:?}, never read");
}

/// The settings documented in a reference table: every backticked key in the first column of a
/// row of `text`.
fn documented(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|line| line.strip_prefix("| "))
        .filter(|row| row.starts_with('`'))
        .filter_map(|row| row.split('|').next())
        .flat_map(|first| first.split('`').skip(1).step_by(2))
        .map(str::to_string)
        .collect()
}

/// docs/configuration.md and docs/http.md §5 both list every setting (one by topic, one as the
/// HTTP contract's): a key added to the configuration and not to both fails here.
#[test]
fn every_known_key_is_in_both_reference_tables() {
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    let read = |name: &str| std::fs::read_to_string(docs.join(name)).expect("docs/ is readable");
    let http = read("http.md");
    let section = http
        .split("\n## 5. Configuration")
        .nth(1)
        .and_then(|rest| rest.split("\n## 6.").next())
        .expect("docs/http.md has §5 and §6");
    for (page, text) in [
        ("docs/configuration.md", read("configuration.md")),
        ("docs/http.md §5", section.to_string()),
    ] {
        let listed = documented(&text);
        let missing: Vec<&&str> = KNOWN_KEYS
            .iter()
            .filter(|key| !listed.contains(**key))
            .collect();
        assert!(missing.is_empty(), "{page} does not document {missing:?}");
    }
}
