//! Moving the key set along on disk: `hyperjwt keys rotate` and `hyperjwt keys add` (the rules are
//! in [`super::keys`]). The server never writes the directory; it rereads it on SIGHUP.
//!
//! `rotate`, in one step each time:
//! - no key set yet: makes one, an `active` key and a `next` key;
//! - no `next` key: makes and publishes one (run `rotate` again once it has been published for
//!   `JWKS_MAX_AGE`);
//! - otherwise: the `active` key retires, the `next` key becomes active (only once it has been
//!   published for `JWKS_MAX_AGE`, unless forced), and a new `next` key is made. Retired keys whose
//!   tokens have all expired are dropped from the list and their files deleted.

use std::path::Path;

use super::keys::{KeysError, Lifecycle};
use crate::jwt::{Algorithm, KeyState, PrivateKey, pem};
use crate::store::key_dir::{self, Entry, KeyList};

/// What a rotation did, for the tool to say (key ids).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotated {
    /// A new key set: its active key, and its next key.
    Created { active: String, next: String },
    /// A next key was made and published; it signs after the next rotation. Retired keys whose
    /// tokens have all expired were deleted, as in every rotation.
    Published { next: String, dropped: Vec<String> },
    /// The next key signs now; the active one retired; a new next key when one could be made
    /// (not for RS256, whose keys the operator brings with `keys add`).
    Promoted {
        active: String,
        retired: String,
        next: Option<String>,
        dropped: Vec<String>,
    },
}

/// One rotation of the set in `dir` at `now` (module docs). New keys are `alg` (EdDSA or ES256).
pub fn rotate(
    dir: &Path,
    alg: Algorithm,
    lifecycle: Lifecycle,
    now: i64,
    force: bool,
) -> Result<Rotated, KeysError> {
    let Some(mut list) = key_dir::read_list(dir)? else {
        key_dir::create_dir(dir)?;
        let active = new_key(dir, alg, KeyState::Active, now)?;
        let next = new_key(dir, alg, KeyState::Next, now)?;
        let rotated = Rotated::Created {
            active: active.kid.clone(),
            next: next.kid.clone(),
        };
        key_dir::write_list(
            dir,
            &KeyList {
                keys: vec![active, next],
            },
        )?;
        return Ok(rotated);
    };
    let dropped = drop_expired(&mut list, lifecycle, now);
    let of = |state: KeyState| {
        let name = state.name();
        list.keys.iter().filter(|e| e.state == name).count()
    };
    if of(KeyState::Active) != 1 || of(KeyState::Next) > 1 {
        return Err(KeysError::Refused(format!(
            "keys.json has {} active and {} next keys; rotate needs exactly one active and at most \
             one next",
            of(KeyState::Active),
            of(KeyState::Next)
        )));
    }
    let rotated = match list
        .keys
        .iter()
        .position(|e| e.state == KeyState::Next.name())
    {
        None => {
            let next = new_key(dir, alg, KeyState::Next, now)?;
            let kid = next.kid.clone();
            list.keys.push(next);
            Rotated::Published {
                next: kid,
                dropped: dropped.iter().map(|e| e.kid.clone()).collect(),
            }
        }
        Some(n) => {
            // The server refuses a set whose active key is not of JWT_ALGORITHM: promoting one
            // (a `keys add` of another algorithm) would leave it unable to reload or restart.
            if list.keys[n].alg != alg.name() {
                return Err(KeysError::Refused(format!(
                    "the next key {} is an {} key and JWT_ALGORITHM is {alg}: set JWT_ALGORITHM \
                     to {} first, or remove that key from keys.json",
                    list.keys[n].kid, list.keys[n].alg, list.keys[n].alg
                )));
            }
            let published_for = now.saturating_sub(list.keys[n].created);
            if published_for < lifecycle.publish_delay && !force {
                return Err(KeysError::Refused(format!(
                    "the next key {} has been published for {published_for} s; verifiers may cache \
                     the JWKS for {} s (JWKS_MAX_AGE), so it may not sign yet: rotate again in {} s \
                     (or --force, if no verifier caches the JWKS)",
                    list.keys[n].kid,
                    lifecycle.publish_delay,
                    lifecycle.publish_delay - published_for
                )));
            }
            let a = list
                .keys
                .iter()
                .position(|e| e.state == KeyState::Active.name())
                .unwrap_or(n);
            list.keys[a].state = KeyState::Retired.name().into();
            list.keys[a].retired = Some(now);
            list.keys[n].state = KeyState::Active.name().into();
            let next = match alg {
                Algorithm::EdDsa | Algorithm::Es256 => {
                    Some(new_key(dir, alg, KeyState::Next, now)?)
                }
                Algorithm::Hs256 | Algorithm::Rs256 => None,
            };
            let rotated = Rotated::Promoted {
                active: list.keys[n].kid.clone(),
                retired: list.keys[a].kid.clone(),
                next: next.as_ref().map(|e| e.kid.clone()),
                dropped: dropped.iter().map(|e| e.kid.clone()).collect(),
            };
            list.keys.extend(next);
            rotated
        }
    };
    key_dir::write_list(dir, &list)?;
    // Only once the list no longer names them.
    for entry in &dropped {
        key_dir::remove_key(dir, &entry.file)?;
    }
    Ok(rotated)
}

