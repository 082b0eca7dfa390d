//! Step 17, revocation: the caller's step, as in the server, which checks its in-memory denylist
//! after the pipeline. Here the denylist is the server's journal, replayed read-only (never compacted
//! or rewritten), so inspecting is safe while the server runs.

use hyperjwt::jwt::{JwtError, Step};
use hyperjwt::store::denylist;

use super::Journal;
use super::report::{Checked, Status};

/// Step 17 for `jti`: against the journal, replayed read-only, or `----` without one.
pub fn check(jti: &str, journal: Option<&Journal>) -> Checked {
    let step = Step::Revocation;
    let checked = |status, detail: String, error| Checked {
        step,
        status,
        detail,
        error,
    };
    let (path, given) = match journal {
        None => {
            return checked(
                Status::NotChecked,
                "not checked: no --denylist FILE and no DENYLIST_FILE".into(),
                None,
            );
        }
        Some(Journal::Given(path)) => (path, true),
        Some(Journal::Configured(path)) => (path, false),
    };
    match denylist::lookup_in_journal(path, jti) {
        Ok(found) => {
            let skipped = match found.skipped_lines {
                0 => String::new(),
                n => format!("; {n} unreadable line(s) ignored, as the server ignores them"),
            };
            match found.revoked_until {
                None => checked(
                    Status::Pass,
                    format!("jti {:?} is not in {}{skipped}", jti, path.display()),
                    None,
                ),
                Some(_) => checked(
                    Status::Fail,
                    format!(
                        "{} (jti {:?}, {}{skipped})",
                        JwtError::Revoked.detail(),
                        jti,
                        path.display()
                    ),
                    Some(JwtError::Revoked),
                ),
            }
        }
        Err(e) if !given && e.kind() == std::io::ErrorKind::NotFound => checked(
            Status::NotChecked,
            format!(
                "not checked: DENYLIST_FILE {} does not exist yet (the server creates it at start-up)",
                path.display()
            ),
            None,
        ),
        Err(e) => checked(
            Status::Error,
            format!("cannot read {}: {e}", path.display()),
            None,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::super::render::render;
    use super::super::report::{Status, Verdict, inspect};
    use super::super::tests::{SECRET, claims, context, key};
    use super::*;
    use hyperjwt::jwt::{self, Hs256Key};

    #[test]
    fn a_missing_journal_is_an_error_only_when_named_on_the_command_line() {
        let token = jwt::sign(&Hs256Key::new(SECRET), &claims());
        let missing =
            std::env::temp_dir().join(format!("hyperjwt-no-journal-{}", std::process::id()));
        let mut ctx = context(key());
        ctx.denylist = Some(Journal::Given(missing.clone()));
        let inspection = inspect(&token, &ctx);
        assert_eq!(inspection.status(Step::Revocation), Some(Status::Error));
        assert_eq!(inspection.verdict(), Verdict::Error(Step::Revocation));
        assert!(render(&inspection, &ctx).contains("Result: ERROR: could not check revocation"));
        // DENYLIST_FILE before the server's first start: nothing revoked yet, nothing to check.
        ctx.denylist = Some(Journal::Configured(missing));
        let inspection = inspect(&token, &ctx);
        assert_eq!(
            inspection.status(Step::Revocation),
            Some(Status::NotChecked)
        );
        assert_eq!(inspection.verdict(), Verdict::Valid);
    }
}
