//! A small command-line parser over `std::env::args_os()`, enough for hyperjwt's few subcommands:
//! positional words, `--name value` / `--name=value` options, `--flag`s, `-h`/`--help`, and `--` to
//! end options. Hand-written rather than a crate to keep the binary small; every mistake becomes a
//! [`Usage`] error, which the binary reports with exit status 2.

use std::ffi::OsString;
use std::fmt;

/// What one command accepts, and how to describe it.
pub struct Spec {
    /// The command as typed, e.g. `hyperjwt users add`.
    pub command: &'static str,
    /// One line: the command's synopsis.
    pub usage: &'static str,
    /// The full `--help` text.
    pub help: &'static str,
    /// Options that take a value.
    pub options: &'static [&'static str],
    /// Options that take none.
    pub flags: &'static [&'static str],
}

/// A command line that can't be run: what was wrong, and how the command is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    pub command: &'static str,
    pub usage: &'static str,
    pub message: String,
}

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}\nusage: {}\nTry '{} --help'.",
            self.command, self.message, self.usage, self.command
        )
    }
}

impl std::error::Error for Usage {}

impl Spec {
    pub fn usage_error(&self, message: impl Into<String>) -> Usage {
        Usage {
            command: self.command,
            usage: self.usage,
            message: message.into(),
        }
    }
}

/// The outcome of parsing: help was asked for, or the arguments.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    Help,
    Args(Args),
}

/// Parsed arguments: positionals in order, options by name.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Args {
    pub positionals: Vec<String>,
    options: Vec<(&'static str, String)>,
    flags: Vec<&'static str>,
}

