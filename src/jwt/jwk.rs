//! JSON Web Keys (RFC 7517): a public key as JSON, and a set of them (a JWKS), which the server
//! publishes at `/.well-known/jwks.json` so other services verify its tokens without any secret.
//!
//! A JWK has the members that define the key (RFC 7518 §6, RFC 8037 §2: `kty`, `crv`, `x`, `y`,
//! `n`, `e`), then `kid` (its RFC 7638 thumbprint), `alg` (its one algorithm, so a verifier never
//! tries it with another; RFC 7517 §4.4) and `use: "sig"`. Never a private member (`d`, `p`, ...),
//! and never an HS256 secret: that key signs as well as verifies.

use serde_json::{Map, Value};

use super::algorithm::Algorithm;
use super::asymmetric::{KeyError, PublicKey};
use super::keys::{Key, KeySource, choose};
use super::{JwtError, b64};

/// The JWK of `key`, as JSON.
pub fn to_jwk(key: &PublicKey) -> Value {
    let mut jwk = Map::new();
    for (name, value) in key.required_members() {
        jwk.insert(name.into(), value.into());
    }
    jwk.insert("kid".into(), key.kid().into());
    jwk.insert("alg".into(), key.alg().name().into());
    jwk.insert("use".into(), "sig".into());
    Value::Object(jwk)
}

/// A JWKS document, `{"keys":[...]}`, of `keys` in the order given.
pub fn to_jwks<'k>(keys: impl IntoIterator<Item = &'k PublicKey>) -> String {
    let keys: Vec<Value> = keys.into_iter().map(to_jwk).collect();
    serde_json::json!({ "keys": keys }).to_string()
}

/// The public key a JWK describes. Its `kid` is the JWK's, or the thumbprint when it has none; an
/// `alg` it names must be its key type's.
pub fn from_jwk(jwk: &Value) -> Result<PublicKey, KeyError> {
    let member = |name: &str| jwk.get(name).and_then(Value::as_str);
    let bytes = |name: &str| {
        member(name)
            .ok_or_else(|| KeyError::Public(format!("no \"{name}\"")))
            .and_then(|text| {
                b64::decode(text)
                    .map_err(|_| KeyError::Public(format!("\"{name}\" is not base64url")))
            })
    };
    let key = match (member("kty"), member("crv")) {
        (Some("OKP"), Some("Ed25519")) => PublicKey::ed25519(&bytes("x")?)?,
        (Some("EC"), Some("P-256")) => PublicKey::p256(&bytes("x")?, &bytes("y")?)?,
        (Some("RSA"), _) => PublicKey::rsa(&bytes("n")?, &bytes("e")?)?,
        (kty, crv) => {
            return Err(KeyError::Public(format!(
                "kty {kty:?} crv {crv:?}: not Ed25519, P-256 or RSA"
            )));
        }
    };
    if let Some(alg) = member("alg") {
        if Algorithm::from_name(alg) != Some(key.alg()) {
            return Err(KeyError::Public(format!(
                "\"alg\": {alg:?} is not the key's algorithm, {}",
                key.alg()
            )));
        }
    }
    Ok(match member("kid") {
        Some(kid) => key.named(kid),
        None => key,
    })
}

/// A set of public keys read from a JWKS document: what `token inspect --jwks` verifies with, as
/// any other service would.
#[derive(Debug)]
pub struct JwkSet {
    pub keys: Vec<PublicKey>,
}

impl JwkSet {
    /// Reads `{"keys":[...]}`. Keys for encryption (`"use":"enc"`) are left out; any other key this
    /// module can't use is an error naming it.
    pub fn parse(json: &[u8]) -> Result<Self, KeyError> {
        let document: Value =
            serde_json::from_slice(json).map_err(|e| KeyError::Public(format!("not JSON: {e}")))?;
        let list = document
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| KeyError::Public("no \"keys\" array".into()))?;
        let mut keys = Vec::new();
        for (i, jwk) in list.iter().enumerate() {
            if jwk.get("use").and_then(Value::as_str) == Some("enc") {
                continue;
            }
            keys.push(from_jwk(jwk).map_err(|e| KeyError::Public(format!("keys[{i}]: {e}")))?);
        }
        Ok(JwkSet { keys })
    }
}

impl KeySource for JwkSet {
    fn accepts(&self, alg: Algorithm) -> bool {
        self.keys.iter().any(|key| key.alg() == alg)
    }

    fn key_for(&self, alg: Algorithm, kid: Option<&str>) -> Result<Key<'_>, JwtError> {
        choose(self.keys.iter().map(Key::Public), alg, kid)
    }

    fn key_with_header(&self, _encoded_header: &str) -> Option<Key<'_>> {
        None
    }
}

#[cfg(all(test, feature = "public-keys"))]
mod tests {
    use super::*;
    use crate::jwt::asymmetric::PrivateKey;

    #[test]
    fn a_jwk_has_the_public_members_kid_alg_and_use_and_reads_back() {
        for alg in [Algorithm::EdDsa, Algorithm::Es256] {
            let (key, _) = PrivateKey::generate(alg).unwrap();
            let jwk = to_jwk(key.public());
            assert_eq!(jwk["kid"], key.kid());
            assert_eq!(jwk["alg"], alg.name());
            assert_eq!(jwk["use"], "sig");
            assert!(jwk.get("d").is_none(), "no private member");
            assert_eq!(&from_jwk(&jwk).unwrap(), key.public());
        }
    }

    #[test]
    fn a_jwks_reads_back_and_chooses_by_kid_and_alg() {
        let (ed, _) = PrivateKey::generate(Algorithm::EdDsa).unwrap();
        let (ec, _) = PrivateKey::generate(Algorithm::Es256).unwrap();
        let set = JwkSet::parse(to_jwks([ed.public(), ec.public()]).as_bytes()).unwrap();
        assert_eq!(set.keys.len(), 2);
        let chosen = set.key_for(Algorithm::Es256, Some(ec.kid())).unwrap();
        assert_eq!(chosen.kid(), ec.kid());
        // The kid of an ES256 key with alg EdDSA: refused, whatever the kid says.
        assert_eq!(
            set.key_for(Algorithm::EdDsa, Some(ec.kid())).err(),
            Some(JwtError::Algorithm)
        );
        assert_eq!(
            set.key_for(Algorithm::EdDsa, Some("unknown")).err(),
            Some(JwtError::Key)
        );
        // Without a kid, the one key of the algorithm.
        assert_eq!(set.key_for(Algorithm::EdDsa, None).unwrap().kid(), ed.kid());
        assert!(!set.accepts(Algorithm::Hs256));
    }

    #[test]
    fn refuses_a_jwk_whose_alg_is_not_its_keys() {
        let (ed, _) = PrivateKey::generate(Algorithm::EdDsa).unwrap();
        let mut jwk = to_jwk(ed.public());
        jwk["alg"] = "ES256".into();
        assert!(from_jwk(&jwk).is_err());
        jwk["alg"] = "Ed25519".into();
        assert!(from_jwk(&jwk).is_ok());
        assert!(from_jwk(&serde_json::json!({"kty": "oct", "k": "AAAA"})).is_err());
        assert!(JwkSet::parse(b"{}").is_err());
    }
}
