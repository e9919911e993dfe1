//! Fixtures shared by the fuzz targets: the attack corpus's deployment (one tenant, its
//! audiences, the test keys published as that tenant publishes them) and a fixed clock, so every
//! run is reproducible and a crash input replays to the same decision.

use entra_gate_core::ClaimRules;
use entra_gate_core::GateConfig;
use entra_gate_core::KeySet;
use entra_gate_core::UnixTime;
use entra_gate_core::{IdentityParts, TokenKind, TokenVersion, VerifiedIdentity};
use mock_tenant::SigningKey;

#[path = "../../tests/support/corpus_tenant.rs"]
mod corpus_tenant;
pub use corpus_tenant::*;

pub const NOW: UnixTime = UnixTime(NOW_SECONDS);

pub struct Fixture {
    pub config: GateConfig,
    pub keys: KeySet<Prepared>,
    pub rules: ClaimRules,
    pub signing_keys: Vec<SigningKey>,
}

/// Built through the worker's own path (a stored key record → vetted keys and claim rules).
pub fn fixture() -> Fixture {
    let signing_keys = signing_keys();
    let config = config();
    let built = key_record(&signing_keys)
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
    use entra_gate_core::internal::is_guid;
    assert_eq!(id.tenant_id(), TID, "accepted another tenant");
    assert!(is_guid(&id.object_id()), "oid {:?}", id.object_id());
    assert!(!id.subject().is_empty());
    assert!(
        AUDIENCES.contains(&id.audience()),
        "aud {:?}",
        id.audience()
    );
    let expected_issuer = match id.version() {
        TokenVersion::V1 => v1_issuer(TID),
        TokenVersion::V2 => v2_issuer(TID),
    };
    assert_eq!(id.issuer(), expected_issuer);
    assert!(
        id.expires_at() >= NOW.seconds() - SKEW,
        "expired token accepted: exp {}",
        id.expires_at()
    );
    assert!(
        id.kid() == "test-key-1" || id.kid() == "test-key-2",
        "kid {:?}",
        id.kid()
    );
    if id.kind() == TokenKind::Delegated {
        assert!(!id.client_id().is_empty());
    }
}

/// A caller for the policy and header targets, holding `extra_claims` for generic matchers and
/// claim headers.
pub fn sample_identity_with(
    subject: &str,
    extra_claims: Vec<(String, Vec<String>)>,
) -> VerifiedIdentity {
    VerifiedIdentity::from_parts(IdentityParts {
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
        groups: vec!["8d9e3b4a-1f2c-4e5d-9a6b-7c8d9e0f1a2b".into()],
        groups_overage: false,
        extra_claims,
    })
}

/// A caller for the policy and header targets.
pub fn sample_identity(subject: &str) -> VerifiedIdentity {
    sample_identity_with(subject, Vec::new())
}
