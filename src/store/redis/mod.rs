//! The shared store several instances use (feature `redis`, `REDIS_URL`; docs/scaling.md): a small
//! RESP2 client of our own ([`resp`], [`connection`]) and the handful of operations the server
//! needs, in plain values: revocations ([`Redis::revoke`], [`Redis::load`], the event stream
//! [`Tail`]) and failed-login counters ([`Redis::count_failures`], [`Redis::failures`]).
//!
//! # Keys (all under `REDIS_KEY_PREFIX`, `hyperjwt:` by default)
//!
//! | key | type | holds |
//! |---|---|---|
//! | `jtis`, `families`, `cutoffs` | sorted set | one member per revocation, scored by when it stops mattering (Unix seconds) |
//! | `events` | stream | every revocation as it happened, field `r`: the journal line of `crate::store::denylist` |
//! | `fail:u:<hex>`, `fail:a:<ip>` | string (counter) | failed logins of a username (its digest) or an address, expiring with the window |
//!
//! A revocation is one script ([`REVOKE`]), so it is atomic: `ZADD NX` decides who revoked first
//! (of two instances rotating one refresh token, exactly one wins), the event is appended only
//! then, and members past their time are swept. Sorted sets rather than one key per revocation
//! (`SET … EXAT`) so that start-up loads each kind with one ranged read instead of a `SCAN` over a
//! keyspace other applications may share; the sweep does what `EXAT` would.
//!
//! This module knows nothing of tokens: the denylist (`crate::store::denylist`) turns its records
//! into members and events, and back.

mod connection;
mod error;
pub mod resp;

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, MutexGuard};

use crate::config::RedisSettings;
use crate::readiness::{Check, CheckFuture};
use connection::{Pipeline, Stream};
pub use error::Error;
use resp::Value;

/// How long one command may take before the request that needed it gets 503.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// After a failed attempt, commands fail at once for this long instead of each trying again.
const RECONNECT_PAUSE: Duration = Duration::from_millis(250);
/// The event stream keeps about this many events (`XADD MAXLEN ~`): an instance away for longer
/// than that many revocations reloads the sets in full.
pub const STREAM_LENGTH: u64 = 100_000;
/// How long one blocking read of the stream waits before asking again.
const BLOCK: Duration = Duration::from_secs(2);
/// Events read at once from the stream.
const READ_COUNT: usize = 1000;
/// Members asked for at once when loading a set (`ZSCAN`'s `COUNT`, a hint).
const LOAD_CHUNK: usize = 10_000;

/// The three kinds of revocation, one sorted set each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Set {
    Jtis,
    Families,
    Cutoffs,
}

impl Set {
    pub const ALL: [Set; 3] = [Set::Jtis, Set::Families, Set::Cutoffs];

    fn name(self) -> &'static str {
        match self {
            Set::Jtis => "jtis",
            Set::Families => "families",
            Set::Cutoffs => "cutoffs",
        }
    }
}

/// A Lua script, run by its SHA-1 once Redis knows it (`EVALSHA`), by its text otherwise.
pub struct Script {
    source: &'static str,
    sha: String,
}

impl Script {
    fn new(source: &'static str) -> Self {
        let digest =
            ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, source.as_bytes());
        Script {
            source,
            sha: crate::bytes::hex(digest.as_ref()),
        }
    }
}

/// Revokes one member: KEYS = the set, the stream; ARGV = member, until, event, now, stream length.
/// Returns 1 if it was new (and the event was appended), 0 if someone revoked it first.
const REVOKE: &str = r"
local added = redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])
if added == 1 then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', 'r', ARGV[3])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[4])
return added
";

/// Counts one failure on each key: KEYS = counters; ARGV = window (ms). The window starts at the
/// first failure (`PEXPIRE` only when the count is new), as the local counters do.
const COUNT_FAILURES: &str = r"
local counts = {}
for i, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  if n == 1 then redis.call('PEXPIRE', key, ARGV[1]) end
  counts[i] = n
end
return counts
";

/// Each key's count and the milliseconds left in its window: KEYS = counters.
const FAILURES: &str = r"
local out = {}
for i, key in ipairs(KEYS) do
  out[2 * i - 1] = tonumber(redis.call('GET', key) or '0')
  out[2 * i] = redis.call('PTTL', key)
