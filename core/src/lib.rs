//! # entra-gate-core
//!
//! Everything entra-gate decides, and nothing it does: this crate verifies Microsoft Entra ID
//! access tokens, keeps key sets, applies the route policy and decides each request, without
//! ever reading a clock, opening a socket or calling into JavaScript. The Worker (the
//! `entra-gate` crate) performs the I/O this crate asks for and translates its answers into
//! Workers objects; it makes no decision of its own. Its dependency tree holds no wasm-bindgen,
//! js-sys or web-sys (`scripts/test.sh` checks), and it is built and tested natively.
//!
//! # Design
//!
//! ## The trust pipeline
//!
//! ```text
//!  request URL ─► RequestTarget::from_url ─► CanonicalPath   (one path: matched and forwarded)
//!  Authorization ─► intake ─► UntrustedToken ─► verify_signature ─► SignedPayload
//!                  (RFC 6750, size cap,         (alg from config, kid,     │
//!                   strict base64url,            vetted key, the crypto    │
//!                   JOSE header rules)           provider)                 ▼
//!                                                             claims::validate ─► VerifiedIdentity
//!                                                             (times, version, tenant, issuer,
//!                                                              key issuer, audience, kind)
//!  VerifiedIdentity + RequestFacts ─► revocation list ─► Policy::authorize ─► Outcome::Forward
//! ```
//!
//! Trust shows in the types: a token becomes a [`SignedPayload`] only through the signature
//! stage, and that becomes a [`VerifiedIdentity`] only through claims validation. Nothing read
//! from a request or from KV is believed beyond what was verified: a KV key record is a cache of
//! what Entra said, believed only under the `GATE_SECRET` seal and when it says what this
//! configuration would fetch ([`StoredKeySet::open`]).
//!
//! ## The walk
//!
//! [`Walk`] is the whole decision for one request as a sans-I/O state machine, the way rustls
//! drives a handshake: it answers [`Step::Done`] with an [`Outcome`], or the I/O it needs next
//! (the keys of a set, a refresh for an unknown `kid`, the revocation list). The edge performs
//! that I/O and feeds the result back, so every path through a request runs natively with fakes
//! (`tests/walk.rs`).
//!
//! ## Where time, keys and crypto come in
//!
//! - Time is a parameter ([`UnixTime`]), never read: the edge passes `Date.now()`.
//! - Keys are values built from Entra's documents ([`StoredKeySet::build`] → [`KeySet`]); when
//!   to read memory, KV or Entra is the pure [`CachePolicy`].
//! - Crypto is a provider, as rustls takes its `CryptoProvider`: [`SignatureVerifier`] (RS256)
//!   and [`RecordAuthenticator`] (HMAC-SHA-256), each with a pure-Rust implementation here
//!   ([`RustVerifier`], [`RustHmac`]) and a WebCrypto one in the Worker.
//!
//! ## Errors and reasons
//!
//! Each stage has its own error enum with context for the log (`BearerError`, `TokenError`,
//! `JwsError`, `ClaimsError`, [`RecordError`], [`PathError`], …), each implementing
//! `std::error::Error`. Every refusal maps to exactly one [`Reason`], whose code never changes
//! once published. Reasons are declared once, in one table (`reason.rs`), with their code,
//! stage, status, challenge and description; every lookup is generated from it and matched
//! exhaustively, so a new reason cannot exist without its answer.
//!
//! ## Bounds
//!
//! Tokens are refused above `GATE_MAX_TOKEN_BYTES` before any parsing; key documents above
//! 256 KiB and 64 keys, metadata above 64 KiB, KV records above 1 MiB; policies above 256 routes,
//! 4,096 condition nodes, 1,024 entries per list and 256 KiB; request paths above 8 KiB. Route
//! matching and condition evaluation are linear in the rules, without regex or backtracking.
//!
//! # Glossary
//!
//! - **Request facts** ([`RequestFacts`]): what is known about a request apart from its token —
//!   method, canonical path, client IP, country, ASN, time. An unknown fact never satisfies a
//!   condition.
//! - **Refusal** ([`Refusal`]): the gateway refuses a request — a [`Reason`], challenge
//!   parameters and a detail for the log.
//! - **Verdict** ([`Verdict`]): what the route policy says of a verified request — an enforced
//!   refusal, if any, and the report-only findings.
//! - **Answer** ([`Answer`]): the HTTP answer a refusal becomes — status, `WWW-Authenticate`,
//!   `Retry-After` and an RFC 9457 body.
//! - **Outcome** ([`Outcome`]): how a request ends — forward, answer a preflight, publish the
//!   assertion keys, or refuse.
//! - **Key set** ([`KeySet`]): vetted signing keys of one tenant (or one multi-tenant
//!   authority), built from a **key record** ([`StoredKeySet`]) as stored in KV.
//! - **Verify error** (`VerifyError`): why the verification stages would not accept a token.

#![forbid(unsafe_code)]

// The policy table tests (`policy/cases.rs`) are written against the public API, as its users
// see it; inside the crate that API is reached under the same name.
#[cfg(test)]
extern crate self as entra_gate_core;

