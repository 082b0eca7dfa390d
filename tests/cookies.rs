//! Browser sessions over a real socket: tokens in HttpOnly cookies with the CSRF double submit
//! (docs/cookies.md), every rule as a browser or an attacker's page would meet it. The browser
//! itself is in `tests/browser_cookies/`; Flask-JWT-Extended's side in `tests/interop/`.

mod support;

use std::net::SocketAddr;

use support::{
    COOKIES, CookieSession, Reply, assert_error, cookie_login, decode_part, flask_fixtures, login,
    login_reply, refusals, request, scrape, start,
};

/// `COOKIES` plus `extra`.
async fn cookie_server(extra: &[(&str, &str)]) -> hyperjwt::server::RunningServer {
    let mut pairs = COOKIES.to_vec();
    pairs.extend_from_slice(extra);
    start(&pairs).await
}

/// A request carrying `cookie` and, when given, the CSRF header.
async fn with_cookie(
    addr: SocketAddr,
    method: &str,
    path: &str,
    cookie: &str,
    csrf: Option<&str>,
) -> Reply {
    let mut headers = vec![("Cookie", cookie)];
    if let Some(value) = csrf {
        headers.push(("X-CSRF-TOKEN", value));
    }
    request(addr, method, path, &headers, b"").await
}

/// `POST /refresh` as a browser sends it: the cookies for that path, and `csrf` as the header.
async fn refresh(addr: SocketAddr, session: &CookieSession, csrf: &str) -> Reply {
    with_cookie(addr, "POST", "/refresh", &session.for_refresh(), Some(csrf)).await
}

#[tokio::test]
async fn login_sets_httponly_token_cookies_and_readable_csrf_cookies() {
    let server = cookie_server(&[]).await;
    let reply = login_reply(server.addr, "user1", "password1").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    // The JSON body is still there, for clients that use headers.
    let body = reply.json();
    let access = body["access_token"].as_str().unwrap();
    let refresh = body["refresh_token"].as_str().unwrap();
    assert_eq!(
        reply.set_cookie("access_token_cookie"),
        Some(
            format!("access_token_cookie={access}; Path=/; HttpOnly; Secure; SameSite=Strict")
                .as_str()
        )
    );
    assert_eq!(
        reply.set_cookie("refresh_token_cookie"),
        Some(
            format!(
                "refresh_token_cookie={refresh}; Path=/refresh; HttpOnly; Secure; SameSite=Strict"
            )
            .as_str()
        )
    );
    // The CSRF cookies hold the tokens' csrf claims, and are not HttpOnly: the page reads them.
    for (name, token) in [
        ("csrf_access_token", access),
        ("csrf_refresh_token", refresh),
    ] {
        let csrf = decode_part(token, 1)["csrf"].as_str().unwrap().to_string();
        assert_eq!(csrf.len(), 36, "a UUID: {csrf}");
        assert_eq!(
            reply.set_cookie(name),
            Some(format!("{name}={csrf}; Path=/; Secure; SameSite=Strict").as_str())
        );
    }
    assert_eq!(reply.all("set-cookie").len(), 4);
    let (a, r) = (decode_part(access, 1), decode_part(refresh, 1));
    assert_ne!(a["csrf"], r["csrf"], "each token has its own value");
}

#[tokio::test]
async fn get_needs_no_csrf_header_and_its_answer_is_not_stored() {
    let server = cookie_server(&[]).await;
    let session = cookie_login(server.addr, "user1", "password1").await;
    let reply = with_cookie(server.addr, "GET", "/protected", &session.for_api(), None).await;
    assert_eq!(
        (reply.status, reply.json()["logged_in_as"].as_str()),
        (200, Some("user1"))
    );
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let head = with_cookie(server.addr, "HEAD", "/protected", &session.for_api(), None).await;
    assert_eq!(head.status, 200);
}

