//! Token introspection (RFC 7662) without HTTP: who may ask ([`Clients`], with their secrets
//! compared in constant time), and the answer for a token ([`introspect`]): the same checks as a
//! protected route, signature, claims and every kind of revocation, so a service that asks learns
//! what this server would decide now, logouts and ended sessions included.
//!
//! Inactive, unknown, expired, revoked and malformed tokens all get the one answer `{"active":
//! false}` (RFC 7662 §2.2: "the authorization server SHOULD NOT include any additional
//! information"): a client learns nothing about why, so the endpoint is no oracle for forging.

use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

use super::sessions;
use super::tokens::Tokens;
use crate::config::Secret;
use crate::jwt::{Claims, TokenType};
use crate::store::denylist::Denylist;
use crate::store::users::LiveUsers;

/// The clients allowed to introspect (`INTROSPECTION_CLIENTS`, `INTROSPECTION_CLIENTS_FILE`).
///
/// Each secret is kept as its HMAC under a key made at start-up, and a presented secret is checked
/// with `ring::hmac::verify`, which compares in constant time: how long the check takes says
/// nothing of how much of a guess was right, nor of the secret's length.
///
/// An unknown client id costs the same HMAC, checked against a tag no secret has, so the time of a
/// refusal does not say which ids exist.
pub struct Clients {
    key: hmac::Key,
    clients: Vec<(String, hmac::Tag)>,
    /// What an unknown id's secret is checked against: the tag of random bytes nobody has.
    nobody: hmac::Tag,
}

impl Clients {
    pub fn new(clients: &[(String, Secret)]) -> Self {
        // A key nobody knows, so the tags say nothing of the secrets; failing that, a fixed one
        // (the comparison stays constant-time either way).
        let rng = SystemRandom::new();
        let key = hmac::Key::generate(hmac::HMAC_SHA256, &rng)
            .unwrap_or_else(|_| hmac::Key::new(hmac::HMAC_SHA256, b"hyperjwt introspection"));
        let clients = clients
            .iter()
            .map(|(id, secret)| (id.clone(), hmac::sign(&key, secret.as_bytes())))
            .collect();
        // Without randomness the bytes stay zero; an unknown id is refused either way.
        let mut unguessable = [0u8; 32];
        let _ = rng.fill(&mut unguessable);
        let nobody = hmac::sign(&key, &unguessable);
        Clients {
            key,
            clients,
            nobody,
        }
    }

    /// True if `id` is a client and `secret` is its secret. Client ids are not secret; secrets are.
    /// The secret is checked whether or not the id is known (type docs).
    pub fn authenticate(&self, id: &str, secret: &[u8]) -> bool {
        let (tag, known) = self.tag_of(id);
        let verified = hmac::verify(&self.key, secret, tag.as_ref()).is_ok();
        verified && known
    }

    /// The tag to check `id`'s secret against, and whether `id` is a client: for an unknown id,
    /// the tag of no secret.
    fn tag_of(&self, id: &str) -> (&hmac::Tag, bool) {
        match self.clients.iter().find(|(known, _)| known == id) {
            Some((_, tag)) => (tag, true),
            None => (&self.nobody, false),
        }
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }
}

impl std::fmt::Debug for Clients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.clients.iter().map(|(id, _)| id.as_str()).collect();
        write!(f, "Clients({ids:?})")
    }
}

/// An active token's members (RFC 7662 §2.2), as the answer shows them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Active {
    pub active: bool,
    pub sub: String,
    /// RFC 7662's human-readable name: our subject is the username.
    pub username: String,
    /// `access_token` or `refresh_token`: the vocabulary of `token_type_hint` (RFC 7009 §2.1).
    pub token_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    pub jti: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<crate::jwt::Audience>,
}

/// The answer for `token`: `Some` if this server would accept it now (either type), signature,
/// claims, revocation, session and user all checked; `None` otherwise, whatever the reason.
pub fn introspect(
    tokens: &Tokens,
    denylist: &Denylist,
    users: &LiveUsers,
    token: &str,
) -> Option<Active> {
    let claims = tokens.verify(token, None).ok()?;
    if sessions::ended(denylist, &claims).is_some() || !users.contains(&claims.sub) {
        return None;
    }
    Some(active(claims))
}

fn active(claims: Claims<'static>) -> Active {
    Active {
        active: true,
        username: claims.sub.to_string(),
        sub: claims.sub.into_owned(),
        token_type: match claims.token_type {
            TokenType::Access => "access_token",
            TokenType::Refresh => "refresh_token",
        },
        exp: claims.exp,
        iat: claims.iat,
        nbf: claims.nbf,
        jti: claims.jti.into_owned(),
        iss: claims.iss.map(|iss| iss.into_owned()),
        aud: claims.aud,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_needs_its_own_secret() {
        let clients = Clients::new(&[
            ("gateway".into(), Secret::new("a-secret-of-16-bytes")),
            ("api".into(), Secret::new("another-secret-16b")),
        ]);
        assert!(clients.authenticate("gateway", b"a-secret-of-16-bytes"));
        assert!(!clients.authenticate("gateway", b"another-secret-16b"));
        assert!(!clients.authenticate("gateway", b"a-secret-of-16-byte"));
        assert!(!clients.authenticate("nobody", b"a-secret-of-16-bytes"));
        assert!(!clients.authenticate("", b""));
        assert!(Clients::new(&[]).is_empty());
        assert!(!format!("{clients:?}").contains("secret-of"));
    }

    #[test]
    fn an_unknown_client_costs_the_same_check_as_a_known_one() {
        let clients = Clients::new(&[("gateway".into(), Secret::new("a-secret-of-16-bytes"))]);
        // An unknown id still gets a tag to check the secret against (no early return), and it is
        // no client's.
        let (tag, known) = clients.tag_of("nobody");
        assert!(!known);
        assert_ne!(tag.as_ref(), clients.tag_of("gateway").0.as_ref());
        assert!(hmac::verify(&clients.key, b"a-secret-of-16-bytes", tag.as_ref()).is_err());
        assert!(hmac::verify(&clients.key, &[0u8; 32], tag.as_ref()).is_err());
    }
}
