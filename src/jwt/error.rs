//! Why a token was refused: one variant per way to fail, in the order of the pipeline's steps
//! ([`Step`](super::Step)); the three base64url steps (3, 8, 9) share [`JwtError::Base64`].
//!
//! The JWT module never talks HTTP; the server maps every variant to a 401 with [`JwtError::message`],
//! the text clients written against Flask-JWT-Extended already expect.

use std::fmt;

use super::token_type::TokenType;

/// A token failed one step of verification (RFC 7515 §5.2, RFC 7519 §7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtError {
    /// Step 1: longer than the configured bound; refused before any decoding work.
    TooLong,
    /// Step 2: not exactly three `.`-separated segments (RFC 7515 §7.1, compact serialization).
    Segments,
    /// Steps 3, 8, 9: a segment is not unpadded base64url (RFC 7515 §2: no `=`, no `+` or `/`, canonical trailing
    /// bits), or the signature does not decode to exactly 32 bytes (one HMAC-SHA256 output).
    Base64,
    /// Step 4: the JOSE header is not a UTF-8 JSON object with a string `alg` (RFC 7515 §5.2 steps 2–3); an
    /// array is refused too, however well it would fill the fields by position.
    Header,
    /// Step 5: `alg` names no algorithm our keys sign with — `none` included; or step 7: the key
    /// `kid` names has another algorithm (RFC 8725 §3.1: algorithm confusion).
    Algorithm,
    /// Step 6: the header carries `crit`: we understand no extensions, so we must refuse (RFC 7515 §4.1.11).
    Critical,
    /// Step 7: `kid` names none of our public keys (or, without a `kid`, no one key has the header's
    /// algorithm). HS256 tokens never get this: without a known `kid` they are checked with the
    /// current secret.
    Key,
    /// Step 10: the signature does not match (RFC 7515 §5.2 step 8, RFC 7518 §3.2–3.4, RFC 8037).
    Signature,
    /// Step 11: the payload is not a JSON object of the claims we require, with the right types and a non-empty
    /// `jti` (RFC 7519 §7.2 step 10, §4.1.7); an array is refused too.
    Claims,
    /// Step 12: no `exp`. Tokens without an end are never accepted here (our rule, docs/http.md §4;
    /// PyJWT `require=["exp"]`).
    MissingExp,
    /// Step 12: `exp` is in the past, beyond the leeway (RFC 7519 §4.1.4).
    Expired,
    /// Step 13: `nbf` is in the future, beyond the leeway (RFC 7519 §4.1.5).
    NotYetValid,
    /// Step 14: the token is of the other `type` (Flask-JWT-Extended's access/refresh distinction).
    WrongType { expected: TokenType },
    /// Step 15: `iss` differs from the configured issuer (RFC 7519 §4.1.1).
    Issuer,
    /// Step 16: `aud` does not name us, or names anyone while we expect no audience (RFC 7519 §4.1.3).
    Audience,
    /// Step 17: the token's `jti` was revoked (logout, or a refresh token already used under rotation). The
    /// denylist lives outside this module; the variant is here so every refusal has one type.
    Revoked,
}

impl JwtError {
    /// The client-facing text (docs/http.md §3). Malformed tokens all read `Invalid token`: the precise parse
    /// failure helps an attacker probe the parser more than it helps a legitimate client.
    pub fn message(self) -> &'static str {
        match self {
            JwtError::TooLong
            | JwtError::Segments
            | JwtError::Base64
            | JwtError::Header
            | JwtError::Algorithm
            | JwtError::Critical
            | JwtError::Claims => "Invalid token",
            JwtError::Key | JwtError::Signature => "Signature verification failed",
            JwtError::MissingExp => "Token is missing the \"exp\" claim",
            JwtError::Expired => "Token has expired",
            JwtError::NotYetValid => "Token not yet valid",
            JwtError::WrongType {
                expected: TokenType::Access,
            } => "Only non-refresh tokens are allowed",
            JwtError::WrongType {
                expected: TokenType::Refresh,
            } => "Only refresh tokens are allowed",
            JwtError::Issuer => "Invalid issuer",
            JwtError::Audience => "Invalid audience",
            JwtError::Revoked => "Token has been revoked",
        }
    }

    /// True for the refusals of the JWS layer ([`verify_signature`](super::verify_signature)):
    /// steps 1–10, everything up to and including the MAC. Nothing after these looks at the claims.
    pub fn is_signature_layer(self) -> bool {
        matches!(
            self,
            JwtError::TooLong
                | JwtError::Segments
                | JwtError::Base64
                | JwtError::Header
                | JwtError::Algorithm
                | JwtError::Critical
                | JwtError::Key
                | JwtError::Signature
        )
    }

    /// A precise description for logs and learners (never sent to clients).
    pub fn detail(self) -> &'static str {
        match self {
            JwtError::TooLong => "token longer than the configured maximum",
            JwtError::Segments => "token is not three base64url segments separated by '.'",
            JwtError::Base64 => "segment is not unpadded base64url",
            JwtError::Header => "header is not a JSON object with a string \"alg\"",
            JwtError::Algorithm => "\"alg\" does not match our keys' algorithm",
            JwtError::Critical => "header has a \"crit\" parameter",
            JwtError::Key => "\"kid\" names none of our keys",
            JwtError::Signature => "signature does not match",
            JwtError::Claims => "payload is not a JSON object with valid claims",
            JwtError::MissingExp => "no \"exp\" claim",
            JwtError::Expired => "\"exp\" is in the past",
            JwtError::NotYetValid => "\"nbf\" is in the future",
            JwtError::WrongType {
                expected: TokenType::Access,
            } => "expected an access token, got a refresh token",
            JwtError::WrongType {
                expected: TokenType::Refresh,
            } => "expected a refresh token, got an access token",
            JwtError::Issuer => "\"iss\" does not match the configured issuer",
            JwtError::Audience => "\"aud\" does not match the configured audience",
            JwtError::Revoked => "the token's \"jti\" is on the denylist",
        }
    }
}

impl fmt::Display for JwtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.detail())
    }
}

impl std::error::Error for JwtError {}
