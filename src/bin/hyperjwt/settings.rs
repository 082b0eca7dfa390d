//! The configuration every command uses: `.env` in the working directory and the environment (which
//! wins), read with the server's own rules ([`load`]), and what the server's first log lines say
//! about them: where each setting came from ([`Loaded::describe`], secrets only by size) and the keys
//! that look like settings but are none ([`Loaded::unknown_key_warnings`]).

use std::collections::HashMap;
use std::fmt;

use hyperjwt::{Config, ConfigError};

use super::error::CliError;

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
    /// Keys in the environment or `.env` that look like settings of ours but are read by nothing
    /// (`config::unknown_keys`), with the known key each is close to, if one is.
    unknown: Vec<(String, Source, Option<&'static str>)>,
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
    // The environment's keys, then those of .env not also in the environment (which wins).
    let env_keys: Vec<String> = std::env::vars_os()
        .filter_map(|(key, _)| key.into_string().ok())
        .collect();
    let mut seen: Vec<(&str, Source)> = env_keys
        .iter()
        .map(|key| (key.as_str(), Source::Environment))
        .collect();
    let mut dot_env_keys: Vec<&str> = dot_env.keys().map(String::as_str).collect();
    dot_env_keys.sort_unstable();
    seen.extend(
        dot_env_keys
            .into_iter()
            .filter(|key| !env_keys.iter().any(|k| k == key))
            .map(|key| (key, Source::DotEnv)),
    );
    let unknown = hyperjwt::config::unknown_keys(seen.iter().map(|(key, _)| *key))
        .into_iter()
        .filter_map(|unknown| {
            let source = seen.iter().find(|(key, _)| *key == unknown.key)?.1;
            Some((unknown.key.to_string(), source, unknown.near))
        })
        .collect();
    Ok(Loaded {
        config,
        set: set.into_inner(),
        unknown,
    })
}

/// [`load`], for the tools, which only need the configuration.
pub fn load_config() -> Result<Config, CliError> {
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

/// Keys whose values are never shown: the keys themselves, and any future `..._KEY` or `SECRET`.
fn is_secret(key: &str) -> bool {
    key.contains("SECRET")
        || key.ends_with("_KEY")
        || key.ends_with("_KEYS")
        || key == "INTROSPECTION_CLIENTS"
}

impl Loaded {
    /// One warning line for each unknown key that looks like ours, for the start-up log: the key
    /// and where it was set (never its value), and the known key it is close to.
    pub fn unknown_key_warnings(&self) -> Vec<String> {
        self.unknown
            .iter()
            .map(|(key, source, near)| {
                let hint = near.map_or_else(
                    || "; see .env.example for the settings".to_string(),
                    |near| format!("; did you mean {near}?"),
                );
                format!(
                    "{key} (set in {source}) is not a setting of hyperjwt and does nothing{hint}"
                )
            })
            .collect()
    }

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
    // A Redis URL may carry a password: shown as parsed, with the password redacted.
    if key == "REDIS_URL" {
        return hyperjwt::config::RedisUrl::parse(value)
            .map_or_else(|_| "<unparsable>".to_string(), |url| url.to_string());
    }
    if is_secret(key) {
        let keys = value.split(',').filter(|k| !k.trim().is_empty()).count();
        return if key == "INTROSPECTION_CLIENTS" {
            format!("<set, {keys} client(s)>")
        } else if key == "JWT_PREVIOUS_SECRET_KEYS" {
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
        assert_eq!(
            shown(
                "INTROSPECTION_CLIENTS",
                "gw:0123456789abcdef,api:fedcba9876543210"
            ),
            "<set, 2 client(s)>"
        );
        // A key added later that looks secret is hidden too.
        assert_eq!(shown("SOME_API_KEY", "abcd"), "<set, 4 bytes>");
        assert_eq!(shown("PORT", "8000"), "8000");
        assert_eq!(
            shown("REDIS_URL", "redis://:hunter2@10.0.0.5"),
            "redis://:<redacted>@10.0.0.5:6379/0"
        );
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
