//! # entra-gate
//!
//! A Cloudflare Worker that verifies Microsoft Entra ID access tokens before a request reaches
//! the origin API, and forwards allowed requests with identity headers the origin can trust.
//!
//! ## Shape of the system
//!
//! ```text
//!  request ─► bearer::extract ─► UntrustedToken::parse ─► jws::verify_signature ─► claims::validate ─► forward
//!                 (RFC 6750)        (size, segments,         (alg from config, kid,     (exp/nbf/iat, aud,
//!                                    strict base64url,        vetted key, signature)     iss/tid/key issuer,
//!                                    header rules)                                       version, token kind)
//! ```
//!
//! * [`core`] is platform-free and compiled and tested natively. Time, keys and the signature
//!   verifier come in from outside: [`core::time::UnixTime`] is a parameter, key sets are values
//!   built from JWKS documents, and signatures are checked through the
//!   [`core::crypto::SignatureVerifier`] trait (pure-Rust natively, WebCrypto in the worker).
//! * `edge` (wasm32 only) is the Workers glue: event handlers, bindings, outbound fetch, WebCrypto
//!   and the proxy. It translates between HTTP and the core; it makes no decisions.
//!
//! Trust shows in the types: an [`core::token::UntrustedToken`] becomes a
//! [`core::jws::SignedPayload`] only through [`core::jws::verify_signature`], and that becomes a
//! [`core::identity::VerifiedIdentity`] only through [`core::claims::validate`].

pub mod core;

#[cfg(target_arch = "wasm32")]
pub mod edge;
