//! `GATE_SECRET`: the Worker secret that makes KV a cache rather than a trust root. Records the
//! gateway writes to KV carry an HMAC-SHA-256 under it; a record without a valid one is refused.
//! Whoever can write the KV namespace but not the Worker's secrets cannot forge one.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use std::fmt;

/// Fewer bytes than this are refused: HMAC-SHA-256 keys shorter than the hash lose strength.
pub const MIN_SECRET_BYTES: usize = 32;
/// A longer key gains nothing (HMAC hashes it down), and keeps a pasted file out.
pub const MAX_SECRET_BYTES: usize = 512;

/// A secret for unit tests only (32 bytes), never a deployment's.
#[cfg(test)]
pub const TEST_SECRET: &str = "dGVzdC1vbmx5LWdhdGUtc2VjcmV0LTMyLWJ5dGVzISE=";

/// The decoded secret. Its `Debug` never shows the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct GateSecret(Vec<u8>);

/// Why a `GATE_SECRET` value was refused (never quoting it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretError {
    /// Not standard base64.
    NotBase64,
    /// Decodes to fewer than [`MIN_SECRET_BYTES`] or more than [`MAX_SECRET_BYTES`].
    Length {
        /// How many bytes it decodes to.
        bytes: usize,
    },
}

impl fmt::Display for SecretError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretError::NotBase64 => f.write_str("is not base64"),
            SecretError::Length { bytes } => write!(
                f,
                "decodes to {bytes} bytes; {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} are needed"
            ),
        }
    }
}

impl std::error::Error for SecretError {}

impl GateSecret {
    /// Standard base64 as `openssl rand -base64 32` prints it (padding optional).
    pub fn parse(text: &str) -> Result<GateSecret, SecretError> {
        let text = text.trim();
        let bytes = STANDARD
            .decode(text)
            .or_else(|_| {
                base64::engine::general_purpose::STANDARD_NO_PAD.decode(text.trim_end_matches('='))
            })
            .map_err(|_| SecretError::NotBase64)?;
        if !(MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&bytes.len()) {
            return Err(SecretError::Length { bytes: bytes.len() });
        }
        Ok(GateSecret(bytes))
    }

    /// The key bytes, for the platform's HMAC.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for GateSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GateSecret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_openssl_output_and_refuses_short_or_garbled_values() {
        let secret = GateSecret::parse("  q83vEjRWeJq8zs3vASNFZ4mrze8BI0VniavN7wEjRWc=\n")
            .expect("32 bytes");
        assert_eq!(secret.as_bytes().len(), 32);
        assert_eq!(
            GateSecret::parse("q83vEjRWeJq8zs3vASNFZ4mrze8BI0VniavN7wEjRWc"),
            Ok(secret.clone()),
            "padding is optional"
        );
        assert_eq!(
            GateSecret::parse("c2hvcnQ="),
            Err(SecretError::Length { bytes: 5 })
        );
        assert_eq!(
            GateSecret::parse("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg=="),
            Err(SecretError::Length { bytes: 31 })
        );
        assert_eq!(
            GateSecret::parse("not base64!"),
            Err(SecretError::NotBase64)
        );
        assert_eq!(
            GateSecret::parse(&"A".repeat(700)),
            Err(SecretError::Length { bytes: 525 })
        );
    }

    #[test]
    fn debug_never_shows_the_bytes() {
        let secret = GateSecret::parse("q83vEjRWeJq8zs3vASNFZ4mrze8BI0VniavN7wEjRWc=").expect("ok");
        assert_eq!(format!("{secret:?}"), "GateSecret(<redacted>)");
    }
}
