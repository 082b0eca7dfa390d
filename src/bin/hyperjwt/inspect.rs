//! `hyperjwt token inspect`: decode a token and run the server's verification on it one step at a
//! time, saying which steps pass and why any fails.
//!
//! Every check here is a call to the function the server itself runs — [`jwt::check_length`],
//! [`jwt::split`], [`b64::DecodeBuf::decode`], [`Header::parse`], [`Header::check`],
//! [`jwt::check_signature`], [`Claims::parse`], the `Validation::check_*` methods and the denylist's
//! journal replay — so this tool can't drift from the server: it only reports, step by step, what the
//! server decides in one call. The server stops at the first failure; this tool goes on with every
//! step whose inputs are still available, and marks the others `skip`.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use hyperjwt::jwt::header::Header;
use hyperjwt::jwt::{
    self, Claims, Hs256Key, JwtError, KeyRing, KeySource, TokenType, Validation, b64,
};
use hyperjwt::store::denylist;

use super::args::{self, Spec};
use super::{CliError, load_config, pretty, time};

pub const SPEC: Spec = Spec {
    command: "hyperjwt token inspect",
    usage: "hyperjwt token inspect TOKEN|- [--secret KEY] [--denylist FILE] [--type access|refresh]",
    help: "\
hyperjwt token inspect: decode a token and check it step by step, as the server does

Usage: hyperjwt token inspect TOKEN [--secret KEY] [--denylist FILE] [--type access|refresh]
       hyperjwt token inspect - ...        (read the token from standard input)

Prints the decoded header and claims, the times (iat, nbf, exp) as UTC dates and as 'expires in
14m 3s' / 'expired 2h ago', then each verification step in the server's order with PASS or FAIL
and the reason: length, segments, base64url of each segment, header JSON, alg, crit, signature,
claims JSON, exp, nbf, type, iss and aud (when JWT_ISSUER / JWT_AUDIENCE are set or the token has
them), revocation. The steps are the server's own functions, called one at a time. Where the
server would stop at the first failure, inspect goes on and marks steps it can't run 'skip'.

  --secret KEY       check the signature with KEY. Without it, the configured key is used
                     (JWT_SECRET_KEY, else SECRET_KEY, with JWT_PREVIOUS_SECRET_KEYS, from the
                     environment or .env); with neither, the signature is 'not checked'.
                     A key on the command line is visible to other local users (ps): prefer
                     the environment. Keys under 32 bytes are accepted here, with a warning.
  --denylist FILE    check revocation against this denylist journal, which must exist. By
                     default DENYLIST_FILE (not checked until the server has created it); with
                     neither, revocation is 'not checked'. Read only: the journal is never
                     changed, so this is safe while the server runs.
  --type T           require an access or a refresh token (default: report the type only)

JWT_LEEWAY, JWT_ISSUER, JWT_AUDIENCE and MAX_TOKEN_BYTES apply as in the server.

Exit status: 0 when every step that ran passed and the signature was checked; 1 when a step
failed, or when the signature was not checked (an unverified token is not a valid one); 2 for a
usage error. Revocation that is not checked does not change the exit status.
",
    options: &["--secret", "--denylist", "--type"],
    flags: &[],
};

/// Longest token read from standard input.
const MAX_STDIN_TOKEN: u64 = 1 << 20;

pub fn run(words: Vec<OsString>) -> Result<ExitCode, CliError> {
    let Some(args) = args::parse_or_help(&SPEC, words)? else {
        return Ok(ExitCode::SUCCESS);
    };
    let token_arg = args::one(&SPEC, &args, "TOKEN")?;
    let expected = args
        .option("--type")
        .map(|t| {
            parse_type(t).ok_or_else(|| {
                SPEC.usage_error(format!("--type must be access or refresh, not {t:?}"))
            })
        })
        .transpose()?;
    let config = load_config()?;

    let token = if token_arg == "-" {
        let mut text = String::new();
        std::io::stdin()
            .take(MAX_STDIN_TOKEN)
            .read_to_string(&mut text)
            .map_err(|e| {
                CliError::failed(
                    SPEC.command,
                    format!("cannot read the token from standard input: {e}"),
                )
            })?;
        text
    } else {
        token_arg
    };
    // Copy and paste often brings a newline or spaces along; they are never part of a token.
    let token = token.trim();
    if token.is_empty() {
        return Err(SPEC.usage_error("the token is empty").into());
    }

    let keys = match args.option("--secret") {
        Some(secret) => {
            if secret.len() < hyperjwt::config::MIN_SECRET_LEN {
                eprintln!(
                    "warning: the --secret key is {} bytes; the server refuses keys under {} (RFC 7518 §3.2)",
                    secret.len(),
                    hyperjwt::config::MIN_SECRET_LEN
                );
            }
            Keys::Given(Hs256Key::new(secret.as_bytes()))
        }
        None if !config.secret_is_random => Keys::Configured(KeyRing {
            current: Hs256Key::new(config.secret.as_bytes()),
            previous: config
                .previous_secrets
                .iter()
                .map(|s| Hs256Key::new(s.as_bytes()))
                .collect(),
        }),
        None => Keys::None,
    };
    let context = Context {
        max_len: config.max_token_bytes,
        keys,
        validation: Validation {
            leeway: config.leeway.as_secs(),
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
        },
        expected,
        now: jwt::now(),
        denylist: match (args.option("--denylist"), &config.denylist_file) {
            (Some(path), _) => Some(Journal::Given(path.into())),
            (None, Some(path)) => Some(Journal::Configured(path.clone())),
            (None, None) => None,
        },
    };
    let inspection = inspect(token, &context);
    print!("{}", render(&inspection, &context));
    Ok(match inspection.verdict() {
        Verdict::Valid => ExitCode::SUCCESS,
        Verdict::Invalid(..) | Verdict::Error(_) | Verdict::Unverified => ExitCode::FAILURE,
    })
}

