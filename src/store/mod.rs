//! What the server keeps: the users ([`users`] reads them and checks passwords, [`users_file`]
//! edits `USERS_FILE`), the revoked tokens ([`denylist`], in memory and journaled on disk), the
//! signing keys' directory ([`key_dir`]), and
//! [`atomic_file`], the crash-safe file replacement both use. With the `redis` feature, `redis`
//! is the store several instances share.

pub mod atomic_file;
pub mod denylist;
pub mod key_dir;
#[cfg(feature = "redis")]
pub mod redis;
pub mod users;
pub mod users_file;

/// Now, in Unix seconds (the store keeps to plain times: it does not use `jwt`).
#[cfg(feature = "redis")]
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
