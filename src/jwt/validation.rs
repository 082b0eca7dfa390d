//! The rules a token's claims must meet to be used now (RFC 7519 §4.1, §7.2 step 10; RFC 8725 §3.8,
//! §3.9, §3.12), kept apart from the claims themselves as the `jsonwebtoken` crate keeps its
//! `Validation` apart from the claims it decodes.
//!
//! Each rule is one method, and one step of the pipeline (12 to 16): [`verify`](mod@super::verify) runs
//! them in its order, and [`Validation::check`] runs that same sequence for the server, which parses
//! the claims itself so they can borrow from its buffer.

use super::JwtError;
use super::claims::{Claims, TokenType};

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
    fn leeway(&self) -> i64 {
        i64::try_from(self.leeway).unwrap_or(i64::MAX)
    }

    /// Step 12, RFC 7519 §4.1.4: "the current date/time MUST be before the expiration date/time".
    /// No RFC requires `exp`; we do (docs/http.md §4): a token that never expires can never be
    /// contained.
    pub fn check_exp(&self, claims: &Claims, now: i64) -> Result<(), JwtError> {
        let exp = claims.exp.ok_or(JwtError::MissingExp)?;
        if now >= exp.saturating_add(self.leeway()) {
            return Err(JwtError::Expired);
        }
        Ok(())
    }

    /// Step 13, RFC 7519 §4.1.5: "the current date/time MUST be after or equal to the not-before date/time".
    pub fn check_nbf(&self, claims: &Claims, now: i64) -> Result<(), JwtError> {
        match claims.nbf {
            Some(nbf) if now < nbf.saturating_sub(self.leeway()) => Err(JwtError::NotYetValid),
            _ => Ok(()),
        }
    }

    /// Step 14, Flask-JWT-Extended's rule: an access token is not a refresh token, and vice versa (RFC 8725
    /// §3.12: kinds of JWT must not be usable in each other's place).
    pub fn check_type(claims: &Claims, expected: Option<TokenType>) -> Result<(), JwtError> {
        match expected {
            Some(expected) if claims.token_type != expected => {
                Err(JwtError::WrongType { expected })
            }
            _ => Ok(()),
        }
    }

    /// Step 15, RFC 7519 §4.1.1: when we name an issuer, `iss` must be exactly it.
    pub fn check_issuer(&self, claims: &Claims) -> Result<(), JwtError> {
        match &self.issuer {
            Some(issuer) if claims.iss.as_deref() != Some(issuer.as_str()) => Err(JwtError::Issuer),
            _ => Ok(()),
        }
    }

    /// Step 16, RFC 7519 §4.1.3: if we are not named in a present `aud`, the token MUST be rejected —
    /// including when we expect no audience at all.
    pub fn check_audience(&self, claims: &Claims) -> Result<(), JwtError> {
        match (&self.audience, &claims.aud) {
            (Some(wanted), Some(aud)) if aud.contains(wanted) => Ok(()),
            (None, None) => Ok(()),
            _ => Err(JwtError::Audience),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::Audience;
    use crate::jwt::testing::{NOW, claims};

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
}