fn parse_type(text: &str) -> Option<TokenType> {
    match text {
        "access" => Some(TokenType::Access),
        "refresh" => Some(TokenType::Refresh),
        _ => None,
    }
}

/// The keys the signature is checked with.
pub enum Keys {
    /// `--secret`.
    Given(Hs256Key),
    /// The server's: the current key and the previous ones, chosen by `kid` as the server chooses.
    Configured(KeyRing),
    None,
}

impl Keys {
    fn key_for(&self, kid: Option<&str>) -> Option<(&Hs256Key, &'static str)> {
        match self {
            Keys::Given(key) => Some((key.key_for(kid), "--secret")),
            Keys::Configured(ring) => Some((ring.key_for(kid), "the configured key")),
            Keys::None => None,
        }
    }
}

/// The denylist journal revocation is checked against.
pub enum Journal {
    /// `--denylist FILE`: it must exist.
    Given(PathBuf),
    /// `DENYLIST_FILE`: the server creates it at start-up, so until then there is nothing to check.
    Configured(PathBuf),
}

/// Everything a check depends on besides the token.
pub struct Context {
    pub max_len: usize,
    pub keys: Keys,
    pub validation: Validation,
    pub expected: Option<TokenType>,
    pub now: i64,
    pub denylist: Option<Journal>,
}

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
    fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Skip => "skip",
            Status::NotChecked => "----",
            Status::Error => "ERR ",
        }
    }
}

#[derive(Debug)]
pub struct Step {
    pub name: &'static str,
    pub status: Status,
    pub detail: String,
    /// The server's error for a failed step.
    pub error: Option<JwtError>,
}

/// What inspecting one token found.
#[derive(Debug, Default)]
pub struct Inspection {
    pub steps: Vec<Step>,
    pub header: Option<Vec<u8>>,
    pub payload: Option<Vec<u8>>,
}

