//! Step 17, revocation: the caller's step, as in the server, which checks its in-memory denylist
//! after the pipeline. Here the denylist is the server's journal, replayed read-only (never compacted
//! or rewritten), so inspecting is safe while the server runs. The same rule as the server's
//! (`hyperjwt::auth::sessions::ended`) says why a token is refused: revoked itself, its family (its
//! session) ended, or its user cut off.

use hyperjwt::auth::sessions::{self, Ended};
use hyperjwt::jwt::{Claims, JwtError, Step};
use hyperjwt::store::denylist::Denylist;

use super::checked::{Checked, Status};
use super::context::Journal;

/// Step 17 for `claims`: against the journal, replayed read-only, or `----` without one.
pub fn check(claims: &Claims, journal: Option<&Journal>) -> Checked {
    let jti = &*claims.jti;
    let family = claims.fam.as_ref().map(|fam| format!("family {fam:?}"));
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
    match Denylist::read_only(path) {
        Ok((list, skipped_lines)) => {
            let skipped = match skipped_lines {
                0 => String::new(),
                n => format!("; {n} unreadable line(s) ignored, as the server ignores them"),
            };
            match sessions::ended(&list, claims) {
                None => {
                    // "neither ... nor ...": a token outside any session has no family to list.
                    let ended_here = match &family {
                        Some(family) => format!("jti {jti:?}, nor {family}"),
                        None => format!("jti {jti:?} (no family: a session of its own)"),
                    };
                    checked(
                        Status::Pass,
                        format!(
                            "neither {ended_here}, nor user {:?} is ended in {}{skipped}",
                            claims.sub,
                            path.display()
                        ),
                        None,
                    )
                }
                Some(ended) => {
                    let which = match ended {
                        Ended::Token => format!("jti {jti:?}"),
                        Ended::Family => family.unwrap_or_default(),
                        Ended::User => format!("user {:?}", claims.sub),
                    };
                    checked(
                        Status::Fail,
                        format!("{} ({which}, {}{skipped})", ended.detail(), path.display()),
                        Some(JwtError::Revoked),
                    )
                }
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
    use super::super::checked::Status;
    use super::super::render::render;
    use super::super::report::{Verdict, inspect};
    use super::super::tests::{SECRET, claims, context, key};
    use super::*;
    use hyperjwt::jwt::{self, Hs256Key};

    #[tokio::test]
    async fn says_whether_the_token_its_family_or_its_user_was_ended() {
        let dir =
            std::env::temp_dir().join(format!("hyperjwt-inspect-ended-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("denylist");
        let now = jwt::now();
        let fam = "018f0000-0000-7000-8000-000000000001";
        let mut c = claims();
        c.fam = Some(fam.into());
        {
            let list = Denylist::open(&path, now).unwrap();
            list.revoke_family(fam, now + 100, now).await.unwrap();
        }
        let journal = Journal::Given(path.clone());
        let detail = |c: &Claims| check(c, Some(&journal)).detail;
        assert!(
            detail(&c).contains("family (\"fam\", its session) was ended"),
            "{}",
            detail(&c)
        );
        assert!(detail(&c).contains(fam));
        c.fam = None;
        let passed = check(&c, Some(&journal));
        assert_eq!(passed.status, Status::Pass);
        assert!(
            passed.detail.starts_with(&format!(
                "neither jti {:?} (no family: a session of its own), nor user \"alice\" is ended",
                c.jti
            )),
            "{}",
            passed.detail
        );
        assert!(!passed.detail.contains("nor no"), "{}", passed.detail);
        {
            let list = Denylist::open(&path, now).unwrap();
            list.cut_off(&c.sub, i64::MAX - 1, now + 100, now)
                .await
                .unwrap();
        }
        assert!(detail(&c).contains("user's cutoff"), "{}", detail(&c));
        {
            let list = Denylist::open(&path, now).unwrap();
            list.revoke(&c.jti, now + 100, now).await.unwrap();
        }
        let failed = check(&c, Some(&journal));
        assert_eq!(failed.error, Some(JwtError::Revoked));
        assert!(
            failed.detail.contains("\"jti\" is on the denylist"),
            "{}",
            failed.detail
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

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
