//! The denylist as a replica of the revocations several instances share in Redis (feature
//! `redis`; the keys are in `crate::store::redis`).
//!
//! - **Writing**: a revocation is one atomic script in Redis ([`publish`]): the member in its
//!   sorted set, and the event on the stream. It is acknowledged (and put in memory) only then.
//! - **Starting**: [`load`] notes where the stream stands, *then* reads every set, so an event
//!   written during the load is read again from the stream rather than lost (applying a record
//!   twice changes nothing).
//! - **Following**: one task per instance ([`follow`]) blocks on the stream over its own
//!   connection and applies every event as it comes, other instances' and this one's alike. After
//!   a lost connection it reconnects with backoff and resumes after the last event it applied; if
//!   Redis trimmed events it had not read, or the stream is younger than that event (Redis lost its
//!   data), it reloads the sets in full ([`StreamInfo::missed_since`]). A replica only ever gains
//!   entries this way; pruning by time drops them, as everywhere.
//! - **Noticing a frozen Redis** (`SIGSTOP`, a stalled host, a cut that leaves the connection
//!   open): a blocked read always gets an answer within its block time, so none within one more
//!   command timeout (`Tail::read`) counts as a lost connection, and so does any command of the
//!   shared connection that times out (`Redis::call`). Either way readiness says the replica is not
//!   current until the follower hears from Redis again: while it cannot, revocations other
//!   instances make could be missing here (a balancer should take this instance out).

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use super::revocations::{Record, Revocations};
use super::set::{Cutoff, FamilyKey, JtiKey};
use crate::config::RedisSettings;
use crate::store::redis::{self, Durability, Error, Position, Redis, Set, StreamInfo, Tail};

/// The first pause after a lost connection; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

impl Record {
    /// The record as a member of its sorted set. A cutoff's member carries its time, so two
    /// cutoffs of one user are two members (the replica keeps the later, as the journal does).
    fn member(&self) -> (Set, String) {
        match self {
            Record::Jti(key, _) => (Set::Jtis, key.to_hex()),
            Record::Family(key, _) => (Set::Families, key.0.to_hex()),
            Record::Cutoff(key, cutoff) => {
                (Set::Cutoffs, format!("{} {}", key.to_hex(), cutoff.at_ms))
            }
        }
    }

    /// The record a member of `set` scored `until` stands for.
    fn from_member(set: Set, member: &str, until: i64) -> Option<Record> {
        Some(match set {
            Set::Jtis => Record::Jti(JtiKey::from_hex(member)?, until),
            Set::Families => Record::Family(FamilyKey(JtiKey::from_hex(member)?), until),
            Set::Cutoffs => {
                let (key, at_ms) = member.split_once(' ')?;
                let at_ms = at_ms.parse().ok()?;
                Record::Cutoff(JtiKey::from_hex(key)?, Cutoff { at_ms, until })
            }
        })
    }

    /// The event's payload: the journal line, without its newline.
    fn event(&self) -> String {
        let mut line = String::from_utf8(self.line()).unwrap_or_default();
        line.pop();
        line
    }
}

/// Stores `record` in Redis: `Ok(true)` when it was new there, `Ok(false)` when another instance
/// (or an earlier request) had stored it first.
pub(super) async fn publish(redis: &Redis, record: Record, now: i64) -> Result<bool, Error> {
    let (set, member) = record.member();
    redis
        .revoke(set, &member, record.until(), &record.event(), now)
        .await
}

/// What start-up read: every record that still matters, and the stream position it is current to.
pub(super) struct Loaded {
    pub(super) records: Vec<Record>,
    pub(super) position: Position,
    /// What an acknowledgement waits for (`store::redis::server`), once start-up asked.
    pub(super) durability: Durability,
}

/// Reads everything from Redis (see the module docs), trying again until `settings.connect_timeout`
/// has passed. Runs on a thread of its own with its own runtime, so that a synchronous caller
/// (`App::from_config`) can wait for it even from inside a single-threaded runtime.
pub(super) fn load(settings: &RedisSettings, now: i64) -> Result<Loaded, Error> {
    let settings = settings.clone();
    std::thread::scope(|scope| {
        scope
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| Error::Config(format!("a runtime for start-up: {e}")))?;
                runtime.block_on(load_retrying(settings, now))
            })
            .join()
            .unwrap_or(Err(Error::Unavailable("start-up's thread panicked".into())))
    })
}

