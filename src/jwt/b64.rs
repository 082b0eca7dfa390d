//! base64url without padding, the only encoding JWS compact serialization allows (RFC 7515 §2, RFC 4648 §5).
//!
//! Decoding is strict on purpose: `=` padding, the `+`/`/` alphabet and non-zero trailing bits are all
//! refused, so every token has exactly one spelling and a signature can't be "re-spelled" past a denylist.
//!
//! The decoder is written out here rather than taken from the `base64` crate: it is on every
//! request's path (the payload and the signature of each token), and a table lookup per character,
//! eight characters to six bytes per step, is all strict base64url needs. Encoding, which only
//! signing does, stays with the crate. The tests check the two agree on every input they try.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::JwtError;

/// Segments whose decoded form fits in this many bytes decode onto the stack. Our own payloads are
/// ~200 bytes and Flask-JWT-Extended's ~300, so verification of an ordinary token allocates nothing.
pub const INLINE_LEN: usize = 512;

/// The URL-safe alphabet of RFC 4648 §5: the character for each 6-bit value.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Marks a byte that is not in [`ALPHABET`] in [`VALUES`]: all bits set. The values of the alphabet
/// have 6 bits, so eight characters put together fill 48 bits (four fill 24), and a character
/// outside it sets every bit above them, wherever it stands in the step: one test after the loop
/// finds any of them.
const NOT_BASE64URL: u64 = u64::MAX;

/// The 6-bit value of each byte, or [`NOT_BASE64URL`]: `=`, `+`, `/` and everything else.
const VALUES: [u64; 256] = {
    let mut values = [NOT_BASE64URL; 256];
    let mut i = 0;
    while i < 64 {
        values[ALPHABET[i] as usize] = i as u64;
        i += 1;
    }
    values
};

/// The 6-bit value of `c`, or [`NOT_BASE64URL`].
fn value(c: u8) -> u64 {
    VALUES[usize::from(c)]
}

/// How many bytes `encoded_len` characters decode to, or `None` for a length no unpadded encoding
/// has (one character left over carries only 6 of a byte's 8 bits, RFC 4648 §4).
pub fn decoded_len(encoded_len: usize) -> Option<usize> {
    let tail = match encoded_len % 4 {
        0 => 0,
        1 => return None,
        2 => 1,
        _ => 2,
    };
    Some(encoded_len / 4 * 3 + tail)
}

