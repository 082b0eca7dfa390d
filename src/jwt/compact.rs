//! The JWS Compact Serialization (RFC 7515 §7.1): `BASE64URL(header) "." BASE64URL(payload) "."
//! BASE64URL(signature)`, taken apart as received.
//!
//! The pipeline ([`verify`](mod@super::verify)) calls these for its steps 1, 2 and 9
//! ([`Step::Length`](super::Step::Length), [`Segments`](super::Step::Segments),
//! [`SignatureBase64`](super::Step::SignatureBase64)): nothing here decodes the header or the payload.

use super::b64::DecodeBuf;
use super::{JwtError, b64};

/// An HS256 signature is one SHA-256 output: 32 bytes, 43 base64url characters. (EdDSA and ES256
/// signatures are 64 bytes, RS256 ones as long as the key's modulus: [`decode_signature_of`].)
pub const SIGNATURE_LEN: usize = 32;

/// Tokens longer than this are refused before any decoding (docs/http.md §4). Our own tokens are
/// ~300 bytes.
pub const DEFAULT_MAX_TOKEN_LEN: usize = 8 * 1024;

/// The three parts of a compact JWS, as received (still base64url).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segments<'t> {
    pub header: &'t str,
    pub payload: &'t str,
    pub signature: &'t str,
    /// `header "." payload`: exactly the bytes the MAC covers (RFC 7515 §5.1 step 5).
    pub signing_input: &'t str,
}

/// Step 1 (docs/http.md §4): a token longer than `max_len` bytes is refused before any decoding, so an
/// attacker can't make us base64-decode or hash megabytes.
pub fn check_length(token: &str, max_len: usize) -> Result<(), JwtError> {
    if token.len() > max_len {
        return Err(JwtError::TooLong);
    }
    Ok(())
}

/// Step 2 (RFC 7515 §7.1, §5.2 step 1): compact serialization is exactly three segments. The header
/// ends at the first dot, the signature starts after the last, and no dot is left in between.
pub fn split(token: &str) -> Result<Segments<'_>, JwtError> {
    let (header, rest) = token.split_once('.').ok_or(JwtError::Segments)?;
    let (payload, signature) = rest.rsplit_once('.').ok_or(JwtError::Segments)?;
    // The payload is most of the token: looked through in one pass without an early exit, which
    // the compiler turns into a check of many bytes per instruction.
    let dots_in_payload = payload
        .bytes()
        .fold(0u8, |seen, b| seen | u8::from(b == b'.'));
    if dots_in_payload != 0 {
        return Err(JwtError::Segments);
    }
    Ok(Segments {
        header,
        payload,
        signature,
        signing_input: &token[..header.len() + 1 + payload.len()],
    })
}

/// Step 9 (RFC 7515 §5.2 step 7, RFC 7518 §3.2): the signature is strict base64url of exactly one
/// HMAC-SHA256 output, so a tag of the wrong size is refused before any comparison.
pub fn decode_signature(segment: &str) -> Result<[u8; SIGNATURE_LEN], JwtError> {
    let mut signature = [0u8; SIGNATURE_LEN];
    b64::decode_exact(segment, &mut signature)?;
    Ok(signature)
}

/// Step 9 for a public key: strict base64url of exactly `len` bytes (64 for EdDSA and ES256, the
/// modulus' length for RS256), decoded into `buf`.
pub fn decode_signature_of<'b>(
    segment: &str,
    len: usize,
    buf: &'b mut DecodeBuf,
) -> Result<&'b [u8], JwtError> {
    if b64::decoded_len(segment.len()) != Some(len) {
        return Err(JwtError::Base64);
    }
    buf.decode(segment)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_length_bound_is_inclusive() {
        assert_eq!(check_length("abc", 3), Ok(()));
        assert_eq!(check_length("abcd", 3), Err(JwtError::TooLong));
    }

    #[test]
    fn splits_at_the_first_and_last_dot_and_keeps_the_signing_input() {
        let segments = split("h.p.s").unwrap();
        assert_eq!(
            (segments.header, segments.payload, segments.signature),
            ("h", "p", "s")
        );
        assert_eq!(segments.signing_input, "h.p");
        assert_eq!(split("..").unwrap().signing_input, ".");
        for token in ["", "abc", "a.b", "a.b.c.d"] {
            assert_eq!(split(token), Err(JwtError::Segments), "{token:?}");
        }
    }

    #[test]
    fn a_signature_is_exactly_32_bytes_of_strict_base64url() {
        let tag = [7u8; SIGNATURE_LEN];
        assert_eq!(decode_signature(&b64::encode(&tag)), Ok(tag));
        for segment in [
            String::new(),
            b64::encode(&[7; 31]),
            b64::encode(&[7; 33]),
            format!("{}=", b64::encode(&tag)),
        ] {
            assert_eq!(
                decode_signature(&segment),
                Err(JwtError::Base64),
                "{segment}"
            );
        }
    }
}
