//! A bounded pool for password checks, so a flood of `/login` requests can't starve everything else.
//!
//! bcrypt is slow on purpose (docs/benchmarks.md has the figure at cost 12). The checks run on
//! threads of their own, never on the threads that serve requests, and those threads run at the
//! lowest scheduling priority by default (nice 19 on Linux, `PASSWORD_CHECK_NICE`): with one per
//! core, logins use every core the machine has, but only the CPU time that token checks and the
//! rest of the API leave over. On a host shared with other busy processes, a lower nice value
//! keeps logins from waiting behind them. At most
//! `queue` more logins wait for a thread; past that, a login is refused at once with 503 and
//! `Retry-After`: cheap for us, clear for the client.
//!
//! The pool keeps its own figures for `/metrics` ([`QueueStats`]): checks queued and running, how
//! long each waited for a thread, and how long bcrypt took.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Instant;

use tokio::sync::oneshot;

use crate::metrics::QueueStats;
use crate::store::users::UserStore;

/// Why a password check did not produce an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckError {
    /// Every thread and every queue place is taken.
    Busy,
    /// The check thread is gone (it panicked, or could not be started); details are in the log.
    Failed,
}

/// One check for a pool thread, and where to send its answer.
struct Job {
    users: Arc<UserStore>,
    username: String,
    password: String,
    answer: oneshot::Sender<bool>,
    queued_at: Instant,
}

#[derive(Debug)]
pub struct PasswordChecks {
    jobs: mpsc::Sender<Job>,
    /// Requests admitted: waiting for a thread or being checked. Bounded by `capacity`.
    admitted: Arc<AtomicUsize>,
    capacity: usize,
    stats: Arc<QueueStats>,
}

/// Gives an admission back when the check finishes, or is abandoned (client gone).
struct Admission(Arc<AtomicUsize>);

