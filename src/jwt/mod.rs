//! A small, readable HS256 JSON Web Token implementation (RFC 7519 on RFC 7515 JWS, RFC 7518 HMAC).
//!
//! A token is three base64url segments, `header.payload.signature`:
//!
//! ```text
//! eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6Ii4uLiJ9 . eyJzdWIiOiJ1c2VyMSIsImlhdCI6... . rky-4w8u...
//! └── {"alg":"HS256","typ":"JWT","kid":"..."} ─────┘   └── the claims (JSON) ────┘   └ HMAC-SHA256(key,
//!                                                                                        "header.payload")
//! ```
//!
//! Reading order for learners: [`b64`] (the encoding), [`header`] (what we refuse and why), [`hs256`]
//! (sign, and verify step by step), [`claims`] (what the payload says and the time/type checks),
//! [`error`] (every way a token can fail).
//!
//! One real token taken apart byte by byte, and every check with its RFC section: `docs/jwt.md`.
//!
//! This module knows nothing of HTTP: bytes, claims and keys go in, a typed result comes out, so it can
//! be tested and benchmarked alone.

pub mod b64;
pub mod claims;
pub mod error;
pub mod header;
pub mod hs256;

pub use claims::{Audience, Claims, TokenType, Validation};
pub use error::JwtError;
pub use hs256::{
    Hs256Key, KeyRing, KeySource, Segments, check_length, check_signature, sign, split, verify,
    verify_signature,
};

/// The current time as a NumericDate (RFC 7519 §2): whole seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
