//! HS256 sign and verify: hyperjwt against the `jsonwebtoken` crate and against the floor, raw
//! `ring::hmac` over the same signing input with a prepared key (`benches/fixtures/jwt.rs`), grouped
//! so criterion's report shows them side by side. `benches/instructions.sh` counts the same work in
//! instructions, which the noise of a shared machine does not move.
//!
//!     cargo bench --bench jwt
//!
//! `verify/hyperjwt` is the server's own path (what `Tokens::verify_signature` and
//! `Tokens::check_claims` run per request): claims borrowed from a stack buffer.
//! `verify/hyperjwt owned` is the one-call `jwt::verify`, which copies the claims out for tools.
//! `verify/hyperjwt foreign header` is a token whose header we did not write (as Flask-JWT-Extended's
//! are), so its header is decoded and parsed rather than recognised.
//!
//! Public keys (`EdDSA verify`, `ES256 verify`, ... groups; `--features public-keys`): hyperjwt's
//! server path on a new token each time (`hyperjwt`: the memo can't help), on a token it verified
//! before (`hyperjwt remembered`: the memo of `src/jwt/cache.rs`, what a client reusing its access
//! token costs), and jsonwebtoken's verification from the published JWK; signing beside
//! jsonwebtoken's with the same key, and beside one bcrypt check at the default cost 12, which
//! every `/login` also pays.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use hyperjwt::jwt::{self, Claims, Hs256Key, TokenType, b64};
use ring::hmac;

#[path = "fixtures/jwt.rs"]
mod fixtures;
#[cfg(feature = "public-keys")]
#[path = "fixtures/public_keys.rs"]
mod public_keys;
use fixtures::Fixture;
#[cfg(feature = "public-keys")]
use public_keys::PublicKeyFixture;