/// The overall answer.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    /// The first step that failed, and the server's error there (if the step has one).
    Invalid(&'static str, Option<JwtError>),
    /// A step could not be carried out (its file could not be read).
    Error(&'static str),
    Unverified,
}

impl Inspection {
    fn record(
        &mut self,
        name: &'static str,
        status: Status,
        detail: String,
        error: Option<JwtError>,
    ) {
        self.steps.push(Step {
            name,
            status,
            detail,
            error,
        });
    }

    fn pass(&mut self, name: &'static str, detail: impl Into<String>) {
        self.record(name, Status::Pass, detail.into(), None);
    }

    fn fail(&mut self, name: &'static str, error: JwtError, more: Option<String>) {
        let detail = match more {
            Some(more) => format!("{} ({more})", error.detail()),
            None => error.detail().to_string(),
        };
        self.record(name, Status::Fail, detail, Some(error));
    }

    fn skip<T>(&mut self, name: &'static str, needs: &str) -> Option<T> {
        self.record(name, Status::Skip, format!("needs {needs}"), None);
        None
    }

    /// Records a step from its function's result; returns the value when it passed.
    fn check<T>(
        &mut self,
        name: &'static str,
        result: Result<T, JwtError>,
        describe: impl FnOnce(&T) -> String,
    ) -> Option<T> {
        match result {
            Ok(value) => {
                self.pass(name, describe(&value));
                Some(value)
            }
            Err(error) => {
                self.fail(name, error, None);
                None
            }
        }
    }

    pub fn status(&self, name: &str) -> Option<Status> {
        self.steps.iter().find(|s| s.name == name).map(|s| s.status)
    }

    pub fn verdict(&self) -> Verdict {
        if let Some(step) = self.steps.iter().find(|s| s.status == Status::Fail) {
            return Verdict::Invalid(step.name, step.error);
        }
        if let Some(step) = self.steps.iter().find(|s| s.status == Status::Error) {
            return Verdict::Error(step.name);
        }
        if self.status("signature") == Some(Status::Pass) {
            Verdict::Valid
        } else {
            Verdict::Unverified
        }
    }
}

/// Runs every verification step on `token`, in the server's order.
pub fn inspect(token: &str, context: &Context) -> Inspection {
    let mut r = Inspection::default();

    // Step 0: the length bound, before any decoding.
    match jwt::check_length(token, context.max_len) {
        Ok(()) => r.pass(
            "length",
            format!("{} bytes, limit {}", token.len(), context.max_len),
        ),
        Err(e) => r.fail(
            "length",
            e,
            Some(format!("{} bytes, limit {}", token.len(), context.max_len)),
        ),
    }

    // Step 1: three segments.
    let segments = r.check("segments", jwt::split(token), |s| {
        format!(
            "header.payload.signature: {} + {} + {} characters",
            s.header.len(),
            s.payload.len(),
            s.signature.len()
        )
    });

    // Each segment must be unpadded base64url; the server decodes each just before it needs it.
    let decoded = |r: &mut Inspection, name, segment: Option<&str>| match segment {
        Some(segment) => r
            .check(name, b64::DecodeBuf::new().decode(segment), |d| {
                format!("{} bytes", d.len())
            })
            .map(|d| d.to_vec()),
        None => r.skip(name, "segments"),
    };

    // Steps 2–5: the header says HS256 and nothing we don't understand.
    let header_bytes = decoded(&mut r, "base64url(header)", segments.map(|s| s.header));
    let header = match &header_bytes {
        Some(bytes) => match Header::parse(bytes) {
            Ok(header) => {
                r.pass("header", "a JSON object with a string \"alg\"");
                Some(header)
            }
            Err(e) => {
                r.fail("header", e, header_reason(bytes));
                None
            }
        },
        None => r.skip("header", "base64url(header)"),
    };
    let header_accepted = match &header {
        Some(header) => match header.check_alg().and_then(|()| header.check_crit()) {
            Ok(()) => {
                r.pass("alg", format!("{:?}", header.alg));
                r.pass("crit", "absent");
                true
            }
            // `Header::check` tests `alg` first, so a refused `crit` means `alg` passed.
            Err(JwtError::Critical) => {
                r.pass("alg", format!("{:?}", header.alg));
                r.fail("crit", JwtError::Critical, None);
                false
            }
            Err(e) => {
                r.fail("alg", e, Some(format!("it is {:?}", header.alg)));
                r.skip::<()>("crit", "alg (the server stops there)");
                false
            }
        },
        None => {
            r.skip::<()>("alg", "header");
            r.skip::<()>("crit", "header");
            false
        }
    };

    // Step 6: the payload is base64url too, though nothing in it is read before the MAC passes.
    let payload_bytes = decoded(&mut r, "base64url(payload)", segments.map(|s| s.payload));
    let signature_bytes = decoded(
        &mut r,
        "base64url(signature)",
        segments.map(|s| s.signature),
    );

    // Steps 7–8: the MAC over the signing input, with the key the server would choose.
    let kid = header.as_ref().and_then(|h| h.kid.as_deref());
    match (segments, context.keys.key_for(kid)) {
        (None, _) => {
            r.skip::<()>("signature", "segments");
        }
        (Some(_), _) if signature_bytes.is_none() => {
            r.skip::<()>("signature", "base64url(signature)");
        }
        (Some(_), _) if !header_accepted => {
            r.skip::<()>(
                "signature",
                "an accepted header (the server checks no MAC under a refused one)",
            );
        }
        (Some(_), None) => r.record(
            "signature",
            Status::NotChecked,
            "not checked: no key (give --secret KEY, or set JWT_SECRET_KEY)".into(),
            None,
        ),
        (Some(segments), Some((key, source))) => {
            match jwt::compact::decode_signature(segments.signature)
                .and_then(|signature| key.verify_mac(segments.signing_input, &signature))
            {
                Ok(()) => r.pass(
                    "signature",
                    format!("HMAC-SHA256 matches ({source}, kid {})", key.kid()),
                ),
                Err(JwtError::Base64) => r.fail(
                    "signature",
                    JwtError::Base64,
                    Some(format!(
                        "an HS256 signature is {} bytes; this one is {}",
                        jwt::SIGNATURE_LEN,
                        signature_bytes.as_ref().map_or(0, Vec::len)
                    )),
                ),
                Err(e) => r.fail("signature", e, Some(format!("{source}, kid {}", key.kid()))),
            }
        }
    }

    // RFC 7519 §7.2 step 10: the claims. Parsed even when the signature failed, to show them, but the
    // server never gets this far with an unproven payload.
    let claims = match &payload_bytes {
        Some(bytes) => match Claims::parse(bytes) {
            Ok(claims) => {
                r.pass("claims", "a JSON object with valid claims");
                Some(claims)
            }
            Err(e) => {
                r.fail("claims", e, claims_reason(bytes));
                None
            }
        },
        None => r.skip("claims", "base64url(payload)"),
    };
    check_claims(&mut r, claims.as_ref(), context);

    r.header = header_bytes;
    r.payload = payload_bytes;
    r
}

/// Why the header bytes don't deserialize ("missing field `alg`"): the words of the very deserializer
/// `Header::parse` runs and reduces to one error variant. For display only; whether the step passed
/// was decided by `Header::parse` itself.
fn header_reason(bytes: &[u8]) -> Option<String> {
    not_an_object(bytes).or_else(|| {
        serde_json::from_slice::<Header>(bytes)
            .err()
            .map(|e| e.to_string())
    })
}

/// The same for the claims and `Claims::parse` ("missing field `jti`", "\"jti\" is empty").
fn claims_reason(bytes: &[u8]) -> Option<String> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Some("not UTF-8".into());
    };
    if let Some(reason) = not_an_object(bytes) {
        return Some(reason);
    }
    match serde_json::from_str::<Claims>(text) {
        Err(e) => Some(e.to_string()),
        Ok(claims) if claims.jti.is_empty() => Some("\"jti\" is empty".into()),
        Ok(_) => None,
    }
}

