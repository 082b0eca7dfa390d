//! The payload: what the token says about its holder (RFC 7519 §4), and the checks on it (§7.2 step 10).
//!
//! The claims set is a JSON object (§7.2 step 10): [`Claims::parse`] refuses an array, which serde's
//! derived `Deserialize` would otherwise read field by field in declaration order.
//!
//! Claim names and meanings follow Flask-JWT-Extended so tokens pass between the original app and this
//! server when both share a key: `sub`, `iat`, `nbf`, `exp`, `jti`, `type`, `fresh`, and `iss`/`aud`
//! when configured. Unknown claims (Flask-JWT-Extended's `csrf`, for one) are ignored.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::{JwtError, starts_with_object};

/// Flask-JWT-Extended's two kinds of token: short-lived access tokens for API calls, long-lived
/// refresh tokens that may only be traded for new access tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    Access,
    Refresh,
}

impl TokenType {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenType::Access => "access",
            TokenType::Refresh => "refresh",
        }
    }
}

/// `aud` may be one string or an array of strings (RFC 7519 §4.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    pub fn contains(&self, wanted: &str) -> bool {
        match self {
            Audience::One(aud) => aud == wanted,
            Audience::Many(auds) => auds.iter().any(|aud| aud == wanted),
        }
    }
}

/// The claims of a token this server issues or accepts.
///
/// The strings borrow from the decoded payload (`'a`) when they contain no JSON escapes, which is
/// always the case for ours: parsing a verified payload allocates nothing. [`Claims::into_owned`]
/// detaches them when claims must outlive the payload.
///
/// Times are NumericDate: seconds since the Unix epoch (RFC 7519 §2). They are read from integers or
/// decimals (the RFC allows both) and written as integers, as Flask-JWT-Extended does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims<'a> {
    /// Subject: the username (RFC 7519 §4.1.2).
    #[serde(borrow)]
    pub sub: Cow<'a, str>,
    /// Issued at (§4.1.6). Informational; `nbf` is what gates use.
    #[serde(
        default,
        with = "numeric_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub iat: Option<i64>,
    /// Not before (§4.1.5).
    #[serde(
        default,
        with = "numeric_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub nbf: Option<i64>,
    /// Expiration time (§4.1.4). Optional in the RFC, required here: see [`Validation::check`].
    #[serde(
        default,
        with = "numeric_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub exp: Option<i64>,
    /// Token id (§4.1.7), a random UUID: what logout revokes. Required, and never empty (see
    /// [`Claims::parse`]).
    #[serde(borrow)]
    pub jti: Cow<'a, str>,
    /// Access or refresh. Flask-JWT-Extended treats a token without `type` as an access token; so do we.
    #[serde(rename = "type", default = "access")]
    pub token_type: TokenType,
    /// True only for access tokens that came straight from a password check.
    #[serde(default)]
    pub fresh: bool,
    /// Issuer (§4.1.1), written and required when `JWT_ISSUER` is set.
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub iss: Option<Cow<'a, str>>,
    /// Audience (§4.1.3), written and required when `JWT_AUDIENCE` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<Audience>,
}

fn access() -> TokenType {
    TokenType::Access
}

impl<'a> Claims<'a> {
    /// Parses the verified payload bytes (RFC 7519 §7.2 step 10): a JSON object with the claims above,
    /// and a `jti` that is not empty.
    pub fn parse(payload: &'a [u8]) -> Result<Self, JwtError> {
        // RFC 7519 §7.2 step 10 wants UTF-8. Checking the whole payload once up front is cheaper than
        // serde_json's check of each string, which `from_str` then skips.
        let text = std::str::from_utf8(payload).map_err(|_| JwtError::Claims)?;
        // An object, not an array serde would read by position (`["user1", iat, nbf, exp, ...]`).
        if !starts_with_object(payload) {
            return Err(JwtError::Claims);
        }
        let claims: Claims = serde_json::from_str(text).map_err(|_| JwtError::Claims)?;
        // `""` identifies no token (RFC 7519 §4.1.7): every such token would share one denylist
        // entry, so logging out one would revoke them all. Refused like a missing `jti`. Any other
        // string, whitespace included, is an opaque id of its own and is not trimmed.
        if claims.jti.is_empty() {
            return Err(JwtError::Claims);
        }
        Ok(claims)
    }

