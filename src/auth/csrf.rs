//! The CSRF double-submit rules, as plain values (docs/cookies.md): a token kept in a cookie carries
//! a random `csrf` claim; the page reads the same value from a readable cookie and sends it back in
//! a header; a state-changing request whose token came from a cookie is refused unless the two
//! match. A cross-site page can make the browser send the cookies, but it can neither read the value
//! nor (CORS) add the header. The values are made with the tokens (`super::tokens`, a UUID v4 as
//! Flask-JWT-Extended writes); which cookie and which header is `crate::handlers`' business.

/// Why a cookie-borne token was refused by the double submit, with Flask-JWT-Extended's texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsrfError {
    /// A state-changing method, and no (or an empty) CSRF header.
    Missing,
    /// The token has no `csrf` claim to compare with (not one of a cookie session's).
    MissingClaim,
    /// The header and the claim differ.
    Mismatch,
}

impl CsrfError {
    pub fn message(self) -> &'static str {
        match self {
            CsrfError::Missing => "Missing CSRF token",
            CsrfError::MissingClaim => "Missing claim: csrf",
            CsrfError::Mismatch => "CSRF double submit tokens do not match",
        }
    }
}

/// Whether `method` must bring the double submit (`JWT_CSRF_METHODS`, upper case; methods are
/// case-sensitive, RFC 9110 §9.1).
pub fn required_for(methods: &[String], method: &str) -> bool {
    methods.iter().any(|m| m == method)
}

/// Checks the header value `presented` against the token's `claim`, in time that does not depend
/// on where they differ (a timing side channel would let a page guess the value byte by byte). The
/// length is not secret: every value is a 36-character UUID.
pub fn check(claim: Option<&str>, presented: &str) -> Result<(), CsrfError> {
    let Some(claim) = claim else {
        return Err(CsrfError::MissingClaim);
    };
    let (a, b) = (claim.as_bytes(), presented.as_bytes());
    let differ = a.len() != b.len() || a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) != 0;
    if differ {
        Err(CsrfError::Mismatch)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_must_equal_the_claim() {
        let claim = "8cde1016-6f4e-4e2f-8cdf-a48c5c33a6b6";
        assert_eq!(check(Some(claim), claim), Ok(()));
        assert_eq!(
            check(Some(claim), "8cde1016-6f4e-4e2f-8cdf-a48c5c33a6b7"),
            Err(CsrfError::Mismatch)
        );
        assert_eq!(check(Some(claim), &claim[..35]), Err(CsrfError::Mismatch));
        assert_eq!(
            check(Some(claim), &claim.to_uppercase()),
            Err(CsrfError::Mismatch)
        );
        assert_eq!(check(None, claim), Err(CsrfError::MissingClaim));
    }

    #[test]
    fn only_the_listed_methods_need_it() {
        let methods = ["POST", "PUT", "PATCH", "DELETE"].map(String::from);
        assert!(required_for(&methods, "POST"));
        assert!(required_for(&methods, "DELETE"));
        assert!(!required_for(&methods, "GET"));
        assert!(!required_for(&methods, "HEAD"));
        assert!(!required_for(&methods, "post"));
    }

    #[test]
    fn messages_are_flask_jwt_extended_s() {
        assert_eq!(CsrfError::Missing.message(), "Missing CSRF token");
        assert_eq!(
            CsrfError::Mismatch.message(),
            "CSRF double submit tokens do not match"
        );
        assert_eq!(CsrfError::MissingClaim.message(), "Missing claim: csrf");
    }
}
