//! Signing: claims in, a compact JWS out (RFC 7515 §5.1, §7.1): with an HS256 secret ([`sign`],
//! RFC 7518 §3.2) or a private key ([`sign_with`]: EdDSA, ES256, RS256).
//!
//! The header is the key's own, encoded once when the key is read: every token a key signs starts
//! with the same first segment, which is what lets the pipeline recognise our headers (its fast path,
//! docs/jwt.md §9).

use super::asymmetric::{KeyError, PrivateKey};
use super::b64;
use super::claims::Claims;
use super::keys::Hs256Key;

/// Signs `claims` with an HS256 key into a compact JWS (RFC 7515 §5.1, §7.1).
pub fn sign(key: &Hs256Key, claims: &Claims) -> String {
    let mut token = signing_input(key.encoded_header(), claims, 43);
    let tag = key.mac(token.as_bytes());
    push_signature(&mut token, tag.as_ref());
    token
}

/// Signs `claims` with a private key. Fails only when the system's random generator does (ES256
/// and RS256 draw from it).
pub fn sign_with(key: &PrivateKey, claims: &Claims) -> Result<String, KeyError> {
    let mut token = signing_input(key.encoded_header(), claims, 86);
    let signature = key.sign(token.as_bytes())?;
    push_signature(&mut token, &signature);
    Ok(token)
}

/// `header "." BASE64URL(payload)`: the signing input, with room for a signature of about
/// `signature_chars` more.
fn signing_input(header: &str, claims: &Claims, signature_chars: usize) -> String {
    // Serializing a struct of strings, integers and bools to a Vec cannot fail.
    let payload = serde_json::to_vec(claims).unwrap_or_default();
    let mut token =
        String::with_capacity(header.len() + payload.len() * 4 / 3 + 5 + signature_chars);
    token.push_str(header);
    token.push('.');
    b64::encode_into(&payload, &mut token);
    token
}

/// Appends `"." BASE64URL(signature)`.
fn push_signature(token: &mut String, signature: &[u8]) {
    token.push('.');
    b64::encode_into(signature, token);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::testing::{check, claims, key};

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

    #[test]
    fn the_signature_is_the_mac_of_everything_before_the_last_dot() {
        let token = sign(&key(), &claims());
        let (input, signature) = token.rsplit_once('.').unwrap();
        assert_eq!(
            b64::decode(signature).unwrap(),
            key().mac(input.as_bytes()).as_ref()
        );
    }
}
