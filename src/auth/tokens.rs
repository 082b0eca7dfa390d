//! Issuing and checking this server's tokens: the bridge between the configuration and the pure
//! [`jwt`] module. Holds the prepared keys (made once, never per request: the current
//! signing key and any previous keys still accepted; or, with `JWT_KEYS_DIR`, the public-key set,
//! [`PublicKeys`], which SIGHUP rereads), the lifetimes, the validation rules, and
//! whether new tokens carry a `csrf` claim (when they may travel in cookies, docs/cookies.md).

use ring::rand::{SecureRandom, SystemRandom};

use std::sync::Arc;

use super::keys::{KeysError, PublicKeys, Published};
use super::sessions;
use crate::bytes::uuid_text;
use crate::config::Config;
use std::borrow::Cow;

use crate::jwt::b64::DecodeBuf;
use crate::jwt::{self, Audience, Claims, JwtError, KeyRing, TokenType, Validation};

pub use super::sessions::RandomUnavailable;

#[derive(Debug)]
pub struct Tokens {
    keys: KeyRing,
    /// With `JWT_KEYS_DIR`: the key set that signs and verifies instead of `keys` (feature
    /// `public-keys`; without it the server never holds one, and none of its code is linked).
    #[cfg(feature = "public-keys")]
    public: Option<PublicKeys>,
    validation: Validation,
    access_ttl: i64,
    refresh_ttl: i64,
    max_token_len: usize,
    /// Write a `csrf` claim into every new token: cookies are a token location and
    /// `JWT_COOKIE_CSRF_PROTECT` is on.
    csrf_claims: bool,
    rng: SystemRandom,
}

/// A token just signed, and its `csrf` claim (for the readable CSRF cookie) when it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    pub token: String,
    pub csrf: Option<String>,
}

impl Tokens {
    /// The tokens `config` describes, reading its key set (`JWT_KEYS_DIR`) if it names one.
    pub fn from_config(config: &Config) -> Result<Self, KeysError> {
        #[cfg(feature = "public-keys")]
        return Ok(Tokens {
            public: PublicKeys::from_config(config)?,
            ..Self::new(config)
        });
        #[cfg(not(feature = "public-keys"))]
        return PublicKeys::from_config(config).map(|_| Self::new(config));
    }

    /// The tokens of `config`'s HS256 keys only (`JWT_SECRET_KEY`), whatever `JWT_ALGORITHM` says:
    /// for HS256 configurations, tools and tests; [`Tokens::from_config`] reads a key set.
    pub fn new(config: &Config) -> Self {
        let secs = |d: std::time::Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        Tokens {
            keys: config.key_ring(),
            #[cfg(feature = "public-keys")]
            public: None,
            validation: config.validation(),
            access_ttl: secs(config.access_token_ttl),
            refresh_ttl: secs(config.refresh_token_ttl),
            max_token_len: config.max_token_bytes,
            csrf_claims: config.token_location.cookies && config.cookies.csrf_protect,
            rng: SystemRandom::new(),
        }
    }

