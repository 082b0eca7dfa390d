//! Reading a password from standard input, never from the command line (where `ps` and shell history
//! would show it): one line from a pipe or file, or typed at a terminal with echo turned off.
//!
//! Echo is switched with the `stty` program on the terminal that is our stdin (`stty -g` saves the
//! settings, `stty -echo` hides typing, `stty <saved>` puts them back), which needs no terminal crate.
//! The settings are restored when reading ends, on error too (a drop guard), and on Ctrl-C (a
//! watcher thread restores them before the process exits), so the shell is never left without echo.
//! If echo can't be turned off, the password is not read at all.

use std::fmt;
use std::io::{self, BufRead, IsTerminal, Read, Write};

/// Longest line read. Passwords past 72 bytes are refused anyway; this only bounds memory.
const MAX_LINE: usize = 1024;

/// Why no password was read.
#[derive(Debug)]
pub enum PromptError {
    /// Standard input ended before any line.
    NoInput,
    NotUtf8,
    TooLong,
    /// The two entries at a terminal differ.
    Mismatch,
    /// Nothing was typed at the terminal.
    Empty,
    /// Echo could not be turned off; reading would have shown the password.
    Echo(String),
    Io(io::Error),
}

impl fmt::Display for PromptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PromptError::NoInput => f.write_str("no password on standard input"),
            PromptError::NotUtf8 => f.write_str("the password is not valid UTF-8"),
            PromptError::TooLong => write!(f, "the password line is longer than {MAX_LINE} bytes"),
            PromptError::Mismatch => f.write_str("the two passwords differ; nothing was changed"),
            PromptError::Empty => f.write_str("the password is empty; nothing was changed"),
            PromptError::Echo(why) => write!(
                f,
                "cannot turn off terminal echo ({why}); pipe the password on standard input instead"
            ),
            PromptError::Io(e) => write!(f, "cannot read standard input: {e}"),
        }
    }
}

impl std::error::Error for PromptError {}

impl From<io::Error> for PromptError {
    fn from(e: io::Error) -> Self {
        PromptError::Io(e)
    }
}

/// Reads a new password: at a terminal, typed twice without echo (the two must match); otherwise the
/// first line of standard input. `prompt` is shown at a terminal (e.g. `New password for "alice": `).
pub fn read_new_password(prompt: &str) -> Result<String, PromptError> {
    let stdin = io::stdin();
    if !stdin.is_terminal() {
        return read_line(&mut stdin.lock());
    }
    let first = read_hidden(prompt)?;
    // Nothing typed is refused at once, not after asking for it again.
    if first.is_empty() {
        return Err(PromptError::Empty);
    }
    let second = read_hidden("Repeat it: ")?;
    if first != second {
        return Err(PromptError::Mismatch);
    }
    Ok(first)
}

/// One line: up to a `\n` (a `\r\n` ending is removed too) or the end of input. Nothing else is
/// trimmed: spaces belong to the password.
fn read_line(reader: &mut impl BufRead) -> Result<String, PromptError> {
    let mut line = Vec::new();
    let read = reader
        .by_ref()
        .take(MAX_LINE as u64 + 1)
        .read_until(b'\n', &mut line)?;
    if read == 0 {
        return Err(PromptError::NoInput);
    }
    if line.last() == Some(&b'\n') {
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
    }
    if line.len() > MAX_LINE {
        return Err(PromptError::TooLong);
    }
    String::from_utf8(line).map_err(|_| PromptError::NotUtf8)
}

/// Prompts on stderr (stdout may be redirected to catch a hash) and reads a line with echo off.
/// Echo goes off before the prompt shows, so nothing typed after the prompt can appear.
fn read_hidden(prompt: &str) -> Result<String, PromptError> {
    let line = {
        let _echo_off = EchoOff::new()?;
        eprint!("{prompt}");
        let _ = io::stderr().flush();
        read_line(&mut io::stdin().lock())
    };
    // The Enter that ended the line wasn't echoed either.
    eprintln!();
    line
}

/// Terminal echo, off while this lives.
struct EchoOff {
    saved: String,
}

impl EchoOff {
    fn new() -> Result<Self, PromptError> {
        if !cfg!(unix) {
            return Err(PromptError::Echo("supported on Unix only".into()));
        }
        let saved = stty(&["-g"])?;
        let saved = saved.trim().to_string();
        restore_on_interrupt(&saved);
        stty(&["-echo"])?;
        Ok(EchoOff { saved })
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        // Nothing more can be done if this fails; the error path already told the user to use a pipe.
        let _ = stty(&[&self.saved]);
    }
}

/// Runs `stty` on the terminal that is our standard input; returns what it printed.
fn stty(args: &[&str]) -> Result<String, PromptError> {
    let output = std::process::Command::new("stty")
        .args(args)
        .stdin(std::process::Stdio::inherit())
        .output()
        .map_err(|e| PromptError::Echo(format!("cannot run stty: {e}")))?;
    if !output.status.success() {
        let why = String::from_utf8_lossy(&output.stderr).trim().to_string();
        return Err(PromptError::Echo(format!("stty failed: {why}")));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// On the first Ctrl-C, puts the terminal settings back and exits with status 130 (the shell's
/// convention for "killed by SIGINT"). Installed once; returns when the handler is in place, so a
/// Ctrl-C can't slip in between turning echo off and being able to turn it back on.
#[cfg(unix)]
fn restore_on_interrupt(saved: &str) {
    use std::sync::OnceLock;
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let saved = saved.to_string();
        let (ready, installed) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("restore-terminal".into())
            .spawn(move || {
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    let _ = ready.send(());
                    return;
                };
                runtime.block_on(async {
                    use tokio::signal::unix::{SignalKind, signal};
                    let interrupt = signal(SignalKind::interrupt());
                    let _ = ready.send(());
                    if let Ok(mut interrupt) = interrupt {
                        if interrupt.recv().await.is_some() {
                            let _ = stty(&[&saved]);
                            eprintln!();
                            std::process::exit(130);
                        }
                    }
                });
            });
        if spawned.is_ok() {
            let _ = installed.recv();
        }
    });
}

#[cfg(not(unix))]
fn restore_on_interrupt(_saved: &str) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(input: &[u8]) -> Result<String, PromptError> {
        read_line(&mut io::Cursor::new(input))
    }

    #[test]
    fn reads_the_first_line_only_and_keeps_spaces() {
        assert_eq!(line(b"secret\nsecond line\n").unwrap(), "secret");
        assert_eq!(line(b" two words \r\n").unwrap(), " two words ");
        assert_eq!(line(b"no newline").unwrap(), "no newline");
        assert_eq!(line(b"\n").unwrap(), "");
    }

    #[test]
    fn refuses_no_input_bad_utf8_and_endless_lines() {
        assert!(matches!(line(b""), Err(PromptError::NoInput)));
        assert!(matches!(line(b"\xff\xfe\n"), Err(PromptError::NotUtf8)));
        assert!(matches!(
            line(&[b'x'; MAX_LINE + 1]),
            Err(PromptError::TooLong)
        ));
        let mut exactly = vec![b'x'; MAX_LINE];
        exactly.push(b'\n');
        assert_eq!(line(&exactly).unwrap().len(), MAX_LINE);
    }
}