/// A cookie another page on the host set (`theme=café`, as UTF-8 bytes) hides nothing: the issue's
/// curl repro, `Cookie: theme=caf\xc3\xa9; access_token_cookie=$T`, then each place it may sit.
#[tokio::test]
async fn a_foreign_cookie_with_non_ascii_bytes_does_not_hide_the_token() {
    let server = cookie_server(&[]).await;
    let addr = server.addr;
    let session = cookie_login(addr, "user1", "password1").await;
    let theme = b"theme=caf\xc3\xa9";
    for (before, after) in [
        (&theme[..], &b""[..]),
        (b"", theme),
        (b"x=\xff\xfe", b"y=\"\x80\""),
    ] {
        let mut cookie = before.to_vec();
        if !before.is_empty() {
            cookie.extend_from_slice(b"; ");
        }
        cookie.extend_from_slice(session.for_api().as_bytes());
        if !after.is_empty() {
            cookie.extend_from_slice(b"; ");
            cookie.extend_from_slice(after);
        }
        let mut raw =
            format!("GET /protected HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nCookie: ")
                .into_bytes();
        raw.extend_from_slice(&cookie);
        raw.extend_from_slice(b"\r\n\r\n");
        let reply = support::raw(addr, &raw).await;
        assert_eq!(
            (reply.status, reply.json()["logged_in_as"].as_str()),
            (200, Some("user1")),
            "{}",
            String::from_utf8_lossy(&cookie)
        );
    }
}

#[tokio::test]
async fn a_state_changing_request_needs_the_matching_csrf_header() {
    let server = cookie_server(&[]).await;
    let addr = server.addr;
    let session = cookie_login(addr, "user1", "password1").await;
    let cookie = session.for_api();
    assert_error(
        &with_cookie(addr, "POST", "/logout", &cookie, None).await,
        401,
        "Missing CSRF token",
    );
    assert_error(
        &with_cookie(addr, "POST", "/logout", &cookie, Some("")).await,
        401,
        "Missing CSRF token",
    );
    // The refresh token's value is not the access token's.
    let wrong = with_cookie(
        addr,
        "POST",
        "/logout",
        &cookie,
        Some(&session.csrf_refresh),
    )
    .await;
    assert_error(&wrong, 401, "CSRF double submit tokens do not match");
    assert_eq!(wrong.header("www-authenticate"), None);
    assert!(wrong.set_cookie("access_token_cookie").is_none());
    // None of that ended the session.
    let still = with_cookie(addr, "GET", "/protected", &cookie, None).await;
    assert_eq!(still.status, 200);
    let right = with_cookie(addr, "POST", "/logout", &cookie, Some(&session.csrf_access)).await;
    assert_eq!(
        (right.status, right.msg().as_str()),
        (200, "Successfully logged out")
    );
}

#[tokio::test]
async fn logout_clears_every_cookie_with_its_path_and_ends_the_session() {
    let server = cookie_server(&[("JWT_COOKIE_DOMAIN", "127.0.0.1")]).await;
    let addr = server.addr;
    let session = cookie_login(addr, "user1", "password1").await;
    let reply = with_cookie(
        addr,
        "POST",
        "/logout",
        &session.for_api(),
        Some(&session.csrf_access),
    )
    .await;
    assert_eq!(reply.status, 200);
    let gone = "Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Domain=127.0.0.1";
    assert_eq!(
        reply.all("set-cookie"),
        [
            format!("access_token_cookie=; Path=/; {gone}; HttpOnly; Secure; SameSite=Strict"),
            format!(
                "refresh_token_cookie=; Path=/refresh; {gone}; HttpOnly; Secure; SameSite=Strict"
            ),
            format!("csrf_access_token=; Path=/; {gone}; Secure; SameSite=Strict"),
            format!("csrf_refresh_token=; Path=/; {gone}; Secure; SameSite=Strict"),
        ]
    );
    // A copy of the old cookies (a browser that ignored the deletion, or a thief) is refused.
    let protected = with_cookie(addr, "GET", "/protected", &session.for_api(), None).await;
    assert_error(&protected, 401, "Token has been revoked");
    let refresh = refresh(addr, &session, &session.csrf_refresh).await;
    assert_error(&refresh, 401, "Token has been revoked");
}

