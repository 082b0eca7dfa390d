//! Black-box tests of the token lifecycle over real sockets: refresh, logout, revocation (in memory
//! and persisted), refresh-token rotation, key rotation, and Flask-JWT-Extended tokens.

mod support;

use hyperjwt::jwt::TokenType;
use jsonwebtoken::{Algorithm, Header};
use support::*;

#[tokio::test]
async fn refresh_returns_a_working_non_fresh_access_token() {
    let server = start(&[]).await;
    let (_, refresh) = login(server.addr, "user1", "password1").await;
    let reply = present(server.addr, "/refresh", &refresh).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let json = reply.json();
    assert!(
        json.get("refresh_token").is_none(),
        "no rotation by default: {json}"
    );
    let access = json["access_token"].as_str().unwrap();
    let claims = decode_part(access, 1);
    assert_eq!(claims["fresh"], false);
    assert_eq!(claims["type"], "access");
    let me = present(server.addr, "/protected", access).await;
    assert_eq!(me.json(), serde_json::json!({"logged_in_as": "user1"}));
}

#[tokio::test]
async fn refresh_refuses_access_tokens_and_protected_refuses_refresh_tokens() {
    let server = start(&[]).await;
    let access = sign(&claims("user1", TokenType::Access));
    let refresh = sign(&claims("user1", TokenType::Refresh));
    let reply = present(server.addr, "/refresh", &access).await;
    assert_error(&reply, 401, "Only refresh tokens are allowed");
    let challenge = reply.header("www-authenticate").unwrap();
    assert!(challenge.contains("invalid_token"), "{challenge}");
    let reply = present(server.addr, "/protected", &refresh).await;
    assert_error(&reply, 401, "Only non-refresh tokens are allowed");
}

#[tokio::test]
async fn refresh_and_logout_need_a_token() {
    let server = start(&[]).await;
    for path in ["/refresh", "/logout"] {
        let reply = post_json(server.addr, path, None, "").await;
        assert_eq!(
            (reply.status, reply.msg().as_str()),
            (401, "Missing Authorization Header"),
            "{path}"
        );
        let reply = request(server.addr, "GET", path, &[], b"").await;
        assert_eq!(reply.status, 405, "{path}");
        assert_eq!(reply.header("allow"), Some("POST, OPTIONS"));
    }
}

#[tokio::test]
async fn refresh_for_a_user_that_no_longer_exists_is_404() {
    let server = start(&[]).await;
    let refresh = sign(&claims("ghost", TokenType::Refresh));
    let reply = present(server.addr, "/refresh", &refresh).await;
    assert_error(&reply, 404, "User not found");
}

#[tokio::test]
async fn logout_revokes_the_access_token_everywhere() {
    let server = start(&[]).await;
    let access = sign(&claims("user1", TokenType::Access));
    assert_eq!(
        present(server.addr, "/protected", &access).await.status,
        200
    );
    let reply = present(server.addr, "/logout", &access).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json(),
        serde_json::json!({"msg": "Successfully logged out"})
    );
    let reply = present(server.addr, "/protected", &access).await;
    assert_error(&reply, 401, "Token has been revoked");
    let challenge = reply.header("www-authenticate").unwrap();
    assert!(challenge.contains("invalid_token"), "{challenge}");
    let again = present(server.addr, "/logout", &access).await;
    assert_error(&again, 401, "Token has been revoked");
    // Another token of the same user is unaffected: revocation is per token, not per user.
    let other = sign(&claims("user1", TokenType::Access));
    assert_eq!(present(server.addr, "/protected", &other).await.status, 200);
}

#[tokio::test]
async fn logout_with_a_refresh_token_revokes_it() {
    let server = start(&[]).await;
    let refresh = sign(&claims("user1", TokenType::Refresh));
    assert_eq!(present(server.addr, "/logout", &refresh).await.status, 200);
    let reply = present(server.addr, "/refresh", &refresh).await;
    assert_error(&reply, 401, "Token has been revoked");
}

