//! The embedding example's setup (`examples/embed.rs`) over a real socket: hyperjwt's routes under
//! `/auth` beside the host's own routes, in one hyper server, and a host route protected by
//! hyperjwt's tokens.

#[path = "../examples/embed.rs"]
mod embed;
mod support;

use hyperjwt::Config;
use support::{SECRET, get, post_json};
use tokio::net::TcpListener;

#[tokio::test]
async fn auth_routes_are_mounted_beside_the_host_routes() {
    let config = Config::with_secret(SECRET).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        embed::serve(listener, &config, async {
            let _ = stopped.await;
        })
        .await
    });

    // The host's own route.
    let hello = get(addr, "/hello", None).await;
    assert_eq!(hello.status, 200);
    assert_eq!(hello.json()["hello"], "from the host");

    // hyperjwt under /auth: the welcome route, login, and protected.
    let welcome = get(addr, "/auth", None).await;
    assert_eq!(welcome.status, 200);
    assert!(
        welcome.json()["message"]
            .as_str()
            .unwrap()
            .contains("Welcome")
    );
    let login = post_json(
        addr,
        "/auth/login",
        None,
        r#"{"username":"user1","password":"password1"}"#,
    )
    .await;
    assert_eq!(login.status, 200);
    let token = login.json()["access_token"].as_str().unwrap().to_string();
    let protected = get(addr, "/auth/protected", Some(&token)).await;
    assert_eq!(protected.json()["logged_in_as"], "user1");

    // The host's route protected by hyperjwt: same token, same checks, same error bodies.
    let me = get(addr, "/api/me", Some(&token)).await;
    assert_eq!(
        (me.status, me.json()["user"].as_str()),
        (200, Some("user1"))
    );
    let anonymous = get(addr, "/api/me", None).await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.msg(), "Missing Authorization Header");

    // Only hyperjwt's own paths under /auth are its; everything else is the host's (here: its 404).
    for path in ["/login", "/auth/hello", "/authx/login"] {
        let other = get(addr, path, None).await;
        assert_eq!(other.status, 404, "{path}");
        assert_eq!(other.json()["error"], "no such page", "{path}");
    }
    // A wrong method on an auth path is still hyperjwt's answer.
    let wrong_method = get(addr, "/auth/login", None).await;
    assert_eq!(wrong_method.status, 405);
    assert_eq!(wrong_method.header("allow"), Some("POST, OPTIONS"));

    // Logging out through /auth revokes the token for the host's route too.
    let logout = post_json(addr, "/auth/logout", Some(&token), "").await;
    assert_eq!(logout.status, 200);
    let revoked = get(addr, "/api/me", Some(&token)).await;
    assert_eq!(
        (revoked.status, revoked.msg().as_str()),
        (401, "Token has been revoked")
    );

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
