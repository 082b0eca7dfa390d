//! Just enough DER (X.690) to read a SubjectPublicKeyInfo (RFC 5280 §4.1.2.7): the form of a
//! `-----BEGIN PUBLIC KEY-----` file, which `token inspect --public-key` reads. `ring` reads the
//! private keys (PKCS#8) itself; it has no reader for public key files.
//!
//! A DER value is a tag byte, a length, then that many bytes. Only what the three key types need is
//! here: one-byte tags, definite lengths up to four bytes, no indefinite forms.

/// The value of the DER element with tag `tag` at the start of `input`, and what follows it.
pub fn element(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&found, rest) = input.split_first()?;
    if found != tag {
        return None;
    }
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        // Long form: the low bits say how many length bytes follow (at most 4 here).
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (bytes, after) = rest.split_at(count);
        rest = after;
        let len = bytes
            .iter()
            .fold(0usize, |len, &b| len << 8 | usize::from(b));
        // DER: the shortest form, so a long form only for lengths of 128 and up.
        if len < 0x80 || bytes[0] == 0 {
            return None;
        }
        len
    };
    (rest.len() >= len).then(|| rest.split_at(len))
}

pub const SEQUENCE: u8 = 0x30;
pub const INTEGER: u8 = 0x02;
pub const BIT_STRING: u8 = 0x03;
pub const OID: u8 = 0x06;

/// id-Ed25519 (RFC 8410 §3): 1.3.101.112.
pub const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
/// id-ecPublicKey (RFC 5480 §2.1.1): 1.2.840.10045.2.1.
pub const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// secp256r1, that is P-256 (RFC 5480 §2.1.1.1): 1.2.840.10045.3.1.7.
pub const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// rsaEncryption (RFC 8017 appendix C): 1.2.840.113549.1.1.1.
pub const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// A SubjectPublicKeyInfo taken apart: the algorithm's OID, its parameter's OID if it has one (the
/// curve of an EC key), and the key bytes of the BIT STRING.
pub struct Spki<'a> {
    pub algorithm: &'a [u8],
    pub parameter: Option<&'a [u8]>,
    pub key: &'a [u8],
}

/// Reads `SEQUENCE { SEQUENCE { OID, parameters }, BIT STRING }`, and nothing after it.
pub fn spki(der: &[u8]) -> Option<Spki<'_>> {
    let (info, rest) = element(der, SEQUENCE)?;
    if !rest.is_empty() {
        return None;
    }
    let (identifier, bits) = element(info, SEQUENCE)?;
    let (algorithm, parameters) = element(identifier, OID)?;
    let parameter = element(parameters, OID).map(|(oid, _)| oid);
    let (bit_string, rest) = element(bits, BIT_STRING)?;
    // The first byte counts the unused bits of the last one: a key is whole bytes.
    let (&0, key) = bit_string.split_first()? else {
        return None;
    };
    rest.is_empty().then_some(Spki {
        algorithm,
        parameter,
        key,
    })
}

/// An RSAPublicKey (RFC 8017 §A.1.1), `SEQUENCE { INTEGER n, INTEGER e }`: `n` and `e` big-endian,
/// without the zero byte DER puts before a high bit.
pub fn rsa_public_key(der: &[u8]) -> Option<(&[u8], &[u8])> {
    let (fields, rest) = element(der, SEQUENCE)?;
    let (n, fields) = element(fields, INTEGER)?;
    let (e, fields) = element(fields, INTEGER)?;
    (rest.is_empty() && fields.is_empty()).then(|| (positive(n), positive(e)))
}

/// A DER INTEGER's bytes without the sign byte a positive number with its high bit set gets.
fn positive(int: &[u8]) -> &[u8] {
    int.strip_prefix(&[0]).unwrap_or(int)
}
