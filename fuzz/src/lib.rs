//! Fixtures shared by the fuzz targets: the attack corpus's deployment (one tenant, its
//! audiences, the test keys published as that tenant publishes them) and a fixed clock, so every
//! run is reproducible and a crash input replays to the same decision.

use entra_gate::core::claims::ClaimRules;
use entra_gate::core::config::{binding, from_bindings, GateConfig};
use entra_gate::core::crypto::{RustVerifier, SignatureVerifier};
use entra_gate::core::identity::{TokenKind, TokenVersion, VerifiedIdentity};
use entra_gate::core::keyset::KeySet;
use entra_gate::core::keystore::{StoredKeySet, StoredSource, StoredVersion};
use entra_gate::core::time::UnixTime;
use mock_tenant::SigningKey;
use serde_json::json;
use std::collections::HashMap;

pub const TID: &str = "3f1a2b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b";
pub const OTHER_TID: &str = "8b7c6d5e-4f3a-4b2c-9d1e-0f1a2b3c4d5e";
pub const AUDIENCES: [&str; 2] = ["api://contoso-api", "c0ffee00-1234-4abc-8def-0123456789ab"];
pub const NOW: UnixTime = UnixTime(1_800_000_000);
pub const SKEW: i64 = 60;

pub type Prepared = <RustVerifier as SignatureVerifier>::PreparedKey;

const KEY_1: &str = include_str!("../../tests/data/keys/test-key-1.pem");
const KEY_2: &str = include_str!("../../tests/data/keys/test-key-2.pem");

pub fn v2_issuer(tid: &str) -> String {
    format!("https://login.microsoftonline.com/{tid}/v2.0")
}

pub fn v1_issuer(tid: &str) -> String {
    format!("https://sts.windows.net/{tid}/")
}

/// The signing keys by kid (for independent checks of accepted tokens).
pub fn signing_keys() -> Vec<SigningKey> {
    vec![
        SigningKey::from_pem("test-key-1", KEY_1).expect("test key 1"),
        SigningKey::from_pem("test-key-2", KEY_2).expect("test key 2"),
        SigningKey::from_pem("foreign-tenant-key", KEY_2).expect("test key 2"),
    ]
}

pub fn config() -> GateConfig {
    let audiences = AUDIENCES.join(",");
    let bindings: HashMap<&str, &str> = HashMap::from([
        (binding::TENANT_ID, TID),
        (binding::AUDIENCES, audiences.as_str()),
        (binding::ORIGIN_URL, "http://127.0.0.1:9"),
        (binding::AUTHORITY, "http://127.0.0.1:9"),
    ]);
    from_bindings(|name| bindings.get(name).map(|v| v.to_string())).expect("valid config")
}

pub struct Fixture {
    pub config: GateConfig,
    pub keys: KeySet<Prepared>,
    pub rules: ClaimRules,
    pub signing_keys: Vec<SigningKey>,
}

/// Built through the worker's own path (a stored key record → vetted keys and claim rules).
pub fn fixture() -> Fixture {
    let signing_keys = signing_keys();
    let [k1, k2, foreign] = [&signing_keys[0], &signing_keys[1], &signing_keys[2]];
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
    let config = config();
    let built = StoredKeySet::new(&format!("127.0.0.1:9/{TID}"), sources, NOW)
        .build::<Prepared>(&config)
        .expect("key set");
    Fixture {
        config,
        keys: built.keys,
        rules: built.rules,
        signing_keys,
    }
}

/// What must hold for any identity the gateway accepts in this deployment.
pub fn assert_acceptable(id: &VerifiedIdentity) {
    use entra_gate::core::guid::is_guid;
    assert_eq!(id.tenant_id, TID, "accepted another tenant");
    assert!(is_guid(&id.object_id), "oid {:?}", id.object_id);
    assert!(!id.subject.is_empty());
    assert!(
        AUDIENCES.contains(&id.audience.as_str()),
        "aud {:?}",
        id.audience
    );
    let expected_issuer = match id.version {
        TokenVersion::V1 => v1_issuer(TID),
        TokenVersion::V2 => v2_issuer(TID),
    };
    assert_eq!(id.issuer, expected_issuer);
    assert!(
        id.expires_at >= NOW.seconds() - SKEW,
        "expired token accepted: exp {}",
        id.expires_at
    );
    assert!(
        id.kid == "test-key-1" || id.kid == "test-key-2",
        "kid {:?}",
        id.kid
    );
    if id.kind == TokenKind::Delegated {
        assert!(!id.client_id.is_empty());
    }
}

/// A caller for the policy and header targets.
pub fn sample_identity(subject: &str) -> VerifiedIdentity {
    VerifiedIdentity {
        tenant_id: TID.into(),
        object_id: "5a1d5c3e-6a4b-4f1e-8a2d-0c9e8f7b6a51".into(),
        subject: subject.into(),
        client_id: "0f6e1f5b-0c6f-4a55-9d1e-5c1f3f2f0a11".into(),
        client_auth: Some("1".into()),
        kind: TokenKind::Delegated,
        version: TokenVersion::V2,
        audience: AUDIENCES[1].into(),
        issuer: v2_issuer(TID),
        kid: "test-key-1".into(),
        scopes: vec!["items.read".into(), subject.into()],
        roles: vec!["Admin".into()],
        acrs: vec!["c1".into()],
        amr: vec!["pwd".into(), "mfa".into()],
        auth_time: Some(NOW.seconds() - 100),
        xms_cc: vec!["cp1".into()],
        token_id: Some(subject.into()),
        ip_address: Some("203.0.113.7".into()),
        expires_at: NOW.seconds() + 3600,
        extra_claims: Vec::new(),
    }
}