    /// The same claims, owning their strings.
    pub fn into_owned(self) -> Claims<'static> {
        Claims {
            sub: Cow::Owned(self.sub.into_owned()),
            jti: Cow::Owned(self.jti.into_owned()),
            iss: self.iss.map(|iss| Cow::Owned(iss.into_owned())),
            iat: self.iat,
            nbf: self.nbf,
            exp: self.exp,
            token_type: self.token_type,
            fresh: self.fresh,
            aud: self.aud,
        }
    }
}

/// The rules a token's claims must meet, fixed at start-up from the configuration.
#[derive(Debug, Clone, Default)]
pub struct Validation {
    /// Seconds of clock skew tolerated on `exp` and `nbf` (`JWT_LEEWAY`).
    pub leeway: u64,
    /// When set, `iss` must equal it.
    pub issuer: Option<String>,
    /// When set, `aud` must contain it; when unset, a token that names any audience is refused.
    pub audience: Option<String>,
}

impl Validation {
    /// The claim checks, in the order DESIGN §4 gives: `exp`, `nbf`, `type`, `iss`, `aud`.
    /// `now` is Unix seconds; passing it in keeps this function pure and testable.
    /// `expected` is the token type this use needs, or `None` when either will do.
    ///
    /// Each check is also a method of its own, so a tool (`hyperjwt token inspect`) can report them
    /// one by one through the very code the server runs.
    pub fn check(
        &self,
        claims: &Claims,
        expected: impl Into<Option<TokenType>>,
        now: i64,
    ) -> Result<(), JwtError> {
        self.check_exp(claims, now)?;
        self.check_nbf(claims, now)?;
        Self::check_type(claims, expected.into())?;
        self.check_issuer(claims)?;
        self.check_audience(claims)
    }

    fn leeway(&self) -> i64 {
        i64::try_from(self.leeway).unwrap_or(i64::MAX)
    }

    /// RFC 7519 §4.1.4: "the current date/time MUST be before the expiration date/time".
    /// No RFC requires `exp`; we do (DESIGN §4): a token that never expires can never be contained.
    pub fn check_exp(&self, claims: &Claims, now: i64) -> Result<(), JwtError> {
        let exp = claims.exp.ok_or(JwtError::MissingExp)?;
        if now >= exp.saturating_add(self.leeway()) {
            return Err(JwtError::Expired);
        }
        Ok(())
    }

    /// RFC 7519 §4.1.5: "the current date/time MUST be after or equal to the not-before date/time".
    pub fn check_nbf(&self, claims: &Claims, now: i64) -> Result<(), JwtError> {
        match claims.nbf {
            Some(nbf) if now < nbf.saturating_sub(self.leeway()) => Err(JwtError::NotYetValid),
            _ => Ok(()),
        }
    }

    /// Flask-JWT-Extended's rule: an access token is not a refresh token, and vice versa (RFC 8725
    /// §3.12: kinds of JWT must not be usable in each other's place).
    pub fn check_type(claims: &Claims, expected: Option<TokenType>) -> Result<(), JwtError> {
        match expected {
            Some(expected) if claims.token_type != expected => {
                Err(JwtError::WrongType { expected })
            }
            _ => Ok(()),
        }
    }

    /// RFC 7519 §4.1.1: when we name an issuer, `iss` must be exactly it.
    pub fn check_issuer(&self, claims: &Claims) -> Result<(), JwtError> {
        match &self.issuer {
            Some(issuer) if claims.iss.as_deref() != Some(issuer.as_str()) => Err(JwtError::Issuer),
            _ => Ok(()),
        }
    }

