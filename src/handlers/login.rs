//! `POST /login`: trade a username and password for an access token (fresh) and a refresh token.
//!
//! Order of checks: content type (415), body size (413), JSON (400), fields (400), then the password
//! check on the password-check threads (401). The password check costs one bcrypt verification whether or not
//! the user exists, so neither the answer nor its timing tells which usernames are real.

use std::sync::Arc;
use std::time::Instant;

use hyper::{Request, Response, StatusCode};

use super::peer;
use super::tokens::{issue_session, tokens_response};
use crate::app::AppState;
use crate::auth::password_checks::CheckError;
use crate::auth::throttle::ThrottleUnavailable;
use crate::http::client_addr::ClientAddr;
use crate::http::error::ApiError;
use crate::http::request::{RequestBody, is_json_content_type, json_body, read_body};
use crate::http::response::Body;
use crate::jwt::TokenType;
use crate::metrics::LoginResult;

#[derive(serde::Serialize)]
struct TokenPair<'a> {
    access_token: &'a str,
    refresh_token: &'a str,
}

pub async fn login<B: RequestBody>(
    state: Arc<AppState>,
    request: Request<B>,
    peer: Option<ClientAddr>,
) -> Result<Response<Body>, ApiError> {
    let answer = attempt(&state, request, peer).await;
    state.metrics.login(result_of(&answer));
    answer
}

/// How a login ended, for `/metrics`: each refusal has its own status (docs/http.md §2).
fn result_of(answer: &Result<Response<Body>, ApiError>) -> LoginResult {
    match answer {
        Ok(_) => LoginResult::Ok,
        Err(error) => match error.status {
            StatusCode::UNAUTHORIZED => LoginResult::WrongCredentials,
            StatusCode::TOO_MANY_REQUESTS => LoginResult::Throttled,
            StatusCode::SERVICE_UNAVAILABLE if *error == ApiError::store_unavailable() => {
                LoginResult::StoreUnavailable
            }
            StatusCode::SERVICE_UNAVAILABLE => LoginResult::Busy,
            status if status.is_client_error() => LoginResult::BadRequest,
            _ => LoginResult::Error,
        },
    }
}

async fn attempt<B: RequestBody>(
    state: &AppState,
    request: Request<B>,
    peer: Option<ClientAddr>,
) -> Result<Response<Body>, ApiError> {
    if !is_json_content_type(request.headers()) {
        return Err(ApiError::unsupported_media_type());
    }
    let (parts, body) = request.into_parts();
    let bytes = read_body(&parts.headers, body, state.body_limits).await?;
    let (username, password) = parse_credentials(&bytes)?;
    // Too many recent failures for this name or from this address: refuse before any bcrypt work.
    let client = peer::client(state, &parts, peer);
    // (With Redis, the counts of every instance; if it can't be asked, 503: docs/scaling.md.)
    if let Some((wait, limit)) = state
        .login_throttle
        .check(&username, client, Instant::now())
        .await
        .map_err(throttle_unavailable)?
    {
        state.metrics.limit_hit(limit);
        state.login_throttle.warn_refused(limit, client);
        return Err(ApiError::too_many_attempts(wait));
    }

    // bcrypt is slow on purpose: it runs on the low-priority check threads, a bounded number at a
    // time, shared fairly between client addresses; when every place is taken a login waits a
    // bounded time for one, then gets 503 (auth/password_checks.rs).
    let users = state.users.current();
    let valid = state
        .password_checks
        .check(Arc::clone(&users), username.clone(), password, client)
        .await
        .map_err(|e| match e {
            CheckError::Busy => ApiError::busy(),
            CheckError::Failed => ApiError::internal(),
        })?;
    if !valid {
        state
            .login_throttle
            .count_failure(&username, client, Instant::now())
            .await
            .map_err(throttle_unavailable)?;
        // Debug formatting escapes control characters, so a username can't forge log lines.
        let shown: String = username.chars().take(64).collect();
        log::info!("failed login for user {shown:?}");
        return Err(ApiError::invalid_credentials());
    }

    state.login_throttle.reset(&username).await;
    // A new session: both tokens in one new family (handlers/tokens.rs).
    let (access, refresh) = issue_session(state, &username, &users)?;
    let body = TokenPair {
        access_token: &access.token,
        refresh_token: &refresh.token,
    };
    let new = [(TokenType::Access, &access), (TokenType::Refresh, &refresh)];
    tokens_response(state, &body, &new)
}

/// The shared login counters could not be asked: refuse rather than count nothing (fail closed).
fn throttle_unavailable(e: ThrottleUnavailable) -> ApiError {
    log::error!(
        "login refused: the failed-login counters are unavailable: {}",
        e.0
    );
    ApiError::store_unavailable()
}

/// Reads `{"username": "...", "password": "..."}`. An empty body, a JSON value that is not an object,
/// and a field that is absent, not a string or empty all mean "Missing username or password".
pub fn parse_credentials(body: &[u8]) -> Result<(String, String), ApiError> {
    const MISSING: &str = "Missing username or password";
    let Some(value) = json_body(body)? else {
        return Err(ApiError::bad_request(MISSING));
    };
    let field = |name: &str| {
        value
            .get(name)
            .and_then(serde_json::Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    match (field("username"), field("password")) {
        (Some(username), Some(password)) => Ok((username, password)),
        _ => Err(ApiError::bad_request(MISSING)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_credentials() {
        let (u, p) = parse_credentials(br#"{"username":"user1","password":"password1"}"#).unwrap();
        assert_eq!((u.as_str(), p.as_str()), ("user1", "password1"));
    }

    #[test]
    fn missing_fields() {
        for body in [
            &b""[..],
            b"  \n",
            b"{}",
            br#"{"username":"user1"}"#,
            br#"{"password":"x"}"#,
            br#"{"username":"","password":""}"#,
            br#"{"username":"user1","password":7}"#,
            br#"{"username":null,"password":"x"}"#,
            br#"{"username":["user1"],"password":"x"}"#,
            b"[]",
            b"\"user1\"",
            b"null",
        ] {
            let err = parse_credentials(body).unwrap_err();
            assert_eq!(
                err.msg,
                "Missing username or password",
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn invalid_json() {
        for body in [
            &br#"{"username": "user1", "password": "#[..],
            b"username=user1&password=password1",
            b"{'username':'user1'}",
            b"\xff\xfe",
        ] {
            let err = parse_credentials(body).unwrap_err();
            assert_eq!(
                err.msg,
                "Invalid JSON body",
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