end
return out
";

/// A position in the stream: `<ms>-<seq>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct StreamId(pub u64, pub u64);

impl StreamId {
    pub fn parse(text: &str) -> Option<Self> {
        let (ms, seq) = text.split_once('-')?;
        Some(StreamId(ms.parse().ok()?, seq.parse().ok()?))
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.0, self.1)
    }
}

/// What `XINFO STREAM` says about the event stream (all zero when it does not exist).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StreamInfo {
    /// The newest id given out.
    pub last_generated: StreamId,
    /// The oldest entry still there (`0-0` when none is).
    pub first_entry: StreamId,
    /// Entries there now.
    pub length: u64,
    /// Entries ever added.
    pub entries_added: u64,
    /// The newest entry deleted by `XDEL` (trimming does not count here).
    pub max_deleted: StreamId,
}

/// How far a reader has read: the last entry it applied, and how many entries the stream had
/// ever had up to it (Redis 7's `entries-added` then).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    pub id: StreamId,
    pub count: u64,
}

impl StreamInfo {
    /// Where a reader that has just loaded everything stands.
    pub fn position(&self) -> Position {
        Position {
            id: self.last_generated,
            count: self.entries_added,
        }
    }

    /// Whether a reader at `read` may have missed events: the stream is younger than what it read
    /// (Redis lost its data, or was flushed); or entries after it are gone: trimming removes the
    /// oldest first, so nothing is missing while the stream still reaches back to `read`, and
    /// otherwise the count tells whether every entry added since is still there.
    pub fn missed_since(&self, read: Position) -> bool {
        if self.last_generated < read.id || self.entries_added < read.count {
            return true;
        }
        let reaches_back = self.length > 0 && self.first_entry <= read.id;
        let added_since = self.entries_added - read.count;
        self.max_deleted > read.id || (!reaches_back && added_since > self.length)
    }
}

/// The shared connection, if one is up, and when connecting last failed.
type PipelineSlot = (Option<Pipeline>, Option<Instant>);

/// The handle every part of the server shares: the settings, one pipelined connection (made again
/// on demand when it breaks) and whether the stream follower is connected.
pub struct Redis {
    settings: RedisSettings,
    pipeline: Mutex<PipelineSlot>,
    following: AtomicBool,
    revoke: Script,
    count_failures: Script,
    failures: Script,
}

impl fmt::Debug for Redis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redis")
            .field("url", &self.settings.url)
            .field("prefix", &self.settings.key_prefix)
            .field("connected", &self.is_connected())
            .finish()
    }
}

/// Readiness (`/health/ready`): the replica is current only while its follower reads the
/// revocation stream; disconnected or still catching up, this instance could accept a token
/// another instance has revoked, so it says it is not ready (it keeps serving, docs/scaling.md).
impl Check for Redis {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn check(&self) -> CheckFuture<'_> {
        let verdict = if self.is_connected() {
            Ok(())
        } else {
            Err("not following the revocation stream (Redis unreachable or catching up)".into())
        };
        Box::pin(std::future::ready(verdict))
    }
}

impl Redis {
    pub fn new(settings: RedisSettings) -> Self {
        Redis {
            settings,
            pipeline: Mutex::new((None, None)),
            following: AtomicBool::new(false),
            revoke: Script::new(REVOKE),
            count_failures: Script::new(COUNT_FAILURES),
            failures: Script::new(FAILURES),
        }
    }

    pub fn settings(&self) -> &RedisSettings {
        &self.settings
    }

    /// Readiness: the stream follower is connected and caught up, so this instance's replica is
    /// current. One atomic load.
    pub fn is_connected(&self) -> bool {
        self.following.load(Ordering::Relaxed)
    }

    pub(crate) fn set_following(&self, following: bool) {
        self.following.store(following, Ordering::Relaxed);
    }

