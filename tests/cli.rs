//! Tests of the `hyperjwt` command-line tools, run as a user runs them: the built binary, a clean
//! environment, a fresh directory, passwords on stdin. Servers started from the same binary check
//! that what the tools write (users files, tokens) is what the server accepts.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use hyperjwt::jwt::{self, Claims, TokenType};
use hyperjwt::store::users::UserStore;
use support::*;

/// The key the tests configure; 64 hex digits, like `gen-secret`'s.
const KEY: &str = "5f1b0d6c2a9e8f7b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70819aab";

impl Run {
    /// The line of `token inspect`'s report for `step`, e.g. `  PASS  12  exp  expires in 14m`:
    /// status, step number, step name, reason.
    fn step(&self, step: &str) -> &str {
        self.stdout
            .lines()
            .find(|line| {
                let mut words = line.get(8..).unwrap_or_default().split_whitespace();
                words.next().is_some_and(|n| n.parse::<u8>().is_ok()) && words.next() == Some(step)
            })
            .unwrap_or_else(|| panic!("no {step} step in:\n{}", self.stdout))
    }

    /// The number `token inspect` prints for `step`.
    fn step_number(&self, step: &str) -> u8 {
        self.step(step)
            .split_whitespace()
            .nth(1)
            .and_then(|n| n.parse().ok())
            .unwrap_or_default()
    }

    fn step_status(&self, step: &str) -> &str {
        self.step(step)
            .split_whitespace()
            .next()
            .unwrap_or_default()
    }
}

/// The environment of the users tests: a users file in the test directory, fast bcrypt.
const USERS: &[(&str, &str)] = &[("USERS_FILE", "users.json"), ("BCRYPT_COST", "4")];

fn add_user(dir: &Path, name: &str, password: &str) -> Run {
    hyperjwt(
        dir,
        &["users", "add", name],
        USERS,
        format!("{password}\n").as_bytes(),
    )
}

