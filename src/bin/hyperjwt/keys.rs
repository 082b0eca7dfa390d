//! `hyperjwt keys generate | rotate | add | list | jwks`: make keys and move the public-key set
//! along (docs/jwt.md §11). The rules are the library's (`auth::keys`, `auth::rotation`); this reads
//! the command line and the configuration (`JWT_KEYS_DIR`, `JWT_ALGORITHM`, the token lifetimes,
//! `JWKS_MAX_AGE`) and says what happened. The server rereads the directory on SIGHUP.

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

use hyperjwt::auth::keys::{Lifecycle, load};
use hyperjwt::auth::rotation::{self, Rotated};
use hyperjwt::jwt::{self, Algorithm, PrivateKey, pem};
use hyperjwt::store::{atomic_file, key_dir};

use super::args::{self, Spec, subcommand};
use super::error::CliError;
use super::settings::load_config;
use super::time;

const GROUP_HELP: &str = "\
hyperjwt keys: make signing keys and rotate the public-key set (JWT_KEYS_DIR)

Usage:
  hyperjwt keys generate --alg EdDSA|ES256 --out FILE [--public FILE]
  hyperjwt keys rotate [--force]
  hyperjwt keys add FILE
  hyperjwt keys list
  hyperjwt keys jwks

A key set is a directory (JWT_KEYS_DIR) of PKCS#8 key files and keys.json, which says whether each
key is next (published, not signing yet), active (signing) or retired (verifying until its tokens
have expired). The server publishes them all at /.well-known/jwks.json and rereads the directory on
SIGHUP: after 'rotate' or 'add', run 'kill -HUP <pid>' (or 'systemctl reload hyperjwt').

Run 'hyperjwt keys COMMAND --help' for details.
";

const GENERATE: Spec = Spec {
    command: "hyperjwt keys generate",
    usage: "hyperjwt keys generate --alg EdDSA|ES256 --out FILE [--public FILE]",
    help: "\
hyperjwt keys generate: write a new private key

Usage: hyperjwt keys generate --alg EdDSA|ES256 --out FILE [--public FILE]

  --alg A         EdDSA (Ed25519; 'Ed25519' is accepted too) or ES256 (ECDSA P-256)
  --out FILE      the private key, PKCS#8 PEM, created owner-only (0600); never overwritten
  --public FILE   also its public key, as a PUBLIC KEY PEM (for a verifier configured with a file)

Prints the key id (its RFC 7638 thumbprint). RSA keys can't be made here (ring has no RSA key
generation): 'openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out key.pem'.
'keys rotate' makes the keys of a key set itself; this is for keys used elsewhere or added later.
",
    options: &["--alg", "--out", "--public"],
    flags: &[],
};

const ROTATE: Spec = Spec {
    command: "hyperjwt keys rotate",
    usage: "hyperjwt keys rotate [--force]",
    help: "\
hyperjwt keys rotate: move the key set in JWT_KEYS_DIR one step along

Usage: hyperjwt keys rotate [--force]

One step each run, with keys of JWT_ALGORITHM (EdDSA or ES256):
  - no key set yet: make the directory (0700) with an active key and a next key;
  - no next key: make one and publish it;
  - otherwise: the active key retires, the next key becomes active, a new next key is made, and
    retired keys whose tokens have all expired are deleted.
The next key becomes active only once it has been published for JWKS_MAX_AGE seconds (default 300),
the longest a verifier may cache the JWKS; --force skips that wait (only when no verifier caches
it). A retired key stays published and verifying for the longest token lifetime
(JWT_ACCESS_TOKEN_EXPIRES, JWT_REFRESH_TOKEN_EXPIRES) plus JWT_LEEWAY. Run it from cron, then
SIGHUP the server.
",
    options: &[],
    flags: &["--force"],
};

const ADD: Spec = Spec {
    command: "hyperjwt keys add",
    usage: "hyperjwt keys add FILE",
    help: "\
hyperjwt keys add: add a PKCS#8 private key (an RSA key, or one made elsewhere) to the key set

Usage: hyperjwt keys add FILE

The key becomes the next key of the set in JWT_KEYS_DIR ('keys rotate' makes it active), or, with
no key set yet, the active key of a new one. Its file is copied into the directory, owner-only.
",
    options: &[],
    flags: &[],
};

const LIST: Spec = Spec {
    command: "hyperjwt keys list",
    usage: "hyperjwt keys list",
    help: "\
hyperjwt keys list: the keys of JWT_KEYS_DIR, their states and times

Usage: hyperjwt keys list
",
    options: &[],
    flags: &[],
};

const JWKS: Spec = Spec {
    command: "hyperjwt keys jwks",
    usage: "hyperjwt keys jwks",
    help: "\
hyperjwt keys jwks: print the JWKS the server publishes for JWT_KEYS_DIR

Usage: hyperjwt keys jwks

The same document as GET /.well-known/jwks.json: the public half of every key that still verifies.
",
    options: &[],
    flags: &[],
};

