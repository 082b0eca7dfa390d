//! Authentication without HTTP: issuing and checking this server's tokens ([`tokens`]), what ends
//! them early ([`sessions`]: families, user cutoffs), checking
//! passwords on a bounded bcrypt pool ([`password_checks`]), and throttling failed logins
//! ([`throttle`]), and the CSRF double submit of tokens kept in cookies ([`csrf`]); the public-key
//! set's life ([`keys`]: read, published, reloaded; [`rotation`]: `hyperjwt keys rotate`), and
//! token introspection for other services ([`introspection`]). Handlers call these; these call `crate::jwt` and `crate::store`.

pub mod csrf;
pub mod introspection;
pub mod keys;
pub mod password_checks;
pub mod rotation;
pub mod sessions;
pub mod throttle;
pub mod tokens;
