//! The user store: usernames and their bcrypt hashes, and the password check.
//!
//! Users come from `USERS_FILE` (a JSON object `{"username": "$2b$12$..."}`) or, when none is given,
//! the original app's two demo users, whose hashes were computed in advance so start-up does no
//! hashing. bcrypt is deliberately slow (~0.25 s of CPU at cost 12), so [`UserStore::check_password`]
//! must run off the async workers: on the password-check threads (`crate::auth::password_checks`).
//!
//! The server holds its store in [`LiveUsers`], a pointer swapped whole when `USERS_FILE` is
//! reloaded (SIGHUP): a request sees the old users or the new ones, never a mix.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// bcrypt only reads the first 72 bytes of a password. Longer ones are refused rather than silently
/// cut, so two passwords that share a 72-byte prefix are never both accepted.
pub const MAX_PASSWORD_BYTES: usize = 72;

/// `user1` / `password1` and `user2` / `password2`, bcrypt cost 12 (the original app's demo users).
const DEMO_USERS: [(&str, &str); 2] = [
    (
        "user1",
        "$2b$12$Zo4Gx8PbU2S7jfIBcCNwNupZ8UdpBejDK6e5Cy.5QbfHYqtIcVVVC",
    ),
    (
        "user2",
        "$2b$12$hMvI.VHEZ9QL3OtGVTgoSuaCvmXA0UN8Nut/bnFJLGh8oI3gJu9Jy",
    ),
];

/// A cost-12 hash of a random string nobody knows. An unknown username is checked against it so that
/// it costs the same bcrypt work as a wrong password: timing doesn't reveal which names exist.
const DUMMY_HASH_COST_12: &str = "$2b$12$ZavEWFs6SWy675aOBWvJ.OIIMMuNhEU2ueC1Dg59DCWZtWlC/G1HW";

/// The users file's format, read in this one place for the server and the tools: a JSON object of
/// username → bcrypt hash, each username once. The hashes are not checked here.
///
/// A name listed twice is refused rather than read as the last entry (serde's maps keep the last
/// one silently): which of two hashes a user has must not be an accident of the file's order, and a
/// reload that picked another would end that user's sessions.
pub fn parse_users_file(text: &str) -> Result<BTreeMap<String, String>, serde_json::Error> {
    serde_json::from_str::<UniqueNames>(text).map(|names| names.0)
}

/// A JSON object whose member names are unique: the users file's shape.
struct UniqueNames(BTreeMap<String, String>);

impl<'de> serde::Deserialize<'de> for UniqueNames {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(UniqueNamesVisitor)
    }
}

struct UniqueNamesVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueNamesVisitor {
    type Value = UniqueNames;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object of username -> bcrypt hash")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<UniqueNames, A::Error> {
        let mut names = BTreeMap::new();
        while let Some((name, hash)) = map.next_entry::<String, String>()? {
            if names.contains_key(&name) {
                // Debug escapes control characters: the name can't forge a log line.
                return Err(serde::de::Error::custom(format!(
                    "the username {name:?} is listed twice"
                )));
            }
            names.insert(name, hash);
        }
        Ok(UniqueNames(names))
    }
}

/// Why a users file could not be loaded.
#[derive(Debug)]
pub enum UsersError {
    Read(PathBuf, std::io::Error),
    Json(PathBuf, serde_json::Error),
    BadHash { path: PathBuf, user: String },
    Empty(PathBuf),
}

impl fmt::Display for UsersError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsersError::Read(path, e) => write!(f, "cannot read {}: {e}", path.display()),
            UsersError::Json(path, e) => write!(
                f,
                "{} is not a JSON object of username -> bcrypt hash: {e}",
                path.display()
            ),
            UsersError::BadHash { path, user } => write!(
                f,
                "{}: the hash for {user:?} is not a bcrypt hash ($2b$...)",
                path.display()
            ),
            UsersError::Empty(path) => write!(f, "{} has no users", path.display()),
        }
    }
}

impl std::error::Error for UsersError {}

