//! Sessions: what ends a token besides its own `exp`.
//!
//! A **session** is a token family: each `/login` starts one with a random id, the `fam` claim
//! (docs/http.md §4), and every token issued in it (the access and refresh tokens, and every token
//! rotated from them) carries it. Three things end tokens before they expire, each one entry of the
//! denylist ([`crate::store::denylist`]):
//!
//! - the token itself was revoked (its `jti`: logout, or a refresh token used under rotation);
//! - its family was ended (logout; a refresh token presented again after it was used, RFC 9700
//!   §4.14.2);
//! - its user was cut off (`/logout/all`, a changed password): every session of the user that
//!   started at or before the cutoff.
//!
//! **The cutoff rule.** `iat` is whole seconds, too coarse to tell a session ended in this second
//! from one started right after it. So the family id is a UUID v7 (RFC 9562 §5.7), whose first 48
//! bits are its start in Unix milliseconds, and a session is cut off when it started at or before
//! the cutoff (also milliseconds). A new session never starts at or before its user's cutoff
//! ([`session_start`]), so a login right after `/logout/all`, in the same millisecond even, works.
//! A token without a usable family (Flask-JWT-Extended's, one from before sessions, `hyperjwt
//! token issue`'s) is a session of its own that started at the beginning of its `iat` second: such
//! a token issued in the cutoff's second is cut off too, which errs on the safe side.

use ring::rand::{SecureRandom, SystemRandom};

use crate::bytes::{parse_uuid, uuid_text};
use crate::jwt::Claims;
use crate::store::denylist::Denylist;

/// The system random generator failed; no token (and no session) can be issued safely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RandomUnavailable;

/// Why a token that passed every check of the pipeline is still refused (step 17, revocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Its own `jti` is on the denylist.
    Token,
    /// Its family (`fam`) was ended.
    Family,
    /// Its session started at or before its user's cutoff.
    User,
}

impl Ended {
    /// For logs and `hyperjwt token inspect` (never sent to clients: they get `Token has been revoked`).
    pub fn detail(self) -> &'static str {
        match self {
            Ended::Token => "the token's \"jti\" is on the denylist",
            Ended::Family => "the token's family (\"fam\", its session) was ended",
            Ended::User => {
                "the token's session started before its user's cutoff (logout everywhere, or a changed password)"
            }
        }
    }
}

/// Whether `claims` were ended, and how. Each kind costs one hash probe, and nothing at all while
/// the denylist holds none of it: the family only when the token has one, the user's cutoff one
/// probe by the digest of `sub`.
pub fn ended(denylist: &Denylist, claims: &Claims) -> Option<Ended> {
    if denylist.is_revoked(&claims.jti) {
        return Some(Ended::Token);
    }
    session_ended(denylist, claims)
}

/// [`ended`] without the token's own `jti`: whether its session is over (for `/refresh`, which
/// has just revoked the presented token itself and asks again before issuing in its session).
pub fn session_ended(denylist: &Denylist, claims: &Claims) -> Option<Ended> {
    if claims
        .fam
        .as_deref()
        .is_some_and(|fam| denylist.is_family_revoked(fam))
    {
        return Some(Ended::Family);
    }
    match denylist.cutoff(&claims.sub) {
        Some(cutoff) if started_ms(claims) <= cutoff => Some(Ended::User),
        _ => None,
    }
}

/// When the token's session started, in Unix milliseconds: the time in its UUID v7 family, else
/// the start of its `iat` second (no `iat`: the beginning of time, so any cutoff ends it).
pub fn started_ms(claims: &Claims) -> i64 {
    if let Some(ms) = claims.fam.as_deref().and_then(family_start_ms) {
        return ms;
    }
    claims.iat.map_or(i64::MIN, |iat| iat.saturating_mul(1000))
}

/// The start time of a UUID v7 family id, or `None` for any other id.
pub fn family_start_ms(fam: &str) -> Option<i64> {
    let b = parse_uuid(fam)?;
    if b[6] >> 4 != 7 || b[8] >> 6 != 0b10 {
        return None;
    }
    let mut ms = [0u8; 8];
    ms[2..].copy_from_slice(&b[..6]);
    Some(i64::from_be_bytes(ms))
}

/// When a new session of `user` starts: now, or just after the user's cutoff if the clock says
/// otherwise (the same millisecond as `/logout/all`, or a clock stepped back), so a new session is
/// never one the cutoff already ended.
pub fn session_start(denylist: &Denylist, user: &str) -> i64 {
    let now = now_ms();
    match denylist.cutoff(user) {
        Some(cutoff) if cutoff >= now => cutoff.saturating_add(1),
        _ => now,
    }
}

