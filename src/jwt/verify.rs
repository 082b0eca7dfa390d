//! The verification pipeline: every check of a received token, in one sequence, numbered as
//! [`Step`]. Read it beside RFC 7515 §5.2 (the JWS: steps 1–10) and RFC 7519 §7.2 (the JWT: steps
//! 11–16), and docs/jwt.md §8: each step is one line, with its number.
//!
//! As in `jsonwebtoken`'s `decode`, nothing in the payload is parsed before the MAC has matched: an
//! unauthenticated payload can't even choose the error message.
//!
//! Three ways in, one sequence:
//! - the server: [`verify_signature`] (steps 1–10) on the request's token, then [`Claims::parse`]
//!   (11) and [`Validation::check`] (12–16) on claims borrowed from its own buffer, then its denylist
//!   (17). No allocation, no copy, and nothing observed;
//! - tools and tests: [`verify`], steps 1–16 in one call, with owned claims;
//! - `hyperjwt token inspect`: [`verify_observed`], with an [`Observer`] that records each step.

use super::JwtError;
use super::algorithm::Algorithm;
use super::asymmetric::PublicKey;
use super::b64::DecodeBuf;
use super::cache::VerifiedCache;
use super::claims::{Claims, TokenType};
use super::compact::{self, DEFAULT_MAX_TOKEN_LEN, SIGNATURE_LEN, Segments};
use super::header::Header;
use super::keys::{Key, KeySource};
use super::steps::{Found, Observer, Outcome, Quiet, Step};
use super::validation::Validation;

/// What a token is checked against, besides the keys.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'v> {
    /// Step 1's bound (`MAX_TOKEN_BYTES`).
    pub max_len: usize,
    /// Steps 12, 13, 15 and 16.
    pub validation: &'v Validation,
    /// Step 14: the token type this use needs, or `None` for either (logout).
    pub expected: Option<TokenType>,
    /// Unix seconds, for steps 12 and 13.
    pub now: i64,
}

/// Steps 1–10, the JWS layer: structure, header and signature. Returns the decoded payload bytes
/// only once the MAC has proven them; nothing in them is parsed here.
///
/// The payload is decoded into the caller's `payload_buf` (on its stack) and borrowed from it, so
/// [`Claims::parse`] can borrow its strings in turn: verifying an ordinary token copies nothing to
/// the heap.
pub fn verify_signature<'b, K: KeySource + ?Sized>(
    keys: &K,
    token: &str,
    max_len: usize,
    payload_buf: &'b mut DecodeBuf,
) -> Result<&'b [u8], JwtError> {
    let mut quiet = Quiet;
    let mut run = Run::new(&mut quiet);
    let payload = jws(&mut run, Some(keys), token, max_len, payload_buf);
    run.finish(payload)
}

/// Steps 1–16 in one call. `now` is Unix seconds; `expected` is a [`TokenType`], or `None` to accept
/// either type (logout). Step 17, revocation, is the caller's: it needs state this module doesn't own.
///
/// Returns owned claims, for tools and tests; the server borrows them instead (see the module docs).
pub fn verify<K: KeySource + ?Sized>(
    keys: &K,
    token: &str,
    validation: &Validation,
    expected: impl Into<Option<TokenType>>,
    now: i64,
) -> Result<Claims<'static>, JwtError> {
    let rules = Rules {
        max_len: DEFAULT_MAX_TOKEN_LEN,
        validation,
        expected: expected.into(),
        now,
    };
    let mut payload_buf = DecodeBuf::new();
    verify_observed(Some(keys), token, &rules, &mut payload_buf, &mut Quiet).map(Claims::into_owned)
}

/// Steps 1–16, each reported to `observer` as it runs; with [`Quiet`], exactly [`verify`].
///
/// `keys` is `None` only for a diagnosis that has no key (inspect without a secret): steps 7 and 10
/// are then [`Unchecked`](Outcome::Unchecked), and the result is at best `Err(Signature)`, since an
/// unproven payload is never accepted.
pub fn verify_observed<'b, K: KeySource + ?Sized, O: Observer>(
    keys: Option<&K>,
    token: &str,
    rules: &Rules,
    payload_buf: &'b mut DecodeBuf,
    observer: &mut O,
) -> Result<Claims<'b>, JwtError> {
    let mut run = Run::new(observer);
    let claims = pipeline(&mut run, keys, token, rules, payload_buf);
    run.finish(claims)
}

