//! The shared store several instances use (feature `redis`, `REDIS_URL`; docs/scaling.md): the
//! handful of operations the server needs, in plain values, over a well-kept client ([`fred`],
//! set up in `client.rs`): revocations ([`Redis::revoke`]; [`Tail`], the follower's connection
//! that loads the sets and reads the event stream, is in `tail.rs`), failed-login counters
//! ([`Redis::count_failures`], [`Redis::failures`]), and readiness (can a revocation be written
//! now?). What start-up learns of the server (its version, how durable an acknowledgement is) is
//! `server.rs`'s.
//!
//! # Keys (all under `REDIS_KEY_PREFIX`, `hyperjwt:` by default, `{hyperjwt}:` on a Cluster)
//!
//! | key | type | holds |
//! |---|---|---|
//! | `jtis`, `families`, `cutoffs` | sorted set | one member per revocation, scored by when it stops mattering (Unix seconds) |
//! | `events` | stream | every revocation as it happened, field `r`: the journal line of `crate::store::denylist` |
//! | `fail:u:<hex>`, `fail:a:<ip>` | string (counter) | failed logins of a username (its digest) or an address, expiring with the window |
//!
//! A revocation is one script ([`REVOKE`]), so it is atomic: `ZADD NX` decides who revoked first
//! (of two instances rotating one refresh token, exactly one wins), the event is appended only
//! then, and members past their time are swept. It is all or nothing even under a narrow ACL: the
//! script asks `redis.acl_check_cmd` for each of its writes before making the first, and Redis
//! refuses a script at `maxmemory` only before its first write. Sorted sets rather than one key
//! per revocation (`SET … EXAT`) so that start-up loads each kind with one ranged read instead of
//! a `SCAN` over a keyspace other applications may share; the sweep does what `EXAT` would.
//!
//! This module knows nothing of tokens: the denylist (`crate::store::denylist`) turns its records
//! into members and events, and back.

mod client;
mod error;
mod scripts;
mod server;
mod tail;
mod values;

use std::borrow::Cow;
use std::fmt;
use std::sync::Mutex as SyncMutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use fred::clients::Client;
use fred::prelude::ClientLike;
use fred::types::config::TlsConnector;
use fred::types::{ClusterHash, ConnectHandle, CustomCommand, Value};

use crate::config::RedisSettings;
use crate::readiness::{Check, CheckFuture, Verdict};
pub use error::Error;
use scripts::{COUNT_FAILURES, FAILURES, PERMISSIONS, PROBE, REVOKE, Script};
pub use server::{Durability, Facts};
pub use tail::{Position, Set, StreamId, StreamInfo, Tail};
use values::items;

/// The event stream keeps about this many events (`XADD MAXLEN ~`): an instance away for longer
/// than that many revocations reloads the sets in full.
pub const STREAM_LENGTH: u64 = 100_000;
/// A command the Cluster redirects is sent again at most this many times.
const MAX_REDIRECTIONS: u32 = 3;
/// Readiness asks Redis at most this often; callers in between get the last answer.
const PROBE_EVERY: Duration = Duration::from_secs(1);

/// The handle every part of the server shares: the settings, the client (one pipelined
/// connection, made again by the client when it breaks), whether the stream follower is
/// connected, and readiness's last probe.
pub struct Redis {
    settings: RedisSettings,
    /// Made once ([`client::tls`]); every dedicated connection of the follower reuses it.
    tls: Option<TlsConnector>,
    client: Client,
    task: SyncMutex<Option<ConnectHandle>>,
    connected_once: AtomicBool,
    following: AtomicBool,
    /// A command went unanswered; until the follower hears from Redis again, commands fail at
    /// once instead of each waiting out its timeout behind a connection that may be dead.
    stalled: AtomicBool,
    durability: Durability,
    /// The Cluster slot of every key (the prefix's hash tag); ignored elsewhere.
    slot: u16,
    revoke: Script,
    probe: Script,
    count_failures: Script,
    failures: Script,
    last_probe: tokio::sync::Mutex<Option<(Instant, Verdict)>>,
}

impl fmt::Debug for Redis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redis")
            .field("url", &self.settings.url)
            .field("prefix", &self.settings.key_prefix)
            .field("durability", &self.durability)
            .field("connected", &self.is_connected())
            .finish()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        // The client's task reconnects for ever: end it with the handle.
        if let Some(task) = self.task.lock().ok().and_then(|mut t| t.take()) {
            task.abort();
        }
    }
}

