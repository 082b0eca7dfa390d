//! `token inspect` on tokens of every kind: the steps it reports, in the pipeline's order, and a
//! verdict that agrees with the server's. Tokens that fail early (a refused `alg`, a short
//! signature, a header or claims set that is not what it must be, garbage) are in `malformed`.

mod malformed;

use super::checked::Status;
use super::render::render;
use super::report::{Inspection, Verdict, inspect};
use super::*;
use hyperjwt::jwt::{
    self, Audience, Claims, Hs256Key, JwtError, KeyRing, Step, TokenType, Validation, b64,
};

const NOW: i64 = 1_700_000_000;

pub(super) const SECRET: &[u8] = b"inspect-test-secret-0123456789abcdef";

pub(super) fn claims() -> Claims<'static> {
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
        fam: None,
        csrf: None,
    }
}

pub(super) fn context(keys: Keys) -> Context {
    Context {
        csrf: CsrfRule::of(
            &hyperjwt::Config::with_secret("inspect-tests-secret-0123456789abcdef")
                .unwrap()
                .cookies,
        ),
        max_len: jwt::DEFAULT_MAX_TOKEN_LEN,
        keys,
        validation: Validation::default(),
        expected: None,
        now: NOW,
        denylist: None,
    }
}

pub(super) fn key() -> Keys {
    Keys::Given(Hs256Key::new(SECRET))
}

fn statuses(inspection: &Inspection) -> Vec<(&'static str, Status)> {
    inspection
        .steps
        .iter()
        .map(|s| (s.step.name(), s.status))
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
            ("key", Pass),
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
        text.contains("Header:\n  {\n    \"alg\": \"HS256\",\n    \"typ\": \"JWT\",\n    \"kid\""),
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
                matches!(verdict, Verdict::Invalid(_, got) if got == e),
                "{token}: server {e:?}, inspect {verdict:?}"
            ),
        }
    }
}

#[test]
fn without_a_key_the_signature_is_not_checked_and_the_token_is_unverified() {
    let token = jwt::sign(&Hs256Key::new(SECRET), &claims());
    let inspection = inspect(&token, &context(Keys::None));
    assert_eq!(inspection.status(Step::Key), Some(Status::NotChecked));
    assert_eq!(inspection.status(Step::Signature), Some(Status::NotChecked));
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
    let step = inspection.step(Step::Signature).unwrap();
    assert!(step.detail.contains(old.kid()), "{}", step.detail);
}

#[test]
fn issuer_and_audience_show_when_configured_or_present() {
    let mut ctx = context(key());
    ctx.validation.issuer = Some("me".into());
    let token = jwt::sign(&Hs256Key::new(SECRET), &claims());
    let inspection = inspect(&token, &ctx);
    assert_eq!(inspection.status(Step::Issuer), Some(Status::Fail));
    assert_eq!(inspection.status(Step::Audience), None);
    let with_aud = jwt::sign(
        &Hs256Key::new(SECRET),
        &Claims {
            aud: Some(Audience::One("api".into())),
            ..claims()
        },
    );
    let inspection = inspect(&with_aud, &context(key()));
    assert_eq!(inspection.status(Step::Audience), Some(Status::Fail));
    ctx.validation.audience = Some("api".into());
    ctx.validation.issuer = None;
    assert_eq!(
        inspect(&with_aud, &ctx).status(Step::Audience),
        Some(Status::Pass)
    );
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
            Step::Type,
            JwtError::WrongType {
                expected: TokenType::Access
            }
        )
    );
}

#[test]
fn the_report_lists_the_pipelines_steps_in_their_numbered_order() {
    let mut ctx = context(key());
    ctx.validation.issuer = Some("me".into());
    ctx.validation.audience = Some("api".into());
    let full = jwt::sign(
        &Hs256Key::new(SECRET),
        &Claims {
            iss: Some("me".into()),
            aud: Some(Audience::One("api".into())),
            ..claims()
        },
    );
    let inspection = inspect(&full, &ctx);
    let steps: Vec<Step> = inspection.steps.iter().map(|s| s.step).collect();
    assert_eq!(steps, Step::ALL);
    assert_eq!(inspection.verdict(), Verdict::Valid);
    // Whatever the token, each step once, in order, and revocation last.
    for token in [
        "not-a-token".to_string(),
        forge(r#"{"alg":"none"}"#, "[]"),
        format!("{}.!.x", b64::encode(b"{}")),
        full.clone(),
    ] {
        let steps: Vec<Step> = inspect(&token, &ctx).steps.iter().map(|s| s.step).collect();
        assert!(steps.windows(2).all(|w| w[0] < w[1]), "{token}: {steps:?}");
        assert_eq!(steps.last(), Some(&Step::Revocation), "{token}");
    }
}

#[test]
fn the_csrf_claim_is_shown_with_what_it_is_for() {
    let mut c = claims();
    c.csrf = Some("8cde1016-6f4e-4e2f-8cdf-a48c5c33a6b6".into());
    let token = jwt::sign(&Hs256Key::new(SECRET), &c);
    let inspection = inspect(&token, &context(key()));
    assert_eq!(inspection.verdict(), Verdict::Valid);
    let text = render(&inspection, &context(key()));
    assert!(
        text.contains("\"csrf\": \"8cde1016-6f4e-4e2f-8cdf-a48c5c33a6b6\""),
        "{text}"
    );
    assert!(
        text.contains("CSRF: \"8cde1016-6f4e-4e2f-8cdf-a48c5c33a6b6\": sent in a cookie"),
        "{text}"
    );
    let note = text
        .lines()
        .find(|line| line.starts_with("CSRF: "))
        .unwrap();
    assert!(
        note.contains("the same value in the X-CSRF-TOKEN header"),
        "{note:?}"
    );
    let plain = render(
        &inspect(
            &jwt::sign(&Hs256Key::new(SECRET), &claims()),
            &context(key()),
        ),
        &context(key()),
    );
    assert!(!plain.contains("CSRF"), "{plain}");
}

#[test]
fn the_csrf_note_names_the_configured_header_and_methods() {
    let mut c = claims();
    c.token_type = TokenType::Refresh;
    c.csrf = Some("c0ffee".into());
    let token = jwt::sign(&Hs256Key::new(SECRET), &c);
    let mut ctx = context(key());
    ctx.csrf = CsrfRule {
        access_header: "X-Access-Csrf".into(),
        refresh_header: "X-Refresh-Csrf".into(),
        methods: "POST, DELETE".into(),
    };
    let text = render(&inspect(&token, &ctx), &ctx);
    assert!(
        text.contains("the same value in the X-Refresh-Csrf header for POST, DELETE"),
        "{text}"
    );
}
