//! The public-key set's life (docs/jwt.md §11): `JWT_KEYS_DIR` read into a [`jwt::KeySet`], the
//! copy the server verifies with and publishes (swapped whole on SIGHUP), and the moves of
//! `hyperjwt keys rotate` and `keys add`.
//!
//! The rules, with the times in `keys.json` (`store/key_dir.rs`):
//!
//! - a `next` key is published from its `created` time; `rotate` makes it `active` only once it
//!   has been published for `JWKS_MAX_AGE`, the longest a verifier may cache the JWKS: so every
//!   verifier knows a key before the first token it signs arrives ("publish before you sign");
//! - the `active` key signs; `rotate` retires it, with the time;
//! - a `retired` key verifies (and is published) until every token it signed has expired: its
//!   `retired` time plus the longest token lifetime and the leeway. After that it is dropped when
//!   the set is next read (start-up, SIGHUP, `rotate`), and `rotate` deletes its file.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use crate::config::{Config, Secret};
use crate::jwt::{
    self, Algorithm, Hs256Key, KeyError, KeyRing, KeySet, KeySetError, KeyState, PrivateKey, b64,
};
use crate::store::key_dir::{self, Entry, KeyDirError};

/// Why the key set could not be read, or a rotation not made.
#[derive(Debug)]
pub enum KeysError {
    Dir(KeyDirError),
    /// A key file that is not a key, named.
    Key(String, KeyError),
    /// `keys.json` says one thing of a key and its file another.
    Mismatch(String),
    Set(KeySetError),
    /// No `keys.json` in the directory.
    NoList(PathBuf),
    /// The active key's algorithm is not `JWT_ALGORITHM`.
    Algorithm {
        configured: Algorithm,
        active: Algorithm,
    },
    /// A rotation that would break a rule, and what to do instead.
    Refused(String),
}

impl std::fmt::Display for KeysError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeysError::Dir(e) => e.fmt(f),
            KeysError::Key(file, e) => write!(f, "{file}: {e}"),
            KeysError::Mismatch(what) => write!(f, "keys.json disagrees with a key file: {what}"),
            KeysError::Set(e) => write!(f, "keys.json: {e}"),
            KeysError::NoList(dir) => write!(
                f,
                "{}: no keys.json; make the key set with: hyperjwt keys rotate",
                dir.display()
            ),
            KeysError::Algorithm { configured, active } => write!(
                f,
                "JWT_ALGORITHM is {configured} but the active key is {active}; set \
                 JWT_ALGORITHM={active} or rotate to a {configured} key"
            ),
            KeysError::Refused(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for KeysError {}

impl From<KeyDirError> for KeysError {
    fn from(error: KeyDirError) -> Self {
        KeysError::Dir(error)
    }
}

/// The times the lifecycle keeps (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifecycle {
    /// How long (seconds) a token may be accepted after it was signed: the longest lifetime of
    /// either type, plus the leeway, plus a second.
    pub token_lifetime: i64,
    /// How long (seconds) a `next` key is published before it may sign: `JWKS_MAX_AGE`.
    pub publish_delay: i64,
}

impl Lifecycle {
    pub fn of(config: &Config) -> Self {
        let secs = |d: std::time::Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        Lifecycle {
            token_lifetime: secs(config.access_token_ttl.max(config.refresh_token_ttl))
                .saturating_add(secs(config.leeway))
                .saturating_add(1),
            publish_delay: secs(config.keys.jwks_max_age),
        }
    }

    /// Whether a key retired at `retired` may still have live tokens at `now`.
    fn still_verifies(self, retired: i64, now: i64) -> bool {
        now < retired.saturating_add(self.token_lifetime)
    }
}

/// The key set the server holds: it verifies and signs, and this is its JWKS.
#[derive(Debug)]
pub struct Published {
    pub set: KeySet,
    /// The JWKS document: every key's public half, never a secret.
    pub jwks: String,
    /// Its entity tag (RFC 9110 §8.8.3), a hash of the document, quoted.
    pub etag: String,
}

/// The key set the server verifies with and publishes, and where to reread it from (SIGHUP).
#[derive(Debug)]
pub struct PublicKeys {
    source: Source,
    live: RwLock<Arc<Published>>,
}

/// Everything needed to read (and reread) the key set.
#[derive(Debug)]
struct Source {
    dir: PathBuf,
    algorithm: Algorithm,
    lifecycle: Lifecycle,
    cache_capacity: usize,
    /// The HS256 secrets that still verify, when `JWT_SECRET_KEY` was set (tokens from before the
    /// switch to public keys).
    hs256: Option<(Secret, Vec<Secret>)>,
}

