//! The kinds of value a configuration holds that are more than a number or a string: the key
//! (whose `Debug` never shows it), the CORS origins, and the error a bad value gets. A leaf: the
//! parsers (`values.rs`) and `Config` both build on it.

use std::fmt;

/// A configuration value that stops start-up, naming the key at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub key: &'static str,
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "configuration error: {}: {}", self.key, self.problem)
    }
}

impl std::error::Error for ConfigError {}

/// The HMAC key bytes. Its `Debug` never shows them, so a config dump can't leak the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Secret(bytes.into())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} bytes, redacted)", self.0.len())
    }
}

/// Which browser origins may call the API (`CORS_ORIGINS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    /// `*`: any origin (the default, as in the original app). Safe here because credentials are
    /// bearer tokens sent explicitly, never cookies.
    Any,
    /// Only these exact origins (`scheme://host[:port]`), echoed back with `Vary: Origin`.
    List(Vec<String>),
}
