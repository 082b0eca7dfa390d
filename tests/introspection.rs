//! `POST /introspect` (RFC 7662) over HTTP: it answers its clients only, says exactly
//! `{"active":false}` of anything not accepted now (revoked, sessions ended, users removed, refresh
//! families ended), and checks its form; with
//! HS256 tokens, and with EdDSA ones in a build with the `public-keys` feature. And the JWKS of an
//! HS256 server, which publishes no key.

mod support;

use hyperjwt::jwt::{self, Algorithm};
use support::keys::{CLIENT, basic, introspect, make_key_set};
use support::{
    assert_error, decode_part, dir_str, get, login, post_json, refreshed, request, start,
    start_app, temp_dir, users_file,
};

#[tokio::test]
async fn hs256_publishes_an_empty_set_and_signs_as_before() {
    let server = start(&[]).await;
    let reply = get(server.addr, "/.well-known/jwks.json", None).await;
    assert_eq!(reply.json(), serde_json::json!({"keys": []}));
    assert_eq!(reply.header("cache-control"), Some("public, max-age=300"));
    let (access, _) = login(server.addr, "user1", "password1").await;
    assert_eq!(decode_part(&access, 0)["alg"], "HS256");
}

#[tokio::test]
async fn introspection_answers_its_clients_only_and_says_nothing_of_inactive_tokens() {
    let algorithms: &[&str] = if cfg!(feature = "public-keys") {
        &["HS256", "EdDSA"]
    } else {
        &["HS256"]
    };
    for &alg in algorithms {
        let dir = temp_dir("keys-introspect");
        let keys = dir.join("keys");
        let mut pairs = vec![("INTROSPECTION_CLIENTS", CLIENT.to_string())];
        if alg != "HS256" {
            make_key_set(&keys, Algorithm::EdDsa);
            pairs.push(("JWT_ALGORITHM", alg.into()));
            pairs.push(("JWT_KEYS_DIR", dir_str(&keys)));
        }
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let server = start(&pairs).await;
        let addr = server.addr;
        let (access, refresh) = login(addr, "user1", "password1").await;
        let body = format!("token={access}&token_type_hint=access_token");

        // No credentials, a wrong secret, an unknown client: 401 with a Basic challenge.
        for client in [
            None,
            Some("gateway:wrong-secret-0123456789"),
            Some("nobody:introspection-secret-0123"),
        ] {
            let reply = introspect(addr, client, &body).await;
            assert_error(&reply, 401, "Client authentication failed");
            assert!(
                reply
                    .header("www-authenticate")
                    .unwrap()
                    .starts_with("Basic ")
            );
        }
        let reply = introspect(addr, Some(CLIENT), &body).await;
        assert_eq!(reply.status, 200, "{reply:?}");
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        let active = reply.json();
        assert_eq!(active["active"], true);
        assert_eq!(active["sub"], "user1");
        assert_eq!(active["token_type"], "access_token");
        assert_eq!(active["jti"], decode_part(&access, 1)["jti"]);
        assert!(active["exp"].as_i64().unwrap() > active["iat"].as_i64().unwrap());
        // A refresh token, even with the other hint.
        let body = format!("token={refresh}&token_type_hint=access_token");
        let reply = introspect(addr, Some(CLIENT), &body).await;
        assert_eq!(reply.json()["token_type"], "refresh_token");

        // Unknown, malformed, forged, expired: exactly {"active":false}.
        let mut expired = support::claims("user1", jwt::TokenType::Access);
        expired.exp = Some(jwt::now() - 10);
        for token in [
            "garbage".to_string(),
            format!("{access}x"),
            support::sign_with(
                "another-secret-of-at-least-32-bytes!!",
                &support::claims("user1", jwt::TokenType::Access),
            ),
            support::sign(&expired),
        ] {
            let reply = introspect(addr, Some(CLIENT), &format!("token={token}")).await;
            assert_eq!(reply.status, 200);
            assert_eq!(reply.body, br#"{"active":false}"#, "{token}");
        }
        // Logged out: inactive from then on.
        assert_eq!(
            post_json(addr, "/logout", Some(&access), "").await.status,
            200
        );
        let reply = introspect(addr, Some(CLIENT), &format!("token={access}")).await;
        assert_eq!(reply.body, br#"{"active":false}"#);

        // The form: a token is required, once, in a form body.
        assert_error(
            &introspect(addr, Some(CLIENT), "").await,
            400,
            "Missing token parameter",
        );
        assert_error(
            &introspect(addr, Some(CLIENT), "token=a&token=b").await,
            400,
            "A parameter is given more than once",
        );
        let basic = basic(CLIENT);
        // Two Authorization headers, both right: ambiguous, so neither is trusted.
        let form = ("Content-Type", "application/x-www-form-urlencoded");
        let twice = [
            ("Authorization", basic.as_str()),
            ("Authorization", &basic),
            form,
        ];
        let reply = request(addr, "POST", "/introspect", &twice, b"token=x").await;
        assert_eq!(reply.status, 401, "{reply:?}");
        let reply = request(
            addr,
            "POST",
            "/introspect",
            &[
                ("Authorization", &basic),
                ("Content-Type", "application/json"),
            ],
            b"{}",
        )
        .await;
        assert_eq!(reply.status, 415);
    }
}

#[tokio::test]
async fn introspection_with_no_clients_refuses_everyone() {
    let server = start(&[]).await;
    let (access, _) = login(server.addr, "user1", "password1").await;
    let reply = introspect(server.addr, Some(CLIENT), &format!("token={access}")).await;
    assert_error(&reply, 401, "Client authentication failed");
}

/// Whether `/introspect` says `token` is active; an inactive answer must be exactly
/// `{"active":false}`.
async fn active(addr: std::net::SocketAddr, token: &str) -> bool {
    let reply = introspect(addr, Some(CLIENT), &format!("token={token}")).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    if reply.body == br#"{"active":false}"# {
        return false;
    }
    assert_eq!(reply.json()["active"], true, "{reply:?}");
    true
}

/// Every other way a token stops being accepted reaches introspection, and is told apart from
/// nothing: sessions ended by `/logout/all`, a user removed from the users file (reloaded as SIGHUP
/// reloads it), a refresh-token family ended by reuse.
#[tokio::test]
async fn ended_sessions_removed_users_and_ended_families_are_inactive() {
    let dir = temp_dir("introspect-ended");
    users_file(&dir, &[("user1", "password1"), ("user2", "password2")]);
    let users = dir_str(&dir.join("users.json"));
    let (app, server) = start_app(&[
        ("INTROSPECTION_CLIENTS", CLIENT),
        ("USERS_FILE", &users),
        ("JWT_REFRESH_ROTATION", "true"),
    ])
    .await;
    let addr = server.addr;

    // /logout/all from one session ends the user's others, refresh tokens included.
    let (elsewhere, elsewhere_refresh) = login(addr, "user1", "password1").await;
    let (here, _) = login(addr, "user1", "password1").await;
    assert!(active(addr, &elsewhere).await);
    let reply = post_json(addr, "/logout/all", Some(&here), "").await;
    assert_eq!(reply.status, 200, "{reply:?}");
    for token in [&elsewhere, &elsewhere_refresh, &here] {
        assert!(!active(addr, token).await, "{token}");
    }

    // A refresh token presented again after it was rotated ends its family: the newest tokens of
    // that session, which were active, are inactive from then on.
    let (_, first) = login(addr, "user1", "password1").await;
    let (access, rotated) = refreshed(addr, &first).await;
    let rotated = rotated.expect("a rotated refresh token");
    assert!(active(addr, &access).await && active(addr, &rotated).await);
    assert_eq!(
        post_json(addr, "/refresh", Some(&first), "").await.status,
        401
    );
    for token in [&access, &rotated] {
        assert!(!active(addr, token).await, "{token}");
    }

    // user2 taken out of the users file, reloaded (what the binary does on SIGHUP).
    let (access, refresh) = login(addr, "user2", "password2").await;
    assert!(active(addr, &access).await);
    users_file(&dir, &[("user1", "password1")]);
    let reloaded = app.reload_users().await.expect("the users reload");
    assert_eq!(reloaded.removed, ["user2"]);
    for token in [&access, &refresh] {
        assert!(!active(addr, token).await, "{token}");
    }
}
