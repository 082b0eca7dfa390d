//! The payload: what the token says about its holder (RFC 7519 §4), as data. Whether those claims
//! allow a use, now, is [`validation`](super::validation)'s question.
//!
//! The claims set is a JSON object (§7.2 step 10): [`Claims::parse`], the pipeline's step 11
//! ([`Step::Claims`](super::Step::Claims)), refuses an array, which serde's derived `Deserialize` would
//! otherwise read field by field in declaration order.
//!
//! Claim names and meanings follow Flask-JWT-Extended so tokens pass between the original app and this
//! server when both share a key: `sub`, `iat`, `nbf`, `exp`, `jti`, `type`, `fresh`, and `iss`/`aud`
//! when configured, and `csrf`, the double-submit value of a token kept in a cookie (docs/cookies.md).
//! Unknown claims are ignored, so our one extra claim, `fam` (the session a token belongs to), costs
//! Flask nothing; a token without it (a Flask-JWT-Extended token, or one from before sessions) is a
//! session of its own.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

pub use super::token_type::TokenType;
use super::{JwtError, starts_with_object};

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
    /// Expiration time (§4.1.4). Optional in the RFC, required here: see
    /// [`Validation::check_exp`](super::Validation::check_exp).
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
    /// Family (this server's claim, docs/http.md §4): the session the token belongs to, shared by the
    /// access and refresh tokens of one `/login` and every token rotated from them, so ending the
    /// session ends them all. Optional; never empty (see [`Claims::parse`]).
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub fam: Option<Cow<'a, str>>,
    /// The double-submit CSRF value (Flask-JWT-Extended's claim, docs/cookies.md): a random UUID v4
    /// in text form, written when tokens may travel in cookies. A request that brings the token in
    /// a cookie with a state-changing method must send the same value in a header. Optional.
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub csrf: Option<Cow<'a, str>>,
}

fn access() -> TokenType {
    TokenType::Access
}

impl<'a> Claims<'a> {
    /// Step 11: parses the verified payload bytes (RFC 7519 §7.2 step 10): a JSON object with the claims above,
    /// and a `jti` that is not empty.
    pub fn parse(payload: &'a [u8]) -> Result<Self, JwtError> {
        // RFC 7519 §7.2 step 10 wants UTF-8. Checking the whole payload once up front is cheaper than
        // serde_json's check of each string, which `from_str` then skips.
        let text = std::str::from_utf8(payload).map_err(|_| JwtError::Claims)?;
        // An object, not an array serde would read by position (`["user1", iat, nbf, exp, ...]`).
        if !starts_with_object(payload) {
            return Err(JwtError::Claims);
        }
        // `""` identifies no token (RFC 7519 §4.1.7): every such token would share one denylist
        // entry, so logging out one would revoke them all. Refused like a missing `jti`. Any other
        // string, whitespace included, is an opaque id of its own and is not trimmed.
        // The same for `fam`: `""` would make every such token one session.
        match serde_json::from_str::<Claims>(text) {
            Ok(claims) if !claims.jti.is_empty() && claims.fam.as_deref() != Some("") => Ok(claims),
            _ => Err(JwtError::Claims),
        }
    }

    /// Only the `exp` of a payload whose signature was just proven, so the memo of verified tokens
    /// (`cache.rs`) knows until when to keep the token; `None` if there is none to read. Whether
    /// the claims are acceptable is still step 11's question, on every use.
    pub fn expiry(payload: &[u8]) -> Option<i64> {
        #[derive(Deserialize)]
        struct Expiry {
            #[serde(default, with = "numeric_date")]
            exp: Option<i64>,
        }
        if !starts_with_object(payload) {
            return None;
        }
        serde_json::from_slice::<Expiry>(payload).ok()?.exp
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
            fam: self.fam.map(|fam| Cow::Owned(fam.into_owned())),
            csrf: self.csrf.map(|csrf| Cow::Owned(csrf.into_owned())),
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
    use crate::jwt::testing::{NOW, claims};

    #[test]
    fn parses_flask_jwt_extended_payload_with_extra_claims() {
        let json = br#"{"fresh":false,"iat":1700000000,"jti":"abc","type":"access","sub":"user1",
            "nbf":1700000000,"csrf":"d3f1","exp":1700000900}"#;
        let c = Claims::parse(json).unwrap();
        assert_eq!(c.sub, "user1");
        assert_eq!(c.exp, Some(NOW + 900));
        assert!(!c.fresh);
        assert_eq!(c.csrf.as_deref(), Some("d3f1"));
        let round_trip = serde_json::to_string(&c).unwrap();
        assert!(round_trip.contains(r#""csrf":"d3f1""#), "{round_trip}");
    }

    #[test]
    fn csrf_is_optional_and_must_be_a_string() {
        let parsed = Claims::parse(br#"{"sub":"u","jti":"j","exp":1}"#).unwrap();
        assert_eq!(parsed.csrf, None);
        let json = serde_json::to_string(&claims()).unwrap();
        assert!(!json.contains("csrf"), "{json}");
        assert_eq!(
            Claims::parse(br#"{"sub":"u","jti":"j","exp":1,"csrf":7}"#),
            Err(JwtError::Claims)
        );
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
            r#""01a2317d-f20a-7c3b-afae-3512cb3534d2""#,
            r#""c0ffee""#,
        ];
        let names = [
            "sub", "iat", "nbf", "exp", "jti", "type", "fresh", "iss", "aud", "fam", "csrf",
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
