//! Tests of the real `hyperjwt` binary as a user runs it: start-up with no configuration, one clear
//! line for each bad value, `.env` loading (the environment wins) and the settings line saying where
//! each value came from, `USERS_FILE`, and SIGTERM.

mod support;

use hyperjwt::jwt::TokenType;
use support::*;

/// Runs the binary expecting it to refuse to start; returns its stderr lines.
fn refuses(name: &str, envs: &[(&str, &str)]) -> Vec<String> {
    let dir = temp_dir(name);
    let mut command = binary_command(&dir, envs);
    command.stderr(std::process::Stdio::piped());
    let child = command.spawn().expect("spawn");
    let output = child.wait_with_output().expect("wait");
    assert!(!output.status.success(), "{name}: started with {envs:?}");
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn starts_with_no_configuration_and_warns() {
    let dir = temp_dir("bin-defaults");
    let server = Binary::start(&dir, &[]);
    assert_eq!(get(server.addr, "/", None).await.status, 200);
    let log = server.log().join("\n");
    assert!(
        log.contains("WARN") && log.contains("JWT_SECRET_KEY is not set"),
        "{log}"
    );
    assert!(log.contains("demo users"), "{log}");
    // The warning never prints a key.
    assert!(!log.to_lowercase().contains("secret_key="), "{log}");
}

#[test]
fn short_keys_stop_start_up_with_one_line_and_a_hint() {
    for (name, key) in [
        ("JWT_SECRET_KEY", "short"),
        ("SECRET_KEY", "your-secret-key"),
    ] {
        let lines = refuses("bin-short-key", &[(name, key)]);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].contains(name), "{lines:?}");
        assert!(lines[0].contains("openssl rand -hex 32"), "{lines:?}");
        assert!(
            !lines[0].contains(key),
            "the key itself must not be printed: {lines:?}"
        );
    }
}

#[test]
fn unparsable_values_stop_start_up_naming_the_key() {
    for (key, value) in [
        ("PORT", "abc"),
        ("JWT_ACCESS_TOKEN_EXPIRES", "soon"),
        ("FLASK_DEBUG", "maybe"),
        ("CORS_ORIGINS", "example.com"),
        ("LOG_LEVEL", "chatty"),
    ] {
        let lines = refuses("bin-bad-value", &[(key, value)]);
        assert_eq!(lines.len(), 1, "{key}: {lines:?}");
        assert!(lines[0].contains(key), "{key}: {lines:?}");
    }
}

#[test]
fn a_missing_or_malformed_users_file_stops_start_up() {
    let dir = temp_dir("bin-users-files");
    let malformed = dir.join("users.json");
    std::fs::write(&malformed, "{not json").unwrap();
    // A name listed twice: the last entry used to win silently.
    let twice = dir.join("twice.json");
    let hash = bcrypt::hash("pw", 4).unwrap();
    std::fs::write(&twice, format!(r#"{{"bob": "{hash}", "bob": "{hash}"}}"#)).unwrap();
    for path in [dir.join("missing.json"), malformed, twice.clone()] {
        let lines = refuses("bin-users", &[("USERS_FILE", path.to_str().unwrap())]);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].contains("USERS_FILE"), "{lines:?}");
        if path == twice {
            assert!(lines[0].contains("\"bob\" is listed twice"), "{lines:?}");
        }
    }
}

