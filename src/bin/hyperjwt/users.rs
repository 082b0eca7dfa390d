//! `hyperjwt users add | remove | list`: edit the users file named by `USERS_FILE`, the JSON object
//! of username → bcrypt hash the server loads at start-up. The rules and the atomic save are the
//! library's ([`hyperjwt::store::users_file`]); this module reads the command line and the password.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use hyperjwt::store::users_file::{self, UsersFile};

use super::args::{self, Args, Spec, subcommand};
use super::error::CliError;
use super::prompt;
use super::settings::load_config;

const GROUP_HELP: &str = "\
hyperjwt users: add, remove or list the users in USERS_FILE

Usage:
  hyperjwt users add NAME [--replace]    add a user; the password is read from standard input
  hyperjwt users remove NAME             remove a user
  hyperjwt users list                    print the usernames, one per line, sorted (the file
                                         must exist)

USERS_FILE (from the environment or .env) names the file: a JSON object of username -> bcrypt
hash. It is created by the first 'add' (mode 0600). Every change replaces it atomically (a
temporary file beside it, fsync, rename, fsync of the directory), so a crash never leaves a broken
file. The server reads the file at start-up; to apply a change to a running server, send it SIGHUP
(kill -HUP <pid>): it reloads the file at once, and ends every older session of a user whose
password changed. Don't run two of these commands on one file at the same time.

Run 'hyperjwt users COMMAND --help' for details.
";

const ADD: Spec = Spec {
    command: "hyperjwt users add",
    usage: "hyperjwt users add NAME [--replace]",
    help: "\
hyperjwt users add: add a user to USERS_FILE

Usage: hyperjwt users add NAME [--replace]

The password is read from standard input: at a terminal, typed twice without echo (the two must
match); otherwise the first line (a trailing \\n or \\r\\n is removed, nothing else). It is hashed
with bcrypt at BCRYPT_COST (default 12).

  NAME         1 to 128 bytes of UTF-8, no control characters, no leading or trailing whitespace
  --replace    set a new password for a user who already exists (otherwise that is an error)

Refused: an empty password, and one longer than 72 bytes (bcrypt ignores bytes past 72; rather
than cut a password silently, hyperjwt refuses it).

Example: printf '%s\\n' \"$PASSWORD\" | hyperjwt users add alice
",
    options: &[],
    flags: &["--replace"],
};

const REMOVE: Spec = Spec {
    command: "hyperjwt users remove",
    usage: "hyperjwt users remove NAME",
    help: "\
hyperjwt users remove: remove a user from USERS_FILE

Usage: hyperjwt users remove NAME

Removing a user who isn't there is an error. Once the server has reloaded the file (SIGHUP, or a
restart), /protected answers 404 \"User not found\" to the user's tokens; adding the name back
later (with a reload) ends those old sessions rather than reviving them.
A file left with no users stops the server from starting.
",
    options: &[],
    flags: &[],
};

const LIST: Spec = Spec {
    command: "hyperjwt users list",
    usage: "hyperjwt users list",
    help: "\
hyperjwt users list: print the usernames in USERS_FILE

Usage: hyperjwt users list

One name per line, sorted. Hashes are never printed. A file that doesn't exist is an error (exit
status 1), as it is for the server: 'hyperjwt users add NAME' creates it. An empty one lists
nothing, with a warning that the server won't start with it.
",
    options: &[],
    flags: &[],
};

