//! What the token endpoints share: starting a session and issuing tokens in it (`/login`,
//! `/refresh`), answering with tokens, and ending tokens, sessions and users (`/logout`,
//! `/logout/all`, rotation at `/refresh`), each with its failure already turned into the answer to
//! send; with cookies on, the `Set-Cookie` lines that carry new tokens to a browser and take them
//! away (`crate::http::cookies`).

use hyper::Response;
use hyper::header::{self, HeaderValue};

use super::authenticate::ended_refused;
use super::json::json_ok;
use crate::app::AppState;
use crate::auth::sessions::{self, Ended};
use crate::auth::tokens::Issued;
use crate::http::error::ApiError;
use crate::http::response::Body;
use crate::jwt::{self, Claims, TokenType};
use crate::metrics::Revoked;
use crate::store::denylist::{JournalError, Revocation};
use crate::store::users::UserStore;

/// RFC 6749 §5.1: responses carrying tokens must not be cached.
const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");

/// A new token for `sub` in the session `fam`; a failed random generator is a 500 (no token
/// without a random `jti`).
pub fn issue_in(
    state: &AppState,
    sub: &str,
    token_type: TokenType,
    fresh: bool,
    fam: &str,
) -> Result<Issued, ApiError> {
    state
        .tokens
        .issue_in(sub, token_type, fresh, fam)
        .map_err(|_| ApiError::internal())
}

/// A new session id for `user`, starting now and never at or before the user's cutoff.
pub fn new_family(state: &AppState, user: &str) -> Result<String, ApiError> {
    let start = sessions::session_start(&state.denylist, user);
    state
        .tokens
        .new_family(start)
        .map_err(|_| ApiError::internal())
}

/// Starts a session for `user`, whose password was just checked against `checked`: an access
/// token (fresh) and a refresh token, in one new family.
///
/// If the password changed while bcrypt ran (a reload swapped the users), the check proved the old
/// password, which must not open a session: 401, as for a wrong password. The session's start is
/// read first: a reload ends sessions *before* it swaps the users, so a login that still sees the
/// old hash here started its session before that cutoff, and one that sees the new hash has seen
/// the cutoff too.
pub fn issue_session(
    state: &AppState,
    user: &str,
    checked: &UserStore,
) -> Result<(Issued, Issued), ApiError> {
    let fam = new_family(state, user)?;
    if state.users.current().hash(user) != checked.hash(user) {
        return Err(ApiError::invalid_credentials());
    }
    Ok((
        issue_in(state, user, TokenType::Access, true, &fam)?,
        issue_in(state, user, TokenType::Refresh, false, &fam)?,
    ))
}

/// A 200 carrying tokens, marked `Cache-Control: no-store`: `body` in JSON and, when cookies are a
/// location, each new token in its cookie (with its readable CSRF cookie).
pub fn tokens_response<T: serde::Serialize>(
    state: &AppState,
    body: &T,
    new: &[(TokenType, &Issued)],
) -> Result<Response<Body>, ApiError> {
    let mut response = json_ok(body)?;
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, NO_STORE);
    if let Some(cookies) = &state.cookies {
        for (kind, issued) in new {
            cookies.set(headers, *kind, &issued.token, issued.csrf.as_deref())?;
        }
    }
    Ok(response)
}

/// Adds to `response` the `Set-Cookie` lines that delete the token cookies, when cookies are a
/// location: the end of a browser session.
pub fn clear_cookies(state: &AppState, response: &mut Response<Body>) -> Result<(), ApiError> {
    match &state.cookies {
        Some(cookies) => cookies.clear(response.headers_mut()),
        None => Ok(()),
    }
}

/// Revokes `jti` (whose token expires at `exp`). A journal that could not be written is a 500: the
/// revocation holds in memory, but it was not made durable, so it is not acknowledged.
pub async fn revoke(state: &AppState, jti: &str, exp: i64) -> Result<Revocation, ApiError> {
    let revocation = state
        .denylist
        .revoke(jti, exp, jwt::now())
        .await
        .map_err(unwritten)?;
    counted(state, revocation, Revoked::Token);
    Ok(revocation)
}

/// Counts a revocation that is new (and durable) for `/metrics`.
fn counted(state: &AppState, revocation: Revocation, kind: Revoked) {
    if revocation == Revocation::Revoked {
        state.metrics.revoked(kind);
    }
}

/// Ends the session `fam`, every token issued in it, for as long as one of them can be alive.
pub async fn revoke_family(state: &AppState, fam: &str) -> Result<Revocation, ApiError> {
    let now = jwt::now();
    let until = now.saturating_add(state.tokens.session_lifetime());
    let revocation = state
        .denylist
        .revoke_family(fam, until, now)
        .await
        .map_err(unwritten)?;
    counted(state, revocation, Revoked::Session);
    Ok(revocation)
}

/// Ends the token of `claims` and its whole session (a token without `fam` is a session of its own):
/// the session first, so that once any part is done the token is refused everywhere.
///
/// For the token that authenticates the request (`presented`), finding it already ended means
/// another request ended it first (the same logout sent twice at once, or sent again after a 503
/// whose reply was lost after Redis had applied it): that one got the 200, and this one the 401 it
/// would have got a moment later, `Token has been revoked` (docs/http.md: a retry is always safe).
pub async fn end_session(
    state: &AppState,
    claims: &Claims<'_>,
    presented: bool,
) -> Result<(), ApiError> {
    if let Some(fam) = &claims.fam {
        let ended = revoke_family(state, fam).await?;
        if presented && ended == Revocation::AlreadyRevoked {
            return Err(ended_refused(state, Ended::Family));
        }
    }
    let ended = revoke(state, &claims.jti, claims.exp.unwrap_or_default()).await?;
    if presented && ended == Revocation::AlreadyRevoked && claims.fam.is_none() {
        return Err(ended_refused(state, Ended::Token));
    }
    Ok(())
}

/// Ends every session of `user` that started up to now.
pub async fn end_every_session(state: &AppState, user: &str) -> Result<(), ApiError> {
    let now = jwt::now();
    let until = now.saturating_add(state.tokens.session_lifetime());
    state
        .denylist
        .cut_off(user, sessions::now_ms(), until, now)
        .await
        .map_err(unwritten)?;
    state.metrics.revoked(Revoked::User);
    Ok(())
}

/// A journal that could not be written is a 500: the revocation holds in memory, but it was not
/// made durable, so it is not acknowledged. A shared store (Redis) that could not be reached is a
/// 503 with `Retry-After`: the revocation was not acknowledged (a frozen Redis may still apply it
/// when it resumes), and the same request can be sent again.
fn unwritten(e: JournalError) -> ApiError {
    log::error!("{e}");
    match e {
        JournalError::Disk(_) => ApiError::internal(),
        #[cfg(feature = "redis")]
        JournalError::Shared(_) => ApiError::store_unavailable(),
    }
}
