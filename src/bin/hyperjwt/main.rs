//! The `hyperjwt` binary: the server (the default) and the command-line tools around it. All the
//! server's work is in the library; this binary reads the command line and the configuration.
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

use std::collections::HashMap;
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

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Environment,
    DotEnv,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Environment => "environment",
            Source::DotEnv => ".env",
        })
    }
}

/// The configuration, and where each setting that was set came from (for the start-up log).
pub struct Loaded {
    pub config: Config,
    /// Every key the configuration read with a non-empty value, in the order it read them.
    set: Vec<(String, String, Source)>,
}

/// The configuration every command uses: `.env` in the working directory (if there is one) is read
/// without touching the process environment, and each key is looked up in the environment first,
/// then in `.env` (so the real environment wins), with the server's own rules. The server and every
/// tool load it here, so they never disagree about a value.
pub fn load() -> Result<Loaded, CliError> {
    let dot_env = read_dot_env(std::path::Path::new(".env"))?;
    let set = std::cell::RefCell::new(Vec::new());
    let config = Config::from_lookup(|key| {
        // Present in the environment, even empty, means the environment decides, as it did when
        // .env was loaded into the environment without overriding.
        let (value, source) = match std::env::var(key) {
            Ok(value) => (value, Source::Environment),
            Err(_) => (dot_env.get(key)?.clone(), Source::DotEnv),
        };
        if !value.trim().is_empty() {
            let mut set = set.borrow_mut();
            if !set.iter().any(|(k, _, _)| k == key) {
                set.push((key.to_string(), value.clone(), source));
            }
        }
        Some(value)
    })?;
    Ok(Loaded {
        config,
        set: set.into_inner(),
    })
}

/// [`load`], for the tools, which only need the configuration.
fn load_config() -> Result<Config, CliError> {
    Ok(load()?.config)
}

/// The `KEY=value` lines of `path`, as dotenvy parses them (quotes, `export`, `${VAR}`); the first of
/// a repeated key wins, as when they were loaded into the environment. No file is no settings.
fn read_dot_env(path: &std::path::Path) -> Result<HashMap<String, String>, CliError> {
    let dot_env_error = |error: dotenvy::Error| {
        CliError::Config(ConfigError {
            key: ".env",
            problem: error.to_string(),
        })
    };
    let mut values = HashMap::new();
    let lines = match dotenvy::from_path_iter(path) {
        Ok(lines) => lines,
        Err(error) if error.not_found() => return Ok(values),
        Err(error) => return Err(dot_env_error(error)),
    };
    for line in lines {
        let (key, value) = line.map_err(dot_env_error)?;
        values.entry(key).or_insert(value);
    }
    Ok(values)
}

/// Keys whose values are never shown: the keys themselves, passwords (`REDIS_SENTINEL_PASSWORD`),
/// and any future `..._KEY`, `SECRET` or `PASSWORD`.
fn is_secret(key: &str) -> bool {
    key.contains("SECRET")
        || key.contains("PASSWORD")
        || key.ends_with("_KEY")
        || key.ends_with("_KEYS")
}

impl Loaded {
    /// One line for the start-up log: the effective log level and why, then every setting that was
    /// set, grouped by where it came from; secrets only as `<set, N bytes>`. For example
    /// `settings: log level debug (set by FLASK_DEBUG); environment: PORT=8000; .env:
    /// JWT_SECRET_KEY=<set, 64 bytes>, FLASK_DEBUG=True; everything else default`.
    pub fn describe(&self) -> String {
        let level = self.config.log_level.to_string().to_ascii_lowercase();
        // The first of these that is set decides the level (as in `Config::from_lookup`), except
        // that DEBUG=false leaves the default: name it only when it raised the level.
        let reason = ["LOG_LEVEL", "DEBUG", "FLASK_DEBUG"]
            .into_iter()
            .find(|key| self.set.iter().any(|(k, _, _)| k == key))
            .filter(|key| *key == "LOG_LEVEL" || self.config.debug)
            .map_or_else(|| "default".to_string(), |key| format!("set by {key}"));
        let mut line = format!("settings: log level {level} ({reason})");
        for source in [Source::Environment, Source::DotEnv] {
            let entries: Vec<String> = self
                .set
                .iter()
                .filter(|(_, _, s)| *s == source)
                .map(|(key, value, _)| format!("{key}={}", shown(key, value)))
                .collect();
            if !entries.is_empty() {
                line.push_str(&format!("; {source}: {}", entries.join(", ")));
            }
        }
        line.push_str(if self.set.is_empty() {
            "; nothing set in the environment or .env: every setting is its default"
        } else {
            "; everything else default"
        });
        line
    }
}

