//! Fuzz target: token verification (`hyperjwt::jwt::verify` and `verify_signature`) must never panic
//! and must keep its invariants on any input.
//!
//! Random bytes almost never carry a valid HMAC, so a raw-bytes fuzzer would only ever exercise the
//! parser up to the signature check. Every input is therefore used twice:
//!
//! 1. as a raw token (if it is UTF-8), checked against the invariants in [`check_token`];
//! 2. as a recipe, chosen by its first byte, for a token the fuzzer could not write itself:
//!    - *forged*: the rest is `header JSON 0xFF payload JSON`, signed with the fuzz key, so arbitrary
//!      (and malformed) JSON reaches the header checks and the claims parser behind a valid MAC —
//!      arrays too, which must never verify however well they fill the structs by position;
//!    - *oracle*: header and claims are drawn field by field (right and wrong types, boundary times,
//!      `aud`/`iss`/`type`/`crit`, an empty `jti`, `fam` and `csrf`, members and claims nobody
//!      reads), signed, and the result must equal what the
//!      rules of docs/http.md §4 predict;
//!    - *mutated*: a token we signed is edited (bit flips, insertions, truncation, swapped segments,
//!      padding, the `+/` alphabet, a changed `alg`, a re-serialised payload) and must then never
//!      verify unless the edits cancelled out to the very same bytes.

#![no_main]

use std::sync::OnceLock;

use hyperjwt::ApiError;
use hyperjwt::jwt::b64::DecodeBuf;
use hyperjwt::jwt::{
    Audience, Claims, DEFAULT_MAX_TOKEN_LEN, Hs256Key, JwtError, KeyRing, TokenType, Validation,
    b64, sign, verify, verify_signature,
};
use libfuzzer_sys::arbitrary::{self, Unstructured};
use libfuzzer_sys::fuzz_target;
use ring::hmac;
use serde_json::{Map, Value, json};

const SECRET: &[u8] = b"fuzz-secret-0123456789abcdef0123456789abcdef";
const OTHER_SECRET: &[u8] = b"another-fuzz-secret-0123456789abcdef012345";
/// The clock for raw and forged tokens; the oracle draws its own.
const NOW: i64 = 1_700_000_000;

/// Built once: the keys are the same for every input, so per-input work is only the token itself.
struct Keys {
    key: Hs256Key,
    hmac: hmac::Key,
    /// The fuzz key as a *previous* key behind another current one: kid selection must never let
    /// a token through that the fuzz key alone would refuse.
    ring: KeyRing,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys {
        key: Hs256Key::new(SECRET),
        hmac: hmac::Key::new(hmac::HMAC_SHA256, SECRET),
        ring: KeyRing {
            current: Hs256Key::new(OTHER_SECRET),
            previous: vec![Hs256Key::new(SECRET)],
        },
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(token) = std::str::from_utf8(data) {
        check_token(token);
    }
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    // Running out of bytes mid-recipe is normal; the input simply ends there.
    let _ = match mode % 3 {
        0 => forged(rest),
        1 => oracle(&mut Unstructured::new(rest)),
        _ => mutated(&mut Unstructured::new(rest)),
    };
});

/// Signs `header.payload` (raw bytes, base64url-encoded here) with the fuzz key, as an attacker who
/// knew the key could: the one way past the MAC to the code behind it.
fn forge(header: &[u8], payload: &[u8]) -> String {
    let mut token = b64::encode(header);
    token.push('.');
    token.push_str(&b64::encode(payload));
    let tag = hmac::sign(&keys().hmac, token.as_bytes());
    token.push('.');
    token.push_str(&b64::encode(tag.as_ref()));
    token
}

/// The JWS layer's answer with the payload as plain bytes, so answers can be compared.
fn jws(key: &Hs256Key, token: &str, max_len: usize) -> Result<Vec<u8>, JwtError> {
    let mut payload_buf = DecodeBuf::new();
    verify_signature(key, token, max_len, &mut payload_buf).map(<[u8]>::to_vec)
}

