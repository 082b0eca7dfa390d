//! What the denylist holds, as data: the three kinds of revocation in memory ([`Revocations`]) and
//! one revocation as a value ([`Record`]), which the journal writes as a line and replays, and
//! which a shared store (Redis, say) would carry the same way.

use super::set::{Cutoff, FamilyKey, JtiKey, RevokedSet};

/// One revocation, as the journal records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Record {
    /// A revoked `jti`, with its token's `exp`.
    Jti(JtiKey, i64),
    /// A revoked family, until no token of it can be alive.
    Family(FamilyKey, i64),
    /// A user's cutoff.
    Cutoff(JtiKey, Cutoff),
}

impl Record {
    /// When the record stops mattering (it is dropped at replay and compaction from then on).
    pub(super) fn until(&self) -> i64 {
        match self {
            Record::Jti(_, until) | Record::Family(_, until) => *until,
            Record::Cutoff(_, cutoff) => cutoff.until,
        }
    }
}

/// The three kinds of revocation in memory. Shared with the journal writer, which snapshots them
/// all when it compacts the file.
pub(super) struct Revocations {
    pub(super) jtis: RevokedSet<JtiKey, i64>,
    pub(super) families: RevokedSet<FamilyKey, i64>,
    pub(super) cutoffs: RevokedSet<JtiKey, Cutoff>,
}

/// Two cutoffs of one user are the later one: it ends everything the earlier one did.
pub(super) fn later(a: Cutoff, b: Cutoff) -> Cutoff {
    Cutoff {
        at_ms: a.at_ms.max(b.at_ms),
        until: a.until.max(b.until),
    }
}

impl Revocations {
    pub(super) fn new() -> Self {
        Revocations {
            jtis: RevokedSet::new(),
            families: RevokedSet::new(),
            cutoffs: RevokedSet::new(),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.jtis.len() + self.families.len() + self.cutoffs.len()
    }

    pub(super) fn prune(&self, now: i64) -> usize {
        self.jtis.prune(now) + self.families.prune(now) + self.cutoffs.prune(now)
    }

    /// Adds a new record; false when its `jti` or family was already there (a cutoff always merges).
    /// Atomic: of two concurrent inserts of one key, exactly one gets true.
    pub(super) fn insert(&self, record: Record) -> bool {
        match record {
            Record::Jti(key, exp) => self.jtis.insert(key, exp),
            Record::Family(key, until) => self.families.insert(key, until),
            Record::Cutoff(key, cutoff) => {
                self.cutoffs.merge(key, cutoff, later);
                true
            }
        }
    }

    /// Adds a replayed record (a record met twice, or two cutoffs of one user, merge).
    pub(super) fn apply(&self, record: Record) {
        match record {
            Record::Jti(key, exp) => {
                self.jtis.insert(key, exp);
            }
            Record::Family(key, until) => {
                self.families.merge(key, until, i64::max);
            }
            Record::Cutoff(key, cutoff) => {
                self.cutoffs.merge(key, cutoff, later);
            }
        }
    }

    /// Every live entry, as records, for compaction.
    pub(super) fn records(&self) -> Vec<Record> {
        let mut all = Vec::with_capacity(self.len());
        all.extend(
            self.jtis
                .entries()
                .into_iter()
                .map(|(k, v)| Record::Jti(k, v)),
        );
        all.extend(
            self.families
                .entries()
                .into_iter()
                .map(|(k, v)| Record::Family(k, v)),
        );
        all.extend(
            self.cutoffs
                .entries()
                .into_iter()
                .map(|(k, v)| Record::Cutoff(k, v)),
        );
        all
    }
}
