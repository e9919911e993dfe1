//! Claims validation on arbitrary payload bytes, as if their signature had verified under a key
//! published with one of several issuers (none, ours, the `{tenantid}` template, another
//! tenant's). Never panics; deterministic; whatever it accepts is acceptable here.
#![no_main]

use entra_gate_core::internal::validate_claims as validate;
use entra_gate_core::SignedPayload;
use entra_gate_fuzz::{assert_acceptable, fixture, v2_issuer, Fixture, NOW, OTHER_TID, TID};
use libfuzzer_sys::fuzz_target;

thread_local! {
    static FIXTURE: Fixture = fixture();
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, payload)) = data.split_first() else {
        return;
    };
    let key_issuer = match selector % 4 {
        0 => None,
        1 => Some(v2_issuer(TID)),
        2 => Some(v2_issuer("{tenantid}")),
        _ => Some(v2_issuer(OTHER_TID)),
    };
    let signed =
        SignedPayload::assume_verified("test-key-1".into(), key_issuer.clone(), payload.to_vec());
    FIXTURE.with(|fx| {
        let first = validate(signed.clone(), &fx.rules, NOW).map_err(|e| e.reason());
        let second = validate(signed, &fx.rules, NOW).map_err(|e| e.reason());
        assert_eq!(first, second, "two decisions for one payload");
        if let Ok(id) = &first {
            assert_acceptable(id);
            assert_ne!(
                key_issuer,
                Some(v2_issuer(OTHER_TID)),
                "another tenant's key vouched"
            );
        }
    });
});
