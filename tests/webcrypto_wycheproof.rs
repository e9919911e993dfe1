//! The worker's WebCrypto verifier and the pure-Rust one must agree on every Wycheproof RS256
//! vector, and both must match the vector's verdict (`acceptable` cases are rejected). Runs in
//! wasm under V8 (`cargo test --target wasm32-unknown-unknown --features rust-verifier`).
#![cfg(target_arch = "wasm32")]

use entra_gate::edge::webcrypto;
use entra_gate_core::internal::vet_jwk;
use entra_gate_core::KeySkip;
use entra_gate_core::{RustVerifier, SignatureVerifier};
use serde_json::Value;
use wasm_bindgen_test::wasm_bindgen_test;

const FILES: [&str; 3] = [
    include_str!("data/wycheproof/rsa_signature_2048_sha256_test.json"),
    include_str!("data/wycheproof/rsa_signature_3072_sha256_test.json"),
    include_str!("data/wycheproof/rsa_signature_4096_sha256_test.json"),
];

fn hex(text: &str) -> Vec<u8> {
    (0..text.len() / 2)
        .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

#[wasm_bindgen_test]
async fn webcrypto_and_rust_agree_on_every_vector() {
    let web = webcrypto::verifier().expect("WebCrypto is available");
    let rust = RustVerifier;
    let (mut checked, mut refused_keys) = (0, 0);
    for file in FILES {
        let vectors: Value = serde_json::from_str(file).expect("json");
        for group in vectors["testGroups"].as_array().expect("groups") {
            let key = match vet_jwk(&group["keyJwk"].to_string()) {
                Ok(key) => key,
                Err(skip) => {
                    assert_eq!(skip, KeySkip::Exponent, "only e != 65537 keys are refused");
                    refused_keys += 1;
                    continue;
                }
            };
            let web_key = web.prepare(&key).await.expect("importKey");
            let rust_key = rust.prepare(&key).await.expect("rsa key");
            for case in group["tests"].as_array().expect("tests") {
                let msg = hex(case["msg"].as_str().expect("msg"));
                let sig = hex(case["sig"].as_str().expect("sig"));
                // The signature stage refuses wrong-length signatures before any verifier runs.
                let length_ok = sig.len() == key.signature_len();
                let by_web = length_ok
                    && web
                        .verify_rs256(&web_key, &msg, &sig)
                        .await
                        .expect("verify");
                let by_rust = length_ok
                    && rust
                        .verify_rs256(&rust_key, &msg, &sig)
                        .await
                        .expect("verify");
                let expected = case["result"] == "valid";
                let id = &case["tcId"];
                assert_eq!(by_web, by_rust, "verifiers disagree on tcId {id}");
                assert_eq!(by_web, expected, "tcId {id}: {}", case["comment"]);
                checked += 1;
            }
        }
    }
    assert!(checked > 700, "{checked} cases checked");
    assert!(refused_keys > 0);
}