#[tokio::test]
async fn users_file_replaces_the_demo_users() {
    let dir = temp_dir("bin-users");
    let hash = bcrypt::hash("correct horse", 4).unwrap();
    std::fs::write(dir.join("users.json"), format!(r#"{{"alice": "{hash}"}}"#)).unwrap();
    let server = Binary::start(&dir, &[("USERS_FILE", "users.json")]);
    let (access, _) = login(server.addr, "alice", "correct horse").await;
    assert_eq!(
        get(server.addr, "/protected", Some(&access)).await.json()["logged_in_as"],
        "alice"
    );
    let reply = post_json(
        server.addr,
        "/login",
        None,
        r#"{"username":"user1","password":"password1"}"#,
    )
    .await;
    assert_eq!(reply.status, 401);
    assert!(!server.log().join("\n").contains("demo users"));
}

#[tokio::test]
async fn dot_env_is_loaded_and_the_environment_wins() {
    let dir = temp_dir("bin-dotenv");
    let file_key = "key-from-the-dot-env-file-0123456789abcdef";
    let env_key = "key-from-the-real-environment-0123456789ab";
    std::fs::write(
        dir.join(".env"),
        format!("JWT_SECRET_KEY={file_key}\nJWT_LEEWAY=5\n"),
    )
    .unwrap();

    let server = Binary::start(&dir, &[]);
    let token = sign_with(file_key, &claims("user1", TokenType::Access));
    assert_eq!(
        get(server.addr, "/protected", Some(&token)).await.status,
        200
    );
    assert!(
        !server
            .log()
            .join("\n")
            .contains("JWT_SECRET_KEY is not set")
    );
    drop(server);

    let server = Binary::start(&dir, &[("JWT_SECRET_KEY", env_key)]);
    let from_env = sign_with(env_key, &claims("user1", TokenType::Access));
    assert_eq!(
        get(server.addr, "/protected", Some(&from_env)).await.status,
        200
    );
    assert_eq!(
        get(server.addr, "/protected", Some(&token)).await.status,
        401
    );
}

#[tokio::test]
async fn sigterm_shuts_down_cleanly_with_status_0() {
    let dir = temp_dir("bin-sigterm");
    let mut server = Binary::start(&dir, &[]);
    assert_eq!(get(server.addr, "/healthz", None).await.status, 200);
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
    let log = server.log().join("\n");
    assert!(
        log.contains("SIGTERM received") && log.contains("shutting down"),
        "{log}"
    );
}

/// Waits until the server has logged a DEBUG line, provoking one: a connection that closes
/// uncleanly is logged at debug level only.
async fn wait_for_a_debug_line(server: &Binary) {
    {
        use tokio::io::AsyncWriteExt;
        let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        stream.write_all(b"GARBAGE\r\n\r\n").await.unwrap();
        let _ = tokio::io::AsyncReadExt::read(&mut stream, &mut [0u8; 256]).await;
    }
    assert_eq!(get(server.addr, "/healthz", None).await.status, 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !server.log().iter().any(|l| l.contains(" DEBUG ")) {
        assert!(
            std::time::Instant::now() < deadline,
            "no debug line: {:?}",
            server.log()
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn flask_debug_turns_on_debug_logging() {
    let dir = temp_dir("bin-debug");
    let server = Binary::start(&dir, &[("FLASK_DEBUG", "1")]);
    wait_for_a_debug_line(&server).await;
}

/// The start-up line that lists the settings and where each came from.
fn settings_line(log: &[String]) -> &str {
    log.iter()
        .find(|l| l.contains(" settings: "))
        .unwrap_or_else(|| panic!("no settings line: {log:?}"))
}

/// The first-run flow: `cp .env.example .env`, set the key, add `FLASK_DEBUG=True`, start.
#[tokio::test]
async fn the_seed_flow_from_env_example_gives_debug_logging_and_names_sources() {
    let dir = temp_dir("bin-env-example");
    let key = "f00d".repeat(16);
    let example = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.env.example"))
        .expect("read .env.example");
    assert!(
        example.contains("\nJWT_SECRET_KEY=\n"),
        "the example has a key to set"
    );
    let dot_env = example.replace("\nJWT_SECRET_KEY=\n", &format!("\nJWT_SECRET_KEY={key}\n"))
        + "FLASK_DEBUG=True\n";
    std::fs::write(dir.join(".env"), dot_env).unwrap();

    let server = Binary::start(&dir, &[]);
    wait_for_a_debug_line(&server).await;
    let log = server.log();
    let settings = settings_line(&log);
    assert!(
        settings.contains("settings: log level debug (set by FLASK_DEBUG)"),
        "{settings}"
    );
    // binary_command sets HOST and PORT in the environment; the rest came from .env.
    let (environment, dot_env) = settings
        .split_once("; .env: ")
        .unwrap_or_else(|| panic!("no .env group: {settings}"));
    assert!(
        environment.contains("; environment: HOST=127.0.0.1, PORT=0"),
        "{settings}"
    );
    assert!(
        dot_env.contains("JWT_SECRET_KEY=<set, 64 bytes>"),
        "{settings}"
    );
    assert!(dot_env.contains("FLASK_DEBUG=True"), "{settings}");
    assert!(
        !log.join("\n").contains(&key),
        "the key was logged: {log:?}"
    );
    assert!(
        !log.join("\n").contains("JWT_SECRET_KEY is not set"),
        "{log:?}"
    );
}

#[tokio::test]
async fn the_settings_line_shows_the_environment_winning_and_hides_every_secret() {
    let dir = temp_dir("bin-settings");
    let file_key = "k".repeat(40);
    let env_key = "e".repeat(48);
    let previous = format!("{},{}", "p".repeat(32), "q".repeat(33));
    std::fs::write(
        dir.join(".env"),
        format!("JWT_SECRET_KEY={file_key}\nJWT_LEEWAY=5\nDEBUG=false\nCORS_ORIGINS=\"https://a.example, https://b.example\"\n"),
    )
    .unwrap();
    let server = Binary::start(
        &dir,
        &[
            ("JWT_SECRET_KEY", &env_key),
            ("JWT_PREVIOUS_SECRET_KEYS", &previous),
        ],
    );
    let lines = server.log();
    let settings = settings_line(&lines);
    let log = lines.join("\n");
    // DEBUG=false leaves the default level, so DEBUG is not named as its cause.
    assert!(
        settings.contains("settings: log level info (default); environment: "),
        "{settings}"
    );
    assert!(
        settings.contains("JWT_SECRET_KEY=<set, 48 bytes>"),
        "{settings}"
    );
    assert!(
        settings.contains("JWT_PREVIOUS_SECRET_KEYS=<set, 2 key(s)>"),
        "{settings}"
    );
    let dot_env = settings.split("; .env: ").nth(1).unwrap_or_default();
    assert!(dot_env.contains("JWT_LEEWAY=5"), "{settings}");
    assert!(dot_env.contains("DEBUG=false"), "{settings}");
    assert!(
        dot_env.contains(r#"CORS_ORIGINS="https://a.example, https://b.example""#),
        "{settings}"
    );
    // The shadowed .env key is not listed: only what took effect.
    assert!(!dot_env.contains("JWT_SECRET_KEY"), "{settings}");
    for secret in [&file_key, &env_key, &"p".repeat(32), &"q".repeat(33)] {
        assert!(!log.contains(secret.as_str()), "a key was logged: {log}");
    }
}

#[test]
fn bad_values_say_how_to_fix_them() {
    for (key, value, expected) in [
        (
            "PORT",
            "70000",
            "configuration error: PORT: 70000 is out of range: use 0 to 65535",
        ),
        (
            "CORS_ORIGINS",
            "http://127.0.0.1:8088/",
            "has a path; an origin is scheme://host[:port], with no path, not even \"/\": use http://127.0.0.1:8088",
        ),
        (
            "HOST",
            "bad.host",
            "configuration error: HOST: \"bad.host\" is not an IP address or localhost",
        ),
    ] {
        let lines = refuses("bin-fix-hints", &[(key, value)]);
        assert_eq!(lines.len(), 1, "{key}: {lines:?}");
        assert!(
            lines[0].starts_with(&format!("configuration error: {key}: ")),
            "{lines:?}"
        );
        assert!(lines[0].contains(expected), "{key}: {lines:?}");
    }
}

/// Keys that look like settings but are read by nothing (a misspelling, a family of ours) get one
/// warning each at start-up, from the environment and from `.env`, naming the key, where it was set
/// and the known key it is close to, never the value. Other programs' variables get none.
#[tokio::test]
async fn unknown_keys_that_look_like_ours_are_warned_about_once() {
    let dir = temp_dir("bin-unknown-keys");
    std::fs::write(dir.join(".env"), "REDIS_HOST=cache.internal\nPROT=8000\n").unwrap();
    let mut server = Binary::start(
        &dir,
        &[
            ("JWT_SECRET_KEY", SECRET),
            ("JWT_ACCESS_TOKEN_EXPIRE", "60"),
            ("HOME", "/root"),
            ("EDITOR", "vi"),
        ],
    );
    let log = server.log();
    let warned = |key: &str| {
        log.iter()
            .filter(|line| line.contains("WARN") && line.contains(&format!("{key} (set in")))
            .count()
    };
    assert_eq!(warned("JWT_ACCESS_TOKEN_EXPIRE"), 1, "{log:#?}");
    assert_eq!(warned("REDIS_HOST"), 1, "{log:#?}");
    assert_eq!(warned("PROT"), 1, "{log:#?}");
    let text = log.join("\n");
    assert!(
        text.contains("JWT_ACCESS_TOKEN_EXPIRE (set in environment) is not a setting of hyperjwt and does nothing; did you mean JWT_ACCESS_TOKEN_EXPIRES?"),
        "{text}"
    );
    assert!(
        text.contains("PROT (set in .env)") && text.contains("did you mean PORT?"),
        "{text}"
    );
    assert!(
        !text.contains("cache.internal"),
        "a value was logged: {text}"
    );
    for other in ["HOME (set", "EDITOR (set", "PATH (set"] {
        assert!(!text.contains(other), "{other}: {text}");
    }
    assert!(server.terminate().success());
}

/// `SECRET_KEY` is checked when set, used or not; beside a different `JWT_SECRET_KEY` it is unused,
/// and the log says so.
#[tokio::test]
async fn secret_key_is_checked_beside_jwt_secret_key_and_warned_about_when_unused() {
    let lines = refuses(
        "bin-secret-key-short",
        &[("JWT_SECRET_KEY", SECRET), ("SECRET_KEY", "short")],
    );
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("configuration error: SECRET_KEY: the key is 5 bytes"),
        "{lines:?}"
    );
    let dir = temp_dir("bin-secret-key-unused");
    let other = "q".repeat(40);
    let mut server = Binary::start(
        &dir,
        &[("JWT_SECRET_KEY", SECRET), ("SECRET_KEY", other.as_str())],
    );
    let text = server.log().join("\n");
    assert!(
        text.contains("SECRET_KEY is set, and so is JWT_SECRET_KEY, which wins"),
        "{text}"
    );
    assert!(!text.contains(&other) && !text.contains(SECRET), "{text}");
    // The key that signs is JWT_SECRET_KEY's.
    let (access, _) = login(server.addr, "user1", "password1").await;
    let claims = hyperjwt::jwt::verify(
        &hyperjwt::jwt::Hs256Key::new(SECRET.as_bytes()),
        &access,
        &hyperjwt::jwt::Validation::default(),
        TokenType::Access,
        hyperjwt::jwt::now(),
    );
    assert!(claims.is_ok(), "{claims:?}");
    assert!(server.terminate().success());
}

/// Settings that start but could never work in a browser stop start-up, one line each: a cookie
/// prefix in another case, a CSRF cookie named like a token cookie, origins no browser sends.
#[test]
fn settings_no_browser_could_use_stop_start_up_in_one_line() {
    let cookies = [
        ("JWT_TOKEN_LOCATION", "cookies"),
        ("CORS_ORIGINS", "https://app.example"),
    ];
    for (extra, key, expected) in [
        (
            ("JWT_ACCESS_COOKIE_NAME", "__host-access"),
            "JWT_ACCESS_COOKIE_NAME",
            "spell it __Host-",
        ),
        (
            ("JWT_ACCESS_CSRF_COOKIE_NAME", "access_token_cookie"),
            "JWT_ACCESS_CSRF_COOKIE_NAME",
            "would overwrite the HttpOnly token cookie",
        ),
        (
            ("CORS_ORIGINS", "https://App.example:443"),
            "CORS_ORIGINS",
            "use https://app.example",
        ),
        (
            ("CORS_ORIGINS", "https://*.example.com"),
            "CORS_ORIGINS",
            "patterns are not origins",
        ),
    ] {
        let mut envs = cookies.to_vec();
        envs.retain(|(k, _)| *k != extra.0);
        envs.push(extra);
        let lines = refuses("bin-never-works", &envs);
        assert_eq!(lines.len(), 1, "{extra:?}: {lines:?}");
        assert!(
            lines[0].starts_with(&format!("configuration error: {key}: ")),
            "{lines:?}"
        );
        assert!(lines[0].contains(expected), "{extra:?}: {lines:?}");
    }
}
