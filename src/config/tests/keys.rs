//! The signing keys and token lifetimes: `JWT_SECRET_KEY` (and Flask's `SECRET_KEY`), the previous
//! keys, a random key per start, and a secret that never shows in debug output.

use super::*;

#[test]
fn previous_keys_are_listed_and_checked() {
    let other = "ffffffffffffffffffffffffffffffff";
    let c = config(&[("JWT_PREVIOUS_SECRET_KEYS", &format!("{KEY}, {other}"))]).unwrap();
    assert_eq!(
        c.previous_secrets,
        vec![Secret::new(KEY), Secret::new(other)]
    );
    let err = config(&[("JWT_PREVIOUS_SECRET_KEYS", &format!("{KEY},short"))]).unwrap_err();
    assert_eq!(err.key, "JWT_PREVIOUS_SECRET_KEYS");
    assert!(!err.to_string().contains(KEY));
}

#[test]
fn lifecycle_keys() {
    let c = config(&[
        ("JWT_REFRESH_ROTATION", "true"),
        ("DENYLIST_FILE", "/var/lib/x"),
    ])
    .unwrap();
    assert!(c.refresh_rotation);
    assert_eq!(c.denylist_file, Some(PathBuf::from("/var/lib/x")));
    assert_eq!(
        config(&[("JWT_REFRESH_ROTATION", "sometimes")])
            .unwrap_err()
            .key,
        "JWT_REFRESH_ROTATION"
    );
}

#[test]
fn random_keys_differ_per_start() {
    assert_ne!(config(&[]).unwrap().secret, config(&[]).unwrap().secret);
}

#[test]
fn jwt_secret_key_wins_over_secret_key() {
    let other = "ffffffffffffffffffffffffffffffff";
    let c = config(&[("JWT_SECRET_KEY", KEY), ("SECRET_KEY", other)]).unwrap();
    assert_eq!(c.secret.as_bytes(), KEY.as_bytes());
    let c = config(&[("SECRET_KEY", other)]).unwrap();
    assert_eq!(c.secret.as_bytes(), other.as_bytes());
    assert!(!c.secret_is_random);
}

#[test]
fn short_key_is_refused_with_a_hint() {
    let err = config(&[("JWT_SECRET_KEY", "short")]).unwrap_err();
    assert_eq!(err.key, "JWT_SECRET_KEY");
    assert!(err.to_string().contains("openssl rand -hex 32"), "{err}");
    let err = config(&[("SECRET_KEY", "your-secret-key")]).unwrap_err();
    assert_eq!(err.key, "SECRET_KEY");
}

#[test]
fn secret_never_shows_in_debug_output() {
    let c = config(&[("JWT_SECRET_KEY", KEY)]).unwrap();
    assert!(!format!("{c:?}").contains(KEY));
}

/// `SECRET_KEY` (the original app's key) is checked whenever it is set, used or not; with
/// `JWT_SECRET_KEY` set too, that one signs, and a different `SECRET_KEY` is warned about.
#[test]
fn secret_key_is_checked_when_set_and_warned_about_when_unused() {
    let other = "ffffffffffffffffffffffffffffffff";
    for pairs in [
        vec![("SECRET_KEY", "short")],
        vec![("JWT_SECRET_KEY", KEY), ("SECRET_KEY", "short")],
    ] {
        let err = config(&pairs).unwrap_err();
        assert_eq!(err.key, "SECRET_KEY", "{pairs:?}");
        assert!(err.problem.contains("openssl rand -hex 32"), "{err}");
    }
    let alone = config(&[("SECRET_KEY", other)]).unwrap();
    assert_eq!(alone.secret, Secret::new(other));
    assert!(!alone.secret_is_random && !alone.secret_key_unused);
    assert!(alone.warnings().is_empty());
    let both = config(&[("JWT_SECRET_KEY", KEY), ("SECRET_KEY", other)]).unwrap();
    assert_eq!(both.secret, Secret::new(KEY));
    assert!(both.secret_key_unused);
    let warnings = both.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].starts_with("SECRET_KEY is set"), "{warnings:?}");
    assert!(!warnings[0].contains(other) && !warnings[0].contains(KEY));
    let same = config(&[("JWT_SECRET_KEY", KEY), ("SECRET_KEY", KEY)]).unwrap();
    assert!(!same.secret_key_unused && same.warnings().is_empty());
}

