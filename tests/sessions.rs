//! Black-box tests of sessions over real sockets (docs/http.md §2, §4): token families, reuse
//! detection under rotation, `/logout` ending a whole session, `/logout/all`, and password changes
//! applied live with SIGHUP.

mod support;

use hyperjwt::jwt::{self, TokenType};
use support::*;

fn fam(token: &str) -> String {
    decode_part(token, 1)["fam"]
        .as_str()
        .expect("a fam claim")
        .to_string()
}

#[tokio::test]
async fn every_token_of_a_login_carries_its_family() {
    let server = start(&[("JWT_REFRESH_ROTATION", "true")]).await;
    let (access, refresh) = login(server.addr, "user1", "password1").await;
    let family = fam(&access);
    assert_eq!(fam(&refresh), family);
    // A UUID v7: its start in milliseconds, then random bits.
    assert_eq!(family.len(), 36);
    assert_eq!(family.as_bytes()[14], b'7', "{family}");
    let (access2, refresh2) = refreshed(server.addr, &refresh).await;
    assert_eq!(fam(&access2), family);
    assert_eq!(fam(&refresh2.unwrap()), family);
    // Another login is another session.
    let (other, _) = login(server.addr, "user1", "password1").await;
    assert_ne!(fam(&other), family);
}

#[tokio::test]
async fn tokens_without_a_family_still_verify_and_refresh_into_a_new_session() {
    let server = start(&[("JWT_REFRESH_ROTATION", "true")]).await;
    // As Flask-JWT-Extended (or a version before sessions) signs them: no `fam`.
    let access = sign(&claims("user1", TokenType::Access));
    let refresh = sign(&claims("user1", TokenType::Refresh));
    assert!(decode_part(&access, 1).get("fam").is_none());
    assert_eq!(
        present(server.addr, "/protected", &access).await.status,
        200
    );
    let (new_access, new_refresh) = refreshed(server.addr, &refresh).await;
    assert_eq!(fam(&new_access), fam(&new_refresh.unwrap()));
    // Logging out one of them ends that token, a session of its own; the other stays valid.
    let other = sign(&claims("user1", TokenType::Access));
    assert_eq!(present(server.addr, "/logout", &access).await.status, 200);
    assert_eq!(
        present(server.addr, "/protected", &access).await.status,
        401
    );
    assert_eq!(present(server.addr, "/protected", &other).await.status, 200);
}