#[tokio::test]
async fn logout_body_can_name_the_refresh_token_too() {
    let server = start(&[]).await;
    let access = sign(&claims("user1", TokenType::Access));
    let refresh = sign(&claims("user1", TokenType::Refresh));
    let body = format!(r#"{{"refresh_token":"{refresh}"}}"#);
    assert_eq!(
        post_json(server.addr, "/logout", Some(&access), &body)
            .await
            .status,
        200
    );
    assert_eq!(
        present(server.addr, "/protected", &access).await.status,
        401
    );
    let reply = present(server.addr, "/refresh", &refresh).await;
    assert_error(&reply, 401, "Token has been revoked");
}

#[tokio::test]
async fn logout_checks_the_named_refresh_token_before_revoking_anything() {
    let server = start(&[]).await;
    let access = sign(&claims("user1", TokenType::Access));
    let not_refresh = sign(&claims("user1", TokenType::Access));
    let body = format!(r#"{{"refresh_token":"{not_refresh}"}}"#);
    let reply = post_json(server.addr, "/logout", Some(&access), &body).await;
    assert_error(&reply, 401, "Only refresh tokens are allowed");
    // Nothing was revoked: the presented token still works.
    assert_eq!(
        present(server.addr, "/protected", &access).await.status,
        200
    );
    let reply = post_json(server.addr, "/logout", Some(&access), "{not json").await;
    assert_error(&reply, 400, "Invalid JSON body");
    let reply = post_json(
        server.addr,
        "/logout",
        Some(&access),
        r#"{"refresh_token":7}"#,
    )
    .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        present(server.addr, "/protected", &access).await.status,
        200
    );
}

// ---------------------------------------------------------------------------------------------
// Token shapes the parsers must refuse even under a valid MAC, at every route that takes a token
// ---------------------------------------------------------------------------------------------

/// The routes that verify a token, each with the type of token it accepts.
const TOKEN_ROUTES: [(&str, TokenType); 4] = [
    ("/protected", TokenType::Access),
    ("/refresh", TokenType::Refresh),
    ("/logout", TokenType::Access),
    ("/logout", TokenType::Refresh),
];

const OBJECT_HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

fn assert_invalid_token(reply: &Reply, what: &str) {
    assert_eq!(
        (reply.status, reply.msg().as_str()),
        (401, "Invalid token"),
        "{what}"
    );
    assert_eq!(
        reply.header("www-authenticate"),
        Some(r#"Bearer error="invalid_token""#),
        "{what}"
    );
}

/// Fresh claims for `token_type` as a JSON object, the shape RFC 7519 §7.2 step 10 requires.
fn object_payload(token_type: TokenType) -> String {
    serde_json::to_string(&claims("user1", token_type)).unwrap()
}

/// The same claims as a JSON array in field order (`sub`, `iat`, `nbf`, `exp`, `jti`, `type`,
/// `fresh`): what serde's derived `Deserialize` would read by position.
fn array_payload(token_type: TokenType) -> String {
    let c = claims("user1", token_type);
    serde_json::json!([c.sub, c.iat, c.nbf, c.exp, c.jti, c.token_type, c.fresh]).to_string()
}

#[tokio::test]
async fn array_headers_are_invalid_tokens_at_protected_refresh_and_logout() {
    let server = start(&[]).await;
    for (route, token_type) in TOKEN_ROUTES {
        for header in [r#"["HS256"]"#, r#"["HS256","JWT"]"#] {
            let token = forge(header, object_payload(token_type));
            let reply = present(server.addr, route, &token).await;
            assert_invalid_token(&reply, &format!("{header} at {route}"));
        }
        // The same forge with the object header is accepted: only the header's shape was refused.
        let token = forge(OBJECT_HEADER, object_payload(token_type));
        let reply = present(server.addr, route, &token).await;
        assert_eq!(reply.status, 200, "object header at {route}");
    }
}

#[tokio::test]
async fn array_payloads_are_invalid_tokens_at_protected_refresh_and_logout() {
    let server = start(&[]).await;
    for (route, token_type) in TOKEN_ROUTES {
        let token = forge(OBJECT_HEADER, array_payload(token_type));
        let reply = present(server.addr, route, &token).await;
        assert_invalid_token(&reply, &format!("array payload at {route}"));
        let token = forge(OBJECT_HEADER, object_payload(token_type));
        let reply = present(server.addr, route, &token).await;
        assert_eq!(reply.status, 200, "object payload at {route}");
    }
    // Nor is an array refresh token accepted as the one a logout body names; nothing is revoked.
    let access = sign(&claims("user1", TokenType::Access));
    let named = forge(OBJECT_HEADER, array_payload(TokenType::Refresh));
    let body = format!(r#"{{"refresh_token":"{named}"}}"#);
    let reply = post_json(server.addr, "/logout", Some(&access), &body).await;
    assert_invalid_token(&reply, "array refresh token in a logout body");
    assert_eq!(
        present(server.addr, "/protected", &access).await.status,
        200
    );
}

/// RFC 7515 §5.2 step 3: the header is UTF-8, all of it. An invalid byte inside a member the server
/// ignores (`"x"`) is refused like one in the payload, though the MAC is right.
#[tokio::test]
async fn headers_that_are_not_utf8_are_invalid_tokens_at_protected_refresh_and_logout() {
    let server = start(&[]).await;
    for (route, token_type) in TOKEN_ROUTES {
        let token = forge(
            b"{\"alg\":\"HS256\",\"x\":\"\xb0\"}",
            object_payload(token_type),
        );
        let reply = present(server.addr, route, &token).await;
        assert_invalid_token(&reply, &format!("non-UTF-8 header at {route}"));
        // The same member, valid UTF-8, is ignored.
        let token = forge(r#"{"alg":"HS256","x":"°"}"#, object_payload(token_type));
        let reply = present(server.addr, route, &token).await;
        assert_eq!(reply.status, 200, "UTF-8 header at {route}");
    }
}

/// A `jti` of `""` names no token: every such token would share one denylist entry, so it is
/// refused as if it were missing.
#[tokio::test]
async fn empty_jti_tokens_are_invalid_at_protected_refresh_and_logout() {
    let server = start(&[]).await;
    for (route, token_type) in TOKEN_ROUTES {
        let mut empty = claims("user1", token_type);
        empty.jti = "".into();
        let reply = present(server.addr, route, &sign(&empty)).await;
        assert_invalid_token(&reply, &format!("empty jti at {route}"));
    }
}

#[tokio::test]
async fn rotation_returns_a_new_refresh_token_and_refuses_the_used_one() {
    let server = start(&[("JWT_REFRESH_ROTATION", "true")]).await;
    let (_, first) = login(server.addr, "user2", "password2").await;
    let reply = present(server.addr, "/refresh", &first).await;
    assert_eq!(reply.status, 200);
    let json = reply.json();
    let second = json["refresh_token"]
        .as_str()
        .expect("a rotated refresh token")
        .to_string();
    assert_ne!(second, first);
    let access = json["access_token"].as_str().unwrap();
    assert_eq!(present(server.addr, "/protected", access).await.status, 200);
    // The new one works once.
    let reply = present(server.addr, "/refresh", &second).await;
    assert_eq!(reply.status, 200);
    let third = reply.json()["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(present(server.addr, "/refresh", &second).await.status, 401);
    // That reuse ended the session (sessions.rs has the details): the newest token is refused too.
    assert_eq!(present(server.addr, "/refresh", &third).await.status, 401);
}

#[tokio::test]
async fn rotation_lets_only_one_of_two_racing_refreshes_win() {
    let server = start(&[("JWT_REFRESH_ROTATION", "true")]).await;
    let refresh = sign(&claims("user1", TokenType::Refresh));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (addr, token) = (server.addr, refresh.clone());
        tasks.push(tokio::spawn(async move {
            post_json(addr, "/refresh", Some(&token), "").await.status
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 401, 401, 401, 401, 401, 401, 401]);
}

const OLD_KEY: &str = "the-previous-key-0123456789abcdef012345";

#[tokio::test]
async fn tokens_of_a_previous_key_verify_until_they_expire() {
    let server = start(&[("JWT_PREVIOUS_SECRET_KEYS", OLD_KEY)]).await;
    let old = sign_with(OLD_KEY, &claims("user1", TokenType::Access));
    let reply = present(server.addr, "/protected", &old).await;
    assert_eq!(reply.status, 200);
    // Expired under the old key is still expired.
    let mut expired = claims("user1", TokenType::Access);
    expired.exp = Some(hyperjwt::jwt::now() - 5);
    let reply = get(
        server.addr,
        "/protected",
        Some(&sign_with(OLD_KEY, &expired)),
    )
    .await;
    assert_error(&reply, 401, "Token has expired");
}

#[tokio::test]
async fn new_tokens_are_signed_with_the_current_key_only() {
    let server = start(&[("JWT_PREVIOUS_SECRET_KEYS", OLD_KEY)]).await;
    let (access, _) = login(server.addr, "user1", "password1").await;
    let header = decode_part(&access, 0);
    let current = hyperjwt::jwt::Hs256Key::new(SECRET.as_bytes());
    assert_eq!(header["kid"], current.kid());
    // A server that only knows the old key refuses it.
    let old_only = start(&[("JWT_SECRET_KEY", OLD_KEY)]).await;
    let reply = present(old_only.addr, "/protected", &access).await;
    assert_error(&reply, 401, "Signature verification failed");
}

#[tokio::test]
async fn unknown_keys_and_kid_less_old_tokens_are_refused() {
    let server = start(&[("JWT_PREVIOUS_SECRET_KEYS", OLD_KEY)]).await;
    let stranger = sign_with(
        "a-key-nobody-configured-0123456789abcdef",
        &claims("user1", TokenType::Access),
    );
    let reply = present(server.addr, "/protected", &stranger).await;
    assert_error(&reply, 401, "Signature verification failed");
    // Signed with the old key but without `kid`: only the current key is tried.
    let no_kid = sign_jsonwebtoken(
        Header::new(Algorithm::HS256),
        OLD_KEY.as_bytes(),
        &claims("user1", TokenType::Access),
    );
    let reply = present(server.addr, "/protected", &no_kid).await;
    assert_error(&reply, 401, "Signature verification failed");
    // Without `kid` but with the current key (how Flask-JWT-Extended signs): accepted.
    let current_no_kid = sign_jsonwebtoken(
        Header::new(Algorithm::HS256),
        SECRET.as_bytes(),
        &claims("user1", TokenType::Access),
    );
    assert_eq!(
        get(server.addr, "/protected", Some(&current_no_kid))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn flask_jwt_extended_tokens_work_against_a_server_with_the_same_secret() {
    let fixtures = flask_fixtures();
    let server = start(&[("JWT_SECRET_KEY", fixtures["secret"].as_str().unwrap())]).await;
    let access = fixtures["long_access_with_csrf"]["token"].as_str().unwrap();
    let reply = present(server.addr, "/protected", access).await;
    assert_eq!(reply.json(), serde_json::json!({"logged_in_as": "user1"}));
    let refresh = fixtures["long_refresh_with_csrf"]["token"]
        .as_str()
        .unwrap();
    let reply = present(server.addr, "/refresh", refresh).await;
    assert_eq!(reply.status, 200);
    // And a Flask token can be logged out like any other.
    assert_eq!(present(server.addr, "/logout", access).await.status, 200);
    assert_eq!(present(server.addr, "/protected", access).await.status, 401);
}

#[tokio::test]
async fn revocations_survive_a_restart_with_denylist_file() {
    let dir = temp_dir("lifecycle-restart");
    let file = dir.join("denylist");
    let file_str = file.to_str().unwrap();
    let access = sign(&claims("user1", TokenType::Access));
    let kept = sign(&claims("user1", TokenType::Access));
    let first = start(&[("DENYLIST_FILE", file_str)]).await;
    assert_eq!(present(first.addr, "/logout", &access).await.status, 200);
    first.shutdown().await;
    let second = start(&[("DENYLIST_FILE", file_str)]).await;
    let reply = present(second.addr, "/protected", &access).await;
    assert_error(&reply, 401, "Token has been revoked");
    assert_eq!(present(second.addr, "/protected", &kept).await.status, 200);
    second.shutdown().await;
}

#[tokio::test]
async fn without_denylist_file_revocations_are_forgotten_on_restart() {
    let access = sign(&claims("user1", TokenType::Access));
    let first = start(&[]).await;
    assert_eq!(present(first.addr, "/logout", &access).await.status, 200);
    first.shutdown().await;
    let second = start(&[]).await;
    assert_eq!(
        present(second.addr, "/protected", &access).await.status,
        200
    );
}

#[test]
fn unusable_denylist_file_stops_start_up_naming_the_key() {
    let dir = temp_dir("lifecycle-unusable");
    let missing_dir = dir.join("no-such-dir").join("denylist");
    let config = config(&[("DENYLIST_FILE", missing_dir.to_str().unwrap())]);
    let err = hyperjwt::App::from_config(&config).unwrap_err().to_string();
    assert!(err.contains("DENYLIST_FILE"), "{err}");
}