/// "it is an array, not an object" for JSON of another kind (RFC 7515 §5.2 step 3, RFC 7519 §7.2
/// step 10). serde's own words would not say so: it reads a well-filled array without complaint.
fn not_an_object(bytes: &[u8]) -> Option<String> {
    use serde_json::Value;
    let kind = match serde_json::from_slice::<Value>(bytes).ok()? {
        Value::Object(_) => return None,
        Value::Array(_) => "an array",
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a boolean",
        Value::Null => "null",
    };
    Some(format!("it is {kind}, not an object"))
}

/// The claim checks, DESIGN §4's order: `exp`, `nbf`, `type`, `iss`, `aud`, then revocation.
fn check_claims(r: &mut Inspection, claims: Option<&Claims>, context: &Context) {
    let v = &context.validation;
    let now = context.now;
    let check_iss = v.issuer.is_some() || claims.is_some_and(|c| c.iss.is_some());
    let check_aud = v.audience.is_some() || claims.is_some_and(|c| c.aud.is_some());
    let Some(claims) = claims else {
        for name in ["exp", "nbf", "type"] {
            r.skip::<()>(name, "claims");
        }
        if check_iss {
            r.skip::<()>("iss", "claims");
        }
        if check_aud {
            r.skip::<()>("aud", "claims");
        }
        r.skip::<()>("revocation", "claims");
        return;
    };
    let leeway = if v.leeway > 0 {
        format!(", leeway {}s", v.leeway)
    } else {
        String::new()
    };

    let exp_phrase = claims.exp.map(|exp| time::expiry(exp, now));
    match v.check_exp(claims, now) {
        Ok(()) => r.pass("exp", format!("{}{leeway}", exp_phrase.unwrap_or_default())),
        Err(e) => r.fail("exp", e, exp_phrase.map(|p| format!("{p}{leeway}"))),
    }

    let nbf_phrase = claims
        .nbf
        .map(|nbf| format!("valid from {}", time::relative(nbf, now)));
    match v.check_nbf(claims, now) {
        Ok(()) => r.pass(
            "nbf",
            nbf_phrase.map_or_else(
                || "no \"nbf\": valid from the start".into(),
                |p| format!("{p}{leeway}"),
            ),
        ),
        Err(e) => r.fail("nbf", e, nbf_phrase.map(|p| format!("{p}{leeway}"))),
    }

    let kind = claims.token_type.as_str();
    match Validation::check_type(claims, context.expected) {
        Ok(()) if context.expected.is_some() => {
            r.pass("type", format!("{kind} token, as required"))
        }
        Ok(()) => r.pass(
            "type",
            format!("{kind} token (no type required; --type to require one)"),
        ),
        Err(e) => r.fail("type", e, None),
    }

    if check_iss {
        match (v.check_issuer(claims), &v.issuer) {
            (Ok(()), Some(issuer)) => r.pass("iss", format!("{issuer:?}, as JWT_ISSUER requires")),
            (Ok(()), None) => r.pass("iss", "JWT_ISSUER is unset, so any issuer is accepted"),
            (Err(e), _) => r.fail(
                "iss",
                e,
                Some(format!("the token says {:?}", claims.iss.as_deref())),
            ),
        }
    }
    if check_aud {
        match (v.check_audience(claims), &v.audience) {
            (Ok(()), Some(audience)) => r.pass(
                "aud",
                format!("names {audience:?}, as JWT_AUDIENCE requires"),
            ),
            (Ok(()), None) => r.pass("aud", "absent"),
            (Err(e), None) => r.fail(
                "aud",
                e,
                Some("JWT_AUDIENCE is unset, and a token naming any audience is refused".into()),
            ),
            (Err(e), Some(_)) => r.fail("aud", e, None),
        }
    }

    let (path, given) = match &context.denylist {
        None => {
            r.record(
                "revocation",
                Status::NotChecked,
                "not checked: no --denylist FILE and no DENYLIST_FILE".into(),
                None,
            );
            return;
        }
        Some(Journal::Given(path)) => (path, true),
        Some(Journal::Configured(path)) => (path, false),
    };
    match denylist::lookup_in_journal(path, &claims.jti) {
        Ok(found) => {
            let skipped = match found.skipped_lines {
                0 => String::new(),
                n => format!("; {n} unreadable line(s) ignored, as the server ignores them"),
            };
            match found.revoked_until {
                None => r.pass(
                    "revocation",
                    format!("jti {:?} is not in {}{skipped}", claims.jti, path.display()),
                ),
                Some(_) => r.fail(
                    "revocation",
                    JwtError::Revoked,
                    Some(format!("jti {:?}, {}{skipped}", claims.jti, path.display())),
                ),
            }
        }
        Err(e) if !given && e.kind() == std::io::ErrorKind::NotFound => r.record(
            "revocation",
            Status::NotChecked,
            format!(
                "not checked: DENYLIST_FILE {} does not exist yet (the server creates it at start-up)",
                path.display()
            ),
            None,
        ),
        Err(e) => r.record(
            "revocation",
            Status::Error,
            format!("cannot read {}: {e}", path.display()),
            None,
        ),
    }
}

