//! docs/openapi.yaml lists exactly the routes the router serves, with exactly the methods each
//! path's `Allow` header names, so the description and the server cannot drift apart.
//!
//! The description is read with `std::fs` and no YAML parser: its layout is fixed (a comment at its
//! top says so), one `  /path:` line per path under `paths:` and one `    method:` line per
//! operation. What schemathesis checks at run time (bodies, statuses, headers) is `.ci/run`'s part
//! (tests/openapi/check.sh); this test is the cheap guard that runs with every `cargo test`.

use std::collections::{BTreeMap, BTreeSet};

use hyperjwt::http::router::ROUTES;

const METHODS: &[&str] = &[
    "get", "head", "post", "put", "delete", "patch", "options", "trace",
];

/// Each path under `paths:` with its operations' methods, lowercase.
fn described_paths() -> BTreeMap<String, BTreeSet<String>> {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.yaml");
    let text = std::fs::read_to_string(file).expect("docs/openapi.yaml is readable");
    let mut paths = BTreeMap::new();
    let mut in_paths = false;
    let mut current: Option<String> = None;
    for line in text.lines() {
        // A top-level key starts or ends the `paths:` section.
        if !line.starts_with(' ') && !line.starts_with('#') && !line.trim().is_empty() {
            in_paths = line == "paths:";
            current = None;
            continue;
        }
        if !in_paths {
            continue;
        }
        if let Some(path) = line.strip_prefix("  /").and_then(|p| p.strip_suffix(':')) {
            let path = format!("/{path}");
            assert!(
                paths.insert(path.clone(), BTreeSet::new()).is_none(),
                "{path} is described twice"
            );
            current = Some(path);
        } else if let Some(method) = operation(line) {
            let path = current
                .as_ref()
                .expect("an operation line comes under a path");
            paths.get_mut(path).unwrap().insert(method.to_string());
        }
    }
    assert!(!paths.is_empty(), "no paths found in docs/openapi.yaml");
    paths
}

/// The method of a `    get:` line (an operation under a path), if the line is one.
fn operation(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("    ")?;
    if rest.starts_with(' ') {
        return None;
    }
    let (key, _) = rest.split_once(':')?;
    METHODS.contains(&key).then_some(key)
}

/// Each routed path with the methods its `Allow` header names, lowercase.
fn routed_paths() -> BTreeMap<String, BTreeSet<String>> {
    ROUTES
        .iter()
        .map(|entry| {
            let methods = entry
                .allow
                .split(", ")
                .map(str::to_ascii_lowercase)
                .collect();
            (entry.path.to_string(), methods)
        })
        .collect()
}

#[test]
fn the_description_lists_exactly_the_routed_paths() {
    let described: BTreeSet<String> = described_paths().into_keys().collect();
    let expected: BTreeSet<String> = routed_paths().into_keys().collect();
    assert_eq!(
        described, expected,
        "docs/openapi.yaml's paths (left) are not the router's (right)"
    );
}

#[test]
fn each_path_describes_exactly_the_methods_its_allow_header_names() {
    let described = described_paths();
    for (path, methods) in routed_paths() {
        assert_eq!(
            described.get(&path),
            Some(&methods),
            "{path}: the described operations (left) are not the methods of its Allow header (right)"
        );
    }
}
