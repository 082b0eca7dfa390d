//! `hyperjwt token inspect`: decode a token and run the server's verification on it, saying which
//! steps pass and why any fails.
//!
//! It runs no checks of its own. It runs the server's pipeline, [`jwt::verify_observed`], with an
//! observer ([`report`]) that records each [`Step`](jwt::Step) as it runs, so it can't drift from the
//! server: same steps, same order, same numbers (docs/jwt.md §8). The observer asks for a diagnosis:
//! where the server stops at the first failure, the pipeline goes on with every step whose inputs it
//! still has (the claims of a token with a bad signature, say, shown as untrusted), and the report
//! marks the others `skip`. Step 17, revocation, is the caller's, as in the server: this tool replays
//! the denylist's journal for it.
//!
//! The data flows one way: the command line (this file) makes the [`Context`] ([`context`]), the
//! [`report`] runs the steps and records each as [`checked`] (with [`reasons`] for a header or claims
//! set that does not parse, and step 17 from [`revocation`]), and [`render`](mod@render) prints it.
//!
//! - this file: the command line;
//! - [`context`]: what the checks depend on besides the token;
//! - [`checked`]: one step's status and reason, what every step produces;
//! - [`report`]: the observer, the steps it records and the verdict;
//! - [`reasons`]: why a header or claims set does not parse, in words;
//! - [`revocation`]: step 17, against the denylist's journal;
//! - [`render`](mod@render): the report as printed.

use std::ffi::OsString;
use std::io::Read;
use std::process::ExitCode;

use hyperjwt::jwt::{self, Hs256Key, TokenType};
#[cfg(feature = "public-keys")]
use hyperjwt::jwt::{JwkSet, PublicKey};

use super::args::{self, Spec};
use super::error::CliError;
use super::settings::load_config;

mod checked;
mod context;
mod reasons;
mod render;
mod report;
mod revocation;
#[cfg(test)]
mod tests;

use context::{Context, CsrfRule, Journal, Keys};
use render::render;
use report::{Verdict, inspect};

pub const SPEC: Spec = Spec {
    command: "hyperjwt token inspect",
    usage: "hyperjwt token inspect TOKEN|- [--secret KEY | --public-key FILE | --jwks FILE] [--denylist FILE] [--type access|refresh]",
    help: "\
hyperjwt token inspect: decode a token and check it step by step, as the server does

Usage: hyperjwt token inspect TOKEN [--secret KEY | --public-key FILE | --jwks FILE]
                              [--denylist FILE] [--type access|refresh]
       hyperjwt token inspect - ...        (read the token from standard input)

Prints the decoded header and claims, the times (iat, nbf, exp) as UTC dates and as 'expires in
14m 3s' / 'expired 2h ago', then each verification step in the server's order, numbered as in
docs/jwt.md, with PASS or FAIL and the reason: length, segments, base64url of each segment,
header JSON, alg, crit, key, signature, claims JSON, exp, nbf, type, iss and aud (when JWT_ISSUER /
JWT_AUDIENCE are set or the token has them), revocation. The steps are the server's own pipeline,
observed as it runs. Where the server would stop at the first failure, inspect goes on and marks
steps it can't run 'skip'.

  --secret KEY       check the signature with KEY. Without it, the configured keys are used
                     (the key set of JWT_KEYS_DIR; else JWT_SECRET_KEY, else SECRET_KEY, with
                     JWT_PREVIOUS_SECRET_KEYS, from the environment or .env); with none, the
                     signature is 'not checked'.
                     A key on the command line is visible to other local users (ps): prefer
                     the environment. Keys under 32 bytes are accepted here, with a warning.
  --public-key FILE  check an EdDSA, ES256 or RS256 signature with this public key (a PUBLIC
                     KEY PEM, as 'openssl pkey -pubout' or 'hyperjwt keys generate --public'
                     write it), as a service holding only that key would.
  --jwks FILE        check it with a saved JWKS (curl .../.well-known/jwks.json > FILE): the
                     key the token's kid names, which must have the header's alg.
  --denylist FILE    check revocation against this denylist journal, which must exist. By
                     default DENYLIST_FILE (not checked until the server has created it); with
                     neither, revocation is 'not checked'. Read only: the journal is never
                     changed, so this is safe while the server runs.
  --type T           require an access or a refresh token (default: report the type only)

JWT_LEEWAY, JWT_ISSUER, JWT_AUDIENCE and MAX_TOKEN_BYTES apply as in the server.

Exit status: 0 when every step that ran passed and the signature was checked; 1 when a step
failed, or when the signature was not checked (an unverified token is not a valid one); 2 for a
usage error. Revocation that is not checked does not change the exit status.
",
    options: &["--secret", "--public-key", "--jwks", "--denylist", "--type"],
    flags: &[],
};

