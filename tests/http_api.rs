//! Black-box tests of the HTTP contract (docs/http.md §2 and §3) over real sockets on 127.0.0.1: every
//! route, every error status and message, the Bearer challenges, CORS and preflight.

mod support;

use hyperjwt::jwt::{TokenType, b64};
use serde_json::json;
use support::*;

const JSON: (&str, &str) = ("Content-Type", "application/json");

fn assert_json(reply: &Reply) {
    assert_eq!(
        reply.header("content-type"),
        Some("application/json"),
        "{reply:?}"
    );
}

/// A GET of `path` from a page at `origin`.
async fn get_from(addr: std::net::SocketAddr, path: &str, origin: &str) -> Reply {
    request(addr, "GET", path, &[("Origin", origin)], b"").await
}

/// A GET of `/protected` with this `Authorization` header.
async fn protected_with(addr: std::net::SocketAddr, authorization: &str) -> Reply {
    request(
        addr,
        "GET",
        "/protected",
        &[("Authorization", authorization)],
        b"",
    )
    .await
}

#[tokio::test]
async fn root_welcomes() {
    let server = start(&[]).await;
    let reply = get(server.addr, "/", None).await;
    assert_eq!(reply.status, 200);
    assert_json(&reply);
    assert_eq!(
        reply.json(),
        json!({"message": "Welcome to Flask JWT Authentication API"})
    );
}

#[tokio::test]
async fn head_is_served_wherever_get_is_with_an_empty_body() {
    let server = start(&[]).await;
    for path in ["/", "/healthz"] {
        let reply = request(server.addr, "HEAD", path, &[], b"").await;
        assert_eq!(reply.status, 200, "{path}");
        assert!(reply.body.is_empty(), "{path}: {:?}", reply.body);
        assert_json(&reply);
    }
}

#[tokio::test]
async fn healthz_is_ok() {
    let server = start(&[]).await;
    let reply = get(server.addr, "/healthz", None).await;
    assert_eq!((reply.status, reply.json()), (200, json!({"status": "ok"})));
}

#[tokio::test]
async fn login_returns_an_access_and_a_refresh_token_with_flask_claims() {
    let server = start(&[]).await;
    let body = r#"{"username":"user1","password":"password1"}"#;
    let reply = post_json(server.addr, "/login", None, body).await;
    assert_eq!(reply.status, 200);
    assert_json(&reply);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let json = reply.json();
    let access = json["access_token"].as_str().unwrap();
    let refresh = json["refresh_token"].as_str().unwrap();
    for (token, kind, fresh) in [(access, "access", true), (refresh, "refresh", false)] {
        assert_eq!(token.split('.').count(), 3);
        let header = decode_part(token, 0);
        assert_eq!(
            (header["alg"].as_str(), header["typ"].as_str()),
            (Some("HS256"), Some("JWT"))
        );
        let claims = decode_part(token, 1);
        assert_eq!(claims["sub"], "user1");
        assert_eq!(claims["type"], kind);
        assert_eq!(claims["fresh"], fresh);
        assert_eq!(claims["iat"], claims["nbf"]);
        assert_eq!(claims["jti"].as_str().unwrap().len(), 36);
    }
    let claims = decode_part(access, 1);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );
    let claims = decode_part(refresh, 1);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        2_592_000
    );
    assert_ne!(
        decode_part(access, 1)["jti"],
        decode_part(refresh, 1)["jti"]
    );
    let me = get(server.addr, "/protected", Some(access)).await;
    assert_eq!(me.json(), json!({"logged_in_as": "user1"}));
}

#[tokio::test]
async fn second_demo_user_logs_in_too() {
    let server = start(&[]).await;
    let (access, _) = login(server.addr, "user2", "password2").await;
    let me = get(server.addr, "/protected", Some(&access)).await;
    assert_eq!(me.json(), json!({"logged_in_as": "user2"}));
}

#[tokio::test]
async fn login_without_username_or_password_is_400() {
    let server = start(&[]).await;
    for body in [
        r#"{"username":"user1"}"#,
        r#"{"password":"password1"}"#,
        "{}",
        r#"{"username":"","password":""}"#,
        "",
        r#"{"username":"user1","password":123}"#,
        r#"["user1","password1"]"#,
    ] {
        let reply = post_json(server.addr, "/login", None, body).await;
        assert_eq!(reply.status, 400, "{body}");
        assert_json(&reply);
        assert_eq!(
            reply.json(),
            json!({"msg": "Missing username or password"}),
            "{body}"
        );
    }
}

