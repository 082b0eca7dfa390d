//! The server's set of public-key keys, each in one state of its life, and how step 7 chooses among
//! them (Keycloak's active/passive keys, Auth0's "next" key, ZITADEL's initial/active/inactive):
//!
//! - **next**: published in the JWKS, signing nothing yet, so every verifier has it before the first
//!   token it signs arrives ("publish before you sign");
//! - **active**: signs every new token; exactly one;
//! - **retired**: signs nothing, still published and still verifying until the last token it signed
//!   has expired, then dropped (by whoever loads the set: `auth/keys.rs`).
//!
//! Where the states are kept on disk and how `hyperjwt keys rotate` moves them along is outside this
//! module; here the set is plain data, checked and ready for the pipeline. HS256 keys may sit
//! beside it (the old secret, still verifying tokens issued before the switch), never published.

use super::JwtError;
use super::algorithm::Algorithm;
use super::asymmetric::{PrivateKey, PublicKey};
use super::cache::VerifiedCache;
use super::keys::{Key, KeyRing, KeySource, choose};

/// Where a key is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    Next,
    Active,
    Retired,
}

impl KeyState {
    pub fn name(self) -> &'static str {
        match self {
            KeyState::Next => "next",
            KeyState::Active => "active",
            KeyState::Retired => "retired",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "next" => Some(KeyState::Next),
            "active" => Some(KeyState::Active),
            "retired" => Some(KeyState::Retired),
            _ => None,
        }
    }
}

/// The keys, their states, and the memo of tokens they verified.
#[derive(Debug)]
pub struct KeySet {
    keys: Vec<(PrivateKey, KeyState)>,
    active: usize,
    hs256: Option<KeyRing>,
    cache: VerifiedCache,
}

/// Why a list of keys is not a key set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySetError {
    /// Not exactly one active key: how many there are.
    Active(usize),
    /// Two keys with one `kid`: the same key twice.
    Duplicate(String),
}

impl std::fmt::Display for KeySetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySetError::Active(n) => write!(f, "{n} active keys; exactly one signs"),
            KeySetError::Duplicate(kid) => write!(f, "the key {kid} is listed twice"),
        }
    }
}

impl std::error::Error for KeySetError {}

impl KeySet {
    /// A set of `keys`, exactly one of them active, remembering up to `cache_capacity` verified
    /// tokens; `hs256`, if given, still verifies (never signs) HS256 tokens.
    pub fn new(
        keys: Vec<(PrivateKey, KeyState)>,
        hs256: Option<KeyRing>,
        cache_capacity: usize,
    ) -> Result<Self, KeySetError> {
        let active: Vec<usize> = (0..keys.len())
            .filter(|&i| keys[i].1 == KeyState::Active)
            .collect();
        let [active] = active[..] else {
            return Err(KeySetError::Active(active.len()));
        };
        for (i, (key, _)) in keys.iter().enumerate() {
            if keys[..i].iter().any(|(other, _)| other.kid() == key.kid()) {
                return Err(KeySetError::Duplicate(key.kid().to_string()));
            }
        }
        Ok(KeySet {
            keys,
            active,
            hs256,
            cache: VerifiedCache::new(cache_capacity),
        })
    }

    /// The key that signs new tokens.
    pub fn signing_key(&self) -> &PrivateKey {
        &self.keys[self.active].0
    }

    /// Every key with its state, in the set's order.
    pub fn keys(&self) -> impl Iterator<Item = (&PrivateKey, KeyState)> {
        self.keys.iter().map(|(key, state)| (key, *state))
    }

    /// What the JWKS publishes: the public half of every key, next, active and retired alike.
    pub fn public_keys(&self) -> impl Iterator<Item = &PublicKey> {
        self.keys.iter().map(|(key, _)| key.public())
    }

    pub fn cache(&self) -> &VerifiedCache {
        &self.cache
    }
}

impl KeySource for KeySet {
    fn accepts(&self, alg: Algorithm) -> bool {
        (alg == Algorithm::Hs256 && self.hs256.is_some())
            || self.keys.iter().any(|(key, _)| key.alg() == alg)
    }

    fn key_for(&self, alg: Algorithm, kid: Option<&str>) -> Result<Key<'_>, JwtError> {
        let public = || self.keys.iter().map(|(key, _)| Key::Public(key.public()));
        match &self.hs256 {
            // HS256 tokens go to the HMAC keys as they always did, unless their `kid` names one of
            // the public keys: then it is a key of another algorithm, and refused.
            Some(ring) if alg == Algorithm::Hs256 => {
                if kid.is_some_and(|kid| public().any(|key| key.kid() == kid)) {
                    return Err(JwtError::Algorithm);
                }
                Ok(Key::Hs256(ring.hs256_for(kid)))
            }
            _ => choose(public(), alg, kid),
        }
    }

    fn key_with_header(&self, encoded_header: &str) -> Option<Key<'_>> {
        self.keys
            .iter()
            .find(|(key, _)| key.encoded_header() == encoded_header)
            .map(|(key, _)| Key::Public(key.public()))
            .or_else(|| {
                self.hs256
                    .as_ref()?
                    .with_header(encoded_header)
                    .map(Key::Hs256)
            })
    }

    fn verified(&self) -> Option<&VerifiedCache> {
        Some(&self.cache)
    }
}