/// Steps 12–16 alone, for [`Validation::check`].
/// Steps 12–16 as a method of the rules, for callers that parsed the claims themselves (the
/// server, on claims borrowed from its own buffer). Here rather than in `validation.rs`, so that the
/// order of the checks lives in this file alone.
impl Validation {
    /// Steps 12–16 of the pipeline, in its order (see [`verify`](mod@super::verify)): `exp`, `nbf`,
    /// `type`, `iss`, `aud`. `now` is Unix seconds; passing it in keeps this function pure and
    /// testable. `expected` is the token type this use needs, or `None` when either will do.
    ///
    /// The server calls this after [`Claims::parse`], on claims borrowed from its own buffer.
    pub fn check(
        &self,
        claims: &Claims,
        expected: impl Into<Option<TokenType>>,
        now: i64,
    ) -> Result<(), JwtError> {
        check_claims(self, claims, expected.into(), now)
    }
}

fn check_claims(
    validation: &Validation,
    claims: &Claims,
    expected: Option<TokenType>,
    now: i64,
) -> Result<(), JwtError> {
    let mut quiet = Quiet;
    let mut run = Run::new(&mut quiet);
    let checked = claim_checks(&mut run, validation, claims, expected, now).map(Some);
    run.finish(checked)
}

/// The pipeline, steps 1–16.
fn pipeline<'b, K: KeySource + ?Sized, O: Observer>(
    run: &mut Run<'_, O>,
    keys: Option<&K>,
    token: &str,
    rules: &Rules,
    payload_buf: &'b mut DecodeBuf,
) -> Result<Option<Claims<'b>>, JwtError> {
    // Steps 1–10, the JWS: a payload the MAC has proven. (A diagnosis gets it back whatever the MAC
    // said, and goes on to show its claims, untrusted; its result is still the MAC's error.)
    let Some(payload) = jws(run, keys, token, rules.max_len, payload_buf)? else {
        return Ok(None);
    };
    // Step 11 (RFC 7519 §7.2 step 10): the payload is a JSON object of the claims we require.
    let Some(claims) = run.check(Step::Claims, Claims::parse(payload))? else {
        return Ok(None);
    };
    // Steps 12–16: what the claims allow, now.
    claim_checks(run, rules.validation, &claims, rules.expected, rules.now)?;
    // Step 17, revocation, is the caller's.
    Ok(Some(claims))
}

/// Steps 1–10 (RFC 7515 §5.2): is this exactly what one of our keys signed?
fn jws<'b, K: KeySource + ?Sized, O: Observer>(
    run: &mut Run<'_, O>,
    keys: Option<&K>,
    token: &str,
    max_len: usize,
    payload_buf: &'b mut DecodeBuf,
) -> Result<Option<&'b [u8]>, JwtError> {
    // Step 1: bound the work an attacker can make us do, before anything else.
    run.check(Step::Length, compact::check_length(token, max_len))?;
    // Step 2 (§5.2 step 1): exactly three segments.
    let Some(segments) = run.check(Step::Segments, compact::split(token))? else {
        return Ok(None);
    };
    // Steps 3–7 (§5.2 steps 2–5): the header names an algorithm of ours and nothing we don't
    // understand; the key, of that algorithm.
    let key = header_and_key(run, keys, segments.header)?;
    // Step 8 (§5.2 step 6): the payload is base64url, though nothing in it is read yet.
    let payload = run.check(Step::PayloadBase64, payload_buf.decode(segments.payload))?;
    match key {
        Some(Chosen::Key(Key::Hs256(key))) => {
            // Step 9 (§5.2 step 7): the signature is base64url of exactly one HMAC-SHA256 output.
            let signature = run.check(
                Step::SignatureBase64,
                compact::decode_signature(segments.signature),
            )?;
            // Step 10 (§5.2 step 8): the MAC over the signing input as received, in constant time.
            if let Some(signature) = signature {
                run.check(
                    Step::Signature,
                    key.verify_mac(segments.signing_input, &signature),
                )?;
            }
        }
        Some(Chosen::Key(Key::Public(key))) => {
            let cache = keys.and_then(|keys| keys.verified());
            public_signature(run, cache, key, token, &segments, payload)?;
        }
        // A diagnosis given no keys: the signature's form for the header's algorithm, no check.
        Some(Chosen::NoKeys(alg)) => {
            let mut signature_buf = DecodeBuf::new();
            let decoded = match alg.signature_len() {
                Some(len) => {
                    compact::decode_signature_of(segments.signature, len, &mut signature_buf)
                }
                None => signature_buf.decode(segments.signature),
            };
            if run.check(Step::SignatureBase64, decoded)?.is_some() {
                run.unchecked(Step::Signature)?;
            }
        }
        // Only in a diagnosis: a refused header or key left no signature to check; its form is
        // shown as an HMAC's, this server's default.
        None => {
            run.check(
                Step::SignatureBase64,
                compact::decode_signature(segments.signature),
            )?;
        }
    }
    Ok(payload)
}

