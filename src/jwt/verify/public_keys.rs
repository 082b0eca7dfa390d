//! The pipeline with public keys: each algorithm through a [`KeySet`], the header's `alg` held to the
//! key's (algorithm confusion, RFC 8725 §3.1), `kid` as untrusted input, and the memo of verified
//! tokens, which a valid signature under other bytes cannot fool.

use super::*;
use crate::jwt::asymmetric::PrivateKey;
use crate::jwt::key_set::{KeySet, KeyState};
use crate::jwt::testing::{NOW, SECRET, claims, payload_json};
use crate::jwt::{Hs256Key, KeyRing, b64, sign_with};

fn set_of(algs: &[(Algorithm, KeyState)], hs256: Option<KeyRing>) -> KeySet {
    let keys = algs
        .iter()
        .map(|&(alg, state)| (PrivateKey::generate(alg).unwrap().0, state))
        .collect();
    KeySet::new(keys, hs256, 100).unwrap()
}

fn one(alg: Algorithm) -> KeySet {
    set_of(&[(alg, KeyState::Active)], None)
}

fn check(keys: &KeySet, token: &str) -> Result<Claims<'static>, JwtError> {
    verify(keys, token, &Validation::default(), TokenType::Access, NOW)
}

/// A token of `header` and `payload` (JSON) signed by `key`, whatever the header says.
fn forge_with(key: &PrivateKey, header: &str, payload: &str) -> String {
    let input = format!(
        "{}.{}",
        b64::encode(header.as_bytes()),
        b64::encode(payload.as_bytes())
    );
    let signature = key.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", b64::encode(&signature))
}

#[test]
fn each_algorithm_signs_and_verifies_through_the_set() {
    for alg in [Algorithm::EdDsa, Algorithm::Es256] {
        let keys = one(alg);
        let token = sign_with(keys.signing_key(), &claims()).unwrap();
        assert_eq!(check(&keys, &token), Ok(claims()), "{alg}");
        // Another set's key of the same algorithm: its kid is unknown here.
        assert_eq!(check(&one(alg), &token), Err(JwtError::Key), "{alg}");
    }
}

