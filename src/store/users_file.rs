//! Editing a users file (`USERS_FILE`): the rules for new usernames and passwords, hashing, and
//! saving the file atomically. The server only reads the file ([`crate::store::users::UserStore::load`]);
//! the `hyperjwt users` commands change it through this module.
//!
//! The file is the JSON object `UserStore::load` reads, `{"username": "$2b$12$..."}`, written with
//! sorted names and one user per line so it diffs well. It is replaced with
//! [`atomic_file::replace`], so a crash mid-write leaves the old file.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::store::atomic_file;
use crate::store::users::{MAX_PASSWORD_BYTES, parse_users_file};

/// Longest username accepted, in bytes of UTF-8: room for an e-mail address, small enough for logs.
pub const MAX_USERNAME_BYTES: usize = 128;

/// Why a username was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsernameError {
    Empty,
    TooLong(usize),
    /// A control character (newline, tab, escape...): it could forge lines in logs and listings.
    Control,
    /// Leading or trailing whitespace: invisible when typed, so a login would never match it.
    Whitespace,
}

impl fmt::Display for UsernameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsernameError::Empty => f.write_str("the username is empty"),
            UsernameError::TooLong(n) => write!(
                f,
                "the username is {n} bytes; at most {MAX_USERNAME_BYTES} are allowed"
            ),
            UsernameError::Control => f.write_str("the username contains a control character"),
            UsernameError::Whitespace => f.write_str("the username starts or ends with whitespace"),
        }
    }
}

impl std::error::Error for UsernameError {}

/// A username a new user may have: 1 to [`MAX_USERNAME_BYTES`] bytes, no control characters, no
/// leading or trailing whitespace. Anything else (spaces inside, `@`, non-ASCII letters) is allowed,
/// as the login endpoint accepts any non-empty string.
pub fn check_username(name: &str) -> Result<(), UsernameError> {
    if name.is_empty() {
        return Err(UsernameError::Empty);
    }
    if name.len() > MAX_USERNAME_BYTES {
        return Err(UsernameError::TooLong(name.len()));
    }
    if name.chars().any(char::is_control) {
        return Err(UsernameError::Control);
    }
    if name.starts_with(char::is_whitespace) || name.ends_with(char::is_whitespace) {
        return Err(UsernameError::Whitespace);
    }
    Ok(())
}

/// Why a new password was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordError {
    Empty,
    /// bcrypt reads only 72 bytes; a longer password would be silently cut, so it is refused.
    TooLong(usize),
}

impl fmt::Display for PasswordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PasswordError::Empty => f.write_str("the password is empty"),
            PasswordError::TooLong(n) => write!(
                f,
                "the password is {n} bytes; bcrypt uses at most {MAX_PASSWORD_BYTES}, \
                 and a longer one is refused rather than silently cut"
            ),
        }
    }
}

impl std::error::Error for PasswordError {}

/// A password a user may be given: 1 to [`MAX_PASSWORD_BYTES`] bytes (the login endpoint refuses
/// empty passwords, and bcrypt ignores bytes past 72).
pub fn check_new_password(password: &str) -> Result<(), PasswordError> {
    match password.len() {
        0 => Err(PasswordError::Empty),
        n if n > MAX_PASSWORD_BYTES => Err(PasswordError::TooLong(n)),
        _ => Ok(()),
    }
}

/// A bcrypt hash made by [`hash_password`]: only checked passwords get one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a password could not be hashed.
#[derive(Debug)]
pub enum HashError {
    Password(PasswordError),
    Bcrypt(bcrypt::BcryptError),
}

impl fmt::Display for HashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HashError::Password(e) => e.fmt(f),
            HashError::Bcrypt(e) => write!(f, "bcrypt failed: {e}"),
        }
    }
}

impl std::error::Error for HashError {}

/// Checks `password` ([`check_new_password`]) and hashes it with bcrypt at `cost` (`$2b$`, a random salt).
/// Slow on purpose: about 0.25 s of CPU at cost 12.
pub fn hash_password(password: &str, cost: u32) -> Result<PasswordHash, HashError> {
    check_new_password(password).map_err(HashError::Password)?;
    bcrypt::hash(password, cost)
        .map(PasswordHash)
        .map_err(HashError::Bcrypt)
}

/// Why a users file could not be read, changed or written.
#[derive(Debug)]
pub enum UsersFileError {
    Read(PathBuf, io::Error),
    /// The file exists but is not a JSON object of strings; it is left untouched.
    Json(PathBuf, serde_json::Error),
    Write(PathBuf, io::Error),
    Username(UsernameError),
    /// `add` of a name already there, without permission to replace it.
    Exists(String),
    /// `remove` of a name that isn't there.
    Missing(String),
}