/// The report, as printed.
pub fn render(inspection: &Inspection, context: &Context) -> String {
    let mut out = String::new();
    if let Some(header) = &inspection.header {
        out.push_str("Header:\n");
        push_json(&mut out, header);
    }
    if let Some(payload) = &inspection.payload {
        out.push_str(match inspection.status("signature") {
            Some(Status::Pass) => "Claims:\n",
            Some(Status::NotChecked) => "Claims (unverified: signature not checked):\n",
            _ => "Claims (untrusted: the signature did not pass):\n",
        });
        push_json(&mut out, payload);
        push_times(&mut out, payload, context.now);
    }
    out.push_str("Checks, in the server's order:\n");
    for step in &inspection.steps {
        let _ = writeln!(
            out,
            "  {}  {:<20}  {}",
            step.status.label(),
            step.name,
            step.detail
        );
    }
    match inspection.verdict() {
        Verdict::Valid => out.push_str("Result: VALID: every check passed\n"),
        Verdict::Invalid(step, error) => {
            let _ = write!(out, "Result: INVALID: failed at {step}");
            match error {
                Some(error) => {
                    let _ = writeln!(out, "; the server answers 401 {:?}", error.message());
                }
                None => out.push('\n'),
            }
        }
        Verdict::Error(step) => {
            let _ = writeln!(out, "Result: ERROR: could not check {step}");
        }
        Verdict::Unverified => out.push_str(
            "Result: UNVERIFIED: no check failed, but the signature was not checked (exit status 1)\n",
        ),
    }
    out
}

/// A decoded segment as indented JSON, or as escaped text when it isn't JSON.
fn push_json(out: &mut String, bytes: &[u8]) {
    // Validity only: nothing is built, and the text is shown as the token spells it.
    let valid = serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok();
    match std::str::from_utf8(bytes) {
        Ok(text) if valid => out.push_str(&pretty::indent(text, "  ")),
        _ => {
            let _ = writeln!(out, "  (not JSON) {:?}", String::from_utf8_lossy(bytes));
        }
    }
}

/// The NumericDate claims, read for display only (so they show even when other claims are wrong);
/// the checks use the server's [`Claims::parse`].
#[derive(serde::Deserialize)]
struct Times {
    iat: Option<serde_json::Number>,
    nbf: Option<serde_json::Number>,
    exp: Option<serde_json::Number>,
}

/// A NumericDate as whole seconds, as the server reads it: decimals rounded down, huge values capped.
fn seconds(number: &serde_json::Number) -> Option<i64> {
    number
        .as_i64()
        .or_else(|| number.as_u64().map(|_| i64::MAX))
        .or_else(|| number.as_f64().map(|f| f.floor() as i64))
}

