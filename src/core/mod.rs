//! The platform-free core: everything that decides, nothing that does I/O.

pub mod answer;
pub mod assertion;
pub mod b64;
pub mod bearer;
pub mod claims;
pub mod config;
pub mod crypto;
pub mod forward;
pub mod gate;
pub mod guid;
pub mod identity;
pub mod issuer;
pub mod json;
pub mod jwks;
pub mod jws;
pub mod keyset;
pub mod keystore;
pub mod metadata;
pub mod policy;
pub mod reason;
pub mod refresh;
pub mod revocation;
pub mod roca;
pub mod time;
pub mod token;
pub mod urls;
