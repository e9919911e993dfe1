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

/// A refusal from any stage, keeping that stage's context for the log.
#[derive(Debug, Clone, PartialEq)]
pub enum Denial {
    Bearer(BearerError),
    Token(TokenError),
    Signature(JwsError),
    Claims(ClaimsError),
}

impl Denial {
    pub fn reason(&self) -> Reason {
        match self {
            Denial::Bearer(e) => e.reason(),
            Denial::Token(e) => e.reason(),
            Denial::Signature(e) => e.reason(),
            Denial::Claims(e) => e.reason(),
        }
    }

    pub fn is_unknown_kid(&self) -> bool {
        matches!(self, Denial::Signature(JwsError::UnknownKid { .. }))
    }
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Denial::Bearer(e) => e.fmt(f),
            Denial::Token(e) => e.fmt(f),
            Denial::Signature(e) => e.fmt(f),
            Denial::Claims(e) => e.fmt(f),
        }
    }
}

/// `Authorization` header value → a token shaped like a JWS.
pub fn intake(
    authorization: Option<&str>,
    max_token_bytes: usize,
) -> Result<UntrustedToken<'_>, Denial> {
    let raw = bearer_token(authorization, max_token_bytes)?;
    parse(raw, max_token_bytes)
}

/// The first half of [`intake`]: the token's text, not yet decoded (enough to find it in the
/// verified-token cache).
pub fn bearer_token(authorization: Option<&str>, max_token_bytes: usize) -> Result<&str, Denial> {
    bearer::extract(authorization, max_token_bytes).map_err(Denial::Bearer)
}

/// The second half of [`intake`].
pub fn parse(raw: &str, max_token_bytes: usize) -> Result<UntrustedToken<'_>, Denial> {
    UntrustedToken::parse(raw, max_token_bytes).map_err(Denial::Token)
}

/// Signature, then claims. Nothing about the caller is believed until both pass.
pub async fn verify<V: SignatureVerifier>(
    token: UntrustedToken<'_>,
    keys: &KeySet<V::PreparedKey>,
    verifier: &V,
    rules: &ClaimRules,
    now: UnixTime,
) -> Result<VerifiedIdentity, Denial> {
    let signed = jws::verify_signature(token, SigningAlgorithm::Rs256, keys, verifier)
        .await
        .map_err(Denial::Signature)?;
    claims::validate(signed, rules, now).map_err(Denial::Claims)
}