/// Invariants that hold for every string, whatever its origin.
fn check_token(token: &str) {
    let k = keys();
    let v = Validation::default();
    let sig = jws(&k.key, token, DEFAULT_MAX_TOKEN_LEN);
    let any = verify(&k.key, token, &v, None, NOW);
    let access = verify(&k.key, token, &v, TokenType::Access, NOW);
    let refresh = verify(&k.key, token, &v, TokenType::Refresh, NOW);

    // Every refusal maps to a 401 with a client-facing message.
    for err in sig.as_ref().err().into_iter().chain(any.as_ref().err()) {
        assert!(!err.message().is_empty());
        assert_eq!(ApiError::from(*err).status.as_u16(), 401);
    }

    // The length bound comes first and is exact.
    if token.len() > DEFAULT_MAX_TOKEN_LEN {
        assert_eq!(sig, Err(JwtError::TooLong));
    } else {
        assert_eq!(jws(&k.key, token, token.len()), sig);
        if !token.is_empty() {
            assert_eq!(jws(&k.key, token, token.len() - 1), Err(JwtError::TooLong));
        }
    }

    match &sig {
        // The JWS layer failed: the full check fails the same way, nothing behind it ran.
        Err(e) => {
            assert_eq!(any.as_ref().err(), Some(e));
            assert_eq!(access.as_ref().err(), Some(e));
            assert_eq!(refresh.as_ref().err(), Some(e));
            assert!(
                e.is_signature_layer(),
                "claims-stage error {e:?} from the signature layer"
            );
        }
        Ok(payload) => {
            // A verified token has exactly one spelling: three segments, the payload segment is the
            // canonical encoding of the bytes it proved (whether they were decoded inline or on the
            // heap), the signature is one 32-byte MAC.
            let segments: Vec<&str> = token.split('.').collect();
            assert_eq!(segments.len(), 3);
            assert_eq!(segments[1], b64::encode(payload));
            assert_eq!(segments[2].len(), 43);
            match Claims::parse(payload) {
                Err(e) => assert_eq!(any, Err(e)),
                Ok(claims) => {
                    if let Err(e) = &any {
                        assert!(
                            matches!(
                                e,
                                JwtError::MissingExp
                                    | JwtError::Expired
                                    | JwtError::NotYetValid
                                    | JwtError::Audience
                            ),
                            "unexpected {e:?} for verified claims {claims:?}"
                        );
                    } else {
                        assert_eq!(any.as_ref().ok(), Some(&claims));
                    }
                }
            }
        }
    }

    if let Ok(claims) = &any {
        // Accepted means: it expires, it is live now, it names no audience (none is configured).
        let exp = claims.exp.expect("accepted token without exp");
        assert!(NOW < exp, "accepted an expired token: {claims:?}");
        assert!(claims.nbf.is_none_or(|nbf| nbf <= NOW));
        assert!(claims.aud.is_none());
        // It has an id of its own for the denylist to hold: an empty one is refused like a missing one.
        assert!(!claims.jti.is_empty(), "accepted an empty jti");
        // Header and payload are JSON objects (RFC 7515 §5.2 step 3, RFC 7519 §7.2 step 10), read by
        // an independent parser: serde's derived structs alone would also take arrays by position.
        let payload = sig.as_deref().expect("accepted, so the JWS layer passed");
        assert!(is_json_object(payload), "accepted a non-object payload");
        let header = token.split('.').next().map(b64::decode);
        assert!(
            matches!(&header, Some(Ok(header)) if is_json_object(header)),
            "accepted a non-object header"
        );
        // ...and UTF-8 throughout, members it ignores included (RFC 7515 §5.2 step 3, RFC 7519
        // §7.2 step 10): serde_json reading bytes checks only the strings it keeps.
        assert!(
            matches!(&header, Some(Ok(header)) if std::str::from_utf8(header).is_ok()),
            "accepted a header that is not UTF-8"
        );
        assert!(
            std::str::from_utf8(payload).is_ok(),
            "accepted a payload that is not UTF-8"
        );
        // Exactly one of the two typed checks accepts it, the one its type names.
        let (ok, wrong) = match claims.token_type {
            TokenType::Access => (&access, &refresh),
            TokenType::Refresh => (&refresh, &access),
        };
        assert_eq!(ok.as_ref().ok(), Some(claims));
        let expected = match claims.token_type {
            TokenType::Access => TokenType::Refresh,
            TokenType::Refresh => TokenType::Access,
        };
        assert_eq!(wrong, &Err(JwtError::WrongType { expected }));
    } else {
        assert!(access.is_err() && refresh.is_err());
    }

    // The key ring holds the fuzz key only as a previous key: it can accept a token only if the fuzz
    // key alone accepts it too (the current key is never used to sign here).
    if let Ok(claims) = verify(&k.ring, token, &v, None, NOW) {
        assert_eq!(any.as_ref().ok(), Some(&claims));
    }
}

