//! The pipeline's order: steps run as [`Step`] numbers them, the earlier of two failures is the
//! answer, a diagnosis runs exactly the steps whose inputs passed and answers as the server does, and
//! the fast path agrees with the full one.

use super::*;
use crate::jwt::testing::{NOW, claims, forge, key, payload_json};
use crate::jwt::{Audience, Hs256Key, b64, sign};

/// The steps an observer was told about, in the order it was told.
type Steps = Vec<(Step, Result<(), JwtError>)>;

/// Records every step it is told about, diagnosing or not.
struct Record<const DIAGNOSE: bool>(Steps);

impl<const D: bool> Observer for Record<D> {
    const DIAGNOSE: bool = D;

    fn observe(&mut self, step: Step, outcome: Outcome<'_>) {
        let result = match outcome {
            Outcome::Pass(_) => Ok(()),
            Outcome::Fail(error) => Err(error),
            Outcome::Unchecked => Err(JwtError::Signature),
        };
        self.0.push((step, result));
    }
}

fn rules(validation: &Validation) -> Rules<'_> {
    Rules {
        max_len: DEFAULT_MAX_TOKEN_LEN,
        validation,
        expected: Some(TokenType::Access),
        now: NOW,
    }
}

/// Runs the pipeline on `token` with a recorder; returns the result (claims owned) and the steps.
fn observed<const D: bool>(
    keys: Option<&Hs256Key>,
    token: &str,
) -> (Result<Claims<'static>, JwtError>, Steps) {
    let validation = Validation::default();
    let mut recorder = Record::<D>(Vec::new());
    let mut buf = DecodeBuf::new();
    let result = verify_observed(keys, token, &rules(&validation), &mut buf, &mut recorder)
        .map(Claims::into_owned);
    (result, recorder.0)
}