/// Known users and how to check their passwords.
#[derive(Debug)]
pub struct UserStore {
    hashes: HashMap<String, String>,
    dummy_hash: String,
    is_demo: bool,
}

impl UserStore {
    /// The two built-in demo users. For trying the API, never for production.
    pub fn demo() -> Self {
        UserStore {
            hashes: DEMO_USERS
                .iter()
                .map(|(name, hash)| (name.to_string(), hash.to_string()))
                .collect(),
            dummy_hash: DUMMY_HASH_COST_12.to_string(),
            is_demo: true,
        }
    }

    /// Loads a users file: a JSON object mapping each username to its bcrypt hash.
    pub fn load(path: &Path) -> Result<Self, UsersError> {
        let text = std::fs::read_to_string(path).map_err(|e| UsersError::Read(path.into(), e))?;
        let hashes: HashMap<String, String> = parse_users_file(&text)
            .map_err(|e| UsersError::Json(path.into(), e))?
            .into_iter()
            .collect();
        if hashes.is_empty() {
            return Err(UsersError::Empty(path.into()));
        }
        let mut highest_cost = 0;
        for (user, hash) in &hashes {
            let cost = bcrypt_cost(hash).ok_or_else(|| UsersError::BadHash {
                path: path.into(),
                user: user.clone(),
            })?;
            highest_cost = highest_cost.max(cost);
        }
        // The dummy hash must cost what a real one costs, or unknown names would answer faster.
        let dummy_hash = if highest_cost == 12 {
            DUMMY_HASH_COST_12.to_string()
        } else {
            let mut random = [0u8; 16];
            ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random)
                .map_err(|_| UsersError::Empty(path.into()))?;
            bcrypt::hash(random, highest_cost).map_err(|_| UsersError::BadHash {
                path: path.into(),
                user: "(dummy)".into(),
            })?
        };
        Ok(UserStore {
            hashes,
            dummy_hash,
            is_demo: false,
        })
    }

    /// True when serving the built-in demo users (start-up warns about it).
    pub fn is_demo(&self) -> bool {
        self.is_demo
    }

    pub fn contains(&self, username: &str) -> bool {
        self.hashes.contains_key(username)
    }

    /// The user's bcrypt hash, to tell a changed password on reload.
    pub fn hash(&self, username: &str) -> Option<&str> {
        self.hashes.get(username).map(String::as_str)
    }

    /// Every username, in no particular order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.hashes.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// Checks a username and password with exactly one bcrypt verification, whether or not the user
    /// exists. Blocking and slow by design: call it off the async workers
    /// (`crate::auth::password_checks` does).
    pub fn check_password(&self, username: &str, password: &str) -> bool {
        let (hash, known) = match self.hashes.get(username) {
            Some(hash) => (hash.as_str(), true),
            None => (self.dummy_hash.as_str(), false),
        };
        if password.len() > MAX_PASSWORD_BYTES {
            // Never equal to a stored password (those are <= 72 bytes); still pay the bcrypt cost so
            // this answer takes as long as any other refusal.
            let _ = bcrypt::verify(&password.as_bytes()[..MAX_PASSWORD_BYTES], hash);
            return false;
        }
        // `bcrypt::verify` compares the computed and stored hashes in constant time.
        let matches = bcrypt::verify(password, hash).unwrap_or(false);
        known && matches
    }
}

/// The user store being served: one `Arc` behind a lock held only to clone or swap the pointer,
/// so the per-request [`LiveUsers::contains`] is a shared lock and one hash probe, and a reload
/// replaces every user at once.
#[derive(Debug)]
pub struct LiveUsers(RwLock<Arc<UserStore>>);

impl LiveUsers {
    pub fn new(store: UserStore) -> Self {
        LiveUsers(RwLock::new(Arc::new(store)))
    }

    /// The store now; a login keeps it for its password check.
    pub fn current(&self) -> Arc<UserStore> {
        // A poisoned lock only means a thread panicked while holding it; the pointer is intact.
        Arc::clone(&self.0.read().unwrap_or_else(|e| e.into_inner()))
    }

