//! The labels counted, each a fixed set of values counted as one array: how a `/login` ended
//! ([`LoginResult`]), why a token was refused ([`Refusal`]), what a revocation ended ([`Revoked`]),
//! which limit acted ([`Limit`], counted in [`LimitHits`]), and [`Counters`], one relaxed atomic per
//! value.

use std::sync::atomic::{AtomicU64, Ordering};

use super::exposition::Exposition;
use crate::jwt::JwtError;

/// A set of label values counted as one array: `Self::ALL[i].index() == i`.
pub trait Label: Copy + 'static {
    const ALL: &'static [Self];
    fn index(self) -> usize;
    fn name(self) -> &'static str;
}

macro_rules! labels {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($(#[$vdoc])* $variant,)+ }

        impl Label for $name {
            const ALL: &'static [Self] = &[$($name::$variant,)+];
            fn index(self) -> usize {
                self as usize
            }
            fn name(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }
        }
    };
}

labels! {
    /// How a `/login` ended, as the handler tells them apart.
    LoginResult {
        /// 200: tokens issued.
        Ok = "ok",
        /// 401: unknown user or wrong password (one answer for both, docs/http.md §3).
        WrongCredentials = "wrong_credentials",
        /// 429: too many recent failures for the name or the address; bcrypt never ran.
        Throttled = "throttled",
        /// 503: the password-check queue was full; bcrypt never ran.
        Busy = "busy",
        /// 503: the shared login counters (Redis) could not be asked; bcrypt never ran.
        StoreUnavailable = "store_unavailable",
        /// 400, 413, 415: a request that was not a login attempt at all.
        BadRequest = "bad_request",
        /// 500: the check thread failed, or no random bytes for a token.
        Error = "error",
    }
}

labels! {
    /// Why a token was refused: the verification pipeline's step (`jwt::JwtError`), the
    /// `Authorization` header before it, and the revocation and user checks after it.
    Refusal {
        MissingAuthorization = "missing_authorization",
        BadAuthorizationHeader = "bad_authorization_header",
        /// Cookies on, no `Authorization` header and no token cookie.
        MissingCookie = "missing_cookie",
        /// A cookie token used with a state-changing method without the right CSRF header.
        Csrf = "csrf",
        TooLong = "too_long",
        Segments = "segments",
        Base64 = "base64",
        Header = "header",
        Algorithm = "algorithm",
        Critical = "crit",
        /// Its `kid` names none of the server's public keys.
        Key = "key",
        Signature = "signature",
        Claims = "claims",
        MissingExp = "missing_exp",
        Expired = "expired",
        NotYetValid = "not_yet_valid",
        WrongType = "wrong_type",
        Issuer = "issuer",
        Audience = "audience",
        /// Its own `jti` was revoked.
        Revoked = "revoked",
        /// Its session (`fam`) was ended.
        SessionEnded = "session_ended",
        /// Its session started before its user's cutoff (`/logout/all`, a changed password).
        UserCutoff = "user_cutoff",
        /// A valid token whose user is no longer in `USERS_FILE` (404).
        UserNotFound = "user_not_found",
    }
}

impl From<JwtError> for Refusal {
    fn from(error: JwtError) -> Self {
        match error {
            JwtError::TooLong => Refusal::TooLong,
            JwtError::Segments => Refusal::Segments,
            JwtError::Base64 => Refusal::Base64,
            JwtError::Header => Refusal::Header,
            JwtError::Algorithm => Refusal::Algorithm,
            JwtError::Critical => Refusal::Critical,
            JwtError::Key => Refusal::Key,
            JwtError::Signature => Refusal::Signature,
            JwtError::Claims => Refusal::Claims,
            JwtError::MissingExp => Refusal::MissingExp,
            JwtError::Expired => Refusal::Expired,
            JwtError::NotYetValid => Refusal::NotYetValid,
            JwtError::WrongType { .. } => Refusal::WrongType,
            JwtError::Issuer => Refusal::Issuer,
            JwtError::Audience => Refusal::Audience,
            JwtError::Revoked => Refusal::Revoked,
        }
    }
}

labels! {
    /// What a revocation ended, and what a denylist entry covers.
    Revoked {
        /// One token (`jti`): `/logout`, refresh-token rotation.
        Token = "token",
        /// One session (`fam`): `/logout`, a reused refresh token.
        Session = "session",
        /// Every session of a user up to a moment: `/logout/all`, a changed password.
        User = "user",
    }
}

labels! {
    /// A limit that acted, named after the setting that raises it.
    Limit {
        /// A connection closed (the longest-waiting one, to make room) by `MAX_CONNECTIONS`.
        MaxConnections = "max_connections",
        /// A connection closed (to make room, or refused) by `MAX_CONNECTIONS_PER_ADDRESS`.
        MaxConnectionsPerAddress = "max_connections_per_address",
        /// A login answered 503: no password-check place within `PASSWORD_CHECK_WAIT`, or its
        /// place given to another address.
        PasswordCheckQueue = "password_check_queue",
        /// A login answered 429 by `LOGIN_MAX_FAILURES_PER_USER`.
        LoginMaxFailuresPerUser = "login_max_failures_per_user",
        /// A login answered 429 by `LOGIN_MAX_FAILURES_PER_ADDRESS`.
        LoginMaxFailuresPerAddress = "login_max_failures_per_address",
    }
}

/// How often each limit acted, shared by those that apply them (the accept loop, the
/// password-check pool, `/login`).
#[derive(Debug)]
pub struct LimitHits(Counters<Limit>);

impl Default for LimitHits {
    fn default() -> Self {
        LimitHits(Counters::new())
    }
}

impl LimitHits {
    pub fn hit(&self, limit: Limit) {
        self.0.add(limit);
    }

    pub fn get(&self, limit: Limit) -> u64 {
        self.0.get(limit)
    }

    pub(super) fn write(&self, out: &mut Exposition, name: &str) {
        self.0.write(out, name, "limit");
    }
}

/// Counters for each value of a label.
#[derive(Debug)]
pub(super) struct Counters<L: Label> {
    counts: Box<[AtomicU64]>,
    _label: std::marker::PhantomData<L>,
}

impl<L: Label> Counters<L> {
    pub(super) fn new() -> Self {
        Counters {
            counts: L::ALL.iter().map(|_| AtomicU64::new(0)).collect(),
            _label: std::marker::PhantomData,
        }
    }

    pub(super) fn add(&self, label: L) {
        self.counts[label.index()].fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn get(&self, label: L) -> u64 {
        self.counts[label.index()].load(Ordering::Relaxed)
    }

    pub(super) fn write(&self, out: &mut Exposition, name: &str, label_name: &str) {
        for &label in L::ALL {
            out.sample(name, &[(label_name, label.name())], self.get(label));
        }
    }
}