/// True if `bytes` are one JSON value, and that value is an object.
fn is_json_object(bytes: &[u8]) -> bool {
    serde_json::from_slice::<Value>(bytes).is_ok_and(|value| value.is_object())
}

fn forged(rest: &[u8]) -> arbitrary::Result<()> {
    // 0xFF never occurs in UTF-8, so it separates two JSON texts without escaping.
    let (header, payload) = match rest.iter().position(|&b| b == 0xFF) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (&br#"{"alg":"HS256","typ":"JWT"}"#[..], rest),
    };
    let token = forge(header, payload);
    check_token(&token);
    // A forged token passes the MAC, so anything it fails on is in the header or the claims.
    let result = verify(&keys().key, &token, &Validation::default(), None, NOW);
    if token.len() <= DEFAULT_MAX_TOKEN_LEN {
        assert_ne!(result, Err(JwtError::Signature));
        assert_ne!(result, Err(JwtError::Base64));
        assert_ne!(result, Err(JwtError::Segments));
        // RFC 7515 §5.2 step 3: a header that is not UTF-8, all of it, is refused as a header,
        // whatever member the bad bytes sit in.
        if std::str::from_utf8(header).is_err() {
            assert_eq!(result, Err(JwtError::Header));
        }
    }
    Ok(())
}

/// One claim as the oracle writes it: the JSON value, and what the claims parser should make of it.
enum Written<T> {
    Absent,
    /// An explicit `null`, which an optional claim reads as absent.
    Null,
    Valid(Value, T),
    /// A value of the wrong type: the whole payload must be refused as `Claims`.
    Invalid(Value),
}

fn numeric_date(u: &mut Unstructured, now: i64) -> arbitrary::Result<Written<Option<i64>>> {
    Ok(match u.int_in_range(0..=7)? {
        0 => Written::Absent,
        // Near the clock, where the exclusive/inclusive boundaries are.
        1 | 2 => {
            let t = now.saturating_add(i64::from(u.arbitrary::<i8>()?));
            Written::Valid(json!(t), Some(t))
        }
        3 => {
            let t: i64 = u.arbitrary()?;
            Written::Valid(json!(t), Some(t))
        }
        // Above i64::MAX: saturates.
        4 => {
            let t = u.int_in_range(i64::MAX as u64 + 1..=u64::MAX)?;
            Written::Valid(json!(t), Some(i64::MAX))
        }
        // Decimals (RFC 7519 allows them), exactly representable so the JSON round trip is exact:
        // they floor, so 10.75 is still before 11.
        5 => {
            // Kept well inside f64's 53-bit mantissa so the decimal is exact.
            let base = now.clamp(-(1 << 40), 1 << 40);
            let whole = base + i64::from(u.arbitrary::<i16>()?);
            let quarters = u.int_in_range(0..=3u8)?;
            let t = whole as f64 + f64::from(quarters) * 0.25;
            Written::Valid(json!(t), Some(whole))
        }
        // Huge decimals saturate at either end.
        6 => {
            let negative: bool = u.arbitrary()?;
            let (t, expected) = if negative {
                (-1e300, i64::MIN)
            } else {
                (1e300, i64::MAX)
            };
            Written::Valid(json!(t), Some(expected))
        }
        _ => Written::Invalid(wrong_type(u)?),
    })
}

fn wrong_type(u: &mut Unstructured) -> arbitrary::Result<Value> {
    Ok(match u.int_in_range(0..=4)? {
        0 => Value::Null,
        1 => json!(u.arbitrary::<bool>()?),
        2 => json!(u.arbitrary::<String>()?),
        3 => json!([u.arbitrary::<i32>()?]),
        _ => json!({ "x": u.arbitrary::<u8>()? }),
    })
}

fn string_claim(u: &mut Unstructured, required: bool) -> arbitrary::Result<Written<String>> {
    Ok(match u.int_in_range(0..=5)? {
        0 => Written::Absent,
        1 => Written::Invalid(json!(u.arbitrary::<i64>()?)),
        // null is "absent" for optional claims and a type error for required ones.
        2 if required => Written::Invalid(Value::Null),
        2 => Written::Null,
        _ => {
            let s: String = u.arbitrary()?;
            Written::Valid(json!(s), s)
        }
    })
}

