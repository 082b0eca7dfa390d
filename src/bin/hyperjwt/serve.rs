//! `hyperjwt` / `hyperjwt serve`: read the configuration (environment, then `.env`), log where each
//! setting came from, serve until SIGINT or SIGTERM. All the work is in the library; this only wires
//! it to the process.

use std::ffi::OsString;
use std::process::ExitCode;

use super::args::{self, Spec};
use super::{CliError, load};

const SPEC: Spec = Spec {
    command: "hyperjwt serve",
    usage: "hyperjwt [serve]",
    help: "\
hyperjwt serve: run the JWT authentication HTTP API

Usage: hyperjwt [serve]

Listens on HOST:PORT (default 127.0.0.1:5000) until SIGINT (Ctrl-C) or SIGTERM, then finishes the
requests in flight and exits with status 0. Everything is configured by environment variables or a
.env file in the working directory (the environment wins); see .env.example and the README. There
are no options for them: for another port, run 'PORT=8000 hyperjwt serve'. The first log line names
every setting that was set and where it came from (secrets only as \"set\"). A bad value stops
start-up with one line naming the key, and exit status 1.
",
    options: &[],
    flags: &[],
};

pub fn run(words: Vec<OsString>) -> Result<ExitCode, CliError> {
    let Some(args) = args::parse_or_help(&SPEC, words)? else {
        return Ok(ExitCode::SUCCESS);
    };
    args::exactly(&SPEC, &args, &[])?;

    let loaded = load()?;
    hyperjwt::logger::init(loaded.config.log_level);
    // First line of the log: the effective level and where every setting came from, so a value
    // that didn't take (a .env shadowed by the environment, DEBUG overriding FLASK_DEBUG) shows.
    log::info!("{}", loaded.describe());
    let config = loaded.config;
    let runtime = hyperjwt::server::runtime(&config).map_err(|e| {
        CliError::failed("hyperjwt", format!("cannot start the async runtime: {e}"))
    })?;
    match runtime.block_on(hyperjwt::server::run(config, shutdown_signal())) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // The server's errors already say what failed (e.g. "configuration error: USERS_FILE: ...").
        Err(error) => {
            eprintln!("{error}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Completes on the first SIGINT (Ctrl-C) or SIGTERM (what `kill` and service managers send).
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => log::info!("SIGINT received"),
        () = terminate => log::info!("SIGTERM received"),
    }
}