impl Args {
    /// The value of an option, if it was given.
    pub fn option(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn flag(&self, name: &str) -> bool {
        self.flags.contains(&name)
    }
}

/// [`parse`], printing the help and returning `None` when `-h`/`--help` was asked for: what every
/// command does first.
pub fn parse_or_help(spec: &Spec, args: Vec<OsString>) -> Result<Option<Args>, Usage> {
    match parse(spec, args)? {
        Parsed::Help => {
            print!("{}", spec.help);
            Ok(None)
        }
        Parsed::Args(args) => Ok(Some(args)),
    }
}

/// Parses `args` (the words after the command's own name) against `spec`.
///
/// `-h` or `--help` anywhere before `--` means help, whatever else is there: someone unsure of a
/// command's syntax should get its help, not an error about it.
pub fn parse(spec: &Spec, args: Vec<OsString>) -> Result<Parsed, Usage> {
    if args
        .iter()
        .take_while(|a| *a != "--")
        .any(|a| a == "-h" || a == "--help")
    {
        return Ok(Parsed::Help);
    }
    let mut parsed = Args::default();
    let mut words = args.into_iter();
    let mut options_ended = false;
    while let Some(word) = words.next() {
        let word = utf8(spec, word)?;
        if options_ended || word == "-" || !word.starts_with('-') {
            parsed.positionals.push(word);
            continue;
        }
        if word == "--" {
            options_ended = true;
            continue;
        }
        let (name, inline) = match word.split_once('=') {
            Some((name, value)) => (name, Some(value.to_string())),
            None => (word.as_str(), None),
        };
        if let Some(&name) = spec.options.iter().find(|o| **o == name) {
            let value = match inline {
                Some(value) => value,
                None => match words.next() {
                    Some(value) => utf8(spec, value)?,
                    None => return Err(spec.usage_error(format!("{name} needs a value"))),
                },
            };
            if parsed.option(name).is_some() {
                return Err(spec.usage_error(format!("{name} is given twice")));
            }
            parsed.options.push((name, value));
        } else if let Some(&name) = spec.flags.iter().find(|f| **f == name) {
            if inline.is_some() {
                return Err(spec.usage_error(format!("{name} takes no value")));
            }
            if !parsed.flag(name) {
                parsed.flags.push(name);
            }
        } else {
            let mut message = format!("unknown option {name}");
            if let Some(hint) =
                setting_hint(name, inline.or_else(|| words.next()?.into_string().ok()))
            {
                message.push_str(&hint);
            }
            return Err(spec.usage_error(message));
        }
    }
    Ok(Parsed::Args(parsed))
}

/// Options people try because other servers have them, and the setting that does the job here.
const SETTING_OPTIONS: &[(&str, &str)] = &[("--port", "PORT"), ("--host", "HOST")];

/// For `--port 8000`: "; the server is configured by the environment or .env: PORT=8000 hyperjwt
/// serve". `value` is what followed the option, if anything (a following option is not a value).
fn setting_hint(option: &str, value: Option<String>) -> Option<String> {
    let (_, key) = SETTING_OPTIONS.iter().find(|(o, _)| *o == option)?;
    let value = value
        .filter(|v| !v.is_empty() && !v.starts_with('-') && v.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or_else(|| "...".to_string());
    Some(format!(
        "; the server is configured by the environment or .env, not options: \
         {key}={value} hyperjwt serve"
    ))
}

fn utf8(spec: &Spec, word: OsString) -> Result<String, Usage> {
    word.into_string().map_err(|word| {
        spec.usage_error(format!(
            "argument {:?} is not valid UTF-8",
            word.to_string_lossy()
        ))
    })
}

/// Parses a command that takes exactly the positionals `names` (e.g. `["NAME"]`), returning them.
pub fn exactly(spec: &Spec, args: &Args, names: &[&str]) -> Result<Vec<String>, Usage> {
    let given = &args.positionals;
    if given.len() < names.len() {
        return Err(spec.usage_error(format!("missing {}", names[given.len()..].join(" "))));
    }
    if given.len() > names.len() {
        return Err(spec.usage_error(format!("unexpected argument {:?}", given[names.len()])));
    }
    Ok(given.clone())
}

/// Parses a command that takes exactly one positional, `name` (e.g. `NAME`), returning it.
pub fn one(spec: &Spec, args: &Args, name: &str) -> Result<String, Usage> {
    exactly(spec, args, &[name])?
        .pop()
        .ok_or_else(|| spec.usage_error(format!("missing {name}")))
}

/// Picks a group's subcommand (`users add`, `token inspect`): the first word, or help.
pub fn subcommand<'a>(
    group: &'static str,
    usage: &'static str,
    help: &str,
    names: &[&'a str],
    args: &mut Vec<OsString>,
) -> Result<Option<&'a str>, Usage> {
    let usage_error = |message: String| Usage {
        command: group,
        usage,
        message,
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

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: Spec = Spec {
        command: "hyperjwt test",
        usage: "hyperjwt test [--secret KEY] [--replace] NAME",
        help: "help",
        options: &["--secret", "--type"],
        flags: &["--replace"],
    };

    fn parse_words(words: &[&str]) -> Result<Parsed, Usage> {
        parse(&SPEC, words.iter().map(OsString::from).collect())
    }

    fn args(words: &[&str]) -> Args {
        match parse_words(words) {
            Ok(Parsed::Args(args)) => args,
            other => panic!("{words:?}: {other:?}"),
        }
    }

    fn message(words: &[&str]) -> String {
        parse_words(words).unwrap_err().message
    }

    #[test]
    fn positionals_options_and_flags() {
        let a = args(&["alice", "--secret", "k", "--replace", "--type=access", "-"]);
        assert_eq!(a.positionals, ["alice", "-"]);
        assert_eq!(a.option("--secret"), Some("k"));
        assert_eq!(a.option("--type"), Some("access"));
        assert!(a.flag("--replace"));
        assert_eq!(args(&[]).option("--secret"), None);
        // A value may start with a dash, and `=` keeps the rest whole.
        assert_eq!(args(&["--secret", "-x"]).option("--secret"), Some("-x"));
        assert_eq!(args(&["--secret=a=b"]).option("--secret"), Some("a=b"));
    }

    #[test]
    fn help_wins_anywhere_before_the_end_of_options() {
        assert_eq!(parse_words(&["--help"]), Ok(Parsed::Help));
        assert_eq!(parse_words(&["--bogus", "-h"]), Ok(Parsed::Help));
        assert_eq!(args(&["--", "--help"]).positionals, ["--help"]);
    }

    #[test]
    fn server_options_from_other_servers_hint_at_the_setting() {
        let hint = "; the server is configured by the environment or .env, not options: ";
        assert_eq!(
            message(&["--port", "8000"]),
            format!("unknown option --port{hint}PORT=8000 hyperjwt serve")
        );
        assert_eq!(
            message(&["--host=0.0.0.0"]),
            format!("unknown option --host{hint}HOST=0.0.0.0 hyperjwt serve")
        );
        assert_eq!(
            message(&["--port"]),
            format!("unknown option --port{hint}PORT=... hyperjwt serve")
        );
        assert_eq!(
            message(&["--port", "--replace"]),
            format!("unknown option --port{hint}PORT=... hyperjwt serve")
        );
    }

    #[test]
    fn mistakes_are_usage_errors() {
        assert_eq!(message(&["--bogus"]), "unknown option --bogus");
        assert_eq!(message(&["-x"]), "unknown option -x");
        assert_eq!(message(&["--secret"]), "--secret needs a value");
        assert_eq!(message(&["--replace=yes"]), "--replace takes no value");
        assert_eq!(
            message(&["--type", "a", "--type=b"]),
            "--type is given twice"
        );
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_arguments_are_refused() {
        use std::os::unix::ffi::OsStringExt;
        let word = OsString::from_vec(vec![b'a', 0xff]);
        let err = parse(&SPEC, vec![word]).unwrap_err();
        assert!(err.message.contains("not valid UTF-8"), "{}", err.message);
    }

    #[test]
    fn exact_positionals() {
        assert_eq!(
            exactly(&SPEC, &args(&["alice"]), &["NAME"]).unwrap(),
            ["alice"]
        );
        assert_eq!(
            exactly(&SPEC, &args(&[]), &["NAME"]).unwrap_err().message,
            "missing NAME"
        );
        assert_eq!(
            exactly(&SPEC, &args(&["a", "b"]), &["NAME"])
                .unwrap_err()
                .message,
            "unexpected argument \"b\""
        );
        assert_eq!(one(&SPEC, &args(&["alice"]), "NAME").unwrap(), "alice");
        assert_eq!(
            one(&SPEC, &args(&[]), "NAME").unwrap_err().message,
            "missing NAME"
        );
    }

    #[test]
    fn usage_errors_name_the_command_and_point_to_help() {
        let text = parse_words(&["--bogus"]).unwrap_err().to_string();
        assert_eq!(
            text,
            "hyperjwt test: unknown option --bogus\n\
             usage: hyperjwt test [--secret KEY] [--replace] NAME\n\
             Try 'hyperjwt test --help'."
        );
    }
}