/// Puts `written` under `name` and returns what the parser should see, or `None` for a type error.
fn put<T>(payload: &mut Map<String, Value>, name: &str, written: Written<T>) -> Option<Option<T>> {
    match written {
        Written::Absent => Some(None),
        Written::Null => {
            payload.insert(name.into(), Value::Null);
            Some(None)
        }
        Written::Valid(value, parsed) => {
            payload.insert(name.into(), value);
            Some(Some(parsed))
        }
        Written::Invalid(value) => {
            payload.insert(name.into(), value);
            None
        }
    }
}

fn oracle(u: &mut Unstructured) -> arbitrary::Result<()> {
    let k = keys();
    let now: i64 = if u.arbitrary()? { NOW } else { u.arbitrary()? };

    // Header: the algorithm, optional typ/kid, sometimes crit.
    let alg = *u.choose(&[
        "HS256", "HS256", "HS256", "none", "HS512", "hs256", "RS256", "",
    ])?;
    let mut header = Map::new();
    header.insert("alg".into(), json!(alg));
    if u.arbitrary()? {
        header.insert("typ".into(), json!("JWT"));
    }
    if u.arbitrary()? {
        let kid = if u.arbitrary()? {
            k.key.kid().to_owned()
        } else {
            u.arbitrary::<String>()?
        };
        header.insert("kid".into(), json!(kid));
    }
    let crit = u.int_in_range(0..=7u8)? == 0;
    if crit {
        header.insert("crit".into(), json!(["exp"]));
    }
    // Members the server does not read are ignored, whatever they hold (RFC 7515 §4: `jku`, `x5u`
    // and `jwk` too, which would name a key source).
    if u.arbitrary()? {
        let member = *u.choose(&["x", "jku", "x5u", "jwk", "cty"])?;
        header.insert(member.into(), wrong_type(u)?);
    }

    // Claims, each right, absent or wrongly typed.
    let mut payload = Map::new();
    let sub = put(&mut payload, "sub", string_claim(u, true)?);
    // An empty `jti` is refused like a wrongly typed one: it would name every such token at once.
    let jti = match put(&mut payload, "jti", string_claim(u, true)?) {
        Some(Some(jti)) if jti.is_empty() => None,
        jti => jti,
    };
    let iat = put(&mut payload, "iat", numeric_date(u, now)?);
    let nbf = put(&mut payload, "nbf", numeric_date(u, now)?);
    let exp = put(&mut payload, "exp", numeric_date(u, now)?);
    let token_type = match u.int_in_range(0..=4)? {
        0 => Some(TokenType::Access),
        1 => {
            payload.insert("type".into(), json!("access"));
            Some(TokenType::Access)
        }
        2 => {
            payload.insert("type".into(), json!("refresh"));
            Some(TokenType::Refresh)
        }
        3 => {
            payload.insert("type".into(), json!("id"));
            None
        }
        _ => {
            // Usually a wrong type; an arbitrary string may still happen to be a valid one.
            let value = wrong_type(u)?;
            let parsed = match value.as_str() {
                Some("access") => Some(TokenType::Access),
                Some("refresh") => Some(TokenType::Refresh),
                _ => None,
            };
            payload.insert("type".into(), value);
            parsed
        }
    };
    let fresh = match u.int_in_range(0..=3)? {
        0 => Some(false),
        1 | 2 => {
            let f: bool = u.arbitrary()?;
            payload.insert("fresh".into(), json!(f));
            Some(f)
        }
        _ => {
            payload.insert("fresh".into(), json!("yes"));
            None
        }
    };
    let iss = put(&mut payload, "iss", string_claim(u, false)?);
    let aud = match u.int_in_range(0..=4)? {
        0 => Some(None),
        1 => {
            payload.insert("aud".into(), Value::Null);
            Some(None)
        }
        2 => {
            let a: String = u.arbitrary()?;
            payload.insert("aud".into(), json!(a));
            Some(Some(Audience::One(a)))
        }
        3 => {
            let a: Vec<String> = u.arbitrary()?;
            payload.insert("aud".into(), json!(a));
            Some(Some(Audience::Many(a)))
        }
        _ => {
            payload.insert("aud".into(), json!(u.arbitrary::<i32>()?));
            None
        }
    };
    // `fam` (the session) and `csrf` (the double-submit value) are optional strings; `fam` may not
    // be empty (it would make every such token one session), `csrf` may.
    let fam = match put(&mut payload, "fam", string_claim(u, false)?) {
        Some(Some(fam)) if fam.is_empty() => None,
        fam => fam,
    };
    let csrf = put(&mut payload, "csrf", string_claim(u, false)?);
    // Unknown claims are ignored, whatever they hold.
    if u.arbitrary()? {
        payload.insert("x-unknown".into(), wrong_type(u)?);
    }

    // What the server is configured to require.
    let validation = Validation {
        leeway: if u.arbitrary()? {
            0
        } else {
            u64::from(u.arbitrary::<u16>()?)
        },
        issuer: if u.arbitrary()? {
            None
        } else {
            Some(u.arbitrary()?)
        },
        audience: if u.arbitrary()? {
            None
        } else {
            Some(u.arbitrary()?)
        },
    };
    let expected_type: Option<TokenType> =
        *u.choose(&[None, Some(TokenType::Access), Some(TokenType::Refresh)])?;

    let header_json = serde_json::to_vec(&header).unwrap_or_default();
    let payload_json = serde_json::to_vec(&payload).unwrap_or_default();
    let token = forge(&header_json, &payload_json);
    if token.len() > DEFAULT_MAX_TOKEN_LEN {
        return Ok(());
    }
    let got = verify(&k.key, &token, &validation, expected_type, now);

    let parsed = (|| {
        Some(Claims {
            sub: sub??.into(),
            jti: jti??.into(),
            iat: iat?.flatten(),
            nbf: nbf?.flatten(),
            exp: exp?.flatten(),
            token_type: token_type?,
            fresh: fresh?,
            iss: iss?.map(Into::into),
            aud: aud?,
            fam: fam?.map(Into::into),
            csrf: csrf?.map(Into::into),
        })
    })();
    let want = predict(alg, crit, parsed, &validation, expected_type, now);
    assert_eq!(
        got,
        want,
        "header {} payload {} now {now} {validation:?} expected {expected_type:?}",
        String::from_utf8_lossy(&header_json),
        String::from_utf8_lossy(&payload_json)
    );
    Ok(())
}