    /// `prefix` + `name`.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.settings.key_prefix)
    }

    /// Sends one command over the shared connection, connecting first if it is down.
    pub async fn call<A: AsRef<[u8]>>(&self, args: &[A]) -> Result<Value, Error> {
        let mut frame = Vec::new();
        resp::command(&mut frame, args);
        // Queued under the lock, so commands keep their order; the reply is awaited without it.
        let answer = {
            let slot = self.pipeline().await?;
            match &slot.0 {
                Some(pipeline) => pipeline.send(frame)?,
                None => return Err(Error::Closed),
            }
        };
        tokio::time::timeout(COMMAND_TIMEOUT, answer)
            .await
            .map_err(|_| Error::Timeout)?
            .map_err(|_| Error::Closed)?
            .and_then(Error::from_reply)
    }

    /// The shared connection, made now if there is none. One caller connects while the others wait
    /// for it; right after a failed attempt, callers fail at once (`RECONNECT_PAUSE`).
    async fn pipeline(&self) -> Result<MutexGuard<'_, PipelineSlot>, Error> {
        let mut slot = self.pipeline.lock().await;
        if slot.0.as_ref().is_some_and(Pipeline::is_alive) {
            return Ok(slot);
        }
        // The follower reconnecting is the sign Redis is back: no need to wait out the pause.
        if slot
            .1
            .is_some_and(|failed| failed.elapsed() < RECONNECT_PAUSE)
            && !self.is_connected()
        {
            return Err(Error::Reconnecting);
        }
        match Stream::connect(&self.settings.url, CONNECT_TIMEOUT).await {
            Ok(stream) => {
                *slot = (Some(stream.pipeline()), None);
                Ok(slot)
            }
            Err(e) => {
                *slot = (None, Some(Instant::now()));
                Err(e)
            }
        }
    }

    async fn eval(
        &self,
        script: &Script,
        keys: &[String],
        args: &[String],
    ) -> Result<Value, Error> {
        let numkeys = keys.len().to_string();
        let mut command: Vec<&[u8]> = vec![b"EVALSHA", script.sha.as_bytes(), numkeys.as_bytes()];
        command.extend(keys.iter().map(|k| k.as_bytes()));
        command.extend(args.iter().map(|a| a.as_bytes()));
        match self.call(&command).await {
            // Redis restarted (or flushed its scripts): send the text, which it caches again.
            Err(Error::Refused(msg)) if msg.starts_with("NOSCRIPT") => {
                command[0] = b"EVAL";
                command[1] = script.source.as_bytes();
                self.call(&command).await
            }
            other => other,
        }
    }

    /// Adds `member` to `set` until `until` (Unix seconds) and appends `event` to the stream, in
    /// one atomic step. `Ok(true)` when it was new, `Ok(false)` when someone added it first.
    pub async fn revoke(
        &self,
        set: Set,
        member: &str,
        until: i64,
        event: &str,
        now: i64,
    ) -> Result<bool, Error> {
        let keys = [self.key(set.name()), self.key("events")];
        let args = [
            member.to_string(),
            until.to_string(),
            event.to_string(),
            now.to_string(),
            STREAM_LENGTH.to_string(),
        ];
        let added = self.eval(&self.revoke, &keys, &args).await?;
        Ok(added.int().ok_or(Error::unexpected("ZADD's count"))? == 1)
    }

    /// Counts one failed login on each counter (`fail:` + name), starting a window of `window` on a
    /// new one; returns the counts. One round trip.
    pub async fn count_failures(
        &self,
        counters: &[String],
        window: Duration,
    ) -> Result<Vec<i64>, Error> {
        let keys: Vec<String> = counters
            .iter()
            .map(|c| self.key(&format!("fail:{c}")))
            .collect();
        let window_ms = window.as_millis().max(1).to_string();
        let counts = self.eval(&self.count_failures, &keys, &[window_ms]).await?;
        counts
            .items()
            .ok_or(Error::unexpected("a list of counts"))?
            .iter()
            .map(|n| n.int().ok_or(Error::unexpected("a count")))
            .collect()
    }

    /// Each counter's failures and the time left in its window. One round trip.
    pub async fn failures(&self, counters: &[String]) -> Result<Vec<(i64, Duration)>, Error> {
        let keys: Vec<String> = counters
            .iter()
            .map(|c| self.key(&format!("fail:{c}")))
            .collect();
        let reply = self.eval(&self.failures, &keys, &[]).await?;
        let items = reply.items().ok_or(Error::unexpected("counts and PTTLs"))?;
        items
            .chunks(2)
            .map(|pair| match pair {
                [count, ttl] => {
                    let count = count.int().ok_or(Error::unexpected("a count"))?;
                    // PTTL is -2 (no key) or -1 (no expiry, which we never leave): nothing to wait.
                    let ttl =
                        u64::try_from(ttl.int().ok_or(Error::unexpected("a PTTL"))?).unwrap_or(0);
                    Ok((count, Duration::from_millis(ttl)))
                }
                _ => Err(Error::unexpected("pairs of count and PTTL")),
            })
            .collect()
    }

    /// Forgets a failure counter (a successful login).
    pub async fn forget_failures(&self, counter: &str) -> Result<(), Error> {
        let key = self.key(&format!("fail:{counter}"));
        self.call(&["DEL", key.as_str()]).await.map(drop)
    }

    /// A new dedicated connection for following the stream.
    pub async fn tail(&self) -> Result<Tail, Error> {
        Ok(Tail {
            stream: Stream::connect(&self.settings.url, CONNECT_TIMEOUT).await?,
            events: self.key("events"),
            sets: Set::ALL.map(|set| (set, self.key(set.name()))),
        })
    }
}

