//! Fuzz target: reading the token cookie from the request's `Cookie` header fields
//! (`hyperjwt::http::cookies::cookie`), the third parser that reads attacker bytes on every request.
//! It must never panic, and a well-formed token cookie must be found whatever the other pairs hold:
//! another page on the host may set any cookie, and its bytes must not lock the user out.
//!
//! Every input is used twice:
//!
//! 1. as raw header fields (split at `\n`; each one a header value if `HeaderValue` takes it): any
//!    answer is a non-empty, visible-ASCII value that one of the fields really holds, and the first
//!    pair of that name holds it;
//! 2. as a recipe: other pairs of arbitrary bytes (anything a header value may carry but `;`, and
//!    never the token's name before it), the token cookie (base64url and `.`, maybe quoted, maybe
//!    with spaces and tabs around it) at a drawn place, and the pairs spread over one or more fields
//!    (HTTP/2 splits them): the answer must be exactly the token.

#![no_main]

use hyper::header::{COOKIE, HeaderMap, HeaderValue};
use hyperjwt::http::cookies::cookie;
use libfuzzer_sys::arbitrary::{self, Unstructured};
use libfuzzer_sys::fuzz_target;

/// The names a server reads: the defaults, a `__Host-` one, and a one-letter one.
const NAMES: [&str; 4] = [
    "access_token_cookie",
    "refresh_token_cookie",
    "__Host-access",
    "a",
];

fuzz_target!(|data: &[u8]| {
    check_raw(data);
    let _ = recipe(&mut Unstructured::new(data));
});

/// Any fields: no panic, and an answer is what the first pair of that name holds.
fn check_raw(data: &[u8]) {
    let mut headers = HeaderMap::new();
    for field in data.split(|&b| b == b'\n') {
        if let Ok(value) = HeaderValue::from_bytes(field) {
            headers.append(COOKIE, value);
        }
    }
    for name in NAMES {
        let Some(found) = cookie(&headers, name) else {
            continue;
        };
        assert!(!found.is_empty());
        assert!(found.bytes().all(|b| b.is_ascii_graphic()), "{found:?}");
        let first = headers
            .get_all(COOKIE)
            .iter()
            .flat_map(|field| field.as_bytes().split(|&b| b == b';'))
            .find_map(|pair| {
                let (n, v) = split_pair(pair)?;
                (n == name.as_bytes()).then_some(v)
            })
            .expect("found a cookie no pair names");
        let unquoted = first
            .strip_prefix(b"\"")
            .and_then(|v| v.strip_suffix(b"\""))
            .unwrap_or(first);
        assert_eq!(unquoted, found.as_bytes());
    }
}

/// A pair's name and value, each without the spaces and tabs around it (RFC 6265 §5.2).
fn split_pair(pair: &[u8]) -> Option<(&[u8], &[u8])> {
    let eq = pair.iter().position(|&b| b == b'=')?;
    Some((strip(&pair[..eq]), strip(&pair[eq + 1..])))
}

/// `s` without leading and trailing spaces and tabs, the only whitespace a header value can hold.
fn strip(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(start, |i| i + 1);
    &s[start..end]
}

/// Bytes a header value may carry (RFC 9110 §5.5: visible ASCII, space, tab, obs-text), but `;`.
fn other_byte(u: &mut Unstructured) -> arbitrary::Result<u8> {
    let b: u8 = u.arbitrary()?;
    Ok(match b {
        b';' | 0x7f => b'=',
        0..=0x08 | 0x0a..=0x1f => b' ',
        _ => b,
    })
}

fn other_pair(u: &mut Unstructured, token_name: &str) -> arbitrary::Result<Vec<u8>> {
    let len = u.int_in_range(0..=24u8)?;
    let mut pair = Vec::with_capacity(usize::from(len));
    for _ in 0..len {
        pair.push(other_byte(u)?);
    }
    // A pair of the token's name before it would be "the first": it is another name here.
    if split_pair(&pair).is_some_and(|(n, _)| n == token_name.as_bytes()) {
        pair.insert(0, b'x');
    }
    Ok(pair)
}

fn recipe(u: &mut Unstructured) -> arbitrary::Result<()> {
    let name = *u.choose(&NAMES)?;
    // The token: base64url segments joined by dots, never empty.
    let len = u.int_in_range(1..=64u8)?;
    let mut token = String::with_capacity(usize::from(len));
    for _ in 0..len {
        token.push(char::from(*u.choose(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.",
        )?));
    }
    let space = |u: &mut Unstructured| -> arbitrary::Result<&'static str> {
        Ok(*u.choose(&["", "", " ", "\t", "  \t"])?)
    };
    let quoted = u.arbitrary::<bool>()?;
    let token_pair = format!(
        "{}{name}{}={}{}{token}{}{}",
        space(u)?,
        space(u)?,
        space(u)?,
        if quoted { "\"" } else { "" },
        if quoted { "\"" } else { "" },
        space(u)?,
    )
    .into_bytes();

    let before = u.int_in_range(0..=4u8)?;
    let after = u.int_in_range(0..=4u8)?;
    let mut pairs = Vec::new();
    for _ in 0..before {
        pairs.push(other_pair(u, name)?);
    }
    pairs.push(token_pair);
    for _ in 0..after {
        // After the token, anything: even another cookie of its name, which loses to the first.
        let mut pair = other_pair(u, name)?;
        if u.arbitrary()? {
            pair = format!("{name}=").into_bytes();
            pair.push(other_byte(u)?);
        }
        pairs.push(pair);
    }

    // One field, or a new field before some pairs (HTTP/2's split); `;` or `; ` between pairs.
    let mut fields: Vec<Vec<u8>> = vec![Vec::new()];
    for (i, pair) in pairs.iter().enumerate() {
        if i > 0 {
            if u.arbitrary::<u8>()? < 64 {
                fields.push(Vec::new());
            } else if let Some(field) = fields.last_mut() {
                field.extend_from_slice(if u.arbitrary()? { b"; " } else { b";" });
            }
        }
        if let Some(field) = fields.last_mut() {
            field.extend_from_slice(pair);
        }
    }
    let mut headers = HeaderMap::new();
    for field in &fields {
        // Every byte was chosen to be one a header value may hold; a field that starts or ends
        // with a space is trimmed by parsers, so it is only ever the inner pairs' business.
        let value = HeaderValue::from_bytes(field).expect("header value bytes");
        headers.append(COOKIE, value);
    }
    let shown = || {
        fields
            .iter()
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        cookie(&headers, name),
        Some(token.as_str()),
        "{:?}",
        shown()
    );
    Ok(())
}
