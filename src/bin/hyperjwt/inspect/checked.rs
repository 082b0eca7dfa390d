//! One step of `token inspect`'s report: its [`Status`] and the reason a person reads ([`Checked`]).
//! What the report's steps and revocation produce and rendering prints; it depends on none of them.

use hyperjwt::jwt::{JwtError, Step};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    /// The step needs the result of one that failed.
    Skip,
    /// The step could run but has nothing to run with (no key, no denylist).
    NotChecked,
    /// The step could not be carried out (an unreadable denylist file).
    Error,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Skip => "skip",
            Status::NotChecked => "----",
            Status::Error => "ERR ",
        }
    }
}

/// One step of the report.
#[derive(Debug)]
pub struct Checked {
    pub step: Step,
    pub status: Status,
    pub detail: String,
    /// The server's error for a failed step.
    pub error: Option<JwtError>,
}
