//! PEM (RFC 7468): DER bytes as base64 between `-----BEGIN LABEL-----` and `-----END LABEL-----`
//! lines, the form `openssl genpkey` and `hyperjwt keys generate` write keys in. Small enough to
//! write out: the armour is fixed text, and the base64 is the standard, padded alphabet (RFC 4648 §4),
//! not the JWS one.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Why a PEM text was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PemError {
    /// No `-----BEGIN <label>-----` line, or no matching end line.
    NoBlock(&'static str),
    /// The lines between them are not base64.
    Base64,
}

impl std::fmt::Display for PemError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PemError::NoBlock(label) => write!(
                f,
                "no \"-----BEGIN {label}-----\" ... \"-----END {label}-----\" block"
            ),
            PemError::Base64 => f.write_str("the PEM block is not base64"),
        }
    }
}

impl std::error::Error for PemError {}

/// The DER bytes of the first `label` block in `text` (`PRIVATE KEY` for PKCS#8, `PUBLIC KEY` for
/// SubjectPublicKeyInfo). Text outside the block is ignored (RFC 7468 §2 allows explanatory text),
/// and so are the spaces and line breaks inside it.
pub fn decode(text: &str, label: &'static str) -> Result<Vec<u8>, PemError> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin).ok_or(PemError::NoBlock(label))? + begin.len();
    let len = text[start..].find(&end).ok_or(PemError::NoBlock(label))?;
    let base64: String = text[start..start + len]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    STANDARD.decode(base64).map_err(|_| PemError::Base64)
}

/// `der` as a `label` block, 64 characters a line (RFC 7468 §2), ending with a line break.
pub fn encode(der: &[u8], label: &str) -> String {
    let base64 = STANDARD.encode(der);
    let mut text = format!("-----BEGIN {label}-----\n");
    for line in base64.as_bytes().chunks(64) {
        // Base64 is ASCII, so every chunk is whole characters.
        text.push_str(std::str::from_utf8(line).unwrap_or_default());
        text.push('\n');
    }
    text.push_str(&format!("-----END {label}-----\n"));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_ignores_text_around_the_block() {
        let der: Vec<u8> = (0..=255).collect();
        let text = encode(&der, "PRIVATE KEY");
        assert!(text.lines().all(|line| line.len() <= 64));
        assert_eq!(decode(&text, "PRIVATE KEY"), Ok(der.clone()));
        let with_text = format!("a comment\r\n{}\ntrailing", text.replace('\n', "\r\n"));
        assert_eq!(decode(&with_text, "PRIVATE KEY"), Ok(der));
    }

    #[test]
    fn refuses_other_labels_missing_ends_and_bad_base64() {
        let text = encode(b"abc", "PUBLIC KEY");
        assert_eq!(
            decode(&text, "PRIVATE KEY"),
            Err(PemError::NoBlock("PRIVATE KEY"))
        );
        assert_eq!(
            decode("-----BEGIN PRIVATE KEY-----\nYWJj\n", "PRIVATE KEY"),
            Err(PemError::NoBlock("PRIVATE KEY"))
        );
        assert_eq!(
            decode(
                "-----BEGIN PRIVATE KEY-----\nYW*j\n-----END PRIVATE KEY-----",
                "PRIVATE KEY"
            ),
            Err(PemError::Base64)
        );
    }
}