#[test]
fn gen_secret_prints_64_hex_digits_different_each_time() {
    let dir = temp_dir("cli-gen-secret");
    let first = hyperjwt(&dir, &["gen-secret"], &[], b"");
    let second = hyperjwt(&dir, &["gen-secret"], &[], b"");
    for run in [&first, &second] {
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        let key = run.stdout.strip_suffix('\n').expect("ends with a newline");
        assert_eq!(key.len(), 64, "{key:?}");
        assert!(
            key.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "{key:?}"
        );
    }
    assert_ne!(first.stdout, second.stdout);
    // The server accepts it as a key.
    assert!(hyperjwt::Config::with_secret(first.stdout.trim()).is_ok());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn hash_password_prints_a_bcrypt_hash_at_bcrypt_cost() {
    let dir = temp_dir("cli-hash");
    let run = hyperjwt(
        &dir,
        &["hash-password"],
        &[("BCRYPT_COST", "4")],
        b"correct horse\n",
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let hash = run.stdout.trim();
    assert!(hash.starts_with("$2b$04$"), "{hash}");
    assert!(bcrypt::verify("correct horse", hash).unwrap());
    assert!(!bcrypt::verify("correct horse\n", hash).unwrap());
    assert!(!run.stdout.contains("correct horse"));

    // BCRYPT_COST from .env, with the server's rules.
    std::fs::write(dir.join(".env"), "BCRYPT_COST=5\n").unwrap();
    let run = hyperjwt(&dir, &["hash-password"], &[], b"pw\r\n");
    assert!(
        run.stdout.starts_with("$2b$05$"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    assert!(bcrypt::verify("pw", run.stdout.trim()).unwrap());
    let run = hyperjwt(&dir, &["hash-password"], &[("BCRYPT_COST", "3")], b"pw\n");
    assert_eq!(run.code, Some(1));
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("BCRYPT_COST"), "{}", run.stderr);

    for (input, expected) in [
        (format!("{}\n", "x".repeat(73)), "73 bytes"),
        ("\n".to_string(), "empty"),
        (String::new(), "no password"),
    ] {
        let run = hyperjwt(
            &dir,
            &["hash-password"],
            &[("BCRYPT_COST", "4")],
            input.as_bytes(),
        );
        assert_eq!(run.code, Some(1), "{input:?}");
        assert!(run.stdout.is_empty(), "{input:?}: {}", run.stdout);
        assert!(run.stderr.contains(expected), "{input:?}: {}", run.stderr);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn users_add_then_log_in_to_a_server_started_from_the_binary() {
    let dir = temp_dir("cli-users-login");
    let run = add_user(&dir, "alice", "correct horse battery");
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stdout.contains("added user \"alice\""),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("correct horse"));
    // A 72-byte password is the longest accepted, and it is kept whole.
    let long = "p".repeat(72);
    assert_eq!(add_user(&dir, "bob", &long).code, Some(0));

    let server = Binary::start(
        &dir,
        &[("USERS_FILE", "users.json"), ("JWT_SECRET_KEY", KEY)],
    );
    let (access, _) = login(server.addr, "alice", "correct horse battery").await;
    assert_eq!(
        get(server.addr, "/protected", Some(&access)).await.json()["logged_in_as"],
        "alice"
    );
    login(server.addr, "bob", &long).await;
    let wrong = post_json(
        server.addr,
        "/login",
        None,
        r#"{"username":"alice","password":"correct horse"}"#,
    )
    .await;
    assert_eq!(wrong.status, 401);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn users_add_refuses_duplicates_bad_passwords_and_bad_names_without_touching_the_file() {
    let dir = temp_dir("cli-users-refuse");
    assert_eq!(add_user(&dir, "alice", "first").code, Some(0));
    let before = std::fs::read(dir.join("users.json")).unwrap();

    let refusals = [
        ("alice", "second".to_string(), "already exists"),
        ("bob", "x".repeat(73), "73 bytes"),
        ("bob", String::new(), "empty"),
        ("", "pw".into(), "empty"),
        (" bob", "pw".into(), "whitespace"),
        ("bo\tb", "pw".into(), "control character"),
    ];
    for (name, password, expected) in &refusals {
        let run = add_user(&dir, name, password);
        assert_eq!(run.code, Some(1), "{name:?}: {}", run.stderr);
        assert!(run.stderr.contains(expected), "{name:?}: {}", run.stderr);
        assert_eq!(
            std::fs::read(dir.join("users.json")).unwrap(),
            before,
            "{name:?}"
        );
    }
    let long_name = "n".repeat(129);
    let run = add_user(&dir, &long_name, "pw");
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("at most 128"), "{}", run.stderr);
    assert!(add_user(&dir, &"n".repeat(128), "pw").code == Some(0));

    // --replace sets a new password for an existing user.
    let run = hyperjwt(
        &dir,
        &["users", "add", "alice", "--replace"],
        USERS,
        b"second\n",
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stdout.contains("updated user \"alice\""),
        "{}",
        run.stdout
    );
    let store = UserStore::load(&dir.join("users.json")).unwrap();
    assert!(store.check_password("alice", "second"));
    assert!(!store.check_password("alice", "first"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn users_list_is_sorted_and_remove_refuses_unknown_names() {
    let dir = temp_dir("cli-users-list");
    let list = |dir: &Path| hyperjwt(dir, &["users", "list"], USERS, b"");
    // No file yet: an error, as for the server, which refuses a USERS_FILE that doesn't exist;
    // listing creates nothing.
    let run = list(&dir);
    assert_eq!((run.code, run.stdout.as_str()), (Some(1), ""));
    assert_eq!(
        run.stderr,
        "hyperjwt users list: USERS_FILE users.json does not exist (the server refuses to start \
         without it); 'hyperjwt users add NAME' creates it\n"
    );
    assert!(!dir.join("users.json").exists());
    // An empty file lists nothing, with a warning.
    std::fs::write(dir.join("users.json"), "{}").unwrap();
    let run = list(&dir);
    assert_eq!((run.code, run.stdout.as_str()), (Some(0), ""));
    assert!(run.stderr.contains("has no users"), "{}", run.stderr);
    std::fs::remove_file(dir.join("users.json")).unwrap();
    for name in ["carol", "alice", "bob"] {
        assert_eq!(add_user(&dir, name, "pw").code, Some(0));
    }
    assert_eq!(list(&dir).stdout, "alice\nbob\ncarol\n");
    assert!(!list(&dir).stdout.contains("$2b$"));

    let run = hyperjwt(&dir, &["users", "remove", "bob"], USERS, b"");
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(list(&dir).stdout, "alice\ncarol\n");
    let run = hyperjwt(&dir, &["users", "remove", "bob"], USERS, b"");
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("no user \"bob\""), "{}", run.stderr);
    assert_eq!(list(&dir).stdout, "alice\ncarol\n");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn users_commands_need_users_file_and_a_readable_one() {
    let dir = temp_dir("cli-users-config");
    for args in [
        &["users", "list"][..],
        &["users", "add", "alice"],
        &["users", "remove", "alice"],
    ] {
        let run = hyperjwt(&dir, args, &[("BCRYPT_COST", "4")], b"pw\n");
        assert_eq!(run.code, Some(1), "{args:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("USERS_FILE"),
            "{args:?}: {}",
            run.stderr
        );
    }
    // A file that isn't a users object is reported and left exactly as it was.
    std::fs::write(dir.join("users.json"), "[1, 2]").unwrap();
    let run = add_user(&dir, "alice", "pw");
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("not a JSON object"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.join("users.json")).unwrap(),
        "[1, 2]"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_interrupted_write_never_breaks_the_users_file() {
    let dir = temp_dir("cli-users-interrupted");
    assert_eq!(add_user(&dir, "alice", "pw-alice").code, Some(0));
    let mallory = bcrypt::hash("pw-mallory", 4).unwrap();
    // What a crash can leave beside the file: a complete temporary file that was never renamed, or
    // a half-written one. Neither may ever be read as the users file.
    let leftovers = [
        format!("{{\n  \"alice\": \"x\",\n  \"mallory\": \"{mallory}\"\n}}\n"),
        format!("{{\n  \"mallory\": \"{}", &mallory[..20]),
    ];
    for leftover in leftovers {
        std::fs::write(dir.join("users.json.tmp"), &leftover).unwrap();
        let run = hyperjwt(&dir, &["users", "list"], USERS, b"");
        assert_eq!(run.stdout, "alice\n", "{}", run.stderr);

        let run = add_user(&dir, "bob", "pw-bob");
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        let store = UserStore::load(&dir.join("users.json")).expect("a valid users file");
        assert!(store.check_password("alice", "pw-alice"));
        assert!(store.check_password("bob", "pw-bob"));
        assert!(!store.contains("mallory"));
        assert!(
            !dir.join("users.json.tmp").exists(),
            "the leftover was replaced, then renamed"
        );
        assert_eq!(
            hyperjwt(&dir, &["users", "remove", "bob"], USERS, b"").code,
            Some(0)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Claims like the server's for `alice`, valid now for 15 minutes.
fn alice() -> Claims<'static> {
    let mut claims = support::claims("alice", TokenType::Access);
    claims.exp = claims.iat.map(|iat| iat + 900);
    claims
}

#[test]
fn inspect_a_valid_token_passes_every_step() {
    let dir = temp_dir("cli-inspect-valid");
    // An existing, empty denylist journal, so that revocation is checked too.
    std::fs::write(dir.join("denylist"), "").unwrap();
    let token = sign_with(KEY, &alice());
    let run = hyperjwt(
        &dir,
        &[
            "token",
            "inspect",
            &token,
            "--secret",
            KEY,
            "--denylist",
            "denylist",
        ],
        &[],
        b"",
    );
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    let steps = [
        "length",
        "segments",
        "base64url(header)",
        "header",
        "alg",
        "crit",
        "key",
        "base64url(payload)",
        "base64url(signature)",
        "signature",
        "claims",
        "exp",
        "nbf",
        "type",
        "revocation",
    ];
    for step in steps {
        assert_eq!(run.step_status(step), "PASS", "{}", run.step(step));
    }
    // Each step under the number the pipeline gives it (and docs/jwt.md §8 uses).
    for step in jwt::Step::ALL {
        if step != jwt::Step::Issuer && step != jwt::Step::Audience {
            assert_eq!(run.step_number(step.name()), step.number(), "{step:?}");
        }
    }
    assert!(!run.stdout.contains("FAIL"), "{}", run.stdout);
    assert!(run.stdout.contains("\"sub\": \"alice\""), "{}", run.stdout);
    assert!(
        run.step("exp").contains("expires in 1"),
        "{}",
        run.step("exp")
    );
    assert!(run.stdout.contains("Result: VALID"), "{}", run.stdout);
    // The key is never printed.
    assert!(!run.stdout.contains(KEY) && !run.stderr.contains(KEY));

    // From stdin with `-`, and with the configured key instead of --secret.
    let run = hyperjwt(
        &dir,
        &["token", "inspect", "-"],
        &[("JWT_SECRET_KEY", KEY)],
        format!("{token}\n").as_bytes(),
    );
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(
        run.step("signature").contains("the configured key"),
        "{}",
        run.step("signature")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn inspect_an_expired_token_fails_at_exp() {
    let dir = temp_dir("cli-inspect-expired");
    let mut claims = alice();
    claims.iat = claims.iat.map(|t| t - 3 * 3600);
    claims.nbf = claims.iat;
    claims.exp = claims.iat.map(|t| t + 3600);
    let token = sign_with(KEY, &claims);
    let run = hyperjwt(
        &dir,
        &["token", "inspect", &token, "--secret", KEY],
        &[],
        b"",
    );
    assert_eq!(run.code, Some(1));
    assert_eq!(run.step_status("exp"), "FAIL");
    assert!(
        run.step("exp")
            .contains("\"exp\" is in the past (expired 2h"),
        "{}",
        run.step("exp")
    );
    assert_eq!(run.step_status("signature"), "PASS");
    assert!(
        run.stdout
            .contains("the server answers 401 \"Token has expired\""),
        "{}",
        run.stdout
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn inspect_a_tampered_token_fails_at_the_signature() {
    let dir = temp_dir("cli-inspect-tampered");
    let token = sign_with(KEY, &alice());
    // The same signature over a payload that now says "mallory".
    let mut forged = alice();
    forged.sub = "mallory".into();
    let other = sign_with(KEY, &forged);
    let parts: Vec<&str> = token.split('.').collect();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        other.split('.').nth(1).unwrap(),
        parts[2]
    );
    let run = hyperjwt(
        &dir,
        &["token", "inspect", &tampered, "--secret", KEY],
        &[],
        b"",
    );
    assert_eq!(run.code, Some(1));
    assert_eq!(run.step_status("signature"), "FAIL");
    assert!(
        run.step("signature").contains("signature does not match"),
        "{}",
        run.step("signature")
    );
    assert!(run.stdout.contains("Claims (untrusted"), "{}", run.stdout);
    // A key other than the signer's fails the same way.
    let run = hyperjwt(
        &dir,
        &[
            "token",
            "inspect",
            &token,
            "--secret",
            &KEY.replace('5', "6"),
        ],
        &[],
        b"",
    );
    assert_eq!(run.step_status("signature"), "FAIL");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn inspect_an_alg_none_token_fails_at_alg() {
    let dir = temp_dir("cli-inspect-none");
    let header = jwt::b64::encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = jwt::b64::encode(&serde_json::to_vec(&alice()).unwrap());
    let token = format!("{header}.{payload}.");
    let run = hyperjwt(
        &dir,
        &["token", "inspect", &token, "--secret", KEY],
        &[],
        b"",
    );
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert_eq!(run.step_status("alg"), "FAIL");
    assert!(
        run.step("alg")
            .contains("\"alg\" does not match our keys' algorithm (it is \"none\")"),
        "{}",
        run.step("alg")
    );
    assert_eq!(run.step_status("signature"), "skip");
    assert!(run.stdout.contains("\"alg\": \"none\""), "{}", run.stdout);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn inspect_without_a_key_does_not_check_the_signature() {
    let dir = temp_dir("cli-inspect-nokey");
    let token = sign_with(KEY, &alice());
    let run = hyperjwt(&dir, &["token", "inspect", &token], &[], b"");
    assert!(
        run.step("signature").contains("not checked"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("UNVERIFIED"), "{}", run.stdout);
    assert_eq!(run.code, Some(1), "an unverified token is not a valid one");
    for step in ["segments", "header", "alg", "claims", "exp", "nbf", "type"] {
        assert_eq!(run.step_status(step), "PASS", "{step}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn inspect_with_the_denylist_of_a_running_server_sees_a_logout() {
    let dir = temp_dir("cli-inspect-revoked");
    assert_eq!(add_user(&dir, "alice", "pw").code, Some(0));
    let server = Binary::start(
        &dir,
        &[
            ("USERS_FILE", "users.json"),
            ("JWT_SECRET_KEY", KEY),
            ("DENYLIST_FILE", "denylist"),
        ],
    );
    let (access, refresh) = login(server.addr, "alice", "pw").await;
    let (_, other_refresh) = login(server.addr, "alice", "pw").await;
    let reply = post_json(server.addr, "/logout", Some(&access), "").await;
    assert_eq!(reply.status, 200);

    let journal = std::fs::read(dir.join("denylist")).unwrap();
    let envs = [("JWT_SECRET_KEY", KEY)];
    let run = hyperjwt(
        &dir,
        &["token", "inspect", &access, "--denylist", "denylist"],
        &envs,
        b"",
    );
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert_eq!(run.step_status("revocation"), "FAIL");
    assert!(
        run.step("revocation").contains("on the denylist"),
        "{}",
        run.step("revocation")
    );
    assert!(
        run.stdout.contains("\"Token has been revoked\""),
        "{}",
        run.stdout
    );
    // The refresh token of that session was not revoked itself, but its family was: the logout
    // ended the session. DENYLIST_FILE is the default journal.
    let envs = [("JWT_SECRET_KEY", KEY), ("DENYLIST_FILE", "denylist")];
    let run = hyperjwt(&dir, &["token", "inspect", &refresh], &envs, b"");
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert_eq!(run.step_status("revocation"), "FAIL");
    assert!(
        run.step("revocation").contains("family"),
        "{}",
        run.step("revocation")
    );
    // The other session goes on.
    let run = hyperjwt(&dir, &["token", "inspect", &other_refresh], &envs, b"");
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(run.step_status("revocation"), "PASS");
    // Inspect only read the journal, and the server still uses it.
    assert_eq!(std::fs::read(dir.join("denylist")).unwrap(), journal);
    assert!(!dir.join("denylist.compact").exists());
    assert_eq!(
        get(server.addr, "/protected", Some(&access)).await.msg(),
        "Token has been revoked"
    );
    // A journal that doesn't exist is an error, not a pass.
    let run = hyperjwt(
        &dir,
        &["token", "inspect", &access, "--denylist", "missing"],
        &envs,
        b"",
    );
    assert_eq!(run.code, Some(1));
    assert!(
        run.step("revocation").contains("cannot read missing"),
        "{}",
        run.stdout
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn token_issue_round_trips_through_inspect_and_the_server() {
    let dir = temp_dir("cli-issue");
    let envs = [("JWT_SECRET_KEY", KEY)];
    let run = hyperjwt(&dir, &["token", "issue", "--sub", "user1"], &envs, b"");
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr.is_empty(),
        "user1 is a demo user: {}",
        run.stderr
    );
    let access = run.stdout.trim().to_string();
    let run = hyperjwt(
        &dir,
        &["token", "inspect", &access, "--type", "access"],
        &envs,
        b"",
    );
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert!(
        run.step("type").contains("access token, as required"),
        "{}",
        run.stdout
    );
    assert!(expires_in_about(run.step("exp"), 15), "{}", run.step("exp"));
    assert!(run.stdout.contains("\"fresh\": false"), "{}", run.stdout);

    let run = hyperjwt(
        &dir,
        &[
            "token", "issue", "--sub", "user1", "--type", "refresh", "--ttl", "120",
        ],
        &envs,
        b"",
    );
    let refresh = run.stdout.trim().to_string();
    let run = hyperjwt(
        &dir,
        &["token", "inspect", &refresh, "--type", "access"],
        &envs,
        b"",
    );
    assert_eq!(run.code, Some(1));
    assert_eq!(run.step_status("type"), "FAIL");
    let run = hyperjwt(
        &dir,
        &["token", "inspect", &refresh, "--type", "refresh"],
        &envs,
        b"",
    );
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert!(expires_in_about(run.step("exp"), 2), "{}", run.step("exp"));

    // The server with the same key accepts both, each for its use.
    let server = Binary::start(&dir, &envs);
    assert_eq!(
        get(server.addr, "/protected", Some(&access)).await.json()["logged_in_as"],
        "user1"
    );
    let reply = post_json(server.addr, "/refresh", Some(&refresh), "").await;
    assert_eq!(reply.status, 200, "{:?}", reply.msg());
    drop(server);

    // A name the server doesn't know gets a warning, still a token.
    let run = hyperjwt(&dir, &["token", "issue", "--sub", "nobody"], &envs, b"");
    assert_eq!(run.code, Some(0));
    assert!(
        run.stderr.contains("warning") && run.stderr.contains("404"),
        "{}",
        run.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn token_issue_refuses_without_a_configured_key() {
    let dir = temp_dir("cli-issue-nokey");
    let run = hyperjwt(&dir, &["token", "issue", "--sub", "user1"], &[], b"");
    assert_eq!(run.code, Some(1));
    assert!(run.stdout.is_empty());
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("JWT_SECRET_KEY"), "{}", run.stderr);
    // A short key is refused by the same rule as the server's.
    let run = hyperjwt(
        &dir,
        &["token", "issue", "--sub", "user1"],
        &[("JWT_SECRET_KEY", "short")],
        b"",
    );
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("at least 32"), "{}", run.stderr);
    assert!(!run.stderr.contains("short\""), "{}", run.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_command_has_help_naming_it() {
    let dir = temp_dir("cli-help");
    let commands: &[(&[&str], &str)] = &[
        (&["--help"], "hyperjwt"),
        (&["help"], "hyperjwt"),
        (&["serve", "--help"], "hyperjwt serve"),
        (&["gen-secret", "--help"], "hyperjwt gen-secret"),
        (&["hash-password", "--help"], "hyperjwt hash-password"),
        (&["users", "--help"], "hyperjwt users"),
        (&["users", "add", "--help"], "hyperjwt users add"),
        (&["users", "remove", "-h"], "hyperjwt users remove"),
        (&["users", "list", "--help"], "hyperjwt users list"),
        (&["token", "--help"], "hyperjwt token"),
        (&["token", "inspect", "--help"], "hyperjwt token inspect"),
        (&["token", "issue", "--help"], "hyperjwt token issue"),
    ];
    for (args, name) in commands {
        let run = hyperjwt(&dir, args, &[], b"");
        assert_eq!(run.code, Some(0), "{args:?}: {}", run.stderr);
        assert!(
            run.stdout.starts_with(&format!("{name}:")),
            "{args:?}: {}",
            run.stdout
        );
        assert!(run.stdout.contains("Usage"), "{args:?}");
        // Readable in an 100-column terminal, and in a diff.
        for line in run.stdout.lines() {
            assert!(
                line.chars().count() <= 100,
                "{args:?}: a line of {} characters: {line:?}",
                line.chars().count()
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn usage_errors_exit_with_status_2_and_say_what_is_wrong() {
    let dir = temp_dir("cli-usage");
    let cases: &[(&[&str], &str)] = &[
        (&["frobnicate"], "unknown command \"frobnicate\""),
        (
            &["serve", "--port", "8000"],
            "unknown option --port; the server is configured by the environment or .env, not \
             options: PORT=8000 hyperjwt serve",
        ),
        (
            &["--port", "8000"],
            "hyperjwt serve: unknown option --port; the server is configured by the environment \
             or .env, not options: PORT=8000 hyperjwt serve",
        ),
        (&["--host=0.0.0.0"], "HOST=0.0.0.0 hyperjwt serve"),
        (&["gen-secret", "extra"], "unexpected argument"),
        (
            &["--version", "extra"],
            "unexpected argument \"extra\" after --version",
        ),
        (&["-V", "--help"], "unexpected argument \"--help\" after -V"),
        (
            &["--help", "serve"],
            "unexpected argument \"serve\" after --help",
        ),
        (&["users"], "missing command"),
        (&["users", "rename"], "unknown command \"rename\""),
        (&["users", "add"], "missing NAME"),
        (&["users", "add", "a", "b"], "unexpected argument"),
        (&["users", "add", "a", "--replace=yes"], "takes no value"),
        (&["token"], "missing command"),
        (&["token", "inspect"], "missing TOKEN"),
        (
            &["token", "inspect", "x.y.z", "--secret"],
            "--secret needs a value",
        ),
        (
            &["token", "inspect", "x.y.z", "--type", "id"],
            "--type must be access or refresh",
        ),
        (&["token", "issue"], "missing --sub"),
        (
            &["token", "issue", "--sub", "a", "--ttl", "0"],
            "--ttl must be",
        ),
        (
            &["token", "issue", "--sub", "a", "--ttl", "soon"],
            "--ttl must be",
        ),
    ];
    for (args, expected) in cases {
        let run = hyperjwt(&dir, args, &[], b"");
        assert_eq!(run.code, Some(2), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(expected), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("--help"), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn serve_is_the_default_and_can_be_named() {
    let dir = temp_dir("cli-serve");
    let server = Binary::start_with_args(&dir, &["serve"], &[("JWT_SECRET_KEY", KEY)]);
    assert_eq!(get(server.addr, "/healthz", None).await.status, 200);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `shell_command` under `script`, which gives it a pseudo-terminal as a user's shell has, and
/// types each input once the text before it has appeared. Returns everything the terminal showed,
/// or `None` when `script` (util-linux) isn't installed.
fn at_a_terminal(
    dir: &Path,
    shell_command: &str,
    envs: &[(&str, &str)],
    typing: &[(&str, &[u8])],
) -> Option<String> {
    use std::io::Read;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};
    if !support::installed(
        "script",
        "--version",
        "at_a_terminal",
        "apt-get install -y util-linux",
    ) {
        return None;
    }
    let mut child = std::process::Command::new("script")
        .args(["-qfc", shell_command, "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(envs.iter().copied())
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start script");
    let shown = Arc::new(Mutex::new(Vec::new()));
    let mut stdout = child.stdout.take().unwrap();
    let sink = shown.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 1024];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let text =
        |shown: &Mutex<Vec<u8>>| String::from_utf8_lossy(&shown.lock().unwrap()).into_owned();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut stdin = child.stdin.take().unwrap();
    let mut seen = 0;
    for (wait_for, input) in typing {
        // Wait for this prompt after the previous one (both prompts may share words).
        loop {
            let now = text(&shown);
            if let Some(at) = now[seen..].find(wait_for) {
                seen += at + wait_for.len();
                break;
            }
            assert!(
                Instant::now() < deadline,
                "never saw {wait_for:?} in {now:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        stdin.write_all(input).unwrap();
        stdin.flush().unwrap();
    }
    // Keep the terminal's input open until the command is done, then close it.
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the command did not finish: {:?}", text(&shown));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(stdin);
    reader.join().unwrap();
    Some(text(&shown))
}

/// The command line for the built binary in a shell, followed by its status and the terminal's
/// echo setting (`echo` or `-echo`, from `stty -a`). The shell ignores Ctrl-C (its trap is reset in
/// the child), so that it lives to report both.
fn then_report(args: &str) -> String {
    format!(
        "trap 'true' INT; '{}' {args}; echo \"status=$?\"; stty -a",
        env!("CARGO_BIN_EXE_hyperjwt")
    )
}

fn echo_is_on(terminal: &str) -> bool {
    let words: Vec<&str> = terminal.split_whitespace().collect();
    words.contains(&"echo") && !words.contains(&"-echo")
}

#[test]
fn a_password_typed_at_a_terminal_is_asked_twice_and_never_shown() {
    let dir = temp_dir("cli-tty-add");
    let typed: &[u8] = b"zz-typed-secret-zz\n";
    let Some(terminal) = at_a_terminal(
        &dir,
        &then_report("users add alice"),
        USERS,
        &[
            ("New password for \"alice\": ", typed),
            ("Repeat it: ", typed),
        ],
    ) else {
        return;
    };
    assert!(terminal.contains("added user \"alice\""), "{terminal}");
    assert!(terminal.contains("status=0"), "{terminal}");
    assert!(
        !terminal.contains("zz-typed-secret-zz"),
        "the password was shown: {terminal}"
    );
    assert!(echo_is_on(&terminal), "echo was left off: {terminal}");
    let store = UserStore::load(&dir.join("users.json")).unwrap();
    assert!(store.check_password("alice", "zz-typed-secret-zz"));

    // Two different entries: nothing is written.
    let Some(terminal) = at_a_terminal(
        &dir,
        &then_report("users add bob"),
        USERS,
        &[
            ("New password for \"bob\": ", b"one\n"),
            ("Repeat it: ", b"two\n"),
        ],
    ) else {
        return;
    };
    assert!(terminal.contains("the two passwords differ"), "{terminal}");
    assert!(terminal.contains("status=1"), "{terminal}");
    assert!(echo_is_on(&terminal), "{terminal}");
    assert!(
        !UserStore::load(&dir.join("users.json"))
            .unwrap()
            .contains("bob")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Enter alone at the first prompt is refused at once: no "Repeat it:" for a password that can't be.
#[test]
fn an_empty_password_at_a_terminal_is_refused_before_it_is_asked_again() {
    let dir = temp_dir("cli-tty-empty");
    for (args, prompt) in [
        ("users add carol", "New password for \"carol\": "),
        ("hash-password", "Password to hash: "),
    ] {
        let Some(terminal) = at_a_terminal(
            &dir,
            &then_report(args),
            &[("USERS_FILE", "users.json"), ("BCRYPT_COST", "4")],
            &[(prompt, b"\n")],
        ) else {
            return;
        };
        assert!(
            terminal.contains("the password is empty; nothing was changed"),
            "{args}: {terminal}"
        );
        assert!(!terminal.contains("Repeat it"), "{args}: {terminal}");
        assert!(terminal.contains("status=1"), "{args}: {terminal}");
        assert!(echo_is_on(&terminal), "{args}: {terminal}");
    }
    assert!(!dir.join("users.json").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ctrl_c_at_a_password_prompt_gives_the_terminal_back_with_echo() {
    let dir = temp_dir("cli-tty-ctrl-c");
    let Some(terminal) = at_a_terminal(
        &dir,
        &then_report("hash-password"),
        &[("BCRYPT_COST", "4")],
        &[("Password to hash: ", b"half-typ\x03")],
    ) else {
        return;
    };
    assert!(terminal.contains("status=130"), "{terminal}");
    assert!(!terminal.contains("half-typ"), "{terminal}");
    assert!(!terminal.contains("$2b$"), "{terminal}");
    assert!(echo_is_on(&terminal), "echo was left off: {terminal}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Whether a report's `exp` line says the token expires in `minutes` minutes, as a token issued
/// with that lifetime reads when inspected at once: `15m`, or `14m 59s` when a second boundary
/// passed between issuing and inspecting.
fn expires_in_about(line: &str, minutes: u64) -> bool {
    line.contains(&format!("expires in {minutes}m"))
        || line.contains(&format!("expires in {}m 59s", minutes - 1))
}
