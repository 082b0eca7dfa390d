//! `hyperjwt token inspect | issue`: look inside a token (inspect.rs), or mint one with the configured
//! key through [`Tokens`], so its claims are exactly those the server writes at `/login`.

use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Duration;

use hyperjwt::auth::tokens::Tokens;
use hyperjwt::jwt::TokenType;
use hyperjwt::store::users::UserStore;
use hyperjwt::store::users_file::{self, UsersFile};

use super::args::{self, Spec, subcommand};
use super::error::CliError;
use super::inspect;
use super::settings::load_config;

const GROUP_HELP: &str = "\
hyperjwt token: inspect a token step by step, or issue one with the configured key

Usage:
  hyperjwt token inspect TOKEN|- [--secret KEY] [--denylist FILE] [--type access|refresh]
  hyperjwt token issue --sub NAME [--type access|refresh] [--ttl SECONDS]

Run 'hyperjwt token COMMAND --help' for details.
";

const ISSUE: Spec = Spec {
    command: "hyperjwt token issue",
    usage: "hyperjwt token issue --sub NAME [--type access|refresh] [--ttl SECONDS]",
    help: "\
hyperjwt token issue: print a new token signed with the configured key (JWT_SECRET_KEY, or the
active key of JWT_KEYS_DIR)

Usage: hyperjwt token issue --sub NAME [--type access|refresh] [--ttl SECONDS]

  --sub NAME        the subject (username) the token is for
  --type T          access (default) or refresh
  --ttl SECONDS     lifetime; default JWT_ACCESS_TOKEN_EXPIRES (900) or JWT_REFRESH_TOKEN_EXPIRES
                    (2592000) for the type

Signs with JWT_SECRET_KEY (else SECRET_KEY) from the environment or .env, and refuses when neither
is set: the server would make up a random key, and a token signed with it would be accepted
nowhere. The claims are the server's own (sub, iat, nbf, exp, jti, type, fresh, and iss/aud when
JWT_ISSUER/JWT_AUDIENCE are set); 'fresh' is false, since no password was checked.

Anyone who can run this with the server's key can log in as anyone: it is an operator's tool.
A warning is printed when NAME is not a user the server knows (/protected would answer 404).
",
    options: &["--sub", "--type", "--ttl"],
    flags: &[],
};

pub fn run(mut words: Vec<OsString>) -> Result<ExitCode, CliError> {
    let spec = match subcommand(
        "hyperjwt token",
        "hyperjwt token inspect TOKEN | issue --sub NAME",
        GROUP_HELP,
        &["inspect", "issue"],
        &mut words,
    )? {
        None => return Ok(ExitCode::SUCCESS),
        Some("inspect") => return inspect::run(words),
        Some(_) => &ISSUE,
    };
    let Some(args) = args::parse_or_help(spec, words)? else {
        return Ok(ExitCode::SUCCESS);
    };
    args::exactly(spec, &args, &[])?;
    let sub = args
        .option("--sub")
        .ok_or_else(|| spec.usage_error("missing --sub NAME"))?;
    let token_type = match args.option("--type") {
        None | Some("access") => TokenType::Access,
        Some("refresh") => TokenType::Refresh,
        Some(other) => {
            return Err(spec
                .usage_error(format!("--type must be access or refresh, not {other:?}"))
                .into());
        }
    };
    let ttl = args
        .option("--ttl")
        .map(|text| match text.parse::<u64>() {
            Ok(secs) if secs > 0 => Ok(Duration::from_secs(secs)),
            _ => Err(spec.usage_error(format!(
                "--ttl must be a whole number of seconds, at least 1, not {text:?}"
            ))),
        })
        .transpose()?;
    let fail = |e: &dyn std::fmt::Display| CliError::failed(ISSUE.command, e);
    users_file::check_username(sub).map_err(|e| fail(&format_args!("--sub: {e}")))?;

    let mut config = load_config()?;
    if config.secret_is_random && config.keys.keys_dir.is_none() {
        return Err(CliError::Config(hyperjwt::ConfigError {
            key: "JWT_SECRET_KEY",
            problem:
                "not set; token issue signs with the server's key, and a random one would make \
                      a token no server accepts. Set JWT_SECRET_KEY in the environment or .env"
                    .into(),
        }));
    }
    if let Some(ttl) = ttl {
        match token_type {
            TokenType::Access => config.access_token_ttl = ttl,
            TokenType::Refresh => config.refresh_token_ttl = ttl,
        }
    }
    warn_if_unknown(sub, &config);

    let tokens = Tokens::from_config(&config).map_err(|e| fail(&e))?;
    let token = tokens
        .issue(sub, token_type, false)
        .map_err(|_| fail(&"the system random generator failed"))?;
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}

/// A token for a name the server doesn't know verifies, but `/protected` answers 404 for it.
fn warn_if_unknown(sub: &str, config: &hyperjwt::Config) {
    let known = match &config.users_file {
        Some(path) => match UsersFile::open(path) {
            Ok(file) => file.contains(sub),
            Err(e) => {
                eprintln!("warning: cannot check that {sub:?} is a user: {e}");
                return;
            }
        },
        None => UserStore::demo().contains(sub),
    };
    if !known {
        let source = match &config.users_file {
            Some(path) => path.display().to_string(),
            None => "the demo users (USERS_FILE is not set)".into(),
        };
        eprintln!(
            "warning: {sub:?} is not in {source}; the token verifies, but /protected answers 404 \"User not found\""
        );
    }
}