/// Adds the operator's key `pem` (an RSA key, or any PKCS#8 key made elsewhere) as the `next` key
/// of the set in `dir`, or, with no set yet, as the `active` key of a new one. Returns its kid.
pub fn add(dir: &Path, pem_text: &str, now: i64) -> Result<(String, KeyState), KeysError> {
    let key = PrivateKey::from_pem(pem_text).map_err(|e| KeysError::Key("the key".into(), e))?;
    let (mut list, state) = match key_dir::read_list(dir)? {
        Some(list) => (list, KeyState::Next),
        None => {
            key_dir::create_dir(dir)?;
            (KeyList::default(), KeyState::Active)
        }
    };
    if list.keys.iter().any(|e| e.kid == key.kid()) {
        return Err(KeysError::Refused(format!(
            "the key {} is already in the set",
            key.kid()
        )));
    }
    if state == KeyState::Next && list.keys.iter().any(|e| e.state == KeyState::Next.name()) {
        return Err(KeysError::Refused(
            "the set has a next key already; rotate first, then add".into(),
        ));
    }
    let entry = entry_for(&key, state, now);
    key_dir::write_key(dir, &entry.file, pem_text)?;
    list.keys.push(entry);
    key_dir::write_list(dir, &list)?;
    Ok((key.kid().to_string(), state))
}

/// Takes out of `list` the retired keys whose tokens have all expired, and returns them.
fn drop_expired(list: &mut KeyList, lifecycle: Lifecycle, now: i64) -> Vec<Entry> {
    let (dropped, kept) = std::mem::take(&mut list.keys).into_iter().partition(|e| {
        e.state == KeyState::Retired.name()
            && !lifecycle.still_verifies(e.retired.unwrap_or(0), now)
    });
    list.keys = kept;
    dropped
}

/// Makes a key, writes its file, and returns its entry.
fn new_key(dir: &Path, alg: Algorithm, state: KeyState, now: i64) -> Result<Entry, KeysError> {
    let (key, pkcs8) =
        PrivateKey::generate(alg).map_err(|e| KeysError::Key(format!("a new {alg} key"), e))?;
    let entry = entry_for(&key, state, now);
    key_dir::write_key(dir, &entry.file, &pem::encode(&pkcs8, "PRIVATE KEY"))?;
    Ok(entry)
}

fn entry_for(key: &PrivateKey, state: KeyState, now: i64) -> Entry {
    Entry {
        file: format!("{}.pem", key.kid()),
        kid: key.kid().to_string(),
        alg: key.alg().name().to_string(),
        state: state.name().to_string(),
        created: now,
        retired: None,
    }
}

#[cfg(all(test, feature = "public-keys"))]
mod tests {
    use super::*;
    use crate::auth::keys::load;

    const LIFE: Lifecycle = Lifecycle {
        token_lifetime: 1000,
        publish_delay: 300,
    };

