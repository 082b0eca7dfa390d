//! HS256 sign and verify: hyperjwt against the `jsonwebtoken` crate and against the floor, raw
//! `ring::hmac` over the same signing input with a prepared key. Identical claims everywhere (a
//! ~300-byte token, as the server issues), grouped so criterion's report shows them side by side.
//!
//!     cargo bench --bench jwt
//!
//! `verify/hyperjwt` is the server's own path (what `Tokens::verify_signature` and
//! `Tokens::check_claims` run per request): claims borrowed from a stack buffer.
//! `verify/hyperjwt owned` is the one-call `jwt::verify`, which copies the claims out for tools.
//! `verify/hyperjwt foreign header` is a token whose header we did not write (as Flask-JWT-Extended's
//! are), so its header is decoded and parsed rather than recognised.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use hyperjwt::jwt::{self, Claims, Hs256Key, TokenType, Validation, b64};
use ring::hmac;

const SECRET: &[u8] = b"benchmark-secret-0123456789abcdef0123456789";

fn claims(now: i64) -> Claims<'static> {
    Claims {
        sub: "user1".into(),
        iat: Some(now),
        nbf: Some(now),
        exp: Some(now + 900),
        jti: "fedd09a4-c5f1-4316-8460-8320f23f22a5".into(),
        token_type: TokenType::Access,
        fresh: true,
        iss: None,
        aud: None,
        fam: None,
        csrf: None,
    }
}

/// The claims as a jsonwebtoken user would declare them: an owned struct.
#[derive(serde::Serialize, serde::Deserialize)]
struct OwnedClaims {
    sub: String,
    iat: i64,
    nbf: i64,
    exp: i64,
    jti: String,
    #[serde(rename = "type")]
    token_type: String,
    fresh: bool,
}

/// jsonwebtoken set to the same checks as ours: HS256 only, `exp` required, `nbf` checked, no leeway.
fn jsonwebtoken_validation() -> jsonwebtoken::Validation {
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    v.validate_nbf = true;
    v.leeway = 0;
    v.set_required_spec_claims(&["exp", "sub"]);
    v
}

/// The server's verification path: the JWS layer, then claims borrowed from its stack buffer.
fn server_verify(key: &Hs256Key, token: &str, validation: &Validation, now: i64) -> bool {
    let mut payload_buf = b64::DecodeBuf::new();
    let max_len = jwt::DEFAULT_MAX_TOKEN_LEN;
    let Ok(payload) = jwt::verify_signature(key, token, max_len, &mut payload_buf) else {
        return false;
    };
    let Ok(claims) = Claims::parse(payload) else {
        return false;
    };
    validation.check(&claims, TokenType::Access, now).is_ok() && claims.sub == "user1"
}

fn bench(c: &mut Criterion) {
    let now = jwt::now();
    let claims = claims(now);
    let owned = OwnedClaims {
        sub: "user1".into(),
        iat: now,
        nbf: now,
        exp: now + 900,
        jti: claims.jti.to_string(),
        token_type: "access".into(),
        fresh: true,
    };
    let key = Hs256Key::new(SECRET);
    let token = jwt::sign(&key, &claims);
    let (signing_input, signature_b64) = token.rsplit_once('.').unwrap();
    let signature = b64::decode(signature_b64).unwrap();
    let ring_key = hmac::Key::new(hmac::HMAC_SHA256, SECRET);
    let jwt_encoding = jsonwebtoken::EncodingKey::from_secret(SECRET);
    let jwt_decoding = jsonwebtoken::DecodingKey::from_secret(SECRET);
    let jwt_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    let jwt_validation = jsonwebtoken_validation();
    let validation = Validation::default();
    // The same claims signed by jsonwebtoken (header without `kid`), for both libraries to verify.
    let foreign = jsonwebtoken::encode(&jwt_header, &owned, &jwt_encoding).unwrap();
    assert!(server_verify(&key, &token, &validation, now));
    assert!(server_verify(&key, &foreign, &validation, now));

    let mut sign = c.benchmark_group("sign");
    sign.bench_function("hyperjwt", |b| {
        b.iter(|| jwt::sign(&key, black_box(&claims)))
    });
    sign.bench_function("jsonwebtoken", |b| {
        b.iter(|| jsonwebtoken::encode(&jwt_header, black_box(&owned), &jwt_encoding).unwrap())
    });
    sign.bench_function("ring hmac floor", |b| {
        b.iter(|| hmac::sign(&ring_key, black_box(signing_input.as_bytes())))
    });
    sign.finish();

    let mut verify = c.benchmark_group("verify");
    verify.bench_function("hyperjwt", |b| {
        b.iter(|| assert!(server_verify(&key, black_box(&token), &validation, now)))
    });
    verify.bench_function("hyperjwt owned", |b| {
        b.iter(|| {
            jwt::verify(&key, black_box(&token), &validation, TokenType::Access, now).unwrap()
        })
    });
    verify.bench_function("hyperjwt foreign header", |b| {
        b.iter(|| assert!(server_verify(&key, black_box(&foreign), &validation, now)))
    });
    verify.bench_function("jsonwebtoken", |b| {
        b.iter(|| {
            jsonwebtoken::decode::<OwnedClaims>(black_box(&foreign), &jwt_decoding, &jwt_validation)
                .unwrap()
        })
    });
    verify.bench_function("ring hmac floor", |b| {
        b.iter(|| hmac::verify(&ring_key, black_box(signing_input.as_bytes()), &signature).unwrap())
    });
    verify.finish();

    let wrong_key = Hs256Key::new(b"another-benchmark-secret-0123456789abcdef");
    let bad_signature = jwt::sign(&wrong_key, &claims);
    let expired = jwt::sign(
        &key,
        &Claims {
            exp: Some(now - 1),
            ..claims.clone()
        },
    );
    let alg_none = format!(
        "{}.{}.",
        b64::encode(br#"{"alg":"none","typ":"JWT"}"#),
        token.split('.').nth(1).unwrap()
    );
    let mut reject = c.benchmark_group("reject");
    for (name, bad) in [
        ("bad signature", bad_signature.as_str()),
        ("expired", expired.as_str()),
        ("alg none", alg_none.as_str()),
        ("malformed", "not.a.jwt"),
    ] {
        reject.bench_function(name, |b| {
            b.iter(|| assert!(!server_verify(&key, black_box(bad), &validation, now)))
        });
    }
    reject.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .measurement_time(std::time::Duration::from_secs(3))
        .warm_up_time(std::time::Duration::from_secs(1))
        .sample_size(50);
    targets = bench
}
criterion_main!(benches);
