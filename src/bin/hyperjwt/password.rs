//! `hyperjwt hash-password`: the bcrypt hash of a password read from standard input, at
//! `BCRYPT_COST`, for a `USERS_FILE` kept by hand (or by another tool).

use std::ffi::OsString;
use std::process::ExitCode;

use hyperjwt::store::users_file;

use super::args::{self, Spec};
use super::error::CliError;
use super::prompt;
use super::settings::load_config;

const SPEC: Spec = Spec {
    command: "hyperjwt hash-password",
    usage: "hyperjwt hash-password < password.txt",
    help: "\
hyperjwt hash-password: print the bcrypt hash of a password read from standard input

Usage: hyperjwt hash-password

At a terminal, asks for the password twice without echo; otherwise reads the first line of
standard input (a trailing \\n or \\r\\n is removed, nothing else). The password is never taken
from the command line, where the process list and shell history would show it.

Prints the hash ($2b$...) at BCRYPT_COST (default 12; 4..=31, from the environment or .env), the
form USERS_FILE holds: {\"alice\": \"$2b$12$...\"}. 'hyperjwt users add' does this and edits the file.

Refused: an empty password, and one longer than 72 bytes (bcrypt ignores bytes past 72; rather
than cut a password silently, hyperjwt refuses it).
",
    options: &[],
    flags: &[],
};

pub fn run(words: Vec<OsString>) -> Result<ExitCode, CliError> {
    let Some(args) = args::parse_or_help(&SPEC, words)? else {
        return Ok(ExitCode::SUCCESS);
    };
    args::exactly(&SPEC, &args, &[])?;
    let config = load_config()?;
    let fail = |e: &dyn std::fmt::Display| CliError::failed(SPEC.command, e);
    let password = prompt::read_new_password("Password to hash: ").map_err(|e| fail(&e))?;
    let hash = users_file::hash_password(&password, config.bcrypt_cost).map_err(|e| fail(&e))?;
    println!("{}", hash.as_str());
    Ok(ExitCode::SUCCESS)
}