impl PublicKeys {
    /// Without the `public-keys` feature `Config` refuses a key set, so there is never one (and
    /// none of the code that reads one is linked).
    #[cfg(not(feature = "public-keys"))]
    pub fn from_config(_config: &Config) -> Result<Option<Self>, KeysError> {
        Ok(None)
    }

    /// Reads the key set `config` names, or `None` with HS256 (no `JWT_KEYS_DIR`).
    #[cfg(feature = "public-keys")]
    pub fn from_config(config: &Config) -> Result<Option<Self>, KeysError> {
        let Some(dir) = &config.keys.keys_dir else {
            return Ok(None);
        };
        let source = Source {
            dir: dir.clone(),
            algorithm: config.keys.algorithm,
            lifecycle: Lifecycle::of(config),
            cache_capacity: config.keys.verified_cache,
            hs256: (!config.secret_is_random)
                .then(|| (config.secret.clone(), config.previous_secrets.clone())),
        };
        let published = source.read(jwt::now())?;
        Ok(Some(PublicKeys {
            source,
            live: RwLock::new(Arc::new(published)),
        }))
    }

    /// The set now; a request keeps it for the one token it checks.
    pub fn current(&self) -> Arc<Published> {
        // A poisoned lock only means a thread panicked while holding it; the pointer is intact.
        Arc::clone(&self.live.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Rereads the directory (SIGHUP) and serves the new set from now on; a set that can't be read
    /// changes nothing. The memo of verified tokens starts empty, so a key taken out of the set
    /// vouches for nothing any more.
    pub fn reload(&self) -> Result<Arc<Published>, KeysError> {
        let published = Arc::new(self.source.read(jwt::now())?);
        let mut slot = self.live.write().unwrap_or_else(|e| e.into_inner());
        *slot = Arc::clone(&published);
        Ok(published)
    }

    pub fn dir(&self) -> &Path {
        &self.source.dir
    }
}

impl Source {
    fn read(&self, now: i64) -> Result<Published, KeysError> {
        let hs256 = self.hs256.as_ref().map(|(current, previous)| KeyRing {
            current: Hs256Key::new(current.as_bytes()),
            previous: previous
                .iter()
                .map(|s| Hs256Key::new(s.as_bytes()))
                .collect(),
        });
        let set = load(&self.dir, self.lifecycle, now, hs256, self.cache_capacity)?;
        let active = set.signing_key().alg();
        if active != self.algorithm {
            return Err(KeysError::Algorithm {
                configured: self.algorithm,
                active,
            });
        }
        let jwks = jwt::jwk::to_jwks(set.public_keys());
        let digest = ring::digest::digest(&ring::digest::SHA256, jwks.as_bytes());
        let etag = format!("\"{}\"", &b64::encode(digest.as_ref())[..22]);
        Ok(Published { set, jwks, etag })
    }
}

/// The key set in `dir` at `now`: every key of `keys.json` except retired ones whose tokens have all
/// expired, each read from its file and checked against what the list says of it.
pub fn load(
    dir: &Path,
    lifecycle: Lifecycle,
    now: i64,
    hs256: Option<KeyRing>,
    cache_capacity: usize,
) -> Result<KeySet, KeysError> {
    let list = key_dir::read_list(dir)?.ok_or_else(|| KeysError::NoList(dir.to_path_buf()))?;
    let mut keys = Vec::new();
    for entry in &list.keys {
        let state = state_of(entry)?;
        if state == KeyState::Retired && !lifecycle.still_verifies(entry.retired.unwrap_or(0), now)
        {
            continue;
        }
        keys.push((read_key(dir, entry)?, state));
    }
    KeySet::new(keys, hs256, cache_capacity).map_err(KeysError::Set)
}

fn state_of(entry: &Entry) -> Result<KeyState, KeysError> {
    KeyState::from_name(&entry.state).ok_or_else(|| {
        KeysError::Mismatch(format!(
            "{}: state {:?} is not next, active or retired",
            entry.file, entry.state
        ))
    })
}

fn read_key(dir: &Path, entry: &Entry) -> Result<PrivateKey, KeysError> {
    let pem = key_dir::read_key(dir, &entry.file)?;
    let key = PrivateKey::from_pem(&pem).map_err(|e| KeysError::Key(entry.file.clone(), e))?;
    if key.kid() != entry.kid || key.alg().name() != entry.alg {
        return Err(KeysError::Mismatch(format!(
            "{} is a {} key with kid {}, listed as {} with kid {}",
            entry.file,
            key.alg(),
            key.kid(),
            entry.alg,
            entry.kid
        )));
    }
    Ok(key)
}