/// Readiness (`/health/ready`): ready while the replica is current (its follower reads the
/// revocation stream; disconnected or catching up, this instance could accept a token another
/// instance has revoked) **and** a revocation can be written now (Redis may answer reads and
/// refuse writes: a replica after a failover, `maxmemory`, an ACL). The write is probed at most
/// once a second ([`PROBE_EVERY`]), as a revocation would be made, durability included.
impl Check for Redis {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn check(&self) -> CheckFuture<'_> {
        Box::pin(async move {
            if !self.is_connected() {
                return Err(
                    "not following the revocation stream (Redis unreachable, not answering, or catching up)"
                        .into(),
                );
            }
            let mut last = self.last_probe.lock().await;
            if let Some((at, verdict)) = last.as_ref() {
                if at.elapsed() < PROBE_EVERY {
                    return verdict.clone();
                }
            }
            let verdict = match self.probe_write().await {
                Ok(()) => Ok(()),
                Err(e) => {
                    log::warn!("readiness: a revocation cannot be written now: {e}");
                    Err(Cow::Owned(format!("revocations cannot be written: {e}")))
                }
            };
            *last = Some((Instant::now(), verdict.clone()));
            verdict
        })
    }
}

impl Redis {
    /// The handle, its client not yet connected ([`Redis::start`]); `durability` is what start-up
    /// chose for this server (`server.rs`).
    pub fn new(settings: RedisSettings, durability: Durability) -> Result<Self, Error> {
        let tls = client::tls(&settings)?;
        let client = client::build(&settings, client::Role::Shared, tls.as_ref())?;
        let slot = fred::util::redis_keyslot(settings.key_prefix.as_bytes());
        Ok(Redis {
            settings,
            tls,
            client,
            task: SyncMutex::new(None),
            connected_once: AtomicBool::new(false),
            following: AtomicBool::new(false),
            stalled: AtomicBool::new(false),
            durability,
            slot,
            revoke: Script::new(REVOKE),
            probe: Script::new(PROBE),
            count_failures: Script::new(COUNT_FAILURES),
            failures: Script::new(FAILURES),
            last_probe: tokio::sync::Mutex::new(None),
        })
    }

    /// Connects the shared client on the current runtime; it reconnects by itself from then on.
    pub fn start(&self) {
        let task = self.client.connect();
        if let Ok(mut slot) = self.task.lock() {
            *slot = Some(task);
        }
    }