/// One `users` command: what it accepts, and what it does.
type Command = (&'static Spec, fn(&Args) -> Result<ExitCode, CliError>);

pub fn run(mut words: Vec<OsString>) -> Result<ExitCode, CliError> {
    let (spec, command): Command = match subcommand(
        "hyperjwt users",
        "hyperjwt users add NAME [--replace] | remove NAME | list",
        GROUP_HELP,
        &["add", "remove", "list"],
        &mut words,
    )? {
        None => return Ok(ExitCode::SUCCESS),
        Some("add") => (&ADD, add),
        Some("remove") => (&REMOVE, remove),
        Some(_) => (&LIST, list),
    };
    match args::parse_or_help(spec, words)? {
        None => Ok(ExitCode::SUCCESS),
        Some(args) => command(&args),
    }
}

/// `USERS_FILE`, which these commands can't do without.
fn users_file_path() -> Result<(PathBuf, u32), CliError> {
    let config = load_config()?;
    match config.users_file {
        Some(path) => Ok((path, config.bcrypt_cost)),
        None => Err(CliError::Config(hyperjwt::ConfigError {
            key: "USERS_FILE",
            problem: "not set; the users commands edit the JSON file it names \
                      (e.g. USERS_FILE=users.json in .env)"
                .into(),
        })),
    }
}

fn add(args: &Args) -> Result<ExitCode, CliError> {
    let name = args::one(&ADD, args, "NAME")?;
    let fail = |e: &dyn std::fmt::Display| CliError::failed(ADD.command, e);
    // Check everything that doesn't need the password before asking for it.
    users_file::check_username(&name).map_err(|e| fail(&e))?;
    let (path, cost) = users_file_path()?;
    let mut file = UsersFile::open(&path).map_err(|e| fail(&e))?;
    let replace = args.flag("--replace");
    if file.contains(&name) && !replace {
        return Err(fail(&format_args!(
            "user {name:?} already exists in {}; use --replace to set a new password",
            path.display()
        )));
    }
    let password =
        prompt::read_new_password(&format!("New password for {name:?}: ")).map_err(|e| fail(&e))?;
    let hash = users_file::hash_password(&password, cost).map_err(|e| fail(&e))?;
    let replaced = file.add(&name, hash, replace).map_err(|e| fail(&e))?;
    file.save().map_err(|e| fail(&e))?;
    println!(
        "{} user {name:?} in {} (bcrypt cost {cost}); send the server SIGHUP to apply",
        if replaced { "updated" } else { "added" },
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn remove(args: &Args) -> Result<ExitCode, CliError> {
    let name = args::one(&REMOVE, args, "NAME")?;
    let fail = |e: &dyn std::fmt::Display| CliError::failed(REMOVE.command, e);
    let (path, _) = users_file_path()?;
    let mut file = UsersFile::open(&path).map_err(|e| fail(&e))?;
    file.remove(&name)
        .map_err(|e| fail(&format_args!("{e} in {}", path.display())))?;
    file.save().map_err(|e| fail(&e))?;
    println!(
        "removed user {name:?} from {}; send the server SIGHUP to apply",
        path.display()
    );
    if file.is_empty() {
        eprintln!(
            "warning: {} now has no users; the server refuses to start with it until one is added",
            path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn list(args: &Args) -> Result<ExitCode, CliError> {
    args::exactly(&LIST, args, &[])?;
    let (path, _) = users_file_path()?;
    // `UsersFile::open` treats a missing file as empty, which suits `add`; but the server refuses to
    // start with a USERS_FILE that doesn't exist, so listing nothing would hide the problem.
    if let Err(error) = std::fs::metadata(&path) {
        return Err(CliError::failed(
            LIST.command,
            if error.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "USERS_FILE {} does not exist (the server refuses to start without it); \
                     'hyperjwt users add NAME' creates it",
                    path.display()
                )
            } else {
                format!("cannot read USERS_FILE {}: {error}", path.display())
            },
        ));
    }
    let file = UsersFile::open(&path).map_err(|e| CliError::failed(LIST.command, e))?;
    if file.is_empty() {
        eprintln!(
            "warning: {} has no users; the server refuses to start with it until one is added",
            path.display()
        );
    }
    let mut out = String::new();
    for name in file.names() {
        // A name edited in by hand could hold a newline; quote such names so each stays one line.
        if name.chars().any(char::is_control) {
            out.push_str(&format!("{name:?}\n"));
        } else {
            out.push_str(name);
            out.push('\n');
        }
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}
