//! `hyperjwt` / `hyperjwt serve`: read the configuration (environment, then `.env`), log where each
//! setting came from, serve until SIGINT or SIGTERM, and reload `USERS_FILE` and `JWT_KEYS_DIR` on
//! SIGHUP. All the work is in the library (`App::reload_users`, `App::reload_keys`); this only wires
//! it to the process.

use std::ffi::OsString;
use std::process::ExitCode;

use super::args::{self, Spec};
use super::error::CliError;
use super::settings::load;

const SPEC: Spec = Spec {
    command: "hyperjwt serve",
    usage: "hyperjwt [serve]",
    help: "\
hyperjwt serve: run the JWT authentication HTTP API

Usage: hyperjwt [serve]

Listens on HOST:PORT (default 127.0.0.1:5000) until SIGINT (Ctrl-C) or SIGTERM, then finishes the
requests in flight and exits with status 0. SIGHUP (kill -HUP <pid>) reloads USERS_FILE at once:
a user whose password changed has every older session ended, a removed user's tokens get 404; a
file that can't be loaded keeps the users being served, and the log says why. SIGHUP also rereads
JWT_KEYS_DIR, the public-key set ('hyperjwt keys rotate'), the same way.

Everything is configured by environment variables or a .env file in the working directory (the
environment wins); see docs/configuration.md and .env.example. There are no options: for another
port, run 'PORT=8000 hyperjwt serve'. The first log line names every setting that was set and where
it came from (secrets only as \"set\"); a key that looks like a setting but is none gets a warning.
A bad value stops start-up with one line naming the key, and exit status 1.
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
    hyperjwt::logger::init_with(loaded.config.log_level, loaded.config.log_format);
    // First line of the log: the effective level and where every setting came from, so a value
    // that didn't take (a .env shadowed by the environment, DEBUG overriding FLASK_DEBUG) shows.
    log::info!("{}", loaded.describe());
    for warning in loaded.unknown_key_warnings() {
        log::warn!("{warning}");
    }
    let config = loaded.config;
    let runtime = hyperjwt::server::runtime(&config).map_err(|e| {
        CliError::failed("hyperjwt", format!("cannot start the async runtime: {e}"))
    })?;
    let served = runtime.block_on(async {
        let app =
            hyperjwt::App::from_config(&config).map_err(hyperjwt::server::StartError::Build)?;
        #[cfg(unix)]
        tokio::spawn(reload_on_sighup(
            app.clone(),
            config.users_file.is_some() || config.keys.keys_dir.is_none(),
        ));
        hyperjwt::server::run_app(config, app, shutdown_signal()).await
    });
    match served {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // The server's errors already say what failed (e.g. "configuration error: USERS_FILE: ...").
        Err(error) => {
            eprintln!("{error}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Reloads the key set (with `JWT_KEYS_DIR`) and `USERS_FILE` (when `users`: it is set, or there is
/// no key set, so a SIGHUP always says what it did) on every SIGHUP, and logs what changed or why
/// nothing did.
#[cfg(unix)]
async fn reload_on_sighup(app: hyperjwt::App, users: bool) {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangups = match signal(SignalKind::hangup()) {
        Ok(hangups) => hangups,
        Err(e) => {
            log::warn!("cannot listen for SIGHUP, so USERS_FILE will not be reloaded: {e}");
            return;
        }
    };
    while hangups.recv().await.is_some() {
        match app.reload_keys() {
            Ok(None) => {}
            Ok(Some(published)) => {
                let keys: Vec<String> = published
                    .set
                    .keys()
                    .map(|(key, state)| format!("{} {} {}", state.name(), key.alg(), key.kid()))
                    .collect();
                log::info!("SIGHUP: JWT_KEYS_DIR reloaded: {}", keys.join(", "));
            }
            Err(e) => log::error!("SIGHUP: JWT_KEYS_DIR: {e}; still using the keys loaded before"),
        }
        if !users {
            continue;
        }
        match app.reload_users().await {
            Ok(reloaded) => log::info!(
                "SIGHUP: USERS_FILE reloaded: {} user(s); new password (sessions ended): {:?}; \
                 added: {:?}; removed (tokens now get 404): {:?}",
                reloaded.users,
                reloaded.changed,
                reloaded.added,
                reloaded.removed,
            ),
            Err(e) => log::error!("SIGHUP: {e}; still serving the users loaded before"),
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
