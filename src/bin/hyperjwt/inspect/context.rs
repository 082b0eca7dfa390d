//! What `token inspect`'s checks depend on besides the token: the keys, the rules, the clock, the
//! denylist journal and the double submit the configuration sets ([`Context`]). Made once by the
//! command line (`super`), read by every step: the data the report, revocation and rendering share,
//! so none of them needs another to know it.

use std::path::PathBuf;

use hyperjwt::jwt::{Hs256Key, KeyRing, KeySource, TokenType, Validation};

/// The keys the signature is checked with.
pub enum Keys {
    /// `--secret`.
    Given(Hs256Key),
    /// The server's: the current key and the previous ones, chosen by `kid` as the server chooses.
    Configured(KeyRing),
    None,
}

impl Keys {
    /// The keys, for the pipeline: `None` leaves steps 7 and 10 unchecked.
    pub fn source(&self) -> Option<&dyn KeySource> {
        match self {
            Keys::Given(key) => Some(key),
            Keys::Configured(ring) => Some(ring),
            Keys::None => None,
        }
    }

    /// Where the key came from, as the report says it.
    pub fn label(&self) -> &'static str {
        match self {
            Keys::Given(_) => "--secret",
            Keys::Configured(_) => "the configured key",
            Keys::None => "no key",
        }
    }
}

/// The denylist journal revocation is checked against.
pub enum Journal {
    /// `--denylist FILE`: it must exist.
    Given(PathBuf),
    /// `DENYLIST_FILE`: the server creates it at start-up, so until then there is nothing to check.
    Configured(PathBuf),
}

/// The double submit as the configuration sets it: the header each token type's value goes in, and
/// the methods that need it.
pub struct CsrfRule {
    pub access_header: String,
    pub refresh_header: String,
    pub methods: String,
}

impl CsrfRule {
    pub fn of(cookies: &hyperjwt::config::CookieSettings) -> Self {
        CsrfRule {
            access_header: cookies.access_csrf_header.clone(),
            refresh_header: cookies.refresh_csrf_header.clone(),
            methods: cookies.csrf_methods.join(", "),
        }
    }
}

/// Everything a check depends on besides the token.
pub struct Context {
    /// What a cookie session must send with this token (`JWT_*_CSRF_HEADER_NAME`, `JWT_CSRF_METHODS`).
    pub csrf: CsrfRule,
    pub max_len: usize,
    pub keys: Keys,
    pub validation: Validation,
    pub expected: Option<TokenType>,
    pub now: i64,
    pub denylist: Option<Journal>,
}
