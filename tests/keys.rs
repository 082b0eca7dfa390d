//! Public-key tokens over HTTP (docs/jwt.md §11): each algorithm signs at `/login` and verifies at
//! `/protected`, the JWKS publishes exactly the public keys (with its caching headers and 304), the
//! memo of verified tokens can't be fooled by a cached signature under other bytes and never skips
//! revocation, and the real binary rotates its keys on
//! SIGHUP while tokens of the old key keep verifying until they expire. (Feature `public-keys`;
//! HS256's empty JWKS and introspection are in tests/introspection.rs.)

mod support;

/// Without the feature this file's tests are compiled out; this one line in the listing says how to
/// run them, instead of an empty "0 passed".
#[cfg(not(feature = "public-keys"))]
#[test]
#[ignore = "run with: cargo test --features public-keys"]
fn public_key_tokens_over_http() {}

#[cfg(feature = "public-keys")]
mod public_keys {
    use super::support;

    use std::net::SocketAddr;
    use std::time::Duration;

    use hyperjwt::jwt::{self, Algorithm, b64};
    use support::keys::{make_key_set, openssl_rsa_key};
    use support::{
        Binary, Run, assert_error, binary_command, decode_part, dir_str, get, hyperjwt, login,
        post_json, request, start, start_app, temp_dir,
    };

    /// `token` at `/protected` on `addr`: 401 with `msg`.
    async fn refused(addr: SocketAddr, token: &str, msg: &str) {
        assert_error(&get(addr, "/protected", Some(token)).await, 401, msg);
    }

    async fn jwks(addr: SocketAddr) -> serde_json::Value {
        let reply = get(addr, "/.well-known/jwks.json", None).await;
        assert_eq!(reply.status, 200, "{reply:?}");
        reply.json()
    }

