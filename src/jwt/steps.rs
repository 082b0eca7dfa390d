//! Every check a received token goes through, numbered once: the [`Step`]s that
//! [`verify`](mod@super::verify) runs in this order, that `docs/jwt.md` §8 tabulates and that
//! `hyperjwt token inspect` prints, and the [`Observer`] through which a tool watches them run.
//!
//! The server watches nothing: it runs the pipeline with [`Quiet`], whose empty methods compile away.

use super::JwtError;
use super::claims::Claims;
use super::compact::Segments;
use super::header::Header;
use super::keys::Key;

/// One check of verification. The discriminant is the step's number, in the order the pipeline runs
/// them: the JWS steps of RFC 7515 §5.2 first (1–10), nothing in the payload read before the MAC has
/// proven it, then the claims of RFC 7519 §7.2 step 10 and §4.1 (11–16), then revocation (17).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Step {
    /// At most `MAX_TOKEN_BYTES`, before any decoding.
    Length = 1,
    /// Exactly three `.`-separated segments.
    Segments = 2,
    /// The header segment is strict base64url.
    HeaderBase64 = 3,
    /// The header is a UTF-8 JSON object with a string `alg`.
    Header = 4,
    /// `alg` names, exactly, an algorithm our keys sign with.
    Algorithm = 5,
    /// No `crit`.
    Critical = 6,
    /// The key: ours, at most selected by `kid`, and of the header's algorithm.
    Key = 7,
    /// The payload segment is strict base64url (and not read yet).
    PayloadBase64 = 8,
    /// The signature segment is strict base64url of exactly one signature of the key (32 bytes for
    /// HS256).
    SignatureBase64 = 9,
    /// The signature matches: the HMAC-SHA256, or the public key's.
    Signature = 10,
    /// The payload is a JSON object of the claims we require.
    Claims = 11,
    /// `exp` is present and not passed.
    Expiry = 12,
    /// `nbf`, if present, is not in the future.
    NotBefore = 13,
    /// `type` is the kind this use needs.
    Type = 14,
    /// `iss` is the configured issuer.
    Issuer = 15,
    /// `aud` names the configured audience, and no other when none is configured.
    Audience = 16,
    /// `jti` is not revoked. The caller's step: it needs a denylist, which this module doesn't hold,
    /// so the pipeline ends at 16 and the server (`handlers/authenticate.rs`) or a tool runs this one.
    Revocation = 17,
}

impl Step {
    /// Every step, in order.
    pub const ALL: [Step; 17] = [
        Step::Length,
        Step::Segments,
        Step::HeaderBase64,
        Step::Header,
        Step::Algorithm,
        Step::Critical,
        Step::Key,
        Step::PayloadBase64,
        Step::SignatureBase64,
        Step::Signature,
        Step::Claims,
        Step::Expiry,
        Step::NotBefore,
        Step::Type,
        Step::Issuer,
        Step::Audience,
        Step::Revocation,
    ];

    /// The step's number, the same in the code, in `token inspect`'s report and in docs/jwt.md §8.
    pub fn number(self) -> u8 {
        self as u8
    }

