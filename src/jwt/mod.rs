//! A small, readable JSON Web Token implementation (RFC 7519 on RFC 7515 JWS): HS256 (RFC 7518 HMAC)
//! by default, and EdDSA, ES256 and RS256 with public keys that other services verify through a JWKS.
//!
//! A token is three base64url segments, `header.payload.signature`:
//!
//! ```text
//! eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6Ii4uLiJ9 . eyJzdWIiOiJ1c2VyMSIsImlhdCI6... . rky-4w8u...
//! └── {"alg":"HS256","typ":"JWT","kid":"..."} ─────┘   └── the claims (JSON) ────┘   └ HMAC-SHA256(key,
//!                                                                                        "header.payload")
//! ```
//!
//! Reading order for learners, one concept a file:
//!
//! 1. [`b64`]: the encoding, strict so each token has one spelling;
//! 2. [`compact`]: the three segments, taken apart without decoding;
//! 3. [`header`]: the JOSE header, and what we refuse in it and why;
//! 4. [`keys`]: the HMAC keys, their `kid`, and how a token's `kid` only selects among ours;
//!    [`algorithm`], [`asymmetric`] (with [`pem`] and [`der`]), [`jwk`] and [`key_set`]: public keys,
//!    their thumbprints, the JWKS, and a set of keys with a lifecycle;
//! 5. [`sign`](mod@sign): making a token;
//! 6. [`claims`]: what the payload says (RFC 7519 §4);
//! 7. [`validation`]: the rules the claims must meet now (RFC 7519 §4.1, §7.2);
//! 8. [`steps`]: every check a token goes through, numbered once ([`Step`]);
//! 9. [`verify`](mod@verify): the pipeline that runs them, in that order, beside RFC 7515 §5.2 and RFC 7519 §7.2;
//! 10. [`error`]: every way a token can fail;
//! 11. [`cache`]: the memo of public-key tokens already verified, and why it can't be poisoned.
//!
//! One real token taken apart byte by byte, and every step with its RFC section: `docs/jwt.md`.
//!
//! This module knows nothing of HTTP: bytes, claims and keys go in, a typed result comes out, so it can
//! be tested and benchmarked alone.

pub mod algorithm;
pub mod asymmetric;
pub mod b64;
pub mod cache;
pub mod claims;
pub mod compact;
pub mod der;
pub mod error;
pub mod header;
pub mod jwk;
pub mod key_set;
pub mod keys;
pub mod pem;
pub mod sign;
pub mod steps;
pub mod token_type;
pub mod validation;
pub mod verify;

#[cfg(test)]
mod testing;

pub use algorithm::Algorithm;
pub use asymmetric::{KeyError, PrivateKey, PublicKey};
pub use b64::DecodeBuf;
pub use cache::VerifiedCache;
pub use claims::{Audience, Claims};
pub use compact::{DEFAULT_MAX_TOKEN_LEN, SIGNATURE_LEN, Segments, check_length, split};
pub use error::JwtError;
pub use jwk::JwkSet;
pub use key_set::{KeySet, KeySetError, KeyState};
pub use keys::{Hs256Key, Key, KeyRing, KeySource};
pub use sign::{sign, sign_with};
pub use steps::{Found, Observer, Outcome, Quiet, Step};
pub use token_type::TokenType;
pub use validation::Validation;
pub use verify::{Rules, verify, verify_observed, verify_signature};

/// True if the JSON text `json` opens an object: its first byte after JSON whitespace (RFC 8259 §2:
/// space, tab, line feed, carriage return) is `{`.
///
/// RFC 7515 §5.2 step 3 wants the JOSE header to be a JSON object, RFC 7519 §7.2 step 10 the claims
/// set. serde's derived `Deserialize` for a struct also reads a JSON *array* by position (`["HS256"]`
/// fills `alg`), so [`Header::parse`](header::Header::parse) and [`Claims::parse`] call this before
/// serde. Together they are exact: serde then parses the whole text as one value, and a value that
/// starts with `{` is an object. It costs one byte comparison (our own tokens have no leading
/// whitespace).
pub fn starts_with_object(json: &[u8]) -> bool {
    json.iter()
        .find(|byte| !matches!(byte, b' ' | b'\t' | b'\n' | b'\r'))
        .is_some_and(|&byte| byte == b'{')
}

/// The current time as a NumericDate (RFC 7519 §2): whole seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::starts_with_object;

    #[test]
    fn only_an_opening_brace_after_json_whitespace_starts_an_object() {
        for json in ["{", "{}", " \t\r\n{\"a\":1}"] {
            assert!(starts_with_object(json.as_bytes()), "{json:?}");
        }
        // Form feed and no-break space are not JSON whitespace (RFC 8259 §2).
        for json in [
            "", " ", "[]", "[{}]", "\"{\"", "null", "7", "\u{c}{}", "\u{a0}{}",
        ] {
            assert!(!starts_with_object(json.as_bytes()), "{json:?}");
        }
    }
}
