//! The pool's behaviour, driven by checks that block until the test releases them: which login
//! gets a place, which check a thread takes next, and what the bounded wait does. No timing: the
//! order of events is observed, and the one wait that must run out runs on tokio's paused clock.

use std::sync::mpsc;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;

use super::*;

fn addr(text: &str) -> Lane {
    Some(text.parse().unwrap())
}

/// A pool whose checks report when they start and wait to be released.
struct Gated {
    pool: Arc<PasswordChecks>,
    hits: Arc<LimitHits>,
    started_tx: UnboundedSender<&'static str>,
    started: UnboundedReceiver<&'static str>,
}

impl Gated {
    fn new(concurrency: usize, queue: usize, wait: Duration) -> Self {
        let hits = Arc::new(LimitHits::default());
        let pool =
            PasswordChecks::new(concurrency, queue, 19, wait).counting_in(Some(hits.clone()));
        let (started_tx, started) = unbounded_channel();
        Gated {
            pool: Arc::new(pool),
            hits,
            started_tx,
            started,
        }
    }

    /// A login named `name` from `lane`: its check says it started, then waits for the returned
    /// sender (dropping it releases the check too).
    fn login(
        &self,
        name: &'static str,
        lane: Lane,
    ) -> (JoinHandle<Result<bool, CheckError>>, mpsc::Sender<()>) {
        let (release, released) = mpsc::channel::<()>();
        let started = self.started_tx.clone();
        let work: Work = Box::new(move || {
            let _ = started.send(name);
            let _ = released.recv();
            true
        });
        let pool = Arc::clone(&self.pool);
        (
            tokio::spawn(async move { pool.run(lane, work).await }),
            release,
        )
    }

    async fn next_started(&mut self) -> &'static str {
        self.started.recv().await.unwrap()
    }

    fn stats(&self) -> &QueueStats {
        self.pool.stats()
    }

    /// Lets the spawned logins run until `done` holds for the pool's figures.
    async fn until(&self, done: impl Fn(&QueueStats) -> bool) {
        while !done(self.stats()) {
            tokio::task::yield_now().await;
        }
    }
}