    fn kids(jwks: &serde_json::Value) -> Vec<String> {
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|key| key["kid"].as_str().unwrap().to_string())
            .collect()
    }

    #[tokio::test]
    async fn each_algorithm_signs_logins_and_publishes_only_public_keys() {
        for alg in [Algorithm::EdDsa, Algorithm::Es256] {
            let dir = temp_dir("keys-algorithms");
            let keys = dir.join("keys");
            let (active, next) = make_key_set(&keys, alg);
            let server = start(&[
                ("JWT_ALGORITHM", alg.name()),
                ("JWT_KEYS_DIR", &dir_str(&keys)),
            ])
            .await;
            let (access, refresh) = login(server.addr, "user1", "password1").await;
            let header = decode_part(&access, 0);
            assert_eq!(header["alg"], alg.name());
            assert_eq!(header["kid"], active.as_str());
            assert_eq!(
                access.rsplit('.').next().unwrap().len(),
                86,
                "64-byte signature"
            );
            let reply = get(server.addr, "/protected", Some(&access)).await;
            assert_eq!(reply.json()["logged_in_as"], "user1");
            // The refresh token is signed the same way and works at /refresh.
            let reply = post_json(server.addr, "/refresh", Some(&refresh), "").await;
            assert_eq!(reply.status, 200, "{reply:?}");

            let reply = get(server.addr, "/.well-known/jwks.json", None).await;
            assert_eq!(reply.header("cache-control"), Some("public, max-age=300"));
            let etag = reply.header("etag").unwrap().to_string();
            let set = reply.json();
            assert_eq!(kids(&set), [active.clone(), next.clone()]);
            for key in set["keys"].as_array().unwrap() {
                assert_eq!(key["alg"], alg.name());
                assert_eq!(key["use"], "sig");
                assert!(key.get("d").is_none(), "no private member: {key}");
            }
            // The same ETag again: 304, no body, the same caching headers.
            let reply = request(
                server.addr,
                "GET",
                "/.well-known/jwks.json",
                &[("If-None-Match", &etag)],
                b"",
            )
            .await;
            assert_eq!(reply.status, 304);
            assert!(reply.body.is_empty());
            assert_eq!(reply.header("etag"), Some(etag.as_str()));
            // The HS256 secret of the configuration still verifies its tokens (issued before the
            // switch), and is never published.
            let old = support::sign(&support::claims("user1", jwt::TokenType::Access));
            assert_eq!(get(server.addr, "/protected", Some(&old)).await.status, 200);
            for key in set["keys"].as_array().unwrap() {
                assert_ne!(key["kty"], "oct", "no symmetric key: {key}");
                assert!(key.get("k").is_none(), "no secret member: {key}");
            }
        }
    }

    #[tokio::test]
    async fn rs256_with_an_operators_key() {
        let dir = temp_dir("keys-rs256");
        let Some(pem) = openssl_rsa_key(&dir, "rs256_with_an_operators_key") else {
            return;
        };
        let keys = dir.join("keys");
        let (kid, state) = hyperjwt::auth::rotation::add(&keys, &pem, jwt::now()).unwrap();
        assert_eq!(state.name(), "active");
        let server = start(&[
            ("JWT_ALGORITHM", "RS256"),
            ("JWT_KEYS_DIR", &dir_str(&keys)),
        ])
        .await;
        let (access, _) = login(server.addr, "user1", "password1").await;
        assert_eq!(decode_part(&access, 0)["kid"], kid.as_str());
        assert_eq!(
            get(server.addr, "/protected", Some(&access)).await.status,
            200
        );
        let set = jwks(server.addr).await;
        assert_eq!(set["keys"][0]["kty"], "RSA");
        assert_eq!(set["keys"][0]["e"], "AQAB");
    }

    /// The memo over HTTP: a token verified at `/protected` is remembered (the test looks into the
    /// server's memo, so it fails with the memo off), and then its signature under other bytes is
    /// still refused and the token itself still revocable. That the second use of a remembered
    /// token skips the signature check is shown by the pipeline's own observer in the unit test
    /// `a_verified_token_is_remembered_and_its_second_use_skips_the_signature`
    /// (src/jwt/verify/public_keys.rs): over HTTP it is seen in no answer nor metric, only in time.
    #[tokio::test]
    async fn a_cached_token_never_vouches_for_other_bytes_and_is_still_revocable() {
        let dir = temp_dir("keys-cache");
        let keys = dir.join("keys");
        make_key_set(&keys, Algorithm::EdDsa);
        let (app, server) = start_app(&[
            ("JWT_ALGORITHM", "EdDSA"),
            ("JWT_KEYS_DIR", &dir_str(&keys)),
        ])
        .await;
        let published = app.state().tokens.published().expect("a key set");
        let memo = published.set.cache();
        let (access, _) = login(server.addr, "user1", "password1").await;
        assert!(!memo.contains(&access), "signed, not yet verified");
        // Verified once, then remembered.
        for _ in 0..2 {
            assert_eq!(
                get(server.addr, "/protected", Some(&access)).await.status,
                200
            );
            assert!(memo.contains(&access));
        }
        let (header, rest) = access.split_once('.').unwrap();
        let (payload, signature) = rest.rsplit_once('.').unwrap();
        // The cached token's header and signature over another user's claims.
        let mut claims = decode_part(&access, 1);
        claims["sub"] = "user2".into();
        let other = b64::encode(claims.to_string().as_bytes());
        let forged = format!("{header}.{other}.{signature}");
        refused(server.addr, &forged, "Signature verification failed").await;
        assert!(!memo.contains(&forged));
        // The same claims under a header spelled differently: a different token, refused.
        let header_json = String::from_utf8(b64::decode(header).unwrap()).unwrap();
        let respelled = b64::encode(header_json.replace(",", ", ").as_bytes());
        let forged = format!("{respelled}.{payload}.{signature}");
        refused(server.addr, &forged, "Signature verification failed").await;
        // Revocation is checked on every request, remembered or not.
        let reply = post_json(server.addr, "/logout", Some(&access), "").await;
        assert_eq!(reply.status, 200);
        refused(server.addr, &access, "Token has been revoked").await;
    }

    #[tokio::test]
    async fn a_header_naming_another_algorithm_or_an_unknown_kid_is_refused() {
        let dir = temp_dir("keys-confusion");
        let keys = dir.join("keys");
        let (active, _) = make_key_set(&keys, Algorithm::EdDsa);
        let server = start(&[
            ("JWT_ALGORITHM", "EdDSA"),
            ("JWT_KEYS_DIR", &dir_str(&keys)),
        ])
        .await;
        let claims = support::claims("user1", jwt::TokenType::Access);
        // HS256 under the test secret, naming the Ed25519 key: the key's algorithm wins.
        let header = format!(r#"{{"alg":"HS256","kid":"{active}"}}"#);
        let token = support::forge(&header, serde_json::to_vec(&claims).unwrap());
        refused(server.addr, &token, "Invalid token").await;
        // EdDSA naming a kid nobody has.
        let header = r#"{"alg":"EdDSA","kid":"nobody"}"#;
        let token = format!(
            "{}.{}.{}",
            b64::encode(header.as_bytes()),
            b64::encode(&serde_json::to_vec(&claims).unwrap()),
            b64::encode(&[0u8; 64])
        );
        refused(server.addr, &token, "Signature verification failed").await;
    }

    #[tokio::test]
    async fn the_binary_rotates_on_sighup_and_retires_a_key_only_after_its_tokens_expire() {
        let dir = temp_dir("keys-rotation");
        let keys = dir_str(&dir.join("keys"));
        let envs = [
            ("JWT_SECRET_KEY", support::SECRET),
            ("JWT_ALGORITHM", "ES256"),
            ("JWT_KEYS_DIR", keys.as_str()),
            ("JWKS_MAX_AGE", "1"),
            ("JWT_ACCESS_TOKEN_EXPIRES", "5"),
            ("JWT_REFRESH_TOKEN_EXPIRES", "5"),
        ];
        let Run {
            code,
            stdout: out,
            stderr: err,
        } = hyperjwt(&dir, &["keys", "rotate"], &envs, b"");
        assert_eq!(code, Some(0), "{out}{err}");
        assert!(out.starts_with("made the key set"), "{out}");
        // Too soon: the next key has been published for less than JWKS_MAX_AGE.
        let Run {
            code, stderr: err, ..
        } = hyperjwt(&dir, &["keys", "rotate"], &envs, b"");
        assert_eq!(code, Some(1));
        assert!(err.contains("rotate again in"), "{err}");

        // A key file its group may read still serves, and start-up names it.
        let open_file = std::fs::read_dir(dir.join("keys"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .find(|name| name.ends_with(".pem"))
            .unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::Permissions::from_mode(0o640);
            std::fs::set_permissions(dir.join("keys").join(&open_file), mode).unwrap();
        }

        let server = Binary::start(&dir, &envs);
        let log = server.wait_for_log("is open to its group or others").await;
        let line = log.lines().find(|l| l.contains("is open to")).unwrap();
        assert!(line.contains(&format!("{open_file} (mode 0640)")), "{line}");
        let first = jwks(server.addr).await;
        let (old, _) = login(server.addr, "user1", "password1").await;
        let old_kid = decode_part(&old, 0)["kid"].as_str().unwrap().to_string();

        tokio::time::sleep(Duration::from_millis(1100)).await;
        let Run {
            code,
            stdout: out,
            stderr: err,
        } = hyperjwt(&dir, &["keys", "rotate"], &envs, b"");
        assert_eq!(code, Some(0), "{out}{err}");
        server.hang_up();
        let log = server.wait_for_log("JWT_KEYS_DIR reloaded").await;
        // Its next key was published from start-up, more than JWKS_MAX_AGE before: no warning.
        assert!(!log.contains("may refuse its tokens"), "{log}");

        // The next key of before signs now; both tokens verify; the JWKS has the old, the new, and a
        // new next key.
        let (new, _) = login(server.addr, "user1", "password1").await;
        let new_kid = decode_part(&new, 0)["kid"].as_str().unwrap().to_string();
        assert_eq!(new_kid, kids(&first)[1]);
        for token in [&old, &new] {
            assert_eq!(
                get(server.addr, "/protected", Some(token)).await.status,
                200
            );
        }
        let after = jwks(server.addr).await;
        assert_eq!(kids(&after).len(), 3);
        assert!(kids(&after).contains(&old_kid));

        // The old key's tokens live 5 s (+1) from its retirement: once they have all expired, the
        // server drops it by itself, with no SIGHUP; the next rotation deletes its file.
        tokio::time::sleep(Duration::from_millis(6100)).await;
        for _ in 0..100 {
            if !kids(&jwks(server.addr).await).contains(&old_kid) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(!kids(&jwks(server.addr).await).contains(&old_kid));
        let log = server.wait_for_log("have left the JWKS").await;
        let line = log.lines().find(|l| l.contains("have left")).unwrap();
        assert!(line.contains(&old_kid), "{line}");
        let Run {
            code,
            stdout: out,
            stderr: err,
        } = hyperjwt(&dir, &["keys", "rotate"], &envs, b"");
        assert_eq!(code, Some(0), "{out}{err}");
        assert!(
            out.contains(&format!("deleted (their tokens have expired): {old_kid}")),
            "{out}"
        );
        let Run {
            code, stdout: out, ..
        } = hyperjwt(&dir, &["keys", "list"], &envs, b"");
        assert_eq!(code, Some(0));
        assert_eq!(out.lines().count(), 3, "{out}");

        // Forced at once, the new active key has been published for less than JWKS_MAX_AGE: it
        // signs, and the reload warns, naming it.
        let Run {
            code, stdout: out, ..
        } = hyperjwt(&dir, &["keys", "rotate", "--force"], &envs, b"");
        assert_eq!(code, Some(0), "{out}");
        let forced = out["active ".len()..]
            .split(';')
            .next()
            .unwrap()
            .to_string();
        server.hang_up();
        let log = server.wait_for_log("may refuse its tokens").await;
        let line = log.lines().find(|l| l.contains("may refuse")).unwrap();
        assert!(line.contains(&forced) && line.contains("WARN"), "{line}");
        let (token, _) = login(server.addr, "user1", "password1").await;
        assert_eq!(decode_part(&token, 0)["kid"], forced.as_str());
    }

    #[test]
    fn keys_generate_writes_owner_only_keys_and_never_overwrites() {
        let dir = temp_dir("keys-generate");
        let Run {
            code,
            stdout: out,
            stderr: err,
        } = hyperjwt(
            &dir,
            &[
                "keys", "generate", "--alg", "Ed25519", "--out", "k.pem", "--public", "k.pub",
            ],
            &[],
            b"",
        );
        assert_eq!(code, Some(0), "{err}");
        let key = jwt::PrivateKey::from_pem(&std::fs::read_to_string(dir.join("k.pem")).unwrap())
            .unwrap();
        assert_eq!(out.trim(), key.kid());
        let public = jwt::PublicKey::from_pem(&std::fs::read_to_string(dir.join("k.pub")).unwrap());
        assert_eq!(public.unwrap().kid(), key.kid());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("k.pem"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let Run {
            code, stderr: err, ..
        } = hyperjwt(
            &dir,
            &["keys", "generate", "--alg", "ES256", "--out", "k.pem"],
            &[],
            b"",
        );
        assert_eq!(code, Some(1));
        assert!(err.contains("already exists"), "{err}");
        let Run {
            code, stderr: err, ..
        } = hyperjwt(
            &dir,
            &["keys", "generate", "--alg", "RS256", "--out", "r.pem"],
            &[],
            b"",
        );
        assert_eq!(code, Some(2), "{err}");
    }

    #[test]
    fn a_public_key_algorithm_needs_a_key_set() {
        let dir = temp_dir("keys-config");
        let Run {
            code, stderr: err, ..
        } = hyperjwt(&dir, &["keys", "list"], &[("JWT_ALGORITHM", "EdDSA")], b"");
        assert_eq!(code, Some(1));
        assert!(err.contains("JWT_KEYS_DIR: not set"), "{err}");
        let missing = dir_str(&dir.join("none"));
        let mut command = binary_command(
            &dir,
            &[
                ("JWT_ALGORITHM", "ES256"),
                ("JWT_KEYS_DIR", missing.as_str()),
            ],
        );
        command.stderr(std::process::Stdio::piped());
        let output = command.output().unwrap();
        assert_eq!(output.status.code(), Some(1));
        let err = String::from_utf8_lossy(&output.stderr);
        assert!(
            err.contains("no keys.json; make the key set with: hyperjwt keys rotate"),
            "{err}"
        );
    }

    #[test]
    fn token_inspect_verifies_with_a_public_key_file_or_a_jwks_file_and_names_each_step() {
        let dir = temp_dir("keys-inspect");
        let keys = dir.join("keys");
        make_key_set(&keys, Algorithm::Es256);
        let keys = dir_str(&keys);
        let envs = [("JWT_ALGORITHM", "ES256"), ("JWT_KEYS_DIR", keys.as_str())];
        let Run { stdout: token, .. } =
            hyperjwt(&dir, &["token", "issue", "--sub", "user1"], &envs, b"");
        let token = token.trim();
        let Run {
            stdout: jwks_text, ..
        } = hyperjwt(&dir, &["keys", "jwks"], &envs, b"");
        std::fs::write(dir.join("jwks.json"), jwks_text).unwrap();
        // The configured key set, then a saved JWKS alone (no configuration at all).
        let Run {
            code,
            stdout: out,
            stderr: err,
        } = hyperjwt(&dir, &["token", "inspect", token], &envs, b"");
        assert_eq!(code, Some(0), "{out}{err}");
        assert!(out.contains("the key set of JWT_KEYS_DIR"), "{out}");
        let Run {
            code, stdout: out, ..
        } = hyperjwt(
            &dir,
            &["token", "inspect", token, "--jwks", "jwks.json"],
            &[],
            b"",
        );
        assert_eq!(code, Some(0), "{out}");
        assert!(
            out.contains("PASS  10  signature             the ES256 signature verifies"),
            "{out}"
        );
        // A public key file: the wrong one is no key the kid names.
        let Run { code, .. } = hyperjwt(
            &dir,
            &[
                "keys", "generate", "--alg", "ES256", "--out", "o.pem", "--public", "o.pub",
            ],
            &[],
            b"",
        );
        assert_eq!(code, Some(0));
        let Run {
            code, stdout: out, ..
        } = hyperjwt(
            &dir,
            &["token", "inspect", token, "--public-key", "o.pub"],
            &[],
            b"",
        );
        assert_eq!(code, Some(1), "{out}");
        assert!(out.contains("FAIL   7  key"), "{out}");
        // A changed payload fails at the signature.
        let (header, rest) = token.split_once('.').unwrap();
        let (_, signature) = rest.rsplit_once('.').unwrap();
        let mut claims = decode_part(token, 1);
        claims["sub"] = "admin".into();
        let forged = format!(
            "{header}.{}.{signature}",
            b64::encode(claims.to_string().as_bytes())
        );
        let Run {
            code, stdout: out, ..
        } = hyperjwt(
            &dir,
            &["token", "inspect", &forged, "--jwks", "jwks.json"],
            &[],
            b"",
        );
        assert_eq!(code, Some(1));
        assert!(out.contains("FAIL  10  signature"), "{out}");
        // More than one key source is a usage error.
        let Run { code, .. } = hyperjwt(
            &dir,
            &[
                "token",
                "inspect",
                token,
                "--jwks",
                "jwks.json",
                "--secret",
                "x",
            ],
            &[],
            b"",
        );
        assert_eq!(code, Some(2));
    }
}
