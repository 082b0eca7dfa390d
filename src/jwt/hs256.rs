//! HS256 signing and verification: HMAC-SHA256 over `BASE64URL(header) "." BASE64URL(payload)`
//! (RFC 7515 §5.1 and §5.2, RFC 7518 §3.2), on `ring::hmac`.
//!
//! Verification runs in two layers, so each can be read against its RFC:
//! [`verify_signature`] is the JWS part (is this exactly what the key holder signed?) and
//! [`verify`] adds the JWT part (do the now-trusted claims allow this use, now?).

use ring::hmac;

use super::b64::DecodeBuf;
use super::claims::{Claims, TokenType, Validation};
use super::header::Header;
use super::{JwtError, b64};

/// An HS256 signature is one SHA-256 output: 32 bytes, 43 base64url characters.
pub const SIGNATURE_LEN: usize = 32;

/// Tokens longer than this are refused before any decoding (DESIGN §4). Our own tokens are ~300 bytes.
pub const DEFAULT_MAX_TOKEN_LEN: usize = 8 * 1024;

/// A secret prepared once for HMAC-SHA256, with its key id and the header every token it signs gets.
///
/// `ring` derives the inner and outer padded keys here, so per-token work is only the two hash passes
/// over the message. The `kid` is derived from the key itself (the first 8 bytes of its SHA-256, in
/// base64url), so it names the key without revealing it and needs no configuration.
pub struct Hs256Key {
    key: hmac::Key,
    kid: String,
    /// `BASE64URL({"alg":"HS256","typ":"JWT","kid":"..."})`, the first segment of every token we sign.
    encoded_header: String,
}

impl Hs256Key {
    /// Prepares `secret`. The caller enforces the length rule (RFC 7518 §3.2: at least 32 bytes).
    pub fn new(secret: &[u8]) -> Self {
        let digest = ring::digest::digest(&ring::digest::SHA256, secret);
        let kid = b64::encode(&digest.as_ref()[..8]);
        let header = format!(r#"{{"alg":"HS256","typ":"JWT","kid":"{kid}"}}"#);
        Hs256Key {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
            encoded_header: b64::encode(header.as_bytes()),
            kid,
        }
    }

    /// The key id written into the header of every token this key signs.
    pub fn kid(&self) -> &str {
        &self.kid
    }
}

impl std::fmt::Debug for Hs256Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material, even in debug output.
        write!(f, "Hs256Key(kid={})", self.kid)
    }
}

/// Where verification finds the key for a token. The `kid` header only *selects* among keys the
/// server already holds; it is never a key source (RFC 8725 §3.10), and an unknown or absent `kid`
/// means the current key.
pub trait KeySource {
    fn key_for(&self, kid: Option<&str>) -> &Hs256Key;

    /// The key whose own encoded header is exactly `encoded_header`, if any: see [`verify_signature`].
    fn key_with_header(&self, encoded_header: &str) -> Option<&Hs256Key>;
}

impl KeySource for Hs256Key {
    fn key_for(&self, _kid: Option<&str>) -> &Hs256Key {
        self
    }

    fn key_with_header(&self, encoded_header: &str) -> Option<&Hs256Key> {
        (self.encoded_header == encoded_header).then_some(self)
    }
}

/// The current signing key and older keys still accepted for verification (key rotation).
#[derive(Debug)]
pub struct KeyRing {
    pub current: Hs256Key,
    pub previous: Vec<Hs256Key>,
}

impl KeySource for KeyRing {
    fn key_for(&self, kid: Option<&str>) -> &Hs256Key {
        kid.and_then(|kid| self.previous.iter().find(|key| key.kid == kid))
            .unwrap_or(&self.current)
    }

    fn key_with_header(&self, encoded_header: &str) -> Option<&Hs256Key> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|key| key.encoded_header == encoded_header)
    }
}

/// Signs `claims` into a compact JWS (RFC 7515 §5.1, §7.1).
pub fn sign(key: &Hs256Key, claims: &Claims) -> String {
    // Serializing a struct of strings, integers and bools to a Vec cannot fail.
    let payload = serde_json::to_vec(claims).unwrap_or_default();
    let mut token = String::with_capacity(key.encoded_header.len() + payload.len() * 4 / 3 + 48);
    token.push_str(&key.encoded_header);
    token.push('.');
    b64::encode_into(&payload, &mut token);
    // The signing input is everything so far: header "." payload, as ASCII.
    let tag = hmac::sign(&key.key, token.as_bytes());
    token.push('.');
    b64::encode_into(tag.as_ref(), &mut token);
    token
}

