//! Which request a log line belongs to: the request id (`X-Request-Id`, docs/http.md §2) of the
//! request being handled, kept in a thread-local scope the wrapper service sets around its `call`
//! and each poll of its response, so every line logged while handling it (the access line, a
//! failed login, a security warning) carries the id without any handler passing it on.
//!
//! The id shares its bytes with the response's `X-Request-Id` header (`bytes::Bytes`, a reference
//! count): entering the scope allocates nothing and copies a pointer, not the id. Only ids of the
//! sane alphabet ([`is_sane`]) are ever stored, so a log line can print one as it is, with no
//! escaping, and a client can't forge log lines or JSON fields through it.

use std::cell::RefCell;

use bytes::Bytes;

/// The longest request id taken from a client or proxy; longer ones are replaced.
pub const MAX_LEN: usize = 128;

/// A request id: 1 to [`MAX_LEN`] bytes of `A-Z a-z 0-9 . _ : -`.
#[derive(Clone)]
pub struct RequestId(Bytes);

/// True for a request id worth keeping: 1 to [`MAX_LEN`] bytes, each a letter, a digit, or one of
/// `. _ : -` (which covers UUIDs, nginx's `$request_id`, and the ids of most tracing systems).
pub fn is_sane(id: &[u8]) -> bool {
    // Every byte looked at, without an early exit, which the compiler checks many at a time.
    let insane = id.iter().fold(false, |insane, &b| {
        insane | !(b.is_ascii_alphanumeric() | matches!(b, b'.' | b'_' | b':' | b'-'))
    });
    (1..=MAX_LEN).contains(&id.len()) && !insane
}

impl RequestId {
    /// The id, if it [`is_sane`]. Its bytes are kept where they are (the caller's buffer).
    pub fn new(id: Bytes) -> Option<Self> {
        is_sane(&id).then_some(RequestId(id))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII is ever stored (`is_sane`).
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl std::fmt::Debug for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

thread_local! {
    /// The request being handled on this thread right now, if any: set by [`in_request`] for the
    /// time of one synchronous call (a service's `call`, one poll of a response future).
    static CURRENT: RefCell<Option<RequestId>> = const { RefCell::new(None) };
}

/// Runs `f` as part of the request `id`: every line it logs names the request.
///
/// A thread-local set for the time of `f` and put back after (also if `f` panics), rather than
/// tokio's `task_local!`, whose `sync_scope` hands `f`'s result back through a `Result`: one more
/// move of the response future for every request.
pub fn in_request<R>(id: RequestId, f: impl FnOnce() -> R) -> R {
    let _scope = RequestScope::enter(id);
    f()
}

/// [`in_request`] as a guard, for a caller that returns a large value (a response future): the
/// value goes straight to the caller's caller, not through a closure's return.
pub struct RequestScope {
    /// The id this scope replaced, put back on drop (scopes may nest).
    previous: Option<RequestId>,
}

impl RequestScope {
    /// Lines logged on this thread name `id` until the scope is dropped.
    pub fn enter(id: RequestId) -> Self {
        let previous = CURRENT.with(|current| current.replace(Some(id)));
        RequestScope { previous }
    }
}

impl Drop for RequestScope {
    fn drop(&mut self) {
        let previous = self.previous.take();
        // `try_with`: the thread-local may already be gone if this runs as the thread exits.
        let _ = CURRENT.try_with(|current| *current.borrow_mut() = previous);
    }
}

/// The id of the request being handled, if any, for the line being written.
pub(super) fn with_current<R>(f: impl FnOnce(Option<&str>) -> R) -> R {
    match current() {
        Some(id) => f(Some(id.as_str())),
        None => f(None),
    }
}

/// The id of the request being handled, if any: for a future that logs after this scope has ended
/// and enters it again with [`in_request`] at each poll.
pub fn current() -> Option<RequestId> {
    CURRENT
        .try_with(|current| current.borrow().clone())
        .ok()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copied(id: &str) -> Bytes {
        Bytes::copy_from_slice(id.as_bytes())
    }

    #[test]
    fn sane_ids_are_kept_and_others_refused() {
        for id in [
            "a",
            "0f8fad5b-d9cb-469f-a165-70867728950e",
            "req_1.2:3",
            &"x".repeat(MAX_LEN),
        ] {
            assert_eq!(RequestId::new(copied(id)).unwrap().as_str(), id);
        }
        for id in [
            "",
            &"x".repeat(MAX_LEN + 1),
            "two words",
            "quote\"",
            "new\nline",
            "tab\t",
            "é",
            "slash/",
            "{json}",
        ] {
            assert!(RequestId::new(copied(id)).is_none(), "{id:?}");
        }
    }

    #[test]
    fn the_current_id_is_the_scope_s_and_none_outside() {
        let id = RequestId::new(Bytes::from_static(b"abc-1")).unwrap();
        assert_eq!(with_current(|id| id.map(str::to_string)), None);
        assert!(current().is_none());
        let inside = in_request(id, || {
            let kept = current().map(|id| id.as_str().to_string());
            (with_current(|id| id.map(str::to_string)), kept)
        });
        assert_eq!(inside.0.as_deref(), Some("abc-1"));
        assert_eq!(inside.1.as_deref(), Some("abc-1"));
        assert_eq!(with_current(|id| id.map(str::to_string)), None);
    }
}
