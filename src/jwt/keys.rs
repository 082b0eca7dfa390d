//! The keys a token is checked with, and how step 7 chooses one.
//!
//! HS256 keys (RFC 7518 §3.2): HMAC-SHA256 on `ring::hmac`, each with its key id and the header every
//! token it signs gets, and [`KeyRing`], the server's set of them for key rotation. Public keys
//! (EdDSA, ES256, RS256) are in [`asymmetric`](super::asymmetric); a [`Key`] is either kind.
//!
//! [`sign`](super::sign()) computes the MAC with `Hs256Key::mac`; the pipeline chooses a key at its
//! step 7 ([`Step::Key`](super::Step::Key), through [`KeySource`]) and checks the signature at step
//! 10 with [`Hs256Key::verify_mac`] or [`PublicKey::verify`].

use ring::hmac;

use super::algorithm::Algorithm;
use super::asymmetric::PublicKey;
use super::cache::VerifiedCache;
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

/// A key step 7 chose: an HMAC secret, or a public key. Either has exactly one algorithm.
#[derive(Debug, Clone, Copy)]
pub enum Key<'k> {
    Hs256(&'k Hs256Key),
    Public(&'k PublicKey),
}

impl Key<'_> {
    pub fn kid(&self) -> &str {
        match self {
            Key::Hs256(key) => key.kid(),
            Key::Public(key) => key.kid(),
        }
    }

    pub fn alg(&self) -> Algorithm {
        match self {
            Key::Hs256(_) => Algorithm::Hs256,
            Key::Public(key) => key.alg(),
        }
    }
}

/// Where verification finds the key for a token. The `kid` header only *selects* among keys the
/// server already holds; it is never a key source (RFC 8725 §3.10), and it never picks the
/// algorithm: the key it names must have the header's (RFC 8725 §3.1).
pub trait KeySource {
    /// Step 5: whether one of these keys signs with `alg`.
    fn accepts(&self, alg: Algorithm) -> bool;

    /// Step 7: the key for a header that passed steps 3–6, says `alg` and names `kid`.
    fn key_for(&self, alg: Algorithm, kid: Option<&str>) -> Result<Key<'_>, JwtError>;

    /// The key whose own encoded header is exactly `encoded_header`, if any: the pipeline's fast path
    /// for steps 3–7 (docs/jwt.md §9).
    fn key_with_header(&self, encoded_header: &str) -> Option<Key<'_>>;

    /// Tokens whose public-key signature was already proven, whole byte for byte (the server's; a
    /// tool or a test has none).
    fn verified(&self) -> Option<&VerifiedCache> {
        None
    }
}

impl KeySource for Hs256Key {
    fn accepts(&self, alg: Algorithm) -> bool {
        alg == Algorithm::Hs256
    }

    fn key_for(&self, alg: Algorithm, _kid: Option<&str>) -> Result<Key<'_>, JwtError> {
        same_alg(Key::Hs256(self), alg)
    }

    fn key_with_header(&self, encoded_header: &str) -> Option<Key<'_>> {
        (self.encoded_header == encoded_header).then_some(Key::Hs256(self))
    }
}

/// The current signing key and older keys still accepted for verification (key rotation).
#[derive(Debug)]
pub struct KeyRing {
    pub current: Hs256Key,
    pub previous: Vec<Hs256Key>,
}

impl KeyRing {
    /// The HS256 key for `kid`: the one it names, else the current key. A token without `kid` (as
    /// Flask-JWT-Extended writes them), or with one we don't know, gets only the current key.
    pub fn hs256_for(&self, kid: Option<&str>) -> &Hs256Key {
        kid.and_then(|kid| self.previous.iter().find(|key| key.kid == kid))
            .unwrap_or(&self.current)
    }

    /// Which of these keys wrote exactly `encoded_header`.
    pub fn with_header(&self, encoded_header: &str) -> Option<&Hs256Key> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|key| key.encoded_header == encoded_header)
    }
}

impl KeySource for KeyRing {
    fn accepts(&self, alg: Algorithm) -> bool {
        alg == Algorithm::Hs256
    }

    fn key_for(&self, alg: Algorithm, kid: Option<&str>) -> Result<Key<'_>, JwtError> {
        same_alg(Key::Hs256(self.hs256_for(kid)), alg)
    }

    fn key_with_header(&self, encoded_header: &str) -> Option<Key<'_>> {
        self.with_header(encoded_header).map(Key::Hs256)
    }
}

/// A public key alone verifies its own tokens (`token inspect --public-key`).
impl KeySource for PublicKey {
    fn accepts(&self, alg: Algorithm) -> bool {
        alg == self.alg()
    }

    fn key_for(&self, alg: Algorithm, kid: Option<&str>) -> Result<Key<'_>, JwtError> {
        choose(std::iter::once(Key::Public(self)), alg, kid)
    }

    fn key_with_header(&self, _encoded_header: &str) -> Option<Key<'_>> {
        None
    }
}

/// Step 7 among public keys: the key `kid` names, which must exist and have the header's algorithm.
/// Without a `kid`, the one key of that algorithm if there is exactly one.
pub fn choose<'k>(
    mut keys: impl Iterator<Item = Key<'k>>,
    alg: Algorithm,
    kid: Option<&str>,
) -> Result<Key<'k>, JwtError> {
    match kid {
        Some(kid) => {
            let key = keys.find(|key| key.kid() == kid).ok_or(JwtError::Key)?;
            same_alg(key, alg)
        }
        None => {
            let mut of_alg = keys.filter(|key| key.alg() == alg);
            match (of_alg.next(), of_alg.next()) {
                (Some(key), None) => Ok(key),
                _ => Err(JwtError::Key),
            }
        }
    }
}

/// RFC 8725 §3.1: a key is used with its own algorithm only, whatever the header names.
fn same_alg(key: Key<'_>, alg: Algorithm) -> Result<Key<'_>, JwtError> {
    if key.alg() != alg {
        return Err(JwtError::Algorithm);
    }
    Ok(key)
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
            assert_eq!(
                found.map(|key| key.kid().to_string()),
                Some(own.kid().into())
            );
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
