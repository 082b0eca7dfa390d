//! The revocations in memory: 16-byte keys (a `jti`, a family, a user) in a sharded map of key →
//! value, each value knowing until when it matters ([`Expiring`]).
//!
//! Lookups are cheap and rarely contend: the map is split into shards, each behind its own
//! `RwLock` (readers share a shard), and an empty map answers with one atomic load. Entries are
//! pruned once no token they cover can still be alive, so memory is bounded by those tokens.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::RwLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::bytes::{digest16, from_hex, hex, parse_uuid};

/// Shards of the set. More than the cores of any small host, so two lookups rarely share a lock.
const SHARDS: usize = 16;

/// A `jti` or a family (`fam`), compacted to 16 bytes: a UUID (what we and Flask-JWT-Extended issue)
/// is parsed to its 16 bytes; any other string is represented by the first 16 bytes of its SHA-256.
/// A user's key is always the digest of the name ([`JtiKey::of_user`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct JtiKey([u8; 16]);

/// A key's bytes are already uniformly random (a UUID v4's, or a SHA-256 prefix), and only ids
/// of tokens the server's key signed are ever looked up or inserted, so no client can choose them:
/// hashing them again (SipHash, for the shard and for the map) would buy nothing. The map hashes a
/// key's first 8 bytes, and the shard is chosen by its last byte, so the two are independent.
impl Hash for JtiKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let mut first = [0u8; 8];
        first.copy_from_slice(&self.0[..8]);
        state.write_u64(u64::from_le_bytes(first));
    }
}

/// The hasher for [`JtiKey`]s: the `u64` a key writes is its hash.
#[derive(Default)]
struct KeyBytes(u64);

impl Hasher for KeyBytes {
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }

    fn write(&mut self, bytes: &[u8]) {
        // Not used by JtiKey; folds any other input so the type is still a correct Hasher.
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A family's key is a UUID v7, whose first 6 bytes are its start time (not random): the map
/// hashes by the first 8 bytes, so family keys are hashed by their random tail instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FamilyKey(pub(super) JtiKey);

impl Hash for FamilyKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let mut last = [0u8; 8];
        last.copy_from_slice(&(self.0).0[8..]);
        state.write_u64(u64::from_le_bytes(last));
    }
}

/// What an entry keeps, and until when it matters: after that no token it covers can still be
/// alive, and the entry is pruned.
pub(super) trait Expiring: Copy {
    fn until(&self) -> i64;
}

/// A revoked `jti`'s `exp`, or a revoked family's end.
impl Expiring for i64 {
    fn until(&self) -> i64 {
        *self
    }
}

/// A user's cutoff: every session that started at or before `at_ms` (Unix milliseconds) is ended;
/// the entry is kept until `until` (Unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cutoff {
    pub at_ms: i64,
    pub until: i64,
}

impl Expiring for Cutoff {
    fn until(&self) -> i64 {
        self.until
    }
}

/// The keys a set can hold: a 16-byte key, hashed as above, sharded by its last byte.
pub(super) trait SetKey: Copy + Eq + Hash {
    fn bytes(&self) -> &[u8; 16];
}

impl SetKey for JtiKey {
    fn bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl SetKey for FamilyKey {
    fn bytes(&self) -> &[u8; 16] {
        &(self.0).0
    }
}

type Shard<K, V> = RwLock<HashMap<K, V, BuildHasherDefault<KeyBytes>>>;

impl JtiKey {
    pub(super) fn of(jti: &str) -> Self {
        JtiKey(parse_uuid(jti).unwrap_or_else(|| digest16(jti.as_bytes())))
    }

    /// A user's key: the digest of the name, whatever its shape (`crate::bytes::digest16`).
    pub(super) fn of_user(user: &str) -> Self {
        JtiKey(digest16(user.as_bytes()))
    }

    /// The 32 hex digits the journal writes.
    pub(super) fn to_hex(self) -> String {
        hex(&self.0)
    }

