//! `hyperjwt gen-secret`: a new random signing key, ready to paste into `.env`.
//!
//! 32 bytes from the operating system's generator (`ring`'s `SystemRandom`), printed as 64 hex
//! digits. The server uses the text itself as the HMAC key, so the key is 64 bytes of which 32 are
//! random: 256 bits, exactly what RFC 7518 §3.2 asks of an HS256 key.

use std::ffi::OsString;
use std::process::ExitCode;

use ring::rand::{SecureRandom, SystemRandom};

use super::args::{self, Spec};
use super::error::CliError;

const SPEC: Spec = Spec {
    command: "hyperjwt gen-secret",
    usage: "hyperjwt gen-secret",
    help: "\
hyperjwt gen-secret: print a new random key for JWT_SECRET_KEY

Usage: hyperjwt gen-secret

Prints 32 random bytes from the operating system's generator as 64 lowercase hex digits, then a
newline. For example:

  echo \"JWT_SECRET_KEY=$(hyperjwt gen-secret)\" >> .env

Every run prints a different key. Anyone holding the key can mint tokens: keep it out of version
control and logs.
",
    options: &[],
    flags: &[],
};

/// Bytes of randomness in a key: one SHA-256 output (RFC 7518 §3.2).
const KEY_BYTES: usize = 32;

pub fn run(words: Vec<OsString>) -> Result<ExitCode, CliError> {
    if let Some(args) = args::parse_or_help(&SPEC, words)? {
        args::exactly(&SPEC, &args, &[])?;
        println!("{}", new_key()?);
    }
    Ok(ExitCode::SUCCESS)
}

/// A new key as hex text.
fn new_key() -> Result<String, CliError> {
    let mut bytes = [0u8; KEY_BYTES];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| CliError::failed(SPEC.command, "the system random generator failed"))?;
    Ok(hyperjwt::bytes::hex(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_64_hex_digits_and_pass_the_servers_length_rule() {
        let key = new_key().unwrap();
        assert_eq!(key.len(), 64);
        assert!(
            key.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert!(hyperjwt::Config::with_secret(&key).is_ok());
        assert_ne!(key, new_key().unwrap());
    }
}
