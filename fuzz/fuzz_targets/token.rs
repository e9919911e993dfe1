//! The whole verification walk on an arbitrary `Authorization` header value: `gate::intake`
//! then `gate::verify` with the fixed key set and clock. Never panics; the same input always
//! gets the same decision; an accepted token is one this deployment may accept, and its
//! signature verifies under an independent RS256 implementation (the `rsa` crate).
#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use entra_gate_core::Reason;
use entra_gate_core::RustVerifier;
use entra_gate_core::VerifiedIdentity;
use entra_gate_core::{intake, verify};
use entra_gate_fuzz::{assert_acceptable, fixture, Fixture, NOW};
use libfuzzer_sys::fuzz_target;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::sha2::Sha256;
use rsa::signature::Verifier as _;

thread_local! {
    static FIXTURE: Fixture = fixture();
}

fn decide(fx: &Fixture, header: &str) -> Result<VerifiedIdentity, Reason> {
    intake(Some(header), fx.config.max_token_bytes)
        .and_then(|token| {
            pollster::block_on(verify(token, &fx.keys, &RustVerifier, &fx.rules, NOW))
        })
        .map_err(|denial| denial.reason())
}

fn independently_verified(fx: &Fixture, header: &str, kid: &str) -> bool {
    let token = header.trim_matches([' ', '\t']);
    let token = token[token.find(' ').expect("scheme")..].trim_start_matches(' ');
    let (input, signature) = token.rsplit_once('.').expect("three segments");
    let Some(key) = fx.signing_keys.iter().find(|k| k.kid == kid) else {
        return false;
    };
    let Ok(signature) = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| ())
        .and_then(|s| Signature::try_from(s.as_slice()).map_err(|_| ()))
    else {
        return false;
    };
    VerifyingKey::<Sha256>::new(key.public_key())
        .verify(input.as_bytes(), &signature)
        .is_ok()
}

fuzz_target!(|data: &[u8]| {
    let header = String::from_utf8_lossy(data);
    FIXTURE.with(|fx| {
        let first = decide(fx, &header);
        let second = decide(fx, &header);
        assert_eq!(first, second, "two decisions for one request");
        if let Ok(id) = &first {
            assert_acceptable(id);
            assert!(
                independently_verified(fx, &header, id.kid()),
                "accepted a token whose signature the rsa crate refuses"
            );
        }
    });
});