pub fn run(mut words: Vec<OsString>) -> Result<ExitCode, CliError> {
    let spec = match subcommand(
        "hyperjwt keys",
        "hyperjwt keys generate | rotate | add | list | jwks",
        GROUP_HELP,
        &["generate", "rotate", "add", "list", "jwks"],
        &mut words,
    )? {
        None => return Ok(ExitCode::SUCCESS),
        Some("generate") => &GENERATE,
        Some("rotate") => &ROTATE,
        Some("add") => &ADD,
        Some("list") => &LIST,
        Some(_) => &JWKS,
    };
    let Some(args) = args::parse_or_help(spec, words)? else {
        return Ok(ExitCode::SUCCESS);
    };
    let fail = |e: &dyn std::fmt::Display| CliError::failed(spec.command, e);
    if spec.command == GENERATE.command {
        args::exactly(spec, &args, &[])?;
        let alg = match args.option("--alg").map(Algorithm::from_name) {
            Some(Some(alg @ (Algorithm::EdDsa | Algorithm::Es256))) => alg,
            _ => {
                return Err(spec
                    .usage_error("--alg must be EdDSA (or Ed25519) or ES256")
                    .into());
            }
        };
        let out = args
            .option("--out")
            .ok_or_else(|| spec.usage_error("missing --out FILE"))?;
        let (key, pkcs8) = PrivateKey::generate(alg).map_err(|e| fail(&e))?;
        write_new(Path::new(out), &pem::encode(&pkcs8, "PRIVATE KEY")).map_err(|e| fail(&e))?;
        if let Some(public) = args.option("--public") {
            let text = key.public().to_pem().unwrap_or_default();
            write_new(Path::new(public), &text).map_err(|e| fail(&e))?;
        }
        println!("{}", key.kid());
        return Ok(ExitCode::SUCCESS);
    }

    let config = load_config()?;
    let dir = config.keys.keys_dir.clone().ok_or_else(|| {
        CliError::Config(hyperjwt::ConfigError {
            key: "JWT_KEYS_DIR",
            problem: "not set: set JWT_ALGORITHM=EdDSA (or ES256, RS256) and JWT_KEYS_DIR to the \
                      key set's directory, in the environment or .env"
                .into(),
        })
    })?;
    let lifecycle = Lifecycle::of(&config);
    let now = jwt::now();
    match spec.command {
        c if c == ROTATE.command => {
            args::exactly(spec, &args, &[])?;
            let rotated = rotation::rotate(
                &dir,
                config.keys.algorithm,
                lifecycle,
                now,
                args.flag("--force"),
            )
            .map_err(|e| fail(&e))?;
            println!("{}", describe(&rotated, &dir));
        }
        c if c == ADD.command => {
            let file = args::one(spec, &args, "FILE")?;
            let text = std::fs::read_to_string(&file)
                .map_err(|e| fail(&format_args!("cannot read {file}: {e}")))?;
            let (kid, state) = rotation::add(&dir, &text, now).map_err(|e| fail(&e))?;
            println!(
                "added {kid} as the {} key of {}; SIGHUP the server to publish it",
                state.name(),
                dir.display()
            );
        }
        c if c == LIST.command => {
            args::exactly(spec, &args, &[])?;
            let list = key_dir::read_list(&dir)
                .map_err(|e| fail(&e))?
                .ok_or_else(|| fail(&format_args!("{}: no key set yet", dir.display())))?;
            for entry in &list.keys {
                let mut line = format!(
                    "{:<8} {:<6} {}  created {}",
                    entry.state,
                    entry.alg,
                    entry.kid,
                    time::utc(entry.created)
                );
                if let Some(retired) = entry.retired {
                    let until = lifecycle.verifies_until(retired);
                    line.push_str(&format!(
                        ", retired {}, verifies until {}",
                        time::utc(retired),
                        time::utc(until)
                    ));
                }
                println!("{line}");
            }
        }
        _ => {
            args::exactly(spec, &args, &[])?;
            let set = load(&dir, lifecycle, now, None, 0).map_err(|e| fail(&e))?;
            println!("{}", jwt::jwk::to_jwks(set.public_keys()));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What a rotation did, in a sentence or two.
fn describe(rotated: &Rotated, dir: &Path) -> String {
    let reload = "SIGHUP the server to use it";
    match rotated {
        Rotated::Created { active, next } => format!(
            "made the key set in {}: active {active}, next {next}; start the server, or {reload}",
            dir.display()
        ),
        Rotated::Published { next, dropped } => format!(
            "published the next key {next}; it signs after the next rotation (once it has been \
             published for JWKS_MAX_AGE){}; {reload}",
            deleted(dropped)
        ),
        Rotated::Promoted {
            active,
            retired,
            next,
            dropped,
        } => {
            let mut text = format!("active {active}; retired {retired}");
            match next {
                Some(next) => text.push_str(&format!("; next {next}")),
                None => text.push_str("; no next key (add one with 'hyperjwt keys add FILE')"),
            }
            format!("{text}{}; {reload}", deleted(dropped))
        }
    }
}

/// The keys a rotation deleted, as the end of its sentence (nothing when none).
fn deleted(dropped: &[String]) -> String {
    match dropped {
        [] => String::new(),
        _ => format!(
            "; deleted (their tokens have expired): {}",
            dropped.join(", ")
        ),
    }
}

/// Writes a new file, owner-only, refusing to replace one.
fn write_new(path: &Path, text: &str) -> Result<(), String> {
    atomic_file::create_new(path, text.as_bytes()).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            format!("{} already exists; not overwritten", path.display())
        }
        _ => format!("cannot write {}: {e}", path.display()),
    })
}