/// What docs/http.md §4 says `verify` must answer, step by step in its order, for a header with
/// `alg` and (maybe) `crit`, and claims that parse as `parsed` (`None`: they don't).
fn predict(
    alg: &str,
    crit: bool,
    parsed: Option<Claims<'static>>,
    validation: &Validation,
    expected_type: Option<TokenType>,
    now: i64,
) -> Result<Claims<'static>, JwtError> {
    if alg != "HS256" {
        return Err(JwtError::Algorithm);
    }
    if crit {
        return Err(JwtError::Critical);
    }
    let claims = parsed.ok_or(JwtError::Claims)?;
    let leeway = i64::try_from(validation.leeway).unwrap_or(i64::MAX);
    let exp = claims.exp.ok_or(JwtError::MissingExp)?;
    // exp is exclusive ("before"), nbf inclusive ("after or equal"), both widened by the leeway.
    if now >= exp.saturating_add(leeway) {
        return Err(JwtError::Expired);
    }
    if claims
        .nbf
        .is_some_and(|nbf| now < nbf.saturating_sub(leeway))
    {
        return Err(JwtError::NotYetValid);
    }
    if let Some(expected) = expected_type.filter(|&t| t != claims.token_type) {
        return Err(JwtError::WrongType { expected });
    }
    if validation.issuer.is_some() && validation.issuer.as_deref() != claims.iss.as_deref() {
        return Err(JwtError::Issuer);
    }
    let audience_ok = match (&validation.audience, &claims.aud) {
        (Some(wanted), Some(aud)) => aud.contains(wanted),
        (None, None) => true,
        _ => false,
    };
    if !audience_ok {
        return Err(JwtError::Audience);
    }
    Ok(claims)
}

