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
