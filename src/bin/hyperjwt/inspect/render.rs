//! `token inspect`'s report as printed: the decoded header and claims in the token's own member
//! order, the times, one line per step (status, number, name, reason) and the verdict.

use std::fmt::Write as _;

use hyperjwt::jwt::Step;

use super::checked::Status;
use super::context::{Context, CsrfRule};
use super::report::{Inspection, Verdict};
use crate::{pretty, time};

/// The report, as printed.
pub fn render(inspection: &Inspection, context: &Context) -> String {
    let mut out = String::new();
    if let Some(header) = &inspection.header {
        out.push_str("Header:\n");
        push_json(&mut out, header);
    }
    if let Some(payload) = &inspection.payload {
        out.push_str(match inspection.status(Step::Signature) {
            Some(Status::Pass) => "Claims:\n",
            Some(Status::NotChecked) => "Claims (unverified: signature not checked):\n",
            _ => "Claims (untrusted: the signature did not pass):\n",
        });
        push_json(&mut out, payload);
        push_times(&mut out, payload, context.now);
        push_csrf(&mut out, payload, &context.csrf);
    }
    out.push_str("Checks, in the server's order:\n");
    for step in &inspection.steps {
        let _ = writeln!(
            out,
            "  {}  {:>2}  {:<20}  {}",
            step.status.label(),
            step.step.number(),
            step.step.name(),
            step.detail
        );
    }
    match inspection.verdict() {
        Verdict::Valid => out.push_str("Result: VALID: every check passed\n"),
        Verdict::Invalid(step, error) => {
            let _ = writeln!(
                out,
                "Result: INVALID: failed at {}; the server answers 401 {:?}",
                step.name(),
                error.message()
            );
        }
        Verdict::Error(step) => {
            let _ = writeln!(out, "Result: ERROR: could not check {}", step.name());
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
/// the checks use the server's [`Claims::parse`](hyperjwt::jwt::Claims::parse).
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

/// The double-submit value, when the token has one: what a browser session must echo.
fn push_csrf(out: &mut String, payload: &[u8], rule: &CsrfRule) {
    #[derive(serde::Deserialize)]
    struct Csrf {
        csrf: Option<String>,
        #[serde(rename = "type")]
        token_type: Option<String>,
    }
    if let Ok(Csrf {
        csrf: Some(csrf),
        token_type,
    }) = serde_json::from_slice::<Csrf>(payload)
    {
        let header = match token_type.as_deref() {
            Some("refresh") => &rule.refresh_header,
            _ => &rule.access_header,
        };
        let _ = writeln!(
            out,
            "CSRF: {csrf:?}: sent in a cookie, this token needs the same value in the \
             {header} header for {} (docs/cookies.md)",
            rule.methods
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::report::inspect;
    use super::super::tests::{SECRET, claims, context, key};
    use super::*;
    use hyperjwt::jwt::{self, Hs256Key};

    #[test]
    fn each_line_shows_the_steps_number_and_name() {
        let token = jwt::sign(&Hs256Key::new(SECRET), &claims());
        let text = render(&inspect(&token, &context(key())), &context(key()));
        for (line, step) in [
            ("  PASS   1  length                ", Step::Length),
            (
                "  PASS   7  key                   --secret, kid ",
                Step::Key,
            ),
            (
                "  PASS  10  signature             HMAC-SHA256 matches",
                Step::Signature,
            ),
            (
                "  ----  17  revocation            not checked",
                Step::Revocation,
            ),
        ] {
            assert!(text.contains(line), "{step:?} in\n{text}");
            assert!(line.contains(&format!(" {:>2}  {} ", step.number(), step.name())));
        }
    }
}