fn bench(c: &mut Criterion) {
    let f = Fixture::new();
    let mut sign = c.benchmark_group("sign");
    sign.bench_function("hyperjwt", |b| {
        b.iter(|| jwt::sign(&f.key, black_box(&f.claims)))
    });
    sign.bench_function("jsonwebtoken", |b| {
        b.iter(|| {
            jsonwebtoken::encode(&f.jwt_header, black_box(&f.owned), &f.jwt_encoding).unwrap()
        })
    });
    sign.bench_function("ring hmac floor", |b| {
        b.iter(|| hmac::sign(&f.ring_key, black_box(f.signing_input.as_bytes())))
    });
    sign.finish();

    let mut verify = c.benchmark_group("verify");
    verify.bench_function("hyperjwt", |b| {
        b.iter(|| assert!(f.server_verify(black_box(&f.token))))
    });
    verify.bench_function("hyperjwt owned", |b| {
        b.iter(|| {
            jwt::verify(
                &f.key,
                black_box(&f.token),
                &f.validation,
                TokenType::Access,
                f.now,
            )
            .unwrap()
        })
    });
    verify.bench_function("hyperjwt foreign header", |b| {
        b.iter(|| assert!(f.server_verify(black_box(&f.foreign))))
    });
    verify.bench_function("jsonwebtoken", |b| {
        b.iter(|| assert!(f.jsonwebtoken_verify(black_box(&f.foreign))))
    });
    verify.bench_function("ring hmac floor", |b| {
        b.iter(|| assert!(f.floor_verify(black_box(f.signing_input.as_bytes()))))
    });
    verify.finish();

    // The server's verify, step by step, to show where its time above the floor goes.
    let segments = jwt::split(&f.token).unwrap();
    let mut steps = c.benchmark_group("verify steps");
    steps.bench_function("split", |b| {
        b.iter(|| jwt::split(black_box(&f.token)).unwrap())
    });
    steps.bench_function("payload base64", |b| {
        b.iter(|| {
            let mut buf = b64::DecodeBuf::new();
            buf.decode(black_box(segments.payload)).unwrap().len()
        })
    });
    steps.bench_function("signature base64", |b| {
        b.iter(|| jwt::compact::decode_signature(black_box(segments.signature)).unwrap())
    });
    let mut payload_buf = b64::DecodeBuf::new();
    let payload = payload_buf.decode(segments.payload).unwrap().to_vec();
    steps.bench_function("claims parse", |b| {
        b.iter(|| Claims::parse(black_box(&payload)).unwrap().exp)
    });
    let parsed = Claims::parse(&payload).unwrap();
    steps.bench_function("claims check", |b| {
        b.iter(|| {
            f.validation
                .check(black_box(&parsed), TokenType::Access, f.now)
                .unwrap()
        })
    });
    steps.finish();

    let wrong_key = Hs256Key::new(b"another-benchmark-secret-0123456789abcdef");
    let bad_signature = jwt::sign(&wrong_key, &f.claims);
    let expired = jwt::sign(
        &f.key,
        &Claims {
            exp: Some(f.now - 1),
            ..f.claims.clone()
        },
    );
    let alg_none = format!(
        "{}.{}.",
        b64::encode(br#"{"alg":"none","typ":"JWT"}"#),
        f.token.split('.').nth(1).unwrap()
    );
    let mut reject = c.benchmark_group("reject");
    for (name, bad) in [
        ("bad signature", bad_signature.as_str()),
        ("expired", expired.as_str()),
        ("alg none", alg_none.as_str()),
        ("malformed", "not.a.jwt"),
    ] {
        reject.bench_function(name, |b| {
            b.iter(|| assert!(!f.server_verify(black_box(bad))))
        });
    }
    reject.finish();
}

/// `cargo bench --bench jwt --features public-keys`; nothing without the feature.
#[cfg(not(feature = "public-keys"))]
fn public_key_bench(_: &mut Criterion) {}

#[cfg(feature = "public-keys")]
fn public_key_bench(c: &mut Criterion) {
    let f = Fixture::new();
    for alg in [jwt::Algorithm::EdDsa, jwt::Algorithm::Es256] {
        let p = PublicKeyFixture::new(alg, &f);
        let theirs = jsonwebtoken::encode(&p.jwt_header, &f.owned, &p.jwt_encoding).unwrap();
        let mut verify = c.benchmark_group(format!("{} verify", p.name));
        verify.bench_function("hyperjwt", |b| {
            b.iter(|| assert!(p.server_verify(&p.uncached, black_box(&p.token), &f)))
        });
        assert!(p.server_verify(&p.cached, &p.token, &f), "remembered once");
        verify.bench_function("hyperjwt remembered", |b| {
            b.iter(|| assert!(p.server_verify(&p.cached, black_box(&p.token), &f)))
        });
        verify.bench_function("jsonwebtoken", |b| {
            b.iter(|| assert!(p.jsonwebtoken_verify(black_box(&theirs))))
        });
        verify.finish();
        let mut sign = c.benchmark_group(format!("{} sign", p.name));
        let key = p.uncached.signing_key();
        sign.bench_function("hyperjwt", |b| {
            b.iter(|| jwt::sign_with(key, black_box(&f.claims)).unwrap())
        });
        sign.bench_function("jsonwebtoken", |b| {
            b.iter(|| {
                jsonwebtoken::encode(&p.jwt_header, black_box(&f.owned), &p.jwt_encoding).unwrap()
            })
        });
        sign.finish();
    }
}

/// What a `/login` costs besides its signature: one bcrypt check at the default cost (12).
fn bcrypt_bench(c: &mut Criterion) {
    let hash = bcrypt::hash("password1", 12).unwrap();
    let mut login = c.benchmark_group("login");
    login.sample_size(10);
    login.bench_function("bcrypt verify, cost 12", |b| {
        b.iter(|| bcrypt::verify(black_box("password1"), &hash).unwrap())
    });
    login.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .measurement_time(std::time::Duration::from_secs(3))
        .warm_up_time(std::time::Duration::from_secs(1))
        .sample_size(50);
    targets = bench, public_key_bench
}
criterion_group! {
    name = slow;
    config = Criterion::default()
        .measurement_time(std::time::Duration::from_secs(5))
        .warm_up_time(std::time::Duration::from_secs(1));
    targets = bcrypt_bench
}
criterion_main!(benches, slow);