/// Decodes `segment` into the start of `out`, which must hold at least [`decoded_len`] bytes, and
/// returns how many it wrote.
///
/// Four characters make three bytes (taken eight at a time while there are eight, for half the
/// steps and one store per six bytes). A last group of two or three characters makes one or two
/// bytes, and the bits it has beyond them must be zero: otherwise two spellings would decode to the
/// same bytes (RFC 4648 §3.5, "canonical encoding").
fn decode_into(segment: &[u8], out: &mut [u8]) -> Result<usize, JwtError> {
    let len = decoded_len(segment.len()).ok_or(JwtError::Base64)?;
    let out = out.get_mut(..len).ok_or(JwtError::Base64)?;
    // Eight characters make six bytes: whole steps of those first, then one group of four if left.
    let mut steps = segment.chunks_exact(8);
    let mut six = out.chunks_exact_mut(6);
    // Every step's bits, or-ed together: above 48 bits if any character is outside the alphabet.
    let mut seen_in_steps = 0;
    for (step, bytes) in steps.by_ref().zip(six.by_ref()) {
        let bits = step.iter().fold(0, |bits, &c| bits << 6 | value(c));
        seen_in_steps |= bits;
        bytes.copy_from_slice(&bits.to_be_bytes()[2..]);
    }
    if seen_in_steps >> 48 != 0 {
        return Err(JwtError::Base64);
    }
    let mut groups = steps.remainder().chunks_exact(4);
    let mut whole = six.into_remainder().chunks_exact_mut(3);
    // Every group's bits, or-ed together: above 24 bits if any character is outside the alphabet.
    let mut seen = 0;
    for (group, bytes) in groups.by_ref().zip(whole.by_ref()) {
        let bits =
            value(group[0]) << 18 | value(group[1]) << 12 | value(group[2]) << 6 | value(group[3]);
        seen |= bits;
        bytes.copy_from_slice(&bits.to_be_bytes()[5..]);
    }
    // The last two or three characters, placed as in a whole group.
    let bits = match *groups.remainder() {
        [] => 0,
        [a, b] => value(a) << 18 | value(b) << 12,
        [a, b, c] => value(a) << 18 | value(b) << 12 | value(c) << 6,
        // `decoded_len` refused one character left over.
        _ => return Err(JwtError::Base64),
    };
    seen |= bits;
    let [.., x, y, z] = bits.to_be_bytes();
    // Two characters are 12 bits for one byte, three are 18 for two: the bits past the last
    // whole byte must be zero.
    let left_over = match whole.into_remainder() {
        [] => 0,
        [first] => {
            *first = x;
            y | z
        }
        [first, second] => {
            *first = x;
            *second = y;
            z
        }
        _ => return Err(JwtError::Base64),
    };
    if seen >> 24 != 0 || left_over != 0 {
        return Err(JwtError::Base64);
    }
    Ok(len)
}

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
    let mut out = vec![0; decoded_len(segment.len()).ok_or(JwtError::Base64)?];
    decode_into(segment.as_bytes(), &mut out)?;
    Ok(out)
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
        if decoded_len(segment.len()).is_some_and(|len| len <= INLINE_LEN) {
            let len = decode_into(segment.as_bytes(), &mut self.inline)?;
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
    if decoded_len(segment.len()) != Some(out.len()) {
        return Err(JwtError::Base64);
    }
    decode_into(segment.as_bytes(), out).map(|_| ())
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
        // Any length ≡ 1 (mod 4), whatever the characters.
        for len in [1, 5, 9, 45, 4 * INLINE_LEN + 1] {
            let segment = "A".repeat(len);
            assert_eq!(decode(&segment), Err(JwtError::Base64), "length {len}");
            assert_eq!(
                DecodeBuf::new().decode(&segment),
                Err(JwtError::Base64),
                "length {len}"
            );
        }
    }

    #[test]
    fn refuses_a_character_outside_the_alphabet_wherever_it_is() {
        // A valid 15-character segment (11 bytes: one step of eight, one group of four, then
        // three), spoiled one position at a time: in the step, in the group, in the last three,
        // and as the last character.
        let good = encode(b"foobarbazqu");
        assert_eq!(good.len(), 15);
        for bad in [b'=', b'+', b'/', b'.', b' ', b'\0', b'\x80', b'\xff'] {
            for at in 0..good.len() {
                let mut segment = good.clone().into_bytes();
                segment[at] = bad;
                assert_eq!(
                    decode_into(&segment, &mut [0; 16]),
                    Err(JwtError::Base64),
                    "{bad:#x} at {at}"
                );
            }
        }
    }

    #[test]
    fn refuses_padding_in_every_form() {
        for padded in ["Zm8=", "Zg==", "Zm9v====", "=", "==", "Zm9v=", "Zm=8"] {
            assert_eq!(decode(padded), Err(JwtError::Base64), "{padded}");
        }
    }

    #[test]
    fn refuses_each_non_zero_trailing_bit() {
        // Two characters carry 12 bits for one byte: the second's low 4 bits must be zero.
        // "Zg" is "f" (0x66); Z = 25, g = 32 = 0b100000.
        assert_eq!(decode("Zg").unwrap(), b"f");
        for stray in [1u8, 2, 4, 8] {
            let c = ALPHABET[usize::from(32 + stray)] as char;
            assert_eq!(decode(&format!("Z{c}")), Err(JwtError::Base64), "Z{c}");
        }
        // Three characters carry 18 bits for two bytes: the third's low 2 bits must be zero.
        // "Zm8" is "fo"; 8 = 60 = 0b111100.
        for stray in [1u8, 2] {
            let c = ALPHABET[usize::from(60 + stray)] as char;
            assert_eq!(decode(&format!("Zm{c}")), Err(JwtError::Base64), "Zm{c}");
        }
        // The same after whole groups, in each decoder.
        let mut out = [0u8; 4];
        assert_eq!(decode_exact("Zm9vZh", &mut out), Err(JwtError::Base64));
        assert_eq!(DecodeBuf::new().decode("Zm9vZm9"), Err(JwtError::Base64));
    }

    #[test]
    fn the_decoded_length_of_each_remainder() {
        assert_eq!(decoded_len(0), Some(0));
        assert_eq!(decoded_len(1), None);
        assert_eq!(decoded_len(2), Some(1));
        assert_eq!(decoded_len(3), Some(2));
        assert_eq!(decoded_len(4), Some(3));
        assert_eq!(decoded_len(43), Some(32));
    }

    proptest::proptest! {
        /// The decoder written here and the `base64` crate's strict URL-safe decoder (no padding,
        /// no trailing bits) accept exactly the same strings, with the same bytes. Strings are drawn
        /// mostly from the alphabet, so many are valid, with padding and the standard alphabet's
        /// characters mixed in.
        #[test]
        fn agrees_with_the_base64_crate(segment in "[A-Za-z0-9_=+/-]{0,12}|[A-Za-z0-9_-]{0,70}") {
            let crate_says = URL_SAFE_NO_PAD.decode(&segment).ok();
            proptest::prop_assert_eq!(decode(&segment).ok(), crate_says.clone());
            let mut buf = DecodeBuf::new();
            proptest::prop_assert_eq!(buf.decode(&segment).ok().map(<[u8]>::to_vec), crate_says);
        }

        /// Every byte string survives the trip through `encode` and `decode`.
        #[test]
        fn round_trips_any_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            proptest::prop_assert_eq!(decode(&encode(&bytes)).unwrap(), bytes.clone());
            let mut buf = DecodeBuf::new();
            proptest::prop_assert_eq!(buf.decode(&encode(&bytes)).unwrap(), &bytes[..]);
        }
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