impl Drop for Admission {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl PasswordChecks {
    /// `concurrency` check threads (at least 1) at nice value `nice`, `queue` more logins waiting.
    pub fn new(concurrency: usize, queue: usize, nice: i32) -> Self {
        let concurrency = concurrency.max(1);
        let (jobs, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        let stats = Arc::new(QueueStats::default());
        for n in 0..concurrency {
            let receiver = Arc::clone(&receiver);
            let thread_stats = Arc::clone(&stats);
            let started = std::thread::Builder::new()
                .name(format!("password-check-{n}"))
                .spawn(move || run_checks(&receiver, nice, &thread_stats));
            if let Err(e) = started {
                log::error!("cannot start password-check thread {n}: {e}");
            }
        }
        PasswordChecks {
            jobs,
            admitted: Arc::new(AtomicUsize::new(0)),
            capacity: concurrency + queue,
            stats,
        }
    }

    /// The pool's figures, for `/metrics`.
    pub fn stats(&self) -> &QueueStats {
        &self.stats
    }

    /// The default number of check threads: one per core. They run at the lowest priority, so
    /// they take only the CPU the request threads leave.
    pub fn default_concurrency() -> usize {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }

    /// Checks `password` for `username`, waiting for a thread if needed, or refuses at once when
    /// full. The admission is held until the check itself ends, even if this future is dropped
    /// (client gone), so `concurrency + queue` is a true bound on the work in hand.
    pub async fn check(
        &self,
        users: Arc<UserStore>,
        username: String,
        password: String,
    ) -> Result<bool, CheckError> {
        if self.admitted.fetch_add(1, Ordering::AcqRel) >= self.capacity {
            self.admitted.fetch_sub(1, Ordering::AcqRel);
            return Err(CheckError::Busy);
        }
        let admission = Admission(Arc::clone(&self.admitted));
        let (answer, answered) = oneshot::channel();
        let job = Job {
            users,
            username,
            password,
            answer,
            queued_at: Instant::now(),
        };
        self.stats.queued.fetch_add(1, Ordering::Relaxed);
        if self.jobs.send(job).is_err() {
            self.stats.queued.fetch_sub(1, Ordering::Relaxed);
            return Err(CheckError::Failed);
        }
        let valid = answered.await.map_err(|_| CheckError::Failed);
        drop(admission);
        valid
    }
}

/// A check thread: lowers its own priority, then takes jobs until the pool is dropped.
fn run_checks(receiver: &Mutex<mpsc::Receiver<Job>>, nice: i32, stats: &QueueStats) {
    if nice > 0 {
        lower_priority(nice);
    }
    loop {
        // A poisoned lock means another check thread panicked while waiting; the queue is intact.
        let next = receiver.lock().unwrap_or_else(|e| e.into_inner()).recv();
        let Ok(job) = next else {
            return;
        };
        stats.queued.fetch_sub(1, Ordering::Relaxed);
        if job.answer.is_closed() {
            // The login was abandoned while it waited: skip the bcrypt work.
            continue;
        }
        stats.wait.observe(job.queued_at.elapsed());
        stats.running.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let valid = job.users.check_password(&job.username, &job.password);
        stats.duration.observe(started.elapsed());
        stats.running.fetch_sub(1, Ordering::Relaxed);
        let _ = job.answer.send(valid);
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
mod tests {
    use super::*;

    #[tokio::test]
    async fn checks_passwords() {
        let checks = PasswordChecks::new(1, 0, 19);
        let users = Arc::new(UserStore::demo());
        assert_eq!(
            checks
                .check(users.clone(), "user1".into(), "password1".into())
                .await,
            Ok(true)
        );
        assert_eq!(
            checks.check(users, "user1".into(), "nope".into()).await,
            Ok(false)
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn refuses_at_once_past_concurrency_plus_queue() {
        let checks = Arc::new(PasswordChecks::new(1, 1, 19));
        let users = Arc::new(UserStore::demo());
        let mut tasks = Vec::new();
        for _ in 0..6 {
            let (checks, users) = (checks.clone(), users.clone());
            tasks.push(tokio::spawn(async move {
                checks
                    .check(users, "user1".into(), "password1".into())
                    .await
            }));
        }
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.unwrap());
        }
        let busy = results
            .iter()
            .filter(|r| **r == Err(CheckError::Busy))
            .count();
        let done = results.iter().filter(|r| **r == Ok(true)).count();
        // One running and one queued get their answer; the rest are told to come back.
        assert!(done >= 2, "{results:?}");
        assert!(busy >= 1, "{results:?}");
        assert_eq!(busy + done, 6, "{results:?}");
        // Everything admitted was given back.
        assert_eq!(checks.admitted.load(Ordering::Acquire), 0);
        // Every check that ran waited and was timed; none is left queued or running.
        let stats = checks.stats();
        assert_eq!(stats.duration.snapshot().count(), done as u64);
        assert_eq!(stats.wait.snapshot().count(), done as u64);
        assert_eq!(stats.queued.load(Ordering::Relaxed), 0);
        assert_eq!(stats.running.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn check_threads_run_at_the_configured_priority() {
        let checks = PasswordChecks::new(1, 0, 19);
        // The nice value of each check thread, read from /proc (field 19 of stat).
        let niced = (0..100).find_map(|_| {
            std::thread::sleep(std::time::Duration::from_millis(10));
            let tasks = std::fs::read_dir("/proc/self/task").ok()?;
            tasks.flatten().find_map(|task| {
                let comm = std::fs::read_to_string(task.path().join("comm")).ok()?;
                if !comm.starts_with("password-check") {
                    return None;
                }
                let stat = std::fs::read_to_string(task.path().join("stat")).ok()?;
                let after_name = stat.rsplit_once(')')?.1;
                after_name.split_whitespace().nth(16)?.parse::<i32>().ok()
            })
        });
        drop(checks);
        if cfg!(target_os = "linux") {
            assert_eq!(niced, Some(19));
        }
    }

    #[test]
    fn default_concurrency_is_one_per_core() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(PasswordChecks::default_concurrency(), cores);
    }
}
