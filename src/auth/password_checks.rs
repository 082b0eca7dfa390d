//! A bounded pool for password checks, so a flood of `/login` requests can't starve everything else,
//! nor every other client's logins.
//!
//! bcrypt is slow on purpose (docs/benchmarks.md has the figure at cost 12). The checks run on
//! threads of their own, never on the threads that serve requests, and those threads run at the
//! lowest scheduling priority by default (nice 19 on Linux, `PASSWORD_CHECK_NICE`): with one per
//! core, logins use every core the machine has, but only the CPU time that token checks and the
//! rest of the API leave over. On a host shared with other busy processes, a lower nice value
//! keeps logins from waiting behind them.
//!
//! **Places.** At most `concurrency + queue` logins hold a place (a check running, or queued for a
//! thread). A login that finds every place taken waits for one, for `wait` at most
//! (`PASSWORD_CHECK_WAIT`), then gets 503 with `Retry-After`. The wait matters under a flood: a
//! client that sends its next login as soon as it is refused would otherwise be refused at once,
//! again and again, and the request threads would spend the machine on refusals while the checks
//! that produce logins starve (docs/benchmarks.md, issue 23). Waiting costs a flooding connection
//! nothing but time, and its refusals now come at most once per `wait`.
//!
//! **Fairness.** Places and threads are shared between client addresses (lanes): a thread takes
//! the next check from the lane served least recently (a lane new to the pool first), so a login
//! from another address starts after at most one check of each busier lane; when every place is
//! taken, a login from a lane holding at least two places fewer than the fullest lane takes that
//! lane's newest queued place (that login gets 503 at once; the fullest keeps no fewer than the
//! newcomer then holds), so one address cannot hold every place; and a place
//! that frees goes to the waiting login whose lane holds the fewest places (then the one served
//! least recently, then the oldest). None of this looks at the username, so the answer and its
//! timing still say nothing about which users exist.
//!
//! The pool keeps its own figures for `/metrics` ([`QueueStats`]): checks waiting for a place,
//! queued and running, how long each waited for a thread, and how long bcrypt took; each 503 counts
//! as a hit of the `password_check_queue` limit, and is logged at most once a minute
//! ([`crate::logger::limits`]).

use std::net::IpAddr;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::logger::limits::{LimitWarning, address, times};
use crate::metrics::{Limit, LimitHits, QueueStats};
use crate::store::users::UserStore;

mod places;

use places::{Admitted, Answer, Job, Lane, State, Work};

/// Why a password check did not produce an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckError {
    /// No place came free within the bounded wait, or this login's place went to another address.
    Busy,
    /// The check failed (its thread panicked, or none could be started); details are in the log.
    Failed,
}

/// What the pool's threads and the logins share.
struct Shared {
    state: Mutex<State>,
    /// Check threads wait here for a job.
    work: Condvar,
    /// `concurrency + queue`.
    places: usize,
    stats: Arc<QueueStats>,
}

pub struct PasswordChecks {
    shared: Arc<Shared>,
    queue: usize,
    wait: Duration,
    hits: Option<Arc<LimitHits>>,
    warning: LimitWarning,
}

impl std::fmt::Debug for PasswordChecks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordChecks")
            .field("places", &self.shared.places)
            .field("queue", &self.queue)
            .field("wait", &self.wait)
            .finish_non_exhaustive()
    }
}

