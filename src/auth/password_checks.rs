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
//! taken, a login from a lane holding fewer places than the fullest lane takes that lane's newest
//! queued place (that login gets 503 at once), so one address cannot hold every place; and a place
//! that frees goes to the waiting login whose lane holds the fewest places (then the one served
//! least recently, then the oldest). None of this looks at the username, so the answer and its
//! timing still say nothing about which users exist.
//!
//! The pool keeps its own figures for `/metrics` ([`QueueStats`]): checks waiting for a place,
//! queued and running, how long each waited for a thread, and how long bcrypt took; each 503 counts
//! as a hit of the `password_check_queue` limit, and is logged at most once a minute
//! ([`crate::logger::limits`]).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::logger::limits::{LimitWarning, address, times};
use crate::metrics::{Limit, LimitHits, QueueStats};
use crate::store::users::UserStore;

/// Why a password check did not produce an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckError {
    /// No place came free within the bounded wait, or this login's place went to another address.
    Busy,
    /// The check failed (its thread panicked, or none could be started); details are in the log.
    Failed,
}

/// Whose logins share a lane: the client's address (`None` when it is not known).
type Lane = Option<IpAddr>;

/// The work of one check: true when the password is right.
type Work = Box<dyn FnOnce() -> bool + Send>;

/// How a job ended, sent to the login that waits for it.
#[derive(Debug)]
enum Answer {
    Checked(bool),
    /// Its place went to a login from a lane holding fewer places.
    PushedOut,
}

/// One check, and where to send its answer.
struct Job {
    lane: Lane,
    work: Work,
    answer: oneshot::Sender<Answer>,
    arrived: Instant,
}

/// A login waiting for a place; `id` lets it withdraw when its wait ends or its client leaves.
struct Waiting {
    id: u64,
    job: Job,
}

/// One lane's share of the pool. It exists while the lane holds a place or has a login waiting.
struct LaneState {
    /// Its jobs queued for a thread, oldest first.
    queued: VecDeque<Job>,
    /// Places it holds: its queued jobs and its running checks.
    held: usize,
    /// Its logins waiting for a place.
    waiting: usize,
    /// The pool's count of checks started when one of this lane's last started; 0: none yet.
    served: u64,
    /// When the lane appeared (a sequence number): the tie-break between lanes never served.
    joined: u64,
}

struct State {
    lanes: HashMap<Lane, LaneState>,
    /// Logins waiting for a place, oldest first.
    waiting: VecDeque<Waiting>,
    /// Places held, all lanes together.
    held: usize,
    /// Checks started so far: the clock that `LaneState::served` reads.
    started: u64,
    /// Sequence numbers for waiting logins and lanes.
    next_id: u64,
    /// The pool was dropped: threads stop.
    closed: bool,
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
            state: Mutex::new(State {
                lanes: HashMap::new(),
                waiting: VecDeque::new(),
                held: 0,
                started: 0,
                next_id: 0,
                closed: false,
            }),
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
            "at once: its queue place went to a login from an address holding fewer".to_string()
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

    /// Gives `job` a place, taking one from the fullest lane if that lane holds more than one
    /// place more than `job`'s; else puts it among the waiting and returns its id.
    fn admit(&self, job: Job) -> Option<u64> {
        let mut state = self.lock();
        if state.held < self.places {
            state.place(job, &self.stats);
            drop(state);
            self.work.notify_one();
            return None;
        }
        let mine = state.lanes.get(&job.lane).map_or(0, |lane| lane.held);
        if let Some(pushed) = state.push_out(mine, &self.stats) {
            state.place(job, &self.stats);
            drop(state);
            let _ = pushed.answer.send(Answer::PushedOut);
            return None;
        }
        let id = state.next_id;
        state.next_id += 1;
        state.lane(job.lane).waiting += 1;
        state.waiting.push_back(Waiting { id, job });
        self.stats.waiting.fetch_add(1, Ordering::Relaxed);
        Some(id)
    }
}