    /// RFC 7519 §4.1.3: if we are not named in a present `aud`, the token MUST be rejected —
    /// including when we expect no audience at all.
    pub fn check_audience(&self, claims: &Claims) -> Result<(), JwtError> {
        match (&self.audience, &claims.aud) {
            (Some(wanted), Some(aud)) if aud.contains(wanted) => Ok(()),
            (None, None) => Ok(()),
            _ => Err(JwtError::Audience),
        }
    }
}

/// Serde glue for optional NumericDate fields: integers or decimals in, integers out.
mod numeric_date {
    use serde::de::{self, Visitor};
    use serde::{Deserializer, Serializer};
    use std::fmt;

    pub fn serialize<S: Serializer>(value: &Option<i64>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(seconds) => serializer.serialize_i64(*seconds),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<i64>, D::Error> {
        deserializer.deserialize_any(NumericDateVisitor).map(Some)
    }

    struct NumericDateVisitor;

    impl Visitor<'_> for NumericDateVisitor {
        type Value = i64;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a NumericDate (seconds since the epoch)")
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
            Ok(i64::try_from(v).unwrap_or(i64::MAX))
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
            // `as` saturates; JSON has no NaN or infinity. Floor so 10.9 is still "before 11".
            Ok(v.floor() as i64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;

    fn claims() -> Claims<'static> {
        Claims {
            sub: "user1".into(),
            iat: Some(NOW),
            nbf: Some(NOW),
            exp: Some(NOW + 900),
            jti: "5b0c6a4e-6b1e-4d5c-9a39-8f0f6e2f1a10".into(),
            token_type: TokenType::Access,
            fresh: true,
            iss: None,
            aud: None,
        }
    }

    fn check(c: &Claims) -> Result<(), JwtError> {
        Validation::default().check(c, TokenType::Access, NOW)
    }

    #[test]
    fn accepts_valid_claims() {
        assert_eq!(check(&claims()), Ok(()));
    }

    #[test]
    fn requires_exp() {
        let c = Claims {
            exp: None,
            ..claims()
        };
        assert_eq!(check(&c), Err(JwtError::MissingExp));
    }

    #[test]
    fn refuses_passed_exp_including_the_exact_second() {
        assert_eq!(
            check(&Claims {
                exp: Some(NOW - 1),
                ..claims()
            }),
            Err(JwtError::Expired)
        );
        assert_eq!(
            check(&Claims {
                exp: Some(NOW),
                ..claims()
            }),
            Err(JwtError::Expired)
        );
        assert_eq!(
            check(&Claims {
                exp: Some(NOW + 1),
                ..claims()
            }),
            Ok(())
        );
    }

    #[test]
    fn leeway_extends_exp_and_nbf() {
        let v = Validation {
            leeway: 30,
            ..Validation::default()
        };
        let expired = Claims {
            exp: Some(NOW - 10),
            ..claims()
        };
        assert_eq!(v.check(&expired, TokenType::Access, NOW), Ok(()));
        let early = Claims {
            nbf: Some(NOW + 10),
            ..claims()
        };
        assert_eq!(v.check(&early, TokenType::Access, NOW), Ok(()));
        let far = Claims {
            exp: Some(NOW - 31),
            ..claims()
        };
        assert_eq!(
            v.check(&far, TokenType::Access, NOW),
            Err(JwtError::Expired)
        );
    }

    #[test]
    fn refuses_future_nbf() {
        let c = Claims {
            nbf: Some(NOW + 1),
            ..claims()
        };
        assert_eq!(check(&c), Err(JwtError::NotYetValid));
    }

    #[test]
    fn refuses_wrong_type_both_ways() {
        let refresh = Claims {
            token_type: TokenType::Refresh,
            ..claims()
        };
        assert_eq!(
            check(&refresh),
            Err(JwtError::WrongType {
                expected: TokenType::Access
            })
        );
        assert_eq!(
            Validation::default().check(&claims(), TokenType::Refresh, NOW),
            Err(JwtError::WrongType {
                expected: TokenType::Refresh
            })
        );
    }

    #[test]
    fn checks_issuer_when_configured() {
        let v = Validation {
            issuer: Some("me".into()),
            ..Validation::default()
        };
        assert_eq!(
            v.check(&claims(), TokenType::Access, NOW),
            Err(JwtError::Issuer)
        );
        let other = Claims {
            iss: Some("other".into()),
            ..claims()
        };
        assert_eq!(
            v.check(&other, TokenType::Access, NOW),
            Err(JwtError::Issuer)
        );
        let mine = Claims {
            iss: Some("me".into()),
            ..claims()
        };
        assert_eq!(v.check(&mine, TokenType::Access, NOW), Ok(()));
    }

    #[test]
    fn checks_audience_as_string_or_array() {
        let v = Validation {
            audience: Some("api".into()),
            ..Validation::default()
        };
        assert_eq!(
            v.check(&claims(), TokenType::Access, NOW),
            Err(JwtError::Audience)
        );
        let one = Claims {
            aud: Some(Audience::One("api".into())),
            ..claims()
        };
        assert_eq!(v.check(&one, TokenType::Access, NOW), Ok(()));
        let many = Claims {
            aud: Some(Audience::Many(vec!["x".into(), "api".into()])),
            ..claims()
        };
        assert_eq!(v.check(&many, TokenType::Access, NOW), Ok(()));
        let wrong = Claims {
            aud: Some(Audience::Many(vec!["x".into()])),
            ..claims()
        };
        assert_eq!(
            v.check(&wrong, TokenType::Access, NOW),
            Err(JwtError::Audience)
        );
    }

    #[test]
    fn refuses_any_audience_when_none_is_expected() {
        let c = Claims {
            aud: Some(Audience::One("api".into())),
            ..claims()
        };
        assert_eq!(check(&c), Err(JwtError::Audience));
    }

    #[test]
    fn parses_flask_jwt_extended_payload_with_extra_claims() {
        let json = br#"{"fresh":false,"iat":1700000000,"jti":"abc","type":"access","sub":"user1",
            "nbf":1700000000,"csrf":"d3f1","exp":1700000900}"#;
        let c = Claims::parse(json).unwrap();
        assert_eq!(c.sub, "user1");
        assert_eq!(c.exp, Some(NOW + 900));
        assert!(!c.fresh);
    }

