//! The pipeline's refusals, one attack or malformation at a time, through the whole of [`verify`]
//! (and the JWS layer alone for the RFC 7515 Appendix A.1 example).

use super::*;
use crate::jwt::b64;
use crate::jwt::testing::{NOW, check, claims, forge, key, payload_json};
use crate::jwt::{Hs256Key, sign};

#[test]
fn either_type_when_none_is_expected() {
    let refresh = sign(
        &key(),
        &Claims {
            token_type: TokenType::Refresh,
            ..claims()
        },
    );
    let v = Validation::default();
    assert!(verify(&key(), &refresh, &v, None, NOW).is_ok());
    assert!(verify(&key(), &sign(&key(), &claims()), &v, None, NOW).is_ok());
}

// RFC 7515 Appendix A.1: the specification's own HS256 example, key and token verbatim.
const RFC7515_A1_KEY: &str =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
const RFC7515_A1_JWS: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9\
        .eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ\
        .dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/// The JWS layer alone, with an owned result for assertions.
fn jws(key: &Hs256Key, token: &str) -> Result<Vec<u8>, JwtError> {
    let mut buf = DecodeBuf::new();
    verify_signature(key, token, DEFAULT_MAX_TOKEN_LEN, &mut buf).map(<[u8]>::to_vec)
}

fn rfc_key() -> Hs256Key {
    Hs256Key::new(&b64::decode(RFC7515_A1_KEY).unwrap())
}

#[test]
fn rfc7515_a1_example_verifies() {
    let payload = jws(&rfc_key(), RFC7515_A1_JWS).unwrap();
    assert_eq!(
        payload,
        b"{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}"
    );
}

#[test]
fn rfc7515_a1_example_fails_with_any_one_bit_changed_in_its_text() {
    // Flip one bit of each character: either the base64url becomes invalid or it decodes to
    // different bytes, and either way the token must be refused.
    let bytes = RFC7515_A1_JWS.as_bytes();
    for i in (0..bytes.len()).filter(|&i| bytes[i] != b'.') {
        let mut changed = bytes.to_vec();
        changed[i] ^= 1;
        let token = String::from_utf8(changed).unwrap();
        let result = jws(&rfc_key(), &token);
        assert!(result.is_err(), "bit flip at {i} was accepted: {token}");
    }
}

#[test]
fn rfc7515_a1_example_fails_with_any_one_bit_changed_in_its_decoded_segments() {
    // Flip every bit of every decoded segment and re-encode it validly: only the MAC can catch
    // these, and it must, every time.
    let segments: Vec<&str> = RFC7515_A1_JWS.split('.').collect();
    let mut tried = 0;
    for (which, segment) in segments.iter().enumerate() {
        let decoded = b64::decode(segment).unwrap();
        for bit in 0..decoded.len() * 8 {
            let mut changed = decoded.clone();
            changed[bit / 8] ^= 1 << (bit % 8);
            let mut parts: Vec<String> = segments.iter().map(|s| s.to_string()).collect();
            parts[which] = b64::encode(&changed);
            let token = parts.join(".");
            let result = jws(&rfc_key(), &token);
            assert!(result.is_err(), "segment {which} bit {bit} was accepted");
            tried += 1;
        }
    }
    // Header (30 bytes) + payload (70) + signature (32), eight bits each.
    assert_eq!(tried, (30 + 70 + 32) * 8);
}

#[test]
fn rfc7515_a1_example_fails_with_another_key() {
    let result = jws(&key(), RFC7515_A1_JWS);
    assert_eq!(result.unwrap_err(), JwtError::Signature);
}

#[test]
fn refuses_too_long_before_decoding() {
    let token = "a".repeat(DEFAULT_MAX_TOKEN_LEN + 1);
    assert_eq!(check(&token), Err(JwtError::TooLong));
}

#[test]
fn refuses_wrong_segment_counts() {
    let good = sign(&key(), &claims());
    for token in ["", "abc", "a.b", "a.b.c.d", &format!("{good}.")] {
        assert_eq!(check(token), Err(JwtError::Segments), "{token:?}");
    }
}

#[test]
fn refuses_bad_base64_in_each_segment() {
    let good = sign(&key(), &claims());
    let parts: Vec<&str> = good.split('.').collect();
    let cases = [
        format!("{}=.{}.{}", parts[0], parts[1], parts[2]), // padding
        format!("{}.{}+.{}", parts[0], parts[1], parts[2]), // standard alphabet
        format!("{}.{}.{}/", parts[0], parts[1], parts[2]),
        format!("{}.{}.{}!", parts[0], parts[1], parts[2]),
        format!("{}.{} .{}", parts[0], parts[1], parts[2]),
    ];
    for token in &cases {
        assert_eq!(check(token), Err(JwtError::Base64), "{token}");
    }
}