/// A dedicated connection: reads the revocation sets and blocks on the event stream. Owned by the
/// one task that keeps a replica current (`crate::store::denylist`).
pub struct Tail {
    stream: Stream,
    events: String,
    sets: [(Set, String); 3],
}

/// One event of the stream: its id and its payload (field `r`).
pub type Event = (StreamId, String);

impl Tail {
    /// Where the stream stands.
    pub async fn info(&mut self) -> Result<StreamInfo, Error> {
        let reply = match self
            .stream
            .call(&["XINFO", "STREAM", self.events.as_str()], COMMAND_TIMEOUT)
            .await
        {
            // No stream yet: nothing was ever revoked (or Redis lost everything).
            Err(Error::Refused(msg)) if msg.contains("no such key") => {
                return Ok(StreamInfo::default());
            }
            other => other?,
        };
        let fields = reply.items().ok_or(Error::unexpected("XINFO's fields"))?;
        let field = |name: &str| {
            fields
                .chunks(2)
                .find(|pair| pair[0].text() == Some(name))
                .and_then(|pair| pair.get(1))
        };
        let id = |name: &str| field(name).and_then(Value::text).and_then(StreamId::parse);
        let number = |name: &str| {
            field(name)
                .and_then(Value::int)
                .and_then(|n| u64::try_from(n).ok())
        };
        // entries-added and recorded-first-entry-id are Redis 7.0's; without them, gaps can't be
        // ruled out (docs/scaling.md asks for 7.0 or later).
        Ok(StreamInfo {
            last_generated: id("last-generated-id")
                .ok_or(Error::unexpected("XINFO's last-generated-id"))?,
            first_entry: id("recorded-first-entry-id").unwrap_or_default(),
            length: number("length").ok_or(Error::unexpected("XINFO's length"))?,
            entries_added: number("entries-added").unwrap_or(u64::MAX),
            max_deleted: id("max-deleted-entry-id").unwrap_or_default(),
        })
    }

    /// Every member of every set that still matters at `now`, with its score.
    ///
    /// Read with `ZSCAN`, not by rank: other instances revoke (and sweep expired members) while a
    /// large set is read in pages, and paging by rank or by score can then skip a member that was
    /// there all along, whose event predates the stream position the follower resumes from. A
    /// full `ZSCAN` returns every member present from its start to its end (perhaps twice, which
    /// the replica merges); one added meanwhile is also in the stream after that position.
    pub async fn load(&mut self, now: i64) -> Result<Vec<(Set, String, i64)>, Error> {
        let mut all = Vec::new();
        let count = LOAD_CHUNK.to_string();
        for (set, key) in &self.sets {
            let mut cursor = String::from("0");
            loop {
                let args = ["ZSCAN", key, &cursor, "COUNT", &count];
                let reply = self.stream.call(&args, COMMAND_TIMEOUT).await?;
                let parts = reply.items().ok_or(Error::unexpected("a ZSCAN reply"))?;
                let (Some(next), Some(items)) = (
                    parts.first().and_then(Value::text),
                    parts.get(1).and_then(Value::items),
                ) else {
                    return Err(Error::unexpected("a cursor and members"));
                };
                for pair in items.chunks(2) {
                    let (Some(member), Some(score)) = (pair[0].text(), pair.get(1)) else {
                        return Err(Error::unexpected("a member and its score"));
                    };
                    let score = score
                        .text()
                        .and_then(|s| s.parse::<f64>().ok())
                        .ok_or(Error::unexpected("a score"))?;
                    // Scores are whole seconds, exact in a double.
                    let until = score as i64;
                    if until >= now {
                        all.push((*set, member.to_string(), until));
                    }
                }
                if next == "0" {
                    break;
                }
                cursor = next.to_string();
            }
        }
        Ok(all)
    }