#[tokio::test]
async fn logout_all_clears_the_cookies_too() {
    let server = cookie_server(&[]).await;
    let session = cookie_login(server.addr, "user1", "password1").await;
    let reply = with_cookie(
        server.addr,
        "POST",
        "/logout/all",
        &session.for_api(),
        Some(&session.csrf_access),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.cookie_value("access_token_cookie").as_deref(),
        Some("")
    );
    assert_eq!(
        reply.cookie_value("refresh_token_cookie").as_deref(),
        Some("")
    );
}

/// With `headers,cookies`, a bearer logout deletes the cookies only when they are of a session it
/// ended: a logout of session B, sent with session A's cookies beside it, leaves A's cookies (and A
/// stays valid on the server, so deleting them would have logged the browser out of a live session).
#[tokio::test]
async fn a_bearer_logout_deletes_only_the_cookies_of_the_session_it_ended() {
    let server = cookie_server(&[("JWT_TOKEN_LOCATION", "headers,cookies")]).await;
    let addr = server.addr;
    let a = cookie_login(addr, "user1", "password1").await;
    let cookie = a.for_api();
    // A bearer logout, with a browser's cookies beside it.
    let logout = |route: &'static str, token: String, cookie: String| async move {
        let bearer = format!("Bearer {token}");
        let headers = [
            ("Authorization", bearer.as_str()),
            ("Cookie", cookie.as_str()),
        ];
        request(addr, "POST", route, &headers, b"").await
    };
    // Session B of the same user, and a session of another user: their logouts keep A's cookies.
    let (b, _) = login(addr, "user1", "password1").await;
    let (other, _) = login(addr, "user2", "password2").await;
    for (route, token) in [("/logout", b), ("/logout/all", other)] {
        let reply = logout(route, token, cookie.clone()).await;
        assert_eq!(reply.status, 200, "{route}: {reply:?}");
        assert!(reply.all("set-cookie").is_empty(), "{route}: {reply:?}");
    }
    let protected = with_cookie(addr, "GET", "/protected", &cookie, None).await;
    assert_eq!(protected.json()["logged_in_as"], "user1", "A is alive");
    // A bearer logout of A itself (the same token as its cookie) deletes them, all four.
    let reply = logout("/logout", a.access.clone(), cookie).await;
    assert_eq!(reply.all("set-cookie").len(), 4, "{reply:?}");
    // So does /logout/all of A's user, bearer too, for a new session of that user.
    let c = cookie_login(addr, "user1", "password1").await;
    let (d, _) = login(addr, "user1", "password1").await;
    let reply = logout("/logout/all", d, c.for_api()).await;
    assert_eq!(reply.all("set-cookie").len(), 4, "{reply:?}");
}

#[tokio::test]
async fn refresh_reads_the_refresh_cookie_and_sets_a_new_access_cookie() {
    let server = cookie_server(&[]).await;
    let addr = server.addr;
    let session = cookie_login(addr, "user1", "password1").await;
    // What a browser sends to /refresh (the refresh cookie's Path), with the refresh CSRF value.
    let reply = refresh(addr, &session, &session.csrf_refresh).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let access = reply.json()["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        reply.cookie_value("access_token_cookie"),
        Some(access.clone())
    );
    assert_eq!(
        reply.cookie_value("csrf_access_token").as_deref(),
        decode_part(&access, 1)["csrf"].as_str()
    );
    // No rotation: the refresh cookie stays as it was.
    assert!(reply.set_cookie("refresh_token_cookie").is_none());
    assert_eq!(reply.all("set-cookie").len(), 2);
    // The new access cookie works, in the same session.
    let renewed = CookieSession {
        access,
        csrf_access: reply.cookie_value("csrf_access_token").unwrap(),
        ..session.clone()
    };
    let protected = with_cookie(addr, "GET", "/protected", &renewed.for_api(), None).await;
    assert_eq!(protected.status, 200);

    // The access cookie's CSRF value does not open /refresh.
    let wrong = refresh(addr, &session, &session.csrf_access).await;
    assert_error(&wrong, 401, "CSRF double submit tokens do not match");
    // Anywhere but /refresh the browser holds no refresh cookie: /refresh then names it.
    let no_refresh_cookie = with_cookie(
        addr,
        "POST",
        "/refresh",
        &session.for_api(),
        Some(&session.csrf_refresh),
    )
    .await;
    assert_error(
        &no_refresh_cookie,
        401,
        "Missing cookie \"refresh_token_cookie\"",
    );
}

