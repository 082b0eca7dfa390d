//! The public-key set's life (docs/jwt.md §11): `JWT_KEYS_DIR` read into a [`jwt::KeySet`], the
//! copy the server verifies with and publishes (swapped whole on SIGHUP), and the moves of
//! `hyperjwt keys rotate` and `keys add`.
//!
//! The rules, with the times in `keys.json` (`store/key_dir.rs`):
//!
//! - a `next` key is published from when the server reads the set; `rotate` makes it `active`
//!   only once its `created` time is `JWKS_MAX_AGE` old, the longest a verifier may cache the
//!   JWKS: so every verifier knows a key before the first token it signs arrives ("publish before
//!   you sign"), provided the server was sent SIGHUP after the rotation that made it. The server
//!   can't know what `keys.json` times mean to verifiers, only what it published itself, and warns
//!   on a reload that makes a key sign sooner than that ([`SignsTooSoon`]);
//! - the `active` key signs; `rotate` retires it, with the time;
//! - a `retired` key verifies (and is published) until every token it signed has expired: its
//!   `retired` time plus the longest token lifetime and the leeway. At that moment the server
//!   rereads the set by itself ([`PublicKeys::drop_retired_keys`]), so the key stops verifying and
//!   leaves the JWKS on time, SIGHUP or not; `rotate` deletes its file.
//!
//! A private key file that its group or others can reach is used all the same (a Kubernetes
//! secret is mounted 0644 unless told otherwise), with a warning naming it at every read.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use super::sessions::now_ms;
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
    pub fn still_verifies(self, retired: i64, now: i64) -> bool {
        now < self.verifies_until(retired)
    }

    /// When the last token of a key retired at `retired` has expired (Unix seconds).
    pub fn verifies_until(self, retired: i64) -> i64 {
        retired.saturating_add(self.token_lifetime)
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
    /// When this process began publishing each key (Unix milliseconds: whole seconds would let a
    /// key published at 12:00:00.99 count a second old at 12:01:00.00), in the set's order: what
    /// verifiers can have seen, whatever `keys.json` says of the key's age.
    since: Vec<i64>,
    /// When (Unix milliseconds) the first retired key here has no live token left, so the server
    /// must read the set again to drop it; `None` with no retired key.
    pub drops_at: Option<i64>,
    /// Private key files of this set that their group or others can reach: `name (mode 0644)`.
    pub exposed: Vec<String>,
}

impl Published {
    /// The key `kid`'s state here, and since when this process has published it.
    fn published(&self, kid: &str) -> Option<(KeyState, i64)> {
        self.set
            .keys()
            .zip(&self.since)
            .find(|((key, _), _)| key.kid() == kid)
            .map(|((_, state), since)| (state, *since))
    }
}

/// A reload whose new signing key verifiers may not know yet ("publish before you sign" broken):
/// `keys rotate` counts `JWKS_MAX_AGE` from the key's `created` time, but a verifier can only have
/// a key this server published, so a rotation the server was not sent SIGHUP for still signs too
/// soon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignsTooSoon {
    pub kid: String,
    /// How long this process has published it, in whole seconds; `None`: not before this reload.
    pub published_for: Option<i64>,
    /// `JWKS_MAX_AGE`.
    pub max_age: i64,
}

impl std::fmt::Display for SignsTooSoon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the new active key {} ", self.kid)?;
        match self.published_for {
            None => f.write_str("was not published by this server as the next key")?,
            Some(secs) => write!(f, "has been published by this server for only {secs} s")?,
        }
        write!(
            f,
            ", so verifiers that cached the JWKS may refuse its tokens for up to {} s \
             (JWKS_MAX_AGE); send the server SIGHUP after every `hyperjwt keys rotate`",
            self.max_age
        )
    }
}

/// Whether `new`'s signing key signs before verifiers may have it: it did not sign before this
/// reload, and this process did not publish it as `next` for `max_age` seconds first (`now_ms` in
/// Unix milliseconds, as [`Published`]'s times).
fn signs_too_soon(
    previous: &Published,
    new: &KeySet,
    now_ms: i64,
    max_age: i64,
) -> Option<SignsTooSoon> {
    let kid = new.signing_key().kid();
    let published_ms = match previous.published(kid) {
        Some((KeyState::Active, _)) => return None,
        Some((KeyState::Next, since)) => Some(now_ms.saturating_sub(since)),
        // A retired key brought back signs tokens verifiers may have dropped it for.
        Some((KeyState::Retired, _)) | None => None,
    };
    if published_ms.is_some_and(|ms| ms >= max_age.saturating_mul(1000)) {
        return None;
    }
    Some(SignsTooSoon {
        kid: kid.to_string(),
        published_for: published_ms.map(|ms| ms / 1000),
        max_age,
    })
}

