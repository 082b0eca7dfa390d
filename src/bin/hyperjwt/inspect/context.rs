//! What `token inspect`'s checks depend on besides the token: the keys, the rules, the clock, the
//! denylist journal and the double submit the configuration sets ([`Context`]). Made once by the
//! command line (`super`), read by every step: the data the report, revocation and rendering share,
//! so none of them needs another to know it.

use std::path::PathBuf;

use hyperjwt::jwt::{
    Hs256Key, JwkSet, KeyRing, KeySet, KeySource, PublicKey, TokenType, Validation,
};

/// The keys the signature is checked with.
pub enum Keys {
    /// `--secret`.
    Given(Hs256Key),
    /// The server's: the current key and the previous ones, chosen by `kid` as the server chooses.
    Configured(KeyRing),
    /// The server's key set (`JWT_KEYS_DIR`), read as the server reads it.
    ConfiguredSet(hyperjwt::auth::keys::PublicKeys),
    /// `--public-key FILE` (feature `public-keys`).
    #[cfg_attr(not(feature = "public-keys"), allow(dead_code))]
    PublicKey(PublicKey),
    /// `--jwks FILE` (feature `public-keys`).
    #[cfg_attr(not(feature = "public-keys"), allow(dead_code))]
    Jwks(JwkSet),
    None,
}

impl Keys {
    /// The keys, for the pipeline: `None` leaves steps 7 and 10 unchecked.
    pub fn source(&self) -> Option<Source<'_>> {
        match self {
            Keys::Given(key) => Some(Source::Borrowed(key)),
            Keys::Configured(ring) => Some(Source::Borrowed(ring)),
            Keys::ConfiguredSet(keys) => Some(Source::Set(keys.current())),
            Keys::PublicKey(key) => Some(Source::Borrowed(key)),
            Keys::Jwks(set) => Some(Source::Borrowed(set)),
            Keys::None => None,
        }
    }

    /// Where the key came from, as the report says it.
    pub fn label(&self) -> &'static str {
        match self {
            Keys::Given(_) => "--secret",
            Keys::Configured(_) => "the configured key",
            Keys::ConfiguredSet(_) => "the key set of JWT_KEYS_DIR",
            Keys::PublicKey(_) => "--public-key",
            Keys::Jwks(_) => "--jwks",
            Keys::None => "no key",
        }
    }
}

/// The keys for one run of the pipeline: borrowed, or a snapshot of the configured key set.
pub enum Source<'k> {
    Borrowed(&'k dyn KeySource),
    Set(std::sync::Arc<hyperjwt::auth::keys::Published>),
}

impl Source<'_> {
    pub fn keys(&self) -> &dyn KeySource {
        match self {
            Source::Borrowed(keys) => *keys,
            Source::Set(published) => &published.set as &KeySet,
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
