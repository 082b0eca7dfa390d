//! Readiness (`GET /health/ready`, docs/http.md §2): can this server do its job right now? A short
//! list of named checks, each answering "ok" or a short reason; the server is ready when every one
//! says ok. Liveness (`/health/live`) asks nothing of them: a process that answers is alive, and
//! restarting it would not mend a full disk.
//!
//! A check is anything that implements [`Check`]: the denylist journal adds one when
//! `DENYLIST_FILE` is set (`store/denylist/journal.rs`), and a shared backend (Redis, say) adds its
//! own with [`Readiness::add`] when the app is built, holding whatever handle it needs to probe.
//! Checks may be asynchronous (a network round trip); each gets [`CHECK_TIMEOUT`], after which it
//! counts as failed, so a hung backend makes the server not ready instead of hanging the probe.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// What a check found: ready, or a short reason for the operator (no secrets: it is served to
/// anyone who can reach `/health/ready`).
pub type Verdict = Result<(), Cow<'static, str>>;

/// The future a [`Check`] returns.
pub type CheckFuture<'a> = Pin<Box<dyn Future<Output = Verdict> + Send + 'a>>;

/// How long one check may take before it counts as failed.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// One readiness check.
pub trait Check: Send + Sync {
    /// The check's key in the answer's `checks` object: short, lowercase, stable.
    fn name(&self) -> &'static str;

    /// Probes what the check is about.
    fn check(&self) -> CheckFuture<'_>;
}

/// The list of checks; see the module documentation.
#[derive(Default, Clone)]
pub struct Readiness {
    checks: Vec<Arc<dyn Check>>,
}

impl fmt::Debug for Readiness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.checks.iter().map(|check| check.name()))
            .finish()
    }
}

/// Every check's verdict, in the order the checks were added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub checks: Vec<(&'static str, Verdict)>,
}

impl Report {
    pub fn is_ready(&self) -> bool {
        self.checks.iter().all(|(_, verdict)| verdict.is_ok())
    }
}

impl Readiness {
    pub fn add(&mut self, check: Arc<dyn Check>) {
        self.checks.push(check);
    }

    /// Runs every check (one after the other, each within [`CHECK_TIMEOUT`]), after the verdicts
    /// already in `first` (checks the caller makes itself).
    pub async fn report(&self, first: Vec<(&'static str, Verdict)>) -> Report {
        let mut checks = first;
        for check in &self.checks {
            let verdict = tokio::time::timeout(CHECK_TIMEOUT, check.check())
                .await
                .unwrap_or_else(|_| Err("timed out".into()));
            checks.push((check.name(), verdict));
        }
        Report { checks }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(&'static str, Verdict);

    impl Check for Fixed {
        fn name(&self) -> &'static str {
            self.0
        }
        fn check(&self) -> CheckFuture<'_> {
            Box::pin(std::future::ready(self.1.clone()))
        }
    }

    struct Hangs;

    impl Check for Hangs {
        fn name(&self) -> &'static str {
            "backend"
        }
        fn check(&self) -> CheckFuture<'_> {
            Box::pin(std::future::pending())
        }
    }

    #[tokio::test]
    async fn ready_only_when_every_check_is_ok_and_in_order() {
        let mut readiness = Readiness::default();
        readiness.add(Arc::new(Fixed("journal", Ok(()))));
        let report = readiness.report(vec![("users", Ok(()))]).await;
        assert!(report.is_ready());
        assert_eq!(report.checks, vec![("users", Ok(())), ("journal", Ok(()))]);
        readiness.add(Arc::new(Fixed("backend", Err("unreachable".into()))));
        let report = readiness.report(Vec::new()).await;
        assert!(!report.is_ready());
        assert_eq!(report.checks[1], ("backend", Err("unreachable".into())));
    }

    #[tokio::test(start_paused = true)]
    async fn a_check_that_hangs_fails_after_the_timeout() {
        let mut readiness = Readiness::default();
        readiness.add(Arc::new(Hangs));
        let report = readiness.report(Vec::new()).await;
        assert_eq!(report.checks, vec![("backend", Err("timed out".into()))]);
    }
}