/// The three parts of a compact JWS, as received (still base64url).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segments<'t> {
    pub header: &'t str,
    pub payload: &'t str,
    pub signature: &'t str,
    /// `header "." payload`: exactly the bytes the MAC covers (RFC 7515 §5.1 step 5).
    pub signing_input: &'t str,
}

/// Step 0 (DESIGN §4): a token longer than `max_len` bytes is refused before any decoding, so an
/// attacker can't make us base64-decode or hash megabytes.
pub fn check_length(token: &str, max_len: usize) -> Result<(), JwtError> {
    if token.len() > max_len {
        return Err(JwtError::TooLong);
    }
    Ok(())
}

/// Step 1 (RFC 7515 §7.1, §5.2 step 1): compact serialization is exactly three segments. The header
/// ends at the first dot, the signature starts after the last, and no dot is left in between.
pub fn split(token: &str) -> Result<Segments<'_>, JwtError> {
    let (header, rest) = token.split_once('.').ok_or(JwtError::Segments)?;
    let (payload, signature) = rest.rsplit_once('.').ok_or(JwtError::Segments)?;
    if payload.contains('.') {
        return Err(JwtError::Segments);
    }
    Ok(Segments {
        header,
        payload,
        signature,
        signing_input: &token[..header.len() + 1 + payload.len()],
    })
}

/// Steps 7–8 (RFC 7515 §5.2, RFC 7518 §3.2): the signature must decode to exactly one HMAC-SHA256
/// output, and equal the MAC we compute over the signing input as received. `ring::hmac::verify`
/// compares in constant time, so timing reveals nothing about how many bytes matched.
pub fn check_signature(key: &Hs256Key, segments: &Segments) -> Result<(), JwtError> {
    let mut signature = [0u8; SIGNATURE_LEN];
    b64::decode_exact(segments.signature, &mut signature)?;
    hmac::verify(&key.key, segments.signing_input.as_bytes(), &signature)
        .map_err(|_| JwtError::Signature)
}

/// The JWS layer (RFC 7515 §5.2): checks structure, header and signature, and returns the decoded
/// payload bytes only once the signature has proven them. Nothing in the payload is parsed here.
///
/// The payload is decoded into the caller's `payload_buf` (on its stack) and borrowed from it, so
/// [`Claims::parse`] can borrow its strings in turn: verifying an ordinary token copies nothing to
/// the heap.
pub fn verify_signature<'b, K: KeySource + ?Sized>(
    keys: &K,
    token: &str,
    max_len: usize,
    payload_buf: &'b mut DecodeBuf,
) -> Result<&'b [u8], JwtError> {
    // Bound the work an attacker can make us do before anything else.
    check_length(token, max_len)?;
    let segments = split(token)?;
    // Steps 2–5: the header, which must say HS256 and nothing we don't understand. A header that is
    // byte for byte the header one of our keys writes has already passed these steps (we wrote it), so
    // our own tokens skip decoding and parsing it. Any other header goes through every step.
    let key = match keys.key_with_header(segments.header) {
        Some(key) => key,
        None => {
            // Steps 2–3: the header is base64url of a UTF-8 JSON object.
            let mut header_buf = DecodeBuf::new();
            let header = Header::parse(header_buf.decode(segments.header)?)?;
            // Step 5: we understand `alg: HS256` and nothing else, and no `crit` extension.
            header.check()?;
            // The key: chosen by the server among its own keys, at most hinted by `kid`.
            keys.key_for(header.kid.as_deref())
        }
    };
    // Step 6: the payload must be valid base64url, though we don't look inside it yet.
    let payload = payload_buf.decode(segments.payload)?;
    // Steps 7–8: the MAC, before anything in the payload is trusted.
    check_signature(key, &segments)?;
    Ok(payload)
}

