//! # entra-gate — the Worker
//!
//! A Cloudflare Worker that verifies Microsoft Entra ID access tokens before a request reaches
//! the origin API, and forwards allowed requests with identity headers the origin can trust.
//!
//! This crate is only the edge: the fetch and scheduled handlers, KV, outbound fetch, WebCrypto
//! and the proxy (`edge`, wasm32 only). It translates between the Workers runtime and
//! [`entra_gate_core`], the platform-free crate that makes every decision and is compiled and
//! tested natively. Nothing here decides what a header means, whether a token is good, when keys
//! are refreshed, which route applies or what a refusal says.

#[cfg(target_arch = "wasm32")]
pub mod edge;
pub mod runtime;
