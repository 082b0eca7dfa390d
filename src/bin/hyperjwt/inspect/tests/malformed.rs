//! `token inspect` on tokens that fail before their claims are checked: each report says which
//! step refused and why, and marks the steps that depend on it as skipped.

use super::*;

#[test]
fn alg_none_fails_at_alg_and_skips_the_signature() {
    let token = forge(
        r#"{"alg":"none","typ":"JWT"}"#,
        r#"{"sub":"a","jti":"j","exp":1800000000}"#,
    );
    let inspection = inspect(&token, &context(key()));
    assert_eq!(inspection.status(Step::Algorithm), Some(Status::Fail));
    // `crit` reads the header, which the diagnosis still has; no key is chosen under a refused
    // header, so there is no MAC to check.
    assert_eq!(inspection.status(Step::Critical), Some(Status::Pass));
    assert_eq!(inspection.status(Step::Key), Some(Status::Skip));
    assert_eq!(inspection.status(Step::Signature), Some(Status::Skip));
    assert_eq!(inspection.status(Step::Expiry), Some(Status::Pass));
    let text = render(&inspection, &context(key()));
    assert!(
        text.contains("\"alg\" does not match our keys' algorithm (it is \"none\")"),
        "{text}"
    );
    assert!(
        text.contains("failed at alg; the server answers 401 \"Invalid token\""),
        "{text}"
    );
}

#[test]
fn a_truncated_signature_says_how_long_it_is() {
    let token = jwt::sign(&Hs256Key::new(SECRET), &claims());
    let token = &token[..token.len() - 4];
    let inspection = inspect(token, &context(key()));
    // Step 9 decodes the signature to exactly 32 bytes, so it is the one that fails.
    let step = inspection.step(Step::SignatureBase64).unwrap();
    assert_eq!(step.status, Status::Fail);
    assert!(
        step.detail.contains("32 bytes; this one is 29"),
        "{}",
        step.detail
    );
    let signature = inspection.step(Step::Signature).unwrap();
    assert_eq!(signature.status, Status::Skip);
    assert_eq!(signature.detail, "needs base64url(signature)");
}

#[test]
fn malformed_header_and_claims_say_what_is_wrong() {
    let token = forge(r#"{"typ":"JWT"}"#, r#"{"sub":"a","exp":1800000000}"#);
    let inspection = inspect(&token, &context(key()));
    let detail = |name| {
        &inspection
            .steps
            .iter()
            .find(|s| s.step.name() == name)
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
    let step = inspection.step(Step::Claims).unwrap();
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
        let step = inspection
            .steps
            .iter()
            .find(|s| s.step.name() == name)
            .unwrap();
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
    assert_eq!(inspection.status(Step::Segments), Some(Status::Fail));
    assert!(
        inspection.steps[2..]
            .iter()
            .all(|s| s.status == Status::Skip)
    );
    assert!(render(&inspection, &context(key())).contains("failed at segments"));
}
