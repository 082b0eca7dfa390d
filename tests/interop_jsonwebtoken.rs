//! Interoperability with the `jsonwebtoken` crate: tokens hyperjwt signs are ordinary RFC 7519 HS256
//! tokens that jsonwebtoken verifies, and tokens jsonwebtoken signs with the same claims verify here.

mod support;

use hyperjwt::auth::tokens::Tokens;
use hyperjwt::jwt::{self, Audience, Claims, Hs256Key, JwtError, TokenType, Validation};
use jsonwebtoken::{Algorithm, DecodingKey, Header};
use serde::Deserialize;
use support::{SECRET, sign, sign_jsonwebtoken};

/// The shared fixture, fresh (as a login's access token is), so `fresh: true` makes the round trip.
fn claims() -> Claims<'static> {
    Claims {
        fresh: true,
        ..support::claims("user1", TokenType::Access)
    }
}

/// jsonwebtoken's strict settings: HS256 only, exp and nbf checked, no leeway.
fn strict() -> jsonwebtoken::Validation {
    let mut v = jsonwebtoken::Validation::new(Algorithm::HS256);
    v.leeway = 0;
    v.validate_nbf = true;
    v.set_required_spec_claims(&["exp", "nbf", "iat", "sub"]);
    v
}

/// jsonwebtoken verifies `token` into a generic JSON value, which is then read as our `Claims`
/// (jsonwebtoken wants an owned claims type; ours borrows its strings from the payload).
fn decode(
    token: &str,
    validation: &jsonwebtoken::Validation,
) -> jsonwebtoken::errors::Result<Claims<'static>> {
    let value = jsonwebtoken::decode::<serde_json::Value>(
        token,
        &DecodingKey::from_secret(SECRET.as_bytes()),
        validation,
    )?
    .claims;
    Ok(Claims::deserialize(&value)
        .expect("jsonwebtoken's payload has our claims")
        .into_owned())
}

#[test]
fn jsonwebtoken_verifies_hyperjwt_tokens_with_every_claim_intact() {
    let original = claims();
    let token = sign(&original);
    assert_eq!(decode(&token, &strict()).unwrap(), original);
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::HS256);
    assert_eq!(
        header.kid.as_deref(),
        Some(Hs256Key::new(SECRET.as_bytes()).kid())
    );
}

#[test]
fn jsonwebtoken_verifies_server_issued_tokens_with_issuer_and_audience() {
    let config = support::config(&[("JWT_ISSUER", "hyperjwt"), ("JWT_AUDIENCE", "api")]);
    let tokens = Tokens::new(&config);
    let token = tokens.issue("user2", TokenType::Refresh, false).unwrap();
    let mut v = strict();
    v.set_issuer(&["hyperjwt"]);
    v.set_audience(&["api"]);
    let claims = decode(&token, &v).unwrap();
    assert_eq!(
        (&*claims.sub, claims.token_type),
        ("user2", TokenType::Refresh)
    );
    assert_eq!(claims.aud, Some(Audience::One("api".into())));
    // And jsonwebtoken refuses it under another key, as it should.
    let other = jsonwebtoken::decode::<serde_json::Value>(
        &token,
        &DecodingKey::from_secret(b"another-key-0123456789abcdef0123"),
        &v,
    );
    assert!(other.is_err());
}

#[test]
fn hyperjwt_verifies_jsonwebtoken_tokens_with_the_same_claims() {
    let original = claims();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("a-kid-we-do-not-know".into());
    let token = sign_jsonwebtoken(header, SECRET.as_bytes(), &original);
    let key = Hs256Key::new(SECRET.as_bytes());
    let verified = jwt::verify(
        &key,
        &token,
        &Validation::default(),
        TokenType::Access,
        jwt::now(),
    )
    .unwrap();
    assert_eq!(verified, original);
    // An audience array, as other issuers write it.
    let with_aud = Claims {
        aud: Some(Audience::Many(vec!["web".into(), "api".into()])),
        ..claims()
    };
    let token = sign_jsonwebtoken(Header::default(), SECRET.as_bytes(), &with_aud);
    let v = Validation {
        audience: Some("api".into()),
        ..Validation::default()
    };
    assert_eq!(
        jwt::verify(&key, &token, &v, TokenType::Access, jwt::now()).unwrap(),
        with_aud
    );
}

#[test]
fn hyperjwt_refuses_other_algorithms_keys_and_expired_jsonwebtoken_tokens() {
    let key = Hs256Key::new(SECRET.as_bytes());
    let v = Validation::default();
    let now = jwt::now();
    for alg in [Algorithm::HS384, Algorithm::HS512] {
        let token = sign_jsonwebtoken(Header::new(alg), SECRET.as_bytes(), &claims());
        assert_eq!(
            jwt::verify(&key, &token, &v, TokenType::Access, now),
            Err(JwtError::Algorithm),
            "{alg:?}"
        );
    }
    let other = sign_jsonwebtoken(
        Header::default(),
        b"a-different-secret-0123456789abcdef",
        &claims(),
    );
    assert_eq!(
        jwt::verify(&key, &other, &v, TokenType::Access, now),
        Err(JwtError::Signature)
    );
    let expired = Claims {
        exp: Some(now - 60),
        ..claims()
    };
    let token = sign_jsonwebtoken(Header::default(), SECRET.as_bytes(), &expired);
    assert_eq!(
        jwt::verify(&key, &token, &v, TokenType::Access, now),
        Err(JwtError::Expired)
    );
}
