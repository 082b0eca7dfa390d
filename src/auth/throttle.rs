//! Failed-login throttling: after too many failures for one username, or from one client address,
//! within a window, `/login` answers 429 with `Retry-After` without running bcrypt at all.
//!
//! A success resets the username's count. Memory is bounded: each table holds at most `capacity`
//! fixed-size keys (an address, or a username's hash); when full, expired windows are dropped first,
//! then the eighth of the windows that started earliest, so an attacker inventing usernames can
//! only push out other stale entries, never grow the table. Making room in bulk keeps a failure at
//! the cap at a constant cost on average: one pass over the table pays for an eighth of it. The address is the TCP peer, or the client a trusted
//! proxy names (`crate::http::client_addr`).
//!
//! With a shared store (`REDIS_URL`, feature `redis`) the counts live in Redis instead, so the
//! limit holds across every instance: one round trip to check, one to count a failure (`INCR` and
//! the window's expiry in one script). When Redis can't be asked, `/login` fails closed
//! ([`ThrottleUnavailable`], a 503): counting locally would give an attacker the limit once per
//! instance, and a login is the one request that can wait for Redis to come back.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use std::net::IpAddr;

use crate::logger::limits::{LimitWarning, address, times};
use crate::metrics::Limit;

/// Failures counted for one key since `started`.
#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

/// One table of failure counts (per username, or per address).
#[derive(Debug)]
pub struct FailureCounter<K> {
    limit: u32,
    window: Duration,
    capacity: usize,
    windows: Mutex<HashMap<K, Window>>,
}