/// A new family id: a UUID v7 (RFC 9562 §5.7) starting at `start_ms`, with 74 random bits.
pub fn new_family(rng: &SystemRandom, start_ms: i64) -> Result<String, RandomUnavailable> {
    let mut b = [0u8; 16];
    rng.fill(&mut b[6..]).map_err(|_| RandomUnavailable)?;
    let start = u64::try_from(start_ms).unwrap_or(0).min((1 << 48) - 1);
    b[..6].copy_from_slice(&start.to_be_bytes()[2..]);
    b[6] = (b[6] & 0x0f) | 0x70; // version 7
    b[8] = (b[8] & 0x3f) | 0x80; // variant 10xx
    Ok(uuid_text(&b))
}

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::TokenType;
    use std::borrow::Cow;

    const NOW: i64 = 1_700_000_000;

    fn claims(fam: Option<&str>, iat: Option<i64>) -> Claims<'static> {
        Claims {
            sub: "user1".into(),
            iat,
            nbf: iat,
            exp: Some(NOW + 900),
            jti: "5b0c6a4e-6b1e-4d5c-9a39-8f0f6e2f1a10".into(),
            token_type: TokenType::Access,
            fresh: false,
            iss: None,
            aud: None,
            fam: fam.map(|f| Cow::Owned(f.to_string())),
            csrf: None,
        }
    }

    #[test]
    fn a_family_is_a_uuid_v7_carrying_its_start() {
        let rng = SystemRandom::new();
        let start = NOW * 1000 + 123;
        let a = new_family(&rng, start).unwrap();
        let b = new_family(&rng, start).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(a.as_bytes()[14], b'7', "{a}");
        assert_eq!(family_start_ms(&a), Some(start));
        // A v4 UUID (a jti, say) or any other text carries no time.
        assert_eq!(
            family_start_ms("5b0c6a4e-6b1e-4d5c-9a39-8f0f6e2f1a10"),
            None
        );
        assert_eq!(family_start_ms("not-a-uuid"), None);
    }

    #[test]
    fn the_cutoff_ends_sessions_started_at_or_before_it() {
        let rng = SystemRandom::new();
        let list = Denylist::in_memory();
        let cut = NOW * 1000 + 500;
        ready(list.cut_off("user1", cut, NOW + 10_000, NOW)).unwrap();
        let before = new_family(&rng, cut).unwrap();
        let after = new_family(&rng, cut + 1).unwrap();
        assert_eq!(
            ended(&list, &claims(Some(&before), Some(NOW))),
            Some(Ended::User)
        );
        // Same second, a millisecond later: alive.
        assert_eq!(ended(&list, &claims(Some(&after), Some(NOW))), None);
        // Without a family, by `iat`: the cutoff's whole second is cut off, the next one is not.
        assert_eq!(ended(&list, &claims(None, Some(NOW))), Some(Ended::User));
        assert_eq!(ended(&list, &claims(None, None)), Some(Ended::User));
        assert_eq!(ended(&list, &claims(None, Some(NOW + 1))), None);
        // A new session starts after the cutoff even when the clock is behind it.
        assert!(session_start(&list, "user1") > cut);
        let far = now_ms() + 60_000;
        ready(list.cut_off("user1", far, NOW + 10_000, NOW)).unwrap();
        assert_eq!(session_start(&list, "user1"), far + 1);
        // Another user is not affected.
        let mut other = claims(None, Some(NOW));
        other.sub = "user2".into();
        assert_eq!(ended(&list, &other), None);
    }

    #[test]
    fn a_revoked_token_comes_before_its_family() {
        let list = Denylist::in_memory();
        let fam = "018f0000-0000-7000-8000-000000000001";
        let c = claims(Some(fam), Some(NOW));
        assert_eq!(ended(&list, &c), None);
        ready(list.revoke_family(fam, NOW + 10, NOW)).unwrap();
        assert_eq!(ended(&list, &c), Some(Ended::Family));
        ready(list.revoke(&c.jti, NOW + 10, NOW)).unwrap();
        assert_eq!(ended(&list, &c), Some(Ended::Token));
    }

    /// An in-memory denylist answers without waiting: poll its future once.
    fn ready<F: std::future::Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(out) => out,
            std::task::Poll::Pending => panic!("an in-memory denylist does not wait"),
        }
    }
}
