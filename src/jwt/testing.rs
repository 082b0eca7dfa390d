//! What the unit tests of `jwt/` share: one key, one set of claims, a forger and the one-call check.

use super::{Claims, Hs256Key, JwtError, TokenType, Validation, b64, verify};

pub const NOW: i64 = 1_700_000_000;
pub const SECRET: &[u8] = b"an-example-secret-of-at-least-32-bytes!!";

pub fn key() -> Hs256Key {
    Hs256Key::new(SECRET)
}

pub fn claims() -> Claims<'static> {
    Claims {
        sub: "user1".into(),
        iat: Some(NOW),
        nbf: Some(NOW),
        exp: Some(NOW + 900),
        jti: "0f8b2d9e-7a43-4c1a-9b5e-2d6f8a1c3e47".into(),
        token_type: TokenType::Access,
        fresh: true,
        iss: None,
        aud: None,
        fam: None,
        csrf: None,
    }
}

pub fn payload_json() -> String {
    serde_json::to_string(&claims()).unwrap()
}

/// The whole pipeline as `/protected` runs it: an access token, now, default rules.
pub fn check(token: &str) -> Result<Claims<'static>, JwtError> {
    verify(
        &key(),
        token,
        &Validation::default(),
        TokenType::Access,
        NOW,
    )
}

/// Signs an arbitrary header and payload with [`SECRET`], to build tokens our `sign` would never make.
pub fn forge(header: &str, payload: &str) -> String {
    let input = format!(
        "{}.{}",
        b64::encode(header.as_bytes()),
        b64::encode(payload.as_bytes())
    );
    let tag = key().mac(input.as_bytes());
    format!("{input}.{}", b64::encode(tag.as_ref()))
}