/// How a value appears in the log: secrets as their size only; others as written, quoted when they
/// hold characters that would make the line ambiguous (`,` `;` spaces, control characters).
fn shown(key: &str, value: &str) -> String {
    // A Redis URL may carry a password: shown as parsed, with the password redacted (a binary
    // without the feature refuses the URL before it logs its settings).
    if key == "REDIS_URL" {
        #[cfg(feature = "redis")]
        return hyperjwt::config::RedisUrl::parse(value)
            .map_or_else(|_| "<unparsable>".to_string(), |url| url.to_string());
        #[cfg(not(feature = "redis"))]
        return "<set>".to_string();
    }
    if is_secret(key) {
        let keys = value.split(',').filter(|k| !k.trim().is_empty()).count();
        return if key == "JWT_PREVIOUS_SECRET_KEYS" {
            format!("<set, {keys} key(s)>")
        } else {
            format!("<set, {} bytes>", value.len())
        };
    }
    if value
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b',' && b != b';')
    {
        value.to_string()
    } else {
        format!("{value:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_show_only_their_size_and_odd_values_are_quoted() {
        assert_eq!(shown("JWT_SECRET_KEY", "abcd"), "<set, 4 bytes>");
        assert_eq!(shown("SECRET_KEY", "abcd"), "<set, 4 bytes>");
        assert_eq!(
            shown("JWT_PREVIOUS_SECRET_KEYS", "a, b,"),
            "<set, 2 key(s)>"
        );
        // A key added later that looks secret is hidden too.
        assert_eq!(shown("SOME_API_KEY", "abcd"), "<set, 4 bytes>");
        assert_eq!(shown("REDIS_SENTINEL_PASSWORD", "abcd"), "<set, 4 bytes>");
        assert_eq!(shown("PORT", "8000"), "8000");
        let url = shown("REDIS_URL", "redis://:hunter2@10.0.0.5");
        if cfg!(feature = "redis") {
            assert_eq!(url, "redis://:<redacted>@10.0.0.5:6379/0");
        }
        assert!(!url.contains("hunter2"));
        // A newline can't forge a second log line, nor a comma an extra setting.
        assert_eq!(shown("USERS_FILE", "a\nINFO x"), r#""a\nINFO x""#);
        assert_eq!(
            shown("CORS_ORIGINS", "https://a,https://b"),
            r#""https://a,https://b""#
        );
    }

    #[test]
    fn a_dot_env_file_is_read_first_value_wins_and_none_is_fine() {
        let dir = std::env::temp_dir().join(format!("hyperjwt-dotenv-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(".env");
        std::fs::write(&path, "# comment\nPORT=1\nexport HOST=\"::1\"\nPORT=2\n").unwrap();
        let values = read_dot_env(&path).unwrap();
        assert_eq!(values.get("PORT").map(String::as_str), Some("1"));
        assert_eq!(values.get("HOST").map(String::as_str), Some("::1"));
        assert!(read_dot_env(&dir.join("missing")).unwrap().is_empty());
        std::fs::write(&path, "NOT A LINE\n").unwrap();
        assert!(matches!(
            read_dot_env(&path),
            Err(CliError::Config(ConfigError { key: ".env", .. }))
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