    /// The events after `after`, waiting up to [`BLOCK`] for the first; empty when none came.
    pub async fn read(&mut self, after: StreamId) -> Result<Vec<Event>, Error> {
        let block = BLOCK.as_millis().to_string();
        let count = READ_COUNT.to_string();
        let after = after.to_string();
        let args = [
            "XREAD",
            "COUNT",
            &count,
            "BLOCK",
            &block,
            "STREAMS",
            &self.events,
            &after,
        ];
        let reply = self.stream.call(&args, BLOCK + COMMAND_TIMEOUT).await?;
        let mut events = Vec::new();
        // [[stream, [[id, [field, value, ...]], ...]]], or nil when the wait timed out.
        for stream in reply.items().ok_or(Error::unexpected("XREAD's streams"))? {
            let entries = stream
                .items()
                .and_then(|s| s.get(1))
                .and_then(Value::items)
                .ok_or(Error::unexpected("XREAD's entries"))?;
            for entry in entries {
                let (Some(id), Some(fields)) = (
                    entry.items().and_then(|e| e.first()?.text()),
                    entry.items().and_then(|e| e.get(1)?.items()),
                ) else {
                    return Err(Error::unexpected("a stream entry"));
                };
                let id = StreamId::parse(id).ok_or(Error::unexpected("a stream id"))?;
                let payload = fields
                    .chunks(2)
                    .find(|pair| pair[0].text() == Some("r"))
                    .and_then(|pair| pair.get(1)?.text())
                    .unwrap_or_default();
                events.push((id, payload.to_string()));
            }
        }
        Ok(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_ids_order_and_gaps() {
        let id = |t| StreamId::parse(t).unwrap();
        assert!(id("5-0") < id("5-1") && id("5-1") < id("10-0"));
        assert_eq!(id("12-3").to_string(), "12-3");
        assert_eq!(StreamId::parse("12"), None);
        // Entries 1..=100 were added (ids 1-0 to 100-0); 61..=100 are left.
        let info = StreamInfo {
            last_generated: id("100-0"),
            first_entry: id("61-0"),
            length: 40,
            entries_added: 100,
            max_deleted: StreamId::default(),
        };
        let at = |n: u64| Position {
            id: StreamId(n, 0),
            count: n,
        };
        // Read up to 70, or 61, or 100: everything after it is still there.
        assert!(!info.missed_since(at(70)));
        assert!(!info.missed_since(at(61)) && !info.missed_since(at(100)));
        // Read up to 60: 61 is the first left, and nothing is missing.
        assert!(!info.missed_since(at(60)));
        // Read up to 50: 51..=60 were trimmed unread.
        assert!(info.missed_since(at(50)));
        // Read 200, but the stream only reached 100: it was recreated.
        assert!(info.missed_since(at(200)));
        // Everything trimmed (XTRIM MAXLEN 0) after 100 were added, read up to 90.
        let empty = StreamInfo {
            length: 0,
            first_entry: StreamId::default(),
            ..info
        };
        assert!(empty.missed_since(at(90)));
        assert!(!empty.missed_since(at(100)));
        // A stream that never existed, read by a newcomer: nothing missed.
        assert!(!StreamInfo::default().missed_since(Position::default()));
    }

    #[test]
    fn scripts_are_named_by_their_sha1() {
        let script = Script::new("return 1");
        // `redis-cli SCRIPT LOAD "return 1"`
        assert_eq!(script.sha, "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
    }
}
