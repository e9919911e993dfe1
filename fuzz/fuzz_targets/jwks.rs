//! Key intake on arbitrary documents: `jwks::parse_jwks` (and `vet_jwk`, metadata and KV record
//! parsing on the same bytes). Never panics; every key taken obeys the intake rules; merging a
//! set with itself changes nothing.
#![no_main]

use entra_gate_core::internal::{vet_jwk, MAX_MODULUS_BITS, MIN_MODULUS_BITS};
use entra_gate_core::parse_metadata;
use entra_gate_core::sources;
use entra_gate_core::Endpoint;
use entra_gate_core::GateSecret;
use entra_gate_core::KeySet;
use entra_gate_core::RustHmac;
use entra_gate_core::TenantSelector;
use entra_gate_core::MAX_KID_BYTES;
use entra_gate_core::{parse_jwks, JwksLimits};
use entra_gate_core::{RecordError, StoredKeySet};
use entra_gate_fuzz::{config, NOW, TEST_SECRET, TID};
use libfuzzer_sys::fuzz_target;
use std::collections::HashSet;

fuzz_target!(|data: &[u8]| {
    if let Ok(intake) = parse_jwks(data, &JwksLimits::default()) {
        let mut kids = HashSet::new();
        for key in &intake.keys {
            assert!(
                kids.insert(key.kid.clone()),
                "kid {:?} taken twice",
                key.kid
            );
            assert!(!key.kid.is_empty() && key.kid.len() <= MAX_KID_BYTES);
            assert!((MIN_MODULUS_BITS..=MAX_MODULUS_BITS).contains(&key.modulus_bits()));
            assert_ne!(key.modulus[0], 0, "non-minimal modulus");
            assert_eq!(key.modulus[key.modulus.len() - 1] % 2, 1, "even modulus");
            assert_eq!(key.signature_len(), key.modulus.len());
        }
        let count = intake.keys.len();
        let merged = KeySet::<()>::merge(vec![intake.clone(), intake]);
        assert!(merged.conflicts.is_empty(), "a set conflicts with itself");
        assert_eq!(merged.keys.len(), count);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = vet_jwk(text);
    }
    let authority = Endpoint::parse("https://login.microsoftonline.com").expect("authority");
    for tenant in [
        TenantSelector::Tenant(TID.into()),
        TenantSelector::Organizations,
    ] {
        if let Ok(metadata) = parse_metadata(data, &authority, &tenant) {
            assert_eq!(metadata.jwks_uri.origin(), authority.origin());
            let reparsed = Endpoint::parse(metadata.jwks_uri.as_str());
            assert_eq!(
                reparsed.as_ref(),
                Ok(&metadata.jwks_uri),
                "normal form not stable"
            );
        }
    }
    key_record(data);
});

/// A KV record: the bytes as stored (never believed without the seal), and, when they are a
/// record's JSON, sealed with the secret as a KV writer holding it could, to reach every check
/// behind the seal. A record that is believed is this set's, with ordered timestamps.
fn key_record(data: &[u8]) {
    let config = config();
    let source = &sources(&config)[0];
    let secret = GateSecret::parse(TEST_SECRET).expect("test secret");
    let hmac = RustHmac::new(secret.as_bytes());
    let open = |text: &[u8]| {
        pollster::block_on(StoredKeySet::open(text, source, &config, &hmac, NOW, None))
    };
    if let Ok(record) = open(data) {
        panic!("unsealed bytes believed: {record:?}");
    }
    let Ok(record) = StoredKeySet::from_json(data) else {
        return;
    };
    let sealed = pollster::block_on(record.seal(&source.kv_key(), &hmac)).expect("sealed");
    match open(sealed.as_bytes()) {
        Ok(opened) => {
            assert_eq!(opened, record);
            assert_eq!(opened.set, source.id);
            assert!(opened.fetched_at <= opened.checked_at);
            assert_eq!(opened.sources.len(), source.metadata.len());
        }
        Err(RecordError::Unsealed | RecordError::BadTag) => {
            panic!("a record sealed with the secret was refused for its seal")
        }
        Err(_) => {}
    }
}