#[test]
fn public_key_settings_are_checked_together() {
    let c = config(&[]).unwrap();
    assert_eq!(c.keys.algorithm, crate::jwt::Algorithm::Hs256);
    assert_eq!(c.keys.keys_dir, None);
    assert_eq!(c.keys.jwks_max_age, std::time::Duration::from_secs(300));
    assert_eq!(c.keys.verified_cache, 10_000);
    let err = config(&[("JWT_ALGORITHM", "HS512")]).unwrap_err();
    assert_eq!(err.key, "JWT_ALGORITHM");
    let err = config(&[("JWT_KEYS_DIR", "/var/lib/keys")]).unwrap_err();
    assert_eq!(err.key, "JWT_KEYS_DIR");
    assert!(
        err.problem.contains("JWT_ALGORITHM is HS256"),
        "{}",
        err.problem
    );
    let public = config(&[("JWT_ALGORITHM", "Ed25519")]);
    if cfg!(feature = "public-keys") {
        let err = public.unwrap_err();
        assert_eq!(err.key, "JWT_KEYS_DIR");
        assert!(
            err.problem.contains("hyperjwt keys rotate"),
            "{}",
            err.problem
        );
        let c = config(&[("JWT_ALGORITHM", "Ed25519"), ("JWT_KEYS_DIR", "/k")]).unwrap();
        assert_eq!(c.keys.algorithm, crate::jwt::Algorithm::EdDsa);
    } else {
        let err = public.unwrap_err();
        assert_eq!(err.key, "JWT_ALGORITHM");
        assert!(
            err.problem.contains("--features public-keys"),
            "{}",
            err.problem
        );
    }
}

#[test]
fn introspection_clients_come_from_the_setting_and_the_file() {
    let dir = std::env::temp_dir().join(format!("hyperjwt-clients-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("clients");
    std::fs::write(&file, "# comment\n\napi:a-secret-of-16-bytes-or-more\n").unwrap();
    let c = config(&[
        (
            "INTROSPECTION_CLIENTS",
            "gw:0123456789abcdef, other:fedcba9876543210",
        ),
        ("INTROSPECTION_CLIENTS_FILE", file.to_str().unwrap()),
    ])
    .unwrap();
    let ids: Vec<&str> = c
        .keys
        .introspection_clients
        .iter()
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(ids, ["gw", "other", "api"]);
    // A short secret is refused without being repeated; a pair needs its colon.
    let err = config(&[("INTROSPECTION_CLIENTS", "gw:short-secret")]).unwrap_err();
    assert_eq!(err.key, "INTROSPECTION_CLIENTS");
    assert!(!err.to_string().contains("short-secret"), "{err}");
    assert!(config(&[("INTROSPECTION_CLIENTS", "no-colon-here-at-all")]).is_err());
    let missing = dir.join("none");
    let err = config(&[("INTROSPECTION_CLIENTS_FILE", missing.to_str().unwrap())]).unwrap_err();
    assert_eq!(err.key, "INTROSPECTION_CLIENTS_FILE");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_introspection_client_id_given_twice_is_refused_naming_the_id_only() {
    let err = config(&[(
        "INTROSPECTION_CLIENTS",
        "gw:0123456789abcdef,gw:fedcba9876543210",
    )])
    .unwrap_err();
    assert_eq!(err.key, "INTROSPECTION_CLIENTS");
    let line = err.to_string();
    assert!(line.contains("\"gw\" is given more than once"), "{line}");
    assert!(!line.contains("0123456789abcdef") && !line.contains("fedcba9876543210"));
    assert_eq!(line.lines().count(), 1);
    // Once in the setting and once in the file: the file's line is the second.
    let dir = std::env::temp_dir().join(format!("hyperjwt-clients-twice-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("clients");
    std::fs::write(&file, "gw:a-secret-of-16-bytes-or-more\n").unwrap();
    let err = config(&[
        ("INTROSPECTION_CLIENTS", "gw:0123456789abcdef"),
        ("INTROSPECTION_CLIENTS_FILE", file.to_str().unwrap()),
    ])
    .unwrap_err();
    assert_eq!(err.key, "INTROSPECTION_CLIENTS_FILE");
    assert!(!err.to_string().contains("a-secret-of"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