    /// The claims for a new token for `sub`, issued at `now`, outside any session (no `fam`).
    pub fn claims<'a>(
        &'a self,
        sub: &'a str,
        token_type: TokenType,
        fresh: bool,
        now: i64,
    ) -> Result<Claims<'a>, RandomUnavailable> {
        let ttl = match token_type {
            TokenType::Access => self.access_ttl,
            TokenType::Refresh => self.refresh_ttl,
        };
        Ok(Claims {
            sub: Cow::Borrowed(sub),
            iat: Some(now),
            nbf: Some(now),
            exp: Some(now.saturating_add(ttl)),
            jti: Cow::Owned(new_uuid_v4(&self.rng)?),
            token_type,
            fresh,
            iss: self.validation.issuer.as_deref().map(Cow::Borrowed),
            aud: self.validation.audience.clone().map(Audience::One),
            fam: None,
            csrf: if self.csrf_claims {
                Some(Cow::Owned(new_uuid_v4(&self.rng)?))
            } else {
                None
            },
        })
    }

    /// Signs a new token for `sub`, valid from now, outside any session: a session of its own (the
    /// tools' tokens, and tests).
    pub fn issue(
        &self,
        sub: &str,
        token_type: TokenType,
        fresh: bool,
    ) -> Result<String, RandomUnavailable> {
        let claims = self.claims(sub, token_type, fresh, jwt::now())?;
        self.sign(&claims)
    }

    /// Signs `claims` with the active key: the key set's, or `JWT_SECRET_KEY`.
    fn sign(&self, claims: &Claims) -> Result<String, RandomUnavailable> {
        #[cfg(feature = "public-keys")]
        if let Some(public) = &self.public {
            return jwt::sign_with(public.current().set.signing_key(), claims)
                .map_err(|_| RandomUnavailable);
        }
        Ok(jwt::sign(&self.keys.current, claims))
    }

    /// Signs a new token for `sub` in the session `fam` (its `fam` claim), valid from now.
    pub fn issue_in(
        &self,
        sub: &str,
        token_type: TokenType,
        fresh: bool,
        fam: &str,
    ) -> Result<Issued, RandomUnavailable> {
        let mut claims = self.claims(sub, token_type, fresh, jwt::now())?;
        claims.fam = Some(Cow::Borrowed(fam));
        Ok(Issued {
            token: self.sign(&claims)?,
            csrf: claims.csrf.map(Cow::into_owned),
        })
    }

    /// A new session id starting at `start_ms` ([`sessions::new_family`]).
    pub fn new_family(&self, start_ms: i64) -> Result<String, RandomUnavailable> {
        sessions::new_family(&self.rng, start_ms)
    }

    /// How long (seconds) a session can outlive the moment it was ended: no token issued up to then
    /// (any type, plus the leeway, plus one second for a refresh in flight across a second's
    /// boundary) is accepted past it. Family and cutoff entries are kept this long, then forgotten.
    pub fn session_lifetime(&self) -> i64 {
        let leeway = i64::try_from(self.validation.leeway).unwrap_or(i64::MAX);
        self.access_ttl
            .max(self.refresh_ttl)
            .saturating_add(leeway)
            .saturating_add(1)
    }

    /// The JWS layer for `token`: structure, header and signature under one of our keys. Returns the
    /// proven payload bytes, decoded into `payload_buf`, which [`Tokens::check_claims`] reads.
    pub fn verify_signature<'b>(
        &self,
        token: &str,
        payload_buf: &'b mut DecodeBuf,
    ) -> Result<&'b [u8], JwtError> {
        #[cfg(feature = "public-keys")]
        if let Some(public) = &self.public {
            let published = public.current();
            return jwt::verify_signature(&published.set, token, self.max_token_len, payload_buf);
        }
        jwt::verify_signature(&self.keys, token, self.max_token_len, payload_buf)
    }

    /// The JWT layer: parses a proven payload and checks its claims for use as `expected` (or either
    /// type, with `None`), now. The claims borrow from `payload`. Revocation is checked by the
    /// caller, which holds the denylist.
    pub fn check_claims<'p>(
        &self,
        payload: &'p [u8],
        expected: impl Into<Option<TokenType>>,
    ) -> Result<Claims<'p>, JwtError> {
        let claims = Claims::parse(payload)?;
        self.validation.check(&claims, expected, jwt::now())?;
        Ok(claims)
    }

    /// Both layers, returning owned claims: for the cold paths (a refresh token named in a logout
    /// body) and tests.
    pub fn verify(
        &self,
        token: &str,
        expected: impl Into<Option<TokenType>>,
    ) -> Result<Claims<'static>, JwtError> {
        let mut payload_buf = DecodeBuf::new();
        let payload = self.verify_signature(token, &mut payload_buf)?;
        Ok(self.check_claims(payload, expected)?.into_owned())
    }

    /// The key set and its JWKS, with `JWT_KEYS_DIR`; `None` with HS256, whose keys are never
    /// published.
    pub fn published(&self) -> Option<Arc<Published>> {
        #[cfg(feature = "public-keys")]
        return self.public.as_ref().map(PublicKeys::current);
        #[cfg(not(feature = "public-keys"))]
        return None;
    }

    /// Until the server stops: drops each retired key of the key set once its tokens have all
    /// expired ([`PublicKeys::drop_retired_keys`]); returns at once without a key set.
    #[cfg(feature = "public-keys")]
    pub async fn drop_retired_keys(&self) {
        if let Some(public) = &self.public {
            public.drop_retired_keys().await;
        }
    }

    /// Rereads the key set (SIGHUP); `Ok(None)` when there is none to reread.
    pub fn reload_keys(&self) -> Result<Option<Arc<Published>>, KeysError> {
        #[cfg(feature = "public-keys")]
        return self.public.as_ref().map(PublicKeys::reload).transpose();
        #[cfg(not(feature = "public-keys"))]
        return Ok(None);
    }
}