/// Longest token read from standard input.
const MAX_STDIN_TOKEN: u64 = 1 << 20;

pub fn run(words: Vec<OsString>) -> Result<ExitCode, CliError> {
    let Some(args) = args::parse_or_help(&SPEC, words)? else {
        return Ok(ExitCode::SUCCESS);
    };
    let token_arg = args::one(&SPEC, &args, "TOKEN")?;
    let expected = args
        .option("--type")
        .map(|t| {
            parse_type(t).ok_or_else(|| {
                SPEC.usage_error(format!("--type must be access or refresh, not {t:?}"))
            })
        })
        .transpose()?;
    let config = load_config()?;

    let token = if token_arg == "-" {
        let mut text = String::new();
        std::io::stdin()
            .take(MAX_STDIN_TOKEN)
            .read_to_string(&mut text)
            .map_err(|e| {
                CliError::failed(
                    SPEC.command,
                    format!("cannot read the token from standard input: {e}"),
                )
            })?;
        text
    } else {
        token_arg
    };
    // Copy and paste often brings a newline or spaces along; they are never part of a token.
    let token = token.trim();
    if token.is_empty() {
        return Err(SPEC.usage_error("the token is empty").into());
    }

    let given = ["--secret", "--public-key", "--jwks"]
        .into_iter()
        .filter(|o| args.option(o).is_some())
        .count();
    if given > 1 {
        return Err(SPEC
            .usage_error("give one of --secret, --public-key and --jwks")
            .into());
    }
    let read = |option: &str| -> Result<Option<String>, CliError> {
        args.option(option)
            .map(|path| {
                std::fs::read_to_string(path).map_err(|e| {
                    CliError::failed(SPEC.command, format!("{option}: cannot read {path}: {e}"))
                })
            })
            .transpose()
    };
    let public_key = read("--public-key")?;
    let jwks = read("--jwks")?;
    if !cfg!(feature = "public-keys") && (public_key.is_some() || jwks.is_some()) {
        return Err(CliError::failed(
            SPEC.command,
            hyperjwt::jwt::KeyError::Disabled,
        ));
    }
    let unusable = |option: &str, e: &dyn std::fmt::Display| {
        CliError::failed(SPEC.command, format!("{option}: {e}"))
    };
    let keys = match args.option("--secret") {
        #[cfg(feature = "public-keys")]
        _ if public_key.is_some() => Keys::PublicKey(
            PublicKey::from_pem(public_key.as_deref().unwrap_or_default())
                .map_err(|e| unusable("--public-key", &e))?,
        ),
        #[cfg(feature = "public-keys")]
        _ if jwks.is_some() => Keys::Jwks(
            JwkSet::parse(jwks.as_deref().unwrap_or_default().as_bytes())
                .map_err(|e| unusable("--jwks", &e))?,
        ),
        Some(secret) => {
            if secret.len() < hyperjwt::config::MIN_SECRET_LEN {
                eprintln!(
                    "warning: the --secret key is {} bytes; the server refuses keys under {} (RFC 7518 §3.2)",
                    secret.len(),
                    hyperjwt::config::MIN_SECRET_LEN
                );
            }
            Keys::Given(Hs256Key::new(secret.as_bytes()))
        }
        None if config.keys.keys_dir.is_some() => {
            let tokens = hyperjwt::auth::keys::PublicKeys::from_config(&config)
                .map_err(|e| unusable("JWT_KEYS_DIR", &e))?;
            match tokens {
                Some(keys) => Keys::ConfiguredSet(keys),
                None => Keys::None,
            }
        }
        None if !config.secret_is_random => Keys::Configured(config.key_ring()),
        None => Keys::None,
    };
    let context = Context {
        csrf: CsrfRule::of(&config.cookies),
        max_len: config.max_token_bytes,
        keys,
        validation: config.validation(),
        expected,
        now: jwt::now(),
        denylist: match (args.option("--denylist"), &config.denylist_file) {
            (Some(path), _) => Some(Journal::Given(path.into())),
            (None, Some(path)) => Some(Journal::Configured(path.clone())),
            (None, None) => None,
        },
    };
    let inspection = inspect(token, &context);
    print!("{}", render(&inspection, &context));
    Ok(match inspection.verdict() {
        Verdict::Valid => ExitCode::SUCCESS,
        Verdict::Invalid(..) | Verdict::Error(_) | Verdict::Unverified => ExitCode::FAILURE,
    })
}

fn parse_type(text: &str) -> Option<TokenType> {
    match text {
        "access" => Some(TokenType::Access),
        "refresh" => Some(TokenType::Refresh),
        _ => None,
    }
}
