//! What an operator runs the server with, over real sockets: `/health/live` and `/health/ready`
//! (503 when the journal is gone, replaced or read-only), `X-Request-Id` on every response,
//! `/metrics` (counters that move with the requests made, cumulative histograms, `METRICS=off`,
//! `METRICS_ADDR` on its own listener), and the log: `LOG_FORMAT=json` lines and their request
//! ids, and no secret, password or token in either format.

mod support;

use std::net::SocketAddr;

use hyperjwt::jwt::TokenType;
use support::*;

fn requests(text: &str, route: &str, class: &str) -> f64 {
    value(
        text,
        &format!("hyperjwt_http_requests_total{{route=\"{route}\",status_class=\"{class}\"}}"),
    )
}

fn is_generated_id(id: &str) -> bool {
    let Some((prefix, counter)) = id.split_once('-') else {
        return false;
    };
    let hex = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    prefix.len() == 16 && counter.len() == 12 && hex(prefix) && hex(counter)
}

#[tokio::test]
async fn live_and_ready_answer_with_the_agreed_bodies() {
    let server = start(&[]).await;
    let live = get(server.addr, "/health/live", None).await;
    assert_eq!(
        (live.status, live.body.as_slice()),
        (200, &br#"{"status":"live"}"#[..])
    );
    assert_eq!(live.header("content-type"), Some("application/json"));
    // No DENYLIST_FILE: the journal check does not apply and is left out.
    let ready = get(server.addr, "/health/ready", None).await;
    assert_eq!(
        (ready.status, String::from_utf8_lossy(&ready.body).as_ref()),
        (200, r#"{"status":"ready","checks":{"users":"ok"}}"#)
    );
    let healthz = get(server.addr, "/healthz", None).await;
    assert_eq!(healthz.body, br#"{"status":"ok"}"#);
    for path in ["/health/live", "/health/ready", "/metrics"] {
        let reply = request(server.addr, "POST", path, &[], b"").await;
        assert_error(&reply, 405, "Method Not Allowed");
        assert_eq!(reply.header("allow"), Some("GET, HEAD, OPTIONS"), "{path}");
        let head = request(server.addr, "HEAD", path, &[], b"").await;
        assert_eq!(head.status, 200, "{path}");
    }

    let dir = temp_dir("ops-ready");
    let journal = dir.join("denylist");
    let server = start(&[("DENYLIST_FILE", journal.to_str().unwrap())]).await;
    let ready = get(server.addr, "/health/ready", None).await;
    assert_eq!(
        (ready.status, String::from_utf8_lossy(&ready.body).as_ref()),
        (
            200,
            r#"{"status":"ready","checks":{"users":"ok","journal":"ok"}}"#
        )
    );
}

#[tokio::test]
async fn ready_is_503_while_the_journal_is_missing_or_replaced() {
    let dir = temp_dir("ops-journal-gone");
    let journal = dir.join("denylist");
    let server = start(&[("DENYLIST_FILE", journal.to_str().unwrap())]).await;
    let not_ready = |reason: &str| serde_json::json!({"status": "not ready", "checks": {"users": "ok", "journal": reason}});

    // Deleted under the server: every later revocation would go to a file no restart reads.
    std::fs::remove_file(&journal).unwrap();
    let reply = get(server.addr, "/health/ready", None).await;
    assert_eq!(
        (reply.status, reply.json()),
        (503, not_ready("file missing"))
    );
    // A file at the path again, but not the one the server writes to.
    std::fs::write(&journal, b"").unwrap();
    let reply = get(server.addr, "/health/ready", None).await;
    assert_eq!(
        (reply.status, reply.json()),
        (503, not_ready("file replaced"))
    );
    // Alive all the while: a restart is the cure, not a reason to kill it mid-request.
    assert_eq!(get(server.addr, "/health/live", None).await.status, 200);
    assert_eq!(get(server.addr, "/healthz", None).await.status, 200);
}

/// Runs the server as an unprivileged user when the tests run as root (root may write anywhere,
/// so only another user sees permissions), else as the user running the tests. That user runs a
/// copy of the binary in the test's own folder: the clone's `target/` may be private to root.
#[cfg(unix)]
#[tokio::test]
async fn ready_is_503_while_the_journal_or_its_directory_is_read_only() {
    use std::os::unix::process::CommandExt;

    let dir = temp_dir("ops-journal-ro");
    let state = dir.join("state");
    std::fs::create_dir(&state).unwrap();
    let journal = state.join("denylist");
    let envs = [
        ("JWT_SECRET_KEY", SECRET),
        ("DENYLIST_FILE", journal.to_str().unwrap()),
    ];
    // SAFETY: geteuid has no preconditions and cannot fail.
    let command = if unsafe { libc::geteuid() } == 0 {
        const NOBODY: u32 = 65534;
        let program = match binary_copy_for_others(&dir) {
            Ok(program) => program,
            Err(why) => {
                println!("SKIPPED: the journal's permissions as user nobody: {why}");
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "CI=true: {why}"
                );
                return;
            }
        };
        std::os::unix::fs::chown(&state, Some(NOBODY), Some(NOBODY)).unwrap();
        let mut command = program_command(&program, &dir, &envs);
        command.uid(NOBODY).gid(NOBODY);
        command
    } else {
        binary_command(&dir, &envs)
    };
    let server = Binary::spawn(command);
    let reply = get(server.addr, "/health/ready", None).await;
    assert_eq!(
        (reply.status, reply.json()["checks"]["journal"].clone()),
        (200, "ok".into())
    );
    // Compaction creates and renames files beside the journal.
    not_ready_while_read_only(server.addr, &state, 0o555, 0o755, "directory not writable").await;
    not_ready_while_read_only(server.addr, &journal, 0o444, 0o644, "file not writable").await;
}

/// `/health/ready` is 503 with the journal check's `reason` while `path` has mode `read_only`, and
/// 200 again once it has `writable`.
async fn not_ready_while_read_only(
    addr: std::net::SocketAddr,
    path: &std::path::Path,
    read_only: u32,
    writable: u32,
    reason: &str,
) {
    use std::os::unix::fs::PermissionsExt;
    let mode = |mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    mode(read_only);
    let reply = get(addr, "/health/ready", None).await;
    mode(writable);
    assert_eq!(reply.status, 503, "{reply:?}");
    let found = reply.json()["checks"]["journal"].clone();
    assert!(
        found
            .as_str()
            .unwrap()
            .starts_with(&format!("{reason}: Permission denied")),
        "{found}"
    );
    assert_eq!(reply.json()["status"], "not ready");
    assert_eq!(get(addr, "/health/ready", None).await.status, 200);
}

#[tokio::test]
async fn every_response_carries_a_request_id_the_client_s_when_sane() {
    let server = start(&[("CORS_ORIGINS", "https://app.example")]).await;
    let id = |reply: &Reply| reply.header("x-request-id").unwrap_or_default().to_string();
    let longest = "i".repeat(128);
    for sane in [
        "abc",
        "0f8fad5b-d9cb-469f-a165-70867728950e",
        "a.b_c:d-e",
        &longest,
    ] {
        for (method, path) in [
            ("GET", "/"),
            ("GET", "/nope"),
            ("POST", "/"),
            ("GET", "/protected"),
        ] {
            let reply = request(server.addr, method, path, &[("X-Request-Id", sane)], b"").await;
            assert_eq!(id(&reply), sane, "{method} {path}");
        }
    }
    let preflight = request(
        server.addr,
        "OPTIONS",
        "/login",
        &[
            ("Origin", "https://app.example"),
            ("Access-Control-Request-Method", "POST"),
            ("X-Request-Id", "pre-1"),
        ],
        b"",
    )
    .await;
    assert_eq!((preflight.status, id(&preflight).as_str()), (204, "pre-1"));

    let too_long = "i".repeat(129);
    let mut generated = Vec::new();
    for insane in [
        &[("X-Request-Id", "has space")][..],
        &[("X-Request-Id", too_long.as_str())],
        &[("X-Request-Id", "semi;colon")],
        &[("X-Request-Id", "slash/")],
        &[("X-Request-Id", "\"quoted\"")],
        &[("X-Request-Id", "one"), ("X-Request-Id", "two")],
        &[],
    ] {
        let reply = request(server.addr, "GET", "/", insane, b"").await;
        let id = id(&reply);
        assert!(is_generated_id(&id), "{insane:?} got {id:?}");
        generated.push(id);
    }
    let prefixes: std::collections::HashSet<&str> = generated.iter().map(|id| &id[..16]).collect();
    assert_eq!(prefixes.len(), 1, "one prefix per process: {generated:?}");
    let unique: std::collections::HashSet<&String> = generated.iter().collect();
    assert_eq!(unique.len(), generated.len(), "{generated:?}");

    // A script on an allowed origin may read it.
    let reply = request(
        server.addr,
        "GET",
        "/",
        &[("Origin", "https://app.example")],
        b"",
    )
    .await;
    assert_eq!(
        reply.header("access-control-expose-headers"),
        Some("WWW-Authenticate, Retry-After, X-Request-Id")
    );
}

#[tokio::test]
async fn metrics_move_with_requests_logins_refusals_and_revocations() {
    let server = start(&[("LOGIN_MAX_FAILURES_PER_USER", "2")]).await;
    let addr = server.addr;
    let before = scrape(addr).await;
    assert_eq!(
        value(&before, "hyperjwt_build_info{version=\"0.1.0\"}"),
        1.0
    );

    let (access, refresh) = login(addr, "user1", "password1").await;
    for _ in 0..2 {
        assert_eq!(login_reply(addr, "user2", "wrong").await.status, 401);
    }
    assert_eq!(login_reply(addr, "user2", "wrong").await.status, 429);
    assert_eq!(post_json(addr, "/login", None, "{}").await.status, 400);

    // One refusal of each kind the pipeline tells apart, and two good requests.
    let mut expired = claims("user1", TokenType::Access);
    expired.exp = Some(hyperjwt::jwt::now() - 3600);
    let refusals_made = [
        (get(addr, "/protected", None).await, "missing_authorization"),
        (
            request(
                addr,
                "GET",
                "/protected",
                &[("Authorization", "Basic dXNlcg==")],
                b"",
            )
            .await,
            "bad_authorization_header",
        ),
        (
            get(addr, "/protected", Some(&sign(&expired))).await,
            "expired",
        ),
        (
            get(
                addr,
                "/protected",
                Some(&sign_with("another-secret-0123456789abcdef01", &expired)),
            )
            .await,
            "signature",
        ),
        (get(addr, "/protected", Some(&refresh)).await, "wrong_type"),
        (get(addr, "/protected", Some("a.b")).await, "segments"),
    ];
    for (reply, reason) in &refusals_made {
        assert_eq!(reply.status, 401, "{reason}: {reply:?}");
    }
    assert_eq!(get(addr, "/protected", Some(&access)).await.status, 200);
    assert_eq!(get(addr, "/protected", Some(&access)).await.status, 200);

    // Logout ends the token and its session; using it after is a revoked token.
    assert_eq!(present(addr, "/logout", &access).await.status, 200);
    assert_eq!(get(addr, "/protected", Some(&access)).await.status, 401);
    let (other, _) = login(addr, "user1", "password1").await;
    assert_eq!(present(addr, "/logout/all", &other).await.status, 200);

    let after = scrape(addr).await;
    let grew = |series: &str| value(&after, series) - value(&before, series);
    assert_eq!(grew("hyperjwt_logins_total{result=\"ok\"}"), 2.0);
    assert_eq!(
        grew("hyperjwt_logins_total{result=\"wrong_credentials\"}"),
        2.0
    );
    assert_eq!(grew("hyperjwt_logins_total{result=\"throttled\"}"), 1.0);
    assert_eq!(grew("hyperjwt_logins_total{result=\"bad_request\"}"), 1.0);
    for (_, reason) in &refusals_made {
        assert_eq!(
            refusals(&after, reason) - refusals(&before, reason),
            1.0,
            "{reason}"
        );
    }
    assert_eq!(
        refusals(&after, "revoked") - refusals(&before, "revoked"),
        1.0
    );
    assert_eq!(grew("hyperjwt_revocations_total{kind=\"token\"}"), 1.0);
    assert_eq!(grew("hyperjwt_revocations_total{kind=\"session\"}"), 1.0);
    assert_eq!(grew("hyperjwt_revocations_total{kind=\"user\"}"), 1.0);
    assert_eq!(
        value(&after, "hyperjwt_denylist_entries{kind=\"token\"}"),
        1.0
    );
    assert_eq!(
        value(&after, "hyperjwt_denylist_entries{kind=\"session\"}"),
        1.0
    );
    assert_eq!(
        value(&after, "hyperjwt_denylist_entries{kind=\"user\"}"),
        1.0
    );
    assert_eq!(value(&after, "hyperjwt_users"), 2.0);
    // Four logins ran bcrypt (two good, two wrong); the throttled one never did.
    assert_eq!(grew("hyperjwt_password_check_duration_seconds_count"), 4.0);
    assert_eq!(grew("hyperjwt_password_check_wait_seconds_count"), 4.0);
    assert_eq!(value(&after, "hyperjwt_password_checks_running"), 0.0);
    // This scrape's own connection is open while it is answered.
    assert!(value(&after, "hyperjwt_connections_open") >= 1.0);
    assert!(grew("hyperjwt_connections_accepted_total") >= 18.0);

    // /protected: 2 + 1 answered 200; 6 + 1 refused (401).
    assert_eq!(
        requests(&after, "/protected", "2xx") - requests(&before, "/protected", "2xx"),
        2.0
    );
    assert_eq!(
        requests(&after, "/protected", "4xx") - requests(&before, "/protected", "4xx"),
        7.0
    );
    // The scrape before this one was counted when it was answered.
    assert_eq!(requests(&after, "/metrics", "2xx"), 1.0);

    // Histograms: cumulative buckets, and _count equals the route's requests of every class.
    let route_total = |route: &str| -> f64 {
        ["1xx", "2xx", "3xx", "4xx", "5xx"]
            .iter()
            .map(|class| requests(&after, route, class))
            .sum()
    };
    for route in ["/protected", "/login", "/logout", "/metrics", "/"] {
        let prefix =
            format!("hyperjwt_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"");
        let buckets: Vec<(String, f64)> = after
            .lines()
            .filter_map(|line| {
                let rest = line.strip_prefix(&prefix)?;
                let (le, count) = rest.split_once("\"} ")?;
                Some((le.to_string(), count.parse().ok()?))
            })
            .collect();
        assert_eq!(buckets.len(), 20, "{route}");
        assert!(
            buckets.windows(2).all(|w| w[0].1 <= w[1].1),
            "{route}: {buckets:?}"
        );
        assert_eq!(buckets.last().unwrap().0, "+Inf");
        let count = value(
            &after,
            &format!("hyperjwt_http_request_duration_seconds_count{{route=\"{route}\"}}"),
        );
        assert_eq!(buckets.last().unwrap().1, count, "{route}");
        assert_eq!(count, route_total(route), "{route}");
    }
    // bcrypt at cost 12 takes well over a millisecond: no login that ran it is in the 1 ms bucket.
    // The 400 and the 429 never ran bcrypt; on a loaded machine they may take over 1 ms too.
    let fast_logins = value(
        &after,
        "hyperjwt_http_request_duration_seconds_bucket{route=\"/login\",le=\"0.001\"}",
    );
    assert!(fast_logins <= 2.0, "{fast_logins}");
}

#[tokio::test]
async fn a_full_password_check_queue_counts_as_busy() {
    let server = start(&[
        ("PASSWORD_CHECK_CONCURRENCY", "1"),
        ("PASSWORD_CHECK_QUEUE", "0"),
        ("PASSWORD_CHECK_WAIT", "0"),
    ])
    .await;
    let logins: Vec<_> = (0..4)
        .map(|_| tokio::spawn(login_reply(server.addr, "user1", "password1")))
        .collect();
    let mut busy = 0.0;
    for login in logins {
        if login.await.unwrap().status == 503 {
            busy += 1.0;
        }
    }
    assert!(
        busy >= 1.0,
        "one check at a time, none queued: some logins must be turned away"
    );
    let text = scrape(server.addr).await;
    assert_eq!(value(&text, "hyperjwt_logins_total{result=\"busy\"}"), busy);
    assert_eq!(
        value(&text, "hyperjwt_logins_total{result=\"ok\"}"),
        4.0 - busy
    );
}

#[tokio::test]
async fn metrics_off_hides_the_route_and_the_api_works_on() {
    let server = start(&[("METRICS", "off")]).await;
    assert_error(&get(server.addr, "/metrics", None).await, 404, "Not Found");
    let (access, _) = login(server.addr, "user1", "password1").await;
    assert_eq!(
        get(server.addr, "/protected", Some(&access)).await.status,
        200
    );
}

#[tokio::test]
async fn metrics_addr_serves_the_metrics_alone_and_the_main_listener_hides_them() {
    let dir = temp_dir("ops-metrics-addr");
    let server = Binary::start(
        &dir,
        &[("JWT_SECRET_KEY", SECRET), ("METRICS_ADDR", "127.0.0.1:0")],
    );
    let log = server.log().join("\n");
    let metrics_addr: SocketAddr = log
        .split("metrics served on http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no metrics address in the log: {log}"))
        .parse()
        .unwrap();
    assert_ne!(metrics_addr, server.addr);

    assert_error(&get(server.addr, "/metrics", None).await, 404, "Not Found");
    assert_eq!(get(server.addr, "/health/live", None).await.status, 200);
    let text = scrape(metrics_addr).await;
    // The main listener's refusal was counted, as a request to no route of it.
    assert_eq!(requests(&text, "unmatched", "4xx"), 1.0);
    assert_eq!(requests(&text, "/health/live", "2xx"), 1.0);
    for path in ["/", "/protected", "/health/live", "/health/ready", "/login"] {
        assert_error(&get(metrics_addr, path, None).await, 404, "Not Found");
    }
    let reply = request(metrics_addr, "POST", "/metrics", &[], b"").await;
    assert_error(&reply, 405, "Method Not Allowed");
    assert!(reply.header("x-request-id").is_some());
}

#[tokio::test]
async fn json_log_lines_carry_the_access_fields_and_the_request_id() {
    let dir = temp_dir("ops-json-log");
    let server = Binary::start(&dir, &[("JWT_SECRET_KEY", SECRET), ("LOG_FORMAT", "json")]);
    request(
        server.addr,
        "GET",
        "/protected?q=1",
        &[("X-Request-Id", "ops-json-1")],
        b"",
    )
    .await;
    let body = br#"{"username":"user1","password":"wrong"}"#;
    let headers = [
        ("Content-Type", "application/json"),
        ("X-Request-Id", "ops-json-2"),
    ];
    assert_eq!(
        request(server.addr, "POST", "/login", &headers, body)
            .await
            .status,
        401
    );
    server.wait_for_log("\"POST /login 401").await;

    let lines: Vec<serde_json::Value> = server
        .log()
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    for line in &lines {
        for key in ["time", "level", "target", "message"] {
            assert!(line[key].is_string(), "{key} in {line}");
        }
        let time = line["time"].as_str().unwrap();
        // RFC 3339 in UTC with milliseconds: 2026-11-24T22:10:03.123Z.
        assert_eq!(time.len(), 24, "{time}");
        assert!(time.ends_with('Z') && &time[10..11] == "T", "{time}");
    }
    let access = lines
        .iter()
        .find(|line| line["request_id"] == "ops-json-1")
        .expect("the access line of the first request");
    assert_eq!(access["level"], "info");
    assert_eq!(access["target"], "hyperjwt::access");
    assert_eq!(access["method"], "GET");
    // The path only, never the query string.
    assert_eq!(access["path"], "/protected");
    assert_eq!(access["status"], 401);
    assert!(access["duration_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(access["client"], "127.0.0.1");
    assert!(
        access["message"]
            .as_str()
            .unwrap()
            .starts_with("GET /protected 401 ")
    );
    // Every line of the login names it: the failed-login line and the access line.
    let of_login: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|line| line["request_id"] == "ops-json-2")
        .collect();
    assert_eq!(of_login.len(), 2, "{of_login:?}");
    assert!(
        of_login
            .iter()
            .any(|line| line["message"] == "failed login for user \"user1\"")
    );
    // Lines outside any request have no id.
    assert!(lines.iter().any(
        |line| line["message"].as_str().unwrap().contains("listening on")
            && line.get("request_id").is_none()
    ));
}

#[tokio::test]
async fn no_secret_password_or_token_reaches_the_log_in_either_format() {
    // Not the demo users: their published password is in the start-up warning on purpose.
    let password = "correct-horse-ops-3b9e";
    for format in ["text", "json"] {
        let dir = temp_dir("ops-log-secrets");
        let users = dir.join("users.json");
        let hash = bcrypt::hash(password, 4).unwrap();
        std::fs::write(&users, serde_json::json!({ "alice": hash }).to_string()).unwrap();
        let server = Binary::start(
            &dir,
            &[
                ("JWT_SECRET_KEY", SECRET),
                ("USERS_FILE", users.to_str().unwrap()),
                ("LOG_FORMAT", format),
                ("LOG_LEVEL", "debug"),
                ("JWT_REFRESH_ROTATION", "true"),
            ],
        );
        let addr = server.addr;
        let wrong_password = "not-the-password-7d1f";
        assert_eq!(login_reply(addr, "alice", wrong_password).await.status, 401);
        let (access, refresh) = login(addr, "alice", password).await;
        assert_eq!(get(addr, "/protected", Some(&access)).await.status, 200);
        let tampered = format!("{}x", &access[..access.len() - 1]);
        assert_eq!(get(addr, "/protected", Some(&tampered)).await.status, 401);
        // A token in the query string: only the path is logged.
        let path = format!("/protected?access_token={access}");
        assert_eq!(get(addr, &path, Some(&access)).await.status, 200);
        let rotated = present(addr, "/refresh", &refresh).await.json();
        let (access2, refresh2) = (
            rotated["access_token"].as_str().unwrap().to_string(),
            rotated["refresh_token"].as_str().unwrap().to_string(),
        );
        // The used refresh token again: a security warning, and its session ends.
        assert_eq!(present(addr, "/refresh", &refresh).await.status, 401);
        let body = format!(r#"{{"refresh_token":"{refresh2}"}}"#);
        post_json(addr, "/logout", Some(&access2), &body).await;
        let log = server.wait_for_log("POST /logout").await;
        assert!(log.contains("security: a used refresh token"), "{log}");
        assert!(
            log.contains("token refused: "),
            "the debug lines are there: {log}"
        );

        let mut secrets = vec![
            SECRET.to_string(),
            "password1".into(),
            wrong_password.into(),
        ];
        for token in [&access, &refresh, &access2, &refresh2, &tampered] {
            secrets.push(token.clone());
            // Each part alone too: the signature, and the claims (with their jti).
            let parts: Vec<&str> = token.split('.').collect();
            secrets.push(parts[1].to_string());
            secrets.push(parts[2].to_string());
        }
        for secret in &secrets {
            assert!(
                !log.contains(secret.as_str()),
                "{format} log holds {secret:?}:\n{log}"
            );
        }
    }
}

/// The exposition as Prometheus' own linter reads it. `tests/ops/prometheus.sh` (run by `.ci/run`)
/// also has a real Prometheus scrape it.
#[tokio::test]
async fn promtool_finds_no_problem_in_the_exposition() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    if !installed(
        "promtool",
        "--version",
        "promtool_finds_no_problem_in_the_exposition",
        "apt-get install -y prometheus; .ci/run installs it",
    ) {
        return;
    }
    let server = start(&[]).await;
    let (access, _) = login(server.addr, "user1", "password1").await;
    get(server.addr, "/protected", Some(&access)).await;
    get(server.addr, "/protected", Some("a.b")).await;
    let text = scrape(server.addr).await;
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run promtool");
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = promtool.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // promtool lists lint problems (a counter without _total, a missing HELP, ...) one a line.
    assert!(
        output.status.success() && said.trim().is_empty(),
        "promtool: {said}"
    );
}
