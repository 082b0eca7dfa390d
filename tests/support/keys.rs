//! Public-key sets for the tests: a key set made in a scratch directory exactly as
//! `hyperjwt keys rotate` makes one, and an RSA key from `openssl genpkey` (ring makes no RSA keys;
//! without openssl a test prints `SKIPPED: ...`, and under `CI=true` fails instead); and
//! `POST /introspect` as a client calls it.

use std::net::SocketAddr;
use std::path::Path;

use base64::Engine;
use std::process::{Command, Stdio};

use hyperjwt::auth::keys::Lifecycle;
use hyperjwt::auth::rotation::{self, Rotated};
use hyperjwt::jwt::Algorithm;

/// A key set of `alg` in `dir` (an active and a next key); returns their kids.
pub fn make_key_set(dir: &Path, alg: Algorithm) -> (String, String) {
    let lifecycle = Lifecycle {
        token_lifetime: 3600,
        publish_delay: 0,
    };
    match rotation::rotate(dir, alg, lifecycle, hyperjwt::jwt::now(), false) {
        Ok(Rotated::Created { active, next }) => (active, next),
        other => panic!("no key set made in {}: {other:?}", dir.display()),
    }
}

/// A new private key (PKCS#8 PEM) from `openssl genpkey` with `algorithm`'s arguments (e.g.
/// `["-algorithm", "ed25519"]`), or `None` when openssl is missing (`SKIPPED: ...` naming `test`).
pub fn openssl_key(dir: &Path, test: &str, algorithm: &[&str]) -> Option<String> {
    if !super::installed("openssl", "version", test, "apt-get install -y openssl") {
        return None;
    }
    let path = dir.join("openssl-key.pem");
    let _ = std::fs::remove_file(&path);
    let status = Command::new("openssl")
        .arg("genpkey")
        .args(algorithm)
        .arg("-out")
        .arg(&path)
        .stderr(Stdio::null())
        .status()
        .expect("run openssl");
    assert!(status.success(), "openssl genpkey {algorithm:?} failed");
    Some(std::fs::read_to_string(path).expect("openssl wrote the key"))
}

/// A new 2048-bit RSA private key from openssl ([`openssl_key`]).
pub fn openssl_rsa_key(dir: &Path, test: &str) -> Option<String> {
    openssl_key(
        dir,
        test,
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    )
}

/// A client of `/introspect`, as `INTROSPECTION_CLIENTS` names it and Basic sends it.
pub const CLIENT: &str = "gateway:introspection-secret-0123";

/// `Authorization: Basic` credentials for `client` (`id:secret`).
pub fn basic(client: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(client)
    )
}

/// `POST /introspect` with the form `body`, as `client` (`id:secret`) when given.
pub async fn introspect(addr: SocketAddr, client: Option<&str>, body: &str) -> super::Reply {
    let basic = client.map(basic);
    let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
    if let Some(basic) = &basic {
        headers.push(("Authorization", basic));
    }
    super::request(addr, "POST", "/introspect", &headers, body.as_bytes()).await
}
