//! Interoperability with the `jsonwebtoken` crate: tokens hyperjwt signs are ordinary RFC 7519 HS256
//! tokens that jsonwebtoken verifies, and tokens jsonwebtoken signs with the same claims verify here;
//! with the `public-keys` feature, the same both ways for EdDSA, ES256 and RS256 (keys from ring and
//! from openssl), checked through the key's JWK.

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

/// Public keys: jsonwebtoken verifies hyperjwt's EdDSA, ES256 and RS256 tokens with nothing but the
/// JWK the server publishes, and hyperjwt verifies jsonwebtoken's tokens signed with the same
/// private key (and naming it by its kid).
#[cfg(feature = "public-keys")]
mod public_keys {
    use super::*;
    use hyperjwt::jwt::{KeySet, KeyState, PrivateKey, pem};
    use jsonwebtoken::EncodingKey;

    fn live_claims() -> Claims<'static> {
        let now = jwt::now();
        Claims {
            iat: Some(now),
            nbf: Some(now),
            exp: Some(now + 900),
            ..claims()
        }
    }

    fn both_ways(key: PrivateKey, pem_text: &str, alg: Algorithm) {
        let set = KeySet::new(vec![(key, KeyState::Active)], None, 0).unwrap();
        let key = set.signing_key();
        let original = live_claims();
        // hyperjwt signs; jsonwebtoken verifies from the JWK alone.
        let token = jwt::sign_with(key, &original).unwrap();
        let jwk: jsonwebtoken::jwk::Jwk =
            serde_json::from_value(jwt::jwk::to_jwk(key.public())).unwrap();
        let decoding = DecodingKey::from_jwk(&jwk).unwrap();
        let mut validation = jsonwebtoken::Validation::new(alg);
        validation.leeway = 0;
        validation.validate_nbf = true;
        let value = jsonwebtoken::decode::<serde_json::Value>(&token, &decoding, &validation)
            .unwrap_or_else(|e| panic!("{alg:?}: {e}"))
            .claims;
        assert_eq!(Claims::deserialize(&value).unwrap().into_owned(), original);
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!((header.alg, header.kid.as_deref()), (alg, Some(key.kid())));
        // jsonwebtoken signs with the same private key; hyperjwt verifies through its set.
        let pkcs8 = pem::decode(pem_text, "PRIVATE KEY").unwrap();
        let encoding = match alg {
            Algorithm::EdDSA => EncodingKey::from_ed_der(&pkcs8),
            Algorithm::ES256 => EncodingKey::from_ec_der(&pkcs8),
            // jsonwebtoken's RSA wants PKCS#1: the OCTET STRING inside the PKCS#8 (RFC 5958 §2).
            _ => EncodingKey::from_rsa_der(pkcs1_inside(&pkcs8)),
        };
        let mut header = Header::new(alg);
        header.kid = Some(key.kid().to_string());
        let theirs = jsonwebtoken::encode(&header, &original, &encoding).unwrap();
        let ours = jwt::verify(
            &set,
            &theirs,
            &Validation::default(),
            TokenType::Access,
            jwt::now(),
        );
        assert_eq!(ours, Ok(original.clone()), "{alg:?}");
        // Naming a key the set doesn't have, it is refused.
        header.kid = Some("another-key".into());
        let unknown = jsonwebtoken::encode(&header, &original, &encoding).unwrap();
        let refused = jwt::verify(&set, &unknown, &Validation::default(), None, jwt::now());
        assert_eq!(refused, Err(JwtError::Key), "{alg:?}");
        // Without a kid, the set's only key of its algorithm verifies it (with two such keys it
        // is refused: `an_unknown_or_missing_kid_is_refused_with_two_keys_of_one_algorithm`).
        header.kid = None;
        let bare = jsonwebtoken::encode(&header, &original, &encoding).unwrap();
        let ours = jwt::verify(&set, &bare, &Validation::default(), None, jwt::now());
        assert_eq!(ours, Ok(original), "{alg:?}");
    }

    /// `SEQUENCE { INTEGER version, SEQUENCE algorithm, OCTET STRING privateKey }` → privateKey.
    fn pkcs1_inside(pkcs8: &[u8]) -> &[u8] {
        let (info, _) = jwt::der::element(pkcs8, jwt::der::SEQUENCE).unwrap();
        let (_, rest) = jwt::der::element(info, jwt::der::INTEGER).unwrap();
        let (_, rest) = jwt::der::element(rest, jwt::der::SEQUENCE).unwrap();
        jwt::der::element(rest, 0x04).unwrap().0
    }

    #[test]
    fn eddsa_and_es256_both_ways() {
        for (alg, ours) in [
            (Algorithm::EdDSA, jwt::Algorithm::EdDsa),
            (Algorithm::ES256, jwt::Algorithm::Es256),
        ] {
            let (key, pkcs8) = PrivateKey::generate(ours).unwrap();
            both_ways(key, &pem::encode(&pkcs8, "PRIVATE KEY"), alg);
        }
    }

    #[test]
    fn rs256_with_an_openssl_key_both_ways() {
        let dir = support::temp_dir("interop-rsa");
        let Some(pem_text) = support::keys::openssl_rsa_key(&dir, "rs256_with_an_openssl_key")
        else {
            return;
        };
        let key = PrivateKey::from_pem(&pem_text).unwrap();
        assert_eq!(key.alg(), jwt::Algorithm::Rs256);
        both_ways(key, &pem_text, Algorithm::RS256);
    }

    #[test]
    fn openssl_ed25519_and_p256_keys_are_read() {
        let dir = support::temp_dir("interop-openssl-keys");
        for (args, alg) in [
            (&["-algorithm", "ed25519"][..], Algorithm::EdDSA),
            (
                &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"][..],
                Algorithm::ES256,
            ),
        ] {
            let Some(text) = support::keys::openssl_key(&dir, "openssl_keys", args) else {
                return;
            };
            both_ways(PrivateKey::from_pem(&text).unwrap(), &text, alg);
        }
    }
}
