//! The revoked ids in memory: `jti`s compacted to 16-byte keys, in a sharded set of key → `exp`.
//!
//! Lookups are cheap and rarely contend: the set is split into shards, each behind its own
//! `RwLock` (readers share a shard). Entries are pruned once their token has expired, so memory is
//! bounded by the revoked tokens still alive.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::RwLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::bytes::{digest16, from_hex, hex, hex_digit};

/// Shards of the set. More than the cores of any small host, so two lookups rarely share a lock.
const SHARDS: usize = 16;

/// A `jti`, compacted to 16 bytes: a UUID (what we and Flask-JWT-Extended issue) is parsed to its
/// 16 bytes; any other string is represented by the first 16 bytes of its SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct JtiKey([u8; 16]);

/// A key's bytes are already uniformly random (a UUID v4's, or a SHA-256 prefix), and only `jti`s
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

type Shard = RwLock<HashMap<JtiKey, i64, BuildHasherDefault<KeyBytes>>>;

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

/// The revoked ids in memory, sharded. Shared by the [`Denylist`] and its journal writer, which
/// snapshots it when it compacts the file.
pub(super) struct RevokedSet {
    shards: Vec<Shard>,
    len: AtomicUsize,
}

impl RevokedSet {
    pub(super) fn new() -> Self {
        RevokedSet {
            shards: (0..SHARDS).map(|_| Shard::default()).collect(),
            len: AtomicUsize::new(0),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    fn shard(&self, key: &JtiKey) -> &Shard {
        &self.shards[usize::from(key.0[15]) % SHARDS]
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
