//! base64url without padding, the only encoding JWS compact serialization allows (RFC 7515 §2, RFC 4648 §5).
//!
//! Decoding is strict on purpose: `=` padding, the `+`/`/` alphabet and non-zero trailing bits are all
//! refused, so every token has exactly one spelling and a signature can't be "re-spelled" past a denylist.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::JwtError;

/// Segments whose decoded form fits in this many bytes decode onto the stack. Our own payloads are
/// ~200 bytes and Flask-JWT-Extended's ~300, so verification of an ordinary token allocates nothing.
pub const INLINE_LEN: usize = 512;

/// Appends the base64url form of `bytes` to `out`.
pub fn encode_into(bytes: &[u8], out: &mut String) {
    URL_SAFE_NO_PAD.encode_string(bytes, out);
}

/// Returns the base64url form of `bytes`.
pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes one segment into a new buffer.
pub fn decode(segment: &str) -> Result<Vec<u8>, JwtError> {
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| JwtError::Base64)
}

/// Room to decode one segment into (the verifier's hot path): an inline buffer that ordinary
/// segments fit in, and a heap buffer for larger ones.
///
/// The caller owns it, usually on its stack, and the decoded bytes borrow from it. Returning the
/// bytes by value instead would move the whole 512-byte buffer on every return (a `memmove` that
/// took a tenth of a verification in the profile); borrowing moves nothing.
pub struct DecodeBuf {
    inline: [u8; INLINE_LEN],
    /// Used only for segments larger than [`INLINE_LEN`]; an empty `Vec` does not allocate.
    heap: Vec<u8>,
}

impl DecodeBuf {
    pub fn new() -> Self {
        DecodeBuf {
            inline: [0; INLINE_LEN],
            heap: Vec::new(),
        }
    }

    /// Decodes one segment into this buffer and returns its bytes, onto the stack when they fit.
    pub fn decode(&mut self, segment: &str) -> Result<&[u8], JwtError> {
        if base64::decoded_len_estimate(segment.len()) <= INLINE_LEN {
            let len = URL_SAFE_NO_PAD
                .decode_slice(segment, &mut self.inline)
                .map_err(|_| JwtError::Base64)?;
            Ok(&self.inline[..len])
        } else {
            self.heap = decode(segment)?;
            Ok(&self.heap)
        }
    }
}

impl Default for DecodeBuf {
    fn default() -> Self {
        Self::new()
    }
}

/// Decodes one segment into `out`, which must be exactly the decoded length (used for the 32-byte
/// HMAC so a signature of the wrong size is refused before any comparison).
pub fn decode_exact(segment: &str, out: &mut [u8]) -> Result<(), JwtError> {
    match URL_SAFE_NO_PAD.decode_slice(segment, out) {
        Ok(n) if n == out.len() => Ok(()),
        _ => Err(JwtError::Base64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for data in [&b""[..], b"f", b"fo", b"foo", b"\xff\xfe\xfd\x00"] {
            assert_eq!(decode(&encode(data)).unwrap(), data);
        }
    }

    #[test]
    fn uses_url_safe_alphabet_without_padding() {
        assert_eq!(encode(b"\xfb\xff"), "-_8");
    }

    #[test]
    fn refuses_padding() {
        assert_eq!(decode("Zm8="), Err(JwtError::Base64));
    }

    #[test]
    fn refuses_standard_alphabet() {
        assert_eq!(decode("+/8"), Err(JwtError::Base64));
    }

    #[test]
    fn refuses_non_canonical_trailing_bits() {
        // "Zm8" is "fo"; "Zm9" decodes to the same bytes with stray low bits set.
        assert_eq!(decode("Zm8").unwrap(), b"fo");
        assert_eq!(decode("Zm9"), Err(JwtError::Base64));
    }

    #[test]
    fn refuses_impossible_length() {
        assert_eq!(decode("A"), Err(JwtError::Base64));
    }

    #[test]
    fn decode_buf_matches_decode_inline_and_on_the_heap() {
        for len in [
            0,
            1,
            2,
            3,
            INLINE_LEN - 1,
            INLINE_LEN,
            INLINE_LEN + 1,
            4 * INLINE_LEN,
        ] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 % 256) as u8).collect();
            let mut buf = DecodeBuf::new();
            let decoded = buf.decode(&encode(&data)).unwrap();
            assert_eq!(decoded, &data[..], "length {len}");
        }
        assert_eq!(DecodeBuf::new().decode("Zm9"), Err(JwtError::Base64));
        assert_eq!(
            DecodeBuf::new().decode(&format!("{}=", encode(&[1; 700]))),
            Err(JwtError::Base64)
        );
    }

    #[test]
    fn decode_exact_requires_the_exact_length() {
        let mut out = [0u8; 3];
        assert!(decode_exact(&encode(b"abc"), &mut out).is_ok());
        assert_eq!(&out, b"abc");
        assert_eq!(
            decode_exact(&encode(b"ab"), &mut out),
            Err(JwtError::Base64)
        );
        assert_eq!(
            decode_exact(&encode(b"abcd"), &mut out),
            Err(JwtError::Base64)
        );
    }
}
