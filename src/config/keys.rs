//! The settings of public-key signing (docs/jwt.md §11, docs/http.md §5): `JWT_ALGORITHM`,
//! `JWT_KEYS_DIR`, `JWKS_MAX_AGE`, `JWT_VERIFIED_CACHE_SIZE`, and the clients of `POST /introspect`
//! (`INTROSPECTION_CLIENTS`, `INTROSPECTION_CLIENTS_FILE`). HS256, the default, needs none of them.

use std::path::PathBuf;
use std::time::Duration;

use super::kinds::{ConfigError, Secret};
use super::values::{parse_number, seconds};
use crate::jwt::Algorithm;

/// Shortest introspection client secret accepted: 128 bits written as text.
pub const MIN_CLIENT_SECRET_LEN: usize = 16;

/// How tokens are signed and published, and who may introspect them.
#[derive(Debug, Clone)]
pub struct KeySettings {
    /// What new tokens are signed with (`JWT_ALGORITHM`): HS256 (the default, with
    /// `JWT_SECRET_KEY`), or EdDSA, ES256 or RS256 with the key set in [`KeySettings::keys_dir`].
    pub algorithm: Algorithm,
    /// The key set's directory (`JWT_KEYS_DIR`), required by a public-key algorithm.
    pub keys_dir: Option<PathBuf>,
    /// How long verifiers may cache `/.well-known/jwks.json` (`JWKS_MAX_AGE`, seconds), and so how
    /// long a `next` key is published before `hyperjwt keys rotate` lets it sign.
    pub jwks_max_age: Duration,
    /// Most tokens remembered as verified (`JWT_VERIFIED_CACHE_SIZE`; 0 remembers none).
    pub verified_cache: usize,
    /// Who may call `POST /introspect`: client id and secret (HTTP Basic, RFC 7662 §2.1). Empty:
    /// the endpoint refuses everyone.
    pub introspection_clients: Vec<(String, Secret)>,
}

pub(super) fn parse(get: &impl Fn(&str) -> Option<String>) -> Result<KeySettings, ConfigError> {
    let algorithm = match get("JWT_ALGORITHM") {
        None => Algorithm::Hs256,
        Some(name) => Algorithm::from_name(name.trim()).ok_or_else(|| ConfigError {
            key: "JWT_ALGORITHM",
            problem: format!("{name:?} is not one of HS256, EdDSA (or Ed25519), ES256, RS256"),
        })?,
    };
    if algorithm != Algorithm::Hs256 && !cfg!(feature = "public-keys") {
        return Err(ConfigError {
            key: "JWT_ALGORITHM",
            problem: format!(
                "{algorithm}: this binary was built without public-key support; build it with \
                 `cargo build --release --features public-keys`"
            ),
        });
    }
    let keys_dir = get("JWT_KEYS_DIR").map(PathBuf::from);
    match (algorithm, &keys_dir) {
        (Algorithm::Hs256, Some(_)) => {
            return Err(ConfigError {
                key: "JWT_KEYS_DIR",
                problem: "is set, but JWT_ALGORITHM is HS256 (the default), which signs with \
                          JWT_SECRET_KEY: set JWT_ALGORITHM=EdDSA, ES256 or RS256, or unset \
                          JWT_KEYS_DIR"
                    .into(),
            });
        }
        (Algorithm::Hs256, None) | (_, Some(_)) => {}
        (_, None) => {
            return Err(ConfigError {
                key: "JWT_KEYS_DIR",
                problem: format!(
                    "not set: JWT_ALGORITHM={algorithm} signs with a key set kept in a \
                     directory; make one with: hyperjwt keys rotate (docs/jwt.md §11)"
                ),
            });
        }
    }
    let mut introspection_clients = Vec::new();
    if let Some(list) = get("INTROSPECTION_CLIENTS") {
        for entry in list.split(',').filter(|e| !e.trim().is_empty()) {
            add_client(
                &mut introspection_clients,
                "INTROSPECTION_CLIENTS",
                entry.trim(),
            )?;
        }
    }
    if let Some(path) = get("INTROSPECTION_CLIENTS_FILE") {
        let key = "INTROSPECTION_CLIENTS_FILE";
        let text = std::fs::read_to_string(path.trim()).map_err(|e| ConfigError {
            key,
            problem: format!("cannot read {path:?}: {e}"),
        })?;
        for line in text.lines().map(str::trim) {
            if !line.is_empty() && !line.starts_with('#') {
                add_client(&mut introspection_clients, key, line)?;
            }
        }
    }
    Ok(KeySettings {
        algorithm,
        keys_dir,
        jwks_max_age: seconds("JWKS_MAX_AGE", get("JWKS_MAX_AGE"), 300)?,
        verified_cache: parse_number(
            "JWT_VERIFIED_CACHE_SIZE",
            get("JWT_VERIFIED_CACHE_SIZE"),
            10_000,
        )?,
        introspection_clients,
    })
}

/// Adds the `id:secret` pair `entry` to `clients`, refusing an id given before (in either setting):
/// two secrets for one client would leave one of them silently unused.
fn add_client(
    clients: &mut Vec<(String, Secret)>,
    key: &'static str,
    entry: &str,
) -> Result<(), ConfigError> {
    let (id, secret) = client(key, entry)?;
    if clients.iter().any(|(known, _)| *known == id) {
        return Err(ConfigError {
            key,
            problem: format!(
                "the client id {id:?} is given more than once (INTROSPECTION_CLIENTS and \
                 INTROSPECTION_CLIENTS_FILE together name each client once)"
            ),
        });
    }
    clients.push((id, secret));
    Ok(())
}

/// One `id:secret` pair. The error never repeats the secret.
fn client(key: &'static str, entry: &str) -> Result<(String, Secret), ConfigError> {
    let problem = |problem: String| ConfigError { key, problem };
    let (id, secret) = entry
        .split_once(':')
        .ok_or_else(|| problem("each client is id:secret".into()))?;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(problem(format!(
            "the client id {id:?} must be visible ASCII, without ':'"
        )));
    }
    if secret.len() < MIN_CLIENT_SECRET_LEN {
        return Err(problem(format!(
            "the secret of client {id:?} is {} bytes; use at least {MIN_CLIENT_SECRET_LEN} \
             (hyperjwt gen-secret makes one)",
            secret.len()
        )));
    }
    Ok((id.to_string(), Secret::new(secret.as_bytes())))
}
