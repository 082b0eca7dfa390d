//! Why a header or claims set does not parse, in the words a person reads beside a failed step 4 or
//! 11 of `token inspect`'s report. For display only: whether the step passed is decided by the
//! server's own `Header::parse` and `Claims::parse`.

use hyperjwt::jwt::Claims;
use hyperjwt::jwt::header::Header;

/// Why the header bytes don't deserialize ("missing field `alg`"): the words of the very deserializer
/// `Header::parse` runs and reduces to one error variant. For display only; whether the step passed
/// was decided by `Header::parse` itself.
pub fn header_reason(bytes: &[u8]) -> Option<String> {
    not_an_object(bytes).or_else(|| {
        serde_json::from_slice::<Header>(bytes)
            .err()
            .map(|e| e.to_string())
    })
}

/// The same for the claims and `Claims::parse` ("missing field `jti`", "\"jti\" is empty").
pub fn claims_reason(bytes: &[u8]) -> Option<String> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Some("not UTF-8".into());
    };
    if let Some(reason) = not_an_object(bytes) {
        return Some(reason);
    }
    match serde_json::from_str::<Claims>(text) {
        Err(e) => Some(e.to_string()),
        Ok(claims) if claims.jti.is_empty() => Some("\"jti\" is empty".into()),
        Ok(_) => None,
    }
}

/// "it is an array, not an object" for JSON of another kind (RFC 7515 §5.2 step 3, RFC 7519 §7.2
/// step 10). serde's own words would not say so: it reads a well-filled array without complaint.
fn not_an_object(bytes: &[u8]) -> Option<String> {
    use serde_json::Value;
    let kind = match serde_json::from_slice::<Value>(bytes).ok()? {
        Value::Object(_) => return None,
        Value::Array(_) => "an array",
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a boolean",
        Value::Null => "null",
    };
    Some(format!("it is {kind}, not an object"))
}