impl PasswordChecks {
    /// `concurrency` check threads (at least 1) at nice value `nice`, `queue` more places, and a
    /// login finding no place waits `wait` for one before its 503.
    pub fn new(concurrency: usize, queue: usize, nice: i32, wait: Duration) -> Self {
        let concurrency = concurrency.max(1);
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            work: Condvar::new(),
            places: concurrency + queue,
            stats: Arc::new(QueueStats::default()),
        });
        for n in 0..concurrency {
            let thread_shared = Arc::clone(&shared);
            let started = std::thread::Builder::new()
                .name(format!("password-check-{n}"))
                .spawn(move || run_checks(&thread_shared, nice));
            if let Err(e) = started {
                log::error!("cannot start password-check thread {n}: {e}");
            }
        }
        PasswordChecks {
            shared,
            queue,
            wait,
            hits: None,
            warning: LimitWarning::default(),
        }
    }

    /// Counts each 503 in `hits` (`/metrics`), if given.
    pub fn counting_in(mut self, hits: Option<Arc<LimitHits>>) -> Self {
        self.hits = hits;
        self
    }

    /// The pool's figures, for `/metrics`.
    pub fn stats(&self) -> &QueueStats {
        &self.shared.stats
    }

    /// The default number of check threads: one per core. They run at the lowest priority, so
    /// they take only the CPU the request threads leave.
    pub fn default_concurrency() -> usize {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }

    /// Checks `password` for `username`, a login from `client`: at once if a place is free, else
    /// after a bounded wait for one (module documentation). A place is held until the check itself
    /// ends, even if this future is dropped (client gone), so `concurrency + queue` is a true bound
    /// on the work in hand; a login still waiting for a place when dropped leaves at once.
    pub async fn check(
        &self,
        users: Arc<UserStore>,
        username: String,
        password: String,
        client: Option<IpAddr>,
    ) -> Result<bool, CheckError> {
        let work = Box::new(move || users.check_password(&username, &password));
        self.run(client.map(|a| a.to_canonical()), work).await
    }

    async fn run(&self, lane: Lane, work: Work) -> Result<bool, CheckError> {
        let (answer, mut answered) = oneshot::channel();
        let job = Job {
            lane,
            work,
            answer,
            arrived: Instant::now(),
        };
        if let Some(id) = self.shared.admit(job) {
            let mut waiting = Withdraw {
                shared: &self.shared,
                id: Some(id),
            };
            tokio::select! {
                biased;
                answer = &mut answered => return self.outcome(lane, answer),
                () = tokio::time::sleep(self.wait) => {}
            }
            if waiting.withdraw() {
                self.refused(lane, true);
                return Err(CheckError::Busy);
            }
            // Given a place just as the wait ended: its answer comes as any other's.
        }
        let answer = answered.await;
        self.outcome(lane, answer)
    }

    fn outcome(
        &self,
        lane: Lane,
        answer: Result<Answer, oneshot::error::RecvError>,
    ) -> Result<bool, CheckError> {
        match answer {
            Ok(Answer::Checked(valid)) => Ok(valid),
            Ok(Answer::PushedOut) => {
                self.refused(lane, false);
                Err(CheckError::Busy)
            }
            Err(_) => Err(CheckError::Failed),
        }
    }

    /// Counts a 503 and, at most once a minute, says so with the settings to raise.
    fn refused(&self, lane: Lane, waited: bool) {
        if let Some(hits) = &self.hits {
            hits.hit(Limit::PasswordCheckQueue);
        }
        let Some(n) = self.warning.due(Instant::now()) else {
            return;
        };
        let from = address(lane);
        let wait = self.wait.as_secs();
        let how = if waited {
            format!("after waiting PASSWORD_CHECK_WAIT={wait}s for a place")
        } else {
            "at once: its queue place went to a login from an address holding at least two fewer"
                .to_string()
        };
        log::warn!(
            "password-check places all taken (PASSWORD_CHECK_CONCURRENCY={} running, \
             PASSWORD_CHECK_QUEUE={} queued): a login from {from} got 503 {how} ({} since the last \
             such line); if the CPU has room raise PASSWORD_CHECK_CONCURRENCY, else \
             PASSWORD_CHECK_QUEUE or PASSWORD_CHECK_WAIT let more logins wait",
            self.shared.places - self.queue,
            self.queue,
            times(n),
        );
    }
}

impl Drop for PasswordChecks {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.work.notify_all();
    }
}

/// Takes a waiting login out of the pool when its wait ends or its client leaves (the future
/// dropped), so logins given up on never pile up.
struct Withdraw<'a> {
    shared: &'a Shared,
    id: Option<u64>,
}

impl Withdraw<'_> {
    /// True if the login was still waiting (it is now gone); false if it had been given a place.
    fn withdraw(&mut self) -> bool {
        self.id
            .take()
            .is_some_and(|id| self.shared.lock().withdraw(id, &self.shared.stats))
    }
}

impl Drop for Withdraw<'_> {
    fn drop(&mut self) {
        self.withdraw();
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock means a panic between two updates of plain counts; keep serving.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Gives `job` a place, or one taken from a fuller lane, or a turn among the waiting (its id).
    fn admit(&self, job: Job) -> Option<u64> {
        let mut state = self.lock();
        match state.admit(job, self.places, &self.stats) {
            Admitted::Placed => {
                drop(state);
                self.work.notify_one();
                None
            }
            Admitted::PlacedInstead(pushed) => {
                drop(state);
                let _ = pushed.answer.send(Answer::PushedOut);
                None
            }
            Admitted::Waiting(id) => Some(id),
        }
    }
}

/// A check thread: lowers its own priority, then takes jobs until the pool is dropped.
fn run_checks(shared: &Shared, nice: i32) {
    if nice > 0 {
        lower_priority(nice);
    }
    let stats = &shared.stats;
    loop {
        let job = {
            let mut state = shared.lock();
            loop {
                if state.closed {
                    return;
                }
                if let Some(job) = state.next(stats) {
                    break job;
                }
                state = shared.work.wait(state).unwrap_or_else(|e| e.into_inner());
            }
        };
        let Job {
            lane,
            work,
            answer,
            arrived,
        } = job;
        let valid = if answer.is_closed() {
            // The login was abandoned while it waited: skip the bcrypt work.
            None
        } else {
            stats.wait.observe(arrived.elapsed());
            stats.running.fetch_add(1, Ordering::Relaxed);
            let started = Instant::now();
            // A panicking check fails its own login (500), not the thread or its place.
            let valid = std::panic::catch_unwind(AssertUnwindSafe(work)).ok();
            if valid.is_none() {
                log::error!("a password check panicked; its login gets 500");
            }
            stats.duration.observe(started.elapsed());
            stats.running.fetch_sub(1, Ordering::Relaxed);
            valid
        };
        // The place is given back before the answer goes out, so the client's next login finds it.
        shared.lock().finish(lane, stats);
        if let Some(valid) = valid {
            let _ = answer.send(Answer::Checked(valid));
        }
    }
}

/// A lower scheduling priority for the calling thread. On Linux the nice value belongs to the
/// thread (`setpriority(2)`, NOTES), so only this check thread is affected.
#[cfg(target_os = "linux")]
fn lower_priority(nice: i32) {
    // SAFETY: setpriority only reads its integer arguments; `0` names the calling thread.
    let result = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) };
    if result != 0 {
        log::warn!(
            "password checks run at normal priority: setpriority failed: {}",
            std::io::Error::last_os_error()
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority(_nice: i32) {}

#[cfg(test)]
mod tests;