    /// What an acknowledged revocation waits for (chosen at start-up, `server.rs`).
    pub fn durability(&self) -> Durability {
        self.durability
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

    /// One command on the shared client, on the node holding our keys.
    ///
    /// An error here is never an acknowledgement, and for a revocation it is not a refusal
    /// either: after [`Error::Timeout`] or a lost connection the command may have run, or may
    /// run when a frozen Redis resumes. The request answers 503 ("not acknowledged",
    /// docs/scaling.md), and the client's retry is safe (docs/http.md): it finds the revocation
    /// made, or makes it.
    async fn call(&self, name: &'static str, args: Vec<String>) -> Result<Value, Error> {
        self.may_send().await?;
        let mut redirections = 0;
        loop {
            let command = CustomCommand::new_static(name, ClusterHash::Custom(self.slot), false);
            let reply = self.client.custom::<Value, _>(command, args.clone()).await;
            match reply.map_err(|e| self.noticed(Error::from(e))) {
                Err(Error::Redirected) if redirections < MAX_REDIRECTIONS => redirections += 1,
                other => return other,
            }
        }
    }

    /// Whether to send a command now. Until the client has connected once, a command waits for it
    /// (at most the dial timeout) rather than failing at once: requests can arrive as soon as
    /// start-up is done. After a command went unanswered, commands fail at once until the
    /// follower hears from Redis again ([`Redis::noticed`]).
    async fn may_send(&self) -> Result<(), Error> {
        if !self.connected_once.load(Ordering::Relaxed) {
            let wait = self.client.wait_for_connect();
            let _ = tokio::time::timeout(self.settings.dial_timeout, wait).await;
            self.connected_once.store(true, Ordering::Relaxed);
        }
        if self.stalled.load(Ordering::Relaxed) {
            if !self.is_connected() {
                return Err(Error::Unavailable(
                    "Redis stopped answering; waiting for it to answer again".into(),
                ));
            }
            self.stalled.store(false, Ordering::Relaxed);
        }
        Ok(())
    }

    /// A command that got no answer in time: Redis is frozen, stalled or cut off from this
    /// instance, so the follower, blocked on the same Redis, is most likely stalled too and the
    /// replica may be going stale. Readiness says so at once rather than when the follower's own
    /// read times out, and it is up to the follower to say it is current again (its next answer
    /// from Redis).
    fn noticed(&self, error: Error) -> Error {
        if matches!(error, Error::Timeout) {
            self.set_following(false);
            self.stalled.store(true, Ordering::Relaxed);
        }
        error
    }

    /// `script` by its SHA-1, or by its text when Redis does not know it yet (it restarted, or
    /// flushed its scripts).
    async fn eval(
        &self,
        script: &Script,
        keys: &[String],
        args: &[String],
    ) -> Result<Value, Error> {
        match self
            .call("EVALSHA", eval_args(&script.sha, keys, args))
            .await
        {
            Err(Error::Refused(msg)) if msg.starts_with("NOSCRIPT") => {
                self.call("EVAL", eval_args(script.source, keys, args))
                    .await
            }
            other => other,
        }
    }

    /// [`Redis::eval`] of a write, acknowledged as durably as [`Durability`] says: the script and
    /// `WAITAOF` (or `WAIT`) go out together on one connection, so the wait covers the script.
    async fn eval_durably(
        &self,
        script: &Script,
        keys: &[String],
        args: &[String],
    ) -> Result<Value, Error> {
        let wait = match self.durability {
            Durability::None => return self.eval(script, keys, args).await,
            Durability::WaitAof { local, replicas } => (
                "WAITAOF",
                vec![
                    u8::from(local).to_string(),
                    replicas.to_string(),
                    self.wait_ms(),
                ],
            ),
            Durability::Wait { replicas } => ("WAIT", vec![replicas.to_string(), self.wait_ms()]),
        };
        self.may_send().await?;
        let mut text = false;
        let mut redirections = 0;
        loop {
            let pipeline = self.client.pipeline();
            let (name, body) = if text {
                ("EVAL", script.source)
            } else {
                ("EVALSHA", script.sha.as_str())
            };
            let eval = CustomCommand::new_static(name, ClusterHash::Custom(self.slot), false);
            let waiting = CustomCommand::new_static(wait.0, ClusterHash::Custom(self.slot), false);
            let queued: Result<(), _> = pipeline.custom(eval, eval_args(body, keys, args)).await;
            queued.map_err(Error::from)?;
            let queued: Result<(), _> = pipeline.custom(waiting, wait.1.clone()).await;
            queued.map_err(Error::from)?;
            let mut replies = pipeline.try_all::<Value>().await.into_iter();
            let (Some(result), Some(waited)) = (replies.next(), replies.next()) else {
                return Err(Error::Unexpected("two replies"));
            };
            let result = result.map_err(|e| self.noticed(Error::from(e)));
            match result {
                Err(Error::Refused(msg)) if msg.starts_with("NOSCRIPT") && !text => {
                    text = true;
                    continue;
                }
                Err(Error::Redirected) if redirections < MAX_REDIRECTIONS => {
                    redirections += 1;
                    continue;
                }
                Err(e) => return Err(e),
                Ok(value) => {
                    let waited = waited.map_err(|e| self.noticed(Error::from(e)))?;
                    self.check_durable(&waited)?;
                    return Ok(value);
                }
            }
        }
    }

    /// `WAITAOF`'s or `WAIT`'s timeout: within the command timeout, and past one `everysec`
    /// fsync (a second).
    fn wait_ms(&self) -> String {
        (self.settings.command_timeout.as_millis() * 3 / 4)
            .max(1)
            .to_string()
    }

    /// Whether `WAITAOF`'s `[local, replicas]` (or `WAIT`'s count) reached what was asked.
    fn check_durable(&self, waited: &Value) -> Result<(), Error> {
        let (local, replicas) = match (self.durability, waited) {
            (Durability::WaitAof { .. }, Value::Array(counts)) => (
                counts.first().and_then(Value::as_i64),
                counts.get(1).and_then(Value::as_i64),
            ),
            (Durability::Wait { .. }, count) => (Some(1), count.as_i64()),
            _ => (None, None),
        };
        let (Some(local), Some(replicas)) = (local, replicas) else {
            return Err(Error::Unexpected("WAITAOF's or WAIT's counts"));
        };
        let (want_local, want_replicas) = match self.durability {
            Durability::WaitAof { local, replicas } => (i64::from(local), i64::from(replicas)),
            Durability::Wait { replicas } => (0, i64::from(replicas)),
            Durability::None => (0, 0),
        };
        if local < want_local {
            return Err(Error::NotDurable(
                "Redis's append-only file was not on disk in time".into(),
            ));
        }
        if replicas < want_replicas {
            return Err(Error::NotDurable(format!(
                "{replicas} of {want_replicas} replica(s) had it in time"
            )));
        }
        Ok(())
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
        let added = self.eval_durably(&self.revoke, &keys, &args).await?;
        Ok(added.as_i64().ok_or(Error::Unexpected("ZADD's count"))? == 1)
    }

    /// Whether a revocation can be written now: the [`PROBE`] script, as durably as a
    /// revocation.
    pub async fn probe_write(&self) -> Result<(), Error> {
        let keys = [self.key(Set::Jtis.name()), self.key("events")];
        let args = [
            "readiness-probe".to_string(),
            crate::store::unix_now().to_string(),
        ];
        self.eval_durably(&self.probe, &keys, &args).await.map(drop)
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
        items(&counts)
            .ok_or(Error::Unexpected("a list of counts"))?
            .iter()
            .map(|n| n.as_i64().ok_or(Error::Unexpected("a count")))
            .collect()
    }

    /// Each counter's failures and the time left in its window. One round trip.
    pub async fn failures(&self, counters: &[String]) -> Result<Vec<(i64, Duration)>, Error> {
        let keys: Vec<String> = counters
            .iter()
            .map(|c| self.key(&format!("fail:{c}")))
            .collect();
        let reply = self.eval(&self.failures, &keys, &[]).await?;
        let items = items(&reply).ok_or(Error::Unexpected("counts and PTTLs"))?;
        items
            .chunks(2)
            .map(|pair| match pair {
                [count, ttl] => {
                    let count = count.as_i64().ok_or(Error::Unexpected("a count"))?;
                    // PTTL is -2 (no key) or -1 (no expiry, which we never leave): nothing to wait.
                    let ttl = ttl.as_i64().ok_or(Error::Unexpected("a PTTL"))?;
                    Ok((
                        count,
                        Duration::from_millis(u64::try_from(ttl).unwrap_or(0)),
                    ))
                }
                _ => Err(Error::Unexpected("pairs of count and PTTL")),
            })
            .collect()
    }

    /// Forgets a failure counter (a successful login).
    pub async fn forget_failures(&self, counter: &str) -> Result<(), Error> {
        let key = self.key(&format!("fail:{counter}"));
        self.call("DEL", vec![key]).await.map(drop)
    }

    /// A new dedicated connection for following the stream.
    pub async fn tail(&self) -> Result<Tail, Error> {
        tail(&self.settings, self.tls.as_ref()).await
    }
}

pub use client::tls;

/// A new dedicated connection for following the stream, before there is a [`Redis`] (start-up);
/// `tls` from [`tls`].
pub async fn tail(settings: &RedisSettings, tls: Option<&TlsConnector>) -> Result<Tail, Error> {
    let client = client::build(settings, client::Role::Dedicated, tls)?;
    let task = client::connect(&client, settings).await?;
    let prefix = &settings.key_prefix;
    Ok(Tail::new(
        (client, task),
        settings.command_timeout,
        format!("{prefix}events"),
        Set::ALL.map(|set| (set, format!("{prefix}{}", set.name()))),
        fred::util::redis_keyslot(prefix.as_bytes()),
    ))
}

/// What the server is and how durable an acknowledgement is, asked over `tail`'s connection, and
/// whether a revocation can be written (a probe that stops start-up when the ACL denies it).
pub async fn inspect(tail: &Tail, settings: &RedisSettings) -> Result<Facts, Error> {
    let prefix = &settings.key_prefix;
    let keys = [
        format!("{prefix}{}", Set::Jtis.name()),
        format!("{prefix}events"),
        format!("{prefix}fail:permissions"),
    ];
    let script = Script::new(PERMISSIONS);
    let denied = match tail
        .call("EVALSHA", eval_args(&script.sha, &keys, &[]))
        .await
    {
        Err(Error::Refused(msg)) if msg.starts_with("NOSCRIPT") => {
            tail.call("EVAL", eval_args(script.source, &keys, &[]))
                .await?
        }
        other => other?,
    };
    match denied.as_str() {
        Some(command) if !command.is_empty() => {
            return Err(Error::Refused(format!(
                "NOPERM no permission to run {command} on {prefix}*"
            )));
        }
        Some(_) => {}
        None => return Err(Error::Unexpected("a command name")),
    }
    server::inspect(tail.client(), settings, tail.slot()).await
}

/// `sha-or-source numkeys keys… args…`.
fn eval_args(script: &str, keys: &[String], args: &[String]) -> Vec<String> {
    let mut all = Vec::with_capacity(2 + keys.len() + args.len());
    all.push(script.to_string());
    all.push(keys.len().to_string());
    all.extend(keys.iter().cloned());
    all.extend(args.iter().cloned());
    all
}
