//! fred's reply values read the way this module needs them: text, and the items of an array (a
//! nil reply being an empty one).

use std::borrow::Cow;

use fred::types::Value;

/// A bulk or simple string as text.
pub(super) fn text(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::String(s) => Some(Cow::Borrowed(&**s)),
        Value::Bytes(b) => std::str::from_utf8(b).ok().map(Cow::Borrowed),
        Value::Integer(n) => Some(Cow::Owned(n.to_string())),
        _ => None,
    }
}

/// The items of an array; nil is empty.
pub(super) fn items(value: &Value) -> Option<&[Value]> {
    match value {
        Value::Array(items) => Some(items),
        Value::Null => Some(&[]),
        _ => None,
    }
}
