//! A stand-in for a Microsoft Entra ID tenant, for local development and tests only.
//!
//! It holds RSA signing keys, publishes OpenID metadata and JWKS shaped like Entra's (v1 and v2),
//! and mints access tokens, v1 or v2, delegated or app-only, with any claim overridden. It is a
//! native tool: nothing here is ever part of the deployed worker.

pub mod keys;
pub mod mint;
pub mod server;
pub mod state;

pub use keys::SigningKey;
pub use mint::{compact, standard_claims, Kind, MintRequest, Version};
pub use state::TenantState;
