//! Authentication without HTTP: issuing and checking this server's tokens ([`tokens`]), what ends
//! them early ([`sessions`]: families, user cutoffs), checking
//! passwords on a bounded bcrypt pool ([`password_checks`]), and throttling failed logins
//! ([`throttle`]). Handlers call these; these call `crate::jwt` and `crate::store`.

pub mod password_checks;
pub mod sessions;
pub mod throttle;
pub mod tokens;
