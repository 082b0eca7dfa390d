//! Small byte helpers the crate needs in several places: lowercase hex, percent-decoding, UUID
//! text, and a fixed-size
//! 16-byte digest that stands for a string of any length (a username, a `jti` that is not a UUID),
//! so tables keyed by it hold 16 bytes per entry whatever an attacker sends.

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Appends `bytes` as lowercase hex, two digits per byte.
pub fn push_hex(bytes: &[u8], out: &mut String) {
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
}

/// `bytes` as lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    push_hex(bytes, &mut out);
    out
}

/// The value of one hex digit, either case.
pub fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` escapes (RFC 3986 §2.1), and `+` as a space when `plus_is_space` (a form body,
/// the URL standard's `application/x-www-form-urlencoded`). `None` for a broken escape or bytes
/// that are not UTF-8.
pub fn percent_decode(text: &str, plus_is_space: bool) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                // Two hex digits exactly (`from_str_radix` would also take a sign: `%+f`).
                let [high, low] = *bytes.get(i + 1..i + 3)? else {
                    return None;
                };
                out.push(hex_digit(high)? << 4 | hex_digit(low)?);
                i += 3;
                continue;
            }
            b'+' if plus_is_space => out.push(b' '),
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Exactly `2 * N` hex digits to `N` bytes.
pub fn from_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let digits = text.as_bytes();
    if digits.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = (hex_digit(pair[0])? << 4) | hex_digit(pair[1])?;
    }
    Some(out)
}

/// A UUID's `8-4-4-4-12` hex digits (either case) to its 16 bytes.
pub fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    let bytes = text.as_bytes();
    if bytes.len() != 36 {
        return None;
    }
    let mut out = [0u8; 16];
    let mut at = 0;
    for byte in &mut out {
        if matches!(at, 8 | 13 | 18 | 23) {
            if bytes[at] != b'-' {
                return None;
            }
            at += 1;
        }
        *byte = (hex_digit(bytes[at])? << 4) | hex_digit(bytes[at + 1])?;
        at += 2;
    }
    Some(out)
}

/// 16 bytes as a UUID's `8-4-4-4-12` lowercase hex digits.
pub fn uuid_text(b: &[u8; 16]) -> String {
    let mut out = String::with_capacity(36);
    for (i, group) in [&b[..4], &b[4..6], &b[6..8], &b[8..10], &b[10..]]
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            out.push('-');
        }
        push_hex(group, &mut out);
    }
    out
}

/// The first 16 bytes of the SHA-256 of `bytes`: collisions are out of reach, and the key is small.
pub fn digest16(bytes: &[u8]) -> [u8; 16] {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest.as_ref()[..16]);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_takes_exactly_two_hex_digits() {
        assert_eq!(
            percent_decode("p%40ss%3a+x", false).as_deref(),
            Some("p@ss:+x")
        );
        assert_eq!(percent_decode("a+b%2B", true).as_deref(), Some("a b+"));
        for broken in ["%+f", "%-1", "%4", "%", "%zz", "%ff"] {
            assert_eq!(percent_decode(broken, true), None, "{broken}");
        }
    }

    #[test]
    fn hex_round_trips_and_refuses_bad_text() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(from_hex::<4>("000fa5ff"), Some([0x00, 0x0f, 0xa5, 0xff]));
        assert_eq!(from_hex::<4>("000FA5FF"), Some([0x00, 0x0f, 0xa5, 0xff]));
        assert_eq!(from_hex::<4>("000fa5f"), None);
        assert_eq!(from_hex::<4>("000fa5fg"), None);
    }

    #[test]
    fn uuids_round_trip() {
        let text = "a30d76cc-2687-4872-9b01-716c5da5661b";
        let bytes = parse_uuid(text).unwrap();
        assert_eq!(uuid_text(&bytes), text);
        assert_eq!(parse_uuid("a30d76cc-2687-4872-9b01-716c5da5661"), None);
        assert_eq!(parse_uuid("a30d76cc+2687-4872-9b01-716c5da5661b"), None);
    }

    #[test]
    fn digest16_is_the_sha256_prefix() {
        // SHA-256("abc") = ba7816bf 8f01cfea 414140de 5dae2223 ...
        assert_eq!(hex(&digest16(b"abc")), "ba7816bf8f01cfea414140de5dae2223");
    }
}