#[tokio::test]
async fn checks_passwords() {
    let checks = PasswordChecks::new(1, 0, 19, Duration::from_secs(1));
    let users = Arc::new(UserStore::demo());
    let login = |password: &str| {
        checks.check(
            users.clone(),
            "user1".into(),
            password.into(),
            addr("127.0.0.1"),
        )
    };
    assert_eq!(login("password1").await, Ok(true));
    assert_eq!(login("nope").await, Ok(false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_address_takes_a_place_from_the_fullest_and_is_checked_next() {
    let mut pool = Gated::new(1, 2, Duration::from_secs(3600));
    let (a1, release_a1) = pool.login("a1", addr("10.0.0.1"));
    assert_eq!(pool.next_started().await, "a1");
    let (a2, release_a2) = pool.login("a2", addr("10.0.0.1"));
    pool.until(|s| s.queued.load(Ordering::Relaxed) == 1).await;
    let (a3, _release_a3) = pool.login("a3", addr("10.0.0.1"));
    pool.until(|s| s.queued.load(Ordering::Relaxed) == 2).await;
    // Every place is 10.0.0.1's: its newest queued login makes room for 10.0.0.2's, with a 503.
    let (b1, release_b1) = pool.login("b1", addr("10.0.0.2"));
    assert_eq!(a3.await.unwrap(), Err(CheckError::Busy));
    assert_eq!(pool.hits.get(Limit::PasswordCheckQueue), 1);
    // The thread frees: 10.0.0.2 has not been served yet, so its login goes before a2.
    drop(release_a1);
    assert_eq!(pool.next_started().await, "b1");
    drop(release_b1);
    assert_eq!(pool.next_started().await, "a2");
    drop(release_a2);
    for login in [a1, a2, b1] {
        assert_eq!(login.await.unwrap(), Ok(true));
    }
    assert!(pool.pool.shared.lock().is_idle());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_holding_no_more_than_the_others_waits_its_turn() {
    let mut pool = Gated::new(1, 1, Duration::from_secs(3600));
    let (a1, release_a1) = pool.login("a1", addr("10.0.0.1"));
    assert_eq!(pool.next_started().await, "a1");
    let (b1, release_b1) = pool.login("b1", addr("10.0.0.2"));
    pool.until(|s| s.queued.load(Ordering::Relaxed) == 1).await;
    // 10.0.0.2 holds one place, 10.0.0.3 none: taking b1's would leave them even, so c1 waits.
    let (c1, release_c1) = pool.login("c1", addr("10.0.0.3"));
    pool.until(|s| s.waiting.load(Ordering::Relaxed) == 1).await;
    drop(release_a1);
    assert_eq!(pool.next_started().await, "b1");
    drop(release_b1);
    assert_eq!(pool.next_started().await, "c1");
    drop(release_c1);
    for login in [a1, b1, c1] {
        assert_eq!(login.await.unwrap(), Ok(true));
    }
    assert_eq!(pool.hits.get(Limit::PasswordCheckQueue), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_freed_place_goes_to_the_waiting_address_served_least() {
    // No queue: only the thread's place, and everyone else waits for it.
    let mut pool = Gated::new(1, 0, Duration::from_secs(3600));
    let (a1, release_a1) = pool.login("a1", addr("10.0.0.1"));
    assert_eq!(pool.next_started().await, "a1");
    let (a2, release_a2) = pool.login("a2", addr("10.0.0.1"));
    pool.until(|s| s.waiting.load(Ordering::Relaxed) == 1).await;
    let (a3, release_a3) = pool.login("a3", addr("10.0.0.1"));
    pool.until(|s| s.waiting.load(Ordering::Relaxed) == 2).await;
    let (b1, release_b1) = pool.login("b1", addr("10.0.0.2"));
    pool.until(|s| s.waiting.load(Ordering::Relaxed) == 3).await;
    // b1 came last, but 10.0.0.1 has just been served: b1 goes first, then 10.0.0.1's in order.
    drop(release_a1);
    assert_eq!(pool.next_started().await, "b1");
    drop(release_b1);
    assert_eq!(pool.next_started().await, "a2");
    drop(release_a2);
    assert_eq!(pool.next_started().await, "a3");
    drop(release_a3);
    for login in [a1, a2, a3, b1] {
        assert_eq!(login.await.unwrap(), Ok(true));
    }
}

#[tokio::test(start_paused = true)]
async fn a_login_waits_for_a_place_a_bounded_time_then_gets_busy() {
    let mut pool = Gated::new(1, 0, Duration::from_secs(2));
    let (a1, release_a1) = pool.login("a1", addr("10.0.0.1"));
    assert_eq!(pool.next_started().await, "a1");
    // The thread is taken and there is no queue: a2 waits, and once the runtime has nothing else
    // to do, the paused clock jumps to the end of its wait.
    let (a2, _release_a2) = pool.login("a2", addr("10.0.0.1"));
    assert_eq!(a2.await.unwrap(), Err(CheckError::Busy));
    assert_eq!(pool.stats().waiting.load(Ordering::Relaxed), 0);
    assert_eq!(pool.hits.get(Limit::PasswordCheckQueue), 1);
    drop(release_a1);
    assert_eq!(a1.await.unwrap(), Ok(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_place_that_frees_during_the_wait_is_taken() {
    let mut pool = Gated::new(1, 0, Duration::from_secs(3600));
    let (a1, release_a1) = pool.login("a1", addr("10.0.0.1"));
    assert_eq!(pool.next_started().await, "a1");
    let (a2, release_a2) = pool.login("a2", addr("10.0.0.1"));
    pool.until(|s| s.waiting.load(Ordering::Relaxed) == 1).await;
    drop(release_a1);
    assert_eq!(pool.next_started().await, "a2");
    drop(release_a2);
    assert_eq!(a1.await.unwrap(), Ok(true));
    assert_eq!(a2.await.unwrap(), Ok(true));
    assert_eq!(pool.hits.get(Limit::PasswordCheckQueue), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_given_up_while_waiting_leaves_no_trace() {
    let mut pool = Gated::new(1, 0, Duration::from_secs(3600));
    let (a1, release_a1) = pool.login("a1", addr("10.0.0.1"));
    assert_eq!(pool.next_started().await, "a1");
    let (b1, _release_b1) = pool.login("b1", addr("10.0.0.2"));
    pool.until(|s| s.waiting.load(Ordering::Relaxed) == 1).await;
    // The client goes away (hyper drops the request's future).
    b1.abort();
    assert!(b1.await.unwrap_err().is_cancelled());
    assert_eq!(pool.stats().waiting.load(Ordering::Relaxed), 0);
    drop(release_a1);
    assert_eq!(a1.await.unwrap(), Ok(true));
    pool.until(|s| s.running.load(Ordering::Relaxed) == 0).await;
    assert!(pool.pool.shared.lock().is_idle());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_check_fails_its_login_and_gives_its_place_back() {
    let pool = PasswordChecks::new(1, 0, 19, Duration::from_secs(3600));
    let failed = pool
        .run(addr("10.0.0.1"), Box::new(|| panic!("a broken check")))
        .await;
    assert_eq!(failed, Err(CheckError::Failed));
    assert_eq!(
        pool.run(addr("10.0.0.1"), Box::new(|| true)).await,
        Ok(true)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn places_bound_the_work_in_hand() {
    // One thread, one queue place, no wait: of six logins at once, those without a place get 503.
    let checks = Arc::new(PasswordChecks::new(1, 1, 19, Duration::ZERO));
    let users = Arc::new(UserStore::demo());
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let (checks, users) = (checks.clone(), users.clone());
        tasks.push(tokio::spawn(async move {
            let client = addr("127.0.0.1");
            checks
                .check(users, "user1".into(), "password1".into(), client)
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
    // Every place was given back, and every check that ran waited and was timed.
    let stats = checks.stats();
    assert!(checks.shared.lock().is_idle());
    assert_eq!(stats.duration.snapshot().count(), done as u64);
    assert_eq!(stats.wait.snapshot().count(), done as u64);
    assert_eq!(stats.queued.load(Ordering::Relaxed), 0);
    assert_eq!(stats.running.load(Ordering::Relaxed), 0);
    assert_eq!(stats.waiting.load(Ordering::Relaxed), 0);
}

#[test]
fn check_threads_run_at_the_configured_priority() {
    let checks = PasswordChecks::new(1, 0, 19, Duration::ZERO);
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