/// Tokens that fail in every way the pipeline knows, several of them in two or more ways at once.
fn tokens() -> Vec<String> {
    let expired = Claims {
        exp: Some(NOW - 1),
        ..claims()
    };
    let expired_json = serde_json::to_string(&expired).unwrap();
    let other = Hs256Key::new(b"another-secret-of-at-least-32-bytes!!!!");
    let good = sign(&key(), &claims());
    let (input, _) = good.rsplit_once('.').unwrap();
    vec![
        good.clone(),
        sign(&key(), &expired),
        sign(&other, &expired),
        sign(
            &key(),
            &Claims {
                aud: Some(Audience::One("x".into())),
                nbf: Some(NOW + 5),
                ..claims()
            },
        ),
        forge(r#"{"alg":"none"}"#, &expired_json),
        forge(r#"{"alg":"none","crit":["b64"]}"#, &payload_json()),
        forge(r#"{"alg":"HS256","crit":["b64"]}"#, &payload_json()),
        forge(r#"["HS256"]"#, r#"["user1",1,1,1]"#),
        forge(r#"{"alg":"HS256"}"#, r#"{"sub":"a","jti":"j"}"#),
        forge(r#"{"typ":"JWT","alg":"HS256"}"#, &payload_json()),
        format!("{}.a.{}", b64::encode(b"not json"), b64::encode(&[0; 32])),
        format!("{input}."),
        format!("{input}.{}", b64::encode(&[0; 32])),
        format!("{}x", "a.".repeat(5000)),
        "a.b".into(),
        "a.b.c=".into(),
        "x".repeat(DEFAULT_MAX_TOKEN_LEN + 1),
    ]
}

#[test]
fn a_token_failing_two_steps_reports_the_earlier() {
    let other = Hs256Key::new(b"another-secret-of-at-least-32-bytes!!!!");
    let expired = Claims {
        exp: Some(NOW - 1),
        ..claims()
    };
    let expired_json = serde_json::to_string(&expired).unwrap();
    for (token, error, step) in [
        // A bad MAC (10) before an expired `exp` (12).
        (sign(&other, &expired), JwtError::Signature, Step::Signature),
        // `alg` (5) before `crit` (6) before the MAC (10).
        (
            forge(r#"{"alg":"none","crit":[]}"#, &expired_json),
            JwtError::Algorithm,
            Step::Algorithm,
        ),
        // Too long (1) and no dots (2).
        (
            "x".repeat(DEFAULT_MAX_TOKEN_LEN + 1),
            JwtError::TooLong,
            Step::Length,
        ),
        // A bad header (4) and a payload that is no base64url (8).
        (
            format!("{}.!.{}", b64::encode(b"[]"), b64::encode(&[0; 32])),
            JwtError::Header,
            Step::Header,
        ),
    ] {
        assert_eq!(
            verify(&key(), &token, &Validation::default(), None, NOW),
            Err(error)
        );
        // The server's own path stops right there: the last step it ran is the failed one.
        let (result, steps) = observed::<false>(Some(&key()), &token);
        assert_eq!(result, Err(error));
        assert_eq!(steps.last(), Some(&(step, Err(error))), "{token}");
        // A diagnosis goes on, and its first failure is the same.
        let (result, steps) = observed::<true>(Some(&key()), &token);
        assert_eq!(result, Err(error));
        let first = steps.iter().find(|(_, r)| r.is_err());
        assert_eq!(first, Some(&(step, Err(error))), "{token}");
        assert!(steps.len() > steps.iter().position(|s| s.0 == step).unwrap() + 1);
    }
}

#[test]
fn steps_are_observed_in_their_numbered_order_and_once() {
    for token in tokens() {
        for steps in [
            observed::<false>(Some(&key()), &token).1,
            observed::<true>(Some(&key()), &token).1,
            observed::<true>(None, &token).1,
        ] {
            assert!(
                steps.windows(2).all(|w| w[0].0 < w[1].0),
                "{token}: {steps:?}"
            );
        }
    }
    // A valid token, diagnosed: every step but the caller's, in the order of `Step::ALL`.
    let (result, steps) = observed::<true>(Some(&key()), &sign(&key(), &claims()));
    assert_eq!(result, Ok(claims()));
    let ran: Vec<Step> = steps.iter().map(|s| s.0).collect();
    assert_eq!(ran, Step::ALL[..Step::ALL.len() - 1]);
    assert!(steps.iter().all(|s| s.1.is_ok()));
}

#[test]
fn a_diagnosis_runs_a_step_exactly_when_its_inputs_passed() {
    for keys in [Some(key()), None] {
        for token in tokens() {
            let (_, steps) = observed::<true>(keys.as_ref(), &token);
            let reached = |step: &Step| {
                steps
                    .iter()
                    .any(|(s, r)| s == step && (r.is_ok() || matches!(s, Step::Key)))
            };
            for step in &Step::ALL[..Step::ALL.len() - 1] {
                let ran = steps.iter().any(|(s, _)| s == step);
                assert_eq!(
                    ran,
                    step.inputs().iter().all(reached),
                    "{step:?} of {token}: {steps:?}"
                );
            }
        }
    }
}

#[test]
fn a_diagnosis_answers_as_the_server_does() {
    for token in tokens() {
        let server = verify(
            &key(),
            &token,
            &Validation::default(),
            TokenType::Access,
            NOW,
        );
        let (diagnosis, _) = observed::<true>(Some(&key()), &token);
        assert_eq!(diagnosis, server, "{token}");
        // Without a key, nothing is ever accepted.
        let (unkeyed, _) = observed::<true>(None, &token);
        assert!(unkeyed.is_err(), "{token}");
    }
}

#[test]
fn without_keys_the_key_and_the_signature_are_unchecked_and_the_token_refused() {
    let (result, steps) = observed::<true>(None, &sign(&key(), &claims()));
    assert_eq!(result, Err(JwtError::Signature));
    let unchecked: Vec<Step> = steps.iter().filter(|s| s.1.is_err()).map(|s| s.0).collect();
    assert_eq!(unchecked, [Step::Key, Step::Signature]);
    // The claims were still read and checked: a diagnosis shows them.
    assert!(steps.iter().any(|s| s == &(Step::Audience, Ok(()))));
    // The quiet pipeline refuses a keyless run at step 7.
    let validation = Validation::default();
    let token = sign(&key(), &claims());
    let mut buf = DecodeBuf::new();
    let result =
        verify_observed::<Hs256Key, _>(None, &token, &rules(&validation), &mut buf, &mut Quiet);
    assert_eq!(result.err(), Some(JwtError::Signature));
}

#[test]
fn the_fast_path_skips_steps_3_to_7_for_our_own_header_only() {
    let own = sign(&key(), &claims());
    let (result, steps) = observed::<false>(Some(&key()), &own);
    assert_eq!(result, Ok(claims()));
    let ran: Vec<Step> = steps.iter().map(|s| s.0).collect();
    let mut without_header = Step::ALL[..Step::ALL.len() - 1].to_vec();
    without_header.retain(|s| !(Step::HeaderBase64..=Step::Key).contains(s));
    assert_eq!(ran, without_header);
    // The same meaning in other bytes takes the full path, to the same answer.
    let foreign = forge(
        &format!(r#"{{"typ":"JWT","alg":"HS256","kid":"{}"}}"#, key().kid()),
        &payload_json(),
    );
    let (result, steps) = observed::<false>(Some(&key()), &foreign);
    assert_eq!(result, Ok(claims()));
    assert_eq!(steps.len(), Step::ALL.len() - 1);
}

#[test]
fn validation_check_is_steps_12_to_16_in_order() {
    let late = Claims {
        exp: Some(NOW - 1),
        nbf: Some(NOW + 1),
        iss: Some("other".into()),
        ..claims()
    };
    let strict = Validation {
        issuer: Some("me".into()),
        ..Validation::default()
    };
    assert_eq!(
        strict.check(&late, TokenType::Refresh, NOW),
        Err(JwtError::Expired)
    );
    let early = Claims {
        exp: None,
        ..late.clone()
    };
    assert_eq!(
        strict.check(&early, TokenType::Refresh, NOW),
        Err(JwtError::MissingExp)
    );
    let on_time = Claims {
        exp: Some(NOW + 1),
        ..late
    };
    assert_eq!(
        strict.check(&on_time, TokenType::Refresh, NOW),
        Err(JwtError::NotYetValid)
    );
    let now_valid = Claims {
        nbf: None,
        ..on_time
    };
    assert_eq!(
        strict.check(&now_valid, TokenType::Refresh, NOW),
        Err(JwtError::WrongType {
            expected: TokenType::Refresh
        })
    );
    assert_eq!(
        strict.check(&now_valid, TokenType::Access, NOW),
        Err(JwtError::Issuer)
    );
}