/// The full check in one call: the JWS layer, then the claims (RFC 7519 §7.2 step 10, and DESIGN
/// §4's order). `now` is Unix seconds; `expected` is a [`TokenType`], or `None` to accept either type
/// (logout). Revocation is the caller's last step: it needs state this module doesn't own.
///
/// Returns owned claims, for tools and tests. The server runs the same three steps itself
/// ([`verify_signature`], [`Claims::parse`], [`Validation::check`]) so its claims can borrow from its
/// own stack buffer instead.
pub fn verify<K: KeySource + ?Sized>(
    keys: &K,
    token: &str,
    validation: &Validation,
    expected: impl Into<Option<TokenType>>,
    now: i64,
) -> Result<Claims<'static>, JwtError> {
    let mut payload_buf = DecodeBuf::new();
    let payload = verify_signature(keys, token, DEFAULT_MAX_TOKEN_LEN, &mut payload_buf)?;
    let claims = Claims::parse(payload)?;
    validation.check(&claims, expected, now)?;
    Ok(claims.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::b64;

    const NOW: i64 = 1_700_000_000;
    const SECRET: &[u8] = b"an-example-secret-of-at-least-32-bytes!!";

    fn key() -> Hs256Key {
        Hs256Key::new(SECRET)
    }

    fn claims() -> Claims<'static> {
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
        }
    }

    fn check(token: &str) -> Result<Claims<'static>, JwtError> {
        verify(
            &key(),
            token,
            &Validation::default(),
            TokenType::Access,
            NOW,
        )
    }

    /// Signs an arbitrary header and payload, to build tokens our `sign` would never make.
    fn forge(header: &str, payload: &str) -> String {
        let input = format!(
            "{}.{}",
            b64::encode(header.as_bytes()),
            b64::encode(payload.as_bytes())
        );
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, SECRET), input.as_bytes());
        format!("{input}.{}", b64::encode(tag.as_ref()))
    }

    fn payload_json() -> String {
        serde_json::to_string(&claims()).unwrap()
    }

    #[test]
    fn round_trip() {
        let token = sign(&key(), &claims());
        assert_eq!(check(&token), Ok(claims()));
    }

    #[test]
    fn signed_header_names_alg_typ_and_kid() {
        let token = sign(&key(), &claims());
        let header = b64::decode(token.split('.').next().unwrap()).unwrap();
        let expected = format!(r#"{{"alg":"HS256","typ":"JWT","kid":"{}"}}"#, key().kid());
        assert_eq!(String::from_utf8(header).unwrap(), expected);
        assert_eq!(key().kid().len(), 11);
        assert_ne!(
            key().kid(),
            Hs256Key::new(b"another-secret-of-at-least-32-bytes!!!!").kid()
        );
    }

    fn ring_with_previous() -> KeyRing {
        KeyRing {
            current: Hs256Key::new(b"the-new-secret-of-at-least-32-bytes!!!!"),
            previous: vec![key()],
        }
    }

    #[test]
    fn key_ring_verifies_tokens_of_previous_keys_by_kid() {
        let old_token = sign(&key(), &claims());
        let ring = ring_with_previous();
        let v = Validation::default();
        assert_eq!(
            verify(&ring, &old_token, &v, TokenType::Access, NOW),
            Ok(claims())
        );
        let new_token = sign(&ring.current, &claims());
        assert_eq!(
            verify(&ring, &new_token, &v, TokenType::Access, NOW),
            Ok(claims())
        );
    }

    #[test]
    fn key_ring_tries_only_the_current_key_without_a_known_kid() {
        let ring = ring_with_previous();
        let v = Validation::default();
        // Signed by the previous key but without `kid` (as Flask-JWT-Extended does): current key only.
        let no_kid = forge(r#"{"alg":"HS256","typ":"JWT"}"#, &payload_json());
        assert_eq!(
            verify(&ring, &no_kid, &v, TokenType::Access, NOW),
            Err(JwtError::Signature)
        );
        // A kid the ring doesn't know is no way around that either.
        let unknown = forge(r#"{"alg":"HS256","kid":"AAAAAAAAAAA"}"#, &payload_json());
        assert_eq!(
            verify(&ring, &unknown, &v, TokenType::Access, NOW),
            Err(JwtError::Signature)
        );
        // A key nobody configured is refused whatever kid it claims.
        let stranger = Hs256Key::new(b"a-stranger-secret-of-at-least-32-bytes!");
        let token = sign(&stranger, &claims());
        assert_eq!(
            verify(&ring, &token, &v, TokenType::Access, NOW),
            Err(JwtError::Signature)
        );
    }

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
}
