//! Why a command stopped ([`CliError`]): a usage error (exit status 2), a bad configuration value,
//! or a command that could not do its job (status 1). Every command returns it; `main` prints it.

use std::fmt;

use hyperjwt::ConfigError;

use super::args::Usage;

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
