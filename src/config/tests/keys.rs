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
