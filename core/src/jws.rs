//! The signature stage: an [`UntrustedToken`] becomes a [`SignedPayload`] here and nowhere else.

use super::crypto::{CryptoFault, SignatureVerifier};
use super::keyset::KeySet;
use super::reason::Reason;
use super::token::UntrustedToken;
use crate::quoted::Quoted;
use std::fmt;

/// The only algorithm Entra signs access tokens with. It is a configuration value, never read
/// from the token: the token's `alg` must merely agree with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SigningAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    #[default]
    Rs256,
}

impl SigningAlgorithm {
    /// The JOSE `alg` name the token's header must carry.
    pub fn name(self) -> &'static str {
        match self {
            SigningAlgorithm::Rs256 => "RS256",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JwsError {
    AlgorithmNotAllowed {
        expected: &'static str,
        found: String,
    },
    GraphNonce,
    UnknownKid {
        kid: String,
    },
    SignatureLength {
        expected: usize,
        found: usize,
    },
    BadSignature {
        kid: String,
    },
    Crypto(CryptoFault),
}

impl JwsError {
    pub fn reason(&self) -> Reason {
        match self {
            JwsError::AlgorithmNotAllowed { .. } => Reason::AlgorithmNotAllowed,
            JwsError::GraphNonce => Reason::GraphToken,
            JwsError::UnknownKid { .. } => Reason::UnknownKid,
            JwsError::SignatureLength { .. } | JwsError::BadSignature { .. } => {
                Reason::InvalidSignature
            }
            JwsError::Crypto(_) => Reason::KeysUnavailable,
        }
    }
}

impl fmt::Display for JwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JwsError::AlgorithmNotAllowed { expected, found } => {
                write!(f, "alg {} where {expected} is required", Quoted(found))
            }
            JwsError::GraphNonce => f.write_str("header nonce marks a Graph/first-party token"),
            JwsError::UnknownKid { kid } => write!(f, "no key with kid {}", Quoted(kid)),
            JwsError::SignatureLength { expected, found } => {
                write!(
                    f,
                    "signature of {found} bytes where the key needs {expected}"
                )
            }
            JwsError::BadSignature { kid } => {
                write!(f, "signature does not verify with {}", Quoted(kid))
            }
            JwsError::Crypto(fault) => fault.fmt(f),
        }
    }
}

/// A payload whose signature verified under a vetted key. Its claims are not validated yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedPayload {
    kid: String,
    /// The signing key's `issuer`, if it published one; claims validation must honour it.
    key_issuer: Option<String>,
    payload: Vec<u8>,
}

impl SignedPayload {
    /// The `kid` of the key that verified the signature.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The signing key's `issuer`, if it published one.
    pub fn key_issuer(&self) -> Option<&str> {
        self.key_issuer.as_deref()
    }

    /// The claims JSON, as signed.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// Skips the signature stage, for fuzzing claims validation only: compiled only under
    /// `cfg(fuzzing)` (set by cargo-fuzz) or in this crate's own tests, never in the worker and
    /// never by a Cargo feature another crate could switch on.
    #[cfg(any(test, fuzzing))]
    pub fn assume_verified(kid: String, key_issuer: Option<String>, payload: Vec<u8>) -> Self {
        SignedPayload {
            kid,
            key_issuer,
            payload,
        }
    }
}

/// Checks algorithm, key and signature, in that order, so the cheapest refusals come first.
pub async fn verify_signature<V: SignatureVerifier>(
    token: UntrustedToken<'_>,
    algorithm: SigningAlgorithm,
    keys: &KeySet<V::PreparedKey>,
    verifier: &V,
) -> Result<SignedPayload, JwsError> {
    let header = token.header();
    if header.alg != algorithm.name() {
        return Err(JwsError::AlgorithmNotAllowed {
            expected: algorithm.name(),
            found: super::token::loggable(&header.alg),
        });
    }
    if header.has_nonce {
        return Err(JwsError::GraphNonce);
    }
    let entry = keys.get(&header.kid).ok_or_else(|| JwsError::UnknownKid {
        kid: header.kid.clone(),
    })?;
    let key = entry.key();
    if token.signature().len() != key.signature_len() {
        return Err(JwsError::SignatureLength {
            expected: key.signature_len(),
            found: token.signature().len(),
        });
    }
    let prepared = match entry.prepared() {
        Some(prepared) => prepared,
        None => entry.store_prepared(verifier.prepare(key).await.map_err(JwsError::Crypto)?),
    };
    let valid = verifier
        .verify_rs256(prepared, token.signing_input(), token.signature())
        .await
        .map_err(JwsError::Crypto)?;
    if !valid {
        return Err(JwsError::BadSignature {
            kid: key.kid.clone(),
        });
    }
    Ok(SignedPayload {
        kid: key.kid.clone(),
        key_issuer: key.issuer.clone(),
        payload: token.into_payload(),
    })
}

impl std::error::Error for JwsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        if let JwsError::Crypto(fault) = self {
            Some(fault)
        } else {
            None
        }
    }
}
