//! The `type` claim's two values: Flask-JWT-Extended's access and refresh tokens. A leaf, so the
//! claims (which carry it) and the errors (which name the type a use expected) can both use it.

use serde::{Deserialize, Serialize};

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