#[test]
fn refuses_padded_signature() {
    let good = sign(&key(), &claims());
    assert_eq!(check(&format!("{good}=")), Err(JwtError::Base64));
}

#[test]
fn refuses_header_that_is_not_json() {
    let token = forge("not json", &payload_json());
    assert_eq!(check(&token), Err(JwtError::Header));
}

#[test]
fn refuses_payload_that_is_not_json() {
    let token = forge(r#"{"alg":"HS256"}"#, "not json");
    assert_eq!(check(&token), Err(JwtError::Claims));
}

#[test]
fn refuses_alg_none_with_and_without_signature() {
    for alg in ["none", "None", "NONE"] {
        let header = b64::encode(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#).as_bytes());
        let payload = b64::encode(payload_json().as_bytes());
        assert_eq!(
            check(&format!("{header}.{payload}.")),
            Err(JwtError::Algorithm)
        );
        // Even with a valid HS256 MAC over that input, the header's choice is not obeyed.
        let forged = forge(&format!(r#"{{"alg":"{alg}"}}"#), &payload_json());
        assert_eq!(check(&forged), Err(JwtError::Algorithm));
    }
}

#[test]
fn refuses_other_algorithms_even_with_a_valid_hs256_mac() {
    for alg in ["HS512", "RS256", "ES256", "hs256"] {
        let token = forge(
            &format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#),
            &payload_json(),
        );
        assert_eq!(check(&token), Err(JwtError::Algorithm), "{alg}");
    }
}

#[test]
fn refuses_crit() {
    let token = forge(r#"{"alg":"HS256","crit":["exp"],"exp":1}"#, &payload_json());
    assert_eq!(check(&token), Err(JwtError::Critical));
}

#[test]
fn refuses_bad_signature() {
    let token = sign(
        &Hs256Key::new(b"another-secret-of-at-least-32-bytes!!!!"),
        &claims(),
    );
    assert_eq!(check(&token), Err(JwtError::Signature));
}

#[test]
fn refuses_payload_swapped_under_old_signature() {
    let good = sign(&key(), &claims());
    let other = Claims {
        sub: "user2".into(),
        ..claims()
    };
    let swapped_payload = b64::encode(serde_json::to_string(&other).unwrap().as_bytes());
    let parts: Vec<&str> = good.split('.').collect();
    let token = format!("{}.{}.{}", parts[0], swapped_payload, parts[2]);
    assert_eq!(check(&token), Err(JwtError::Signature));
}

#[test]
fn refuses_stripped_or_truncated_signature() {
    let good = sign(&key(), &claims());
    let (input, sig) = good.rsplit_once('.').unwrap();
    assert_eq!(check(&format!("{input}.")), Err(JwtError::Base64));
    assert_eq!(
        check(&format!("{input}.{}", &sig[..42])),
        Err(JwtError::Base64)
    );
}

#[test]
fn signature_is_checked_before_claims() {
    // An expired token under the wrong key reports the signature, not the expiry: nothing in an
    // unauthenticated payload is trusted, not even to choose the error message.
    let expired = Claims {
        exp: Some(NOW - 10),
        ..claims()
    };
    let token = sign(
        &Hs256Key::new(b"another-secret-of-at-least-32-bytes!!!!"),
        &expired,
    );
    assert_eq!(check(&token), Err(JwtError::Signature));
}

#[test]
fn refuses_missing_exp() {
    let token = forge(
        r#"{"alg":"HS256"}"#,
        r#"{"sub":"user1","jti":"j","type":"access"}"#,
    );
    assert_eq!(check(&token), Err(JwtError::MissingExp));
}

#[test]
fn refuses_expired() {
    let token = sign(
        &key(),
        &Claims {
            exp: Some(NOW - 1),
            ..claims()
        },
    );
    assert_eq!(check(&token), Err(JwtError::Expired));
}

#[test]
fn refuses_future_nbf() {
    let token = sign(
        &key(),
        &Claims {
            nbf: Some(NOW + 60),
            ..claims()
        },
    );
    assert_eq!(check(&token), Err(JwtError::NotYetValid));
}

#[test]
fn refuses_wrong_type() {
    let token = sign(
        &key(),
        &Claims {
            token_type: TokenType::Refresh,
            ..claims()
        },
    );
    assert_eq!(
        check(&token),
        Err(JwtError::WrongType {
            expected: TokenType::Access
        })
    );
}

#[test]
fn accepts_tokens_with_a_different_but_valid_header() {
    // Header member order, `typ` and `kid` don't matter; the MAC covers the header as sent.
    let token = forge(r#"{"typ":"JWT","kid":"x","alg":"HS256"}"#, &payload_json());
    assert_eq!(check(&token), Ok(claims()));
}