    fn temp_dir(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("hyperjwt-rotate-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn states(dir: &Path) -> Vec<(String, String)> {
        key_dir::read_list(dir)
            .unwrap()
            .unwrap()
            .keys
            .into_iter()
            .map(|e| (e.kid, e.state))
            .collect()
    }

    #[test]
    fn a_key_moves_from_next_to_active_to_retired_to_gone() {
        let dir = temp_dir("life");
        let Rotated::Created { active: a, next: b } =
            rotate(&dir, Algorithm::EdDsa, LIFE, 10_000, false).unwrap()
        else {
            panic!("not created")
        };
        let set = load(&dir, LIFE, 10_000, None, 10).unwrap();
        assert_eq!(set.signing_key().kid(), a);
        assert_eq!(set.public_keys().count(), 2);
        // Too soon: the next key has not been published for JWKS_MAX_AGE.
        let err = rotate(&dir, Algorithm::EdDsa, LIFE, 10_299, false).unwrap_err();
        assert!(err.to_string().contains("rotate again in 1 s"), "{err}");
        let Rotated::Promoted {
            active,
            retired,
            next: Some(c),
            dropped,
        } = rotate(&dir, Algorithm::EdDsa, LIFE, 10_300, false).unwrap()
        else {
            panic!("not promoted")
        };
        assert_eq!(
            (active.as_str(), retired.as_str()),
            (b.as_str(), a.as_str())
        );
        assert!(dropped.is_empty());
        assert_eq!(
            states(&dir),
            [
                (a.clone(), "retired".into()),
                (b.clone(), "active".into()),
                (c.clone(), "next".into())
            ]
        );
        // The retired key verifies until its last token has expired, and is then left out.
        assert_eq!(
            load(&dir, LIFE, 11_299, None, 10)
                .unwrap()
                .public_keys()
                .count(),
            3
        );
        assert_eq!(
            load(&dir, LIFE, 11_300, None, 10)
                .unwrap()
                .public_keys()
                .count(),
            2
        );
        // The next rotation after that deletes it, list and file.
        let Rotated::Promoted { dropped, .. } =
            rotate(&dir, Algorithm::EdDsa, LIFE, 11_300, false).unwrap()
        else {
            panic!("not promoted")
        };
        assert_eq!(dropped, std::slice::from_ref(&a));
        assert!(!dir.join(format!("{a}.pem")).exists());
        // A rotation that only publishes a next key (there was none) deletes and reports the same:
        // with b retired and no next key, once b's tokens have expired.
        let mut list = key_dir::read_list(&dir).unwrap().unwrap();
        list.keys.retain(|e| e.state != KeyState::Next.name());
        key_dir::write_list(&dir, &list).unwrap();
        let Rotated::Published { dropped, .. } =
            rotate(&dir, Algorithm::EdDsa, LIFE, 30_000, false).unwrap()
        else {
            panic!("not published")
        };
        assert_eq!(dropped, std::slice::from_ref(&b));
        assert!(!dir.join(format!("{b}.pem")).exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_operators_key_is_added_and_a_list_that_lies_is_refused() {
        let dir = temp_dir("add");
        let (key, pkcs8) = PrivateKey::generate(Algorithm::Es256).unwrap();
        let pem_text = pem::encode(&pkcs8, "PRIVATE KEY");
        assert_eq!(
            add(&dir, &pem_text, 5).unwrap(),
            (key.kid().to_string(), KeyState::Active)
        );
        assert!(
            matches!(add(&dir, &pem_text, 6), Err(KeysError::Refused(why)) if why.contains("already in the set")),
            "the same key twice"
        );
        // No next key: rotate publishes one first.
        assert!(matches!(
            rotate(&dir, Algorithm::Es256, LIFE, 7, false).unwrap(),
            Rotated::Published { .. }
        ));
        // An EdDSA key added as next can't be promoted while JWT_ALGORITHM is ES256: the server
        // would refuse the set it left.
        let (other, pkcs8) = PrivateKey::generate(Algorithm::EdDsa).unwrap();
        let other_pem = pem::encode(&pkcs8, "PRIVATE KEY");
        let mut list = key_dir::read_list(&dir).unwrap().unwrap();
        list.keys.retain(|e| e.state != KeyState::Next.name());
        key_dir::write_list(&dir, &list).unwrap();
        assert_eq!(
            add(&dir, &other_pem, 8).unwrap(),
            (other.kid().to_string(), KeyState::Next)
        );
        let before = key_dir::read_list(&dir).unwrap();
        let refused = rotate(&dir, Algorithm::Es256, LIFE, 1000, false);
        assert!(
            matches!(&refused, Err(KeysError::Refused(why)) if why.contains("set JWT_ALGORITHM to EdDSA")),
            "{refused:?}"
        );
        assert_eq!(key_dir::read_list(&dir).unwrap(), before, "nothing moved");
        // A list whose entry disagrees with its file is refused when read.
        let mut list = key_dir::read_list(&dir).unwrap().unwrap();
        list.keys[0].alg = "EdDSA".into();
        key_dir::write_list(&dir, &list).unwrap();
        assert!(matches!(
            load(&dir, LIFE, 8, None, 10),
            Err(KeysError::Mismatch(_))
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