    /// The short name `token inspect` prints.
    pub fn name(self) -> &'static str {
        match self {
            Step::Length => "length",
            Step::Segments => "segments",
            Step::HeaderBase64 => "base64url(header)",
            Step::Header => "header",
            Step::Algorithm => "alg",
            Step::Critical => "crit",
            Step::Key => "key",
            Step::PayloadBase64 => "base64url(payload)",
            Step::SignatureBase64 => "base64url(signature)",
            Step::Signature => "signature",
            Step::Claims => "claims",
            Step::Expiry => "exp",
            Step::NotBefore => "nbf",
            Step::Type => "type",
            Step::Issuer => "iss",
            Step::Audience => "aud",
            Step::Revocation => "revocation",
        }
    }

    /// Where the step's rule comes from. The length bound and the `type` claim are no RFC's: the
    /// first is this server's (docs/http.md §4), the second Flask-JWT-Extended's, whose reason RFC 8725
    /// gives.
    pub fn rfc(self) -> &'static str {
        match self {
            Step::Length => "none: this server's bound (docs/http.md §4)",
            Step::Segments => "RFC 7515 §7.1, §5.2 step 1; RFC 7519 §7.2 step 1",
            Step::HeaderBase64 => "RFC 7515 §5.2 step 2, §2; RFC 7519 §7.2 step 3",
            Step::Header => "RFC 7515 §5.2 step 3, §4; RFC 7519 §7.2 step 4",
            Step::Algorithm => "RFC 7515 §5.2 steps 5 and 8; RFC 7518 §3.1; RFC 8725 §2.1, §3.1",
            Step::Critical => "RFC 7515 §4.1.11, §5.2 step 5; RFC 7519 §7.2 step 5",
            Step::Key => "RFC 7515 §4.1.4; RFC 8725 §3.1, §3.10",
            Step::PayloadBase64 => "RFC 7515 §5.2 step 6",
            Step::SignatureBase64 => "RFC 7515 §5.2 step 7; RFC 7518 §3.2-3.4; RFC 8037 §3.1",
            Step::Signature => "RFC 7515 §5.2 step 8; RFC 7518 §3.2-3.4; RFC 8037 §3.1",
            Step::Claims => "RFC 7519 §7.2 step 10; §4.1.7 for jti",
            Step::Expiry => "RFC 7519 §4.1.4",
            Step::NotBefore => "RFC 7519 §4.1.5",
            Step::Type => "Flask-JWT-Extended; RFC 8725 §3.12",
            Step::Issuer => "RFC 7519 §4.1.1; RFC 8725 §3.8",
            Step::Audience => "RFC 7519 §4.1.3; RFC 8725 §3.9",
            Step::Revocation => "RFC 7519 §4.1.7",
        }
    }

    /// The steps whose results this one reads. A diagnosis ([`Observer::DIAGNOSE`]) runs a step
    /// exactly when these have passed (a key or signature left unchecked counts as reached), so a
    /// tool can say what a skipped step was waiting for.
    pub fn inputs(self) -> &'static [Step] {
        match self {
            Step::Length | Step::Segments => &[],
            Step::HeaderBase64 | Step::PayloadBase64 | Step::SignatureBase64 => &[Step::Segments],
            Step::Header => &[Step::HeaderBase64],
            Step::Algorithm | Step::Critical => &[Step::Header],
            // No key is chosen under a refused header.
            Step::Key => &[Step::Algorithm, Step::Critical],
            Step::Signature => &[Step::Key, Step::SignatureBase64],
            // The server also needs the signature first; a diagnosis reads the claims anyway, untrusted.
            Step::Claims => &[Step::PayloadBase64],
            Step::Expiry
            | Step::NotBefore
            | Step::Type
            | Step::Issuer
            | Step::Audience
            | Step::Revocation => &[Step::Claims],
        }
    }
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.number(), self.name())
    }
}

/// How one step went.
#[derive(Debug)]
pub enum Outcome<'a> {
    /// The step passed, having read or produced this.
    Pass(Found<'a>),
    /// The step refused the token.
    Fail(JwtError),
    /// There was no key to run the step with (a diagnosis given no keys: steps 7 and 10). The token
    /// is then unverified, and the pipeline never accepts it.
    Unchecked,
}

/// What a passing step read or produced, for a tool to show. Borrowed: nothing is copied for an
/// observer that doesn't keep it.
#[derive(Debug)]
pub enum Found<'a> {
    Nothing,
    /// Step 2.
    Segments(Segments<'a>),
    /// Steps 3, 8 and 9: the decoded bytes.
    Bytes(&'a [u8]),
    /// Step 4.
    Header(&'a Header<'a>),
    /// Step 7.
    Key(Key<'a>),
    /// Step 10, answered by the memo of tokens verified before (the server's, `jwt/cache.rs`).
    Remembered,
    /// Step 11.
    Claims(&'a Claims<'a>),
}

/// Watches the pipeline run: told each step's [`Outcome`] as it happens, in [`Step`] order.
///
/// The pipeline is generic over its observer, so each observer gets its own copy of it, and
/// [`Quiet`]'s (the server's) has no observing left in it at all.
pub trait Observer {
    /// False: stop at the first failure (the server, and [`Quiet`]). True: a diagnosis, which goes
    /// on after a failure with every step whose [`inputs`](Step::inputs) it still has (the claims
    /// of a token whose MAC failed, say, which it marks untrusted), and takes no shortcut, so each
    /// step has an outcome of its own. Its result is still the first failure.
    const DIAGNOSE: bool;

    fn observe(&mut self, step: Step, outcome: Outcome<'_>);
}

/// The observer of the server and of [`verify`](super::verify()): it watches nothing, and stops at
/// the first failure.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl Observer for Quiet {
    const DIAGNOSE: bool = false;

    #[inline(always)]
    fn observe(&mut self, _step: Step, _outcome: Outcome<'_>) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_numbered_once_in_order_from_one() {
        for (i, step) in Step::ALL.iter().enumerate() {
            assert_eq!(usize::from(step.number()), i + 1, "{step:?}");
        }
        assert!(Step::ALL.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn a_step_reads_only_earlier_steps() {
        for step in Step::ALL {
            assert!(step.inputs().iter().all(|input| *input < step), "{step:?}");
        }
    }

    #[test]
    fn names_are_unique_and_display_with_the_number() {
        let mut names: Vec<&str> = Step::ALL.iter().map(|s| s.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Step::ALL.len());
        assert_eq!(Step::Signature.to_string(), "10 signature");
    }
}