impl State {
    /// `lane`'s state, new if it had none.
    fn lane(&mut self, lane: Lane) -> &mut LaneState {
        let next_id = &mut self.next_id;
        self.lanes.entry(lane).or_insert_with(|| {
            *next_id += 1;
            LaneState {
                queued: VecDeque::new(),
                held: 0,
                waiting: 0,
                served: 0,
                joined: *next_id,
            }
        })
    }

    fn place(&mut self, job: Job, stats: &QueueStats) {
        let lane = self.lane(job.lane);
        lane.held += 1;
        lane.queued.push_back(job);
        self.held += 1;
        stats.queued.fetch_add(1, Ordering::Relaxed);
    }

    /// The newest queued job of the lane holding the most places, taken out of the queue, if that
    /// lane holds more than `mine + 1` (so that taking one leaves it at least as many as `mine + 1`).
    fn push_out(&mut self, mine: usize, stats: &QueueStats) -> Option<Job> {
        let fullest = self
            .lanes
            .iter()
            .filter(|(_, lane)| !lane.queued.is_empty() && lane.held > mine + 1)
            .max_by_key(|(_, lane)| (lane.held, lane.joined))
            .map(|(key, _)| *key)?;
        let lane = self.lanes.get_mut(&fullest)?;
        let job = lane.queued.pop_back()?;
        lane.held -= 1;
        self.held -= 1;
        stats.queued.fetch_sub(1, Ordering::Relaxed);
        Some(job)
    }

    /// The next job for a thread: the oldest of the lane served least recently.
    fn next(&mut self, stats: &QueueStats) -> Option<Job> {
        let key = self
            .lanes
            .iter()
            .filter(|(_, lane)| !lane.queued.is_empty())
            .min_by_key(|(_, lane)| (lane.served, lane.joined))
            .map(|(key, _)| *key)?;
        self.started += 1;
        let lane = self.lanes.get_mut(&key)?;
        lane.served = self.started;
        let job = lane.queued.pop_front()?;
        stats.queued.fetch_sub(1, Ordering::Relaxed);
        Some(job)
    }

    /// A check of `lane` ended: its place goes to the best waiting login, if any.
    fn finish(&mut self, lane: Lane, stats: &QueueStats) {
        if let Some(state) = self.lanes.get_mut(&lane) {
            state.held -= 1;
        }
        self.held -= 1;
        self.forget_if_idle(lane);
        let best = self
            .waiting
            .iter()
            .enumerate()
            .min_by_key(|(i, waiting)| {
                let lane = self.lanes.get(&waiting.job.lane);
                (lane.map(|l| l.held), lane.map(|l| l.served), *i)
            })
            .map(|(i, _)| i);
        if let Some(Waiting { job, .. }) = best.and_then(|i| self.waiting.remove(i)) {
            stats.waiting.fetch_sub(1, Ordering::Relaxed);
            let lane = job.lane;
            self.lane(lane).waiting -= 1;
            self.place(job, stats);
        }
    }

    /// Takes waiting login `id` out; false if it is no longer waiting (it was given a place).
    fn withdraw(&mut self, id: u64, stats: &QueueStats) -> bool {
        let Some(i) = self.waiting.iter().position(|waiting| waiting.id == id) else {
            return false;
        };
        let Some(Waiting { job, .. }) = self.waiting.remove(i) else {
            return false;
        };
        stats.waiting.fetch_sub(1, Ordering::Relaxed);
        if let Some(lane) = self.lanes.get_mut(&job.lane) {
            lane.waiting -= 1;
        }
        self.forget_if_idle(job.lane);
        true
    }

    fn forget_if_idle(&mut self, lane: Lane) {
        if self
            .lanes
            .get(&lane)
            .is_some_and(|state| state.held == 0 && state.waiting == 0)
        {
            self.lanes.remove(&lane);
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
