//! Wycheproof RSASSA-PKCS1-v1_5 / SHA-256 vectors, run through the gateway's own path (JWK
//! intake, key preparation, verification) rather than against the crypto crate directly, so a
//! key the intake would refuse, or a signature the JWS stage would refuse, is judged as the
//! gateway judges it.

// Native only: the file system, pollster and the mock tenant are not there in the wasm test run
// (tests/webcrypto_wycheproof.rs covers the vectors under V8).
#![cfg(not(target_arch = "wasm32"))]

use entra_gate_core::internal::vet_jwk;
use entra_gate_core::KeySkip;
use entra_gate_core::{RustVerifier, SignatureVerifier};
use serde_json::Value;
use std::path::Path;

/// Kept in the repository so the tests never depend on anything outside it.
fn load(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/wycheproof")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Small enough that a dependency is not worth it; panics because the data is ours.
fn hex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "odd hex length");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex digit"))
        .collect()
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    valid: usize,
    invalid: usize,
    acceptable: usize,
    /// Groups whose key the intake refused (e = 3); their cases never reach a verifier.
    refused_keys: usize,
    refused_key_cases: usize,
}

/// Every case of one file; returns the counts and the tcIds whose outcome was not the expected one.
fn run(file: &str) -> (Tally, Vec<String>) {
    let doc = load(file);
    let mut tally = Tally::default();
    let mut wrong = Vec::new();
    let mut seen = 0;
    for group in doc["testGroups"].as_array().expect("testGroups") {
        let tests = group["tests"].as_array().expect("tests");
        seen += tests.len();
        let key = match vet_jwk(&group["keyJwk"].to_string()) {
            Ok(key) => key,
            Err(why) => {
                // The only keys in these files the intake must refuse are the e = 3 ones.
                assert_eq!(why, KeySkip::Exponent, "{file}: {}", group["keyJwk"]);
                assert_ne!(
                    group["keyJwk"]["e"], "AQAB",
                    "{file}: refused an e=65537 key"
                );
                assert!(tests.iter().all(|t| t["flags"]
                    .as_array()
                    .is_some_and(|flags| flags.iter().any(|f| f == "SmallPublicKey"))));
                tally.refused_keys += 1;
                tally.refused_key_cases += tests.len();
                continue;
            }
        };
        assert_eq!(group["keyJwk"]["e"], "AQAB", "{file}: accepted e != 65537");
        let verifier = RustVerifier;
        let prepared = pollster::block_on(verifier.prepare(&key)).expect("prepare a vetted key");
        for case in tests {
            let id = case["tcId"].as_u64().expect("tcId");
            let msg = hex(case["msg"].as_str().expect("msg"));
            let sig = hex(case["sig"].as_str().expect("sig"));
            // jws::verify_signature refuses a wrong-length signature before any crypto runs.
            let accepted = sig.len() == key.signature_len()
                && pollster::block_on(verifier.verify_rs256(&prepared, &msg, &sig))
                    .expect("verifier fault");
            let result = case["result"].as_str().expect("result");
            let expected = match result {
                "valid" => {
                    tally.valid += 1;
                    true
                }
                "invalid" => {
                    tally.invalid += 1;
                    false
                }
                // Wycheproof leaves these (MissingNull: a DigestInfo without the NULL parameter)
                // to the implementation. The gateway rejects them: Entra never produces such a
                // signature, and accepting a second encoding of the same signature buys nothing.
                "acceptable" => {
                    tally.acceptable += 1;
                    false
                }
                other => panic!("{file} tcId {id}: unknown result {other:?}"),
            };
            if accepted != expected {
                wrong.push(format!(
                    "{file} tcId {id} ({result}, {}): accepted={accepted}",
                    case["comment"]
                ));
            }
        }
    }
    assert_eq!(
        Some(seen as u64),
        doc["numberOfTests"].as_u64(),
        "{file}: every case was visited"
    );
    eprintln!("{file}: {tally:?}");
    (tally, wrong)
}

fn check(file: &str, expected: Tally) {
    let (tally, wrong) = run(file);
    assert!(
        wrong.is_empty(),
        "unexpected outcomes:\n{}",
        wrong.join("\n")
    );
    assert_eq!(tally, expected, "{file}");
}

#[test]
fn rsa_2048_sha256() {
    check(
        "rsa_signature_2048_sha256_test.json",
        Tally {
            valid: 7,
            invalid: 249,
            acceptable: 1,
            refused_keys: 2,
            refused_key_cases: 2,
        },
    );
}

#[test]
fn rsa_3072_sha256() {
    check(
        "rsa_signature_3072_sha256_test.json",
        Tally {
            valid: 7,
            invalid: 250,
            acceptable: 1,
            refused_keys: 1,
            refused_key_cases: 1,
        },
    );
}

#[test]
fn rsa_4096_sha256() {
    check(
        "rsa_signature_4096_sha256_test.json",
        Tally {
            valid: 7,
            invalid: 250,
            acceptable: 1,
            refused_keys: 0,
            refused_key_cases: 0,
        },
    );
}