#[tokio::test]
async fn rotation_sets_a_new_refresh_cookie() {
    let server = cookie_server(&[("JWT_REFRESH_ROTATION", "true")]).await;
    let addr = server.addr;
    let session = cookie_login(addr, "user1", "password1").await;
    let reply = refresh(addr, &session, &session.csrf_refresh).await;
    assert_eq!(reply.status, 200);
    let refresh = reply.json()["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(
        reply.cookie_value("refresh_token_cookie"),
        Some(refresh.clone())
    );
    assert!(
        reply
            .set_cookie("refresh_token_cookie")
            .unwrap()
            .contains("Path=/refresh")
    );
    assert_eq!(
        reply.cookie_value("csrf_refresh_token").as_deref(),
        decode_part(&refresh, 1)["csrf"].as_str()
    );
    assert_eq!(reply.all("set-cookie").len(), 4);
}

#[tokio::test]
async fn the_refresh_cookie_path_is_configurable() {
    let server = cookie_server(&[("JWT_REFRESH_COOKIE_PATH", "/auth/refresh")]).await;
    let reply = login_reply(server.addr, "user1", "password1").await;
    let line = reply.set_cookie("refresh_token_cookie").unwrap();
    assert!(line.contains("; Path=/auth/refresh;"), "{line}");
}

#[tokio::test]
async fn the_header_wins_over_the_cookie_when_both_are_locations() {
    let server = cookie_server(&[("JWT_TOKEN_LOCATION", "headers,cookies")]).await;
    let addr = server.addr;
    let user1 = cookie_login(addr, "user1", "password1").await;
    let (user2, _) = login(addr, "user2", "password2").await;
    let bearer = format!("Bearer {user2}");
    let cookie = user1.for_api();
    let both = [
        ("Authorization", bearer.as_str()),
        ("Cookie", cookie.as_str()),
    ];
    let reply = request(addr, "GET", "/protected", &both, b"").await;
    assert_eq!(reply.json()["logged_in_as"], "user2");
    // The header's token needs no CSRF header, even for POST; it is the one logged out.
    let reply = request(addr, "POST", "/logout", &both, b"").await;
    assert_eq!(reply.status, 200);
    let protected = request(addr, "GET", "/protected", &both, b"").await;
    assert_error(&protected, 401, "Token has been revoked");
    // A broken header is not rescued by a good cookie.
    let broken = [("Authorization", "Basic abc"), ("Cookie", cookie.as_str())];
    let reply = request(addr, "GET", "/protected", &broken, b"").await;
    assert_eq!(reply.status, 401);
    // The cookie alone still works.
    let reply = with_cookie(addr, "GET", "/protected", &cookie, None).await;
    assert_eq!(reply.json()["logged_in_as"], "user1");
    // Neither: Flask-JWT-Extended's text naming both places, and the Bearer challenge.
    let reply = request(addr, "GET", "/protected", &[], b"").await;
    assert_error(
        &reply,
        401,
        "Missing JWT in headers or cookies (Missing Authorization Header; \
         Missing cookie \"access_token_cookie\")",
    );
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
}

#[tokio::test]
async fn with_cookies_only_a_bearer_header_is_not_a_token() {
    let server = cookie_server(&[]).await;
    let addr = server.addr;
    let (access, _) = login(addr, "user1", "password1").await;
    let bearer = format!("Bearer {access}");
    let reply = request(
        addr,
        "GET",
        "/protected",
        &[("Authorization", &bearer)],
        b"",
    )
    .await;
    assert_error(&reply, 401, "Missing cookie \"access_token_cookie\"");
    assert_eq!(reply.header("www-authenticate"), None);
}

#[tokio::test]
async fn with_headers_only_cookies_are_ignored_and_nothing_is_set() {
    let server = start(&[]).await;
    let addr = server.addr;
    let reply = login_reply(addr, "user1", "password1").await;
    assert!(reply.all("set-cookie").is_empty());
    let access = reply.json()["access_token"].as_str().unwrap().to_string();
    assert!(decode_part(&access, 1).get("csrf").is_none());
    let cookie = format!("access_token_cookie={access}");
    let reply = with_cookie(addr, "GET", "/protected", &cookie, None).await;
    assert_error(&reply, 401, "Missing Authorization Header");
}