/// Edits the fuzzer can make to a good token. Positions are taken modulo the current length.
fn edit(
    u: &mut Unstructured,
    token: &mut String,
    original_claims: &Claims,
) -> arbitrary::Result<()> {
    // Every token here is ASCII, and every edit keeps it so: byte positions are char boundaries.
    let len = token.len();
    let pos = |u: &mut Unstructured, n: usize| -> arbitrary::Result<usize> {
        Ok(if n == 0 {
            0
        } else {
            u.int_in_range(0..=n - 1)?
        })
    };
    match u.int_in_range(0..=10)? {
        0 => {
            // Flip one of the low seven bits: still ASCII, maybe no longer base64url.
            let i = pos(u, len)?;
            let bit = u.int_in_range(0..=6u8)?;
            let mut bytes = std::mem::take(token).into_bytes();
            if let Some(b) = bytes.get_mut(i) {
                *b ^= 1 << bit;
            }
            *token = String::from_utf8(bytes).unwrap_or_default();
        }
        1 => {
            let c = *u.choose(b"AZaz09-_.=+/ \n\0\x7f")?;
            let i = pos(u, len + 1)?;
            token.insert(i, char::from(c));
        }
        2 => {
            if len > 0 {
                let i = pos(u, len)?;
                token.remove(i);
            }
        }
        3 => {
            let n = pos(u, len + 1)?;
            token.truncate(n);
        }
        4 => {
            let mut segments: Vec<String> = token.split('.').map(str::to_owned).collect();
            let a = pos(u, segments.len())?;
            let b = pos(u, segments.len())?;
            segments.swap(a, b);
            *token = segments.join(".");
        }
        5 => {
            // Re-spell one segment with padding, as a lenient encoder would.
            let mut segments: Vec<String> = token.split('.').map(str::to_owned).collect();
            let i = pos(u, segments.len())?;
            let pad = *u.choose(&["=", "==", "==="])?;
            segments[i].push_str(pad);
            *token = segments.join(".");
        }
        6 => {
            // The standard alphabet for the same bytes.
            let mut segments: Vec<String> = token.split('.').map(str::to_owned).collect();
            let i = pos(u, segments.len())?;
            segments[i] = segments[i].replace('-', "+").replace('_', "/");
            *token = segments.join(".");
        }
        7 => {
            // A new header with another alg, under the old signature.
            let alg = *u.choose(&["none", "HS512", "hs256", "RS256", "HS256 "])?;
            let header = b64::encode(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#).as_bytes());
            if let Some((_, rest)) = token.split_once('.') {
                *token = format!("{header}.{rest}");
            }
        }
        8 => {
            // The same claims, serialised differently (whitespace): different bytes, old signature.
            let pretty = serde_json::to_vec_pretty(original_claims).unwrap_or_default();
            let mut segments: Vec<String> = token.split('.').map(str::to_owned).collect();
            if segments.len() > 1 {
                segments[1] = b64::encode(&pretty);
            }
            *token = segments.join(".");
        }
        9 => {
            let c = *u.choose(b"AZaz09-_")?;
            let i = pos(u, len)?;
            if i < len {
                token.replace_range(i..=i, &char::from(c).to_string());
            }
        }
        _ => {
            // Drop the signature but keep the dot (the alg=none shape).
            if let Some((input, _)) = token.rsplit_once('.') {
                *token = format!("{input}.");
            }
        }
    }
    Ok(())
}

fn mutated(u: &mut Unstructured) -> arbitrary::Result<()> {
    let k = keys();
    let claims = Claims {
        sub: "user1".into(),
        iat: Some(NOW - 10),
        nbf: Some(NOW - 10),
        exp: Some(NOW + 900),
        jti: "4c1de1f0-3c5e-4b5e-9d61-7a0f2b8c9e31".into(),
        token_type: if u.arbitrary()? {
            TokenType::Access
        } else {
            TokenType::Refresh
        },
        fresh: u.arbitrary()?,
        iss: None,
        aud: None,
        fam: None,
        csrf: None,
    };
    let original = sign(&k.key, &claims);
    assert_eq!(
        verify(&k.key, &original, &Validation::default(), None, NOW),
        Ok(claims.clone())
    );
    let mut token = original.clone();
    let edits = u.int_in_range(1..=4u8)?;
    for _ in 0..edits {
        edit(u, &mut token, &claims)?;
    }
    check_token(&token);
    let sig = jws(&k.key, &token, DEFAULT_MAX_TOKEN_LEN);
    let full = verify(&k.key, &token, &Validation::default(), None, NOW);
    if token != original {
        assert!(sig.is_err(), "edited token passed the MAC: {token}");
        assert!(full.is_err(), "edited token verified: {token}");
    } else {
        assert_eq!(full, Ok(claims));
    }
    Ok(())
}
