//! The JOSE header: the first segment, which says how the token claims to be signed (RFC 7515 §4).
//!
//! We read it only to refuse what we do not do. The algorithms are fixed by the server's keys (RFC
//! 8725 §2.1, §3.1): a header that names anything none of them uses — `none` included — is refused,
//! never obeyed.
//! `jku`, `x5u` and `jwk` are ignored, and `kid` only selects among keys the server already holds
//! (key rotation): a token never supplies or points to its own verification key.
//!
//! The pipeline's steps 4–6 ([`Step::Header`](super::Step::Header), [`Algorithm`](super::Step::Algorithm),
//! [`Critical`](super::Step::Critical)) are the three functions here; step 3 decodes the bytes they read.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer};

use super::algorithm::Algorithm;
use super::{JwtError, starts_with_object};

/// The default algorithm: HMAC with SHA-256 (RFC 7518 §3.2).
pub const ALG_HS256: &str = "HS256";

/// The header fields we look at. Only ever read from a JSON object (see [`Header::parse`]).
#[derive(Debug, Deserialize)]
pub struct Header<'a> {
    /// The signing algorithm the token claims (RFC 7515 §4.1.1). Compared exactly: `hs256` is not `HS256`.
    #[serde(borrow)]
    pub alg: Cow<'a, str>,
    /// The media type, advisory only (RFC 7519 §5.1).
    #[serde(default, borrow)]
    pub typ: Option<Cow<'a, str>>,
    /// The key id (RFC 7515 §4.1.4): selects among the server's own keys, never a key source.
    #[serde(default, borrow)]
    pub kid: Option<Cow<'a, str>>,
    /// Whether a `crit` parameter is present at all, whatever its value (RFC 7515 §4.1.11).
    #[serde(default, deserialize_with = "present")]
    pub crit: bool,
}

impl<'a> Header<'a> {
    /// Step 4: parses the decoded header bytes (RFC 7515 §5.2 step 3): UTF-8 JSON, an object, unique member
    /// names (serde refuses duplicates, as §4 allows), and `alg` a string.
    ///
    /// UTF-8 is checked over all the bytes first: reading from bytes, serde_json checks only the
    /// strings it keeps, so an invalid byte inside a member we ignore (`"x":"\xb0"`) would pass.
    /// "An object" is checked by [`starts_with_object`]: serde alone would also read an array
    /// such as `["HS256"]` into `alg` by position.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, JwtError> {
        let text = std::str::from_utf8(bytes).map_err(|_| JwtError::Header)?;
        if !starts_with_object(bytes) {
            return Err(JwtError::Header);
        }
        serde_json::from_str(text).map_err(|_| JwtError::Header)
    }

    /// Step 5 (RFC 7515 §5.2 steps 5 and 8, RFC 8725 §3.1): `alg` names, exactly, an algorithm
    /// one of our keys signs with (`accepts`). The server's keys fixed the algorithms; the header's
    /// is compared with them, never obeyed, and `none` is no exception.
    pub fn check_alg(&self, accepts: impl Fn(Algorithm) -> bool) -> Result<Algorithm, JwtError> {
        Algorithm::from_name(&self.alg)
            .filter(|alg| accepts(*alg))
            .ok_or(JwtError::Algorithm)
    }

    /// Step 6 (RFC 7515 §4.1.11, §5.2 step 5): refuse anything we do not understand. We support no
    /// extensions, so any `crit` at all means "you must understand something you don't".
    pub fn check_crit(&self) -> Result<(), JwtError> {
        if self.crit {
            return Err(JwtError::Critical);
        }
        Ok(())
    }
}

fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(deserializer).map(|_| true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Steps 4–6 on one header, in the pipeline's order.
    fn check(json: &str) -> Result<(), JwtError> {
        let header = Header::parse(json.as_bytes())?;
        header.check_alg(|alg| alg == Algorithm::Hs256)?;
        header.check_crit()
    }

    #[test]
    fn accepts_hs256() {
        assert_eq!(check(r#"{"alg":"HS256","typ":"JWT"}"#), Ok(()));
        assert_eq!(check(r#"{"typ":"JWT","alg":"HS256","kid":"k1"}"#), Ok(()));
    }

    #[test]
    fn refuses_alg_none_in_any_case() {
        for alg in ["none", "None", "NONE", "nOnE"] {
            let json = format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#);
            assert_eq!(check(&json), Err(JwtError::Algorithm), "{alg}");
        }
    }

    #[test]
    fn refuses_other_algorithms() {
        for alg in ["HS384", "HS512", "RS256", "ES256", "hs256", "HS256 ", ""] {
            let json = format!(r#"{{"alg":"{alg}"}}"#);
            assert_eq!(check(&json), Err(JwtError::Algorithm), "{alg:?}");
        }
    }

    #[test]
    fn refuses_crit_whatever_its_value() {
        for crit in [r#"["exp"]"#, "[]", "null", r#""b64""#] {
            let json = format!(r#"{{"alg":"HS256","crit":{crit}}}"#);
            assert_eq!(check(&json), Err(JwtError::Critical), "{crit}");
        }
    }

    #[test]
    fn refuses_missing_or_non_string_alg() {
        assert_eq!(check(r#"{"typ":"JWT"}"#), Err(JwtError::Header));
        assert_eq!(check(r#"{"alg":256}"#), Err(JwtError::Header));
        assert_eq!(check(r#"{"alg":null}"#), Err(JwtError::Header));
    }

    #[test]
    fn refuses_non_objects_and_bad_json() {
        for json in [
            "[]",
            r#""HS256""#,
            "256",
            "null",
            "true",
            "false",
            "{",
            "",
            r#"{"alg":"HS256"} x"#,
        ] {
            assert_eq!(check(json), Err(JwtError::Header), "{json}");
        }
    }

    /// RFC 7515 §5.2 step 3: the header is a JSON *object*. serde's derived `Deserialize` would also
    /// read an array by position into `alg`, `typ`, `kid`, `crit`; every length that fills a prefix of
    /// them is refused, as `Header` (not `Critical` for the fourth: the shape fails first).
    #[test]
    fn refuses_positional_arrays_that_would_fill_alg_typ_kid_crit() {
        for json in [
            r#"["HS256"]"#,
            r#"["HS256","JWT"]"#,
            r#"["HS256","JWT","k1"]"#,
            r#"["HS256","JWT","k1",["exp"]]"#,
            r#"["HS256",null,null]"#,
            " \t\r\n[\"HS256\"]",
        ] {
            assert_eq!(
                Header::parse(json.as_bytes()).err(),
                Some(JwtError::Header),
                "{json}"
            );
        }
    }

    #[test]
    fn accepts_an_object_after_json_whitespace() {
        assert_eq!(check(" \t\r\n{\"alg\":\"HS256\"} \n"), Ok(()));
    }

    #[test]
    fn refuses_duplicate_alg() {
        assert_eq!(
            check(r#"{"alg":"none","alg":"HS256"}"#),
            Err(JwtError::Header)
        );
    }

    #[test]
    fn refuses_invalid_utf8() {
        assert_eq!(
            Header::parse(b"{\"alg\":\"HS\xff\"}").err(),
            Some(JwtError::Header)
        );
    }

    /// RFC 7515 §5.2 step 3 wants the whole header UTF-8, members we ignore included: serde_json
    /// reading bytes skips an unknown member's string without checking it.
    #[test]
    fn refuses_invalid_utf8_in_a_member_it_ignores() {
        for json in [
            &b"{\"alg\":\"HS256\",\"x\":\"\xb0\"}"[..],
            b"{\"alg\":\"HS256\",\"x\":[\"\xc3\"]}",
            b"{\"alg\":\"HS256\",\"\xff\":1}",
            b"{\"alg\":\"HS256\"} \xff",
        ] {
            assert_eq!(
                Header::parse(json).err(),
                Some(JwtError::Header),
                "{}",
                String::from_utf8_lossy(json)
            );
        }
        assert!(Header::parse("{\"alg\":\"HS256\",\"x\":\"café\"}".as_bytes()).is_ok());
    }
}
