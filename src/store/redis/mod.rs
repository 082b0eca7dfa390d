//! The shared store several instances use (feature `redis`, `REDIS_URL`; docs/scaling.md): a small
//! RESP2 client of our own ([`resp`], [`connection`]) and the handful of operations the server
//! needs, in plain values: revocations ([`Redis::revoke`]; [`Tail`], the follower's connection that
//! loads the sets and reads the event stream, is in `tail.rs`) and failed-login counters
//! ([`Redis::count_failures`], [`Redis::failures`]), all over one shared connection.
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
mod tail;

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, MutexGuard};

use crate::config::RedisSettings;
use crate::readiness::{Check, CheckFuture};
use connection::{COMMAND_TIMEOUT, CONNECT_TIMEOUT, Pipeline, Stream};
pub use error::Error;
use resp::Value;
pub use tail::{Event, Position, Set, StreamId, StreamInfo, Tail};

/// After a failed attempt, commands fail at once for this long instead of each trying again.
const RECONNECT_PAUSE: Duration = Duration::from_millis(250);
/// The event stream keeps about this many events (`XADD MAXLEN ~`): an instance away for longer
/// than that many revocations reloads the sets in full.
pub const STREAM_LENGTH: u64 = 100_000;
/// A Lua script, run by its SHA-1 once Redis knows it (`EVALSHA`), by its text otherwise.
struct Script {
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
            Err("not following the revocation stream (Redis unreachable, not answering, or catching up)".into())
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
    ///
    /// An error here is never an acknowledgement, and for a revocation it is not a refusal
    /// either: after [`Error::Timeout`] the command may be sitting in a frozen Redis's socket, to
    /// run when it resumes. The request answers 503 ("not acknowledged", docs/scaling.md), and a
    /// revocation that takes effect later only errs towards refusing a token (a rotation that ran
    /// makes the client's retry with the same refresh token a reuse, which ends the session).
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
        // The connection answers every command within COMMAND_TIMEOUT, or drops them all.
        let reply = answer.await.map_err(|_| Error::Closed)?;
        if let Err(e) = &reply {
            self.noticed(e);
        }
        reply.and_then(Error::from_reply)
    }

    /// A command or a connection attempt that got no answer in time: Redis is frozen, stalled or
    /// cut off from this instance, so the follower, blocked on the same Redis, is most likely
    /// stalled too and the replica may be going stale. Readiness says so at once rather than when
    /// the follower's own read times out, and it is up to the follower to say it is current again
    /// (its next answer from Redis). This also keeps the follower's last word from lifting the
    /// pause between connection attempts.
    fn noticed(&self, error: &Error) {
        if matches!(error, Error::Timeout) {
            self.set_following(false);
        }
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
                *slot = (Some(stream.pipeline(COMMAND_TIMEOUT)), None);
                Ok(slot)
            }
            Err(e) => {
                *slot = (None, Some(Instant::now()));
                self.noticed(&e);
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
        Ok(Tail::new(
            Stream::connect(&self.settings.url, CONNECT_TIMEOUT).await?,
            self.key("events"),
            Set::ALL.map(|set| (set, self.key(set.name()))),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_are_named_by_their_sha1() {
        let script = Script::new("return 1");
        // `redis-cli SCRIPT LOAD "return 1"`
        assert_eq!(script.sha, "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
    }
}