/// Steps 9–10 under a public key (RFC 7518 §3.3–3.4, RFC 8037 §3.1). A token seen before, every
/// byte the same, was proven then: the memo answers (`jwt/cache.rs`), which a diagnosis never asks.
/// Otherwise the signature is checked, and a token it proves is remembered until its `exp`.
fn public_signature<O: Observer>(
    run: &mut Run<'_, O>,
    cache: Option<&VerifiedCache>,
    key: &PublicKey,
    token: &str,
    segments: &Segments,
    payload: Option<&[u8]>,
) -> Result<(), JwtError> {
    if !O::DIAGNOSE && cache.is_some_and(|cache| cache.contains(token)) {
        run.pass(Step::SignatureBase64, Found::Nothing);
        run.pass(Step::Signature, Found::Remembered);
        return Ok(());
    }
    let mut signature_buf = DecodeBuf::new();
    // Step 9 (§5.2 step 7): base64url of exactly one signature of this key: 64 bytes for EdDSA
    // and ES256 (r ‖ s), the modulus' length for RS256.
    let signature = run.check(
        Step::SignatureBase64,
        compact::decode_signature_of(segments.signature, key.signature_len(), &mut signature_buf),
    )?;
    let Some(signature) = signature else {
        return Ok(());
    };
    // Step 10 (§5.2 step 8): the public key verifies the signature over the signing input.
    let verified = run.check(
        Step::Signature,
        key.verify(segments.signing_input.as_bytes(), signature),
    )?;
    if let (Some(()), Some(cache), Some(payload)) = (verified, cache, payload) {
        // Only an `exp` to keep it until; a payload without one fails step 11 or 12 anyway.
        if let Some(exp) = Claims::expiry(payload) {
            cache.insert(token, exp, super::now());
        }
    }
    Ok(())
}

/// Step 7's answer.
enum Chosen<'k> {
    /// The key to check the signature with.
    Key(Key<'k>),
    /// A diagnosis given no keys, of a header naming this algorithm.
    NoKeys(Algorithm),
}

/// Steps 3–7 (RFC 7515 §5.2 steps 2–5, §4.1.4): the JOSE header, and the key it lets us use.
/// `None` only in a diagnosis, under a refused header or key: no key is chosen for it.
fn header_and_key<'k, K: KeySource + ?Sized, O: Observer>(
    run: &mut Run<'_, O>,
    keys: Option<&'k K>,
    encoded: &str,
) -> Result<Option<Chosen<'k>>, JwtError> {
    // The fast path (docs/jwt.md §9): a header that is byte for byte one our keys write passed steps
    // 3–7 when we wrote it, and names that key, so the server takes the key and neither decodes nor
    // parses the header. Any other header, even one that differs by a space, runs every step. A
    // diagnosis takes no shortcut, to report each step.
    if !O::DIAGNOSE {
        if let Some(key) = keys.and_then(|keys| keys.key_with_header(encoded)) {
            return Ok(Some(Chosen::Key(key)));
        }
    }
    let mut header_buf = DecodeBuf::new();
    // Step 3 (§5.2 step 2): strict base64url.
    let Some(bytes) = run.check(Step::HeaderBase64, header_buf.decode(encoded))? else {
        return Ok(None);
    };
    // Step 4 (§5.2 step 3): a UTF-8 JSON object, with a string `alg`.
    let Some(header) = run.check(Step::Header, Header::parse(bytes))? else {
        return Ok(None);
    };
    // Step 5: `alg` is one our keys sign with (for a diagnosis without keys, one we implement).
    // The server's keys fixed the algorithms; the header's is compared, never obeyed.
    let alg = run.check(
        Step::Algorithm,
        header.check_alg(|alg| keys.is_none_or(|keys| keys.accepts(alg))),
    )?;
    // Step 6 (§5.2 step 5): no `crit`, for we understand no extension.
    let crit = run.check(Step::Critical, header.check_crit())?;
    let (Some(alg), Some(())) = (alg, crit) else {
        return Ok(None);
    };
    // Step 7 (§4.1.4, RFC 8725 §3.1, §3.10): the key is ours, `kid` at most selects among our
    // keys, and the key's one algorithm is the header's.
    let Some(keys) = keys else {
        run.unchecked(Step::Key)?;
        return Ok(Some(Chosen::NoKeys(alg)));
    };
    let key = run.check(Step::Key, keys.key_for(alg, header.kid.as_deref()))?;
    Ok(key.map(Chosen::Key))
}

