//! The signing algorithms (RFC 7518 §3.1, RFC 8037 §3.1, RFC 9864): which ones this server knows, and
//! what a header may call each.
//!
//! Every key has exactly one algorithm (RFC 8725 §3.1, and its update's "one key, one algorithm"): an
//! HMAC secret is HS256, an Ed25519 key EdDSA, a P-256 key ES256, an RSA key RS256. The header's `alg`
//! is compared with the chosen key's, never obeyed ([`header`](super::header), step 5, and
//! [`keys`](super::keys), step 7).

use std::fmt;

/// An algorithm a key of ours signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// HMAC with SHA-256 (RFC 7518 §3.2): one shared secret signs and verifies.
    Hs256,
    /// Ed25519 signatures (RFC 8037 §3.1, RFC 8032): 64 bytes, deterministic.
    EdDsa,
    /// ECDSA on P-256 with SHA-256 (RFC 7518 §3.4): 64 bytes, `r ‖ s`, each 32 bytes big-endian.
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3): as long as the key's modulus.
    Rs256,
}

impl Algorithm {
    /// Every algorithm, in the order the docs list them.
    pub const ALL: [Algorithm; 4] = [
        Algorithm::Hs256,
        Algorithm::EdDsa,
        Algorithm::Es256,
        Algorithm::Rs256,
    ];

    /// The algorithm a header's `alg` names, compared exactly (`hs256` is no name). Ed25519 has two
    /// names: `EdDSA` (RFC 8037, what PyJWT, Flask-JWT-Extended, jsonwebtoken and node `jose` write)
    /// and `Ed25519` (RFC 9864's fully-specified name, which `jose` 6 also writes); both mean the same
    /// key type, so both are accepted. `none` is no algorithm.
    pub fn from_name(alg: &str) -> Option<Self> {
        match alg {
            "HS256" => Some(Algorithm::Hs256),
            "EdDSA" | "Ed25519" => Some(Algorithm::EdDsa),
            "ES256" => Some(Algorithm::Es256),
            "RS256" => Some(Algorithm::Rs256),
            _ => None,
        }
    }

    /// The name written into the headers and JWKs of our tokens: `EdDSA` for Ed25519, the one every
    /// verifier we test with knows (docs/jwt.md §11).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Hs256 => "HS256",
            Algorithm::EdDsa => "EdDSA",
            Algorithm::Es256 => "ES256",
            Algorithm::Rs256 => "RS256",
        }
    }

    /// The signature's length in bytes when the algorithm fixes it; an RSA signature is as long as
    /// its key's modulus.
    pub fn signature_len(self) -> Option<usize> {
        match self {
            Algorithm::Hs256 => Some(32),
            Algorithm::EdDsa | Algorithm::Es256 => Some(64),
            Algorithm::Rs256 => None,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_ed25519_has_two() {
        for alg in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(alg.name()), Some(alg));
        }
        assert_eq!(Algorithm::from_name("Ed25519"), Some(Algorithm::EdDsa));
        for name in [
            "none", "hs256", "HS384", "PS256", "ES256K", "ES384", "EdDSA ", "",
        ] {
            assert_eq!(Algorithm::from_name(name), None, "{name:?}");
        }
    }
}