impl<K: Hash + Eq + Clone> FailureCounter<K> {
    pub fn new(limit: u32, window: Duration, capacity: usize) -> Self {
        FailureCounter {
            limit,
            window,
            capacity: capacity.max(1),
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(seconds to wait)` if `key` has used up its failures in the current window.
    pub fn blocked(&self, key: &K, now: Instant) -> Option<u64> {
        let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let w = windows.get(key)?;
        let ends = w.started + self.window;
        (w.failures >= self.limit && now < ends).then(|| (ends - now).as_secs().max(1))
    }

    /// Counts one failure for `key`.
    pub fn fail(&self, key: &K, now: Instant) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if !windows.contains_key(key) && windows.len() >= self.capacity {
            self.make_room(&mut windows, now);
        }
        let w = windows.entry(key.clone()).or_insert(Window {
            started: now,
            failures: 0,
        });
        if now >= w.started + self.window {
            *w = Window {
                started: now,
                failures: 0,
            };
        }
        w.failures = w.failures.saturating_add(1);
    }

    /// Drops the expired windows and, if that is not enough, the eighth that started earliest.
    fn make_room(&self, windows: &mut HashMap<K, Window>, now: Instant) {
        let window = self.window;
        windows.retain(|_, w| now < w.started + window);
        if windows.len() < self.capacity {
            return;
        }
        let mut starts: Vec<Instant> = windows.values().map(|w| w.started).collect();
        let evict = (self.capacity / 8).max(1);
        let (_, &mut cutoff, _) = starts.select_nth_unstable(evict - 1);
        let mut left = evict;
        windows.retain(|_, w| {
            if left > 0 && w.started <= cutoff {
                left -= 1;
                false
            } else {
                true
            }
        });
    }

    /// Forgets `key` (a successful login).
    pub fn reset(&self, key: &K) {
        self.windows
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }

    pub fn len(&self) -> usize {
        self.windows.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn blocks_after_the_limit_within_the_window() {
        let c = FailureCounter::new(3, MIN, 100);
        let t = Instant::now();
        for _ in 0..2 {
            c.fail(&"alice", t);
        }
        assert_eq!(c.blocked(&"alice", t), None);
        c.fail(&"alice", t);
        assert_eq!(c.blocked(&"alice", t), Some(60));
        assert_eq!(c.blocked(&"alice", t + Duration::from_secs(50)), Some(10));
        assert_eq!(c.blocked(&"bob", t), None);
        // The window passes: free again, and counting restarts.
        assert_eq!(c.blocked(&"alice", t + MIN), None);
        c.fail(&"alice", t + MIN);
        assert_eq!(c.blocked(&"alice", t + MIN), None);
    }

    #[test]
    fn success_resets_the_count() {
        let c = FailureCounter::new(2, MIN, 100);
        let t = Instant::now();
        c.fail(&"alice", t);
        c.fail(&"alice", t);
        assert!(c.blocked(&"alice", t).is_some());
        c.reset(&"alice");
        assert_eq!(c.blocked(&"alice", t), None);
    }

    #[test]
    fn a_refusal_names_the_limit_that_made_it() {
        let throttle = LoginThrottle::new(2, 3, MIN);
        let (t, here) = (Instant::now(), Some("10.0.0.1".parse().unwrap()));
        throttle.failed("alice", here, t);
        throttle.failed("alice", here, t);
        assert_eq!(
            throttle.blocked("alice", here, t),
            Some((60, Limit::LoginMaxFailuresPerUser))
        );
        // A third failure, for another name, uses up the address's limit too; an unknown name is
        // counted as any other (the throttle never asks whether a user exists).
        throttle.failed("nobody-by-this-name", here, t);
        assert_eq!(
            throttle.blocked("bob", here, t),
            Some((60, Limit::LoginMaxFailuresPerAddress))
        );
        assert_eq!(throttle.blocked("bob", None, t), None);
    }

    #[test]
    fn memory_stays_bounded_however_many_keys_are_invented() {
        let c = FailureCounter::new(5, MIN, 1000);
        let t = Instant::now();
        for i in 0..50_000u32 {
            c.fail(&i, t + Duration::from_millis(u64::from(i)));
        }
        assert!(c.len() <= 1000, "{}", c.len());
        // The newest keys are the ones kept.
        c.fail(&49_999, t + Duration::from_secs(50));
        assert_eq!(c.len(), 1000);
        let windows = c.windows.lock().unwrap();
        assert!(windows.contains_key(&49_999) && windows.contains_key(&49_000));
        assert!(!windows.contains_key(&0) && !windows.contains_key(&48_000));
    }
}

/// Both tables `/login` consults, here or (with a shared store) in Redis.
#[derive(Debug)]
pub struct LoginThrottle {
    pub by_user: FailureCounter<UserKey>,
    pub by_addr: FailureCounter<IpAddr>,
    /// The warnings that a limit refused a login, per username and per address.
    warnings: [LimitWarning; 2],
    #[cfg(feature = "redis")]
    shared: Option<std::sync::Arc<crate::store::redis::Redis>>,
}

/// The shared counters could not be asked or updated (Redis is down): the login is refused (503).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleUnavailable(pub String);

/// A username as a throttling key: the first 16 bytes of its SHA-256. Fixed-size, so an attacker
/// sending 16 KiB usernames can't make the table hold 16 KiB per entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserKey([u8; 16]);

impl UserKey {
    pub fn of(username: &str) -> Self {
        UserKey(crate::bytes::digest16(username.as_bytes()))
    }
}

/// A username's shared counter: `u:` and its digest, so no name reaches Redis.
#[cfg(feature = "redis")]
fn user_counter(user: &str) -> String {
    format!("u:{}", crate::bytes::hex(&UserKey::of(user).0))
}

/// The shared counters one login attempt touches: its username's, and its address's (if known).
#[cfg(feature = "redis")]
fn counters(user: &str, addr: Option<IpAddr>) -> Vec<String> {
    let mut counters = vec![user_counter(user)];
    counters.extend(addr.map(|a| format!("a:{}", a.to_canonical())));
    counters
}

#[cfg(feature = "redis")]
fn unavailable(e: crate::store::redis::Error) -> ThrottleUnavailable {
    ThrottleUnavailable(e.to_string())
}

/// Keys kept per table; at ~100 bytes each, about 1 MiB per table at most.
const CAPACITY: usize = 10_000;

impl LoginThrottle {
    pub fn new(per_user: u32, per_addr: u32, window: Duration) -> Self {
        LoginThrottle {
            by_user: FailureCounter::new(per_user, window, CAPACITY),
            by_addr: FailureCounter::new(per_addr, window, CAPACITY),
            warnings: Default::default(),
            #[cfg(feature = "redis")]
            shared: None,
        }
    }

    /// Counts in the store `denylist` shares with other instances, if it does.
    pub fn shared_with(self, denylist: &crate::store::denylist::Denylist) -> Self {
        #[cfg(feature = "redis")]
        return LoginThrottle {
            shared: denylist.shared_store().cloned(),
            ..self
        };
        #[cfg(not(feature = "redis"))]
        {
            let _ = denylist;
            self
        }
    }

    /// [`LoginThrottle::blocked`], asking the shared counters when there are some.
    pub async fn check(
        &self,
        user: &str,
        addr: Option<IpAddr>,
        now: Instant,
    ) -> Result<Option<(u64, Limit)>, ThrottleUnavailable> {
        #[cfg(feature = "redis")]
        if let Some(redis) = &self.shared {
            let counters = counters(user, addr);
            let limits = [
                (self.by_user.limit, Limit::LoginMaxFailuresPerUser),
                (self.by_addr.limit, Limit::LoginMaxFailuresPerAddress),
            ];
            let counts = redis.failures(&counters).await.map_err(unavailable)?;
            let wait = counts
                .iter()
                .zip(limits)
                .filter(|((count, _), (limit, _))| *count > 0 && *count >= i64::from(*limit))
                .map(|((_, left), (_, which))| (left.as_secs_f64().ceil() as u64, which))
                .max_by_key(|(secs, _)| *secs);
            return Ok(wait.map(|(secs, which)| (secs.max(1), which)));
        }
        Ok(self.blocked(user, addr, now))
    }

    /// Says, at most once a minute per limit, that `limit` refused a login from `addr` (429), with
    /// the setting to raise. The username is not logged.
    pub fn warn_refused(&self, limit: Limit, addr: Option<IpAddr>) {
        let (setting, value, index) = match limit {
            Limit::LoginMaxFailuresPerAddress => {
                ("LOGIN_MAX_FAILURES_PER_ADDRESS", self.by_addr.limit, 1)
            }
            _ => ("LOGIN_MAX_FAILURES_PER_USER", self.by_user.limit, 0),
        };
        let Some(n) = self.warnings[index].due(Instant::now()) else {
            return;
        };
        let from = address(addr);
        let (counted, raise_if) = if index == 1 {
            (
                "from one address",
                "legitimate clients share this address (a NAT, or a proxy not in TRUSTED_PROXIES)",
            )
        } else {
            ("for one username", "legitimate users hit it")
        };
        log::warn!(
            "{setting}={value} reached: a login from {from} got 429 ({} since the last such line); \
             the limit counts failed logins {counted} within LOGIN_FAILURE_WINDOW={}s: raise it if \
             {raise_if}",
            times(n),
            self.by_user.window.as_secs()
        );
    }

    /// [`LoginThrottle::failed`], counting in the shared counters when there are some.
    pub async fn count_failure(
        &self,
        user: &str,
        addr: Option<IpAddr>,
        now: Instant,
    ) -> Result<(), ThrottleUnavailable> {
        #[cfg(feature = "redis")]
        if let Some(redis) = &self.shared {
            let counters = counters(user, addr);
            redis
                .count_failures(&counters, self.by_user.window)
                .await
                .map_err(unavailable)?;
            return Ok(());
        }
        self.failed(user, addr, now);
        Ok(())
    }

    /// [`LoginThrottle::succeeded`], in the shared counters when there are some. A reset that does
    /// not reach Redis only leaves the count to expire with its window, so it is logged, not refused.
    pub async fn reset(&self, user: &str) {
        #[cfg(feature = "redis")]
        if let Some(redis) = &self.shared {
            if let Err(e) = redis.forget_failures(&user_counter(user)).await {
                log::warn!("the failed-login count of a user was not reset: {e}");
            }
            return;
        }
        self.succeeded(user);
    }

    /// `Some((seconds, limit))` when this username or address must wait before trying again: the
    /// longer wait, and the limit that imposes it.
    pub fn blocked(&self, user: &str, addr: Option<IpAddr>, now: Instant) -> Option<(u64, Limit)> {
        let by_user = self
            .by_user
            .blocked(&UserKey::of(user), now)
            .map(|wait| (wait, Limit::LoginMaxFailuresPerUser));
        let by_addr = addr
            .and_then(|a| self.by_addr.blocked(&a, now))
            .map(|wait| (wait, Limit::LoginMaxFailuresPerAddress));
        match (by_user, by_addr) {
            (Some(user), Some(addr)) => Some(if addr.0 > user.0 { addr } else { user }),
            (user, addr) => user.or(addr),
        }
    }

    pub fn failed(&self, user: &str, addr: Option<IpAddr>, now: Instant) {
        self.by_user.fail(&UserKey::of(user), now);
        if let Some(a) = addr {
            self.by_addr.fail(&a, now);
        }
    }

    pub fn succeeded(&self, user: &str) {
        self.by_user.reset(&UserKey::of(user));
    }
}
