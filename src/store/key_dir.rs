//! The keys directory (`JWT_KEYS_DIR`) on disk: `keys.json`, the list of keys with their states and
//! times, and beside it one PKCS#8 PEM file per key. Files are written through
//! [`atomic_file`](super::atomic_file), so new ones are owner-only (0600) and a crash leaves the old
//! list or the new one; the directory itself is made owner-only (0700).
//!
//! This module only reads and writes: what the states mean, and how `hyperjwt keys rotate` moves
//! them, is `auth/keys.rs`'s. It knows nothing of tokens or of the keys' mathematics.
//!
//! ```json
//! {"keys": [
//!   {"file": "<kid>.pem", "kid": "<kid>", "alg": "EdDSA", "state": "retired", "created": 1764806400, "retired": 1764892800},
//!   {"file": "<kid>.pem", "kid": "<kid>", "alg": "EdDSA", "state": "active",  "created": 1764892000},
//!   {"file": "<kid>.pem", "kid": "<kid>", "alg": "EdDSA", "state": "next",    "created": 1764892800}
//! ]}
//! ```

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::atomic_file;

/// The list's name in the directory.
pub const LIST: &str = "keys.json";

/// One key of the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The PEM file's name in the directory (no path).
    pub file: String,
    /// Its key id, for people reading the list; the key's own thumbprint must agree.
    pub kid: String,
    /// Its algorithm, for people reading the list; the key's type must agree.
    pub alg: String,
    /// `next`, `active` or `retired`.
    pub state: String,
    /// When it was made or added, Unix seconds: published as `next` from then.
    pub created: i64,
    /// When it stopped signing, Unix seconds (`retired` keys only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired: Option<i64>,
}

/// The whole list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyList {
    pub keys: Vec<Entry>,
}

/// Why the directory could not be read or written: what, and the system's reason.
#[derive(Debug)]
pub struct KeyDirError {
    pub path: PathBuf,
    pub problem: String,
}

impl std::fmt::Display for KeyDirError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.problem)
    }
}

impl std::error::Error for KeyDirError {}

fn failed(path: &Path, problem: impl std::fmt::Display) -> KeyDirError {
    KeyDirError {
        path: path.to_path_buf(),
        problem: problem.to_string(),
    }
}

/// The list in `dir`, or `None` when there is no `keys.json` yet.
pub fn read_list(dir: &Path) -> Result<Option<KeyList>, KeyDirError> {
    let path = dir.join(LIST);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(failed(&path, e)),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| failed(&path, format!("not a key list: {e}")))
}

/// Replaces the list in `dir`, atomically.
pub fn write_list(dir: &Path, list: &KeyList) -> Result<(), KeyDirError> {
    let path = dir.join(LIST);
    let mut text = serde_json::to_string_pretty(list).map_err(|e| failed(&path, e))?;
    text.push('\n');
    atomic_file::replace(&path, text.as_bytes()).map_err(|e| failed(&path, e))
}

/// The text of the key file `file` in `dir`. The name must be a plain file name: the list can't
/// point outside its directory.
pub fn read_key(dir: &Path, file: &str) -> Result<String, KeyDirError> {
    let path = key_path(dir, file)?;
    fs::read_to_string(&path).map_err(|e| failed(&path, e))
}

/// The permission bits of the key file `file` in `dir` when its group or others have any access:
/// a private key should be its owner's alone. Always `None` where there are no Unix modes.
pub fn open_to_others(dir: &Path, file: &str) -> Result<Option<u32>, KeyDirError> {
    let path = key_path(dir, file)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&path)
            .map_err(|e| failed(&path, e))?
            .permissions()
            .mode()
            & 0o777;
        Ok((mode & 0o077 != 0).then_some(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(None)
    }
}

/// Writes a new key file `file` in `dir`, owner-only.
pub fn write_key(dir: &Path, file: &str, pem: &str) -> Result<(), KeyDirError> {
    let path = key_path(dir, file)?;
    atomic_file::create_new(&path, pem.as_bytes()).map_err(|e| match e.kind() {
        io::ErrorKind::AlreadyExists => failed(&path, "already exists"),
        _ => failed(&path, e),
    })
}

/// Removes the key file `file` (a key dropped from the list); one already gone is fine.
pub fn remove_key(dir: &Path, file: &str) -> Result<(), KeyDirError> {
    let path = key_path(dir, file)?;
    match fs::remove_file(&path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(failed(&path, e)),
        _ => Ok(()),
    }
}

/// Makes `dir` (and its parents) if missing, owner-only.
pub fn create_dir(dir: &Path) -> Result<(), KeyDirError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|e| failed(dir, e))
}

fn key_path(dir: &Path, file: &str) -> Result<PathBuf, KeyDirError> {
    let plain = !file.is_empty()
        && file != "."
        && file != ".."
        && !file.contains(['/', '\\'])
        && file != LIST;
    if !plain {
        return Err(failed(dir, format!("{file:?} is not a key file name")));
    }
    Ok(dir.join(file))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("hyperjwt-keydir-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn the_list_and_the_keys_round_trip_owner_only() {
        let dir = temp_dir("round-trip").join("keys");
        create_dir(&dir).unwrap();
        assert_eq!(read_list(&dir).unwrap(), None);
        let list = KeyList {
            keys: vec![Entry {
                file: "abc.pem".into(),
                kid: "abc".into(),
                alg: "EdDSA".into(),
                state: "active".into(),
                created: 1,
                retired: None,
            }],
        };
        write_list(&dir, &list).unwrap();
        assert_eq!(read_list(&dir).unwrap(), Some(list));
        write_key(&dir, "abc.pem", "PEM").unwrap();
        assert_eq!(read_key(&dir, "abc.pem").unwrap(), "PEM");
        assert!(write_key(&dir, "abc.pem", "again").is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&dir), 0o700);
            assert_eq!(mode(&dir.join("abc.pem")), 0o600);
            assert_eq!(open_to_others(&dir, "abc.pem").unwrap(), None);
            let readable = fs::Permissions::from_mode(0o640);
            fs::set_permissions(dir.join("abc.pem"), readable).unwrap();
            assert_eq!(open_to_others(&dir, "abc.pem").unwrap(), Some(0o640));
            assert_eq!(mode(&dir.join(LIST)), 0o600);
        }
        remove_key(&dir, "abc.pem").unwrap();
        remove_key(&dir, "abc.pem").unwrap();
        let _ = fs::remove_dir_all(dir.parent().unwrap());
    }

    #[test]
    fn key_files_stay_inside_the_directory() {
        // Every one of these paths exists or could be written: only the name check refuses them.
        let dir = temp_dir("names").join("keys");
        create_dir(&dir.join("a")).unwrap();
        fs::write(dir.join("keys.json"), "{}").unwrap();
        fs::write(dir.parent().unwrap().join("x.pem"), "x").unwrap();
        for name in ["", ".", "..", "../x.pem", "a/b.pem", "keys.json"] {
            for error in [read_key(&dir, name).err(), write_key(&dir, name, "x").err()] {
                let error = error.unwrap_or_else(|| panic!("{name:?} was accepted"));
                assert!(
                    error.to_string().contains("is not a key file name"),
                    "{error}"
                );
            }
        }
        let _ = fs::remove_dir_all(dir.parent().unwrap());
    }
}