/// RFC 9700 §4.14.2: a refresh token used twice ends the whole family, the legitimate client's
/// newest tokens included, and nobody else's.
#[tokio::test]
async fn reusing_a_rotated_refresh_token_ends_the_whole_family() {
    let server = start(&[("JWT_REFRESH_ROTATION", "true")]).await;
    let (access1, refresh1) = login(server.addr, "user1", "password1").await;
    let (other_access, other_refresh) = login(server.addr, "user1", "password1").await;
    let (access2, refresh2) = refreshed(server.addr, &refresh1).await;
    let refresh2 = refresh2.unwrap();
    assert_eq!(
        present(server.addr, "/protected", &access2).await.status,
        200
    );

    // The first refresh token comes back (a thief's copy, or the victim's): refused...
    let reuse = present(server.addr, "/refresh", &refresh1).await;
    assert_error(&reuse, 401, "Token has been revoked");
    // ...and every token of its family with it.
    for (what, route, token) in [
        ("the rotated refresh token", "/refresh", &refresh2),
        ("its access token", "/protected", &access2),
        ("the first access token", "/protected", &access1),
    ] {
        let reply = present(server.addr, route, token).await;
        assert_eq!(
            (reply.status, reply.msg().as_str()),
            (401, "Token has been revoked"),
            "{what}"
        );
    }
    // The user's other session is another family: untouched.
    assert_eq!(
        present(server.addr, "/protected", &other_access)
            .await
            .status,
        200
    );
    assert_eq!(
        present(server.addr, "/refresh", &other_refresh)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn without_rotation_a_refresh_token_is_reusable_and_nothing_is_revoked() {
    let server = start(&[]).await;
    let (access, refresh) = login(server.addr, "user1", "password1").await;
    refreshed(server.addr, &refresh).await;
    refreshed(server.addr, &refresh).await;
    assert_eq!(
        present(server.addr, "/protected", &access).await.status,
        200
    );
}

#[tokio::test]
async fn logout_ends_the_presenting_tokens_whole_session() {
    let server = start(&[("JWT_REFRESH_ROTATION", "true")]).await;
    let (access1, refresh1) = login(server.addr, "user1", "password1").await;
    let (access2, refresh2) = refreshed(server.addr, &refresh1).await;
    let (other, _) = login(server.addr, "user1", "password1").await;
    // Logging out with the newest access token alone ends the first one and the refresh token too.
    let reply = present(server.addr, "/logout", &access2).await;
    assert_eq!(
        reply.json(),
        serde_json::json!({"msg": "Successfully logged out"})
    );
    assert_error(
        &present(server.addr, "/protected", &access1).await,
        401,
        "Token has been revoked",
    );
    assert_error(
        &present(server.addr, "/refresh", &refresh2.unwrap()).await,
        401,
        "Token has been revoked",
    );
    assert_eq!(present(server.addr, "/protected", &other).await.status, 200);
    // The body's refresh_token stays accepted (already ended: not an error).
    let (access3, refresh3) = login(server.addr, "user2", "password2").await;
    let body = format!(r#"{{"refresh_token":"{refresh3}"}}"#);
    assert_eq!(
        post_json(server.addr, "/logout", Some(&access3), &body)
            .await
            .status,
        200
    );
    assert_eq!(
        present(server.addr, "/refresh", &refresh3).await.status,
        401
    );
}

#[tokio::test]
async fn logout_all_ends_every_session_and_a_login_in_the_same_second_works() {
    // Cheap hashes, so a login takes milliseconds and lands in the cutoff's second.
    let dir = temp_dir("sessions-logout-all");
    users_file(&dir, &[("user1", "password1"), ("user2", "password2")]);
    let users = dir.join("users.json");
    let server = start(&[("USERS_FILE", users.to_str().unwrap())]).await;
    let (a1, r1) = login(server.addr, "user1", "password1").await;
    let (a2, r2) = login(server.addr, "user1", "password1").await;
    let (theirs, _) = login(server.addr, "user2", "password2").await;
    let no_family = sign(&claims("user1", TokenType::Access));

    let reply = present(server.addr, "/logout/all", &a1).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(
        reply.json(),
        serde_json::json!({"msg": "Successfully logged out of every session"})
    );
    for (route, token) in [
        ("/protected", &a1),
        ("/protected", &a2),
        ("/refresh", &r1),
        ("/refresh", &r2),
        ("/protected", &no_family),
        ("/logout/all", &a2),
    ] {
        assert_error(
            &present(server.addr, route, token).await,
            401,
            "Token has been revoked",
        );
    }
    assert_eq!(
        present(server.addr, "/protected", &theirs).await.status,
        200
    );

    // A login right afterwards works at once, in the cutoff's own second too (`iat` is whole
    // seconds; the family's start is milliseconds, and never at or before the cutoff). Repeated
    // until it has happened within one second at least once.
    let mut same_second = 0;
    for _ in 0..20 {
        let (token, _) = login(server.addr, "user1", "password1").await;
        let before = jwt::now();
        assert_eq!(
            present(server.addr, "/logout/all", &token).await.status,
            200
        );
        let (fresh, refresh) = login(server.addr, "user1", "password1").await;
        let iat = decode_part(&fresh, 1)["iat"].as_i64().unwrap();
        same_second += usize::from(iat == before);
        assert_eq!(present(server.addr, "/protected", &fresh).await.status, 200);
        assert_eq!(present(server.addr, "/refresh", &refresh).await.status, 200);
        assert_eq!(present(server.addr, "/protected", &token).await.status, 401);
        if same_second >= 3 {
            break;
        }
    }
    assert!(
        same_second >= 1,
        "no logout/all and login fell in one second"
    );
}

#[tokio::test]
async fn logout_all_is_post_only_and_answers_preflights() {
    let server = start(&[]).await;
    let reply = request(server.addr, "GET", "/logout/all", &[], b"").await;
    assert_error(&reply, 405, "Method Not Allowed");
    assert_eq!(reply.header("allow"), Some("POST, OPTIONS"));
    let reply = request(
        server.addr,
        "OPTIONS",
        "/logout/all",
        &[
            ("Origin", "https://app.example"),
            ("Access-Control-Request-Method", "POST"),
        ],
        b"",
    )
    .await;
    assert_eq!(reply.status, 204);
    assert_eq!(
        reply.header("access-control-allow-methods"),
        Some("POST, OPTIONS")
    );
    let reply = post_json(server.addr, "/logout/all", None, "").await;
    assert_error(&reply, 401, "Missing Authorization Header");
}

#[tokio::test]
async fn ended_sessions_survive_a_restart_with_denylist_file() {
    let dir = temp_dir("sessions-restart");
    let journal = dir.join("denylist");
    let journal = journal.to_str().unwrap();
    let envs = [
        ("JWT_SECRET_KEY", SECRET),
        ("DENYLIST_FILE", journal),
        ("JWT_REFRESH_ROTATION", "true"),
    ];
    let server = Binary::start(&dir, &envs);
    let (logged_out, _) = login(server.addr, "user1", "password1").await;
    let (_, reused) = login(server.addr, "user1", "password1").await;
    let (everywhere, _) = login(server.addr, "user2", "password2").await;
    let (_, sibling) = refreshed(server.addr, &reused).await;
    assert_eq!(present(server.addr, "/refresh", &reused).await.status, 401);
    assert_eq!(
        present(server.addr, "/logout", &logged_out).await.status,
        200
    );
    assert_eq!(
        present(server.addr, "/logout/all", &everywhere)
            .await
            .status,
        200
    );
    let log = server.log().join("\n");
    assert!(
        log.contains("security: a used refresh token was presented again"),
        "{log}"
    );
    assert!(log.contains("user \"user1\", family \""), "{log}");
    // The client the server saw (the test connects from 127.0.0.1), not "unknown".
    assert!(log.contains("client 127.0.0.1;"), "{log}");
    assert!(!log.contains(&reused), "the token itself is never logged");
    drop(server);

    let server = Binary::start(&dir, &envs);
    assert_eq!(
        present(server.addr, "/refresh", &sibling.unwrap())
            .await
            .status,
        401
    );
    assert_eq!(
        present(server.addr, "/protected", &logged_out).await.status,
        401
    );
    assert_eq!(
        present(server.addr, "/protected", &everywhere).await.status,
        401
    );
    let (fresh, _) = login(server.addr, "user2", "password2").await;
    assert_eq!(present(server.addr, "/protected", &fresh).await.status, 200);
}

/// Runs `hyperjwt users add NAME --replace` (the password on stdin) in `dir`.
fn set_password(dir: &std::path::Path, name: &str, password: &str) {
    use std::io::Write;
    let mut command = binary_command(dir, &[("USERS_FILE", "users.json"), ("BCRYPT_COST", "4")]);
    command
        .args(["users", "add", name, "--replace"])
        .stdin(std::process::Stdio::piped());
    let mut child = command.spawn().expect("run hyperjwt users add");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    assert!(wait_with_timeout(&mut child).success());
}

#[tokio::test]
async fn a_password_reset_and_sighup_end_the_old_sessions() {
    let dir = temp_dir("sessions-sighup");
    users_file(&dir, &[("alice", "old password"), ("bob", "bobs password")]);
    let server = Binary::start(
        &dir,
        &[("JWT_SECRET_KEY", SECRET), ("USERS_FILE", "users.json")],
    );
    let (access, refresh) = login(server.addr, "alice", "old password").await;
    let (bobs, _) = login(server.addr, "bob", "bobs password").await;

    set_password(&dir, "alice", "new password");
    // Before the reload the server still serves the old users.
    assert_eq!(
        present(server.addr, "/protected", &access).await.status,
        200
    );
    server.hang_up();
    let log = server.wait_for_log("USERS_FILE reloaded").await;
    assert!(log.contains("[\"alice\"]"), "{log}");

    assert_error(
        &present(server.addr, "/protected", &access).await,
        401,
        "Token has been revoked",
    );
    assert_error(
        &present(server.addr, "/refresh", &refresh).await,
        401,
        "Token has been revoked",
    );
    assert_eq!(
        login_reply(server.addr, "alice", "old password")
            .await
            .status,
        401
    );
    let (new_access, _) = login(server.addr, "alice", "new password").await;
    assert_eq!(
        present(server.addr, "/protected", &new_access).await.status,
        200
    );
    // Bob's password did not change: his session goes on.
    assert_eq!(present(server.addr, "/protected", &bobs).await.status, 200);

    // A removed user's tokens get 404...
    let both = std::fs::read_to_string(dir.join("users.json")).unwrap();
    let mut alice: serde_json::Value = serde_json::from_str(&both).unwrap();
    alice.as_object_mut().unwrap().remove("bob");
    std::fs::write(dir.join("users.json"), alice.to_string()).unwrap();
    server.hang_up();
    server
        .wait_for_log("removed (tokens now get 404): [\"bob\"]")
        .await;
    assert_error(
        &present(server.addr, "/protected", &bobs).await,
        404,
        "User not found",
    );
    // ...and adding the name back does not bring them back to life.
    std::fs::write(dir.join("users.json"), both).unwrap();
    server.hang_up();
    server.wait_for_log("added: [\"bob\"]").await;
    assert_error(
        &present(server.addr, "/protected", &bobs).await,
        401,
        "Token has been revoked",
    );
    assert_eq!(
        login_reply(server.addr, "bob", "bobs password")
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn a_broken_users_file_on_sighup_keeps_the_old_users() {
    sighup_keeps_the_old_users(
        "sessions-sighup-broken",
        |_| "{ not json".to_string(),
        "is not a JSON object",
    )
    .await;
}

/// A users file that names a user twice is refused on SIGHUP like a broken one: the last entry no
/// longer wins silently (which could end one user's sessions and drop another's).
#[tokio::test]
async fn a_users_file_with_a_duplicate_name_on_sighup_keeps_the_old_users() {
    sighup_keeps_the_old_users(
        "sessions-sighup-duplicate",
        |hash| {
            let other = bcrypt::hash("another password", 4).unwrap();
            format!("{{\"alice\": \"{hash}\", \"alice\": \"{other}\"}}")
        },
        "the username \"alice\" is listed twice",
    )
    .await;
}

/// Starts the binary with `alice`, replaces the users file with `broken(alice's hash)`, sends
/// SIGHUP, and checks the one error line says `expected` and alice is still served as before.
async fn sighup_keeps_the_old_users(name: &str, broken: fn(&str) -> String, expected: &str) {
    let dir = temp_dir(name);
    users_file(&dir, &[("alice", "a password")]);
    let server = Binary::start(
        &dir,
        &[("JWT_SECRET_KEY", SECRET), ("USERS_FILE", "users.json")],
    );
    let (access, _) = login(server.addr, "alice", "a password").await;
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("users.json")).unwrap()).unwrap();
    let hash = file["alice"].as_str().unwrap().to_string();
    std::fs::write(dir.join("users.json"), broken(&hash)).unwrap();
    server.hang_up();
    let log = server
        .wait_for_log("still serving the users loaded before")
        .await;
    let errors: Vec<&str> = log.lines().filter(|l| l.contains("SIGHUP")).collect();
    assert_eq!(errors.len(), 1, "{log}");
    assert!(errors[0].contains(expected), "{log}");
    assert_eq!(
        present(server.addr, "/protected", &access).await.status,
        200
    );
    assert_eq!(
        login_reply(server.addr, "alice", "a password").await.status,
        200
    );
}
