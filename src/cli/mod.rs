//! The `hyperjwt` command line: the server (the default) and the tools around it.
//!
//! ```text
//! hyperjwt [serve]                         the server (serve.rs)
//! hyperjwt gen-secret                      a new random key for JWT_SECRET_KEY (secret.rs)
//! hyperjwt hash-password                   a bcrypt hash of a password read from stdin (password.rs)
//! hyperjwt users add|remove|list           edit USERS_FILE (users.rs)
//! hyperjwt token inspect|issue             look inside a token / mint one (token.rs, inspect.rs)
//! ```
//!
//! Exit status: 0 on success, 1 when a command fails (or `token inspect` finds the token invalid),
//! 2 for a usage error. Errors are one line on stderr naming the command; secrets are never printed.

mod args;
mod inspect;
mod password;
mod pretty;
mod prompt;
mod secret;
mod serve;
mod time;
mod token;
mod users;

use std::ffi::OsString;
use std::fmt;
use std::process::ExitCode;

use hyperjwt::{Config, ConfigError};

pub use args::Usage;

const HELP: &str = "\
hyperjwt: a JWT authentication HTTP API, and the tools to run it

Usage: hyperjwt [COMMAND] [OPTIONS]

Commands:
  serve            run the server (the default when no command is given)
  gen-secret       print a new random 32-byte key, as hex, for JWT_SECRET_KEY
  hash-password    read a password from stdin, print its bcrypt hash
  users            add, remove or list the users in USERS_FILE
  token            inspect a token step by step, or issue one with the configured key

Run 'hyperjwt COMMAND --help' for a command's options.

Configuration comes from the environment and from a .env file in the working directory (the
environment wins); see .env.example. Exit status: 0 success, 1 failure, 2 usage error.
";

/// Why a command stopped.
#[derive(Debug)]
pub enum CliError {
    /// The command line itself is wrong: exit status 2.
    Usage(Usage),
    /// A configuration value is wrong; the message names the key.
    Config(ConfigError),
    /// The command could not do its job: which command, and why (already phrased for the user).
    Failed {
        command: &'static str,
        message: String,
    },
}

impl CliError {
    pub fn failed(command: &'static str, message: impl fmt::Display) -> Self {
        CliError::Failed {
            command,
            message: message.to_string(),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(usage) => usage.fmt(f),
            CliError::Config(error) => error.fmt(f),
            CliError::Failed { command, message } => write!(f, "{command}: {message}"),
        }
    }
}

impl From<Usage> for CliError {
    fn from(usage: Usage) -> Self {
        CliError::Usage(usage)
    }
}

impl From<ConfigError> for CliError {
    fn from(error: ConfigError) -> Self {
        CliError::Config(error)
    }
}

/// Runs the command line `args` (the program name first, as `std::env::args_os()` gives it).
pub fn main(args: impl Iterator<Item = OsString>) -> ExitCode {
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
    let command = args.remove(0);
    match command.to_str() {
        Some("serve") => serve::run(args),
        Some("gen-secret") => secret::run(args),
        Some("hash-password") => password::run(args),
        Some("users") => users::run(args),
        Some("token") => token::run(args),
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
            usage: "hyperjwt [serve | gen-secret | hash-password | users | token] [OPTIONS]",
            message: format!("unknown command {:?}", command.to_string_lossy()),
        })),
    }
}

/// Picks a group's subcommand (`users add`, `token inspect`): the first word, or help.
fn subcommand<'a>(
    group: &'static str,
    usage: &'static str,
    help: &str,
    names: &[&'a str],
    args: &mut Vec<OsString>,
) -> Result<Option<&'a str>, CliError> {
    let usage_error = |message: String| {
        CliError::Usage(Usage {
            command: group,
            usage,
            message,
        })
    };
    if args.is_empty() {
        return Err(usage_error(format!(
            "missing command: one of {}",
            names.join(", ")
        )));
    }
    let word = args.remove(0);
    if word == "-h" || word == "--help" || word == "help" {
        print!("{help}");
        return Ok(None);
    }
    names
        .iter()
        .find(|name| word == **name)
        .map(|name| Some(*name))
        .ok_or_else(|| {
            usage_error(format!(
                "unknown command {:?}: one of {}",
                word.to_string_lossy(),
                names.join(", ")
            ))
        })
}

/// Loads `.env` (if there is one; the real environment wins) and reads the configuration with the
/// server's own rules, so a tool and the server never disagree about a value.
fn load_config() -> Result<Config, CliError> {
    if let Err(error) = dotenvy::dotenv() {
        if !error.not_found() {
            return Err(CliError::Config(ConfigError {
                key: ".env",
                problem: error.to_string(),
            }));
        }
    }
    Ok(Config::from_env()?)
}
