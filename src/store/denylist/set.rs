//! The revoked ids in memory: `jti`s compacted to 16-byte keys, in a sharded set of key → `exp`.
//!
//! Lookups are cheap and rarely contend: the set is split into shards, each behind its own
//! `RwLock` (readers share a shard). Entries are pruned once their token has expired, so memory is
//! bounded by the revoked tokens still alive.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::RwLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::bytes::{digest16, from_hex, hex, hex_digit};

/// Shards of the set. More than the cores of any small host, so two lookups rarely share a lock.
const SHARDS: usize = 16;

/// A `jti`, compacted to 16 bytes: a UUID (what we and Flask-JWT-Extended issue) is parsed to its
/// 16 bytes; any other string is represented by the first 16 bytes of its SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct JtiKey([u8; 16]);

impl JtiKey {
    pub(super) fn of(jti: &str) -> Self {
        JtiKey(parse_uuid(jti).unwrap_or_else(|| digest16(jti.as_bytes())))
    }

    /// The 32 hex digits the journal writes.
    pub(super) fn to_hex(self) -> String {
        hex(&self.0)
    }

    pub(super) fn from_hex(text: &str) -> Option<Self> {
        from_hex(text).map(JtiKey)
    }
}

/// `8-4-4-4-12` hex digits to 16 bytes.
fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    let bytes = text.as_bytes();
    if bytes.len() != 36 || [8, 13, 18, 23].iter().any(|&i| bytes[i] != b'-') {
        return None;
    }
    let mut digits = bytes.iter().filter(|&&b| b != b'-');
    let mut out = [0u8; 16];
    for byte in &mut out {
        let high = hex_digit(*digits.next()?)?;
        let low = hex_digit(*digits.next()?)?;
        *byte = (high << 4) | low;
    }
    Some(out)
}

/// The revoked ids in memory, sharded. Shared by the [`Denylist`] and its journal writer, which
/// snapshots it when it compacts the file.
pub(super) struct RevokedSet {
    shards: Vec<RwLock<HashMap<JtiKey, i64>>>,
    hasher: RandomState,
    len: AtomicUsize,
}

impl RevokedSet {
    pub(super) fn new() -> Self {
        RevokedSet {
            shards: (0..SHARDS).map(|_| RwLock::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
            len: AtomicUsize::new(0),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    fn shard(&self, key: &JtiKey) -> &RwLock<HashMap<JtiKey, i64>> {
        let index = self.hasher.hash_one(key) as usize % SHARDS;
        &self.shards[index]
    }

    pub(super) fn contains(&self, key: &JtiKey) -> bool {
        // A poisoned lock only means another thread panicked mid-insert; the map is still usable.
        let shard = self.shard(key).read().unwrap_or_else(|e| e.into_inner());
        shard.contains_key(key)
    }

    /// Adds an entry. Returns false if it was already there.
    pub(super) fn insert(&self, key: JtiKey, exp: i64) -> bool {
        let mut shard = self.shard(&key).write().unwrap_or_else(|e| e.into_inner());
        if shard.contains_key(&key) {
            return false;
        }
        shard.insert(key, exp);
        self.len.fetch_add(1, Ordering::Release);
        true
    }

    /// Drops every entry whose token has expired at `now`. Returns how many were dropped.
    pub(super) fn prune(&self, now: i64) -> usize {
        let mut dropped = 0;
        for shard in &self.shards {
            let mut shard = shard.write().unwrap_or_else(|e| e.into_inner());
            let before = shard.len();
            shard.retain(|_, exp| *exp > now);
            if shard.len() < before / 4 {
                shard.shrink_to_fit();
            }
            dropped += before - shard.len();
        }
        self.len.fetch_sub(dropped, Ordering::Release);
        dropped
    }

    /// Every live entry, for compaction.
    pub(super) fn entries(&self) -> Vec<(JtiKey, i64)> {
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
        assert_eq!(parse_uuid("a30d76cc-2687-4872-9b01-716c5da5661"), None);
        assert_eq!(parse_uuid("a30d76cc+2687-4872-9b01-716c5da5661b"), None);
        assert_eq!(parse_uuid("g30d76cc-2687-4872-9b01-716c5da5661b"), None);
    }
}
