//! HS256 sign and verify: hyperjwt against the `jsonwebtoken` crate and against the floor, raw
//! `ring::hmac` over the same signing input with a prepared key. Identical claims everywhere
//! (a ~300-byte token, as the server issues).
//!
//!     cargo bench --bench jwt

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use hyperjwt::jwt::{self, Claims, Hs256Key, TokenType, Validation};
use ring::hmac;

const SECRET: &[u8] = b"benchmark-secret-0123456789abcdef0123456789";

fn claims(now: i64) -> Claims {
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
    }
}

fn jsonwebtoken_validation() -> jsonwebtoken::Validation {
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    v.validate_nbf = true;
    v.leeway = 0;
    v.set_required_spec_claims(&["exp", "sub"]);
    v
}

fn bench(c: &mut Criterion) {
    let now = jwt::now();
    let claims = claims(now);
    let key = Hs256Key::new(SECRET);
    let token = jwt::sign(&key, &claims);
    let (signing_input, signature_b64) = token.rsplit_once('.').unwrap();
    let signature = jwt::b64::decode(signature_b64).unwrap();
    let ring_key = hmac::Key::new(hmac::HMAC_SHA256, SECRET);
    let jwt_encoding = jsonwebtoken::EncodingKey::from_secret(SECRET);
    let jwt_decoding = jsonwebtoken::DecodingKey::from_secret(SECRET);
    let jwt_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    let jwt_validation = jsonwebtoken_validation();
    let validation = Validation::default();
    // Same claims through jsonwebtoken, to verify it with jsonwebtoken.
    let foreign = jsonwebtoken::encode(&jwt_header, &claims, &jwt_encoding).unwrap();

    let mut sign = c.benchmark_group("sign");
    sign.bench_function("hyperjwt", |b| {
        b.iter(|| jwt::sign(&key, black_box(&claims)))
    });
    sign.bench_function("jsonwebtoken", |b| {
        b.iter(|| jsonwebtoken::encode(&jwt_header, black_box(&claims), &jwt_encoding).unwrap())
    });
    sign.bench_function("ring hmac floor", |b| {
        b.iter(|| hmac::sign(&ring_key, black_box(signing_input.as_bytes())))
    });
    sign.finish();

    let mut verify = c.benchmark_group("verify");
    verify.bench_function("hyperjwt", |b| {
        b.iter(|| {
            jwt::verify(&key, black_box(&token), &validation, TokenType::Access, now).unwrap()
        })
    });
    verify.bench_function("jsonwebtoken", |b| {
        b.iter(|| {
            jsonwebtoken::decode::<Claims>(black_box(&foreign), &jwt_decoding, &jwt_validation)
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
    let mut reject = c.benchmark_group("reject");
    for (name, bad) in [
        ("bad signature", bad_signature.as_str()),
        ("expired", expired.as_str()),
        ("malformed", "not.a.jwt"),
    ] {
        reject.bench_function(name, |b| {
            b.iter(|| {
                jwt::verify(&key, black_box(bad), &validation, TokenType::Access, now).unwrap_err()
            })
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