    pub fn contains(&self, username: &str) -> bool {
        self.0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains(username)
    }

    /// Serves `store` from now on; returns the one it replaces.
    pub fn replace(&self, store: UserStore) -> Arc<UserStore> {
        let mut slot = self.0.write().unwrap_or_else(|e| e.into_inner());
        std::mem::replace(&mut *slot, Arc::new(store))
    }
}

/// The cost field of a modular-crypt bcrypt hash (`$2b$12$...`), if the hash is well formed.
fn bcrypt_cost(hash: &str) -> Option<u32> {
    let parts = hash.parse::<bcrypt::HashParts>().ok()?;
    Some(parts.get_cost())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_users_have_their_documented_passwords() {
        let store = UserStore::demo();
        assert!(store.is_demo());
        assert!(store.check_password("user1", "password1"));
        assert!(store.check_password("user2", "password2"));
    }

    #[test]
    fn wrong_password_unknown_user_and_crossed_passwords_fail() {
        let store = UserStore::demo();
        assert!(!store.check_password("user1", "nope"));
        assert!(!store.check_password("user1", "password2"));
        assert!(!store.check_password("mallory", "password1"));
        assert!(!store.check_password("", ""));
    }

    #[test]
    fn embedded_hashes_are_cost_12() {
        for (_, hash) in DEMO_USERS {
            assert_eq!(bcrypt_cost(hash), Some(12));
        }
        assert_eq!(bcrypt_cost(DUMMY_HASH_COST_12), Some(12));
    }

    #[test]
    fn passwords_past_72_bytes_are_refused_not_truncated() {
        let dir = std::env::temp_dir().join(format!("hyperjwt-users-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("long.json");
        let long = "x".repeat(72);
        let hash = bcrypt::hash(&long, 4).unwrap();
        std::fs::write(&path, format!(r#"{{"alice": "{hash}"}}"#)).unwrap();
        let store = UserStore::load(&path).unwrap();
        assert!(store.check_password("alice", &long));
        assert!(!store.check_password("alice", &format!("{long}y")));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn load_reports_bad_files() {
        let dir = std::env::temp_dir().join(format!("hyperjwt-users-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cases = [
            ("notjson.json", "{", "not a JSON object"),
            ("array.json", "[]", "not a JSON object"),
            ("empty.json", "{}", "no users"),
            (
                "badhash.json",
                r#"{"bob": "plaintext"}"#,
                "not a bcrypt hash",
            ),
        ];
        let hash = "$2b$04$abcdefghijklmnopqrstuuAbCdEfGhIjKlMnOpQrStUvWxYz01234";
        let twice =
            format!("{{\"alice\": \"{hash}\",\n \"bob\": \"{hash}\",\n \"alice\": \"{hash}\"}}");
        let cases = cases
            .into_iter()
            .map(|(name, body, expected)| (name, body.to_string(), expected))
            .chain([(
                "twice.json",
                twice,
                "the username \"alice\" is listed twice at line 3",
            )]);
        for (name, body, expected) in cases {
            let path = dir.join(name);
            std::fs::write(&path, body).unwrap();
            let err = UserStore::load(&path).unwrap_err().to_string();
            assert!(err.contains(expected), "{name}: {err}");
        }
        let missing = UserStore::load(&dir.join("missing.json")).unwrap_err();
        assert!(matches!(missing, UsersError::Read(..)));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn loaded_store_with_other_cost_gets_a_matching_dummy_hash() {
        let dir = std::env::temp_dir().join(format!("hyperjwt-users-cost-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("users.json");
        let hash = bcrypt::hash("pw", 4).unwrap();
        std::fs::write(&path, format!(r#"{{"carol": "{hash}"}}"#)).unwrap();
        let store = UserStore::load(&path).unwrap();
        assert!(!store.is_demo());
        assert_eq!(bcrypt_cost(&store.dummy_hash), Some(4));
        assert!(store.check_password("carol", "pw"));
        assert!(!store.check_password("dave", "pw"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