#[tokio::test]
async fn login_with_malformed_json_is_400() {
    let server = start(&[]).await;
    let reply = post_json(
        server.addr,
        "/login",
        None,
        r#"{"username": "user1", "password": "#,
    )
    .await;
    assert_eq!(
        (reply.status, reply.json()),
        (400, json!({"msg": "Invalid JSON body"}))
    );
}

#[tokio::test]
async fn login_with_a_non_json_content_type_is_415() {
    let server = start(&[]).await;
    let form = b"username=user1&password=password1";
    for headers in [
        vec![("Content-Type", "application/x-www-form-urlencoded")],
        vec![("Content-Type", "text/plain")],
        vec![],
    ] {
        let reply = request(server.addr, "POST", "/login", &headers, form).await;
        assert_eq!(reply.status, 415, "{headers:?}");
        assert_json(&reply);
        assert!(!reply.msg().is_empty());
    }
}

#[tokio::test]
async fn failed_logins_are_401_and_indistinguishable() {
    let server = start(&[]).await;
    let mut bodies = Vec::new();
    for body in [
        r#"{"username":"user1","password":"nope"}"#,
        r#"{"username":"mallory","password":"password1"}"#,
        r#"{"username":"user1","password":"password2"}"#,
    ] {
        let reply = post_json(server.addr, "/login", None, body).await;
        assert_eq!(reply.status, 401, "{body}");
        assert_json(&reply);
        bodies.push(reply.body);
    }
    assert_eq!(bodies[0], br#"{"msg":"Invalid username or password"}"#);
    assert!(bodies.iter().all(|b| *b == bodies[0]));
}

#[tokio::test]
async fn oversized_login_bodies_are_413() {
    let server = start(&[]).await;
    // Declared too large: refused before the body is read.
    let head = format!(
        "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        2 * 1024 * 1024
    );
    let reply = raw(server.addr, head.as_bytes()).await;
    assert_error(&reply, 413, "Request body too large");
    assert_json(&reply);

    let small = start(&[("MAX_BODY_BYTES", "64")]).await;
    let body = format!(r#"{{"username":"user1","password":"{}"}}"#, "x".repeat(64));
    let reply = post_json(small.addr, "/login", None, &body).await;
    assert_eq!(reply.status, 413);
    // Chunked, so the size is only known while reading.
    let chunk = "y".repeat(100);
    let chunked = format!(
        "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    );
    let reply = raw(small.addr, chunked.as_bytes()).await;
    assert_eq!(reply.status, 413);
}

#[tokio::test]
async fn protected_without_a_token_asks_for_one() {
    let server = start(&[]).await;
    let reply = get(server.addr, "/protected", None).await;
    assert_error(&reply, 401, "Missing Authorization Header");
    assert_json(&reply);
    // RFC 6750 §3: no error code when the request had no credentials.
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
}

#[tokio::test]
async fn protected_with_a_malformed_authorization_header() {
    let server = start(&[]).await;
    for value in [
        "Basic dXNlcjE6cGFzc3dvcmQx",
        "Bearer",
        "Bearer a.b.c d.e.f",
        "Token a.b.c",
    ] {
        let reply = protected_with(server.addr, value).await;
        assert_eq!(reply.status, 401, "{value}");
        assert_eq!(
            reply.msg(),
            "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'"
        );
        assert!(
            reply
                .header("www-authenticate")
                .unwrap()
                .contains("invalid_request")
        );
    }
}

#[tokio::test]
async fn protected_accepts_any_case_scheme_and_several_spaces() {
    // RFC 6750 §2.1: "Bearer" 1*SP b64token, the scheme case-insensitive (RFC 9110 §11.1).
    let server = start(&[]).await;
    let token = sign(&claims("user1", TokenType::Access));
    for value in [format!("bearer {token}"), format!("Bearer   {token}")] {
        let reply = protected_with(server.addr, &value).await;
        assert_eq!(reply.status, 200, "{value}");
        assert_eq!(reply.json(), json!({"logged_in_as": "user1"}));
    }
}

async fn protected_msg(token: &str) -> (u16, String, String) {
    let server = start(&[]).await;
    let reply = get(server.addr, "/protected", Some(token)).await;
    assert_json(&reply);
    let challenge = reply
        .header("www-authenticate")
        .unwrap_or_default()
        .to_string();
    (reply.status, reply.msg(), challenge)
}

#[tokio::test]
async fn protected_refuses_each_kind_of_bad_token_with_its_message() {
    let now = hyperjwt::jwt::now();
    let good = sign(&claims("user1", TokenType::Access));
    let (h, p, _) = {
        let parts: Vec<&str> = good.split('.').collect();
        (
            parts[0].to_string(),
            parts[1].to_string(),
            parts[2].to_string(),
        )
    };
    let mut expired = claims("user1", TokenType::Access);
    expired.exp = Some(now - 3600);
    let mut early = claims("user1", TokenType::Access);
    early.nbf = Some(now + 3600);
    let mut no_exp = claims("user1", TokenType::Access);
    no_exp.exp = None;
    let other_payload = b64::encode(
        serde_json::to_string(&claims("user2", TokenType::Access))
            .unwrap()
            .as_bytes(),
    );
    let none_header = b64::encode(br#"{"alg":"none","typ":"JWT"}"#);
    let hs512 = sign_jsonwebtoken(
        jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
        SECRET.as_bytes(),
        &claims("user1", TokenType::Access),
    );
    let cases: Vec<(String, &str)> = vec![
        ("not.a.jwt".into(), "Invalid token"),
        ("abc.def.ghi".into(), "Invalid token"),
        ("x".repeat(9000), "Invalid token"),
        (sign(&expired), "Token has expired"),
        (sign(&early), "Token not yet valid"),
        (sign(&no_exp), "Token is missing the \"exp\" claim"),
        (
            sign_with(
                "the-wrong-key-0123456789abcdef0123456",
                &claims("user1", TokenType::Access),
            ),
            "Signature verification failed",
        ),
        (
            format!("{h}.{other_payload}.{}", good.rsplit('.').next().unwrap()),
            "Signature verification failed",
        ),
        (format!("{none_header}.{p}."), "Invalid token"),
        (hs512, "Invalid token"),
        (format!("{h}.{p}."), "Invalid token"),
        (
            sign(&claims("user1", TokenType::Refresh)),
            "Only non-refresh tokens are allowed",
        ),
    ];
    for (token, expected) in cases {
        let (status, msg, challenge) = protected_msg(&token).await;
        assert_eq!((status, msg.as_str()), (401, expected), "{token:.60}");
        assert_eq!(challenge, "Bearer error=\"invalid_token\"", "{token:.60}");
    }
}

#[tokio::test]
async fn valid_token_for_a_missing_user_is_404() {
    let (status, msg, _) = protected_msg(&sign(&claims("ghost", TokenType::Access))).await;
    assert_eq!((status, msg.as_str()), (404, "User not found"));
}

#[tokio::test]
async fn leeway_accepts_a_recently_expired_token() {
    let server = start(&[("JWT_LEEWAY", "60")]).await;
    let mut c = claims("user1", TokenType::Access);
    c.exp = Some(hyperjwt::jwt::now() - 10);
    assert_eq!(
        get(server.addr, "/protected", Some(&sign(&c))).await.status,
        200
    );
    c.exp = Some(hyperjwt::jwt::now() - 120);
    let reply = get(server.addr, "/protected", Some(&sign(&c))).await;
    assert_error(&reply, 401, "Token has expired");
}

#[tokio::test]
async fn issuer_and_audience_are_written_and_required_when_configured() {
    let server = start(&[("JWT_ISSUER", "hyperjwt-test"), ("JWT_AUDIENCE", "api")]).await;
    let (access, _) = login(server.addr, "user1", "password1").await;
    let claims_json = decode_part(&access, 1);
    assert_eq!(
        (claims_json["iss"].as_str(), claims_json["aud"].as_str()),
        (Some("hyperjwt-test"), Some("api"))
    );
    assert_eq!(
        get(server.addr, "/protected", Some(&access)).await.status,
        200
    );
    let plain = sign(&claims("user1", TokenType::Access));
    let reply = get(server.addr, "/protected", Some(&plain)).await;
    assert_error(&reply, 401, "Invalid issuer");
    let mut wrong_aud = claims("user1", TokenType::Access);
    wrong_aud.iss = Some("hyperjwt-test".into());
    wrong_aud.aud = Some(hyperjwt::jwt::Audience::Many(vec!["other".into()]));
    let reply = get(server.addr, "/protected", Some(&sign(&wrong_aud))).await;
    assert_error(&reply, 401, "Invalid audience");
    wrong_aud.aud = Some(hyperjwt::jwt::Audience::Many(vec![
        "other".into(),
        "api".into(),
    ]));
    assert_eq!(
        get(server.addr, "/protected", Some(&sign(&wrong_aud)))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn unknown_paths_are_404_json() {
    let server = start(&[]).await;
    for path in ["/no/such/path", "/login/", "/PROTECTED", "/protected?x=1/"] {
        let method = if path.starts_with("/login") {
            "POST"
        } else {
            "GET"
        };
        let reply = request(server.addr, method, path, &[JSON], b"").await;
        if path.starts_with("/protected?") {
            // The query string is not part of the path: this is /protected without a token.
            assert_eq!(reply.status, 401);
            continue;
        }
        assert_eq!(
            (reply.status, reply.json()),
            (404, json!({"msg": "Not Found"})),
            "{path}"
        );
        assert_json(&reply);
    }
}

#[tokio::test]
async fn wrong_methods_are_405_with_allow() {
    let server = start(&[]).await;
    for (method, path, allow) in [
        ("GET", "/login", "POST, OPTIONS"),
        ("DELETE", "/protected", "GET, HEAD, OPTIONS"),
        ("PUT", "/", "GET, HEAD, OPTIONS"),
        ("POST", "/healthz", "GET, HEAD, OPTIONS"),
    ] {
        let reply = request(server.addr, method, path, &[], b"").await;
        assert_eq!(
            (reply.status, reply.msg().as_str()),
            (405, "Method Not Allowed"),
            "{method} {path}"
        );
        assert_eq!(reply.header("allow"), Some(allow), "{method} {path}");
        assert_json(&reply);
    }
}

#[tokio::test]
async fn cors_allows_any_origin_by_default() {
    let server = start(&[]).await;
    let reply = get_from(server.addr, "/", "https://example.com").await;
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    // Error responses carry CORS headers too, so browsers can read the JSON error.
    let reply = get_from(server.addr, "/protected", "https://example.com").await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
}

#[tokio::test]
async fn cors_preflight_lists_methods_and_headers() {
    let server = start(&[]).await;
    let reply = request(
        server.addr,
        "OPTIONS",
        "/login",
        &[
            ("Origin", "https://example.com"),
            ("Access-Control-Request-Method", "POST"),
            (
                "Access-Control-Request-Headers",
                "Content-Type, Authorization",
            ),
        ],
        b"",
    )
    .await;
    assert_eq!(reply.status, 204);
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    assert!(
        reply
            .header("access-control-allow-methods")
            .unwrap()
            .contains("POST")
    );
    let allowed = reply
        .header("access-control-allow-headers")
        .unwrap()
        .to_ascii_lowercase();
    assert!(allowed.contains("content-type") && allowed.contains("authorization"));
    // A browser may send its own request id (docs/http.md §2.1): the preflight must let it.
    assert!(allowed.contains("x-request-id"), "{allowed}");
    let reply = request(
        server.addr,
        "OPTIONS",
        "/nowhere",
        &[("Origin", "https://example.com")],
        b"",
    )
    .await;
    assert_eq!(reply.status, 404);
}

#[tokio::test]
async fn cors_allow_list_echoes_listed_origins_only() {
    let server = start(&[("CORS_ORIGINS", "https://app.example, http://localhost:3000")]).await;
    let reply = get_from(server.addr, "/", "https://app.example").await;
    assert_eq!(
        reply.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    assert_eq!(reply.header("vary"), Some("Origin"));
    let reply = get_from(server.addr, "/", "https://evil.example").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("access-control-allow-origin"), None);
    assert_eq!(reply.header("vary"), Some("Origin"));
    let preflight = [
        ("Origin", "https://evil.example"),
        ("Access-Control-Request-Method", "POST"),
    ];
    let reply = request(server.addr, "OPTIONS", "/login", &preflight, b"").await;
    assert_eq!(reply.status, 403);
    assert_json(&reply);
}

#[tokio::test]
async fn keep_alive_serves_several_requests_on_one_connection() {
    let server = start(&[]).await;
    let bytes = exchange(
        server.addr,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    let text = String::from_utf8_lossy(&bytes);
    assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 2, "{text}");
    assert!(
        text.contains(r#"{"status":"ok"}"#) && text.contains("Welcome"),
        "{text}"
    );
}

#[tokio::test]
async fn a_client_vanishing_mid_body_does_not_hurt_the_server() {
    use tokio::io::AsyncWriteExt;
    let server = start(&[]).await;
    {
        let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        stream
            .write_all(b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"user")
            .await
            .unwrap();
    } // dropped: the connection closes with the body incomplete
    assert_eq!(get(server.addr, "/healthz", None).await.status, 200);
}