    pub(super) fn from_hex(text: &str) -> Option<Self> {
        from_hex(text).map(JtiKey)
    }
}

/// One kind of revocation in memory, sharded. Shared by the [`Denylist`](super::Denylist) and its
/// journal writer, which snapshots it when it compacts the file.
pub(super) struct RevokedSet<K = JtiKey, V = i64> {
    shards: Vec<Shard<K, V>>,
    len: AtomicUsize,
}

impl<K: SetKey, V: Expiring> RevokedSet<K, V> {
    pub(super) fn new() -> Self {
        RevokedSet {
            shards: (0..SHARDS).map(|_| Shard::default()).collect(),
            len: AtomicUsize::new(0),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    fn shard(&self, key: &K) -> &Shard<K, V> {
        &self.shards[usize::from(key.bytes()[15]) % SHARDS]
    }

    pub(super) fn contains(&self, key: &K) -> bool {
        // A poisoned lock only means another thread panicked mid-insert; the map is still usable.
        let shard = self.shard(key).read().unwrap_or_else(|e| e.into_inner());
        shard.contains_key(key)
    }

    pub(super) fn get(&self, key: &K) -> Option<V> {
        let shard = self.shard(key).read().unwrap_or_else(|e| e.into_inner());
        shard.get(key).copied()
    }

    /// Adds an entry. Returns false if it was already there.
    pub(super) fn insert(&self, key: K, value: V) -> bool {
        let mut shard = self.shard(&key).write().unwrap_or_else(|e| e.into_inner());
        if shard.contains_key(&key) {
            return false;
        }
        shard.insert(key, value);
        self.len.fetch_add(1, Ordering::Release);
        true
    }

    /// Adds an entry, or replaces the one there with `merge(old, value)`. Returns what is stored.
    pub(super) fn merge(&self, key: K, value: V, merge: impl FnOnce(V, V) -> V) -> V {
        let mut shard = self.shard(&key).write().unwrap_or_else(|e| e.into_inner());
        let stored = match shard.get(&key) {
            Some(old) => merge(*old, value),
            None => {
                self.len.fetch_add(1, Ordering::Release);
                value
            }
        };
        shard.insert(key, stored);
        stored
    }

    /// Drops every entry that no longer matters at `now`. Returns how many were dropped.
    pub(super) fn prune(&self, now: i64) -> usize {
        let mut dropped = 0;
        for shard in &self.shards {
            let mut shard = shard.write().unwrap_or_else(|e| e.into_inner());
            let before = shard.len();
            shard.retain(|_, value| value.until() > now);
            if shard.len() < before / 4 {
                shard.shrink_to_fit();
            }
            dropped += before - shard.len();
        }
        self.len.fetch_sub(dropped, Ordering::Release);
        dropped
    }

    /// Every live entry, for compaction.
    pub(super) fn entries(&self) -> Vec<(K, V)> {
        let mut all = Vec::with_capacity(self.len());
        for shard in &self.shards {
            let shard = shard.read().unwrap_or_else(|e| e.into_inner());
            all.extend(shard.iter().map(|(k, v)| (*k, *v)));
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn uuid_jtis_compact_to_their_bytes_and_others_to_a_digest() {
        let key = JtiKey::of("a30d76cc-2687-4872-9b01-716c5da5661b");
        assert_eq!(key.to_hex(), "a30d76cc268748729b01716c5da5661b");
        assert_eq!(
            JtiKey::from_hex("a30d76cc268748729b01716c5da5661b"),
            Some(key)
        );
        let other = JtiKey::of("not-a-uuid");
        assert_eq!(other, JtiKey::of("not-a-uuid"));
        assert_ne!(other, JtiKey::of("not-a-uuid2"));
        // A user is always digested, even when the name looks like a UUID.
        let uuid = "a30d76cc-2687-4872-9b01-716c5da5661b";
        assert_ne!(JtiKey::of_user(uuid), JtiKey::of(uuid));
    }

    #[test]
    fn cutoffs_merge_and_prune_by_their_own_end() {
        let set: RevokedSet<JtiKey, Cutoff> = RevokedSet::new();
        let key = JtiKey::of_user("user1");
        let later = |a: Cutoff, b: Cutoff| Cutoff {
            at_ms: a.at_ms.max(b.at_ms),
            until: a.until.max(b.until),
        };
        set.merge(
            key,
            Cutoff {
                at_ms: 5_000,
                until: 100,
            },
            later,
        );
        set.merge(
            key,
            Cutoff {
                at_ms: 4_000,
                until: 90,
            },
            later,
        );
        assert_eq!(
            set.get(&key),
            Some(Cutoff {
                at_ms: 5_000,
                until: 100
            })
        );
        assert_eq!(set.len(), 1);
        assert_eq!(set.prune(99), 0);
        assert_eq!(set.prune(100), 1);
        assert_eq!(set.get(&key), None);
        assert_eq!(set.len(), 0);
    }
}
