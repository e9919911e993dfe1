//! The attack corpus's deployment (scripts/gen-corpus.mjs): one tenant, its audiences, a fixed
//! clock, and the test keys published as that tenant publishes them. Shared by
//! tests/attack_corpus.rs, tests/properties.rs and the fuzz targets (fuzz/src/lib.rs, through
//! `#[path]`), so all three check one and the same deployment.

// Each test crate that includes this uses only part of it.
#![allow(dead_code)]

use entra_gate_core::UnixTime;
use entra_gate_core::{binding, from_bindings, GateConfig};
use entra_gate_core::{RustVerifier, SignatureVerifier};
use entra_gate_core::{StoredKeySet, StoredSource, StoredVersion};
use mock_tenant::SigningKey;
use serde_json::json;
use std::collections::HashMap;

/// A `GATE_SECRET` for tests only (32 bytes, base64), never a deployment's.
pub const TEST_SECRET: &str = "dGVzdC1vbmx5LWdhdGUtc2VjcmV0LTMyLWJ5dGVzISE=";

pub const TID: &str = "3f1a2b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b";
pub const OTHER_TID: &str = "8b7c6d5e-4f3a-4b2c-9d1e-0f1a2b3c4d5e";
pub const API_URI: &str = "api://contoso-api";
pub const API_CLIENT_ID: &str = "c0ffee00-1234-4abc-8def-0123456789ab";
pub const AUDIENCES: [&str; 2] = [API_URI, API_CLIENT_ID];
/// Any instant between the corpus's iat/nbf (1700000000) and its "future" (2050000000).
pub const NOW_SECONDS: i64 = 1_800_000_000;
pub const SKEW: i64 = 60;
/// test-key-1 and -2 for this tenant; test-key-2's material again under another tenant's issuer.
pub const KIDS: [&str; 3] = ["test-key-1", "test-key-2", "foreign-tenant-key"];

pub type Prepared = <RustVerifier as SignatureVerifier>::PreparedKey;

const KEY_1: &str = include_str!("../data/keys/test-key-1.pem");
const KEY_2: &str = include_str!("../data/keys/test-key-2.pem");

pub fn v2_issuer(tid: &str) -> String {
    format!("https://login.microsoftonline.com/{tid}/v2.0")
}

pub fn v1_issuer(tid: &str) -> String {
    format!("https://sts.windows.net/{tid}/")
}

/// The signing keys, in the order of [`KIDS`].
pub fn signing_keys() -> Vec<SigningKey> {
    [(KIDS[0], KEY_1), (KIDS[1], KEY_2), (KIDS[2], KEY_2)]
        .into_iter()
        .map(|(kid, pem)| SigningKey::from_pem(kid, pem).expect("test key"))
        .collect()
}

/// The configuration the e2e run gives the worker (authority and origin do not matter here).
pub fn config() -> GateConfig {
    let audiences = AUDIENCES.join(",");
    let bindings: HashMap<&str, &str> = HashMap::from([
        (binding::TENANT_ID, TID),
        (binding::AUDIENCES, audiences.as_str()),
        (binding::ORIGIN_URL, "http://127.0.0.1:9"),
        (binding::AUTHORITY, "http://127.0.0.1:9"),
        (binding::SECRET, TEST_SECRET),
    ]);
    from_bindings(|name| bindings.get(name).map(|v| v.to_string())).expect("valid config")
}

/// The key record the worker would store after fetching the tenant's v1 and v2 documents (as
/// the e2e run's JWKS server serves them), for the worker's own build path.
pub fn key_record(keys: &[SigningKey]) -> StoredKeySet {
    let [k1, k2, foreign] = [&keys[0], &keys[1], &keys[2]];
    let base = "http://127.0.0.1:9";
    let v1 = json!({ "keys": [k1.public_jwk(None), k2.public_jwk(None)] });
    let v2 = json!({ "keys": [
        k1.public_jwk(Some(&v2_issuer(TID))),
        k2.public_jwk(Some(&v2_issuer(TID))),
        foreign.public_jwk(Some(&v2_issuer(OTHER_TID))),
    ] });
    let sources = vec![
        StoredSource {
            version: StoredVersion::V1,
            metadata_url: format!("{base}/{TID}/.well-known/openid-configuration"),
            jwks_uri: format!("{base}/{TID}/discovery/keys"),
            issuer: v1_issuer(TID),
            jwks: v1.to_string(),
        },
        StoredSource {
            version: StoredVersion::V2,
            metadata_url: format!("{base}/{TID}/v2.0/.well-known/openid-configuration"),
            jwks_uri: format!("{base}/{TID}/discovery/v2.0/keys"),
            issuer: v2_issuer(TID),
            jwks: v2.to_string(),
        },
    ];
    StoredKeySet::new(
        &format!("127.0.0.1:9/{TID}"),
        sources,
        UnixTime(NOW_SECONDS),
    )
}
