//! Warnings that a limit acted (a connection closed by a cap, a login refused for a full queue or
//! by the throttle), written at most once per interval per limit, so that an operator learns which
//! setting to raise without a flood of refusals becoming a flood of log lines.
//!
//! Each limit owns one [`LimitWarning`]; the code that applies the limit counts every action in
//! `/metrics` and asks [`LimitWarning::due`] whether to write a line now. The first action is
//! always logged; after that, one line per [`INTERVAL`] at most, saying how many actions it stands
//! for.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The shortest time between two warnings about the same limit.
pub const INTERVAL: Duration = Duration::from_secs(60);

/// One limit's warnings; see the module documentation.
#[derive(Debug)]
pub struct LimitWarning {
    interval: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// When the last line was written.
    logged: Option<Instant>,
    /// Actions since then, not yet reported.
    unsaid: u64,
}

impl Default for LimitWarning {
    fn default() -> Self {
        LimitWarning::every(INTERVAL)
    }
}

impl LimitWarning {
    /// Warnings at most once per `interval`.
    pub fn every(interval: Duration) -> Self {
        LimitWarning {
            interval,
            state: Mutex::default(),
        }
    }

    /// Counts one action of the limit at `now`. When a line is due (the first action, or the first
    /// one `interval` after the last line), returns how many actions that line stands for: this one
    /// and those left unsaid since the last line.
    pub fn due(&self, now: Instant) -> Option<u64> {
        // A poisoned lock only means a panic between two plain updates; the counts are usable.
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.unsaid = state.unsaid.saturating_add(1);
        let due = state
            .logged
            .is_none_or(|last| now.saturating_duration_since(last) >= self.interval);
        if !due {
            return None;
        }
        state.logged = Some(now);
        Some(std::mem::take(&mut state.unsaid))
    }
}

/// A client's address as a warning names it.
pub fn address(addr: Option<std::net::IpAddr>) -> String {
    addr.map_or_else(|| "an unknown address".to_string(), |a| a.to_string())
}

/// "once", or "N times": how a warning line says how often its limit acted.
pub fn times(n: u64) -> String {
    if n == 1 {
        "once".to_string()
    } else {
        format!("{n} times")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_action_is_logged_then_one_line_per_interval_with_the_count() {
        let warning = LimitWarning::every(Duration::from_secs(60));
        let t = Instant::now();
        assert_eq!(warning.due(t), Some(1));
        for s in 1..60 {
            assert_eq!(warning.due(t + Duration::from_secs(s)), None, "{s}");
        }
        // 59 actions left unsaid, and this one.
        assert_eq!(warning.due(t + Duration::from_secs(60)), Some(60));
        assert_eq!(warning.due(t + Duration::from_secs(61)), None);
        // A quiet spell: the next action is logged at once, for itself and the one unsaid.
        assert_eq!(warning.due(t + Duration::from_secs(500)), Some(2));
    }

    #[test]
    fn each_limit_has_its_own_interval() {
        let (a, b) = (LimitWarning::default(), LimitWarning::default());
        let t = Instant::now();
        assert_eq!(a.due(t), Some(1));
        assert_eq!(b.due(t), Some(1));
        assert_eq!(a.due(t), None);
    }

    #[test]
    fn says_how_often_and_from_where() {
        assert_eq!(times(1), "once");
        assert_eq!(times(42), "42 times");
        assert_eq!(address(Some([10, 0, 0, 1].into())), "10.0.0.1");
        assert_eq!(address(None), "an unknown address");
    }
}