async fn load_retrying(settings: RedisSettings, now: i64) -> Result<Loaded, Error> {
    let deadline = Instant::now() + settings.connect_timeout;
    let tls = redis::tls(&settings)?;
    let mut pause = FIRST_BACKOFF;
    let mut warned = false;
    loop {
        let attempt = async {
            let mut tail = redis::tail(&settings, tls.as_ref()).await?;
            let facts = redis::inspect(&tail, &settings).await?;
            let info = tail.info().await?;
            let mut loaded = load_all(&mut tail, info, now).await?;
            loaded.durability = facts.durability;
            log::info!(
                "redis: revocations live in {} at {} (keys {}*); {}",
                facts.version,
                settings.url,
                settings.key_prefix,
                facts.durability_note
            );
            Ok::<_, Error>(loaded)
        };
        match attempt.await {
            Ok(loaded) => return Ok(loaded),
            Err(e) => {
                // Waiting cannot mend a wrong password, a denied command or a missing database.
                if let Some(reason) = e.stops_start_up() {
                    return Err(Error::Config(reason));
                }
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(e);
                }
                if !warned {
                    log::warn!(
                        "redis: cannot reach {} yet ({e}); trying for up to {} s (REDIS_CONNECT_TIMEOUT)",
                        settings.url,
                        settings.connect_timeout.as_secs()
                    );
                    warned = true;
                }
                tokio::time::sleep(pause.min(left)).await;
                pause = (pause * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Every record of the sets, current to the stream position `info` gave (read before them).
async fn load_all(tail: &mut Tail, info: StreamInfo, now: i64) -> Result<Loaded, Error> {
    let members = tail.load(now).await?;
    let mut records = Vec::with_capacity(members.len());
    for (set, member, until) in members {
        match Record::from_member(set, &member, until) {
            Some(record) => records.push(record),
            None => log::warn!("redis: ignored a member of the {set:?} set that is not ours"),
        }
    }
    Ok(Loaded {
        records,
        position: info.position(),
        durability: Durability::None,
    })
}

/// Starts the task that keeps `revoked` current from the stream, from `position` on. It ends once
/// the denylist is gone.
pub(super) fn follow(redis: Arc<Redis>, revoked: Weak<Revocations>, position: Position) {
    tokio::spawn(async move {
        // However the task ends, a panic included, readiness must stop saying it follows.
        let _guard = NotFollowingOnExit(Arc::clone(&redis));
        let mut seen = position;
        let mut pause = FIRST_BACKOFF;
        let mut lost_at: Option<Instant> = None;
        loop {
            let outcome = match redis.tail().await {
                Ok(mut tail) => {
                    follow_on(
                        &redis,
                        &mut tail,
                        &revoked,
                        &mut seen,
                        &mut pause,
                        &mut lost_at,
                    )
                    .await
                }
                Err(e) => Err(e),
            };
            redis.set_following(false);
            match outcome {
                Ok(()) => return, // the denylist is gone
                Err(e) => {
                    if lost_at.is_none() {
                        log::error!(
                            "redis: lost the revocation stream ({e}); revocations from other instances \
                             wait until it is back, and revoking answers 503 meanwhile; reconnecting"
                        );
                        lost_at = Some(Instant::now());
                    }
                }
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(MAX_BACKOFF);
            if revoked.strong_count() == 0 {
                return;
            }
        }
    });
}

/// Marks the replica as not following when the follower task ends, however it ends.
struct NotFollowingOnExit(Arc<Redis>);

impl Drop for NotFollowingOnExit {
    fn drop(&mut self) {
        self.0.set_following(false);
    }
}

/// Follows the stream over one connection until it breaks (`Err`) or the denylist is gone (`Ok`).
async fn follow_on(
    redis: &Redis,
    tail: &mut Tail,
    revoked: &Weak<Revocations>,
    seen: &mut Position,
    pause: &mut Duration,
    lost_at: &mut Option<Instant>,
) -> Result<(), Error> {
    loop {
        let info = tail.info().await?;
        if info.missed_since(*seen) {
            let loaded = load_all(tail, info, crate::store::unix_now()).await?;
            let Some(set) = revoked.upgrade() else {
                return Ok(());
            };
            let count = loaded.records.len();
            for record in loaded.records {
                set.apply(record);
            }
            log::warn!(
                "redis: events after {} were trimmed or lost; reloaded {count} revocation(s) in full",
                seen.id
            );
            *seen = loaded.position;
        }
        if !redis.is_connected() {
            redis.set_following(true);
            *pause = FIRST_BACKOFF;
            if let Some(lost) = lost_at.take() {
                log::info!(
                    "redis: revocation stream back after {} ms, caught up",
                    lost.elapsed().as_millis()
                );
            }
        }
        let events = tail.read(seen.id).await?;
        let Some(set) = revoked.upgrade() else {
            return Ok(());
        };
        for (id, payload) in events {
            match Record::parse(&payload) {
                Some(record) => set.apply(record),
                None => log::warn!("redis: ignored an event that is not a revocation ({id})"),
            }
            *seen = Position {
                id,
                count: seen.count.saturating_add(1),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_the_trip_through_members_and_events() {
        let key = JtiKey::of("5b0c6a4e-6b1e-4d5c-9a39-8f0f6e2f1a10");
        for record in [
            Record::Jti(key, 1_700_000_900),
            Record::Family(FamilyKey(key), 1_700_086_400),
            Record::Cutoff(
                JtiKey::of_user("user1"),
                Cutoff {
                    at_ms: 1_700_000_000_123,
                    until: 1_702_592_000,
                },
            ),
        ] {
            let (set, member) = record.member();
            assert_eq!(
                Record::from_member(set, &member, record.until()),
                Some(record)
            );
            assert_eq!(Record::parse(&record.event()), Some(record));
        }
        assert_eq!(Record::from_member(Set::Jtis, "not hex", 1), None);
        assert_eq!(Record::from_member(Set::Cutoffs, &key.to_hex(), 1), None);
    }
}
