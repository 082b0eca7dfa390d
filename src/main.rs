//! The `hyperjwt` binary: the server (the default) and its command-line tools. All the work is in the
//! library and in [`cli`]; this file only hands the command line over.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main(std::env::args_os())
}
