//! HS256 keys (RFC 7518 §3.2): HMAC-SHA256 on `ring::hmac`, each with its key id and the header every
//! token it signs gets, and the server's set of them for key rotation.
//!
//! [`sign`](super::sign()) computes the MAC with `Hs256Key::mac`; the pipeline chooses a key at its
//! step 7 ([`Step::Key`](super::Step::Key), through [`KeySource`]) and checks the MAC at step 10 with
//! [`Hs256Key::verify_mac`].

use ring::hmac;

use super::compact::SIGNATURE_LEN;
use super::{JwtError, b64};

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

    /// The first segment of every token this key signs, already base64url.
    pub fn encoded_header(&self) -> &str {
        &self.encoded_header
    }

    /// The HMAC-SHA256 tag of `signing_input` (RFC 7515 §5.1 step 5, RFC 7518 §3.2).
    pub(crate) fn mac(&self, signing_input: &[u8]) -> hmac::Tag {
        hmac::sign(&self.key, signing_input)
    }

    /// Step 10 (RFC 7515 §5.2 step 8): `signature` is the MAC of the signing input as received.
    /// `ring::hmac::verify` compares in constant time, so timing reveals nothing about how many bytes
    /// matched.
    pub fn verify_mac(
        &self,
        signing_input: &str,
        signature: &[u8; SIGNATURE_LEN],
    ) -> Result<(), JwtError> {
        hmac::verify(&self.key, signing_input.as_bytes(), signature)
            .map_err(|_| JwtError::Signature)
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
    /// Step 7: the key for a header that passed steps 3–6 and names `kid`.
    fn key_for(&self, kid: Option<&str>) -> &Hs256Key;

    /// The key whose own encoded header is exactly `encoded_header`, if any: the pipeline's fast path
    /// for steps 3–7 (docs/jwt.md §9).
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::testing::{NOW, claims, forge, key, payload_json};
    use crate::jwt::{TokenType, Validation, sign, verify};

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
    fn the_ring_recognises_the_headers_of_all_its_keys_and_only_those() {
        let ring = ring_with_previous();
        for own in [&ring.current, &ring.previous[0]] {
            let found = ring.key_with_header(own.encoded_header());
            assert_eq!(found.map(Hs256Key::kid), Some(own.kid()));
        }
        let same_meaning = b64::encode(
            format!(r#"{{"typ":"JWT","alg":"HS256","kid":"{}"}}"#, key().kid()).as_bytes(),
        );
        assert!(ring.key_with_header(&same_meaning).is_none());
    }

    #[test]
    fn debug_output_never_shows_the_key() {
        assert_eq!(
            format!("{:?}", key()),
            format!("Hs256Key(kid={})", key().kid())
        );
    }
}