mod answer;
mod assertion;
mod b64;
mod bearer;
mod canonical_path;
mod claims;
mod config;
mod crypto;
mod endpoint;
mod flight;
mod forward;
mod gate;
mod guid;
mod identity;
mod issuer;
mod json;
mod jwks;
mod jws;
mod key_record;
mod keyset;
mod keystore;
mod logging;
mod metadata;
mod origins;
mod policy;
mod query_token;
mod quoted;
mod reason;
mod refresh;
mod replay;
mod request_target;
mod resource_metadata;
mod revocation;
mod roca;
mod secret;
mod time;
mod token;
mod token_cache;
mod walk;

pub use answer::{refuse, refuse_with, Answer, Challenger};
pub use assertion::{AssertionClaims, AssertionKey, AssertionKeyError, JWKS_PATH};
pub use canonical_path::{CanonicalPath, PathError, MAX_PATH_BYTES};
pub use claims::{ClaimRules, ClaimsError};
pub use config::{
    binding, from_bindings, from_bindings_and_policy_file, kv_binding_problems,
    rate_limit_binding_problems, service_binding_problems, ConfigProblem, GateConfig, KvBinding,
    PolicyFile, PolicySource, TenantSelector, DEFAULT_AUTHORITY, DEFAULT_CLOCK_SKEW_SECONDS,
    DEFAULT_MAX_TOKEN_BYTES, DEFAULT_REALM,
};
#[cfg(not(target_arch = "wasm32"))]
pub use crypto::RustHmac;
#[cfg(any(not(target_arch = "wasm32"), feature = "rust-verifier"))]
pub use crypto::RustVerifier;
pub use crypto::{CryptoFault, RecordAuthenticator, SignatureVerifier};
pub use endpoint::{Endpoint, EndpointError};
pub use flight::{Flight, Lead};
pub use forward::{
    header_safe, is_stripped, list_value, origin_url, HeaderSettingError, IdentityHeaders,
    DEFAULT_PREFIX, FIXED as FIXED_IDENTITY_HEADERS, OVERRIDE_HEADERS,
};
pub use gate::{intake, verify, VerifyError};
#[cfg(any(test, fuzzing))]
#[doc(hidden)]
pub use identity::IdentityParts;
pub use identity::{TokenKind, TokenVersion, VerifiedIdentity};
pub use issuer::{IssuerRules, IssuerTemplate};
// The edge writes its log lines with the core's JSON writer.
pub use json::write::string as write_json_string;
pub use json::write::ObjectWriter;
pub use jwks::{parse_jwks, JwksError, JwksLimits, KeySkip, VettedKey};
pub use jws::{SignedPayload, SigningAlgorithm};
pub use key_record::{
    content_hash, seal_json, BuildError, Built, HeldCopy, RecordError, StoredKeySet, StoredSource,
    StoredVersion, MAX_RECORD_BYTES, RECORD_CLOCK_SKEW_SECONDS, RECORD_FORMAT,
};
pub use keyset::KeySet;
pub use keystore::{set_for, sources, KeySetSource, KV_KEY_PREFIX};
pub use logging::{AllowedLines, LogSettings};
pub use metadata::{parse_metadata, MetadataError, MetadataVersion, MAX_METADATA_BYTES};
pub use origins::{Origin, Origins};
pub use policy::{
    ChallengeContext, ClaimMatch, Condition, ConditionKind, Cors, Deployment, Need, PathPattern,
    PatternError, Policy, PolicyProblem, Preflight, ProblemKind, Refusal, RequestFacts,
    Requirements, Route, RouteChoice, StepUp, TimeWindow, Unmet, Verdict, MAX_CONDITION_NODES,
    MAX_LIST_ENTRIES, MAX_POLICY_BYTES, MAX_ROUTES,
};
pub use query_token::QueryCredentials;
pub use reason::{Challenge, Reason, Stage};
pub use refresh::{Action, CachePolicy, Held, KvFound, UnknownKids};
pub use replay::{ReplayContext, MAX_REPLAY_SECONDS};
pub use request_target::{RequestTarget, TargetError};
pub use resource_metadata::{metadata_url, ResourceMetadata, WELL_KNOWN_PATH};
pub use revocation::{
    app_key, token_key, user_key, ReadState, RevocationList, RevocationPolicy, RevocationStep,
};
pub use secret::{GateSecret, SecretError, MAX_SECRET_BYTES, MIN_SECRET_BYTES};
pub use time::UnixTime;
pub use token::{TokenError, UntrustedToken, MAX_KID_BYTES};
pub use token_cache::TokenCache;
pub use walk::{KeysView, Outcome, Step, Trace, Walk};

/// The stages' own entry points and helpers, for the project's tests, fuzz targets and
/// benchmarks only: not part of the API, and not documented as one (as rustls's `internal`).
#[doc(hidden)]
pub mod internal {
    pub use crate::b64::{decode as b64_decode, encode as b64_encode};
    pub use crate::bearer::extract as extract_bearer;
    pub use crate::claims::validate as validate_claims;
    pub use crate::gate::{bearer_token, parse as parse_token};
    pub use crate::guid::is_guid;
    pub use crate::issuer::tenant_segment;
    pub use crate::jwks::{vet_jwk, MAX_MODULUS_BITS, MIN_MODULUS_BITS};
    pub use crate::jws::verify_signature;
}