/// A random (version 4) UUID in its usual text form, as Flask-JWT-Extended uses for `jti` and `csrf`
/// (RFC 9562 §5.4).
fn new_uuid_v4(rng: &SystemRandom) -> Result<String, RandomUnavailable> {
    let mut b = [0u8; 16];
    rng.fill(&mut b).map_err(|_| RandomUnavailable)?;
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // variant 10xx
    Ok(uuid_text(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tokens from a configuration of exactly these keys.
    fn tokens_from(pairs: &[(&str, String)]) -> Tokens {
        let config = Config::from_lookup(|key| {
            pairs
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone())
        })
        .unwrap();
        Tokens::new(&config)
    }

    /// Tokens from the test key `k...k` plus `extra`.
    fn tokens(extra: &[(&str, &str)]) -> Tokens {
        let mut pairs = vec![("JWT_SECRET_KEY", "k".repeat(32))];
        pairs.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        tokens_from(&pairs)
    }

    #[test]
    fn jti_is_a_random_uuid_v4() {
        let rng = SystemRandom::new();
        let a = new_uuid_v4(&rng).unwrap();
        let b = new_uuid_v4(&rng).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        let groups: Vec<&str> = a.split('-').collect();
        assert_eq!(
            groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(groups[2].starts_with('4'), "{a}");
        assert!(
            matches!(groups[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'),
            "{a}"
        );
    }

    #[test]
    fn issued_tokens_carry_the_flask_claims_and_verify() {
        let t = tokens(&[]);
        let token = t.issue("user1", TokenType::Access, true).unwrap();
        let claims = t.verify(&token, TokenType::Access).unwrap();
        assert_eq!(claims.sub, "user1");
        assert!(claims.fresh);
        assert_eq!(claims.exp.unwrap() - claims.iat.unwrap(), 900);
        assert_eq!(claims.nbf, claims.iat);
        let refresh = t.issue("user1", TokenType::Refresh, false).unwrap();
        let claims = t.verify(&refresh, TokenType::Refresh).unwrap();
        assert_eq!(claims.exp.unwrap() - claims.iat.unwrap(), 2_592_000);
        assert!(!claims.fresh);
    }

    #[test]
    fn tokens_in_a_session_carry_its_family() {
        let t = tokens(&[("JWT_LEEWAY", "5")]);
        let fam = t.new_family(1_700_000_000_000).unwrap();
        let token = t
            .issue_in("user1", TokenType::Refresh, false, &fam)
            .unwrap()
            .token;
        let claims = t.verify(&token, TokenType::Refresh).unwrap();
        assert_eq!(claims.fam.as_deref(), Some(fam.as_str()));
        let outside = t.issue("user1", TokenType::Access, false).unwrap();
        assert_eq!(t.verify(&outside, TokenType::Access).unwrap().fam, None);
        assert_eq!(t.session_lifetime(), 2_592_000 + 5 + 1);
    }

    #[test]
    fn csrf_claims_only_when_tokens_may_travel_in_cookies() {
        let plain = tokens(&[]);
        let fam = plain.new_family(1_700_000_000_000).unwrap();
        let issued = plain
            .issue_in("user1", TokenType::Access, true, &fam)
            .unwrap();
        assert_eq!(issued.csrf, None);
        assert_eq!(
            plain.verify(&issued.token, TokenType::Access).unwrap().csrf,
            None
        );

        let cookies = [
            ("JWT_TOKEN_LOCATION", "headers,cookies"),
            ("CORS_ORIGINS", "https://app.example"),
        ];
        let t = tokens(&cookies);
        let issued = t.issue_in("user1", TokenType::Access, true, &fam).unwrap();
        let csrf = issued.csrf.clone().unwrap();
        assert_eq!(csrf.len(), 36);
        let claims = t.verify(&issued.token, TokenType::Access).unwrap();
        assert_eq!(claims.csrf.as_deref(), Some(csrf.as_str()));
        let other = t
            .issue_in("user1", TokenType::Refresh, false, &fam)
            .unwrap();
        assert_ne!(other.csrf, issued.csrf);

        let off = tokens(&[cookies[0], cookies[1], ("JWT_COOKIE_CSRF_PROTECT", "false")]);
        assert_eq!(
            off.issue_in("user1", TokenType::Access, true, &fam)
                .unwrap()
                .csrf,
            None
        );
    }

    #[test]
    fn issuer_and_audience_are_written_and_required() {
        let t = tokens(&[("JWT_ISSUER", "hyperjwt"), ("JWT_AUDIENCE", "api")]);
        let token = t.issue("user1", TokenType::Access, false).unwrap();
        let claims = t.verify(&token, TokenType::Access).unwrap();
        assert_eq!(claims.iss.as_deref(), Some("hyperjwt"));
        assert_eq!(claims.aud, Some(Audience::One("api".into())));
        // A token from a server without those settings, same key, is refused.
        let plain = tokens(&[])
            .issue("user1", TokenType::Access, false)
            .unwrap();
        assert_eq!(t.verify(&plain, TokenType::Access), Err(JwtError::Issuer));
    }

    #[test]
    fn previous_keys_verify_but_never_sign() {
        let old_key = "o".repeat(32);
        let old = tokens(&[]);
        let old_token = old.issue("user1", TokenType::Access, false).unwrap();
        let mut pairs = [
            ("JWT_SECRET_KEY", "n".repeat(32)),
            ("JWT_PREVIOUS_SECRET_KEYS", "k".repeat(32)),
        ];
        let rotated = tokens_from(&pairs);
        assert!(rotated.verify(&old_token, TokenType::Access).is_ok());
        let new_token = rotated.issue("user1", TokenType::Access, false).unwrap();
        assert_eq!(
            old.verify(&new_token, TokenType::Access),
            Err(JwtError::Signature)
        );
        // A key that is neither current nor previous is refused.
        pairs[1].1 = old_key;
        assert_eq!(
            tokens_from(&pairs).verify(&old_token, TokenType::Access),
            Err(JwtError::Signature)
        );
    }

    #[test]
    fn tokens_past_max_token_bytes_are_refused_before_decoding() {
        let t = tokens(&[("MAX_TOKEN_BYTES", "256")]);
        let token = t.issue("user1", TokenType::Access, true).unwrap();
        assert!(token.len() > 256, "{}", token.len());
        assert_eq!(t.verify(&token, TokenType::Access), Err(JwtError::TooLong));
        assert!(tokens(&[]).verify(&token, TokenType::Access).is_ok());
    }

    #[test]
    fn server_path_claims_borrow_from_the_payload() {
        let t = tokens(&[]);
        let token = t.issue("user1", TokenType::Access, true).unwrap();
        let mut payload_buf = DecodeBuf::new();
        let payload = t.verify_signature(&token, &mut payload_buf).unwrap();
        let claims = t.check_claims(payload, TokenType::Access).unwrap();
        assert!(matches!(claims.sub, Cow::Borrowed("user1")));
        assert!(matches!(claims.jti, Cow::Borrowed(_)));
    }
}
