//! Tokens whose public-key signature was already proven: a bounded memo of step 10.
//!
//! Verifying an EdDSA or ES256 signature costs about a hundred HMACs, but a client presents the same
//! access token on every request of its life. So the server remembers the tokens it has verified,
//! and the next time exactly the same token comes, step 10 is an equality test instead of the
//! curve arithmetic.
//!
//! Why it cannot be poisoned: an entry is the *whole token*, every byte of header, payload and
//! signature, and a hit needs all of them equal. A valid signature therefore vouches only for the
//! bytes it was checked over; the same signature under another header or payload is simply not in
//! the cache and goes through step 10 like any stranger (the test
//! `a_cached_signature_vouches_for_no_other_bytes` does exactly that). The table is found by a
//! keyed hash of the token's last bytes (its signature: unpredictable), compared in full.
//!
//! What it does not change: steps 11–16 still run on every request (an entry whose token has since
//! expired only saves step 10 before step 12 refuses it), and step 17, revocation, is the caller's
//! on every request. A key set reloaded with a key removed starts with an empty cache, so nothing
//! that key signed is vouched for after it is gone.
//!
//! Bounded: at most `capacity` entries, in shards each with its own lock. A full shard first drops
//! entries whose `exp` has passed, then the entry that expires soonest.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::{Mutex, MutexGuard};

/// Shards, each with its own lock, so two workers rarely wait on each other.
const SHARDS: usize = 16;

/// How many bytes from the token's end its hash covers: more than any signature's base64url tail
/// needs to be unpredictable (an Ed25519 signature is 86 characters).
const HASHED_TAIL: usize = 32;

/// The memo of verified tokens (see the module docs).
pub struct VerifiedCache {
    shards: Box<[Mutex<Shard>]>,
    per_shard: usize,
    hasher: RandomState,
}

#[derive(Default)]
struct Shard {
    /// Keyed by the hash of the token's tail; the entry holds the whole token to compare.
    entries: HashMap<u64, Entry, BuildHasherDefault<TagHasher>>,
}

/// The map's hasher: the key already is a keyed hash ([`VerifiedCache::tag`]), so it is used as it
/// is rather than hashed a second time.
#[derive(Default)]
struct TagHasher(u64);

impl Hasher for TagHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is called for a `u64` key; anything else is folded in all the same.
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, tag: u64) {
        self.0 = tag;
    }
}

struct Entry {
    token: Box<str>,
    exp: i64,
}

impl VerifiedCache {
    /// A cache of at most `capacity` tokens (0: remember nothing).
    pub fn new(capacity: usize) -> Self {
        VerifiedCache {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            per_shard: capacity.div_ceil(SHARDS),
            hasher: RandomState::new(),
        }
    }

    /// The most tokens it holds.
    pub fn capacity(&self) -> usize {
        self.per_shard * SHARDS
    }

    fn tag(&self, token: &str) -> u64 {
        let tail = &token.as_bytes()[token.len().saturating_sub(HASHED_TAIL)..];
        self.hasher.hash_one(tail)
    }

    fn shard(&self, tag: u64) -> MutexGuard<'_, Shard> {
        // A poisoned lock means a thread panicked while holding it; the map is still whole.
        // Middle bits: the map inside uses the tag's low bits for its slot and its top bits for its
        // control bytes, which must still differ between the entries of one shard.
        let index = ((tag >> 32) % SHARDS as u64) as usize;
        self.shards[index]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// True if exactly `token`, every byte, was verified and remembered before.
    pub fn contains(&self, token: &str) -> bool {
        if self.per_shard == 0 {
            return false;
        }
        let tag = self.tag(token);
        self.shard(tag)
            .entries
            .get(&tag)
            .is_some_and(|entry| *entry.token == *token)
    }

    /// Remembers `token`, whose signature step 10 has just proven, until its `exp` (Unix seconds).
    /// A token already past it is not kept.
    pub fn insert(&self, token: &str, exp: i64, now: i64) {
        if self.per_shard == 0 || exp <= now {
            return;
        }
        let tag = self.tag(token);
        let mut shard = self.shard(tag);
        if shard.entries.len() >= self.per_shard && !shard.entries.contains_key(&tag) {
            shard.entries.retain(|_, entry| entry.exp > now);
            if shard.entries.len() >= self.per_shard {
                let soonest = shard
                    .entries
                    .iter()
                    .min_by_key(|(_, entry)| entry.exp)
                    .map(|(tag, _)| *tag);
                if let Some(soonest) = soonest {
                    shard.entries.remove(&soonest);
                }
            }
        }
        shard.entries.insert(
            tag,
            Entry {
                token: token.into(),
                exp,
            },
        );
    }

    /// How many tokens it holds now.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.lock().map_or(0, |shard| shard.entries.len()))
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl std::fmt::Debug for VerifiedCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the tokens themselves.
        write!(f, "VerifiedCache(capacity={})", self.capacity())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_exactly_the_whole_token() {
        let cache = VerifiedCache::new(100);
        let token = "header.payload.signature-of-the-token-0123456789";
        assert!(!cache.contains(token));
        cache.insert(token, 200, 100);
        assert!(cache.contains(token));
        // The same tail (signature) under other bytes: the same slot, and no hit.
        assert!(!cache.contains("HEADER.payload.signature-of-the-token-0123456789"));
        assert!(!cache.contains("header.PAYLOAD.signature-of-the-token-0123456789"));
        assert!(!cache.contains("header.payload.signature-of-the-token-012345678"));
    }

    #[test]
    fn keeps_no_expired_token_and_stays_within_its_bound() {
        let cache = VerifiedCache::new(SHARDS * 2);
        cache.insert("expired.token.sig", 100, 100);
        assert!(cache.is_empty());
        for i in 0..1000 {
            cache.insert(&format!("h.p.signature-{i}"), 1_000 + i, 100);
        }
        assert!(cache.len() <= cache.capacity(), "{}", cache.len());
        // The latest token is kept: what a full shard drops is what expires soonest.
        assert!(cache.contains("h.p.signature-999"));
        // Entries past their exp go first, all at once, when a shard is full: every shard full of
        // tokens that expire at 150, one insert at 500 empties its shard of them (dropping only the
        // soonest would leave the cache full).
        let cache = VerifiedCache::new(SHARDS * 8);
        for i in 0..1000 {
            cache.insert(&format!("h.p.s-{i}"), 150, 100);
        }
        assert_eq!(cache.len(), SHARDS * 8);
        cache.insert("h.p.later", 10_000, 500);
        assert_eq!(cache.len(), SHARDS * 8 - 7);
        assert!(cache.contains("h.p.later"));
    }

    #[test]
    fn capacity_zero_remembers_nothing() {
        let cache = VerifiedCache::new(0);
        cache.insert("h.p.s", 200, 100);
        assert!(!cache.contains("h.p.s"));
    }
}