    #[test]
    fn strings_borrow_unless_they_hold_escapes() {
        let json = br#"{"sub":"user1","jti":"a\u0062c","exp":1}"#;
        let c = Claims::parse(json).unwrap();
        assert!(matches!(c.sub, Cow::Borrowed("user1")));
        // An escape must be decoded, so that string alone is copied.
        assert!(matches!(&c.jti, Cow::Owned(jti) if jti == "abc"));
        assert_eq!(c.clone().into_owned(), c);
    }

    #[test]
    fn refuses_payload_that_is_not_utf8() {
        assert_eq!(
            Claims::parse(b"{\"sub\":\"\xff\",\"jti\":\"j\",\"exp\":1}"),
            Err(JwtError::Claims)
        );
    }

    #[test]
    fn reads_decimal_numeric_dates() {
        let json = br#"{"sub":"u","jti":"j","exp":1700000900.75,"nbf":1.7e9}"#;
        let c = Claims::parse(json).unwrap();
        assert_eq!(c.exp, Some(NOW + 900));
        assert_eq!(c.nbf, Some(NOW));
    }

    #[test]
    fn missing_type_means_access() {
        let c = Claims::parse(br#"{"sub":"u","jti":"j","exp":1}"#).unwrap();
        assert_eq!(c.token_type, TokenType::Access);
    }

    #[test]
    fn refuses_malformed_payloads() {
        for json in [
            &br#"[]"#[..],
            br#"{"jti":"j","exp":1}"#,              // no sub
            br#"{"sub":7,"jti":"j","exp":1}"#,      // sub not a string
            br#"{"sub":"u","exp":1}"#,              // no jti
            br#"{"sub":"u","jti":"j","exp":"1"}"#,  // exp not a number
            br#"{"sub":"u","jti":"j","exp":null}"#, // exp null
            br#"{"sub":"u","jti":"j","exp":1,"type":"id"}"#,
            br#"{"sub":"u","jti":"j","exp":1,"fresh":"yes"}"#,
            br#"{"sub":"u","sub":"v","jti":"j","exp":1}"#, // duplicate claim
            b"{\"sub\":\"\xff\",\"jti\":\"j\",\"exp\":1}",
        ] {
            assert_eq!(
                Claims::parse(json),
                Err(JwtError::Claims),
                "{}",
                String::from_utf8_lossy(json)
            );
        }
    }

    /// RFC 7519 §7.2 step 10: the claims set is a JSON *object*. serde's derived `Deserialize` would
    /// also read an array by position (`sub`, `iat`, `nbf`, `exp`, `jti`, `type`, `fresh`, `iss`,
    /// `aud`); every length, each value of the right type for its place, is refused. The same values
    /// as an object are a valid claims set, so the shape alone is what is refused.
    #[test]
    fn refuses_positional_arrays_of_every_length() {
        let values = [
            r#""user1""#,
            "1700000000",
            "1700000000",
            "1700000900",
            r#""5b0c6a4e-6b1e-4d5c-9a39-8f0f6e2f1a10""#,
            r#""access""#,
            "true",
            r#""me""#,
            r#""api""#,
        ];
        let names = [
            "sub", "iat", "nbf", "exp", "jti", "type", "fresh", "iss", "aud",
        ];
        let object: Vec<String> = names
            .iter()
            .zip(values)
            .map(|(name, value)| format!(r#""{name}":{value}"#))
            .collect();
        let object = format!("{{{}}}", object.join(","));
        assert!(Claims::parse(object.as_bytes()).is_ok(), "{object}");
        for len in 1..=values.len() {
            let array = format!("[{}]", values[..len].join(","));
            assert_eq!(
                Claims::parse(array.as_bytes()),
                Err(JwtError::Claims),
                "{array}"
            );
            let spaced = format!(" \t\r\n{array}");
            assert_eq!(
                Claims::parse(spaced.as_bytes()),
                Err(JwtError::Claims),
                "{spaced}"
            );
        }
    }

    #[test]
    fn refuses_scalar_payloads() {
        for json in [r#""user1""#, "1700000000", "null", "true", "false", ""] {
            assert_eq!(
                Claims::parse(json.as_bytes()),
                Err(JwtError::Claims),
                "{json}"
            );
        }
    }

    #[test]
    fn accepts_an_object_after_json_whitespace() {
        let c = Claims::parse(b" \t\r\n{\"sub\":\"u\",\"jti\":\"j\",\"exp\":1} \n").unwrap();
        assert_eq!((&*c.sub, &*c.jti), ("u", "j"));
    }

    /// An empty `jti` names no token: all such tokens would share one denylist entry, so logging one
    /// out would revoke them all (and a `jti` of `""` is what some encoders write for "none").
    #[test]
    fn refuses_empty_jti_like_a_missing_one() {
        assert_eq!(
            Claims::parse(br#"{"sub":"u","jti":"","exp":1}"#),
            Err(JwtError::Claims)
        );
        assert_eq!(
            Claims::parse(br#"{"sub":"u","exp":1}"#),
            Err(JwtError::Claims)
        );
    }

    /// `jti` is an opaque, case-sensitive string (RFC 7519 §4.1.7): whitespace is a value like any
    /// other, with a denylist entry of its own, so it is not trimmed or refused.
    #[test]
    fn accepts_a_whitespace_only_jti_as_its_own_id() {
        let c = Claims::parse(br#"{"sub":"u","jti":" ","exp":1}"#).unwrap();
        assert_eq!(c.jti, " ");
    }

    #[test]
    fn writes_integers_and_omits_unset_claims() {
        let json = serde_json::to_string(&claims()).unwrap();
        assert!(json.contains("\"exp\":1700000900"), "{json}");
        assert!(json.contains("\"type\":\"access\""), "{json}");
        assert!(!json.contains("iss") && !json.contains("aud"), "{json}");
    }
}
