//! Authentication without HTTP: issuing and checking this server's tokens ([`tokens`]), checking
//! passwords on a bounded bcrypt pool ([`password_checks`]), and throttling failed logins
//! ([`throttle`]). Handlers call these; these call `crate::jwt` and `crate::store`.

pub mod password_checks;
pub mod throttle;
pub mod tokens;