/// The times as UTC dates and relative to now.
fn push_times(out: &mut String, payload: &[u8], now: i64) {
    let Ok(times) = serde_json::from_slice::<Times>(payload) else {
        return;
    };
    let lines: Vec<String> = [
        ("iat", &times.iat),
        ("nbf", &times.nbf),
        ("exp", &times.exp),
    ]
    .into_iter()
    .filter_map(|(name, value)| {
        let at = seconds(value.as_ref()?)?;
        let when = if name == "exp" {
            time::expiry(at, now)
        } else {
            time::relative(at, now)
        };
        Some(format!("  {name}  {}  ({when})\n", time::utc(at)))
    })
    .collect();
    if !lines.is_empty() {
        let _ = writeln!(out, "Times (now {}):", time::utc(now));
        lines.iter().for_each(|line| out.push_str(line));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyperjwt::jwt::Audience;

    const NOW: i64 = 1_700_000_000;
    const SECRET: &[u8] = b"inspect-test-secret-0123456789abcdef";

    fn claims() -> Claims<'static> {
        Claims {
            sub: "alice".into(),
            iat: Some(NOW - 60),
            nbf: Some(NOW - 60),
            exp: Some(NOW + 840),
            jti: "0f8b2d9e-7a43-4c1a-9b5e-2d6f8a1c3e47".into(),
            token_type: TokenType::Access,
            fresh: true,
            iss: None,
            aud: None,
        }
    }

    fn context(keys: Keys) -> Context {
        Context {
            max_len: jwt::DEFAULT_MAX_TOKEN_LEN,
            keys,
            validation: Validation::default(),
            expected: None,
            now: NOW,
            denylist: None,
        }
    }

    fn key() -> Keys {
        Keys::Given(Hs256Key::new(SECRET))
    }

    fn statuses(inspection: &Inspection) -> Vec<(&'static str, Status)> {
        inspection
            .steps
            .iter()
            .map(|s| (s.name, s.status))
            .collect()
    }

    /// Base64url-encodes a header and payload and signs them with SECRET, whatever they say.
    fn forge(header: &str, payload: &str) -> String {
        let input = format!(
            "{}.{}",
            b64::encode(header.as_bytes()),
            b64::encode(payload.as_bytes())
        );
        let tag = ring::hmac::sign(
            &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, SECRET),
            input.as_bytes(),
        );
        format!("{input}.{}", b64::encode(tag.as_ref()))
    }

    #[test]
    fn a_valid_token_passes_every_step_in_order() {
        let token = jwt::sign(&Hs256Key::new(SECRET), &claims());
        let inspection = inspect(&token, &context(key()));
        use Status::*;
        assert_eq!(
            statuses(&inspection),
            [
                ("length", Pass),
                ("segments", Pass),
                ("base64url(header)", Pass),
                ("header", Pass),
                ("alg", Pass),
                ("crit", Pass),
                ("base64url(payload)", Pass),
                ("base64url(signature)", Pass),
                ("signature", Pass),
                ("claims", Pass),
                ("exp", Pass),
                ("nbf", Pass),
                ("type", Pass),
                ("revocation", NotChecked),
            ]
        );
        assert_eq!(inspection.verdict(), Verdict::Valid);
        let text = render(&inspection, &context(key()));
        // Members in the token's own order, as sent.
        assert!(
            text.contains(
                "Header:\n  {\n    \"alg\": \"HS256\",\n    \"typ\": \"JWT\",\n    \"kid\""
            ),
            "{text}"
        );
        assert!(
            text.contains("\n    \"sub\": \"alice\",\n    \"iat\""),
            "{text}"
        );
        assert!(
            text.contains("exp  2023-11-14 22:27:20 UTC  (expires in 14m)"),
            "{text}"
        );
        assert!(
            text.contains("iat  2023-11-14 22:12:20 UTC  (1m ago)"),
            "{text}"
        );
        assert!(text.contains("Result: VALID"), "{text}");
    }

    #[test]
    fn the_verdict_agrees_with_the_server_on_every_token() {
        // Whatever the token, inspect calls it valid exactly when jwt::verify (the server's path)
        // accepts it, and otherwise names the error the server gives.
        let tokens = [
            jwt::sign(&Hs256Key::new(SECRET), &claims()),
            jwt::sign(
                &Hs256Key::new(SECRET),
                &Claims {
                    exp: Some(NOW - 5),
                    ..claims()
                },
            ),
            jwt::sign(
                &Hs256Key::new(SECRET),
                &Claims {
                    nbf: Some(NOW + 5),
                    ..claims()
                },
            ),
            jwt::sign(
                &Hs256Key::new(b"another-key-of-at-least-32-bytes!!!"),
                &claims(),
            ),
            jwt::sign(
                &Hs256Key::new(SECRET),
                &Claims {
                    aud: Some(Audience::One("x".into())),
                    ..claims()
                },
            ),
            forge(
                r#"{"alg":"none"}"#,
                r#"{"sub":"a","jti":"j","exp":1800000000}"#,
            ),
            forge(
                r#"{"alg":"HS256","crit":["b64"]}"#,
                r#"{"sub":"a","jti":"j","exp":1800000000}"#,
            ),
            forge(r#"{"alg":"HS256"}"#, r#"{"sub":"a","exp":1800000000}"#),
            forge(r#"{"alg":"HS256"}"#, r#"{"sub":"a","jti":"j"}"#),
            forge(r#"["HS256"]"#, r#"{"sub":"a","jti":"j","exp":1800000000}"#),
            forge(r#"{"alg":"HS256"}"#, r#"["a",1,1,1800000000,"j"]"#),
            forge(
                r#"{"alg":"HS256"}"#,
                r#"{"sub":"a","jti":"","exp":1800000000}"#,
            ),
            forge("not json", "{}"),
            // A bad header and a bad payload: the server reports the header, which it reads first.
            format!("{}.a.{}", b64::encode(b"not json"), b64::encode(&[0; 32])),
            "a.b".into(),
            "a.b.c=".into(),
            "x".repeat(9000),
        ];
        for token in &tokens {
            let server = jwt::verify(
                &Hs256Key::new(SECRET),
                token,
                &Validation::default(),
                None,
                NOW,
            );
            let verdict = inspect(token, &context(key())).verdict();
            match server {
                Ok(_) => assert_eq!(verdict, Verdict::Valid, "{token}"),
                Err(e) => assert!(
                    matches!(verdict, Verdict::Invalid(_, Some(got)) if got == e),
                    "{token}: server {e:?}, inspect {verdict:?}"
                ),
            }
        }
    }

    #[test]
    fn alg_none_fails_at_alg_and_skips_the_signature() {
        let token = forge(
            r#"{"alg":"none","typ":"JWT"}"#,
            r#"{"sub":"a","jti":"j","exp":1800000000}"#,
        );
        let inspection = inspect(&token, &context(key()));
        assert_eq!(inspection.status("alg"), Some(Status::Fail));
        assert_eq!(inspection.status("crit"), Some(Status::Skip));
        assert_eq!(inspection.status("signature"), Some(Status::Skip));
        assert_eq!(inspection.status("exp"), Some(Status::Pass));
        let text = render(&inspection, &context(key()));
        assert!(
            text.contains("\"alg\" is not HS256 (it is \"none\")"),
            "{text}"
        );
        assert!(
            text.contains("failed at alg; the server answers 401 \"Invalid token\""),
            "{text}"
        );
    }

    #[test]
    fn without_a_key_the_signature_is_not_checked_and_the_token_is_unverified() {
        let token = jwt::sign(&Hs256Key::new(SECRET), &claims());
        let inspection = inspect(&token, &context(Keys::None));
        assert_eq!(inspection.status("signature"), Some(Status::NotChecked));
        assert_eq!(inspection.verdict(), Verdict::Unverified);
        let text = render(&inspection, &context(Keys::None));
        assert!(
            text.contains("Claims (unverified: signature not checked):"),
            "{text}"
        );
    }

    #[test]
    fn the_configured_ring_chooses_previous_keys_by_kid() {
        let old = Hs256Key::new(SECRET);
        let ring = KeyRing {
            current: Hs256Key::new(b"the-current-key-of-at-least-32-bytes"),
            previous: vec![Hs256Key::new(SECRET)],
        };
        let token = jwt::sign(&old, &claims());
        let inspection = inspect(&token, &context(Keys::Configured(ring)));
        assert_eq!(inspection.verdict(), Verdict::Valid);
        let step = inspection
            .steps
            .iter()
            .find(|s| s.name == "signature")
            .unwrap();
        assert!(step.detail.contains(old.kid()), "{}", step.detail);
    }

    #[test]
    fn a_truncated_signature_says_how_long_it_is() {
        let token = jwt::sign(&Hs256Key::new(SECRET), &claims());
        let token = &token[..token.len() - 4];
        let inspection = inspect(token, &context(key()));
        let step = inspection
            .steps
            .iter()
            .find(|s| s.name == "signature")
            .unwrap();
        assert_eq!(step.status, Status::Fail);
        assert!(
            step.detail.contains("32 bytes; this one is 29"),
            "{}",
            step.detail
        );
    }

    #[test]
    fn issuer_and_audience_show_when_configured_or_present() {
        let mut ctx = context(key());
        ctx.validation.issuer = Some("me".into());
        let token = jwt::sign(&Hs256Key::new(SECRET), &claims());
        let inspection = inspect(&token, &ctx);
        assert_eq!(inspection.status("iss"), Some(Status::Fail));
        assert_eq!(inspection.status("aud"), None);
        let with_aud = jwt::sign(
            &Hs256Key::new(SECRET),
            &Claims {
                aud: Some(Audience::One("api".into())),
                ..claims()
            },
        );
        let inspection = inspect(&with_aud, &context(key()));
        assert_eq!(inspection.status("aud"), Some(Status::Fail));
        ctx.validation.audience = Some("api".into());
        ctx.validation.issuer = None;
        assert_eq!(inspect(&with_aud, &ctx).status("aud"), Some(Status::Pass));
    }

    #[test]
    fn required_type_is_checked_only_when_asked() {
        let refresh = jwt::sign(
            &Hs256Key::new(SECRET),
            &Claims {
                token_type: TokenType::Refresh,
                ..claims()
            },
        );
        assert_eq!(inspect(&refresh, &context(key())).verdict(), Verdict::Valid);
        let mut ctx = context(key());
        ctx.expected = Some(TokenType::Access);
        assert_eq!(
            inspect(&refresh, &ctx).verdict(),
            Verdict::Invalid(
                "type",
                Some(JwtError::WrongType {
                    expected: TokenType::Access
                })
            )
        );
    }

    #[test]
    fn a_missing_journal_is_an_error_only_when_named_on_the_command_line() {
        let token = jwt::sign(&Hs256Key::new(SECRET), &claims());
        let missing =
            std::env::temp_dir().join(format!("hyperjwt-no-journal-{}", std::process::id()));
        let mut ctx = context(key());
        ctx.denylist = Some(Journal::Given(missing.clone()));
        let inspection = inspect(&token, &ctx);
        assert_eq!(inspection.status("revocation"), Some(Status::Error));
        assert_eq!(inspection.verdict(), Verdict::Error("revocation"));
        assert!(render(&inspection, &ctx).contains("Result: ERROR: could not check revocation"));
        // DENYLIST_FILE before the server's first start: nothing revoked yet, nothing to check.
        ctx.denylist = Some(Journal::Configured(missing));
        let inspection = inspect(&token, &ctx);
        assert_eq!(inspection.status("revocation"), Some(Status::NotChecked));
        assert_eq!(inspection.verdict(), Verdict::Valid);
    }

    #[test]
    fn malformed_header_and_claims_say_what_is_wrong() {
        let token = forge(r#"{"typ":"JWT"}"#, r#"{"sub":"a","exp":1800000000}"#);
        let inspection = inspect(&token, &context(key()));
        let detail = |name| {
            &inspection
                .steps
                .iter()
                .find(|s| s.name == name)
                .unwrap()
                .detail
        };
        assert!(
            detail("header").contains("missing field `alg`"),
            "{}",
            detail("header")
        );
        assert!(
            detail("claims").contains("missing field `jti`"),
            "{}",
            detail("claims")
        );
        let token = forge(
            r#"{"alg":"HS256"}"#,
            r#"{"sub":7,"jti":"j","exp":1800000000}"#,
        );
        let inspection = inspect(&token, &context(key()));
        let step = inspection
            .steps
            .iter()
            .find(|s| s.name == "claims")
            .unwrap();
        assert!(
            step.detail.contains("invalid type: integer `7`"),
            "{}",
            step.detail
        );
    }

    #[test]
    fn arrays_and_an_empty_jti_say_what_is_wrong() {
        let detail = |token: &str, name| {
            let inspection = inspect(token, &context(key()));
            let step = inspection.steps.iter().find(|s| s.name == name).unwrap();
            assert_eq!(step.status, Status::Fail, "{name}: {}", step.detail);
            step.detail.clone()
        };
        let payload = r#"{"sub":"a","jti":"j","exp":1800000000}"#;
        let got = detail(&forge(r#"["HS256","JWT"]"#, payload), "header");
        assert!(got.contains("it is an array, not an object"), "{got}");
        let got = detail(
            &forge(r#"{"alg":"HS256"}"#, r#"["a",1,1,1800000000,"j"]"#),
            "claims",
        );
        assert!(got.contains("it is an array, not an object"), "{got}");
        let got = detail(&forge(r#"{"alg":"HS256"}"#, r#""a""#), "claims");
        assert!(got.contains("it is a string, not an object"), "{got}");
        let empty = r#"{"sub":"a","jti":"","exp":1800000000}"#;
        let got = detail(&forge(r#"{"alg":"HS256"}"#, empty), "claims");
        assert!(got.contains("\"jti\" is empty"), "{got}");
    }

    #[test]
    fn garbage_skips_what_depends_on_it() {
        let inspection = inspect("not-a-token", &context(key()));
        assert_eq!(inspection.status("segments"), Some(Status::Fail));
        assert!(
            inspection.steps[2..]
                .iter()
                .all(|s| s.status == Status::Skip)
        );
        assert!(render(&inspection, &context(key())).contains("failed at segments"));
    }
}