impl fmt::Display for UsersFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsersFileError::Read(path, e) => write!(f, "cannot read {}: {e}", path.display()),
            UsersFileError::Json(path, e) => write!(
                f,
                "{} is not a JSON object of username -> bcrypt hash ({e}); it was left unchanged",
                path.display()
            ),
            UsersFileError::Write(path, e) => write!(
                f,
                "cannot write {}: {e} (the file is unchanged)",
                path.display()
            ),
            UsersFileError::Username(e) => e.fmt(f),
            UsersFileError::Exists(name) => write!(f, "user {name:?} already exists"),
            UsersFileError::Missing(name) => write!(f, "there is no user {name:?}"),
        }
    }
}

impl std::error::Error for UsersFileError {}

/// A users file loaded for editing. Changes stay in memory until [`UsersFile::save`].
#[derive(Debug)]
pub struct UsersFile {
    path: PathBuf,
    users: BTreeMap<String, String>,
}

impl UsersFile {
    /// Loads `path`. A file that doesn't exist yet, or holds only whitespace, has no users. Hashes are
    /// not checked here (the server checks them when it loads the file), so `remove` can still take
    /// out a user whose hash was damaged by hand.
    pub fn open(path: &Path) -> Result<Self, UsersFileError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(UsersFileError::Read(path.into(), e)),
        };
        let users = if text.trim().is_empty() {
            BTreeMap::new()
        } else {
            parse_users_file(&text).map_err(|e| UsersFileError::Json(path.into(), e))?
        };
        Ok(UsersFile {
            path: path.into(),
            users,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The usernames, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.users.keys().map(String::as_str)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.users.contains_key(name)
    }

    pub fn len(&self) -> usize {
        self.users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Adds `name` with `hash`; an existing user is refused unless `replace` is true. Returns true if
    /// the user already existed (and was replaced).
    pub fn add(
        &mut self,
        name: &str,
        hash: PasswordHash,
        replace: bool,
    ) -> Result<bool, UsersFileError> {
        check_username(name).map_err(UsersFileError::Username)?;
        let existed = self.contains(name);
        if existed && !replace {
            return Err(UsersFileError::Exists(name.to_string()));
        }
        self.users.insert(name.to_string(), hash.0);
        Ok(existed)
    }

    /// Removes `name`; a name that isn't there is an error, so a typo doesn't pass for success.
    pub fn remove(&mut self, name: &str) -> Result<(), UsersFileError> {
        self.users
            .remove(name)
            .map(drop)
            .ok_or_else(|| UsersFileError::Missing(name.to_string()))
    }

    /// The file's text: a pretty JSON object, names sorted, ending in a newline.
    pub fn to_json(&self) -> String {
        // A map of strings always serializes.
        let mut text = serde_json::to_string_pretty(&self.users).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Writes the file atomically: a crash leaves the old file or the new one, never a broken one.
    pub fn save(&self) -> Result<(), UsersFileError> {
        atomic_file::replace(&self.path, self.to_json().as_bytes())
            .map_err(|e| UsersFileError::Write(self.path.clone(), e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::users::UserStore;

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("hyperjwt-usersfile-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn usernames_follow_the_stated_rule() {
        for good in [
            "alice",
            "a",
            "Zoë Smith",
            "bob@example.com",
            &"x".repeat(128),
        ] {
            assert_eq!(check_username(good), Ok(()), "{good:?}");
        }
        assert_eq!(check_username(""), Err(UsernameError::Empty));
        assert_eq!(
            check_username(&"x".repeat(129)),
            Err(UsernameError::TooLong(129))
        );
        // 43 three-byte characters: 129 bytes, though only 43 characters.
        assert_eq!(
            check_username(&"€".repeat(43)),
            Err(UsernameError::TooLong(129))
        );
        for bad in [
            "a\nb",
            "tab\there",
            "bell\u{7}",
            "del\u{7f}",
            "c1\u{85}",
            "nul\0",
        ] {
            assert_eq!(check_username(bad), Err(UsernameError::Control), "{bad:?}");
        }
        for bad in [" alice", "alice ", "\u{a0}alice"] {
            assert_eq!(
                check_username(bad),
                Err(UsernameError::Whitespace),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn passwords_must_be_1_to_72_bytes() {
        assert_eq!(check_new_password(""), Err(PasswordError::Empty));
        assert_eq!(check_new_password("x"), Ok(()));
        assert_eq!(check_new_password(&"x".repeat(72)), Ok(()));
        assert_eq!(
            check_new_password(&"x".repeat(73)),
            Err(PasswordError::TooLong(73))
        );
        // Bytes, not characters: 37 two-byte characters are 74 bytes.
        assert_eq!(
            check_new_password(&"é".repeat(37)),
            Err(PasswordError::TooLong(74))
        );
        assert!(matches!(
            hash_password(&"x".repeat(73), 4),
            Err(HashError::Password(PasswordError::TooLong(73)))
        ));
    }

    #[test]
    fn hashes_verify_at_the_requested_cost() {
        let hash = hash_password("correct horse", 4).unwrap();
        assert!(hash.as_str().starts_with("$2b$04$"), "{}", hash.as_str());
        assert!(bcrypt::verify("correct horse", hash.as_str()).unwrap());
        assert!(!bcrypt::verify("wrong horse", hash.as_str()).unwrap());
        // A 72-byte password is kept whole: its last byte matters.
        let long = "y".repeat(72);
        let hash = hash_password(&long, 4).unwrap();
        assert!(bcrypt::verify(&long, hash.as_str()).unwrap());
        assert!(!bcrypt::verify(format!("{}z", &long[..71]), hash.as_str()).unwrap());
    }

    #[test]
    fn add_remove_save_and_the_server_loads_the_result() {
        let dir = temp_dir("edit");
        let path = dir.join("users.json");
        let mut file = UsersFile::open(&path).unwrap();
        assert!(file.is_empty());
        let hash = |p: &str| hash_password(p, 4).unwrap();
        assert!(!file.add("carol", hash("pw-carol"), false).unwrap());
        assert!(!file.add("alice", hash("pw-alice"), false).unwrap());
        assert!(matches!(
            file.add("alice", hash("other"), false),
            Err(UsersFileError::Exists(name)) if name == "alice"
        ));
        assert!(matches!(
            file.add("bad\nname", hash("pw"), false),
            Err(UsersFileError::Username(UsernameError::Control))
        ));
        file.save().unwrap();

        let store = UserStore::load(&path).unwrap();
        assert!(store.check_password("alice", "pw-alice"));
        assert!(store.check_password("carol", "pw-carol"));

        let mut file = UsersFile::open(&path).unwrap();
        assert_eq!(file.names().collect::<Vec<_>>(), ["alice", "carol"]);
        assert!(file.add("alice", hash("new-alice"), true).unwrap());
        file.remove("carol").unwrap();
        assert!(matches!(
            file.remove("carol"),
            Err(UsersFileError::Missing(name)) if name == "carol"
        ));
        file.save().unwrap();
        let store = UserStore::load(&path).unwrap();
        assert!(store.check_password("alice", "new-alice"));
        assert!(!store.contains("carol"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("{\n  \"alice\": \"$2b$04$"), "{text}");
        assert!(text.ends_with("}\n"), "{text}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_broken_file_is_refused_and_left_alone() {
        let dir = temp_dir("broken");
        let path = dir.join("users.json");
        for body in ["{\"alice\": ", "[]", "{\"alice\": 7}"] {
            std::fs::write(&path, body).unwrap();
            assert!(
                matches!(UsersFile::open(&path), Err(UsersFileError::Json(..))),
                "{body}"
            );
            assert_eq!(std::fs::read_to_string(&path).unwrap(), body);
        }
        std::fs::write(&path, " \n").unwrap();
        assert!(UsersFile::open(&path).unwrap().is_empty());
        assert!(matches!(
            UsersFile::open(&dir),
            Err(UsersFileError::Read(..))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_stale_temporary_file_is_never_read() {
        let dir = temp_dir("stale");
        let path = dir.join("users.json");
        let mut file = UsersFile::open(&path).unwrap();
        file.add("alice", hash_password("pw", 4).unwrap(), false)
            .unwrap();
        file.save().unwrap();
        let stale = format!(r#"{{"mallory": "{}"}}"#, hash_password("x", 4).unwrap().0);
        std::fs::write(atomic_file::temp_path(&path), stale).unwrap();

        let mut file = UsersFile::open(&path).unwrap();
        assert_eq!(file.names().collect::<Vec<_>>(), ["alice"]);
        file.add("bob", hash_password("pw", 4).unwrap(), false)
            .unwrap();
        file.save().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("mallory"), "{text}");
        assert!(!atomic_file::temp_path(&path).exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
