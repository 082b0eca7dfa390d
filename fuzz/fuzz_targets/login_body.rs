//! Fuzz target: the `/login` body parser (`hyperjwt::handlers::parse_credentials`) must never panic,
//! and must answer either the two credentials or a 400 with one of docs/http.md §1's two messages.
//!
//! Every input is used twice: as the raw body (any bytes, as a client could send), and as a recipe
//! for a JSON object whose `username` and `password` are drawn as strings (empty or not), numbers,
//! null, arrays, objects or absent, with extra members and whitespace around it, so the fuzzer
//! reaches the success path and every field rule without having to invent valid JSON first. For
//! the recipe the right answer is known in advance and checked exactly.

#![no_main]

use hyperjwt::ApiError;
use hyperjwt::handlers::parse_credentials;
use libfuzzer_sys::arbitrary::{self, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};

const MISSING: &str = "Missing username or password";
const INVALID: &str = "Invalid JSON body";

fuzz_target!(|data: &[u8]| {
    check_raw(data);
    let _ = recipe(&mut Unstructured::new(data));
});

/// Any body: a typed 400 with a documented message, or two non-empty strings the body really holds.
fn check_raw(body: &[u8]) {
    match parse_credentials(body) {
        Ok((username, password)) => {
            assert!(!username.is_empty() && !password.is_empty());
            // Cross-check against a plain parse of the same bytes.
            let value: Value = serde_json::from_slice(body).expect("accepted a non-JSON body");
            assert_eq!(value["username"].as_str(), Some(username.as_str()));
            assert_eq!(value["password"].as_str(), Some(password.as_str()));
        }
        Err(e) => {
            assert_400(&e);
            let blank = body.iter().all(u8::is_ascii_whitespace);
            let json = serde_json::from_slice::<Value>(body).is_ok();
            // Blank bodies and well-formed JSON are "missing"; everything else is "invalid".
            let want = if blank || json { MISSING } else { INVALID };
            assert_eq!(e.msg, want, "{}", String::from_utf8_lossy(body));
        }
    }
}

fn assert_400(e: &ApiError) {
    assert_eq!(e.status.as_u16(), 400, "{e:?}");
    assert!(e.msg == MISSING || e.msg == INVALID, "{e:?}");
    assert!(e.header.is_none(), "{e:?}");
}

/// A field value, and the credential it should yield (`None`: it must count as missing).
fn field(u: &mut Unstructured) -> arbitrary::Result<Option<(Value, Option<String>)>> {
    Ok(match u.int_in_range(0..=8u8)? {
        0 => None,
        1 => Some((json!(""), None)),
        2 => Some((Value::Null, None)),
        3 => Some((json!(u.arbitrary::<f64>().unwrap_or(0.0)), None)),
        4 => Some((json!(u.arbitrary::<bool>()?), None)),
        5 => {
            let s: String = u.arbitrary()?;
            Some((json!([s]), None))
        }
        6 => {
            let s: String = u.arbitrary()?;
            Some((json!({ "value": s }), None))
        }
        _ => {
            let s: String = u.arbitrary()?;
            let want = (!s.is_empty()).then(|| s.clone());
            Some((json!(s), want))
        }
    })
}

fn recipe(u: &mut Unstructured) -> arbitrary::Result<()> {
    let mut object = Map::new();
    let username = field(u)?;
    let password = field(u)?;
    for (name, f) in [("username", &username), ("password", &password)] {
        if let Some((value, _)) = f {
            object.insert(name.into(), value.clone());
        }
    }
    // Extra members are ignored, whatever they hold.
    for _ in 0..u.int_in_range(0..=2u8)? {
        let name: String = u.arbitrary()?;
        if name != "username" && name != "password" {
            object.insert(name, json!(u.arbitrary::<String>()?));
        }
    }
    let mut body = if u.arbitrary()? {
        serde_json::to_vec_pretty(&object).unwrap_or_default()
    } else {
        serde_json::to_vec(&object).unwrap_or_default()
    };
    // JSON's own whitespace around the value changes nothing.
    let pad = *u.choose(&[&b""[..], b" ", b"\n", b"\r\n\t "])?;
    body.splice(0..0, pad.iter().copied());
    body.extend_from_slice(pad);

    check_raw(&body);
    let got = parse_credentials(&body);
    let expected = match (&username, &password) {
        (Some((_, Some(user))), Some((_, Some(pass)))) => Some((user.clone(), pass.clone())),
        _ => None,
    };
    match expected {
        Some(pair) => assert_eq!(got.ok(), Some(pair), "{}", String::from_utf8_lossy(&body)),
        None => {
            let e = got.expect_err("accepted a body without both credentials");
            assert_eq!(e.msg, MISSING, "{}", String::from_utf8_lossy(&body));
        }
    }
    Ok(())
}