#[test]
fn ed25519_is_accepted_under_both_of_its_names() {
    let keys = one(Algorithm::EdDsa);
    let key = keys.signing_key();
    for name in ["EdDSA", "Ed25519"] {
        let header = format!(r#"{{"alg":"{name}","kid":"{}"}}"#, key.kid());
        let token = forge_with(key, &header, &payload_json());
        assert_eq!(check(&keys, &token), Ok(claims()), "{name}");
    }
}

#[test]
fn the_header_never_picks_the_algorithm_whatever_the_kid_says() {
    let keys = set_of(
        &[
            (Algorithm::EdDsa, KeyState::Active),
            (Algorithm::Es256, KeyState::Next),
        ],
        Some(KeyRing {
            current: Hs256Key::new(SECRET),
            previous: vec![],
        }),
    );
    let (ed, _) = keys.keys().next().unwrap();
    let (ec, _) = keys.keys().nth(1).unwrap();
    // ES256 named, with the kid of the Ed25519 key (and signed by the P-256 key).
    let header = format!(r#"{{"alg":"ES256","kid":"{}"}}"#, ed.kid());
    assert_eq!(
        check(&keys, &forge_with(ec, &header, &payload_json())),
        Err(JwtError::Algorithm)
    );
    // The classic confusion: HS256 with the public key's bytes as the HMAC secret, naming that key.
    let public_as_secret = Hs256Key::new(ed.public().thumbprint_input().as_bytes());
    let header = format!(r#"{{"alg":"HS256","kid":"{}"}}"#, ed.kid());
    let input = format!(
        "{}.{}",
        b64::encode(header.as_bytes()),
        b64::encode(payload_json().as_bytes())
    );
    let tag = public_as_secret.mac(input.as_bytes());
    let token = format!("{input}.{}", b64::encode(tag.as_ref()));
    assert_eq!(check(&keys, &token), Err(JwtError::Algorithm));
    // alg none, and algorithms no key of the set has, are refused at step 5.
    for alg in ["none", "RS256", "HS512"] {
        let header = format!(r#"{{"alg":"{alg}","kid":"{}"}}"#, ed.kid());
        assert_eq!(
            check(&keys, &forge_with(ed, &header, &payload_json())),
            Err(JwtError::Algorithm),
            "{alg}"
        );
    }
    // The old HS256 secret still verifies its own tokens beside the public keys.
    let hs = crate::jwt::sign(&Hs256Key::new(SECRET), &claims());
    assert_eq!(check(&keys, &hs), Ok(claims()));
}

#[test]
fn an_unknown_or_missing_kid_is_refused_with_two_keys_of_one_algorithm() {
    let keys = set_of(
        &[
            (Algorithm::EdDsa, KeyState::Active),
            (Algorithm::EdDsa, KeyState::Next),
        ],
        None,
    );
    let key = keys.signing_key();
    for header in [
        r#"{"alg":"EdDSA"}"#.to_string(),
        r#"{"alg":"EdDSA","kid":"not-one-of-ours"}"#.to_string(),
        format!(r#"{{"alg":"EdDSA","kid":"{}x"}}"#, key.kid()),
    ] {
        assert_eq!(
            check(&keys, &forge_with(key, &header, &payload_json())),
            Err(JwtError::Key),
            "{header}"
        );
    }
}

#[test]
fn a_signature_of_the_wrong_length_is_refused_before_any_check() {
    let keys = one(Algorithm::Es256);
    let token = sign_with(keys.signing_key(), &claims()).unwrap();
    let (input, signature) = token.rsplit_once('.').unwrap();
    let mut bytes = b64::decode(signature).unwrap();
    bytes.push(0);
    let longer = format!("{input}.{}", b64::encode(&bytes));
    assert_eq!(check(&keys, &longer), Err(JwtError::Base64));
}

/// Records whether step 10 was answered by the memo, running as the server does (no diagnosis).
#[derive(Default)]
struct Memo {
    remembered: bool,
}

impl Observer for Memo {
    const DIAGNOSE: bool = false;

    fn observe(&mut self, step: Step, outcome: Outcome<'_>) {
        if step == Step::Signature && matches!(outcome, Outcome::Pass(Found::Remembered)) {
            self.remembered = true;
        }
    }
}

fn observed(keys: &KeySet, token: &str) -> (Result<Claims<'static>, JwtError>, bool) {
    let validation = Validation::default();
    let rules = Rules {
        max_len: DEFAULT_MAX_TOKEN_LEN,
        validation: &validation,
        expected: Some(TokenType::Access),
        now: NOW,
    };
    let mut memo = Memo::default();
    let mut buf = DecodeBuf::new();
    let result = verify_observed(Some(keys), token, &rules, &mut buf, &mut memo);
    (result.map(Claims::into_owned), memo.remembered)
}

#[test]
fn a_verified_token_is_remembered_and_its_second_use_skips_the_signature() {
    let keys = one(Algorithm::EdDsa);
    // A token that lives: the memo keeps tokens until their exp, measured by the clock.
    let live = Claims {
        exp: Some(crate::jwt::now() + 900),
        ..claims()
    };
    let token = sign_with(keys.signing_key(), &live).unwrap();
    assert_eq!(observed(&keys, &token), (Ok(live.clone()), false));
    assert_eq!(keys.cache().len(), 1);
    assert_eq!(observed(&keys, &token), (Ok(live), true));
    // An expired token is never remembered.
    let expired = Claims {
        exp: Some(crate::jwt::now() - 1),
        ..claims()
    };
    let token = sign_with(keys.signing_key(), &expired).unwrap();
    let _ = observed(&keys, &token);
    assert_eq!(keys.cache().len(), 1);
}

/// The cache's one promise: a signature vouches for exactly the bytes it was verified over.
#[test]
fn a_cached_signature_vouches_for_no_other_bytes() {
    for alg in [Algorithm::EdDsa, Algorithm::Es256] {
        let keys = one(alg);
        let live = Claims {
            exp: Some(crate::jwt::now() + 900),
            ..claims()
        };
        let token = sign_with(keys.signing_key(), &live).unwrap();
        assert!(observed(&keys, &token).0.is_ok());
        assert!(keys.cache().contains(&token));
        let (header, rest) = token.split_once('.').unwrap();
        let (payload, signature) = rest.rsplit_once('.').unwrap();
        // Another payload (another user), the cached token's header and signature.
        let other_claims = Claims {
            sub: "admin".into(),
            ..live.clone()
        };
        let other_payload = b64::encode(&serde_json::to_vec(&other_claims).unwrap());
        let forged = format!("{header}.{other_payload}.{signature}");
        assert_eq!(observed(&keys, &forged), (Err(JwtError::Signature), false));
        // Another header (the same meaning, spelled differently), same payload and signature.
        let spelled = b64::encode(
            format!(
                r#"{{"typ":"JWT","alg":"{}","kid":"{}"}}"#,
                alg.name(),
                keys.signing_key().kid()
            )
            .as_bytes(),
        );
        let forged = format!("{spelled}.{payload}.{signature}");
        assert_eq!(observed(&keys, &forged), (Err(JwtError::Signature), false));
        // Nothing forged was remembered, and the real token still hits.
        assert_eq!(keys.cache().len(), 1);
        assert_eq!(observed(&keys, &token), (Ok(live), true));
    }
}