/// Steps 12–16 (RFC 7519 §4.1): what the now-trusted claims allow, now.
fn claim_checks<O: Observer>(
    run: &mut Run<'_, O>,
    validation: &Validation,
    claims: &Claims,
    expected: Option<TokenType>,
    now: i64,
) -> Result<(), JwtError> {
    // Step 12 (§4.1.4): `exp` is present (our rule) and not passed.
    run.check(Step::Expiry, validation.check_exp(claims, now))?;
    // Step 13 (§4.1.5): `nbf`, if present, is not in the future.
    run.check(Step::NotBefore, validation.check_nbf(claims, now))?;
    // Step 14 (RFC 8725 §3.12): the kind of token this use needs.
    run.check(Step::Type, Validation::check_type(claims, expected))?;
    // Step 15 (§4.1.1): our issuer, when we name one.
    run.check(Step::Issuer, validation.check_issuer(claims))?;
    // Step 16 (§4.1.3): our audience; none at all when we expect none.
    run.check(Step::Audience, validation.check_audience(claims))?;
    Ok(())
}

/// The pipeline's bookkeeping: it tells the observer each step's outcome, and decides what a failure
/// means. For the server a failure is the answer (`Err`, so `?` ends the pipeline on the spot); a
/// diagnosis notes the first one and goes on without the failed step's value (`Ok(None)`).
struct Run<'o, O> {
    observer: &'o mut O,
    first_failure: Option<JwtError>,
}

impl<'o, O: Observer> Run<'o, O> {
    fn new(observer: &'o mut O) -> Self {
        Run {
            observer,
            first_failure: None,
        }
    }

    /// Reports `step` with its result, and gives its value if it passed.
    #[inline(always)]
    fn check<T: Report>(
        &mut self,
        step: Step,
        result: Result<T, JwtError>,
    ) -> Result<Option<T>, JwtError> {
        match result {
            Ok(value) => {
                self.observer.observe(step, Outcome::Pass(value.found()));
                Ok(Some(value))
            }
            Err(error) => {
                self.observer.observe(step, Outcome::Fail(error));
                self.failed(error).map(|()| None)
            }
        }
    }

    /// Reports a step that cannot fail (7, once a key source is given).
    #[inline(always)]
    fn pass(&mut self, step: Step, found: Found<'_>) {
        self.observer.observe(step, Outcome::Pass(found));
    }

    /// Reports `step` as not run, for want of a key. An unverified token is refused like a bad MAC.
    fn unchecked(&mut self, step: Step) -> Result<(), JwtError> {
        self.observer.observe(step, Outcome::Unchecked);
        self.failed(JwtError::Signature)
    }

    #[inline(always)]
    fn failed(&mut self, error: JwtError) -> Result<(), JwtError> {
        if !O::DIAGNOSE {
            return Err(error);
        }
        self.first_failure.get_or_insert(error);
        Ok(())
    }

    /// The answer: the first failure, if any, else the value.
    #[inline(always)]
    fn finish<T>(self, result: Result<Option<T>, JwtError>) -> Result<T, JwtError> {
        match (result?, self.first_failure) {
            (_, Some(error)) => Err(error),
            (Some(value), None) => Ok(value),
            // Not reached: a step withholds its value only by failing. Refuse all the same.
            (None, None) => Err(JwtError::Signature),
        }
    }
}

/// What a step's value shows an observer.
trait Report {
    fn found(&self) -> Found<'_>;
}

impl Report for () {
    fn found(&self) -> Found<'_> {
        Found::Nothing
    }
}

impl Report for Segments<'_> {
    fn found(&self) -> Found<'_> {
        Found::Segments(*self)
    }
}

impl Report for &[u8] {
    fn found(&self) -> Found<'_> {
        Found::Bytes(self)
    }
}

impl Report for [u8; SIGNATURE_LEN] {
    fn found(&self) -> Found<'_> {
        Found::Bytes(self)
    }
}

impl Report for Algorithm {
    fn found(&self) -> Found<'_> {
        Found::Nothing
    }
}

impl Report for Key<'_> {
    fn found(&self) -> Found<'_> {
        Found::Key(*self)
    }
}

impl Report for Header<'_> {
    fn found(&self) -> Found<'_> {
        Found::Header(self)
    }
}

impl Report for Claims<'_> {
    fn found(&self) -> Found<'_> {
        Found::Claims(self)
    }
}

#[cfg(test)]
mod order;
#[cfg(all(test, feature = "public-keys"))]
mod public_keys;
#[cfg(test)]
mod refusals;
