//! A bounded pool for password checks, so a flood of `/login` requests can't starve everything else.
//!
//! bcrypt costs about a quarter of a second of CPU at cost 12. At most `concurrency` checks run at
//! once (on tokio's blocking pool, never on an async worker) and at most `queue` more wait for a
//! turn. Past that, a login is refused at once with 503 and `Retry-After`: cheap for us, clear for the
//! client, and the rest of the API keeps its CPU. Defaults come from measurement (see README).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Semaphore;

use crate::store::users::UserStore;

/// Why a password check did not produce an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckError {
    /// Every slot and every queue place is taken.
    Busy,
    /// The blocking task failed (it panicked); details are in the log.
    Failed,
}

#[derive(Debug)]
pub struct PasswordChecks {
    running: Arc<Semaphore>,
    /// Requests admitted: waiting for a slot or running. Bounded by `capacity`.
    admitted: AtomicUsize,
    capacity: usize,
}

/// Gives an admission back when the request finishes or is dropped (client gone).
struct Admission<'a>(&'a AtomicUsize);

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl PasswordChecks {
    /// `concurrency` checks at once (at least 1), `queue` more waiting.
    pub fn new(concurrency: usize, queue: usize) -> Self {
        let concurrency = concurrency.max(1);
        PasswordChecks {
            running: Arc::new(Semaphore::new(concurrency)),
            admitted: AtomicUsize::new(0),
            capacity: concurrency + queue,
        }
    }

    /// The default concurrency: one less than the cores, at least one, so one core always stays free
    /// for everything that isn't bcrypt.
    pub fn default_concurrency() -> usize {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get().saturating_sub(1))
            .max(1)
    }

    /// Checks `password` for `username`, waiting for a slot if needed, or refuses at once when full.
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
        let _admission = Admission(&self.admitted);
        let permit = Arc::clone(&self.running)
            .acquire_owned()
            .await
            .map_err(|_| CheckError::Failed)?;
        // The permit moves into the blocking task: if the client disconnects and this future is
        // dropped, the slot stays taken until bcrypt really finishes, so `concurrency` is a true bound.
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            users.check_password(&username, &password)
        })
        .await
        .map_err(|_| CheckError::Failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn checks_passwords() {
        let checks = PasswordChecks::new(1, 0);
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
        let checks = Arc::new(PasswordChecks::new(1, 1));
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
    }

    #[test]
    fn default_concurrency_leaves_a_core_free() {
        let n = PasswordChecks::default_concurrency();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert!(n >= 1 && (n < cores || cores == 1));
    }
}