/// The key set the server verifies with and publishes, and where to reread it from (SIGHUP).
#[derive(Debug)]
pub struct PublicKeys {
    source: Source,
    live: RwLock<Arc<Published>>,
    /// Told of every reload, so [`PublicKeys::drop_retired_keys`] learns of a new retired key.
    reloaded: tokio::sync::Notify,
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
        PublicKeys::read(source, now_ms()).map(Some)
    }

    #[cfg(feature = "public-keys")]
    fn read(source: Source, now_ms: i64) -> Result<Self, KeysError> {
        let published = source.read(now_ms)?;
        Ok(PublicKeys {
            source,
            live: RwLock::new(Arc::new(published)),
            reloaded: tokio::sync::Notify::new(),
        })
    }

    /// The set now; a request keeps it for the one token it checks.
    pub fn current(&self) -> Arc<Published> {
        // A poisoned lock only means a thread panicked while holding it; the pointer is intact.
        Arc::clone(&self.live.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Rereads the directory (SIGHUP) and serves the new set from now on; a set that can't be read
    /// changes nothing. The memo of verified tokens starts empty, so a key taken out of the set
    /// vouches for nothing any more. A new signing key that verifiers may not have yet is logged
    /// as a warning ([`SignsTooSoon`]); it signs all the same (the set on disk is the operator's).
    pub fn reload(&self) -> Result<Arc<Published>, KeysError> {
        let (published, too_soon) = self.reload_at(now_ms())?;
        if let Some(too_soon) = too_soon {
            log::warn!("JWT_KEYS_DIR reloaded: {too_soon}");
        }
        Ok(published)
    }

    /// [`PublicKeys::reload`] at `now_ms` (Unix milliseconds).
    fn reload_at(&self, now_ms: i64) -> Result<(Arc<Published>, Option<SignsTooSoon>), KeysError> {
        let mut published = self.source.read(now_ms)?;
        let mut slot = self.live.write().unwrap_or_else(|e| e.into_inner());
        let previous = Arc::clone(&slot);
        // A key published before keeps the time it was first published.
        published.since = published
            .set
            .keys()
            .map(|(key, _)| {
                previous
                    .published(key.kid())
                    .map_or(now_ms, |(_, since)| since)
            })
            .collect();
        let max_age = self.source.lifecycle.publish_delay;
        let too_soon = signs_too_soon(&previous, &published.set, now_ms, max_age);
        let published = Arc::new(published);
        *slot = Arc::clone(&published);
        self.reloaded.notify_one();
        Ok((published, too_soon))
    }

    /// Runs for the server's life: once the last token of a retired key has expired, rereads the
    /// set (as SIGHUP does), so the key stops verifying and leaves the JWKS on time even if no
    /// one sends SIGHUP: a key whose private half leaks after its retirement then forges nothing
    /// for longer than it must. Woken by every reload, which may bring a retired key.
    pub async fn drop_retired_keys(&self) {
        loop {
            let now_ms = now_ms();
            let Some(due) = self.current().drops_at else {
                self.reloaded.notified().await;
                continue;
            };
            if due > now_ms {
                let wait = u64::try_from(due - now_ms).unwrap_or(u64::MAX);
                tokio::select! {
                    () = tokio::time::sleep(std::time::Duration::from_millis(wait)) => {}
                    () = self.reloaded.notified() => {}
                }
                continue;
            }
            let before = self.current();
            match self.reload_at(now_ms) {
                Ok((after, too_soon)) => {
                    let dropped: Vec<&str> = before
                        .set
                        .keys()
                        .map(|(key, _)| key.kid())
                        .filter(|kid| after.published(kid).is_none())
                        .collect();
                    log::info!(
                        "JWT_KEYS_DIR reread: every token of the retired key(s) {} has expired, so \
                         they no longer verify and have left the JWKS",
                        dropped.join(", ")
                    );
                    if let Some(too_soon) = too_soon {
                        log::warn!("JWT_KEYS_DIR reread: {too_soon}");
                    }
                }
                Err(e) => {
                    log::error!(
                        "JWT_KEYS_DIR: cannot reread it to drop a retired key whose tokens have \
                         all expired: {e}; it still verifies; trying again in a minute or on SIGHUP"
                    );
                    tokio::select! {
                        () = tokio::time::sleep(RETRY_AFTER) => {}
                        () = self.reloaded.notified() => {}
                    }
                }
            }
        }
    }
}

/// How long [`PublicKeys::drop_retired_keys`] waits to reread a set it could not read.
const RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// The warning for a private key file that its group or others can reach.
fn exposed_warning(file: &str) -> String {
    format!(
        "JWT_KEYS_DIR: the private key file {file} is open to its group or others; \
         make it owner-only (chmod 600)"
    )
}

impl Source {
    /// The set on disk at `now_ms` (Unix milliseconds; `keys.json`'s times are seconds).
    fn read(&self, now_ms: i64) -> Result<Published, KeysError> {
        let now = now_ms / 1000;
        let hs256 = self.hs256.as_ref().map(|(current, previous)| KeyRing {
            current: Hs256Key::new(current.as_bytes()),
            previous: previous
                .iter()
                .map(|s| Hs256Key::new(s.as_bytes()))
                .collect(),
        });
        let Loaded {
            set,
            drops_at,
            exposed,
        } = load_with_times(&self.dir, self.lifecycle, now, hs256, self.cache_capacity)?;
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
        // Said at every read of the set (start-up, SIGHUP, the drop of a retired key), here only.
        for file in &exposed {
            log::warn!("{}", exposed_warning(file));
        }
        let since = vec![now_ms; set.keys().count()];
        Ok(Published {
            set,
            jwks,
            etag,
            since,
            drops_at: drops_at.map(|secs| secs.saturating_mul(1000)),
            exposed,
        })
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
    load_with_times(dir, lifecycle, now, hs256, cache_capacity).map(|loaded| loaded.set)
}

/// A set as [`load`] reads it, with what the server must know of it beyond the keys.
struct Loaded {
    set: KeySet,
    /// When (Unix seconds) its first retired key is to be dropped.
    drops_at: Option<i64>,
    /// Key files others can reach.
    exposed: Vec<String>,
}

fn load_with_times(
    dir: &Path,
    lifecycle: Lifecycle,
    now: i64,
    hs256: Option<KeyRing>,
    cache_capacity: usize,
) -> Result<Loaded, KeysError> {
    let list = key_dir::read_list(dir)?.ok_or_else(|| KeysError::NoList(dir.to_path_buf()))?;
    let mut keys = Vec::new();
    let mut drops_at: Option<i64> = None;
    let mut exposed = Vec::new();
    for entry in &list.keys {
        let state = state_of(entry)?;
        if state == KeyState::Retired {
            let retired = entry.retired.unwrap_or(0);
            if !lifecycle.still_verifies(retired, now) {
                continue;
            }
            let until = lifecycle.verifies_until(retired);
            drops_at = Some(drops_at.map_or(until, |at| at.min(until)));
        }
        if let Some(mode) = key_dir::open_to_others(dir, &entry.file)? {
            exposed.push(format!("{} (mode {mode:04o})", entry.file));
        }
        keys.push((read_key(dir, entry)?, state));
    }
    let set = KeySet::new(keys, hs256, cache_capacity).map_err(KeysError::Set)?;
    Ok(Loaded {
        set,
        drops_at,
        exposed,
    })
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

#[cfg(all(test, feature = "public-keys"))]
mod tests {
    use super::*;
    use crate::jwt::pem;
    use crate::store::key_dir::KeyList;
    use KeyState::{Active, Next, Retired};

    const LIFE: Lifecycle = Lifecycle {
        token_lifetime: 1000,
        publish_delay: 300,
    };

    /// Writes `keys.json` listing `keys` (indexes into `made`) in these states, as `keys rotate`
    /// would leave it at `at` (the times in it matter to the server only in dropping retired keys).
    fn list(dir: &Path, made: &[PrivateKey], at: i64, keys: &[(usize, KeyState)]) {
        let keys = keys
            .iter()
            .map(|&(i, state)| Entry {
                file: format!("{}.pem", made[i].kid()),
                kid: made[i].kid().to_string(),
                alg: made[i].alg().name().to_string(),
                state: state.name().to_string(),
                created: at,
                retired: (state == Retired).then_some(at),
            })
            .collect();
        key_dir::write_list(dir, &KeyList { keys }).unwrap();
    }

    /// A fresh key directory holding `n` new EdDSA keys (not yet listed).
    fn dir_with_keys(name: &str, n: usize) -> (PathBuf, Vec<PrivateKey>) {
        let dir = std::env::temp_dir().join(format!("hyperjwt-keys-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        key_dir::create_dir(&dir).unwrap();
        let made = (0..n)
            .map(|_| {
                let (key, pkcs8) = PrivateKey::generate(Algorithm::EdDsa).unwrap();
                let file = format!("{}.pem", key.kid());
                key_dir::write_key(&dir, &file, &pem::encode(&pkcs8, "PRIVATE KEY")).unwrap();
                key
            })
            .collect();
        (dir, made)
    }

    fn source(dir: &Path) -> Source {
        Source {
            dir: dir.to_path_buf(),
            algorithm: Algorithm::EdDsa,
            lifecycle: LIFE,
            cache_capacity: 10,
            hs256: None,
        }
    }

    #[test]
    fn a_retired_key_is_due_to_drop_when_its_last_token_expires_and_a_reread_then_drops_it() {
        let (dir, made) = dir_with_keys("drops", 3);
        // Keys 0 and 1 retired at 0 and at 200 (entries' times are `retired`): key 0's tokens have
        // all expired at 0 + LIFE's 1000 s, key 1's at 1200 s.
        list(&dir, &made, 0, &[(0, Retired), (2, Active)]);
        let mut listed = key_dir::read_list(&dir).unwrap().unwrap();
        let mut later = listed.keys[0].clone();
        later.file = format!("{}.pem", made[1].kid());
        later.kid = made[1].kid().to_string();
        later.retired = Some(200);
        listed.keys.push(later);
        key_dir::write_list(&dir, &listed).unwrap();

        let keys = PublicKeys::read(source(&dir), 500_000).unwrap();
        assert_eq!(keys.current().set.keys().count(), 3);
        assert_eq!(keys.current().drops_at, Some(1_000_000));
        // A millisecond early, nothing goes; on time, key 0 goes and key 1 is next due.
        let (early, _) = keys.reload_at(999_999).unwrap();
        assert_eq!(early.set.keys().count(), 3);
        let (on_time, _) = keys.reload_at(1_000_000).unwrap();
        let kids: Vec<&str> = on_time.set.keys().map(|(key, _)| key.kid()).collect();
        assert_eq!(kids, [made[2].kid(), made[1].kid()]);
        assert!(!on_time.jwks.contains(made[0].kid()));
        assert_eq!(on_time.drops_at, Some(1_200_000));
        let (last, _) = keys.reload_at(1_200_000).unwrap();
        assert_eq!(last.drops_at, None);
        assert_eq!(last.set.keys().count(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_open_to_others_is_named_at_every_read() {
        use std::os::unix::fs::PermissionsExt;
        let (dir, made) = dir_with_keys("exposed", 2);
        list(&dir, &made, 0, &[(0, Active), (1, Next)]);
        let keys = PublicKeys::read(source(&dir), 0).unwrap();
        assert!(keys.current().exposed.is_empty());
        let file = format!("{}.pem", made[1].kid());
        let readable = std::fs::Permissions::from_mode(0o644);
        std::fs::set_permissions(dir.join(&file), readable).unwrap();
        let (published, _) = keys.reload_at(1000).unwrap();
        assert_eq!(published.exposed, [format!("{file} (mode 0644)")]);
        let warning = exposed_warning(&published.exposed[0]);
        assert!(
            warning.contains(&file) && warning.contains("chmod 600"),
            "{warning}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_reload_warns_when_verifiers_may_not_have_the_new_signing_key() {
        let (dir, made) = dir_with_keys("reload", 5);
        let kid = |i: usize| made[i].kid().to_string();
        // The server starts at 0 with key 0 signing and key 1 published as next.
        list(&dir, &made, 0, &[(0, Active), (1, Next)]);
        let keys = PublicKeys::read(source(&dir), 0).unwrap();

        // Key 1 was published from start-up for JWKS_MAX_AGE: it may sign, and nothing is said.
        list(&dir, &made, 300, &[(0, Retired), (1, Active), (2, Next)]);
        assert_eq!(keys.reload_at(300_000).unwrap().1, None);
        // A reload that changes nothing says nothing, however soon.
        assert_eq!(keys.reload_at(301_000).unwrap().1, None);
        // Key 2 came with the reload at 300: signing at 400 (a forced rotation) is too soon.
        list(&dir, &made, 400, &[(1, Retired), (2, Active), (3, Next)]);
        let (published, too_soon) = keys.reload_at(400_000).unwrap();
        assert_eq!(published.set.signing_key().kid(), kid(2));
        assert_eq!(
            too_soon,
            Some(SignsTooSoon {
                kid: kid(2),
                published_for: Some(100),
                max_age: 300
            })
        );
        // Two rotations with no SIGHUP between them (each allowed by keys.json's times): key 4
        // signs, and this server never published it.
        list(
            &dir,
            &made,
            1000,
            &[(2, Retired), (3, Retired), (4, Active)],
        );
        let too_soon = keys.reload_at(1_000_000).unwrap().1.expect("a warning");
        assert_eq!((too_soon.kid, too_soon.published_for), (kid(4), None));
        // A retired key (still published) brought back to sign: verifiers may have dropped it.
        list(&dir, &made, 1500, &[(3, Active), (4, Retired)]);
        let (published, too_soon) = keys.reload_at(1_500_000).unwrap();
        assert_eq!(published.set.keys().count(), 2);
        let too_soon = too_soon.expect("a warning");
        assert_eq!(
            (too_soon.kid.as_str(), too_soon.published_for),
            (made[3].kid(), None)
        );
        let line = too_soon.to_string();
        assert!(
            line.contains(&kid(3)) && line.contains("up to 300 s"),
            "{line}"
        );
        assert!(
            line.contains("SIGHUP after every `hyperjwt keys rotate`"),
            "{line}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
