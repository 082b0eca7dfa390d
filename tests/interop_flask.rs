//! Tokens minted by Flask-JWT-Extended 4.x (the original app's library) with default settings are
//! accepted by hyperjwt's verifier with the same secret. The fixtures were produced by
//! `tests/interop/make_flask_fixtures.py`; this test needs no Python.

mod support;

use hyperjwt::jwt::{self, Hs256Key, JwtError, TokenType, Validation};
use serde_json::Value;
use support::flask_fixtures as fixtures;

fn key(f: &Value) -> Hs256Key {
    Hs256Key::new(f["secret"].as_str().unwrap().as_bytes())
}

/// Verifies the fixture `name` at the moment it was issued, and checks every claim we read.
fn check(name: &str, expected: TokenType) {
    let f = fixtures();
    let fixture = &f[name];
    let token = fixture["token"].as_str().unwrap();
    let claims = &fixture["claims"];
    let iat = claims["iat"].as_i64().unwrap();
    let verified = jwt::verify(&key(&f), token, &Validation::default(), expected, iat)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(verified.sub, claims["sub"].as_str().unwrap());
    assert_eq!(verified.jti, claims["jti"].as_str().unwrap());
    assert_eq!(verified.iat, Some(iat));
    assert_eq!(verified.nbf, claims["nbf"].as_i64());
    assert_eq!(verified.exp, claims["exp"].as_i64());
    assert_eq!(verified.fresh, claims["fresh"].as_bool().unwrap());
    assert_eq!(verified.token_type, expected);
}

#[test]
fn flask_access_token_with_default_settings_verifies() {
    check("default_access", TokenType::Access);
}

#[test]
fn flask_refresh_token_with_default_settings_verifies() {
    check("default_refresh", TokenType::Refresh);
}

#[test]
fn flask_tokens_with_csrf_claim_verify() {
    check("long_access_with_csrf", TokenType::Access);
    check("long_refresh_with_csrf", TokenType::Refresh);
}

#[test]
fn flask_token_expires_when_flask_says_it_does() {
    let f = fixtures();
    let token = f["default_access"]["token"].as_str().unwrap();
    let exp = f["default_access"]["claims"]["exp"].as_i64().unwrap();
    let v = Validation::default();
    assert!(jwt::verify(&key(&f), token, &v, TokenType::Access, exp - 1).is_ok());
    assert_eq!(
        jwt::verify(&key(&f), token, &v, TokenType::Access, exp),
        Err(JwtError::Expired)
    );
}

#[test]
fn flask_token_types_are_enforced() {
    let f = fixtures();
    let refresh = f["default_refresh"]["token"].as_str().unwrap();
    let iat = f["default_refresh"]["claims"]["iat"].as_i64().unwrap();
    assert_eq!(
        jwt::verify(
            &key(&f),
            refresh,
            &Validation::default(),
            TokenType::Access,
            iat
        ),
        Err(JwtError::WrongType {
            expected: TokenType::Access
        })
    );
}

#[test]
fn flask_token_under_another_secret_is_refused() {
    let f = fixtures();
    let token = f["default_access"]["token"].as_str().unwrap();
    let iat = f["default_access"]["claims"]["iat"].as_i64().unwrap();
    let other = Hs256Key::new(b"not-the-fixture-secret-but-32-bytes-long");
    assert_eq!(
        jwt::verify(
            &other,
            token,
            &Validation::default(),
            TokenType::Access,
            iat
        ),
        Err(JwtError::Signature)
    );
}
