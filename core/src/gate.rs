//! The whole verification walk for one request, as two calls the edge makes in order:
//! [`intake`] (header → untrusted token) and [`verify`] (untrusted token → verified identity).
//! Split so the edge can refresh keys on an unknown `kid` and verify the same token again.

use super::bearer::{self, BearerError};
use super::claims::{self, ClaimRules, ClaimsError};
use super::crypto::SignatureVerifier;
use super::identity::VerifiedIdentity;
use super::jws::{self, JwsError, SigningAlgorithm};
use super::keyset::KeySet;
use super::reason::Reason;
use super::time::UnixTime;
use super::token::{TokenError, UntrustedToken};
use std::fmt;

/// Why verification would not accept a token: the failing stage's own error, with its context
/// for the log. Each maps to exactly one [`Reason`].
#[derive(Debug, Clone, PartialEq)]
pub enum VerifyError {
    /// The `Authorization` header.
    Bearer(BearerError),
    /// The token's shape and JOSE header.
    Token(TokenError),
    /// The key and the signature.
    Signature(JwsError),
    /// The claims, once the signature verified.
    Claims(ClaimsError),
}

impl VerifyError {
    /// The reason a refusal for this error carries.
    pub fn reason(&self) -> Reason {
        match self {
            VerifyError::Bearer(e) => e.reason(),
            VerifyError::Token(e) => e.reason(),
            VerifyError::Signature(e) => e.reason(),
            VerifyError::Claims(e) => e.reason(),
        }
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::Bearer(e) => e.fmt(f),
            VerifyError::Token(e) => e.fmt(f),
            VerifyError::Signature(e) => e.fmt(f),
            VerifyError::Claims(e) => e.fmt(f),
        }
    }
}

/// `Authorization` header value → a token shaped like a JWS.
pub fn intake(
    authorization: Option<&str>,
    max_token_bytes: usize,
) -> Result<UntrustedToken<'_>, VerifyError> {
    let raw = bearer_token(authorization, max_token_bytes)?;
    parse(raw, max_token_bytes)
}

/// The first half of [`intake`]: the token's text, not yet decoded (enough to find it in the
/// verified-token cache).
pub fn bearer_token(
    authorization: Option<&str>,
    max_token_bytes: usize,
) -> Result<&str, VerifyError> {
    bearer::extract(authorization, max_token_bytes).map_err(VerifyError::Bearer)
}

/// The second half of [`intake`].
pub fn parse(raw: &str, max_token_bytes: usize) -> Result<UntrustedToken<'_>, VerifyError> {
    UntrustedToken::parse(raw, max_token_bytes).map_err(VerifyError::Token)
}

/// Signature, then claims. Nothing about the caller is believed until both pass.
pub async fn verify<V: SignatureVerifier>(
    token: UntrustedToken<'_>,
    keys: &KeySet<V::PreparedKey>,
    verifier: &V,
    rules: &ClaimRules,
    now: UnixTime,
) -> Result<VerifiedIdentity, VerifyError> {
    let signed = jws::verify_signature(token, SigningAlgorithm::Rs256, keys, verifier)
        .await
        .map_err(VerifyError::Signature)?;
    claims::validate(signed, rules, now).map_err(VerifyError::Claims)
}

impl std::error::Error for VerifyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            VerifyError::Bearer(e) => Some(e),
            VerifyError::Token(e) => Some(e),
            VerifyError::Signature(e) => Some(e),
            VerifyError::Claims(e) => Some(e),
        }
    }
}
