//! Runs one HS256 operation `N` times, for `benches/instructions.sh` to count its instructions under
//! valgrind's callgrind: a view of the verifier's cost that the noise of a shared machine does not
//! move. The work is exactly that of `benches/jwt.rs` (both use `benches/fixtures/jwt.rs`).
//!
//!     cargo build --release --example jwt_instructions
//!     target/release/examples/jwt_instructions verify 100000
//!
//! Operations: `verify`, `verify-foreign`, `jsonwebtoken-verify`, `floor-verify`, `sign`,
//! `jsonwebtoken-sign`, `floor-sign`; three steps of `verify` alone, `split`, `payload-base64` and
//! `claims-parse`; and `none` (the set-up alone, which the script subtracts).

use std::hint::black_box;
use std::process::ExitCode;

use hyperjwt::jwt::{self, Claims, b64};
use ring::hmac;

#[path = "../benches/fixtures/jwt.rs"]
mod fixtures;
use fixtures::Fixture;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(op), Some(n)) = (args.next(), args.next().and_then(|n| n.parse::<u64>().ok())) else {
        eprintln!("usage: jwt_instructions OPERATION N");
        return ExitCode::from(2);
    };
    let f = Fixture::new();
    // The steps of `verify`, apart, for the breakdown.
    let segments = jwt::split(&f.token).expect("our token splits");
    let payload = b64::decode(segments.payload).expect("our payload decodes");
    let run: &dyn Fn() -> bool = match op.as_str() {
        "none" => &|| true,
        "verify" => &|| f.server_verify(black_box(&f.token)),
        "verify-foreign" => &|| f.server_verify(black_box(&f.foreign)),
        "jsonwebtoken-verify" => &|| f.jsonwebtoken_verify(black_box(&f.foreign)),
        "floor-verify" => &|| f.floor_verify(black_box(f.signing_input.as_bytes())),
        "split" => &|| jwt::split(black_box(&f.token)).is_ok(),
        "payload-base64" => &|| {
            b64::DecodeBuf::new()
                .decode(black_box(segments.payload))
                .is_ok()
        },
        "claims-parse" => &|| Claims::parse(black_box(&payload)).is_ok(),
        "sign" => &|| !jwt::sign(&f.key, black_box(&f.claims)).is_empty(),
        "jsonwebtoken-sign" => {
            &|| jsonwebtoken::encode(&f.jwt_header, black_box(&f.owned), &f.jwt_encoding).is_ok()
        }
        "floor-sign" => &|| {
            !hmac::sign(&f.ring_key, black_box(f.signing_input.as_bytes()))
                .as_ref()
                .is_empty()
        },
        _ => {
            eprintln!("unknown operation {op}");
            return ExitCode::from(2);
        }
    };
    for _ in 0..n {
        if !run() {
            eprintln!("{op} failed");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
