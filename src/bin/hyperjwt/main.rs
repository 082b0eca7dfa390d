//! The `hyperjwt` binary: the server (the default) and the command-line tools around it. All the
//! server's work is in the library; this binary reads the command line and the configuration.
//!
//! ```text
//! hyperjwt [serve]                         the server (serve.rs)
//! hyperjwt gen-secret                      a new random key for JWT_SECRET_KEY (secret.rs)
//! hyperjwt hash-password                   a bcrypt hash of a password read from stdin (password.rs)
//! hyperjwt users add|remove|list           edit USERS_FILE (users.rs)
//! hyperjwt token inspect|issue             look inside a token / mint one (token.rs, inspect.rs)
//! hyperjwt keys generate|rotate|add|...    public signing keys and their rotation (keys.rs)
//! ```
//!
//! Exit status: 0 on success, 1 when a command fails (or `token inspect` finds the token invalid),
//! 2 for a usage error. Errors are one line on stderr naming the command; secrets are never printed.
//!
//! This file only dispatches. What the commands share is below them: `args.rs` (the command line),
//! `error.rs` (why a command stopped), `settings.rs` (the configuration, from the environment and
//! `.env`), so the imports run one way, from here down (`tests/architecture.rs`).

mod args;
mod error;
mod inspect;
#[cfg(feature = "public-keys")]
mod keys;
mod password;
mod pretty;
mod prompt;
mod secret;
mod serve;
mod settings;
mod time;
mod token;
mod users;

use std::ffi::OsString;
use std::process::ExitCode;

use args::Usage;
use error::CliError;

const HELP: &str = "\
hyperjwt: a JWT authentication HTTP API, and the tools to run it

Usage: hyperjwt [COMMAND] [OPTIONS]

Commands:
  serve            run the server (the default when no command is given)
  gen-secret       print a new random 32-byte key, as hex, for JWT_SECRET_KEY
  hash-password    read a password from stdin, print its bcrypt hash
  users            add, remove or list the users in USERS_FILE
  token            inspect a token step by step, or issue one with the configured key
  keys             make public signing keys, rotate the key set (JWT_KEYS_DIR)

Run 'hyperjwt COMMAND --help' for a command's options.

Configuration comes from the environment and from a .env file in the working directory (the
environment wins); see .env.example. Exit status: 0 success, 1 failure, 2 usage error.
";

const TOP_USAGE: &str =
    "hyperjwt [serve | gen-secret | hash-password | users | token | keys] [OPTIONS]";

fn main() -> ExitCode {
    run(std::env::args_os())
}

/// Runs the command line `args` (the program name first, as `std::env::args_os()` gives it).
fn run(args: impl Iterator<Item = OsString>) -> ExitCode {
    match dispatch(args.skip(1).collect()) {
        Ok(code) => code,
        Err(error @ CliError::Usage(_)) => {
            eprintln!("{error}");
            ExitCode::from(2)
        }
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(mut args: Vec<OsString>) -> Result<ExitCode, CliError> {
    if args.is_empty() {
        return serve::run(args);
    }
    // `hyperjwt --port 8000`: options without a command are the server's (the default command), so
    // the server's parser reports them, with its hints.
    if args[0].to_str().is_some_and(|word| {
        word.starts_with('-') && !matches!(word, "-h" | "--help" | "-V" | "--version")
    }) {
        return serve::run(args);
    }
    let command = args.remove(0);
    // Help and the version take nothing after them: `--version extra` is a mistake worth saying.
    if let (Some(word @ ("-h" | "--help" | "help" | "-V" | "--version")), Some(extra)) =
        (command.to_str(), args.first())
    {
        return Err(CliError::Usage(Usage {
            command: "hyperjwt",
            usage: TOP_USAGE,
            message: format!(
                "unexpected argument {:?} after {word}",
                extra.to_string_lossy()
            ),
        }));
    }
    match command.to_str() {
        Some("serve") => serve::run(args),
        Some("gen-secret") => secret::run(args),
        Some("hash-password") => password::run(args),
        Some("users") => users::run(args),
        Some("token") => token::run(args),
        #[cfg(feature = "public-keys")]
        Some("keys") => keys::run(args),
        #[cfg(not(feature = "public-keys"))]
        Some("keys") => Err(CliError::failed(
            "hyperjwt keys",
            hyperjwt::jwt::KeyError::Disabled,
        )),
        Some("-h" | "--help" | "help") => {
            print!("{HELP}");
            Ok(ExitCode::SUCCESS)
        }
        Some("-V" | "--version") => {
            println!("hyperjwt {}", env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::SUCCESS)
        }
        _ => Err(CliError::Usage(Usage {
            command: "hyperjwt",
            usage: TOP_USAGE,
            message: format!("unknown command {:?}", command.to_string_lossy()),
        })),
    }
}