#[tokio::test]
async fn the_csrf_methods_are_configurable() {
    let server = cookie_server(&[("JWT_CSRF_METHODS", "GET,POST")]).await;
    let session = cookie_login(server.addr, "user1", "password1").await;
    let cookie = session.for_api();
    assert_error(
        &with_cookie(server.addr, "GET", "/protected", &cookie, None).await,
        401,
        "Missing CSRF token",
    );
    let reply = with_cookie(
        server.addr,
        "GET",
        "/protected",
        &cookie,
        Some(&session.csrf_access),
    )
    .await;
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn without_csrf_protection_tokens_have_no_claim_and_need_no_header() {
    let server = cookie_server(&[("JWT_COOKIE_CSRF_PROTECT", "false")]).await;
    let reply = login_reply(server.addr, "user1", "password1").await;
    assert!(reply.set_cookie("csrf_access_token").is_none());
    let access = reply.cookie_value("access_token_cookie").unwrap();
    assert!(decode_part(&access, 1).get("csrf").is_none());
    let cookie = format!("access_token_cookie={access}");
    let reply = with_cookie(server.addr, "POST", "/logout", &cookie, None).await;
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn a_cookie_token_without_a_csrf_claim_is_refused_for_post() {
    // Same key, headers only: its tokens carry no csrf claim.
    let plain = start(&[]).await;
    let (access, _) = login(plain.addr, "user1", "password1").await;
    let server = cookie_server(&[]).await;
    let cookie = format!("access_token_cookie={access}");
    let reply = with_cookie(server.addr, "POST", "/logout", &cookie, Some("anything")).await;
    assert_error(&reply, 401, "Missing claim: csrf");
    // GET needs no double submit, so it passes.
    let reply = with_cookie(server.addr, "GET", "/protected", &cookie, None).await;
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn session_cookies_can_be_made_persistent() {
    let server = cookie_server(&[
        ("JWT_SESSION_COOKIE", "false"),
        ("JWT_ACCESS_TOKEN_EXPIRES", "60"),
    ])
    .await;
    let reply = login_reply(server.addr, "user1", "password1").await;
    assert!(
        reply
            .set_cookie("access_token_cookie")
            .unwrap()
            .contains("; Max-Age=60;")
    );
    assert!(
        reply
            .set_cookie("csrf_refresh_token")
            .unwrap()
            .contains("; Max-Age=2592000;")
    );
}

/// A browser's preflight for a `POST /logout` with the CSRF header, from `origin`.
async fn preflight(addr: SocketAddr, origin: &str) -> Reply {
    let headers = [
        ("Origin", origin),
        ("Access-Control-Request-Method", "POST"),
        ("Access-Control-Request-Headers", "x-csrf-token"),
    ];
    request(addr, "OPTIONS", "/logout", &headers, b"").await
}

#[tokio::test]
async fn cors_gives_credentials_to_listed_origins_only() {
    let server = cookie_server(&[]).await;
    let addr = server.addr;
    let ok = preflight(addr, "https://app.example").await;
    assert_eq!(ok.status, 204);
    assert_eq!(
        ok.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    assert_eq!(ok.header("access-control-allow-credentials"), Some("true"));
    assert_eq!(
        ok.header("access-control-allow-headers"),
        Some("Content-Type, Authorization, X-Request-Id, X-CSRF-TOKEN")
    );
    assert_eq!(ok.header("vary"), Some("Origin"));

    let refused = preflight(addr, "https://evil.example").await;
    assert_error(&refused, 403, "CORS origin not allowed");
    assert_eq!(refused.header("access-control-allow-credentials"), None);
    assert_eq!(refused.header("access-control-allow-origin"), None);
    assert_eq!(refused.header("vary"), Some("Origin"));

    let session = cookie_login(addr, "user1", "password1").await;
    let cookie = session.for_api();
    for (origin, allowed) in [
        ("https://app.example", true),
        ("https://evil.example", false),
    ] {
        let reply = request(
            addr,
            "GET",
            "/protected",
            &[("Origin", origin), ("Cookie", &cookie)],
            b"",
        )
        .await;
        assert_eq!(reply.header("vary"), Some("Origin"));
        assert_eq!(
            reply.header("access-control-allow-credentials").is_some(),
            allowed,
            "{origin}"
        );
        assert_eq!(
            reply.header("access-control-allow-origin").is_some(),
            allowed
        );
    }
}

#[tokio::test]
async fn headers_only_cors_never_sends_credentials() {
    let server = start(&[("CORS_ORIGINS", "https://app.example")]).await;
    let reply = request(
        server.addr,
        "OPTIONS",
        "/logout",
        &[
            ("Origin", "https://app.example"),
            ("Access-Control-Request-Method", "POST"),
        ],
        b"",
    )
    .await;
    assert_eq!(reply.status, 204);
    assert_eq!(reply.header("access-control-allow-credentials"), None);
    assert_eq!(
        reply.header("access-control-allow-headers"),
        Some("Content-Type, Authorization, X-Request-Id")
    );
}

#[test]
fn the_binary_refuses_cookies_with_any_origin_in_one_line() {
    let dir = support::temp_dir("cookies-star");
    for cors in ["*", ""] {
        let output = support::binary_command(
            &dir,
            &[
                ("JWT_SECRET_KEY", support::SECRET),
                ("JWT_TOKEN_LOCATION", "cookies"),
                ("CORS_ORIGINS", cors),
            ],
        )
        .output()
        .expect("run the binary");
        assert_eq!(output.status.code(), Some(1), "{output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{stderr}");
        assert!(
            lines[0].starts_with(
                "configuration error: CORS_ORIGINS: cookies are in JWT_TOKEN_LOCATION"
            ),
            "{stderr}"
        );
    }
}

#[test]
fn the_binary_warns_about_insecure_cookies() {
    let dir = support::temp_dir("cookies-insecure");
    let mut server = support::Binary::start(
        &dir,
        &[
            ("JWT_SECRET_KEY", support::SECRET),
            ("JWT_TOKEN_LOCATION", "cookies"),
            ("CORS_ORIGINS", "http://127.0.0.1:8000"),
            ("JWT_COOKIE_SECURE", "false"),
        ],
    );
    let log = server.log().join("\n");
    assert!(
        log.contains("JWT_COOKIE_SECURE=false: token cookies are also sent over plain HTTP"),
        "{log}"
    );
    assert!(server.terminate().success());
}

/// Flask-JWT-Extended's own cookie tokens (its `csrf` claim) work here through the cookie path.
#[tokio::test]
async fn flask_jwt_extended_cookie_tokens_are_accepted_with_their_csrf() {
    let f = flask_fixtures();
    let secret = f["secret"].as_str().unwrap();
    let mut pairs = COOKIES.to_vec();
    pairs.push(("JWT_SECRET_KEY", secret));
    let server = start(&pairs).await;
    let addr = server.addr;
    let access = &f["long_access_with_csrf"];
    let refresh = &f["long_refresh_with_csrf"];
    let cookie = format!("access_token_cookie={}", access["token"].as_str().unwrap());
    let csrf = access["claims"]["csrf"].as_str().unwrap();
    let reply = with_cookie(addr, "GET", "/protected", &cookie, None).await;
    assert_eq!(reply.json()["logged_in_as"], "user1");
    let refresh_cookie = format!(
        "refresh_token_cookie={}",
        refresh["token"].as_str().unwrap()
    );
    let refresh_csrf = refresh["claims"]["csrf"].as_str().unwrap();
    let reply = with_cookie(addr, "POST", "/refresh", &refresh_cookie, Some(csrf)).await;
    assert_error(&reply, 401, "CSRF double submit tokens do not match");
    let reply = with_cookie(
        addr,
        "POST",
        "/refresh",
        &refresh_cookie,
        Some(refresh_csrf),
    )
    .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(reply.cookie_value("access_token_cookie").is_some());
    let reply = with_cookie(addr, "POST", "/logout", &cookie, None).await;
    assert_error(&reply, 401, "Missing CSRF token");
    let reply = with_cookie(addr, "POST", "/logout", &cookie, Some(csrf)).await;
    assert_eq!(reply.status, 200);
}

/// A cookie session Flask-JWT-Extended started (its `set_access_cookies` / `set_refresh_cookies`,
/// fixture `cookie_session`): the same cookie names, and the cookies as a browser would send them
/// back to this server work here, the CSRF values taken from Flask's readable cookies.
#[tokio::test]
async fn a_cookie_session_started_by_flask_jwt_extended_continues_here() {
    let f = flask_fixtures();
    let lines: Vec<&str> = f["cookie_session"]["set_cookie"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line.as_str().unwrap())
        .collect();
    // name=value of each Set-Cookie line, in Flask's order.
    let cookies: Vec<(&str, &str)> = lines
        .iter()
        .map(|line| line.split(';').next().unwrap().split_once('=').unwrap())
        .collect();
    let names: Vec<&str> = cookies.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        names,
        [
            "access_token_cookie",
            "csrf_access_token",
            "refresh_token_cookie",
            "csrf_refresh_token"
        ]
    );
    let value = |name: &str| cookies.iter().find(|(n, _)| *n == name).unwrap().1;
    // Flask's CSRF cookie is its token's csrf claim, as ours is.
    assert_eq!(
        decode_part(value("access_token_cookie"), 1)["csrf"],
        value("csrf_access_token")
    );
    // Flask sets every cookie at Path=/, so a browser sends all four everywhere.
    let jar: Vec<String> = cookies.iter().map(|(n, v)| format!("{n}={v}")).collect();
    let jar = jar.join("; ");

    let mut pairs = COOKIES.to_vec();
    pairs.push(("JWT_SECRET_KEY", f["secret"].as_str().unwrap()));
    let server = start(&pairs).await;
    let addr = server.addr;
    let reply = with_cookie(addr, "GET", "/protected", &jar, None).await;
    assert_eq!(reply.json()["logged_in_as"], "user1", "{reply:?}");
    let csrf_refresh = value("csrf_refresh_token");
    let reply = with_cookie(addr, "POST", "/refresh", &jar, Some(csrf_refresh)).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let reply = with_cookie(addr, "POST", "/logout", &jar, Some(csrf_refresh)).await;
    assert_error(&reply, 401, "CSRF double submit tokens do not match");
    let csrf_access = value("csrf_access_token");
    let reply = with_cookie(addr, "POST", "/logout", &jar, Some(csrf_access)).await;
    assert_eq!(reply.status, 200, "{reply:?}");
}

#[tokio::test]
async fn csrf_refusals_and_missing_cookies_are_counted_in_the_metrics() {
    let server = cookie_server(&[]).await;
    let addr = server.addr;
    let session = cookie_login(addr, "user1", "password1").await;
    let before = scrape(addr).await;

    // No token cookie at all: a missing cookie, not a missing Authorization header.
    let reply = request(addr, "GET", "/protected", &[], b"").await;
    assert_error(&reply, 401, "Missing cookie \"access_token_cookie\"");
    // The token cookie of a POST without its header, then with the wrong one: both CSRF refusals.
    let reply = with_cookie(addr, "POST", "/logout", &session.for_api(), None).await;
    assert_error(&reply, 401, "Missing CSRF token");
    let wrong = with_cookie(
        addr,
        "POST",
        "/logout",
        &session.for_api(),
        Some(&session.csrf_refresh),
    )
    .await;
    assert_error(&wrong, 401, "CSRF double submit tokens do not match");

    let after = scrape(addr).await;
    assert_eq!(
        refusals(&after, "missing_cookie") - refusals(&before, "missing_cookie"),
        1.0
    );
    assert_eq!(refusals(&after, "csrf") - refusals(&before, "csrf"), 2.0);
    // Not counted as something else too.
    for reason in [
        "missing_authorization",
        "bad_authorization_header",
        "revoked",
    ] {
        assert_eq!(
            refusals(&after, reason),
            refusals(&before, reason),
            "{reason}"
        );
    }
}
