//! fred's reply values read the way this module needs them: the items of an array (a nil reply
//! being an empty one); text is fred's own `Value::as_str`.

use fred::types::Value;

/// The items of an array; nil is empty.
pub(super) fn items(value: &Value) -> Option<&[Value]> {
    match value {
        Value::Array(items) => Some(items),
        Value::Null => Some(&[]),
        _ => None,
    }
}
